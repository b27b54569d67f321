// `shmio readers DIR [--json]`: the named readers of a chain
// (shmio/reader_table.h), one line each:
//
//   NAME position=P lag_bytes=B lag_frames=F alive pid=N acked_at=TIME
//
// `lag_*` count what the chain holds past the reader's acknowledged
// position (`unknown` when retention removed frames it had not read);
// `alive` or `dead` is whether its process holds its slot's lock; TIME is
// UTC (RFC 3339), `never` before a first acknowledgement; a dropped reader
// ends its line with `dropped lost_from=P resume_at=Q`. With --json: one
// JSON array of objects with the same keys (numbers as numbers, unknown as
// null, alive as a boolean).
//
// `shmio readers DIR --remove NAME` forgets a reader that is not running;
// `shmio readers DIR --reset NAME --to=POSITION` moves one (also a dropped
// one) to a frame boundary of the chain. Both exit 1 naming its pid while
// it runs.
#ifndef SHMIO_TOOLS_READERS_COMMAND_H_
#define SHMIO_TOOLS_READERS_COMMAND_H_

#include "tools/command.h"

namespace shmio::cli {

extern const Command kReadersCommand;

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_READERS_COMMAND_H_
