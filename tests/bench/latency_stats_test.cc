#include "bench/latency_stats.h"

#include <vector>

#include "gtest/gtest.h"

namespace bench {
namespace {

TEST(LatencyStatsTest, PercentilesUseNearestRank) {
  std::vector<int64_t> samples;
  for (int64_t i = 1000; i >= 1; --i) samples.push_back(i);  // unsorted
  LatencyPercentiles p = ComputePercentiles(samples);
  EXPECT_EQ(p.count, 1000);
  EXPECT_EQ(p.p50_ns, 500);
  EXPECT_EQ(p.p99_ns, 990);
  EXPECT_EQ(p.p999_ns, 999);
  EXPECT_EQ(p.max_ns, 1000);
}

TEST(LatencyStatsTest, OneSampleIsEveryPercentile) {
  std::vector<int64_t> samples = {42};
  LatencyPercentiles p = ComputePercentiles(samples);
  EXPECT_EQ(p.p50_ns, 42);
  EXPECT_EQ(p.p999_ns, 42);
  EXPECT_EQ(p.max_ns, 42);
}

TEST(LatencyStatsTest, NoSamplesGiveZeros) {
  std::vector<int64_t> samples;
  LatencyPercentiles p = ComputePercentiles(samples);
  EXPECT_EQ(p.count, 0);
  EXPECT_EQ(p.max_ns, 0);
}

TEST(LatencyStatsTest, SummaryIsMedianMinMax) {
  RunSummary odd = Summarize({3, 1, 2});
  EXPECT_EQ(odd.median, 2);
  EXPECT_EQ(odd.min, 1);
  EXPECT_EQ(odd.max, 3);
  EXPECT_EQ(odd.runs, 3);
  RunSummary even = Summarize({4, 1, 2, 3});
  EXPECT_EQ(even.median, 2.5);
}

}  // namespace
}  // namespace bench
