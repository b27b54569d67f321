#include "bench/report.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace bench {
namespace {

// The payload every target is stated for.
constexpr size_t kTargetPayload = 32;

// The transport over a chain, compared with one file (issue 11).
constexpr const char* kChain = "shmio-chain";

// " rolls=N" for a result over a chain, else nothing.
std::string RollsField(const RunSummary& rolls) {
  if (rolls.runs == 0) return "";
  return absl::StrFormat(" rolls=%.0f", rolls.median);
}

std::string Pass(bool ok) { return ok ? "PASS" : "MISS"; }

void AppendCsvRow(std::string* out, const std::string& kind,
                  const std::string& transport, const std::string& measure,
                  size_t payload, const std::string& metric,
                  const RunSummary& summary, const std::string& note) {
  absl::StrAppendFormat(out, "%s,%s,%s,%d,%s,%.6g,%.6g,%.6g,%d,%s\n", kind,
                        transport, measure, payload, metric, summary.median,
                        summary.min, summary.max, summary.runs, note);
}

}  // namespace

const ThroughputResult* Report::FindThroughput(const std::string& transport,
                                               size_t payload) const {
  for (const ThroughputResult& r : throughput_) {
    if (r.transport == transport && r.payload_bytes == payload) return &r;
  }
  return nullptr;
}

const LatencyResult* Report::FindLatency(const std::string& transport,
                                         size_t payload) const {
  for (const LatencyResult& r : latency_) {
    if (r.transport == transport && r.payload_bytes == payload) return &r;
  }
  return nullptr;
}

std::vector<TargetCheck> Report::Targets() const {
  std::vector<TargetCheck> targets;
  auto skipped = [](const char* what) {
    return absl::StrCat("SKIPPED (", what, " not measured)");
  };

  {
    TargetCheck t{"throughput_vs_uds", ">= 40x uds msgs/s (32 B)", "-", ""};
    const ThroughputResult* shmio = FindThroughput("shmio", kTargetPayload);
    const ThroughputResult* uds = FindThroughput("uds", kTargetPayload);
    if (shmio == nullptr || uds == nullptr || uds->msgs_per_s.median <= 0) {
      t.result = skipped("shmio or uds throughput");
    } else {
      const double ratio = shmio->msgs_per_s.median / uds->msgs_per_s.median;
      t.got = absl::StrFormat("%.1fx", ratio);
      t.result = Pass(ratio >= 40);
    }
    targets.push_back(t);
  }

  const LatencyResult* busy = FindLatency("shmio", kTargetPayload);
  const LatencyResult* floor = FindLatency("floor", kTargetPayload);
  const LatencyResult* uds = FindLatency("uds", kTargetPayload);
  const LatencyResult* pipe = FindLatency("pipe", kTargetPayload);
  {
    TargetCheck t{"busy_p50_vs_floor", "<= 1.5x floor p50", "-", ""};
    if (busy == nullptr || floor == nullptr || floor->p50_ns.median <= 0) {
      t.result = skipped("shmio or floor latency");
    } else {
      const double ratio = busy->p50_ns.median / floor->p50_ns.median;
      t.got = absl::StrFormat("%.2fx (%.0f ns vs %.0f ns)", ratio,
                              busy->p50_ns.median, floor->p50_ns.median);
      t.result = Pass(ratio <= 1.5);
    }
    targets.push_back(t);
  }
  {
    TargetCheck t{"busy_p50_vs_uds", ">= 10x lower than uds p50", "-", ""};
    if (busy == nullptr || uds == nullptr || busy->p50_ns.median <= 0) {
      t.result = skipped("shmio or uds latency");
    } else {
      const double ratio = uds->p50_ns.median / busy->p50_ns.median;
      t.got = absl::StrFormat("%.1fx lower (%.0f ns vs %.0f ns)", ratio,
                              busy->p50_ns.median, uds->p50_ns.median);
      t.result = Pass(ratio >= 10);
    }
    targets.push_back(t);
  }
  {
    TargetCheck t{"inotify_p50_vs_pipe", "<= 3x pipe p50", "-", ""};
    const LatencyResult* inotify = FindLatency("shmio-inotify", kTargetPayload);
    if (inotify == nullptr || pipe == nullptr || pipe->p50_ns.median <= 0) {
      t.result = skipped("shmio-inotify or pipe latency");
    } else {
      const double ratio = inotify->p50_ns.median / pipe->p50_ns.median;
      t.got = absl::StrFormat("%.2fx (%.0f ns vs %.0f ns)", ratio,
                              inotify->p50_ns.median, pipe->p50_ns.median);
      t.result = Pass(ratio <= 3);
    }
    targets.push_back(t);
  }
  {
    // uvwatch's timer mode polls on a periodic timerfd (no slack, no drift):
    // a frame waits at most one interval for the next tick, plus the kernel
    // wake-up that every sleeping reader pays (the pipe's p99 in this run).
    TargetCheck t{"timer_p99_within_interval",
                  absl::StrFormat("p99 <= %.3g ms interval + one wake-up (pipe p99)",
                                  timer_interval_ms_),
                  "-", ""};
    const LatencyResult* timer = FindLatency("shmio-timer", kTargetPayload);
    if (timer == nullptr || pipe == nullptr) {
      t.result = skipped("shmio-timer or pipe latency");
    } else {
      const double bound_ns = timer_interval_ms_ * 1e6 + pipe->p99_ns.median;
      t.got = absl::StrFormat("p50 %.0f us, p99 %.0f us, max %.0f us; bound %.0f us",
                              timer->p50_ns.median / 1e3,
                              timer->p99_ns.median / 1e3,
                              timer->max_ns.median / 1e3, bound_ns / 1e3);
      t.result = Pass(timer->p99_ns.median <= bound_ns);
    }
    targets.push_back(t);
  }
  {
    TargetCheck t{"chain_throughput_vs_shmio", ">= 0.8x shmio msgs/s (32 B)",
                  "-", ""};
    const ThroughputResult* chain = FindThroughput(kChain, kTargetPayload);
    const ThroughputResult* shmio = FindThroughput("shmio", kTargetPayload);
    if (chain == nullptr || shmio == nullptr || shmio->msgs_per_s.median <= 0) {
      t.result = skipped("shmio-chain or shmio throughput");
    } else {
      const double ratio = chain->msgs_per_s.median / shmio->msgs_per_s.median;
      t.got = absl::StrFormat("%.2fx, %.0f rolls per run", ratio,
                              chain->rolls.median);
      t.result = Pass(ratio >= 0.8);
    }
    targets.push_back(t);
  }
  {
    TargetCheck t{"chain_p99_vs_shmio", "<= 2x shmio p99", "-", ""};
    const LatencyResult* chain = FindLatency(kChain, kTargetPayload);
    if (chain == nullptr || busy == nullptr || busy->p99_ns.median <= 0) {
      t.result = skipped("shmio-chain or shmio latency");
    } else {
      const double ratio = chain->p99_ns.median / busy->p99_ns.median;
      t.got = absl::StrFormat("%.2fx (%.0f ns vs %.0f ns), %.0f rolls per run",
                              ratio, chain->p99_ns.median, busy->p99_ns.median,
                              chain->rolls.median);
      t.result = Pass(ratio <= 2);
    }
    targets.push_back(t);
  }
  return targets;
}

