// `shmio mirror --redis=HOST:PORT --stream=KEY DEST [--capacity=BYTES]
//  [--redis-password=PW]`: reads the Redis stream KEY (XREAD BLOCK, on a
// uv loop) and writes each entry into the shmio log DEST at the entry's
// position, committing once per read, until SIGINT or SIGTERM (exit 0).
// Local readers follow DEST through uvwatch.
//
// DEST is continued where it ends (its committed end is where the mirror
// resumes), or created when missing with --capacity=BYTES (required then;
// a usage error without it), like `shmio append --create`. The password may
// come from SHMIO_REDIS_PASSWORD.
//
// Exactly once by position (bridge/mirror.h): each entry must land where
// DEST ends. Exit 1, naming the stream, host or file, when it cannot: the
// stream was trimmed (MAXLEN) past DEST's end, or no longer begins at
// position 0 while DEST is a fresh file (a single file holds positions from
// 0 only: never renumbered); and for a refused login, KEY holding another
// type, a stream shmio did not write, DEST full ("Shared memory
// exhausted"). A DEST this run created and never wrote to is removed on
// such an error. An unreachable or restarted Redis is retried with backoff
// and said once on stderr. On exit it prints "mirrored: N" and
// "end_position: P".
#ifndef SHMIO_TOOLS_MIRROR_COMMAND_H_
#define SHMIO_TOOLS_MIRROR_COMMAND_H_

#include "tools/command.h"

namespace shmio::cli {

extern const Command kMirrorCommand;

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_MIRROR_COMMAND_H_
