// Bad input matrix for the `shmio` CLI (//tools:shmio): the same bad paths,
// files, headers and options as bad_input_test, through the program. Each
// ends with exit 1 (a data or runtime problem) or 2 (a usage error), never a
// signal; stderr names the file; every file is left byte-identical and no
// file is created where none existed.
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shmio/format.h"
#include "tests/reliability/child_process.h"
#include "tests/reliability/cli_runner.h"
#include "tests/reliability/file_state.h"

namespace shmio_reliability {
namespace {

using ::testing::HasSubstr;

class BadInputCliTest : public testing::Test {
 protected:
  void TearDown() override {
    for (const std::string& path : cleanup_) {
      unlink(path.c_str());
      rmdir(path.c_str());
    }
  }

  // A fresh path in /dev/shm (world-traversable, for the nobody cases).
  std::string Path(const std::string& name) {
    cleanup_.push_back(ShmPath(name));
    return cleanup_.back();
  }

  ProgramResult Shmio(std::vector<std::string> args,
                      const std::string& stdin_data = "",
                      bool as_nobody = false) {
    args.insert(args.begin(), RunfilePath("tools/shmio"));
    return RunProgram(args, stdin_data, as_nobody);
  }

  // A log with three committed frames, written by the CLI itself.
  std::string MakeLog(const std::string& name) {
    std::string path = Path(name);
    ProgramResult made = Shmio({"append", path, "--create", "--capacity=4096"},
                               "0a0b\n0c0d0e\n0f\n");
    EXPECT_EQ(made.exit_code, 0) << made.err;
    return path;
  }

  // Runs `args` and expects `exit_code`, stderr naming `path`, and `path`
  // (and `also_unchanged`, if given) left as they were.
  void ExpectFails(const std::vector<std::string>& args, int exit_code,
                   const std::string& path, const std::string& stdin_data = "",
                   bool as_nobody = false) {
    FileState before = Snapshot(path);
    ProgramResult result = Shmio(args, stdin_data, as_nobody);
    if (!result.skipped.empty()) GTEST_SKIP() << result.skipped;
    std::string command = absl::StrCat("shmio ", args[0]);
    EXPECT_EQ(result.exit_code, exit_code)
        << command << ": stderr: " << result.err;
    EXPECT_THAT(result.err, HasSubstr(path)) << command;
    EXPECT_EQ(Snapshot(path), before) << command << " changed " << path;
  }

