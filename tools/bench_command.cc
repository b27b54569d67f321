#include "tools/bench_command.h"

#include <string>
#include <vector>

#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "bench/ipc_benchmark.h"
#include "tools/flag_parser.h"

namespace shmio::cli {
namespace {

// The name of flag argument `arg` ("--runs=3" -> "runs"), or "" when `arg`
// is not a flag.
absl::string_view FlagName(absl::string_view arg) {
  if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) return "";
  return arg.substr(0, arg.find('='));
}

// True when `name` is a flag the benchmark takes (booleans also as --noNAME).
bool IsKnownFlag(absl::string_view name) {
  if (absl::FindCommandLineFlag(name) != nullptr) return true;
  return absl::ConsumePrefix(&name, "no") && absl::FindCommandLineFlag(name) != nullptr;
}

int Run(absl::Span<const std::string> args, const CommandIo& io) {
  const Command& self = kBenchCommand;
  if (IsHelpRequest(args)) return PrintUsage(io, self);
  // absl::ParseCommandLine would exit 1 on these; the CLI's contract is 2.
  for (const std::string& arg : args) {
    const absl::string_view name = FlagName(arg);
    if (name.empty()) {
      return ReportUsageError(io, self,
                              absl::StrCat("takes no FILE or other argument: '", arg, "'"));
    }
    if (!IsKnownFlag(name)) {
      return ReportUsageError(io, self, absl::StrCat("unknown flag --", name));
    }
  }
  std::vector<std::string> words = {"shmio bench"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  return bench::RunIpcBenchmark(static_cast<int>(words.size()), argv.data());
}

}  // namespace

const Command kBenchCommand = {
    "bench",
    "bench [--quick] [--runs=N] [--transports=shmio,floor,...] [--csv=FILE] "
    "[--plot=FILE.png] [--helpfull]",
    "measure shmio against a pipe, a Unix socket, ZeroMQ and the cache-line "
    "floor on this machine, with targets (//bench:ipc)",
    &Run,
};

}  // namespace shmio::cli
