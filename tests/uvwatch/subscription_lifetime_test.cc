// Lifetime after libuv's rules: closing or stopping a subscription from its
// own callback is safe, Close() is idempotent, callbacks may open other
// subscriptions, many subscriptions share a loop and a file, and after
// closing everything uv_loop_close() returns 0 (LoopTest::TearDown).
#include <filesystem>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "shmio/shared_memory.h"
#include "tests/uvwatch/uv_test_util.h"
#include "uvwatch/subscription.h"

namespace uvwatch_test {
namespace {

using uvwatch::Mode;
using uvwatch::Subscription;

class SubscriptionLifetimeTest : public LoopTest,
                                 public ::testing::WithParamInterface<Mode> {
 protected:
  uvwatch::Options OptionsFor(Mode mode) {
    uvwatch::Options options;
    options.mode = mode;
    options.poll_interval_ms = 1;
    options.safety_interval_ms = 30000;
    options.max_frames_per_batch = 10;
    return options;
  }
};

TEST_P(SubscriptionLifetimeTest, CloseFromInsideTheBatchCallbackIsSafe) {
  ShmFile file("close-inside");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 100);

  int batches = 0;
  bool closed = false;
  Subscription* self = nullptr;
  auto sub = Subscription::Open(
      &loop_, file.path(), OptionsFor(GetParam()),
      [&](const shmio::Batch& batch) {
        ++batches;
        self->Close([&closed] { closed = true; });
        self->Close();  // a second Close() from the same callback is harmless
      },
      [](const absl::Status& error) { ADD_FAILURE() << error; });
  ASSERT_TRUE(sub.ok()) << sub.status();
  self = *sub;
  RunUntil([&] { return closed; }, "the close callback");
  writer->Commit(100, 10);
  RunTurns(5);
  EXPECT_EQ(batches, 1) << "no callback after Close()";
}

TEST_P(SubscriptionLifetimeTest, StopFromInsideTheCallbackThenResume) {
  ShmFile file("stop-inside");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 100);

