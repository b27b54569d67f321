#include "bench/ipc_runner.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "bench/two_process.h"

namespace bench {
namespace {

// Messages per second of one throughput run.
absl::StatusOr<double> RunThroughputOnce(Transport& transport,
                                         const ThroughputSpec& spec,
                                         const RunnerOptions& options) {
  absl::StatusOr<ControlBlock> control = ControlBlock::Create();
  if (!control.ok()) return control.status();
  SharedControl* c = control->get();
  absl::Status status = transport.PrepareThroughput(spec);
  if (!status.ok()) {
    transport.Cleanup();
    return status;  // nothing ran: no reader progress to report
  }
  status = RunPair(
      options.writer_cpu, options.reader_cpu, c,
      [&] { return transport.ThroughputWriter(spec, c); },
      [&] { return transport.ThroughputReader(spec, c); });
  transport.Cleanup();
  // Relaxed: the child has exited (waitpid), which orders its stores.
  const uint64_t verified = c->verified.load(std::memory_order_relaxed);
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrFormat("%s (the reader had verified %d of %d "
                                        "messages)",
                                        status.message(), verified, spec.messages));
  }
  if (verified != spec.messages) {
    return absl::DataLossError(absl::StrFormat(
        "lossy run: the reader verified %d of %d messages", verified,
        spec.messages));
  }
  const int64_t elapsed_ns = c->end_ns.load(std::memory_order_relaxed) -
                             c->start_ns.load(std::memory_order_relaxed);
  if (elapsed_ns <= 0) {
    return absl::InternalError(absl::StrFormat(
        "run took %d ns: a side did not record its time", elapsed_ns));
  }
  return static_cast<double>(spec.messages) * 1e9 /
         static_cast<double>(elapsed_ns);
}

// Percentiles of one latency run.
absl::StatusOr<LatencyPercentiles> RunLatencyOnce(Transport& transport,
                                                  const LatencySpec& spec,
                                                  const RunnerOptions& options) {
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
  return ComputePercentiles(samples);
}

// The runs of one (transport, payload) measure so far.
struct Measure {
  Measure(Transport* t, size_t n) : transport(t), payload_bytes(n) {}
  Transport* transport;
  size_t payload_bytes;
  std::vector<double> a, b, c, d;  // msgs/s; or p50, p99, p99.9, max
  std::vector<double> rolls;       // per run, for transports over a chain
  std::optional<std::string> error;
};

// Keeps how often the run that just ended rolled, when its transport rolls.
void RecordRolls(Measure& m) {
  const std::optional<uint64_t> rolls = m.transport->rolls_in_last_run();
  if (rolls) m.rolls.push_back(static_cast<double>(*rolls));
}

}  // namespace

void RunAllMeasures(const std::vector<std::unique_ptr<Transport>>& transports,
                    const std::vector<size_t>& throughput_payloads,
                    const std::vector<size_t>& latency_payloads,
                    const RunnerOptions& options, Report* report) {
  std::vector<Measure> throughput, latency;
  for (const auto& t : transports) {
    if (t->has_throughput()) {
      for (size_t n : throughput_payloads) throughput.emplace_back(t.get(), n);
    }
    if (t->has_latency()) {
      for (size_t n : latency_payloads) latency.emplace_back(t.get(), n);
    }
  }
  for (int run = 1; run <= options.runs; ++run) {
    for (Measure& m : throughput) {
      if (m.error) continue;
      ThroughputSpec spec;
      spec.payload_bytes = m.payload_bytes;
      spec.messages = m.transport->ThroughputMessages(m.payload_bytes, options.messages);
      spec.timeout_seconds = options.timeout_seconds;
      absl::StatusOr<double> rate = RunThroughputOnce(*m.transport, spec, options);
      if (!rate.ok()) {
        m.error = rate.status().ToString();
        continue;
      }
      m.a.push_back(*rate);
      RecordRolls(m);
      if (options.progress) {
        std::fprintf(stderr, "  round %d/%d: %s throughput payload=%zu: %.0f msgs/s\n",
                     run, options.runs, m.transport->name().c_str(),
                     m.payload_bytes, *rate);
      }
    }
  }
  for (int run = 1; run <= options.runs; ++run) {
    for (Measure& m : latency) {
      if (m.error) continue;
      LatencySpec spec;
      spec.payload_bytes = m.payload_bytes;
      spec.round_trips = m.transport->LatencyRoundTrips(options.round_trips);
      spec.warmup_round_trips = std::max<uint64_t>(1, spec.round_trips / 10);
      spec.timeout_seconds = options.timeout_seconds;
      absl::StatusOr<LatencyPercentiles> p = RunLatencyOnce(*m.transport, spec, options);
      if (!p.ok()) {
        m.error = p.status().ToString();
        continue;
      }
      m.a.push_back(p->p50_ns);
      m.b.push_back(p->p99_ns);
      m.c.push_back(p->p999_ns);
      m.d.push_back(p->max_ns);
      RecordRolls(m);
      if (options.progress) {
        std::fprintf(stderr,
                     "  round %d/%d: %s latency payload=%zu: p50 %.0f ns, p99 "
                     "%.0f ns, max %.0f ns\n",
                     run, options.runs, m.transport->name().c_str(),
                     m.payload_bytes, p->p50_ns, p->p99_ns, p->max_ns);
      }
    }
  }
  for (const Measure& m : throughput) {
    if (m.error) {
      report->Add(FailedMeasure{m.transport->name(), "throughput", m.payload_bytes, *m.error});
      continue;
    }
    ThroughputResult r;
    r.transport = m.transport->name();
    r.payload_bytes = m.payload_bytes;
    r.messages_per_run = m.transport->ThroughputMessages(m.payload_bytes, options.messages);
    r.msgs_per_s = Summarize(m.a);
    std::vector<double> mb;
    for (double rate : m.a) mb.push_back(rate * static_cast<double>(m.payload_bytes) / 1e6);
    r.mb_per_s = Summarize(mb);
    if (!m.rolls.empty()) r.rolls = Summarize(m.rolls);
    report->Add(r);
  }
  for (const Measure& m : latency) {
    if (m.error) {
      report->Add(FailedMeasure{m.transport->name(), "latency", m.payload_bytes, *m.error});
      continue;
    }
    LatencyResult r;
    r.transport = m.transport->name();
    r.payload_bytes = m.payload_bytes;
    r.samples_per_run = static_cast<int64_t>(m.transport->LatencyRoundTrips(options.round_trips));
    r.p50_ns = Summarize(m.a);
    r.p99_ns = Summarize(m.b);
    r.p999_ns = Summarize(m.c);
    r.max_ns = Summarize(m.d);
    if (!m.rolls.empty()) r.rolls = Summarize(m.rolls);
    report->Add(r);
  }
}

}  // namespace bench
