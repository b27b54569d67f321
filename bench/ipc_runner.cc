#include "bench/ipc_runner.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "absl/strings/str_format.h"
#include "bench/two_process.h"

namespace bench {

absl::StatusOr<ThroughputResult> MeasureThroughput(
    Transport& transport, size_t payload_bytes, uint64_t messages,
    const RunnerOptions& options) {
  ThroughputSpec spec;
  spec.payload_bytes = payload_bytes;
  spec.messages = transport.ThroughputMessages(payload_bytes, messages);
  spec.timeout_seconds = options.timeout_seconds;
  std::vector<double> msgs_per_s, mb_per_s;
  for (int run = 0; run < options.runs; ++run) {
    absl::StatusOr<ControlBlock> control = ControlBlock::Create();
    if (!control.ok()) return control.status();
    SharedControl* c = control->get();
    absl::Status status = transport.PrepareThroughput(spec);
    if (status.ok()) {
      status = RunPair(
          options.writer_cpu, options.reader_cpu, c,
          [&] { return transport.ThroughputWriter(spec, c); },
          [&] { return transport.ThroughputReader(spec, c); });
    }
    transport.Cleanup();
    if (!status.ok()) return status;
    // Relaxed: the child has exited (waitpid), which orders its stores.
    const uint64_t verified = c->verified.load(std::memory_order_relaxed);
    if (verified != spec.messages) {
      return absl::DataLossError(absl::StrFormat(
          "lossy run: the reader verified %d of %d messages", verified,
          spec.messages));
    }
    const int64_t elapsed_ns = c->end_ns.load(std::memory_order_relaxed) -
                               c->start_ns.load(std::memory_order_relaxed);
    if (elapsed_ns <= 0) {
      return absl::InternalError(absl::StrFormat(
          "run took %d ns: the clock went backwards or a side did not record "
          "its time",
          elapsed_ns));
    }
    const double seconds = static_cast<double>(elapsed_ns) / 1e9;
    const double rate = static_cast<double>(spec.messages) / seconds;
    msgs_per_s.push_back(rate);
    mb_per_s.push_back(rate * static_cast<double>(payload_bytes) / 1e6);
    if (options.progress) {
      std::fprintf(stderr,
                   "  %s throughput payload=%zu run %d/%d: %.0f msgs/s "
                   "(%llu messages in %.3f s)\n",
                   transport.name().c_str(), payload_bytes, run + 1,
                   options.runs, rate,
                   static_cast<unsigned long long>(spec.messages), seconds);
    }
  }
  ThroughputResult result;
  result.transport = transport.name();
  result.payload_bytes = payload_bytes;
  result.messages_per_run = spec.messages;
  result.msgs_per_s = Summarize(msgs_per_s);
  result.mb_per_s = Summarize(mb_per_s);
  return result;
}

absl::StatusOr<LatencyResult> MeasureLatency(Transport& transport,
                                             size_t payload_bytes,
                                             uint64_t round_trips,
                                             const RunnerOptions& options) {
  LatencySpec spec;
  spec.payload_bytes = payload_bytes;
  spec.round_trips = transport.LatencyRoundTrips(round_trips);
  spec.warmup_round_trips = std::max<uint64_t>(1, spec.round_trips / 10);
  spec.timeout_seconds = options.timeout_seconds;
  std::vector<double> p50, p99, p999, max;
  for (int run = 0; run < options.runs; ++run) {
    absl::StatusOr<ControlBlock> control = ControlBlock::Create();
    if (!control.ok()) return control.status();
    SharedControl* c = control->get();
    std::vector<int64_t> samples;
    samples.reserve(spec.round_trips);
    absl::Status status = transport.PrepareLatency(spec);
    if (status.ok()) {
      status = RunPair(
          options.writer_cpu, options.reader_cpu, c,
          [&] { return transport.LatencyInitiator(spec, c, &samples); },
          [&] { return transport.LatencyEchoer(spec, c); });
    }
    transport.Cleanup();
    if (!status.ok()) return status;
    if (samples.size() != spec.round_trips) {
      return absl::DataLossError(absl::StrFormat(
          "latency run recorded %d of %d round trips", samples.size(),
          spec.round_trips));
    }
    const LatencyPercentiles percentiles = ComputePercentiles(samples);
    p50.push_back(percentiles.p50_ns);
    p99.push_back(percentiles.p99_ns);
    p999.push_back(percentiles.p999_ns);
    max.push_back(percentiles.max_ns);
    if (options.progress) {
      std::fprintf(stderr,
                   "  %s latency payload=%zu run %d/%d: p50 %.0f ns, p99 %.0f "
                   "ns, max %.0f ns (%llu round trips)\n",
                   transport.name().c_str(), payload_bytes, run + 1,
                   options.runs, percentiles.p50_ns, percentiles.p99_ns,
                   percentiles.max_ns,
                   static_cast<unsigned long long>(spec.round_trips));
    }
  }
  LatencyResult result;
  result.transport = transport.name();
  result.payload_bytes = payload_bytes;
  result.samples_per_run = static_cast<int64_t>(spec.round_trips);
  result.p50_ns = Summarize(p50);
  result.p99_ns = Summarize(p99);
  result.p999_ns = Summarize(p999);
  result.max_ns = Summarize(max);
  return result;
}

}  // namespace bench
