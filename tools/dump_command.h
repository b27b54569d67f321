// `shmio dump FILE [--from=CURSOR] [--to=CURSOR] [--format=hex|text|json]
//  [--cursor] [--reverse] [--debug]`: every committed payload in
// [from, to), one per line (tools/output_format.h), forwards or, with
// --reverse, last first through the trailing sizes.
//
// Cursors are absolute byte offsets in the file; both bounds must be frame
// boundaries at or below the committed value (checked by Consumer::Seek),
// otherwise exit 1 naming the offset. --debug (or SHMIO_DEBUG=true) adds the
// leading == trailing check; bounds are always checked.
//
// `shmio dump DIR`: the frames of the chain in DIR across its files, in
// position order; cursors printed (--cursor, json) and taken (--from, --to)
// are chain positions, checked the same way against the file that holds
// them. The chain is checked whole first (tools/chain_snapshot.h): a gap,
// an overlap or a foreign file named like a chain file is exit 1 naming
// the file and positions, before any frame is printed.
#ifndef SHMIO_TOOLS_DUMP_COMMAND_H_
#define SHMIO_TOOLS_DUMP_COMMAND_H_

#include "tools/command.h"

namespace shmio::cli {

extern const Command kDumpCommand;

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_DUMP_COMMAND_H_
