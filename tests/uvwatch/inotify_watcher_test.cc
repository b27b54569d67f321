// Inotify mode: the reader sleeps on the file's inotify events and the
// writer's doorbell wakes it. The safety timer is set far beyond the test's
// wait, so frames that arrive came through the doorbell. The writer (in
// another process) rings only while a reader is armed.
#include "gtest/gtest.h"
#include "tests/uvwatch/uv_test_util.h"
#include "uvwatch/subscription.h"

namespace uvwatch_test {
namespace {

using uvwatch::Mode;
using uvwatch::Subscription;

constexpr uint64_t kSafetyFarAwayMs = 30000;  // > kWaitBoundMs
static_assert(kSafetyFarAwayMs > kWaitBoundMs);

class InotifyWatcherTest : public LoopTest {
 protected:
  uvwatch::Options InotifyOptions() {
    uvwatch::Options options;
    options.mode = Mode::kInotify;
    options.safety_interval_ms = kSafetyFarAwayMs;
    return options;
  }
};

TEST_F(InotifyWatcherTest, WakesFromTheDoorbellAlone) {
  ShmFile file("inotify-wake");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 10);

  Recorder got;
  auto sub = Subscription::Open(&loop_, file.path(), InotifyOptions(),
                                got.OnBatch(), got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ((*sub)->mode(), Mode::kInotify);
  RunUntil([&] { return got.numbers.size() >= 10; }, "the first 10 frames");
  RunTurns(2);
  EXPECT_EQ(ReadArmedWord(file.path()), 1u) << "the reader sleeps armed";

  for (uint64_t round = 1; round <= 5; ++round) {
    EXPECT_EQ(writer->Commit(10 * round, 10), round) << "one ring per wake-up";
    RunUntil([&] { return got.numbers.size() >= 10 * (round + 1); },
             "frames woken by the doorbell (safety timer is 30 s away)");
  }
  EXPECT_TRUE(got.IsRun(0, 60));
  EXPECT_TRUE(got.errors.empty());
  EXPECT_EQ(writer->Finish(), 0);
  CloseAndWait(*sub);
}

TEST_F(InotifyWatcherTest, WriterRingsOnlyWhileAReaderIsArmed) {
  ShmFile file("inotify-rings");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  // No reader at all: commits make no syscall.
  EXPECT_EQ(writer->Commit(0, 5), 0u);
  EXPECT_EQ(writer->Commit(5, 5), 0u);

  // A polling reader never arms the doorbell either.
  Recorder polled;
  uvwatch::Options timer;
  timer.mode = Mode::kTimer;
  timer.poll_interval_ms = 1;
  auto poller = Subscription::Open(&loop_, file.path(), timer,
                                   polled.OnBatch(), polled.OnError());
  ASSERT_TRUE(poller.ok()) << poller.status();
  RunUntil([&] { return polled.numbers.size() >= 10; }, "polled frames");
  EXPECT_EQ(writer->Commit(10, 5), 0u);
  CloseAndWait(*poller);

  // An inotify reader that has read everything sleeps armed: the next
  // commit rings once, and commits made before it wakes and re-arms do not
  // ring again.
  Recorder got;
  auto sub = Subscription::Open(&loop_, file.path(), InotifyOptions(),
                                got.OnBatch(), got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  RunUntil([&] { return got.numbers.size() >= 15; }, "frames committed so far");
  RunTurns(2);
  ASSERT_EQ(ReadArmedWord(file.path()), 1u);
  EXPECT_EQ(writer->Commit(15, 5), 1u);
  EXPECT_EQ(ReadArmedWord(file.path()), 0u) << "ringing disarms";
  EXPECT_EQ(writer->Commit(20, 5), 1u);
  EXPECT_EQ(writer->Commit(25, 5), 1u);
  RunUntil([&] { return got.numbers.size() >= 30; }, "frames after one ring");
  RunTurns(2);
  EXPECT_EQ(ReadArmedWord(file.path()), 1u) << "re-armed before sleeping";
  EXPECT_EQ(writer->Commit(30, 5), 2u);
  RunUntil([&] { return got.numbers.size() >= 35; }, "frames after a ring");
  EXPECT_TRUE(got.IsRun(0, 35));
  EXPECT_EQ(writer->Finish(), 0);
  CloseAndWait(*sub);
}

TEST_F(InotifyWatcherTest, AutoModeChoosesInotifyForAFileWithADoorbell) {
  ShmFile file("inotify-auto");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  Recorder got;
  uvwatch::Options options;  // mode kAuto by default
  options.safety_interval_ms = kSafetyFarAwayMs;
  auto sub = Subscription::Open(&loop_, file.path(), options, got.OnBatch(),
                                got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ((*sub)->mode(), Mode::kInotify);
  RunTurns(2);
  writer->Commit(0, 3);
  RunUntil([&] { return got.numbers.size() >= 3; }, "frames in auto mode");
  EXPECT_TRUE(got.IsRun(0, 3));
  CloseAndWait(*sub);
}

}  // namespace
}  // namespace uvwatch_test
