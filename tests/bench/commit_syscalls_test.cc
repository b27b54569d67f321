// Commit() with no reader armed makes no syscall: strace -f over a million
// appends and commits shows nothing between the program's two markers. The
// armed run shows the same trace does see the doorbell's pwrite on every
// commit, so the first check cannot pass by missing syscalls.
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/bench/run_program.h"

namespace bench_test {
namespace {

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

// The trace lines of the committing thread strictly between the begin and
// end markers. strace -f starts each line with the thread id; lines of other
// threads (a sanitizer runtime's background thread) are not the commits'.
std::vector<std::string> TracedBetweenMarkers(const std::string& trace_path) {
  std::ifstream trace(trace_path);
  std::vector<std::string> between;
  std::string line;
  std::string tid;
  bool inside = false;
  bool ended = false;
  while (std::getline(trace, line)) {
    const std::string line_tid = line.substr(0, line.find(' '));
    if (!inside && absl::StrContains(line, "shmio-commit-loop-begin")) {
      inside = true;
      tid = line_tid;
      continue;
    }
    if (!inside || line_tid != tid) continue;
    if (absl::StrContains(line, "shmio-commit-loop-end")) {
      ended = true;
      break;
    }
    between.push_back(line);
  }
  EXPECT_TRUE(inside && ended) << "markers not found in " << trace_path;
  return between;
}

ProgramResult TraceCommits(const std::string& trace, uint64_t commits,
                           bool armed) {
  // LeakSanitizer cannot run under ptrace; the rest of ASan can.
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string asan_options =
      absl::StrCat("ASAN_OPTIONS=", asan != nullptr ? asan : "", ":detect_leaks=0");
  return RunProgram("env", {asan_options, "strace", "-f", "-qq", "-o", trace,
                               RunfilePath("bench/commit_syscalls"),
                               absl::StrCat("--commits=", commits),
                               absl::StrCat("--armed=", armed ? "true" : "false")});
}

TEST(CommitSyscallsTest, UnarmedCommitsMakeNoSyscall) {
  const std::string trace = TempDir() + "/unarmed.trace";
  ProgramResult run = TraceCommits(trace, 1000000, /*armed=*/false);
  ASSERT_EQ(run.exit_code, 0) << "is strace installed (./bazelw installs it)?\n"
                              << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, "commits=1000000 doorbell_rings=0"))
      << run.out;
  const std::vector<std::string> syscalls = TracedBetweenMarkers(trace);
  EXPECT_TRUE(syscalls.empty())
      << syscalls.size() << " syscalls during the commits, the first: "
      << syscalls.front();
}

TEST(CommitSyscallsTest, ArmedCommitsRingOncePerCommit) {
  const std::string trace = TempDir() + "/armed.trace";
  ProgramResult run = TraceCommits(trace, 1000, /*armed=*/true);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, "commits=1000 doorbell_rings=1000"))
      << run.out;
  int pwrites = 0;
  for (const std::string& line : TracedBetweenMarkers(trace)) {
    if (absl::StrContains(line, "pwrite")) ++pwrites;
  }
  EXPECT_EQ(pwrites, 1000);
}

}  // namespace
}  // namespace bench_test