std::string Report::ChainLines() const {
  std::string out;
  for (const ThroughputResult& r : throughput_) {
    const ThroughputResult* shmio = FindThroughput("shmio", r.payload_bytes);
    if (r.transport != kChain || shmio == nullptr || shmio->msgs_per_s.median <= 0) continue;
    absl::StrAppendFormat(&out,
                          "chain measure=throughput payload=%d chain_vs=shmio "
                          "metric=msgs_per_s value=%.2f rolls=%.0f\n",
                          r.payload_bytes,
                          r.msgs_per_s.median / shmio->msgs_per_s.median,
                          r.rolls.median);
  }
  for (const LatencyResult& r : latency_) {
    const LatencyResult* shmio = FindLatency("shmio", r.payload_bytes);
    if (r.transport != kChain || shmio == nullptr || shmio->p99_ns.median <= 0) continue;
    absl::StrAppendFormat(&out,
                          "chain measure=latency payload=%d chain_vs=shmio "
                          "metric=p99_ns value=%.2f p50_value=%.2f rolls=%.0f\n",
                          r.payload_bytes, r.p99_ns.median / shmio->p99_ns.median,
                          r.p50_ns.median / shmio->p50_ns.median, r.rolls.median);
  }
  return out;
}

std::string Report::Text() const {
  std::string out;
  for (const ThroughputResult& r : throughput_) {
    absl::StrAppendFormat(
        &out,
        "transport=%s measure=throughput payload=%d msgs_per_s=%.0f "
        "mb_per_s=%.1f runs=%d msgs_per_s_min=%.0f msgs_per_s_max=%.0f "
        "messages=%d%s\n",
        r.transport, r.payload_bytes, r.msgs_per_s.median, r.mb_per_s.median,
        r.msgs_per_s.runs, r.msgs_per_s.min, r.msgs_per_s.max,
        r.messages_per_run, RollsField(r.rolls));
  }
  for (const LatencyResult& r : latency_) {
    absl::StrAppendFormat(
        &out,
        "transport=%s measure=latency payload=%d p50_ns=%.0f p99_ns=%.0f "
        "p999_ns=%.0f max_ns=%.0f runs=%d p50_ns_min=%.0f p50_ns_max=%.0f "
        "samples=%d%s\n",
        r.transport, r.payload_bytes, r.p50_ns.median, r.p99_ns.median,
        r.p999_ns.median, r.max_ns.median, r.p50_ns.runs, r.p50_ns.min,
        r.p50_ns.max, r.samples_per_run, RollsField(r.rolls));
  }
  // Ratios of shmio (busy-poll) to every other transport: throughput as
  // shmio/peer (above 1: shmio is faster), latency as shmio/peer (below 1:
  // shmio is faster).
  // shmio-chain has lines of its own (ChainLines()).
  for (const ThroughputResult& r : throughput_) {
    if (r.transport == "shmio" || r.transport == kChain) continue;
    const ThroughputResult* shmio = FindThroughput("shmio", r.payload_bytes);
    if (shmio == nullptr || r.msgs_per_s.median <= 0) continue;
    absl::StrAppendFormat(&out,
                          "ratio measure=throughput payload=%d shmio_vs=%s "
                          "metric=msgs_per_s value=%.2f\n",
                          r.payload_bytes, r.transport,
                          shmio->msgs_per_s.median / r.msgs_per_s.median);
  }
  for (const LatencyResult& r : latency_) {
    if (r.transport == "shmio" || r.transport == kChain) continue;
    const LatencyResult* shmio = FindLatency("shmio", r.payload_bytes);
    if (shmio == nullptr || r.p50_ns.median <= 0) continue;
    absl::StrAppendFormat(&out,
                          "ratio measure=latency payload=%d shmio_vs=%s "
                          "metric=p50_ns value=%.3f\n",
                          r.payload_bytes, r.transport,
                          shmio->p50_ns.median / r.p50_ns.median);
  }
  out += ChainLines();
  for (const TargetCheck& t : Targets()) {
    absl::StrAppendFormat(&out, "target name=%s want=\"%s\" got=\"%s\" result=%s\n",
                          t.name, t.want, t.got, t.result);
  }
  for (const FailedMeasure& f : failures_) {
    absl::StrAppendFormat(&out,
                          "error transport=%s measure=%s payload=%d what=\"%s\"\n",
                          f.transport, f.measure, f.payload_bytes, f.error);
  }
  return out;
}

