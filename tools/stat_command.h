// `shmio stat FILE [--json]`: what a log holds, as `key: value` lines or
// one JSON object.
//
// Keys, in order: header_size, data_offset, committed, capacity (file bytes),
// frames (committed frames), used_percent ((committed - data_offset) /
// (capacity - data_offset) x 100, two decimals), format (node, shmio-v1,
// empty), writer (pid holding the writer lock, `none`, or `unknown` when it
// is held by a process whose pid the lock does not tell); then, when the
// file records a geometry, size, num and overlap (the original's names, as
// `append` takes them). With --json the same keys form one object on one
// line, numbers as JSON numbers, format as a string, and writer as a number,
// null (no writer) or "unknown".
#ifndef SHMIO_TOOLS_STAT_COMMAND_H_
#define SHMIO_TOOLS_STAT_COMMAND_H_

#include "tools/command.h"

namespace shmio::cli {

extern const Command kStatCommand;

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_STAT_COMMAND_H_
