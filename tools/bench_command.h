// `shmio bench [flags]`: the two-process benchmark of //bench:ipc for users
// who have the CLI: shmio's throughput and one-way latency against a pipe, a
// Unix socket, ZeroMQ and the cache-line floor on this machine, then the
// ratios and the targets. `--quick` is a few-second smoke run; the flags are
// //bench:ipc's (`shmio bench --help` lists them all).
//
// Output and exit codes are //bench:ipc's (bench/ipc_benchmark.h): 0 when
// every measure ran and verified every message, 1 when one failed, 2 on a
// bad command line (checked here first, so an unknown flag is 2 too).
#ifndef SHMIO_TOOLS_BENCH_COMMAND_H_
#define SHMIO_TOOLS_BENCH_COMMAND_H_

#include "tools/command.h"

namespace shmio::cli {

extern const Command kBenchCommand;

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_BENCH_COMMAND_H_