  Recorder got;
  Subscription* self = nullptr;
  auto sub = Subscription::Open(
      &loop_, file.path(), OptionsFor(GetParam()),
      [&](const shmio::Batch& batch) {
        got.Record(batch);
        if (got.numbers.size() == 30) self->Stop();
      },
      got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  self = *sub;
  RunUntil([&] { return got.numbers.size() >= 30; }, "three batches");
  RunTurns(5);
  EXPECT_EQ(got.numbers.size(), 30u) << "nothing while stopped";
  EXPECT_EQ((*sub)->cursor(), got.last_cursor);

  ASSERT_TRUE((*sub)->Resume().ok());
  writer->Commit(100, 20);
  RunUntil([&] { return got.numbers.size() >= 120; }, "the rest after Resume");
  EXPECT_TRUE(got.IsRun(0, 120));
  CloseAndWait(*sub);
}

// The descriptors this process has open now.
size_t OpenFileDescriptors() {
  size_t count = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

TEST_P(SubscriptionLifetimeTest, ClosingReleasesEveryFileDescriptor) {
  ShmFile file("fds");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 10);
  // libuv opens one inotify descriptor per loop on first use and keeps it
  // until uv_loop_close(): count from after a first round.
  size_t before = 0;
  for (int round = 0; round < 4; ++round) {
    if (round == 1) before = OpenFileDescriptors();
    Recorder got;
    auto sub = Subscription::Open(&loop_, file.path(), OptionsFor(GetParam()),
                                  got.OnBatch(), got.OnError());
    ASSERT_TRUE(sub.ok()) << sub.status();
    RunUntil([&] { return got.numbers.size() >= 10; }, "the 10 frames");
    if (round == 0) {
      CloseAndWait(*sub);
      continue;
    }
    EXPECT_GT(OpenFileDescriptors(), before) << "the log's, at least";
    CloseAndWait(*sub);
    EXPECT_EQ(OpenFileDescriptors(), before) << "round " << round;
  }
}

TEST_P(SubscriptionLifetimeTest, CloseIsIdempotentAndNotifiesOnce) {
  ShmFile file("close-twice");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  Recorder got;
  auto sub = Subscription::Open(&loop_, file.path(), OptionsFor(GetParam()),
                                got.OnBatch(), got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  int first = 0;
  int second = 0;
  (*sub)->Close([&first] { ++first; });
  EXPECT_TRUE((*sub)->closing());
  EXPECT_FALSE((*sub)->Resume().ok());
  (*sub)->Close([&second] { ++second; });
  RunUntil([&] { return first == 1; }, "the close callback");
  RunTurns(3);
  EXPECT_EQ(first, 1);
  EXPECT_EQ(second, 0);
  EXPECT_TRUE(got.numbers.empty());
}

TEST_P(SubscriptionLifetimeTest, ACallbackMayOpenAnotherSubscription) {
  ShmFile file("open-inside");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 50);

  Recorder second;
  Subscription* first = nullptr;
  Subscription* opened = nullptr;
  auto sub = Subscription::Open(
      &loop_, file.path(), OptionsFor(GetParam()),
      [&](const shmio::Batch& batch) {
        uvwatch::Options options = OptionsFor(GetParam());
        options.start = uvwatch::Start::kCursor;
        options.cursor = batch.next_cursor;
        auto next = Subscription::Open(&loop_, file.path(), options,
                                       second.OnBatch(), second.OnError());
        ASSERT_TRUE(next.ok()) << next.status();
        opened = *next;
        first->Close();
      },
      [](const absl::Status& error) { ADD_FAILURE() << error; });
  ASSERT_TRUE(sub.ok()) << sub.status();
  first = *sub;
  RunUntil([&] { return second.numbers.size() >= 40; }, "the hand-over");
  EXPECT_TRUE(second.IsRun(10, 40));
  ASSERT_NE(opened, nullptr);
  CloseAndWait(opened);
}

INSTANTIATE_TEST_SUITE_P(Modes, SubscriptionLifetimeTest,
                         ::testing::Values(Mode::kTimer, Mode::kInotify),
                         [](const ::testing::TestParamInfo<Mode>& info) {
                           return std::string(uvwatch::ModeName(info.param));
                         });

class ManySubscriptionsTest : public LoopTest {};

TEST_F(ManySubscriptionsTest, ManySubscriptionsShareALoopAndAFile) {
  ShmFile file_a("many-a");
  ShmFile file_b("many-b");
  auto writer_a = ChildWriter::Start(file_a.path());
  auto writer_b = ChildWriter::Start(file_b.path());
  ASSERT_NE(writer_a, nullptr);
  ASSERT_NE(writer_b, nullptr);
  writer_a->Commit(0, 100);

  constexpr int kPerFile = 12;
  std::vector<std::unique_ptr<Recorder>> recorders;
  std::vector<Subscription*> subs;
  for (int i = 0; i < 2 * kPerFile; ++i) {
    uvwatch::Options options;
    options.mode = i % 2 ? Mode::kInotify : Mode::kTimer;
    options.poll_interval_ms = 1;
    options.safety_interval_ms = 30000;
    options.max_frames_per_batch = 1 + i;
    recorders.push_back(std::make_unique<Recorder>());
    const std::string& path = i < kPerFile ? file_a.path() : file_b.path();
    auto sub = Subscription::Open(&loop_, path, options,
                                  recorders.back()->OnBatch(),
                                  recorders.back()->OnError());
    ASSERT_TRUE(sub.ok()) << sub.status();
    subs.push_back(*sub);
  }
  auto all_have = [&](size_t count) {
    for (const auto& r : recorders) {
      if (r->numbers.size() < count) return false;
    }
    return true;
  };
  RunTurns(2);
  writer_b->Commit(0, 100);
  RunUntil([&] { return all_have(100); }, "100 frames in every subscription");
  for (int round = 1; round < 5; ++round) {
    writer_a->Commit(100 * round, 100);
    writer_b->Commit(100 * round, 100);
  }
  RunUntil([&] { return all_have(500); }, "500 frames in every subscription");
  for (const auto& r : recorders) {
    EXPECT_TRUE(r->IsRun(0, 500));
    EXPECT_TRUE(r->errors.empty());
  }
  int closed = 0;
  for (Subscription* sub : subs) sub->Close([&closed] { ++closed; });
  RunUntil([&] { return closed == 2 * kPerFile; }, "every close callback");
}

class BorrowedLogTest : public LoopTest {};

TEST_F(BorrowedLogTest, ASubscriptionOnACallersSharedMemoryLeavesItToTheCaller) {
  ShmFile file("borrowed");
  auto writer = ChildWriter::Start(file.path());
  ASSERT_NE(writer, nullptr);
  writer->Commit(0, 25);
  shmio::Options options;
  options.path = file.path();
  auto shm = shmio::SharedMemory::Open(options);
  ASSERT_TRUE(shm.ok()) << shm.status();

  Recorder got;
  auto sub = Subscription::Open(&loop_, shm->get(), uvwatch::Options{},
                                got.OnBatch(), got.OnError());
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ((*sub)->path(), file.path());
  RunUntil([&] { return got.numbers.size() >= 25; }, "frames");
  bool closed = false;
  (*sub)->Close([&] {
    closed = true;
    shm->reset();  // the caller may free its log once on_closed ran
  });
  RunUntil([&] { return closed; }, "the close callback");
  EXPECT_TRUE(got.IsRun(0, 25));
  EXPECT_EQ(*shm, nullptr);
}

}  // namespace
}  // namespace uvwatch_test
