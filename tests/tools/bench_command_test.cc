// `shmio bench`: the //bench:ipc run behind the CLI. A quick run of shmio
// and the floor reports its lines and targets and exits 0; a lossy run exits
// 1; a bad command line exits 2 before anything runs. The benchmark is a
// program of its own (//tools:shmio-bench): an installed shmio finds it in
// DIR/libexec/shmio, and a shmio without it exits 1 naming where it looked.
// The numbers themselves are the benchmark's business, not asserted here.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/tools/cli_test_support.h"

namespace shmio::cli_test {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Copies the program at `from` to `to`, creating the directories on the way.
void CopyProgram(const std::string& from, const std::string& to) {
  std::filesystem::create_directories(std::filesystem::path(to).parent_path());
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::permissions(to, std::filesystem::perms::owner_all);
}

// On machines with one CPU both processes share it.
std::string ReaderCpu() {
  return std::string("--reader_cpu=") + (sysconf(_SC_NPROCESSORS_ONLN) > 1 ? "1" : "0");
}

TEST(BenchCommandTest, QuickRunReportsEveryMeasureAndTheTargets) {
  CliResult result = RunShmio({"bench", "--quick", "--transports=shmio,floor",
                               "--throughput_payloads=32", "--latency_payloads=32",
                               ReaderCpu()});
  ASSERT_EQ(result.exit_code, 0) << result.Describe() << "\n" << result.out;
  EXPECT_TRUE(Contains(result.out, "# shmio ipc benchmark: nproc=")) << result.out;
  EXPECT_TRUE(Contains(result.out, "transport=shmio measure=throughput payload=32 msgs_per_s="))
      << result.out;
  EXPECT_TRUE(Contains(result.out, "transport=shmio measure=latency payload=32 p50_ns="))
      << result.out;
  EXPECT_TRUE(Contains(result.out, "transport=floor measure=latency payload=32 p50_ns="))
      << result.out;
  EXPECT_TRUE(Contains(result.out, "ratio measure=latency payload=32 shmio_vs=floor"))
      << result.out;
  EXPECT_TRUE(Contains(result.out, "target name=busy_p50_vs_floor")) << result.out;
  EXPECT_FALSE(Contains(result.out, "\nerror ")) << result.out;
}

TEST(BenchCommandTest, ALostMessageIsExitOneAndAnErrorLine) {
  CliResult result = RunShmio({"bench", "--quick", "--transports=shmio",
                               "--latency_payloads=", "--throughput_payloads=32",
                               "--test_only_skip_message=1000", ReaderCpu()});
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_TRUE(Contains(result.out, "error transport=shmio measure=throughput payload=32"))
      << result.out;
  EXPECT_FALSE(Contains(result.out, "transport=shmio measure=throughput payload=32 msgs_per_s"))
      << "a lossy run has no number";
}

TEST(BenchCommandTest, BadCommandLinesAreUsageErrorsAndRunNothing) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"bench", "--no_such_flag"},
                                             {"bench", "some.shm"},
                                             {"bench", "--runs=abc"},
                                             {"bench", "--runs"},
                                             {"bench", "--flagfile=/dev/null"}}) {
    CliResult result = RunShmio(args);
    EXPECT_EQ(result.exit_code, 2) << args[1] << ": " << result.Describe();
    EXPECT_TRUE(Contains(result.err, "usage: shmio bench")) << result.err;
    EXPECT_EQ(result.out, "") << args[1];
  }
  CliResult unknown = RunShmio({"bench", "--transports=shmio,carrier-pigeon"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.Describe();
  EXPECT_TRUE(Contains(unknown.err, "no transport 'carrier-pigeon'")) << unknown.err;
  EXPECT_FALSE(Contains(unknown.out, "transport=")) << "nothing ran";
}

TEST(BenchCommandTest, HelpListsTheBenchmarksFlagsWithDefaults) {
  CliResult result = RunShmio({"bench", "--help"});
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_TRUE(Contains(result.out, "usage: shmio bench")) << result.out;
  EXPECT_TRUE(Contains(result.out, "--transports (default: )")) << result.out;
  EXPECT_TRUE(Contains(result.out, "--runs (default: 3)")) << result.out;
  EXPECT_FALSE(Contains(result.out, "--flagfile")) << "Abseil's own flags are not the bench's";
}

TEST(BenchCommandTest, AnInstalledShmioRunsTheBenchmarkFromLibexec) {
  // The layout of `bazel run //:install -- --prefix=DIR`, without Bazel's
  // output tree beside it.
  const std::string prefix = TempPath("prefix");
  CopyProgram(RunfilesPath("tools/shmio"), prefix + "/bin/shmio");
  CopyProgram(RunfilesPath("tools/shmio-bench"), prefix + "/libexec/shmio/shmio-bench");
  CliResult help = RunProgram(prefix + "/bin/shmio", {"bench", "--help"});
  ASSERT_EQ(help.exit_code, 0) << help.Describe();
  EXPECT_TRUE(Contains(help.out, "--runs (default: 3)")) << help.out;
  CliResult bad = RunProgram(prefix + "/bin/shmio", {"bench", "--no_such_flag"});
  EXPECT_EQ(bad.exit_code, 2) << bad.Describe();
  EXPECT_TRUE(Contains(bad.err, "usage: shmio bench")) << bad.err;
}

TEST(BenchCommandTest, WithoutTheBenchmarkProgramItExitsOneNamingWhereItLooked) {
  const std::string prefix = TempPath("no-bench");
  CopyProgram(RunfilesPath("tools/shmio"), prefix + "/bin/shmio");
  CliResult result = RunProgram(prefix + "/bin/shmio", {"bench", "--quick"});
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_TRUE(Contains(result.err, prefix + "/libexec/shmio/shmio-bench")) << result.err;
  EXPECT_TRUE(Contains(result.err, prefix + "/bin/shmio-bench")) << result.err;
  EXPECT_EQ(result.out, "") << "nothing ran";
}

}  // namespace
}  // namespace shmio::cli_test
