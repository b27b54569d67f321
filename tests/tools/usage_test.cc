// The command line itself: help, unknown commands and flags, and missing or
// malformed arguments are usage errors (exit 2, usage on stderr).
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/tools/cli_test_support.h"

namespace shmio::cli_test {
namespace {

void ExpectUsageError(const std::vector<std::string>& args) {
  CliResult result = RunShmio(args);
  std::string command;
  for (const std::string& arg : args) command += " " + arg;
  EXPECT_EQ(result.exit_code, 2) << "shmio" << command << ": " << result.Describe();
  EXPECT_NE(result.err.find("usage"), std::string::npos)
      << "shmio" << command << ": " << result.err;
  EXPECT_EQ(result.out, "") << "shmio" << command;
}

TEST(UsageTest, NoCommandIsAUsageError) { ExpectUsageError({}); }

TEST(UsageTest, UnknownCommandIsAUsageError) {
  ExpectUsageError({"frobnicate", "x.shm"});
}

TEST(UsageTest, HelpListsEveryCommandAndSucceeds) {
  CliResult result = RunShmio({"--help"});

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  for (const char* command : {"stat", "dump", "verify", "append", "tail", "bench"}) {
    EXPECT_NE(result.out.find(std::string("shmio ") + command), std::string::npos)
        << command;
  }
}

TEST(UsageTest, SubcommandHelpSucceeds) {
  CliResult result = RunShmio({"dump", "--help"});

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_NE(result.out.find("--reverse"), std::string::npos) << result.out;
}

TEST(UsageTest, MissingOrExtraFileIsAUsageError) {
  std::string path = CopyNodeFixture("basic.shm");
  ExpectUsageError({"stat"});
  ExpectUsageError({"dump"});
  ExpectUsageError({"verify"});
  ExpectUsageError({"append"});
  ExpectUsageError({"stat", path, path});
}

TEST(UsageTest, UnknownOrMalformedFlagsAreUsageErrors) {
  std::string path = CopyNodeFixture("basic.shm");
  ExpectUsageError({"stat", path, "--bogus"});
  ExpectUsageError({"stat", path, "--json=yes"});
  ExpectUsageError({"stat", path, "-j"});
  ExpectUsageError({"verify", path, "--debug"});
  ExpectUsageError({"dump", path, "--from"});
  ExpectUsageError({"dump", path, "--from=abc"});
  ExpectUsageError({"dump", path, "--from=-1"});
  ExpectUsageError({"dump", path, "--to=12x"});
  ExpectUsageError({"dump", path, "--format=binary"});
  ExpectUsageError({"dump", path, "--cursor", "--cursor"});
  // One parser for cursors: what dump refuses, tail refuses too.
  for (const char* from : {"--from=+265", "--from= 265", "--from=-1", "--from=0x10"}) {
    ExpectUsageError({"dump", path, from});
    ExpectUsageError({"tail", path, from});
    ExpectUsageError({"tail", path, "-f", from});
  }
}

// A cursor means the same with and without -f: 0 is inside the header of a
// log (only --from=begin names the first frame).
TEST(UsageTest, CursorZeroIsRefusedByDumpAndTailWithAndWithoutFollow) {
  std::string path = CopyNodeFixture("basic.shm");
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"dump", path, "--from=0"},
                                             {"tail", path, "--from=0"},
                                             {"tail", path, "-f", "--from=0"}}) {
    CliResult result = RunShmio(args);
    EXPECT_EQ(result.exit_code, 1) << args[0] << " " << args.back() << ": "
                                   << result.Describe();
    EXPECT_NE(result.err.find("inside the header"), std::string::npos) << result.err;
  }
}

TEST(UsageTest, ContradictoryAppendFlagsAreUsageErrors) {
  std::string path = TempPath("log.shm");
  ExpectUsageError({"append", path, "--create", "--capacity=4096", "--size=1024", "--num=4"});
  ExpectUsageError({"append", path, "--create", "--size=1024"});
  ExpectUsageError({"append", path, "--create", "--num=4"});
  ExpectUsageError({"append", path, "--create", "--capacity=4096", "--batch=0"});
  ExpectUsageError({"append", path, "--create", "--capacity=4096", "--format=json"});
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << "a usage error touched the disk";
}

}  // namespace
}  // namespace shmio::cli_test