std::string Report::Csv() const {
  std::string out = "kind,transport,measure,payload,metric,median,min,max,runs,note\n";
  for (const ThroughputResult& r : throughput_) {
    AppendCsvRow(&out, "result", r.transport, "throughput", r.payload_bytes,
                 "msgs_per_s", r.msgs_per_s, "");
    AppendCsvRow(&out, "result", r.transport, "throughput", r.payload_bytes,
                 "mb_per_s", r.mb_per_s, "");
  }
  for (const LatencyResult& r : latency_) {
    AppendCsvRow(&out, "result", r.transport, "latency", r.payload_bytes,
                 "p50_ns", r.p50_ns, "");
    AppendCsvRow(&out, "result", r.transport, "latency", r.payload_bytes,
                 "p99_ns", r.p99_ns, "");
    AppendCsvRow(&out, "result", r.transport, "latency", r.payload_bytes,
                 "p999_ns", r.p999_ns, "");
    AppendCsvRow(&out, "result", r.transport, "latency", r.payload_bytes,
                 "max_ns", r.max_ns, "");
  }
  for (const ThroughputResult& r : throughput_) {
    const ThroughputResult* shmio = FindThroughput("shmio", r.payload_bytes);
    if (r.transport == "shmio" || r.transport == kChain || shmio == nullptr ||
        r.msgs_per_s.median <= 0) {
      continue;
    }
    const double v = shmio->msgs_per_s.median / r.msgs_per_s.median;
    AppendCsvRow(&out, "ratio", "shmio/" + r.transport, "throughput",
                 r.payload_bytes, "msgs_per_s", RunSummary{v, v, v, 1}, "");
  }
  for (const LatencyResult& r : latency_) {
    const LatencyResult* shmio = FindLatency("shmio", r.payload_bytes);
    if (r.transport == "shmio" || r.transport == kChain || shmio == nullptr ||
        r.p50_ns.median <= 0) {
      continue;
    }
    const double v = shmio->p50_ns.median / r.p50_ns.median;
    AppendCsvRow(&out, "ratio", "shmio/" + r.transport, "latency",
                 r.payload_bytes, "p50_ns", RunSummary{v, v, v, 1}, "");
  }
  for (const TargetCheck& t : Targets()) {
    // Free text goes in quotes; commas inside are allowed by RFC 4180.
    absl::StrAppendFormat(&out, "target,%s,,%d,,,,,,\"%s; want %s; got %s\"\n",
                          t.name, kTargetPayload, t.result, t.want, t.got);
  }
  for (const FailedMeasure& f : failures_) {
    absl::StrAppendFormat(&out, "error,%s,%s,%d,,,,,,\"%s\"\n", f.transport,
                          f.measure, f.payload_bytes, f.error);
  }
  return out;
}

