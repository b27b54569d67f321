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
//
// `shmio stat DIR` for a chain: the keys chain (DIR), chain_id,
// file_capacity, retain_files, retain_bytes, retain_seconds (0 = no limit),
// files (how many), begin (the oldest position still in the chain),
// committed (the chain's committed end, a position), frames, bytes
// (committed - begin) and writer (the holder of DIR/writer.lock); then one
// line per file, `file NAME: base=P end=P sealed=yes|no frames=N`, and one
// per foreign entry, `foreign NAME: ignored`. With --json one object with
// the same keys plus "file_list" (objects name, base, end, sealed as a
// boolean, frames) and "foreign" (names). A chain that is not whole is
// listed up to the file with the problem, which is then reported: exit 1.
#ifndef SHMIO_TOOLS_STAT_COMMAND_H_
#define SHMIO_TOOLS_STAT_COMMAND_H_

#include "tools/command.h"

namespace shmio::cli {

extern const Command kStatCommand;

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_STAT_COMMAND_H_
