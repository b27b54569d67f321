// The //bench:ipc run: shmio between two processes against the transports a
// user would pick instead (pipe, Unix socket, ZeroMQ) and the hardware floor
// (a cache-line ping-pong), all in one run on one machine. Its flags are
// Abseil flags, defined here, so that every program that links this (the
// //bench:ipc binary, `shmio bench`) takes the same ones.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bench/ipc_benchmark.h"
#include "bench/ipc_runner.h"
#include "bench/message.h"
#include "bench/report.h"
#include "bench/transports/registry.h"

ABSL_FLAG(int, runs, 3, "runs per measure; the report shows median, min, max");
ABSL_FLAG(bool, quick, false,
          "a few-second smoke run: 1 run, few messages (numbers are rough)");
ABSL_FLAG(std::string, csv, "", "also write the report as CSV to this file");
ABSL_FLAG(std::string, plot, "",
          "draw latency percentiles per transport to this PNG (gnuplot)");
ABSL_FLAG(std::vector<std::string>, throughput_payloads,
          std::vector<std::string>({"32", "1024"}),
          "payload sizes in bytes for throughput (multiples of 8, >= 16)");
ABSL_FLAG(std::vector<std::string>, latency_payloads,
          std::vector<std::string>({"32"}), "payload sizes for latency");
ABSL_FLAG(std::vector<std::string>, transports, {},
          "only these transports (default: all): shmio, shmio-chain, "
          "shmio-inotify, shmio-timer, pipe, uds, zmq, floor, reference");
ABSL_FLAG(uint64_t, messages, 20000000,
          "messages per throughput run (each transport may send fewer so a "
          "run stays short; shmio is bounded by --max_log_mb)");
ABSL_FLAG(uint64_t, round_trips, 100000,
          "recorded round trips per latency run (slow transports do fewer)");
ABSL_FLAG(uint64_t, max_log_mb, 512, "largest shmio throughput log, MiB");
ABSL_FLAG(uint64_t, commit_every, 1,
          "shmio throughput writer commits every N messages");
ABSL_FLAG(bool, shmio_poll_only, false,
          "shmio busy-poll readers call Consumer::Poll() in a loop without "
          "Consumer::SpinUntilNew() (shows what its prefetch saves)");
ABSL_FLAG(uint64_t, test_only_skip_message, ~uint64_t{0},
          "tests only: the shmio and shmio-chain throughput writers leave "
          "out this message, so the run must be reported as lossy");
ABSL_FLAG(uint64_t, timer_interval_ms, 1, "uvwatch timer mode interval, ms");
ABSL_FLAG(int, writer_cpu, 0, "CPU for the writer / initiator process");
ABSL_FLAG(int, reader_cpu, 1, "CPU for the reader / echoer process");
ABSL_FLAG(std::string, shm_dir, "/dev/shm", "directory for shmio logs");
ABSL_FLAG(std::string, socket_dir, "/tmp", "directory for ZeroMQ sockets");

namespace bench {
namespace {

absl::StatusOr<std::vector<size_t>> ParsePayloads(
    const std::vector<std::string>& texts, const char* flag) {
  std::vector<size_t> sizes;
  for (const std::string& text : texts) {
    size_t n = 0;
    if (!absl::SimpleAtoi(text, &n)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--%s: '%s' is not a size in bytes", flag, text));
    }
    absl::Status status = CheckMessageSize(n);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--%s: %s", flag, status.message()));
    }
    sizes.push_back(n);
  }
  return sizes;
}

// The CPU model, for the report header ("model name" in /proc/cpuinfo).
std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (absl::StartsWith(line, "model name")) {
      std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits(':', 1));
      if (parts.size() == 2) return std::string(absl::StripAsciiWhitespace(parts[1]));
    }
  }
  return "unknown";
}

// `bazel run` starts programs in their runfiles tree; a relative output
// path means the directory the user ran it from (BUILD_WORKING_DIRECTORY).
std::string ResolveOutputPath(const std::string& path) {
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || cwd == nullptr) return path;
  return absl::StrCat(cwd, "/", path);
}

bool Selected(const std::vector<std::string>& only, const std::string& name) {
  if (only.empty()) return true;
  for (const std::string& s : only) {
    if (s == name) return true;
  }
  return false;
}

