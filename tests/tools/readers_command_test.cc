// `shmio readers DIR [--json]`, `--remove NAME` and `--reset NAME
// --to=POSITION`: the named readers of a chain made through the C++ API,
// one of them alive in a child process, as the CLI lists and changes them.
#include <signal.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "shmio/chain_consumer.h"
#include "shmio/chain_writer.h"
#include "tests/tools/cli_test_support.h"

namespace shmio::cli_test {
namespace {

class ReadersCommandTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempPath("chain");
    ChainOptions options;
    options.directory = dir_;
    options.create = true;
    options.file_capacity = 4096;
    auto writer = ChainWriter::Open(options);
    ASSERT_TRUE(writer.ok()) << writer.status();
    writer_ = *std::move(writer);
    for (int i = 0; i < 500; ++i) {
      ASSERT_TRUE(writer_->Append(std::vector<uint8_t>(20, static_cast<uint8_t>(i))).ok());
      ASSERT_TRUE(writer_->Commit().ok());
    }
  }

  // A named reader that read and acknowledged `frames` frames, then closed.
  uint64_t AckAfter(const std::string& name, size_t frames) {
    auto reader = ChainConsumer::OpenNamed(dir_, name);
    EXPECT_TRUE(reader.ok()) << reader.status();
    auto batch = (*reader)->Next({frames, SIZE_MAX});
    EXPECT_TRUE(batch.ok());
    EXPECT_TRUE((*reader)->Ack().ok());
    return (*reader)->cursor();
  }

  std::string dir_;
  std::unique_ptr<ChainWriter> writer_;
};

TEST_F(ReadersCommandTest, ListsEachReaderWithPositionLagAndLiveness) {
  CliResult none = RunShmio({"readers", dir_});
  EXPECT_EQ(none.exit_code, 0) << none.Describe();
  EXPECT_EQ(none.out, "");
  const uint64_t at = AckAfter("billing", 100);
  CliResult listed = RunShmio({"readers", dir_});
  ASSERT_EQ(listed.exit_code, 0) << listed.Describe();
  const uint64_t end = writer_->GetSize().committed;
  EXPECT_TRUE(absl::StartsWith(listed.out, absl::StrCat("billing position=", at, " lag_bytes=",
                                                        end - at, " lag_frames=400 dead pid=",
                                                        getpid(), " acked_at=20")))
      << listed.out;
  CliResult json = RunShmio({"readers", dir_, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.Describe();
  EXPECT_TRUE(absl::StartsWith(json.out, absl::StrCat("[{\"name\":\"billing\",\"position\":", at,
                                                      ",\"lag_bytes\":", end - at,
                                                      ",\"lag_frames\":400,\"alive\":false")))
      << json.out;
}

TEST_F(ReadersCommandTest, ALiveReaderIsShownAliveAndCannotBeRemovedOrReset) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  if (child == 0) {
    auto reader = ChainConsumer::OpenNamed(dir_, "live");
    char byte = reader.ok() ? 'y' : 'n';
    (void)!write(ready[1], &byte, 1);
    pause();
    _exit(0);
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');
  CliResult listed = RunShmio({"readers", dir_});
  EXPECT_TRUE(absl::StrContains(listed.out, absl::StrCat(" alive pid=", child))) << listed.out;
  CliResult removed = RunShmio({"readers", dir_, "--remove", "live"});
  EXPECT_EQ(removed.exit_code, 1) << removed.Describe();
  EXPECT_TRUE(absl::StrContains(removed.err, absl::StrCat("pid ", child))) << removed.err;
  CliResult reset = RunShmio({"readers", dir_, "--reset", "live", "--to=0"});
  EXPECT_EQ(reset.exit_code, 1) << reset.Describe();
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  close(ready[0]);
  close(ready[1]);
  listed = RunShmio({"readers", dir_});
  EXPECT_TRUE(absl::StrContains(listed.out, " dead pid=")) << listed.out;
}

TEST_F(ReadersCommandTest, ResetMovesAReaderAndRemoveForgetsIt) {
  AckAfter("audit", 300);
  CliResult reset = RunShmio({"readers", dir_, "--reset", "audit", "--to=0"});
  ASSERT_EQ(reset.exit_code, 0) << reset.Describe();
  auto reader = ChainConsumer::OpenNamed(dir_, "audit");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->cursor(), 0u);
  reader->reset();
  CliResult odd = RunShmio({"readers", dir_, "--reset", "audit", "--to=3"});
  EXPECT_EQ(odd.exit_code, 1) << "not a frame boundary: " << odd.Describe();
  CliResult removed = RunShmio({"readers", dir_, "--remove=audit"});
  ASSERT_EQ(removed.exit_code, 0) << removed.Describe();
  EXPECT_EQ(RunShmio({"readers", dir_}).out, "");
  CliResult unknown = RunShmio({"readers", dir_, "--remove", "nobody"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(unknown.err, "no reader is named \"nobody\"")) << unknown.err;
  CliResult usage = RunShmio({"readers", dir_, "--reset", "audit"});
  EXPECT_EQ(usage.exit_code, 2) << usage.Describe();
}

}  // namespace
}  // namespace shmio::cli_test
