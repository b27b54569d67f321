#include "bench/latency_stats.h"

#include <algorithm>
#include <cmath>

namespace bench {
namespace {

// Nearest rank: the ceil(p * n)-th smallest sample (1-based).
double NearestRank(const std::vector<int64_t>& sorted, double p) {
  const size_t n = sorted.size();
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(n)));
  rank = std::clamp<size_t>(rank, 1, n);
  return static_cast<double>(sorted[rank - 1]);
}

}  // namespace

LatencyPercentiles ComputePercentiles(std::vector<int64_t>& samples_ns) {
  LatencyPercentiles result;
  if (samples_ns.empty()) return result;
  std::sort(samples_ns.begin(), samples_ns.end());
  result.count = static_cast<int64_t>(samples_ns.size());
  result.p50_ns = NearestRank(samples_ns, 0.50);
  result.p99_ns = NearestRank(samples_ns, 0.99);
  result.p999_ns = NearestRank(samples_ns, 0.999);
  result.max_ns = static_cast<double>(samples_ns.back());
  return result;
}

RunSummary Summarize(std::vector<double> values) {
  RunSummary summary;
  if (values.empty()) return summary;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  summary.runs = static_cast<int>(n);
  summary.min = values.front();
  summary.max = values.back();
  summary.median = (n % 2 == 1) ? values[n / 2]
                                : (values[n / 2 - 1] + values[n / 2]) / 2;
  return summary;
}

}  // namespace bench
