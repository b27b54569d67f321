// Errors reach the error callback with a Status naming the file and the
// offset reached, after every frame committed before the problem: a file
// removed, renamed or replaced while watched (once its writer has let go:
// until then it is followed like `tail -f` follows a descriptor), damage
// below a validated committed value, a log re-created smaller in place. The
// loop keeps running, and the subscription reports once and then delivers
// nothing more. Damage past the last validated frame is not an error that
// stops a follower: it is noticed, once.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "shmio/format.h"
#include "tests/uvwatch/uv_test_util.h"
#include "uvwatch/subscription.h"

namespace uvwatch_test {
namespace {

using uvwatch::Mode;
using uvwatch::Subscription;

class FileErrorsTest : public LoopTest,
                       public ::testing::WithParamInterface<Mode> {
 protected:
  uvwatch::Options Options() {
    uvwatch::Options options;
    options.mode = GetParam();
    options.poll_interval_ms = 1;
    options.safety_interval_ms = 30000;  // inotify must wake on its own
    return options;
  }

  // Runs the loop until `got` has an error, then a few more turns, and
  // checks there was exactly one and that it names the file.
  void ExpectOneErrorNamingTheFile(Recorder& got, const std::string& path,
                                   absl::StatusCode code) {
    RunUntil([&] { return !got.errors.empty(); }, "the error callback");
    RunTurns(5);
    ASSERT_EQ(got.errors.size(), 1u);
    EXPECT_EQ(got.errors[0].code(), code) << got.errors[0];
    EXPECT_TRUE(absl::StrContains(got.errors[0].message(), path))
        << got.errors[0];
    EXPECT_TRUE(absl::StrContains(got.errors[0].message(), "offset"))
        << got.errors[0];
  }

  // The loop still serves other handles after an error.
  void ExpectTheLoopKeepsRunning() {
    struct Tick {
      uv_timer_t timer;
      bool fired = false;
    } tick;
    uv_timer_init(&loop_, &tick.timer);
    tick.timer.data = &tick;
    uv_timer_start(
        &tick.timer,
        [](uv_timer_t* t) { static_cast<Tick*>(t->data)->fired = true; }, 1, 0);
    RunUntil([&] { return tick.fired; }, "another timer after the error");
    uv_close(reinterpret_cast<uv_handle_t*>(&tick.timer), nullptr);
    RunTurns(1);
  }
};

TEST_P(FileErrorsTest, RemovedFileIsFollowedUntilItsWriterLetsGoThenReported) {
  ShmFile file("removed");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 20);

