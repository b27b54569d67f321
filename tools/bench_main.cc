// shmio-bench: the program behind `shmio bench` (see tools/bench_command.h),
// //bench:ipc with the CLI's contract: `--help` lists the benchmark's flags
// with their defaults, a bad command line exits 2 with the usage line before
// anything runs, and a run's exit code is the benchmark's (1 for a lossy
// run). Installed as DIR/libexec/shmio/shmio-bench; `shmio bench` finds it.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "bench/ipc_benchmark.h"
#include "tools/bench_command.h"
#include "tools/command.h"
#include "tools/flag_parser.h"

namespace shmio::cli {
namespace {

// The benchmark's flag called `name`, or null: only the flags that
// bench/ipc_benchmark.cc defines, not Abseil's own (--flagfile and such).
absl::CommandLineFlag* FindBenchFlag(absl::string_view name) {
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  if (flag == nullptr || !absl::StrContains(flag->Filename(), "bench/")) return nullptr;
  return flag;
}

// OK when `arg` is one of the benchmark's flags with a value it accepts:
// --name=value, or --name / --noname for a switch. A usage error naming it
// otherwise: absl::ParseCommandLine would exit 1 on it, the CLI's contract
// is 2. Checking a value stores it, as the parse that follows would.
absl::Status CheckFlag(absl::string_view arg) {
  absl::string_view text = arg;
  if (!absl::ConsumePrefix(&text, "--") && !absl::ConsumePrefix(&text, "-")) {
    return absl::InvalidArgumentError(
        absl::StrCat("takes no FILE or other argument: '", arg, "'"));
  }
  const size_t equals = text.find('=');
  const absl::string_view name = text.substr(0, equals);
  std::string value;
  absl::CommandLineFlag* flag = FindBenchFlag(name);
  if (equals != absl::string_view::npos) {
    value = std::string(text.substr(equals + 1));
  } else if (flag != nullptr) {
    if (!flag->IsOfType<bool>()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " needs a value: --", name, "=VALUE"));
    }
    value = "true";
  } else if (absl::string_view negated = name; absl::ConsumePrefix(&negated, "no")) {
    // --noNAME turns a switch off; only switches have the form.
    flag = FindBenchFlag(negated);
    if (flag != nullptr && !flag->IsOfType<bool>()) flag = nullptr;
    value = "false";
  }
  if (flag == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
  std::string error;
  if (!flag->ParseFrom(value, &error)) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, ": ", error));
  }
  return absl::OkStatus();
}

// The usage line, then every flag of the benchmark with its default.
int PrintHelp(const CommandIo& io) {
  PrintUsage(io, kBenchCommand);
  std::vector<const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (FindBenchFlag(name) != nullptr) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(), [](const auto* a, const auto* b) {
    return a->Name() < b->Name();
  });
  absl::FPrintF(io.out, "\nflags:\n");
  for (const absl::CommandLineFlag* flag : flags) {
    absl::FPrintF(io.out, "  --%s (default: %s)\n      %s\n", flag->Name(),
                  flag->DefaultValue(), flag->Help());
  }
  return FinishOutput(io, kBenchCommand, kExitOk);
}

int Main(int argc, char** argv) {
  const CommandIo io{stdin, stdout, stderr};
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (IsHelpRequest(args)) return PrintHelp(io);
  for (const std::string& arg : args) {
    absl::Status status = CheckFlag(arg);
    if (!status.ok()) return ReportUsageError(io, kBenchCommand, status.message());
  }
  // The benchmark's own messages name the program as the user called it.
  std::vector<std::string> words = {"shmio bench"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> bench_argv;
  for (std::string& word : words) bench_argv.push_back(word.data());
  bench_argv.push_back(nullptr);
  return bench::RunIpcBenchmark(static_cast<int>(words.size()), bench_argv.data());
}

}  // namespace
}  // namespace shmio::cli

int main(int argc, char** argv) { return shmio::cli::Main(argc, argv); }
