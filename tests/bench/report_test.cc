// The report's lines are an interface (people and scripts grep them), and
// its targets decide PASS/MISS: both are checked on made-up results.
#include "bench/report.h"

#include <string>

#include "gtest/gtest.h"

namespace bench {
namespace {

RunSummary Same(double v) { return RunSummary{v, v, v, 3}; }

LatencyResult Latency(const std::string& transport, double p50) {
  LatencyResult r;
  r.transport = transport;
  r.payload_bytes = 32;
  r.samples_per_run = 1000;
  r.p50_ns = Same(p50);
  r.p99_ns = Same(p50 * 2);
  r.p999_ns = Same(p50 * 3);
  r.max_ns = Same(p50 * 4);
  return r;
}

ThroughputResult Throughput(const std::string& transport, double rate) {
  ThroughputResult r;
  r.transport = transport;
  r.payload_bytes = 32;
  r.messages_per_run = 100;
  r.msgs_per_s = Same(rate);
  r.mb_per_s = Same(rate * 32 / 1e6);
  return r;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ReportTest, LinesHaveTheStableForm) {
  Report report(1);
  report.Add(Throughput("shmio", 50e6));
  report.Add(Latency("uds", 5000));
  const std::string text = report.Text();
  EXPECT_TRUE(Contains(text,
                       "transport=shmio measure=throughput payload=32 "
                       "msgs_per_s=50000000 mb_per_s=1600.0 runs=3"))
      << text;
  EXPECT_TRUE(Contains(text,
                       "transport=uds measure=latency payload=32 p50_ns=5000 "
                       "p99_ns=10000 p999_ns=15000 max_ns=20000 runs=3"))
      << text;
}

TEST(ReportTest, TargetsPassAndMissOnTheIssuesThresholds) {
  Report report(1);
  report.Add(Throughput("shmio", 50e6));
  report.Add(Throughput("uds", 1e6));      // 50x: PASS (>= 40x)
  report.Add(Latency("shmio", 300));
  report.Add(Latency("floor", 100));       // 3x: MISS (<= 1.5x)
  report.Add(Latency("uds", 6000));        // 20x lower: PASS
  report.Add(Latency("pipe", 4000));
  report.Add(Latency("shmio-inotify", 13000));  // 3.25x pipe: MISS
  const std::string text = report.Text();
  EXPECT_TRUE(Contains(text, "target name=throughput_vs_uds")) << text;
  EXPECT_TRUE(Contains(text, "got=\"50.0x\" result=PASS")) << text;
  EXPECT_TRUE(Contains(text, "got=\"3.00x (300 ns vs 100 ns)\" result=MISS")) << text;
  EXPECT_TRUE(Contains(text, "got=\"20.0x lower (300 ns vs 6000 ns)\" result=PASS")) << text;
  EXPECT_TRUE(Contains(text, "got=\"3.25x (13000 ns vs 4000 ns)\" result=MISS")) << text;
  EXPECT_TRUE(Contains(text, "name=timer_p99_within_interval")) << text;
  EXPECT_TRUE(Contains(text, "result=SKIPPED (shmio-timer or pipe latency not measured)"))
      << text;
  EXPECT_TRUE(Contains(text, "ratio measure=throughput payload=32 shmio_vs=uds "
                             "metric=msgs_per_s value=50.00")) << text;
  EXPECT_TRUE(Contains(text, "ratio measure=latency payload=32 shmio_vs=floor "
                             "metric=p50_ns value=3.000")) << text;
}

TEST(ReportTest, TimerBoundIsIntervalPlusOneWakeUp) {
  // 1 ms interval + pipe p99 (2 x 20 us): bound 1040 us.
  Report within(1);
  within.Add(Latency("pipe", 20000));
  within.Add(Latency("shmio-timer", 520000));  // p99 1040 us
  EXPECT_TRUE(Contains(within.Text(), "p99 1040 us, max 2080 us; bound 1040 us\" "
                                      "result=PASS"))
      << within.Text();
  Report beyond(1);
  beyond.Add(Latency("pipe", 20000));
  beyond.Add(Latency("shmio-timer", 525000));  // p99 1050 us
  EXPECT_TRUE(Contains(beyond.Text(), "bound 1040 us\" result=MISS")) << beyond.Text();
}

TEST(ReportTest, ChainIsComparedWithOneFileAndShowsItsRolls) {
  Report report(1);
  report.Add(Throughput("shmio", 50e6));
  ThroughputResult chain = Throughput("shmio-chain", 45e6);  // 0.9x: PASS
  chain.rolls = Same(256);
  report.Add(chain);
  report.Add(Latency("shmio", 300));                         // p99 600
  LatencyResult chain_latency = Latency("shmio-chain", 700);  // p99 1400: MISS
  chain_latency.rolls = Same(240);
  report.Add(chain_latency);
  const std::string text = report.Text();
  EXPECT_TRUE(Contains(text, "messages=100 rolls=256\n")) << text;
  EXPECT_TRUE(Contains(text, "samples=1000 rolls=240\n")) << text;
  EXPECT_TRUE(Contains(text,
                       "chain measure=throughput payload=32 chain_vs=shmio "
                       "metric=msgs_per_s value=0.90 rolls=256\n"))
      << text;
  EXPECT_TRUE(Contains(text,
                       "chain measure=latency payload=32 chain_vs=shmio "
                       "metric=p99_ns value=2.33 p50_value=2.33 rolls=240\n"))
      << text;
  // The generic shmio ratios leave the chain to its own lines.
  EXPECT_FALSE(Contains(text, "shmio_vs=shmio-chain")) << text;
  EXPECT_TRUE(Contains(text, "target name=chain_throughput_vs_shmio want=\">= 0.8x "
                             "shmio msgs/s (32 B)\" got=\"0.90x, 256 rolls per run\" "
                             "result=PASS"))
      << text;
  EXPECT_TRUE(Contains(text, "target name=chain_p99_vs_shmio")) << text;
  EXPECT_TRUE(Contains(text, "(1400 ns vs 600 ns), 240 rolls per run\" result=MISS"))
      << text;
}

TEST(ReportTest, FailuresAreErrorLinesNotNumbers) {
  Report report(1);
  report.Add(FailedMeasure{"shmio", "throughput", 32, "lossy run"});
  EXPECT_TRUE(report.has_failures());
  const std::string text = report.Text();
  EXPECT_TRUE(Contains(text, "error transport=shmio measure=throughput payload=32 "
                             "what=\"lossy run\"")) << text;
  EXPECT_FALSE(Contains(text, "transport=shmio measure=throughput payload=32 msgs_per_s"));
}

TEST(ReportTest, CsvHasAHeaderAndOneRowPerMetric) {
  Report report(1);
  report.Add(Throughput("shmio", 50e6));
  report.Add(Latency("floor", 100));
  const std::string csv = report.Csv();
  EXPECT_EQ(csv.rfind("kind,transport,measure,payload,metric,median,min,max,runs,note\n", 0), 0u);
  EXPECT_TRUE(Contains(csv, "result,shmio,throughput,32,msgs_per_s,5e+07,5e+07,5e+07,3,\n")) << csv;
  EXPECT_TRUE(Contains(csv, "result,floor,latency,32,p999_ns,300,300,300,3,\n")) << csv;
}

}  // namespace
}  // namespace bench
