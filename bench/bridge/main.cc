// //bench:bridge: the Redis bridge's throughput and latency, each next to a
// plain-hiredis reference in the same run, on a redis-server this program
// starts (no persistence) on a free loopback port and stops.
//
//   ./bazelw run //bench:bridge            # ~1 min
//   ./bazelw run //bench:bridge -- --quick # a smoke run
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/bridge/bridge_bench.h"
#include "bench/latency_stats.h"
#include "tests/bridge/redis_server.h"

ABSL_FLAG(bool, quick, false, "a smoke run: fewer frames, one round, fewer samples");
ABSL_FLAG(int, rounds, 5, "interleaved rounds of each throughput measure (median shown)");
ABSL_FLAG(uint64_t, frames_32, 300000, "frames of 32 bytes per throughput round");
ABSL_FLAG(uint64_t, frames_1024, 100000, "frames of 1024 bytes per throughput round");
ABSL_FLAG(int, samples, 2000, "latency samples per path");
ABSL_FLAG(uint64_t, max_in_flight, 4096, "XADDs in flight (both sides)");
ABSL_FLAG(uint64_t, batch, 1024, "frames per batch (both sides)");
ABSL_FLAG(std::string, shmio, "", "the shmio binary (default: tools/shmio in the runfiles)");

namespace {

std::string ShmioBinary(const char* argv0) {
  if (!absl::GetFlag(FLAGS_shmio).empty()) return absl::GetFlag(FLAGS_shmio);
  for (std::string candidate : {absl::StrCat(argv0, ".runfiles/shmio/tools/shmio"),
                                std::string("tools/shmio")}) {
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "tools/shmio";
}

std::string Rate(double per_second) {
  if (per_second >= 1e6) return absl::StrFormat("%.2f M/s", per_second / 1e6);
  return absl::StrFormat("%.0f k/s", per_second / 1e3);
}

std::string Micros(double ns) { return absl::StrFormat("%.1f us", ns / 1000); }

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  bool quick = absl::GetFlag(FLAGS_quick);
  int rounds = quick ? 1 : absl::GetFlag(FLAGS_rounds);
  int samples = quick ? 200 : absl::GetFlag(FLAGS_samples);
  std::string tmp = absl::StrCat("/tmp/shmio-bench-bridge-", getpid());
  auto server = bridge_test::RedisServer::StartIn(tmp);
  if (!server.ok()) {
    std::fprintf(stderr, "bench/bridge: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  int port = (*server)->port();
  utsname host;
  uname(&host);
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf(
      "bench/bridge: redis-server 7.0 on 127.0.0.1:%d (no persistence), %ld CPUs, %s %s, load "
      "average %.1f\n",
      port, sysconf(_SC_NPROCESSORS_ONLN), host.sysname, host.release, load[0]);
  int status = 0;

  std::printf("\npublish throughput, frames/s (median of %d interleaved rounds; window %d, batch %d)\n",
              rounds, static_cast<int>(absl::GetFlag(FLAGS_max_in_flight)),
              static_cast<int>(absl::GetFlag(FLAGS_batch)));
  std::printf("| payload | shmio publish | plain hiredis XADD loop | ratio | target >= 0.8 | best rounds' ratio | client CPU per frame, shmio / plain |\n");
  std::printf("|---|---:|---:|---:|---|---:|---:|\n");
  struct Size {
    size_t bytes;
    uint64_t frames;
  };
  for (Size size : {Size{32, absl::GetFlag(FLAGS_frames_32)},
                    Size{1024, absl::GetFlag(FLAGS_frames_1024)}}) {
    bench_bridge::ThroughputConfig config;
    config.redis_port = port;
    config.frames = quick ? size.frames / 10 : size.frames;
    config.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
    config.batch = absl::GetFlag(FLAGS_batch);
    config.log_path = absl::StrCat("/dev/shm/shmio-bench-bridge-", getpid(), "-", size.bytes);
    unlink(config.log_path.c_str());
    absl::Status filled = bench_bridge::PrefillLog(config.log_path, config.frames, size.bytes);
    if (!filled.ok()) {
      std::fprintf(stderr, "bench/bridge: %s\n", std::string(filled.message()).c_str());
      return 1;
    }
    std::vector<double> ours;
    std::vector<double> reference;
    std::vector<double> ours_cpu;
    std::vector<double> reference_cpu;
    for (int round = 0; round < rounds; ++round) {
      std::string suffix = absl::StrCat(size.bytes, "-", round);
      absl::StatusOr<bench_bridge::Throughput> ref =
          bench_bridge::ReferenceThroughput(config, "ref-" + suffix);
      absl::StatusOr<bench_bridge::Throughput> pub =
          bench_bridge::PublisherThroughput(config, "pub-" + suffix);
      if (!ref.ok() || !pub.ok()) {
        std::fprintf(stderr, "bench/bridge: error: %s %s\n",
                     std::string(ref.status().message()).c_str(),
                     std::string(pub.status().message()).c_str());
        return 1;
      }
      ours.push_back(pub->frames_per_second);
      reference.push_back(ref->frames_per_second);
      ours_cpu.push_back(pub->cpu_ns_per_frame);
      reference_cpu.push_back(ref->cpu_ns_per_frame);
      // Keep the server's memory flat between rounds.
      auto client = bridge_test::SyncRedis::Connect(port);
      if (client.ok()) (*client)->Text({"DEL", "ref-" + suffix, "pub-" + suffix});
    }
    double a = bench::Summarize(ours).median;
    double b = bench::Summarize(reference).median;
    bool pass = a / b >= 0.8;
    if (!pass) status = 1;
    // The best round of each side is the one least disturbed by other work
    // on the machine; the target is judged on the medians.
    double best = bench::Summarize(ours).max / bench::Summarize(reference).max;
    std::printf("| %zu B | %s | %s | %.2f | %s | %.2f | %.2f / %.2f us |\n", size.bytes,
                Rate(a).c_str(), Rate(b).c_str(), a / b, pass ? "pass" : "FAIL", best,
                bench::Summarize(ours_cpu).median / 1000, bench::Summarize(reference_cpu).median / 1000);
    unlink(config.log_path.c_str());
  }

  std::printf("\nend-to-end latency, one frame of 32 B at a time (%d samples each)\n", samples);
  absl::StatusOr<std::vector<int64_t>> bridge_ns = bench_bridge::BridgeLatency(
      port, ShmioBinary(argv[0]), absl::StrCat("/dev/shm/shmio-bench-bridge-", getpid()), samples);
  absl::StatusOr<std::vector<int64_t>> reference_ns = bench_bridge::ReferenceLatency(port, samples);
  if (!bridge_ns.ok() || !reference_ns.ok()) {
    std::fprintf(stderr, "bench/bridge: error: %s %s\n",
                 std::string(bridge_ns.status().message()).c_str(),
                 std::string(reference_ns.status().message()).c_str());
    return 1;
  }
  bench::LatencyPercentiles ours = bench::ComputePercentiles(*bridge_ns);
  bench::LatencyPercentiles reference = bench::ComputePercentiles(*reference_ns);
  std::printf("| path | p50 | p99 | p99.9 | max |\n|---|---:|---:|---:|---:|\n");
  std::printf("| Commit() -> shmio publish -> Redis -> shmio mirror -> uvwatch | %s | %s | %s | %s |\n",
              Micros(ours.p50_ns).c_str(), Micros(ours.p99_ns).c_str(),
              Micros(ours.p999_ns).c_str(), Micros(ours.max_ns).c_str());
  std::printf("| XADD -> XREAD BLOCK (bare hiredis, two connections) | %s | %s | %s | %s |\n",
              Micros(reference.p50_ns).c_str(), Micros(reference.p99_ns).c_str(),
              Micros(reference.p999_ns).c_str(), Micros(reference.max_ns).c_str());
  std::printf("ratio: p50 %.2fx, p99 %.2fx the bare round trip\n", ours.p50_ns / reference.p50_ns,
              ours.p99_ns / reference.p99_ns);
  server->reset();
  std::string cleanup = absl::StrCat("rm -rf ", tmp);
  if (std::system(cleanup.c_str()) != 0) std::fprintf(stderr, "bench/bridge: could not remove %s\n", tmp.c_str());
  return status;
}
