// `shmio bench [flags]`: the two-process benchmark of //bench:ipc for users
// who have the CLI: shmio's throughput and one-way latency against a pipe, a
// Unix socket, ZeroMQ and the cache-line floor on this machine, then the
// ratios and the targets. `--quick` is a few-second smoke run; the flags are
// //bench:ipc's (`shmio bench --help` lists them all).
//
// The benchmark links ZeroMQ, so it is a program of its own,
// //tools:shmio-bench (tools/bench_main.cc), and the `shmio` binary links
// none of it: `shmio bench` replaces itself (execv) with that program, found
// beside the running `shmio`:
//   - DIR/libexec/shmio/shmio-bench for an installed DIR/bin/shmio
//     (`bazel run //:install -- --prefix=DIR`);
//   - shmio-bench in the same directory: a Bazel output tree
//     (bazel-bin/tools/), which also serves `bazel run` and the runfiles of
//     tests, because //tools:shmio carries //tools:shmio-bench as data.
// Missing there, it exits 1 naming the paths it tried.
//
// Output and exit codes are the benchmark's (bench/ipc_benchmark.h): 0 when
// every measure ran and verified every message, 1 when one failed, 2 on a
// bad command line (checked first, so an unknown flag is 2 too).
#ifndef SHMIO_TOOLS_BENCH_COMMAND_H_
#define SHMIO_TOOLS_BENCH_COMMAND_H_

#include "tools/command.h"

namespace shmio::cli {

extern const Command kBenchCommand;

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_BENCH_COMMAND_H_
