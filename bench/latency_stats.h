// Latency samples and their summaries: percentiles of one run, and the
// median/min/max of any measure over repeated runs.
#ifndef BENCH_LATENCY_STATS_H_
#define BENCH_LATENCY_STATS_H_

#include <cstdint>
#include <vector>

namespace bench {

// Percentiles of one run's one-way latencies, in nanoseconds.
struct LatencyPercentiles {
  int64_t count = 0;
  double p50_ns = 0;
  double p99_ns = 0;
  double p999_ns = 0;
  double max_ns = 0;
};

// Returns the percentiles of `samples_ns` (sorts it in place). Uses the
// nearest-rank method: p is the smallest sample with at least p% of the
// samples at or below it. An empty input gives all zeros.
LatencyPercentiles ComputePercentiles(std::vector<int64_t>& samples_ns);

// One measure over repeated runs.
struct RunSummary {
  double median = 0;
  double min = 0;
  double max = 0;
  int runs = 0;
};

// Returns the median (mean of the middle two for an even count), minimum and
// maximum of `values`; all zero when empty.
RunSummary Summarize(std::vector<double> values);

}  // namespace bench

#endif  // BENCH_LATENCY_STATS_H_
