#include "tools/bench_command.h"

#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace shmio::cli {
namespace {

// The path of the running program, symlinks resolved (so a `shmio` run
// from a runfiles tree is the one in the output tree). Linux-only:
// /proc/self/exe; a macOS port would use _NSGetExecutablePath here.
absl::StatusOr<std::string> RunningProgram() {
  char path[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", path, sizeof path);
  if (length < 0) return absl::ErrnoToStatus(errno, "readlink /proc/self/exe");
  if (static_cast<size_t>(length) == sizeof path) {
    return absl::OutOfRangeError(
        absl::StrCat("the path of this program is longer than ", PATH_MAX, " bytes"));
  }
  return std::string(path, static_cast<size_t>(length));
}

// Where the benchmark program may be for the `shmio` at `self`, in order:
// an install's libexec, then beside it (see bench_command.h).
std::vector<std::string> BenchProgramCandidates(const std::string& self) {
  const std::string dir = self.substr(0, self.rfind('/'));
  const std::string parent = dir.substr(0, dir.rfind('/'));
  return {parent + "/libexec/shmio/shmio-bench", dir + "/shmio-bench"};
}

int Run(absl::Span<const std::string> args, const CommandIo& io) {
  const Command& self = kBenchCommand;
  absl::StatusOr<std::string> shmio = RunningProgram();
  if (!shmio.ok()) return ReportFailure(io, self, "/proc/self/exe", shmio.status());
  const std::vector<std::string> candidates = BenchProgramCandidates(*shmio);
  for (const std::string& program : candidates) {
    if (access(program.c_str(), X_OK) != 0) continue;
    std::vector<std::string> words = {program};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    // The benchmark writes to the same stdout and stderr (main() passes the
    // process's own streams as io): nothing buffered may be lost or reordered.
    std::fflush(io.out);
    std::fflush(io.err);
    execv(program.c_str(), argv.data());
    return ReportFailure(io, self, program,
                         absl::ErrnoToStatus(errno, absl::StrCat("cannot run ", program)));
  }
  return ReportFailure(
      io, self, *shmio,
      absl::NotFoundError(absl::StrCat(
          "no benchmark program beside ", *shmio, ": looked for ",
          absl::StrJoin(candidates, " and "),
          ". An install (bazel run //:install -- --prefix=DIR) puts it in "
          "DIR/libexec/shmio; a build of //tools:shmio builds "
          "//tools:shmio-bench beside it")));
}

}  // namespace

const Command kBenchCommand = {
    "bench",
    "bench [--quick] [--runs=N] [--transports=shmio,floor,...] [--csv=FILE] "
    "[--plot=FILE.png] ...",
    "measure shmio against a pipe, a Unix socket, ZeroMQ and the cache-line "
    "floor on this machine, with targets (//bench:ipc; --help lists every "
    "flag)",
    &Run,
};

}  // namespace shmio::cli
