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