  std::vector<std::string> cleanup_;
};

const std::vector<std::string> kReadCommands = {"stat", "dump", "verify"};

TEST_F(BadInputCliTest, DirectoryIsExit1ForEveryCommand) {
  std::string dir = Path("dir");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  for (const std::string& command : kReadCommands) {
    ExpectFails({command, dir}, 1, dir);
  }
  ExpectFails({"append", dir, "--create", "--capacity=4096"}, 1, dir, "00\n");
}

// open(2) of a FIFO blocks until someone opens its other end: every
// command used to hang on one. Each now says it is not a regular file.
TEST_F(BadInputCliTest, FifoIsExit1ForEveryCommandWithoutBlocking) {
  std::string fifo = Path("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"stat", fifo},
                                             {"dump", fifo},
                                             {"verify", fifo},
                                             {"tail", fifo},
                                             {"tail", fifo, "-f"},
                                             {"append", fifo},
                                             {"append", fifo, "--create", "--capacity=4096"}}) {
    ProgramResult result = Shmio(args, "00\n");
    EXPECT_EQ(result.exit_code, 1) << "shmio " << args[0] << ": " << result.err;
    EXPECT_THAT(result.err, HasSubstr(fifo));
    EXPECT_THAT(result.err, HasSubstr("not a regular file"));
  }
  struct stat st;
  ASSERT_EQ(lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO was replaced";
}

TEST_F(BadInputCliTest, MissingParentDirectoryIsExit1AndCreatesNothing) {
  std::string parent = Path("no-such-dir");
  std::string path = absl::StrCat(parent, "/log.shm");
  for (const std::string& command : kReadCommands) {
    ExpectFails({command, path}, 1, path);
  }
  ExpectFails({"append", path, "--create", "--capacity=4096"}, 1, path, "00\n");
  EXPECT_FALSE(Snapshot(parent).exists);
}

TEST_F(BadInputCliTest, NoPermissionIsExit1AndTouchesNothing) {
  if (getuid() != 0) GTEST_SKIP() << "needs root to switch to another user";
  std::string path = MakeLog("private");
  ASSERT_EQ(chmod(path.c_str(), 0600), 0);
  for (const std::string& command : kReadCommands) {
    ExpectFails({command, path}, 1, path, "", /*as_nobody=*/true);
  }
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  ExpectFails({"append", path}, 1, path, "00\n", /*as_nobody=*/true);
}

TEST_F(BadInputCliTest, DamagedHeaderWordsAreExit1) {
  struct Case {
    const char* name;
    uint64_t offset;
    uint64_t value;
  };
  for (const Case& c : std::vector<Case>{
           {"header-size", shmio::format::kHeaderSizeOffset, 4242},
           {"data-offset", shmio::format::kDataOffsetOffset, 1 << 20},
           {"committed", shmio::format::kCommittedOffset, 1 << 20}}) {
    SCOPED_TRACE(c.name);
    std::string path = MakeLog(c.name);
    WriteU64At(path, c.offset, c.value);
    for (const std::string& command : kReadCommands) {
      ExpectFails({command, path}, 1, path);
    }
    ExpectFails({"append", path}, 1, path, "00\n");
  }
}

TEST_F(BadInputCliTest, BadGeometryOptionsCreateNothing) {
  const std::vector<std::vector<std::string>> cases = {
      {"--size=0", "--num=4"},
      {"--size=4096", "--num=0"},
      {"--size=4096", "--num=4", "--overlap=4096"},
      {"--size=8589934592", "--num=4294967296"},
      {"--capacity=10"},
  };
  for (const std::vector<std::string>& options : cases) {
    SCOPED_TRACE(options[0]);
    std::string path = Path("bad-options");
    std::vector<std::string> args = {"append", path, "--create"};
    args.insert(args.end(), options.begin(), options.end());
    // The flags parse; the library refuses their values (InvalidArgument,
    // before touching the disk), which the CLI reports as exit 1.
    ExpectFails(args, 1, path, "00\n");
    EXPECT_FALSE(Snapshot(path).exists);
  }
}

TEST_F(BadInputCliTest, PayloadOver65531BytesIsExit1AndWritesNothing) {
  std::string path = Path("big");
  ASSERT_EQ(Shmio({"append", path, "--create", "--capacity=262144"}, "00\n")
                .exit_code,
            0);
  std::string line(2 * (shmio::format::kMaxPayload + 1), 'a');  // hex
  FileState before = Snapshot(path);
  ProgramResult result = Shmio({"append", path}, line + "\n");
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_THAT(result.err, HasSubstr(path));
  EXPECT_THAT(result.err, HasSubstr("line 1"));
  // The writer opened the log before the line was refused, and a writer
  // records its pid in the extension (informational, format.h offset 72);
  // every other byte must be as it was.
  FileState after = Snapshot(path);
  for (FileState* state : {&before, &after}) {
    ASSERT_GE(state->bytes.size(), shmio::format::kWriterPidOffset + 8);
    std::fill_n(state->bytes.begin() + shmio::format::kWriterPidOffset, 8, 0);
  }
  EXPECT_EQ(after, before);
}

TEST_F(BadInputCliTest, CapacityLargerThanDevShmIsExit1AndLeavesNoFile) {
  struct statvfs vfs;
  ASSERT_EQ(statvfs("/dev/shm", &vfs), 0);
  uint64_t too_big =
      static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize + (uint64_t{1} << 30);
  std::string path = Path("too-big");
  ExpectFails({"append", path, "--create", absl::StrCat("--capacity=", too_big)},
              1, path, "00\n");
  EXPECT_FALSE(Snapshot(path).exists);
}

}  // namespace
}  // namespace shmio_reliability
