// //bench:micro: Google Benchmark over shmio's hot paths, with the reference
// log (bench/micro/reference_log.h) in the same run. After the usual table
// it prints one ratio line per shmio benchmark that has a reference twin,
// and the in-process targets with PASS/MISS:
//
//   ratio name=BM_AppendCommit/commit_every:1000/payload:32/prefault:1
//         shmio_items_per_s=... reference_items_per_s=... shmio_vs_reference=0.98
//   target name=append_commit_every_1000 want=">= 150M frames/s" got=... result=PASS
//
// Standard flags work: --benchmark_filter, --benchmark_min_time, ...
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace bench {
namespace {

// Passes everything to the console and remembers items/s per benchmark
// (the median aggregate when repetitions are on, else the last run).
class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  explicit RecordingReporter(OutputOptions options)
      : ConsoleReporter(options) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      auto it = run.counters.find("items_per_second");
      if (it == run.counters.end()) continue;
      const std::string name = run.run_name.str();
      if (run.run_type == Run::RT_Aggregate) {
        if (run.aggregate_name == "median") medians_[name] = it->second.value;
      } else {
        last_[name] = it->second.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  std::map<std::string, double> ItemsPerSecond() const {
    std::map<std::string, double> result = last_;
    for (const auto& [name, value] : medians_) result[name] = value;
    return result;
  }

 private:
  std::map<std::string, double> last_;
  std::map<std::string, double> medians_;
};

// Shmio benchmarks and their reference twins differ only in one marker.
struct Twin {
  const char* shmio;
  const char* reference;
  const char* shown;  // the name printed on the ratio line
  // The two sides, as the ratio line names them.
  const char* subject = "shmio";
  const char* base = "reference";
};
constexpr Twin kTwins[] = {
    {"<ShmioWriter>", "<RefWriterAdapter>", ""},
    // A chain against a single file (what the chain adds within a file).
    {"<ChainWriterAdapter>", "<ShmioWriter>", "<Chain>", "chain", "single"},
    // A chain with a named reader that keeps up against one without.
    {"<ChainWithNamedReaderAdapter>", "<ChainWriterAdapter>", "<ChainNamed>", "named",
     "unnamed"},
    {"BM_ChainForwardChain", "BM_ChainForwardSingle", "BM_ChainForward", "chain", "single"},
    {"BM_ChainNextChain", "BM_ChainNextSingle", "BM_ChainNext", "chain", "single"},
    {"BM_ForwardShmio", "BM_ForwardRef", "BM_Forward"},
    {"BM_ReverseShmio", "BM_ReverseRef", "BM_Reverse"},
    {"BM_PollNothingNewShmio", "BM_PollNothingNewRef", "BM_PollNothingNew"},
    {"BM_OneFrameRoundShmio", "BM_OneFrameRoundRef", "BM_OneFrameRound"},
};

void PrintRatios(const std::map<std::string, double>& rates) {
  for (const auto& [name, shmio] : rates) {
    for (const Twin& twin : kTwins) {
      if (name.find(twin.shmio) == std::string::npos) continue;
      const std::string ref_name =
          absl::StrReplaceAll(name, {{twin.shmio, twin.reference}});
      auto ref = rates.find(ref_name);
      if (ref == rates.end() || ref->second <= 0) continue;
      const std::string shown =
          absl::StrReplaceAll(name, {{twin.shmio, twin.shown}});
      std::printf("ratio name=%s %s_items_per_s=%.0f %s_items_per_s=%.0f %s_vs_%s=%.3f\n",
                  shown.c_str(), twin.subject, shmio, twin.base, ref->second, twin.subject,
                  twin.base, shmio / ref->second);
    }
  }
}

void PrintTarget(const std::map<std::string, double>& rates,
                 const std::string& target, const std::string& benchmark,
                 double want) {
  auto it = rates.find(benchmark);
  if (it == rates.end()) {
    std::printf("target name=%s want=\">= %.0fM frames/s\" got=\"-\" "
                "result=SKIPPED (%s not run)\n",
                target.c_str(), want / 1e6, benchmark.c_str());
    return;
  }
  std::printf("target name=%s want=\">= %.0fM frames/s\" got=\"%.1fM "
              "frames/s\" result=%s\n",
              target.c_str(), want / 1e6, it->second / 1e6,
              it->second >= want ? "PASS" : "MISS");
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // Colours only on a terminal (a custom reporter does not see
  // --benchmark_color).
  bench::RecordingReporter reporter(
      isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_ColorTabular
                            : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const std::map<std::string, double> rates = reporter.ItemsPerSecond();
  std::fflush(stdout);
  bench::PrintRatios(rates);
  bench::PrintTarget(
      rates, "append_commit_every_1000_32B",
      "BM_AppendCommit<ShmioWriter>/commit_every:1000/payload:32/prefault:1",
      150e6);
  bench::PrintTarget(rates, "forward_iteration_32B",
                     "BM_ForwardShmio/payload:32", 150e6);
  benchmark::Shutdown();
  return 0;
}
