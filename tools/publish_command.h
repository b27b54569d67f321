// `shmio publish LOG --redis=HOST:PORT --stream=KEY [--maxlen=N]
//  [--until-caught-up] [--redis-password=PW]`: follows LOG through uvwatch
// and appends each frame to the Redis stream KEY, exactly once by position
// (bridge/publisher.h, docs/scale-out.md): the frame at position P is the
// entry "P-1" with the fields pos=P and data=<payload>. On start and after
// every reconnect it resumes after the stream's last entry.
//
// --maxlen=N trims the stream to exactly N entries on every XADD.
// --until-caught-up exits 0 once the stream holds everything LOG has
// committed; otherwise it runs until SIGINT or SIGTERM (exit 0). The
// password may come from SHMIO_REDIS_PASSWORD instead of the flag.
//
// An unreachable or restarted Redis is retried with backoff and said once
// on stderr ("...; retrying with backoff"), then "connected again". Exit 1,
// naming the stream, host or file: a refused login, KEY holding another
// type, a stream shmio did not write, a stream published from another log,
// LOG missing, removed or damaged. On exit it prints "published: N",
// "already_in_stream: N" (replays Redis refused) and "end_position: P".
#ifndef SHMIO_TOOLS_PUBLISH_COMMAND_H_
#define SHMIO_TOOLS_PUBLISH_COMMAND_H_

#include "tools/command.h"

namespace shmio::cli {

extern const Command kPublishCommand;

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_PUBLISH_COMMAND_H_
