// Timer mode: the original's getAll(pollInterval). A writer in another
// process commits; a subscription on a real uv loop delivers every frame, in
// order, in batches that respect the limits, one batch per loop turn.
#include <algorithm>

#include "gtest/gtest.h"
#include "tests/uvwatch/uv_test_util.h"
#include "uvwatch/subscription.h"

namespace uvwatch_test {
namespace {

using uvwatch::Mode;
using uvwatch::Subscription;

class TimerWatcherTest : public LoopTest {
 protected:
  uvwatch::Options TimerOptions() {
    uvwatch::Options options;
    options.mode = Mode::kTimer;
    options.poll_interval_ms = 1;
    return options;
  }
};

TEST_F(TimerWatcherTest, DeliversEverythingInOrderInBatchesWithinLimits) {
  ShmFile file("timer-order");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 300);  // already there: the first callbacks deliver it

  uvwatch::Options options = TimerOptions();
  options.max_frames_per_batch = 7;
  options.max_bytes_per_batch = 100;  // 16-byte payloads: at most 6 fit
  Recorder got;
  auto sub = Subscription::Open(&loop_, file.path(), options, got.OnBatch(),
                                got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ((*sub)->mode(), Mode::kTimer);
  RunUntil([&] { return got.numbers.size() >= 300; }, "the first 300 frames");

  for (uint64_t first = 300; first < 1000; first += 100) {
    writer->Commit(first, 100);
  }
  RunUntil([&] { return got.numbers.size() >= 1000; }, "all 1000 frames");

  EXPECT_TRUE(got.IsRun(0, 1000));
  EXPECT_TRUE(got.cursors_chain);
  EXPECT_TRUE(got.errors.empty());
  for (size_t i = 0; i < got.batch_frames.size(); ++i) {
    EXPECT_GE(got.batch_frames[i], 1u);
    EXPECT_LE(got.batch_frames[i], 6u) << "batch " << i;
    EXPECT_LE(got.batch_bytes[i], 100u) << "batch " << i;
  }
  EXPECT_EQ(writer->Finish(), 0);
  CloseAndWait(*sub);
}

TEST_F(TimerWatcherTest, ABacklogComesOneBatchPerLoopTurn) {
  ShmFile file("timer-backlog");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 5000);

  // A check handle (the application's other work) counts loop turns: it
  // runs between any two batches, and no turn carries two batches.
  struct Turns {
    uv_check_t check;
    uint64_t count = 0;
  } turns;
  uv_check_init(&loop_, &turns.check);
  turns.check.data = &turns;
  uv_check_start(&turns.check, [](uv_check_t* check) {
    ++static_cast<Turns*>(check->data)->count;
  });

  std::vector<uint64_t> turn_of_batch;
  std::vector<uint64_t> numbers;
  uvwatch::Options options = TimerOptions();
  options.max_frames_per_batch = 10;
  auto sub = Subscription::Open(
      &loop_, file.path(), options,
      [&](const shmio::Batch& batch) {
        turn_of_batch.push_back(turns.count);
        for (const shmio::Frame& frame : batch.frames) {
          numbers.push_back(FrameNumber(frame));
        }
      },
      [](const absl::Status& error) { ADD_FAILURE() << error; });
  ASSERT_TRUE(sub.ok()) << sub.status();
  RunUntil([&] { return numbers.size() >= 5000; }, "a 5000-frame backlog");

  ASSERT_EQ(numbers.size(), 5000u);
  for (uint64_t i = 0; i < numbers.size(); ++i) ASSERT_EQ(numbers[i], i);
  ASSERT_EQ(turn_of_batch.size(), 500u);
  for (size_t i = 1; i < turn_of_batch.size(); ++i) {
    EXPECT_LT(turn_of_batch[i - 1], turn_of_batch[i])
        << "batches " << i - 1 << " and " << i << " came in one loop turn";
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&turns.check), nullptr);
  EXPECT_EQ(writer->Finish(), 0);
  CloseAndWait(*sub);
}

TEST_F(TimerWatcherTest, StartAtEndDeliversOnlyNewFrames) {
  ShmFile file("timer-end");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 50);

  uvwatch::Options options = TimerOptions();
  options.start = uvwatch::Start::kEnd;
  Recorder got;
  auto sub = Subscription::Open(&loop_, file.path(), options, got.OnBatch(),
                                got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  writer->Commit(50, 20);
  RunUntil([&] { return got.numbers.size() >= 20; }, "the 20 new frames");
  EXPECT_TRUE(got.IsRun(50, 20));
  CloseAndWait(*sub);
}

TEST_F(TimerWatcherTest, StartAtASavedCursorResumesWhereTheLastStopped) {
  ShmFile file("timer-cursor");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 40);

  Recorder first;
  uvwatch::Options options = TimerOptions();
  options.max_frames_per_batch = 15;
  auto sub = Subscription::Open(&loop_, file.path(), options, first.OnBatch(),
                                first.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  RunUntil([&] { return first.numbers.size() >= 15; }, "one batch");
  (*sub)->Stop();
  uint64_t saved = (*sub)->cursor();
  EXPECT_EQ(saved, first.last_cursor);
  CloseAndWait(*sub);

  writer->Commit(40, 10);
  Recorder second;
  options.start = uvwatch::Start::kCursor;
  options.cursor = saved;
  auto resumed = Subscription::Open(&loop_, file.path(), options,
                                    second.OnBatch(), second.OnError());
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  RunUntil([&] { return second.numbers.size() >= 35; }, "the rest");
  EXPECT_TRUE(first.IsRun(0, 15));
  EXPECT_TRUE(second.IsRun(15, 35));
  CloseAndWait(*resumed);
}

TEST_F(TimerWatcherTest, BadOptionsAreInvalidArgumentAndTouchNothing) {
  ShmFile file("timer-options");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  Recorder got;
  uvwatch::Options options = TimerOptions();
  options.poll_interval_ms = 0;
  auto sub = Subscription::Open(&loop_, file.path(), options, got.OnBatch(),
                                got.OnError());
  EXPECT_EQ(sub.status().code(), absl::StatusCode::kInvalidArgument);
  options = TimerOptions();
  options.max_frames_per_batch = 0;
  sub = Subscription::Open(&loop_, file.path(), options, got.OnBatch(),
                           got.OnError());
  EXPECT_EQ(sub.status().code(), absl::StatusCode::kInvalidArgument);
  sub = Subscription::Open(&loop_, file.path(), TimerOptions(), got.OnBatch(),
                           nullptr);
  EXPECT_EQ(sub.status().code(), absl::StatusCode::kInvalidArgument);
  options = TimerOptions();
  options.start = uvwatch::Start::kCursor;
  options.cursor = 1 << 20;  // past committed
  sub = Subscription::Open(&loop_, file.path(), options, got.OnBatch(),
                           got.OnError());
  EXPECT_FALSE(sub.ok());
}

}  // namespace
}  // namespace uvwatch_test
