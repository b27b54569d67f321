// `shmio verify FILE`: walks every committed frame checking its bounds and
// that its leading and trailing sizes agree.
//
// Prints `ok: N frames, B bytes` (B = committed - data_offset) and exits 0,
// or prints `bad frame at offset O: WHAT` (O decimal, the first bad frame's
// start) and exits 1. A committed value that stays invalid (outside the file
// or not on a frame boundary) is damage too: verify reports it and the first
// frame that does not fit below it.
//
// `shmio verify DIR` checks a chain: every file as above, and that each
// file's base position is the previous file's end (tools/chain_snapshot.h).
// Prints `ok: N frames, B bytes, F files` (B = the chain's committed end -
// its oldest position) and exits 0; or, for a bad frame, `bad frame at
// position P (offset O of FILE): WHAT`, or for a chain that is not whole
// (gap, overlap, a file of no chain...) only the error on stderr naming the
// file and positions, and exits 1.
#ifndef SHMIO_TOOLS_VERIFY_COMMAND_H_
#define SHMIO_TOOLS_VERIFY_COMMAND_H_

#include "tools/command.h"

namespace shmio::cli {

extern const Command kVerifyCommand;

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_VERIFY_COMMAND_H_
