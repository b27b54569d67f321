// //bench:ipc: see bench/ipc_benchmark.h.
//
//   ./bazelw run -c opt //bench:ipc -- --plot=docs/bench-latency.png
#include "absl/flags/usage.h"
#include "bench/ipc_benchmark.h"

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "shmio two-process benchmark: throughput and one-way latency of shmio, "
      "pipe, Unix socket, ZeroMQ and a cache-line floor, with targets.");
  return bench::RunIpcBenchmark(argc, argv);
}
