// `shmio tail FILE [-f] [--mode=auto|inotify|timer] [--interval=MS]
//  [--from=begin|end|CURSOR] [--format=hex|text|json] [--cursor]`:
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
#ifndef SHMIO_TOOLS_TAIL_COMMAND_H_
#define SHMIO_TOOLS_TAIL_COMMAND_H_

#include "tools/command.h"

namespace shmio::cli {

extern const Command kTailCommand;

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_TAIL_COMMAND_H_
