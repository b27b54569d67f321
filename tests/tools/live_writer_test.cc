// The CLI against a live writer: `shmio append` running as a child process,
// blocked on its stdin pipe, while other shmio processes read the log.
#include <signal.h>
#include <unistd.h>

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/tools/cli_test_support.h"

namespace shmio::cli_test {
namespace {

constexpr uint64_t kCommittedOffset = 16;

class LiveWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = TempPath("log.shm");
    CliResult created =
        RunShmio({"append", path_, "--create", "--capacity=4096"}, "");
    ASSERT_EQ(created.exit_code, 0) << created.Describe();
    data_offset_ = ReadU64At(path_, 8);
  }

  // Waits until the log's committed value is `committed`.
  void WaitForCommitted(uint64_t committed) {
    ASSERT_TRUE(WaitUntil([&] { return ReadU64At(path_, kCommittedOffset) == committed; }))
        << "committed stayed at " << ReadU64At(path_, kCommittedOffset)
        << ", expected " << committed;
  }

  std::string path_;
  uint64_t data_offset_ = 0;
};

TEST_F(LiveWriterTest, StatShowsThePidOfTheLiveWriter) {
  ShmioProcess writer({"append", path_});
  ASSERT_TRUE(writer.WriteStdin("aa\n"));
  // The writer has committed the line, so it holds the lock, and now waits
  // on its stdin for more.
  WaitForCommitted(data_offset_ + 5);

  CliResult during = RunShmio({"stat", path_});
  CliResult during_json = RunShmio({"stat", path_, "--json"});
  CliResult finished = writer.Finish();
  CliResult after = RunShmio({"stat", path_});

  ASSERT_EQ(during.exit_code, 0) << during.Describe();
  EXPECT_EQ(ParseKeyValues(during.out)["writer"], absl::StrCat(writer.pid()));
  EXPECT_NE(during_json.out.find(absl::StrCat("\"writer\":", writer.pid(), "}")),
            std::string::npos)
      << during_json.out;
  EXPECT_EQ(finished.exit_code, 0) << finished.Describe();
  EXPECT_EQ(ParseKeyValues(after.out)["writer"], "none");
  EXPECT_EQ(ParseKeyValues(after.out)["frames"], "1");
}

TEST_F(LiveWriterTest, SecondWriterIsRefusedNamingTheHolder) {
  ShmioProcess writer({"append", path_});
  ASSERT_TRUE(writer.WriteStdin("aa\n"));
  WaitForCommitted(data_offset_ + 5);

  CliResult second = RunShmio({"append", path_}, "bb\n");
  CliResult first = writer.Finish("cc\n");

  EXPECT_EQ(second.exit_code, 1) << second.Describe();
  EXPECT_NE(second.err.find(path_), std::string::npos) << second.err;
  EXPECT_NE(second.err.find(absl::StrCat(writer.pid())), std::string::npos)
      << second.err;
  EXPECT_EQ(first.exit_code, 0) << first.Describe();
  EXPECT_EQ(RunShmio({"dump", path_}).out, "aa\ncc\n");
}

TEST_F(LiveWriterTest, ReadersSeeEachBatchOnceItIsCommitted) {
  ShmioProcess writer({"append", path_, "--batch=2"});
  ASSERT_TRUE(writer.WriteStdin("01\n02\n"));
  // A full batch is committed while the writer still runs.
  WaitForCommitted(data_offset_ + 10);
  EXPECT_EQ(RunShmio({"dump", path_}).out, "01\n02\n");

  ASSERT_TRUE(writer.WriteStdin("03\n"));
  // Line 3 is appended (its frame's bytes appear after the committed size)
  // but, half a batch, not committed.
  uint64_t third = data_offset_ + 10;
  ASSERT_TRUE(WaitUntil([&] {
    return ReadU16At(path_, third) == 5 && ReadU16At(path_, third + 2) == 0x0503;
  }));
  CliResult dumped = RunShmio({"dump", path_});
  writer.KillAndReap(SIGKILL);

  EXPECT_EQ(dumped.out, "01\n02\n");
  EXPECT_EQ(ReadU64At(path_, kCommittedOffset), data_offset_ + 10);
  EXPECT_EQ(RunShmio({"dump", path_}).out, "01\n02\n");
  EXPECT_EQ(RunShmio({"verify", path_}).out, "ok: 2 frames, 10 bytes\n");
}

TEST_F(LiveWriterTest, NewWriterAfterAKilledOneContinuesAtCommitted) {
  ShmioProcess writer({"append", path_});
  ASSERT_TRUE(writer.WriteStdin("01\n"));
  WaitForCommitted(data_offset_ + 5);
  writer.KillAndReap(SIGKILL);

  CliResult next = RunShmio({"append", path_}, "02\n");

  ASSERT_EQ(next.exit_code, 0) << next.Describe();
  EXPECT_EQ(RunShmio({"dump", path_}).out, "01\n02\n");
}

TEST_F(LiveWriterTest, WriterWhoseFileShrinksExitsOneInsteadOfCrashing) {
  ShmioProcess writer({"append", path_});
  ASSERT_TRUE(writer.WriteStdin("01\n"));
  WaitForCommitted(data_offset_ + 5);
  // Another process truncates the log under the writer's mapping: its next
  // append touches a page past the end of the file (SIGBUS).
  ASSERT_EQ(::truncate(path_.c_str(), 0), 0);

  CliResult result = writer.Finish("02\n");

  EXPECT_TRUE(result.exited) << result.Describe();
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find(path_), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("shrank"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace shmio::cli_test
