// The results of one //bench:ipc run and how they are shown: one stable
// key=value line per (transport, measure, payload), the ratios of shmio to
// each peer and to the floor, shmio-chain against shmio, the issues'
// targets with PASS/MISS, and the same as CSV and as a gnuplot chart.
#ifndef BENCH_REPORT_H_
#define BENCH_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/latency_stats.h"

namespace bench {

struct ThroughputResult {
  std::string transport;
  size_t payload_bytes = 0;
  uint64_t messages_per_run = 0;
  RunSummary msgs_per_s;
  RunSummary mb_per_s;  // payload bytes only, 10^6 bytes per MB
  RunSummary rolls;     // files the writer rolled to; runs == 0: no chain
};

struct LatencyResult {
  std::string transport;
  size_t payload_bytes = 0;
  int64_t samples_per_run = 0;
  RunSummary p50_ns, p99_ns, p999_ns, max_ns;
  RunSummary rolls;  // of the ping log (the pong log rolls alike); as above
};

// A measure that failed (a lossy or stuck run): reported, never a number.
struct FailedMeasure {
  std::string transport;
  std::string measure;
  size_t payload_bytes = 0;
  std::string error;
};

// One row of the target table.
struct TargetCheck {
  std::string name;
  std::string want;   // e.g. ">= 40x uds"
  std::string got;    // e.g. "68.2x"
  std::string result; // PASS, MISS, or SKIPPED (why)
};

class Report {
 public:
  // `timer_interval_ms`: the uvwatch timer mode's interval; with a pipe's
  // wake-up, it bounds that mode's latency.
  explicit Report(double timer_interval_ms) : timer_interval_ms_(timer_interval_ms) {}

  void Add(ThroughputResult result) { throughput_.push_back(std::move(result)); }
  void Add(LatencyResult result) { latency_.push_back(std::move(result)); }
  void Add(FailedMeasure failure) { failures_.push_back(std::move(failure)); }

  bool has_failures() const { return !failures_.empty(); }

  // The result lines, then ratio lines, then shmio-chain's lines
  // (ChainLines()), then target lines, then error lines; see report.cc for
  // the exact forms.
  std::string Text() const;

  // Same content as CSV with a header row:
  // kind,transport,measure,payload,metric,median,min,max,runs,note
  std::string Csv() const;
  absl::Status WriteCsv(const std::string& path) const;

  // Draws p50/p99/p99.9/max per transport (log scale) for `payload_bytes`
  // with gnuplot into a PNG at `path`. Errors name gnuplot's exit status.
  absl::Status WritePlot(const std::string& path, size_t payload_bytes,
                         const std::string& subtitle) const;

  std::vector<TargetCheck> Targets() const;

  // shmio-chain against shmio in this run, one line per measure and
  // payload: throughput ratio, latency p99 (and p50) ratio, rolls per run.
  std::string ChainLines() const;

 private:
  const ThroughputResult* FindThroughput(const std::string& transport,
                                         size_t payload) const;
  const LatencyResult* FindLatency(const std::string& transport,
                                   size_t payload) const;

  double timer_interval_ms_;
  std::vector<ThroughputResult> throughput_;
  std::vector<LatencyResult> latency_;
  std::vector<FailedMeasure> failures_;
};

}  // namespace bench

#endif  // BENCH_REPORT_H_
