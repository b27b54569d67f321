// The two-process benchmark behind //bench:ipc and `shmio bench`: parses
// its flags from argv (Abseil flags; `--help` lists them), runs the selected
// transports and measures, and prints one line per (transport, measure,
// payload), then ratios, then the targets of issue 4 with PASS/MISS.
//
//   ./bazelw run -c opt //bench:ipc -- --plot=docs/bench-latency.png
#ifndef BENCH_IPC_BENCHMARK_H_
#define BENCH_IPC_BENCHMARK_H_

namespace bench {

// Returns 0 when every measure ran and verified every message, 1 when any
// failed (a lossy or stuck run, or an output file that could not be
// written), 2 on a bad flag value. An unknown flag ends the process with
// status 1, as absl::ParseCommandLine does; callers that promise otherwise
// check the flags first (see tools/bench_command.cc).
int RunIpcBenchmark(int argc, char** argv);

}  // namespace bench

#endif  // BENCH_IPC_BENCHMARK_H_
