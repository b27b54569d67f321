// `shmio tail FILE|DIR [-f] [--mode=auto|inotify|timer] [--interval=MS]
//  [--from=begin|end|CURSOR] [--format=hex|text|json] [--cursor] [--name=NAME]`:
// prints payloads one per line exactly like `dump`, flushing after every
// batch so a pipe or file sees each batch as it arrives.
//
// Without -f (--follow) it prints what is committed and exits. With -f it
// keeps following through a uvwatch subscription on a libuv loop until
// SIGINT or SIGTERM, then closes its handles and exits 0. Defaults:
// --from=begin (past and future, like the original's getAll), --mode=auto
// (inotify woken by the writer's doorbell where the file has one, else
// polling), --interval=10 (ms, the original's poll interval; timer mode and
// auto's fallback). --mode=inotify on a file written by the Node.js library
// (which never rings) is an error that says to use auto or timer. An error
// while following (file removed or replaced, damage) is printed and exits 1.
//
// DIR is a chain (shmio/chain_writer.h): tail prints its frames across its
// files, and -f follows it across rolls in every mode (waiting for its
// first file when it has none). Cursors, printed with --cursor and taken by
// --from, are chain positions. Files that retention removed before tail
// read them end -f with an error naming the oldest position left.
//
// --name=NAME (DIR only; a usage error for a file) reads as the chain's
// named reader NAME (shmio/reader_table.h): it starts at the name's
// acknowledged position (--from applies only the first time the name is
// used) and acknowledges only what it has written and flushed to stdout.
// With -f it acknowledges each batch after its flush; killed at any moment
// and restarted with the name, it prints again at most the batch it had
// not acknowledged, and never skips a frame. Without -f it prints from the
// acknowledged position to the committed end and acknowledges that. A
// second live reader with the name is refused (naming its pid); a reader
// the writer dropped exits 1 with what it lost and where to resume
// (`shmio readers DIR --reset NAME --to=POSITION`).
#ifndef SHMIO_TOOLS_TAIL_COMMAND_H_
#define SHMIO_TOOLS_TAIL_COMMAND_H_

#include "tools/command.h"

namespace shmio::cli {

extern const Command kTailCommand;

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_TAIL_COMMAND_H_
