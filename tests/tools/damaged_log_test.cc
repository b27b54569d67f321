// One-shot commands (stat, dump, verify) on files that are not healthy
// logs: a bad committed value is re-read briefly and then reported as
// damage (exit 1, never a hang or a signal); a file shorter than the header
// is not a log; an all-zero header is an empty log.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/tools/cli_test_support.h"

namespace shmio::cli_test {
namespace {

constexpr uint64_t kCommittedOffset = 16;

const std::vector<std::vector<std::string>> kOneShotCommands = {
    {"stat"}, {"dump"}, {"verify"}, {"dump", "--reverse"}, {"stat", "--json"}};

std::vector<std::string> With(std::vector<std::string> command,
                              const std::string& path) {
  command.insert(command.begin() + 1, path);
  return command;
}

// Runs every one-shot command on `path` and expects exit 1 with an error
// on stderr naming the file.
void ExpectEveryCommandFails(const std::string& path, const std::string& why) {
  for (const std::vector<std::string>& command : kOneShotCommands) {
    CliResult result = RunShmio(With(command, path));
    SCOPED_TRACE(absl::StrCat(why, ": shmio ", command[0]));
    EXPECT_FALSE(result.timed_out);
    EXPECT_TRUE(result.exited) << result.Describe();
    EXPECT_EQ(result.exit_code, 1) << result.Describe();
    EXPECT_NE(result.err.find(path), std::string::npos) << result.err;
  }
}

TEST(DamagedLogTest, CommittedBeyondTheFileIsDamage) {
  std::string path = CopyNodeFixture("basic.shm");
  WriteU64At(path, kCommittedOffset, 1 << 20);

  ExpectEveryCommandFails(path, "committed past the end of the file");
}

TEST(DamagedLogTest, CommittedOffAFrameBoundaryIsDamage) {
  NodeManifest manifest = LoadNodeManifest();
  std::string path = CopyNodeFixture("basic.shm");
  WriteU64At(path, kCommittedOffset, manifest.committed_size - 1);

  ExpectEveryCommandFails(path, "committed inside the last frame");
}

TEST(DamagedLogTest, CommittedInsideTheUncommittedTailIsDamage) {
  NodeManifest manifest = LoadNodeManifest();
  std::string path = CopyNodeFixture("basic.shm");
  // Past the last committed frame, inside uncommitted frame 153.
  WriteU64At(path, kCommittedOffset, manifest.committed_size + 10);

  ExpectEveryCommandFails(path, "committed inside an uncommitted frame");
}

TEST(DamagedLogTest, CommittedBelowTheDataOffsetIsDamage) {
  std::string path = CopyNodeFixture("basic.shm");
  WriteU64At(path, kCommittedOffset, 3);

  ExpectEveryCommandFails(path, "committed before the data offset");
}

TEST(DamagedLogTest, DataOffsetBeyondTheFileIsDamage) {
  std::string path = CopyNodeFixture("basic.shm");
  WriteU64At(path, 8, 1 << 20);

  ExpectEveryCommandFails(path, "data offset past the end of the file");
}

TEST(DamagedLogTest, FileShorterThanTheHeaderIsNotALog) {
  std::string path = TempPath("short.shm");
  WriteFile(path, ReadFile(CopyNodeFixture("basic.shm")).substr(0, 23));

  ExpectEveryCommandFails(path, "23-byte file");
  CliResult result = RunShmio({"stat", path});
  EXPECT_NE(result.err.find("not a shmio log"), std::string::npos) << result.err;
}

TEST(DamagedLogTest, EmptyFileIsNotALog) {
  std::string path = TempPath("empty.shm");
  WriteFile(path, "");

  ExpectEveryCommandFails(path, "0-byte file");
}

TEST(DamagedLogTest, MissingFileFailsNamingIt) {
  ExpectEveryCommandFails(TempPath("missing.shm"), "missing file");
}

TEST(DamagedLogTest, AllZeroHeaderIsAnEmptyLog) {
  std::string path = TempPath("fresh.shm");
  WriteFile(path, std::string(4096, '\0'));

  CliResult stat = RunShmio({"stat", path});
  CliResult dump = RunShmio({"dump", path});
  CliResult reverse = RunShmio({"dump", path, "--reverse"});
  CliResult verify = RunShmio({"verify", path});

  ASSERT_EQ(stat.exit_code, 0) << stat.Describe();
  std::map<std::string, std::string> values = ParseKeyValues(stat.out);
  EXPECT_EQ(values["format"], "empty");
  EXPECT_EQ(values["frames"], "0");
  EXPECT_EQ(values["committed"], "0");
  EXPECT_EQ(values["capacity"], "4096");
  EXPECT_EQ(values["writer"], "none");
  EXPECT_EQ(dump.exit_code, 0) << dump.Describe();
  EXPECT_EQ(dump.out, "");
  EXPECT_EQ(reverse.exit_code, 0) << reverse.Describe();
  EXPECT_EQ(reverse.out, "");
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
  EXPECT_EQ(verify.out, "ok: 0 frames, 0 bytes\n");
}

TEST(DamagedLogTest, ExactlyAHeaderOfZerosIsAnEmptyLog) {
  std::string path = TempPath("header-only.shm");
  WriteFile(path, std::string(24, '\0'));

  CliResult stat = RunShmio({"stat", path});

  ASSERT_EQ(stat.exit_code, 0) << stat.Describe();
  EXPECT_EQ(ParseKeyValues(stat.out)["format"], "empty");
}

TEST(DamagedLogTest, DamagedFilesAreNotModified) {
  std::string path = CopyNodeFixture("basic.shm");
  WriteU64At(path, kCommittedOffset, 1 << 20);
  std::string before = ReadFile(path);

  ExpectEveryCommandFails(path, "committed past the end of the file");

  EXPECT_EQ(ReadFile(path), before);
}

}  // namespace
}  // namespace shmio::cli_test