int Main() {
  const bool quick = absl::GetFlag(FLAGS_quick);
  RunnerOptions runner;
  runner.runs = quick ? 1 : absl::GetFlag(FLAGS_runs);
  runner.writer_cpu = absl::GetFlag(FLAGS_writer_cpu);
  runner.reader_cpu = absl::GetFlag(FLAGS_reader_cpu);
  if (runner.runs < 1) {
    std::fprintf(stderr, "--runs must be at least 1\n");
    return 2;
  }
  absl::StatusOr<std::vector<size_t>> throughput_payloads =
      ParsePayloads(absl::GetFlag(FLAGS_throughput_payloads), "throughput_payloads");
  absl::StatusOr<std::vector<size_t>> latency_payloads =
      ParsePayloads(absl::GetFlag(FLAGS_latency_payloads), "latency_payloads");
  for (const absl::Status& s :
       {throughput_payloads.status(), latency_payloads.status()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
      return 2;
    }
  }
  // --quick divides the work so the whole run takes a few seconds; the
  // numbers are then rough, but every transport and check still runs.
  const uint64_t divisor = quick ? 100 : 1;
  const uint64_t messages = absl::GetFlag(FLAGS_messages) / divisor;
  const uint64_t round_trips =
      std::max<uint64_t>(100, absl::GetFlag(FLAGS_round_trips) / divisor);

  TransportOptions transport_options;
  transport_options.shm_dir = absl::GetFlag(FLAGS_shm_dir);
  transport_options.socket_dir = absl::GetFlag(FLAGS_socket_dir);
  transport_options.max_log_bytes = absl::GetFlag(FLAGS_max_log_mb) << 20;
  transport_options.commit_every = absl::GetFlag(FLAGS_commit_every);
  transport_options.timer_interval_ms = absl::GetFlag(FLAGS_timer_interval_ms);
  transport_options.shmio_poll_only =
      absl::GetFlag(FLAGS_shmio_poll_only);
  transport_options.skip_message_for_test =
      absl::GetFlag(FLAGS_test_only_skip_message);
  std::vector<std::unique_ptr<Transport>> transports =
      MakeAllTransports(transport_options);
  const std::vector<std::string> only = absl::GetFlag(FLAGS_transports);
  for (const std::string& name : only) {
    bool known = false;
    for (const auto& transport : transports) known |= transport->name() == name;
    if (!known) {
      std::fprintf(stderr,
                   "--transports: no transport '%s' (known: shmio, shmio-chain, "
                   "shmio-inotify, shmio-timer, pipe, uds, zmq, floor, "
                   "reference)\n",
                   name.c_str());
      return 2;
    }
  }

  const std::string machine = absl::StrFormat(
      "nproc=%d cpu=\"%s\" writer_cpu=%d reader_cpu=%d runs=%d quick=%d",
      sysconf(_SC_NPROCESSORS_ONLN), CpuModel(), runner.writer_cpu,
      runner.reader_cpu, runner.runs, quick ? 1 : 0);
  std::printf("# shmio ipc benchmark: %s\n", machine.c_str());
  std::fflush(stdout);

  runner.messages = messages;
  runner.round_trips = round_trips;
  Report report(transport_options.timer_interval_ms);
  std::vector<std::unique_ptr<Transport>> selected;
  for (auto& transport : transports) {
    if (Selected(only, transport->name())) selected.push_back(std::move(transport));
  }
  RunAllMeasures(selected, *throughput_payloads, *latency_payloads, runner,
                 &report);

  std::fputs(report.Text().c_str(), stdout);
  std::fflush(stdout);
  int exit_code = report.has_failures() ? 1 : 0;
  const std::string csv = ResolveOutputPath(absl::GetFlag(FLAGS_csv));
  if (!csv.empty()) {
    absl::Status status = report.WriteCsv(csv);
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", status.ToString().c_str());
      exit_code = 1;
    }
  }
  const std::string plot = ResolveOutputPath(absl::GetFlag(FLAGS_plot));
  if (!plot.empty() && !latency_payloads->empty()) {
    absl::Status status =
        report.WritePlot(plot, latency_payloads->front(), machine);
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", status.ToString().c_str());
      exit_code = 1;
    }
  }
  return exit_code;
}

}  // namespace

int RunIpcBenchmark(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return Main();
}

}  // namespace bench
