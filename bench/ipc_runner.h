// Runs one measure of one transport (several runs, each a fresh pair of
// processes) and summarises it: the glue between the transports and the
// report.
#ifndef BENCH_IPC_RUNNER_H_
#define BENCH_IPC_RUNNER_H_

#include "absl/status/statusor.h"
#include "bench/report.h"
#include "bench/transports/transport.h"

namespace bench {

struct RunnerOptions {
  int runs = 3;
  int writer_cpu = 0;
  int reader_cpu = 1;
  double timeout_seconds = 60;
  bool progress = true;  // one line per run on stderr
};

// Throughput of `transport` for `payload_bytes`: `messages` per run (the
// transport may lower it). A run whose reader did not verify every message
// is an error.
absl::StatusOr<ThroughputResult> MeasureThroughput(
    Transport& transport, size_t payload_bytes, uint64_t messages,
    const RunnerOptions& options);

// One-way latency of `transport`: `round_trips` recorded per run (the
// transport may lower it) after a tenth as many unrecorded.
absl::StatusOr<LatencyResult> MeasureLatency(Transport& transport,
                                             size_t payload_bytes,
                                             uint64_t round_trips,
                                             const RunnerOptions& options);

}  // namespace bench

#endif  // BENCH_IPC_RUNNER_H_