absl::Status Report::WriteCsv(const std::string& path) const {
  std::ofstream file(path, std::ios::trunc);
  file << Csv();
  file.close();
  if (!file) {
    return absl::UnavailableError(
        absl::StrCat("could not write the CSV report to ", path,
                     " (does its directory exist and is it writable?)"));
  }
  return absl::OkStatus();
}

absl::Status Report::WritePlot(const std::string& path, size_t payload_bytes,
                               const std::string& subtitle) const {
  const std::string data_path =
      absl::StrFormat("/tmp/shmio-bench-plot-%d.dat", getpid());
  {
    std::ofstream data(data_path, std::ios::trunc);
    data << "# transport p50 p99 p999 max (ns)\n";
    int rows = 0;
    for (const LatencyResult& r : latency_) {
      if (r.payload_bytes != payload_bytes) continue;
      data << absl::StrFormat("\"%s\" %.0f %.0f %.0f %.0f\n", r.transport,
                              r.p50_ns.median, r.p99_ns.median,
                              r.p999_ns.median, r.max_ns.median);
      ++rows;
    }
    if (rows == 0) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "no latency results for %d-byte payloads to plot", payload_bytes));
    }
  }
  const std::string script = absl::StrFormat(
      "set terminal pngcairo size 1100,620 font 'sans,10' noenhanced\n"
      "set output '%s'\n"
      "fmt(x) = x < 1000 ? sprintf('%%.0f ns', x) : x < 1e6 ? "
      "sprintf('%%.1f us', x / 1e3) : sprintf('%%.1f ms', x / 1e6)\n"
      "set title \"shmio one-way latency (ping-pong round trip / 2), %d-byte "
      "payload, median of runs\\n%s\"\n"
      "set style data histogram\n"
      "set style histogram clustered gap 1\n"
      "set style fill solid 0.85 border -1\n"
      "set logscale y\n"
      "set yrange [10:*]\n"
      "set ylabel 'one-way latency (log scale)'\n"
      "set ytics ('10 ns' 10, '100 ns' 100, '1 us' 1000, '10 us' 1e4, '100 us' 1e5, "
      "'1 ms' 1e6, '10 ms' 1e7, '100 ms' 1e8)\n"
      "set grid ytics mytics\n"
      "set key top left\n"
      "plot '%s' using 2:xtic(1) title 'p50', '' using 3 title 'p99', "
      "'' using 4 title 'p99.9', '' using 5 title 'max', "
      "'' using ($0 - 0.3):2:(fmt($2)) with labels offset 0,0.8 font ',8' "
      "notitle\n",
      path, payload_bytes, absl::StrReplaceAll(subtitle, {{"\"", "'"}}),
      data_path);
  FILE* gnuplot = popen("gnuplot", "w");
  if (gnuplot == nullptr) {
    unlink(data_path.c_str());
    return absl::ErrnoToStatus(errno, "popen(gnuplot): is gnuplot installed?");
  }
  fputs(script.c_str(), gnuplot);
  const int status = pclose(gnuplot);
  unlink(data_path.c_str());
  if (status != 0) {
    return absl::UnavailableError(absl::StrFormat(
        "gnuplot failed (wait status %#x) drawing %s; install gnuplot-nox",
        status, path));
  }
  return absl::OkStatus();
}

}  // namespace bench
