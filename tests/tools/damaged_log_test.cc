// One-shot commands (stat, dump, verify) on files that are not healthy
// logs: a committed value that does not validate is looked at again for a
// bounded time (seconds: a Node.js writer stopped in the middle of its
// byte-by-byte store may complete it) and then reported, naming the value
// and the possibility of such a writer (exit 1, never a hang or a signal);
// a file shorter than the header is not a log; an all-zero header is an
// empty log.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
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

// Runs every one-shot command on `path` at once (each may wait out its
// bounded settling time) and returns what each printed.
std::vector<CliResult> RunEveryCommand(const std::string& path) {
  std::vector<std::unique_ptr<ShmioProcess>> running;
  for (const std::vector<std::string>& command : kOneShotCommands) {
    running.push_back(std::make_unique<ShmioProcess>(With(command, path)));
  }
  std::vector<CliResult> results;
  for (auto& process : running) results.push_back(process->Finish());
  return results;
}

// Runs every one-shot command on `path` and expects exit 1 with an error
// on stderr naming the file and each of `words`.
void ExpectEveryCommandFails(const std::string& path, const std::string& why,
                             const std::vector<std::string>& words = {}) {
  std::vector<CliResult> results = RunEveryCommand(path);
  for (size_t i = 0; i < results.size(); ++i) {
    const CliResult& result = results[i];
    SCOPED_TRACE(absl::StrCat(why, ": shmio ", kOneShotCommands[i][0]));
    EXPECT_FALSE(result.timed_out);
    EXPECT_TRUE(result.exited) << result.Describe();
    EXPECT_EQ(result.exit_code, 1) << result.Describe();
    EXPECT_NE(result.err.find(path), std::string::npos) << result.err;
    for (const std::string& word : words) {
      EXPECT_NE(result.err.find(word), std::string::npos) << result.err;
    }
  }
}

// What a committed value that never validates is reported with.
const std::vector<std::string> kNodeWriterHint = {"Node.js writer",
                                                  "middle of a commit"};

TEST(DamagedLogTest, CommittedBeyondTheFileIsDamage) {
  std::string path = CopyNodeFixture("basic.shm");
  WriteU64At(path, kCommittedOffset, 1 << 20);

  ExpectEveryCommandFails(path, "committed past the end of the file",
                          kNodeWriterHint);
}

TEST(DamagedLogTest, CommittedOffAFrameBoundaryIsDamage) {
  NodeManifest manifest = LoadNodeManifest();
  std::string path = CopyNodeFixture("basic.shm");
  WriteU64At(path, kCommittedOffset, manifest.committed_size - 1);

  ExpectEveryCommandFails(path, "committed inside the last frame", kNodeWriterHint);
}

TEST(DamagedLogTest, CommittedInsideTheUncommittedTailIsDamage) {
  NodeManifest manifest = LoadNodeManifest();
  std::string path = CopyNodeFixture("basic.shm");
  // Past the last committed frame, inside uncommitted frame 153.
  WriteU64At(path, kCommittedOffset, manifest.committed_size + 10);

  ExpectEveryCommandFails(path, "committed inside an uncommitted frame",
                          kNodeWriterHint);
}

TEST(DamagedLogTest, CommittedBelowTheDataOffsetIsDamage) {
  std::string path = CopyNodeFixture("basic.shm");
  WriteU64At(path, kCommittedOffset, 3);

  ExpectEveryCommandFails(path, "committed before the data offset", kNodeWriterHint);
}

// A Node.js writer stopped between two of its byte stores of `committed`
// (here: the value stuck inside the last frame) for much longer than a torn
// read lasts: a one-shot command waits for it, and once the store
// completes, reads the log whole. (It used to call the log damaged after
// 20 ms.)
TEST(DamagedLogTest, OneShotCommandsWaitOutAWriterStoppedMidCommit) {
  NodeManifest manifest = LoadNodeManifest();
  std::string path = CopyNodeFixture("basic.shm");
  WriteU64At(path, kCommittedOffset, manifest.committed_size - 1);
  std::vector<std::unique_ptr<ShmioProcess>> running;
  for (const std::vector<std::string>& command : kOneShotCommands) {
    running.push_back(std::make_unique<ShmioProcess>(With(command, path)));
  }
  absl::SleepFor(absl::Milliseconds(300));  // the writer stays stopped
  WriteU64At(path, kCommittedOffset, manifest.committed_size);  // and resumes
  for (size_t i = 0; i < running.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("shmio ", kOneShotCommands[i][0]));
    CliResult result = running[i]->Finish();
    EXPECT_EQ(result.exit_code, 0) << result.Describe();
  }
  CliResult verify = RunShmio({"verify", path});
  EXPECT_EQ(verify.out, absl::StrCat("ok: ", manifest.committed_frames, " frames, ",
                                     manifest.committed_size - 24, " bytes\n"));
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
