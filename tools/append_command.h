// `shmio append FILE [--create] [--capacity=N | --size=N --num=N
//  --overlap=N] [--batch=N] [--format=hex|text]`: appends one payload per
// line of stdin and prints the committed size (decimal) at the end.
//
// hex (default): each line is the payload in hex, an empty line an empty
// payload; text: each line's bytes without its "\n". Commits every N lines
// (--batch, default 1) and at the end of input. --create makes a missing
// file, which then needs a size (usage error otherwise); an existing file is
// opened if it matches any size given. A file written by the Node.js library
// needs its geometry (--size/--num/--overlap) to be written to.
//
// `shmio append DIR --create --chain --file-capacity=BYTES [--retain-files=N]
// [--retain-bytes=B]` makes a chain (shmio/chain_writer.h) in DIR and appends
// to it; `shmio append DIR` continues a chain (retention flags given then
// replace the chain's). Same lines, batches and formats; the number printed
// is the chain's committed end, a position. A directory that is not a chain
// is refused unless --chain --create make one; a chain that is not whole
// (gap, overlap, a foreign file named like a chain file) is refused naming
// the file and positions, with nothing on disk changed.
//
// A line that cannot be appended (log full: "Shared memory exhausted"; a
// frame crossing a segment boundary by more than the overlap; a payload
// over 65531 bytes; bad hex) ends the run: what was appended before it is
// committed, the committed size is printed, and the error names the line
// number; exit 1.
#ifndef SHMIO_TOOLS_APPEND_COMMAND_H_
#define SHMIO_TOOLS_APPEND_COMMAND_H_

#include "tools/command.h"

namespace shmio::cli {

extern const Command kAppendCommand;

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_APPEND_COMMAND_H_