  Recorder got;
  Subscription* self = nullptr;
  bool closed = false;
  auto sub = Subscription::Open(
      &loop_, file.path(), Options(), got.OnBatch(),
      [&](const absl::Status& error) {
        got.errors.push_back(error);
        self->Close([&closed] { closed = true; });
      });
  ASSERT_TRUE(sub.ok()) << sub.status();
  self = *sub;
  RunUntil([&] { return got.numbers.size() >= 20; }, "frames before removal");
  RunTurns(2);
  ASSERT_EQ(unlink(file.path().c_str()), 0);
  // The writer still holds the unlinked file and commits on: followed.
  writer->Commit(20, 20);
  RunUntil([&] { return got.numbers.size() >= 40; }, "frames after removal");
  EXPECT_TRUE(got.errors.empty()) << got.errors[0];
  ASSERT_EQ(writer->Finish(), 0);
  ExpectOneErrorNamingTheFile(got, file.path(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(got.errors[0].message(), "removed"));
  RunUntil([&] { return closed; }, "close from the error callback");
  ExpectTheLoopKeepsRunning();
  EXPECT_TRUE(got.IsRun(0, 40));
}

TEST_P(FileErrorsTest, RenamedFileIsFollowedWhileItsWriterCommits) {
  ShmFile file("renamed");
  ShmFile moved("renamed-to");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 10);
  Recorder got;
  auto sub = Subscription::Open(&loop_, file.path(), Options(), got.OnBatch(),
                                got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  RunUntil([&] { return got.numbers.size() >= 10; }, "frames before the rename");
  RunTurns(2);
  ASSERT_EQ(rename(file.path().c_str(), moved.path().c_str()), 0);
  for (uint64_t n = 10; n < 1000; n += 10) writer->Commit(n, 10);
  RunUntil([&] { return got.numbers.size() >= 1000; }, "frames after the rename");
  EXPECT_TRUE(got.errors.empty()) << got.errors[0];
  ASSERT_EQ(writer->Finish(), 0);
  ExpectOneErrorNamingTheFile(got, file.path(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(got.errors[0].message(), "renamed"));
  EXPECT_TRUE(got.IsRun(0, 1000)) << got.numbers.size() << " frames";
  CloseAndWait(*sub);
}

TEST_P(FileErrorsTest, FramesCommittedBeforeRemovalAreDeliveredFirst) {
  ShmFile file("removed-pending");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  Recorder got;
  uvwatch::Options options = Options();
  options.max_frames_per_batch = 10;
  auto sub = Subscription::Open(&loop_, file.path(), options, got.OnBatch(),
                                got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  RunTurns(2);
  writer->Commit(0, 100);
  ASSERT_EQ(unlink(file.path().c_str()), 0);
  writer->Kill();  // no writer holds it any more
  ExpectOneErrorNamingTheFile(got, file.path(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(got.IsRun(0, 100)) << got.numbers.size() << " frames";
  CloseAndWait(*sub);
}

TEST_P(FileErrorsTest, ReplacedFileIsFollowedUntilItsWriterLetsGoThenReported) {
  ShmFile file("replaced");
  ShmFile other("replacement");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 5);
  auto other_writer = ChildWriter::Start(other.path());
  ASSERT_NE(other_writer, nullptr);

  Recorder got;
  auto sub = Subscription::Open(&loop_, file.path(), Options(), got.OnBatch(),
                                got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  RunUntil([&] { return got.numbers.size() >= 5; }, "frames before");
  RunTurns(2);
  ASSERT_EQ(rename(other.path().c_str(), file.path().c_str()), 0);
  writer->Commit(5, 5);  // into the old, unlinked file, still followed
  RunUntil([&] { return got.numbers.size() >= 10; }, "frames into the old file");
  EXPECT_TRUE(got.errors.empty()) << got.errors[0];
  other_writer->Commit(0, 3);  // the new file at the path: not this one's
  writer->Kill();
  ExpectOneErrorNamingTheFile(got, file.path(),
                              absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(got.errors[0].message(), "replaced"));
  EXPECT_TRUE(got.IsRun(0, 10));
  CloseAndWait(*sub);
}

// Damage past the last validated frame looks like a committed value that is
// not on a frame boundary (as a Node writer stopped mid-store leaves): never
// delivered, never an error that stops the follower, said once.
TEST_P(FileErrorsTest, DamageInAnUnvalidatedRangeIsNoticedOnceAndNeverDelivered) {
  ShmFile file("damaged");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 10);  // 16-byte payloads: frames of 20 bytes
  writer->Kill();
  // Frame 5's leading size now claims a frame far past `committed`.
  int fd = open(file.path().c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  uint8_t size[2];
  shmio::format::EncodeU16(size, 60000);
  ASSERT_EQ(pwrite(fd, size, 2, shmio::format::kExtendedDataOffset + 5 * 20),
            2);
  close(fd);

  Recorder got;
  std::vector<absl::Status> notices;
  uvwatch::Options options = Options();
  options.on_notice = [&](const absl::Status& notice) { notices.push_back(notice); };
  auto sub = Subscription::Open(&loop_, file.path(), options, got.OnBatch(),
                                got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  RunUntil([&] { return !notices.empty(); }, "the notice");
  RunFor(Subscription::kNoticeAfterMs / 2);
  ASSERT_EQ(notices.size(), 1u) << "noticed once";
  EXPECT_TRUE(absl::StrContains(notices[0].message(), file.path())) << notices[0];
  EXPECT_TRUE(absl::StrContains(
      notices[0].message(),
      absl::StrCat("offset ", shmio::format::kExtendedDataOffset + 5 * 20)))
      << notices[0];
  EXPECT_TRUE(got.errors.empty()) << got.errors[0];
  EXPECT_TRUE(got.numbers.empty()) << "frames of an unvalidated range delivered";
  ExpectTheLoopKeepsRunning();
  CloseAndWait(*sub);
}

// Damage below a committed value already validated is DataLoss at once,
// after the frames before it.
TEST_P(FileErrorsTest, DamageBelowAValidatedCommittedIsDataLoss) {
  ShmFile file("damaged-validated");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 10);  // frames of 20 bytes
  writer->Kill();
  Recorder got;
  uvwatch::Options options = Options();
  options.max_frames_per_batch = 2;  // frame 5 is read on a later turn
  bool damaged = false;
  auto sub = Subscription::Open(
      &loop_, file.path(), options,
      [&](const shmio::Batch& batch) {
        got.Record(batch);
        if (damaged) return;
        // The first batch validated committed = 10 frames; damage frame 5.
        damaged = true;
        int fd = open(file.path().c_str(), O_RDWR | O_CLOEXEC);
        ASSERT_GE(fd, 0);
        uint8_t size[2];
        shmio::format::EncodeU16(size, 60000);
        ASSERT_EQ(pwrite(fd, size, 2, shmio::format::kExtendedDataOffset + 5 * 20), 2);
        close(fd);
      },
      got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  ExpectOneErrorNamingTheFile(got, file.path(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(got.IsRun(0, 5)) << got.numbers.size() << " frames";
  ExpectTheLoopKeepsRunning();
  CloseAndWait(*sub);
}

TEST_P(FileErrorsTest, LogRecreatedSmallerInPlaceIsReported) {
  ShmFile file("smaller");
  auto writer = ChildWriter::Start(file.path(), 1 << 20);
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 100);
  Recorder got;
  auto sub = Subscription::Open(&loop_, file.path(), Options(), got.OnBatch(),
                                got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  RunUntil([&] { return got.numbers.size() >= 100; }, "frames before");
  RunTurns(2);
  writer->Kill();

  // Same inode, emptied and re-created smaller by a new writer.
  ASSERT_EQ(truncate(file.path().c_str(), 0), 0);
  ASSERT_EQ(truncate(file.path().c_str(), 16384), 0);
  auto smaller = ChildWriter::Start(file.path(), 16384);
  ASSERT_NE(smaller, nullptr);
  smaller->Commit(0, 3);
  ExpectOneErrorNamingTheFile(got, file.path(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(got.IsRun(0, 100));
  CloseAndWait(*sub);
}

// open(2) of a FIFO blocks: Subscription::Open used to hang on one.
TEST_P(FileErrorsTest, FifoAtThePathIsRefusedWithoutBlocking) {
  ShmFile file("fifo");
  ASSERT_EQ(mkfifo(file.path().c_str(), 0644), 0);
  Recorder got;
  auto sub = Subscription::Open(&loop_, file.path(), Options(), got.OnBatch(),
                                got.OnError());
  ASSERT_FALSE(sub.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(sub.status())) << sub.status();
  EXPECT_TRUE(absl::StrContains(sub.status().message(), "not a regular file"))
      << sub.status();
  RunTurns(1);
}

INSTANTIATE_TEST_SUITE_P(Modes, FileErrorsTest,
                         ::testing::Values(Mode::kTimer, Mode::kInotify),
                         [](const ::testing::TestParamInfo<Mode>& info) {
                           return std::string(uvwatch::ModeName(info.param));
                         });

}  // namespace
}  // namespace uvwatch_test
