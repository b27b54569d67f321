// The reader's position: batches bounded by frames and bytes, a cursor that
// is saved and resumed (here by another process), Seek/SeekToEnd, and
// GetData(from), the original's getData.
#include "shmio/consumer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "shmio/iterator.h"
#include "shmio/shared_memory.h"
#include "tests/shmio/log_util.h"
#include "tests/shmio/test_util.h"

namespace {

using ::shmio::BatchLimits;
using ::shmio::Consumer;
using ::shmio::SharedMemory;
using ::shmio_test::PatternPayload;

// Payload i has 10 + i bytes; frame i starts at FrameStart(i).
constexpr int kFrames = 20;

uint64_t FrameStart(int i) {
  uint64_t offset = 256;
  for (int k = 0; k < i; ++k) offset += 10 + k + 4;
  return offset;
}

class ConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<shmio_test::Writer> w =
        shmio_test::OpenWriter({.path = path_, .capacity = 1 << 16});
    ASSERT_TRUE(w.ok()) << w.status();
    writer_ = *std::move(w);
    AppendFrames(0, kFrames);
    absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
        shmio_test::OpenReader(path_);
    ASSERT_TRUE(shm.ok()) << shm.status();
    reader_ = *std::move(shm);
  }

  void AppendFrames(int from, int to) {
    for (int i = from; i < to; ++i) {
      ASSERT_TRUE(writer_.pool->Append(PatternPayload(i, 10 + i)).ok());
    }
    ASSERT_TRUE(writer_.pool->Commit().ok());
  }

  // Reads one batch and returns the indices of its frames (by payload).
  std::vector<int> NextIndices(Consumer& consumer, BatchLimits limits = {}) {
    std::vector<int> indices;
    absl::StatusOr<shmio::Batch> batch = consumer.Next(limits);
    EXPECT_TRUE(batch.ok()) << batch.status();
    if (!batch.ok()) return indices;
    uint64_t bytes = 0;
    for (const shmio::Frame& frame : batch->frames) {
      int i = static_cast<int>(frame.payload.size()) - 10;
      EXPECT_EQ(frame.offset, FrameStart(i));
      EXPECT_EQ(
          std::vector<uint8_t>(frame.payload.begin(), frame.payload.end()),
          PatternPayload(i, 10 + i));
      bytes += frame.payload.size();
      indices.push_back(i);
    }
    EXPECT_EQ(batch->frame_count, indices.size());
    EXPECT_EQ(batch->payload_bytes, bytes);
    EXPECT_EQ(batch->next_cursor, batch->frames.to());
    EXPECT_EQ(consumer.cursor(), batch->next_cursor);
    return indices;
  }

  std::string path_ = shmio_test::TempPath("consumer");
  shmio_test::Writer writer_;
  std::unique_ptr<SharedMemory> reader_;
};

TEST_F(ConsumerTest, BatchesAreBoundedByMaxFrames) {
  Consumer consumer(reader_.get());
  EXPECT_EQ(NextIndices(consumer, {.max_frames = 8}),
            (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(NextIndices(consumer, {.max_frames = 8}),
            (std::vector<int>{8, 9, 10, 11, 12, 13, 14, 15}));
  EXPECT_EQ(NextIndices(consumer, {.max_frames = 8}),
            (std::vector<int>{16, 17, 18, 19}));
  EXPECT_TRUE(NextIndices(consumer, {.max_frames = 8}).empty());
}

TEST_F(ConsumerTest, BatchesAreBoundedByMaxBytesButHoldAtLeastOneFrame) {
  Consumer consumer(reader_.get());
  // Payloads of 10, 11, 12 bytes: 21 <= 25 < 33.
  EXPECT_EQ(NextIndices(consumer, {.max_bytes = 25}), (std::vector<int>{0, 1}));
  // A frame larger than the limit still comes, alone.
  EXPECT_EQ(NextIndices(consumer, {.max_bytes = 5}), (std::vector<int>{2}));
}

TEST_F(ConsumerTest, ASavedCursorResumesInAnotherProcess) {
  Consumer consumer(reader_.get());
  ASSERT_EQ(NextIndices(consumer, {.max_frames = 7}).size(), 7u);
  const uint64_t saved = consumer.cursor();
  EXPECT_EQ(saved, FrameStart(7));
  AppendFrames(kFrames, kFrames + 3);

  // A new process, a new mapping, a new Consumer: Seek(saved) continues
  // with frame 7, and nothing is skipped or repeated.
  shmio_test::ScopedChild child(shmio_test::ForkChild([&] {
    absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
        shmio_test::OpenReader(path_);
    if (!shm.ok()) return 1;
    Consumer resumed(shm->get());
    if (!resumed.Seek(saved).ok()) return 2;
    absl::StatusOr<shmio::Batch> batch = resumed.Next();
    if (!batch.ok()) return 3;
    int expected = 7;
    for (const shmio::Frame& frame : batch->frames) {
      if (frame.payload.size() != static_cast<size_t>(10 + expected)) return 4;
      ++expected;
    }
    return expected == kFrames + 3 ? 0 : 5;
  }));
  EXPECT_EQ(child.Wait(), 0);
}

TEST_F(ConsumerTest, SeekRefusesOffsetsThatAreNotFrameBoundaries) {
  Consumer consumer(reader_.get());
  absl::Status inside = consumer.Seek(FrameStart(3) + 1);
  EXPECT_TRUE(absl::IsInvalidArgument(inside)) << inside;
  absl::Status past = consumer.Seek(FrameStart(kFrames) + 14);
  EXPECT_TRUE(absl::IsOutOfRange(past)) << past;
  EXPECT_EQ(consumer.cursor(), FrameStart(0)) << "a refused Seek moves nothing";

  ASSERT_TRUE(consumer.Seek(FrameStart(5)).ok());
  EXPECT_EQ(NextIndices(consumer, {.max_frames = 1}), (std::vector<int>{5}));
  ASSERT_TRUE(consumer.Seek(Consumer::kBeginning).ok());
  EXPECT_EQ(NextIndices(consumer, {.max_frames = 1}), (std::vector<int>{0}));
}

TEST_F(ConsumerTest, SeekToEndDeliversOnlyNewFrames) {
  Consumer consumer(reader_.get());
  ASSERT_TRUE(consumer.SeekToEnd().ok());
  EXPECT_EQ(consumer.cursor(), FrameStart(kFrames));
  EXPECT_TRUE(NextIndices(consumer).empty());
  AppendFrames(kFrames, kFrames + 2);
  EXPECT_EQ(NextIndices(consumer), (std::vector<int>{kFrames, kFrames + 1}));
}

TEST_F(ConsumerTest, GetDataReadsUpToCommittedWithoutMovingTheCursor) {
  Consumer consumer(reader_.get());
  absl::StatusOr<shmio::FrameRange> data = consumer.GetData(FrameStart(18));
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->to(), FrameStart(kFrames));
  int count = 0;
  for (const shmio::Frame& frame : *data) {
    EXPECT_EQ(frame.offset, FrameStart(18 + count));
    ++count;
  }
  EXPECT_EQ(count, 2);
  EXPECT_EQ(consumer.cursor(), FrameStart(0));

  absl::StatusOr<shmio::FrameRange> all = consumer.GetData();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->from(), FrameStart(0));

  absl::StatusOr<shmio::FrameRange> bad = consumer.GetData(FrameStart(2) + 3);
  EXPECT_FALSE(bad.ok()) << "GetData from inside a frame";
}

TEST_F(ConsumerTest, PollVisitsNewFramesInOrderBoundedByMaxFrames) {
  Consumer consumer(reader_.get());
  std::vector<int> seen;
  auto visit = [&](const shmio::Frame& frame) {
    const int i = static_cast<int>(frame.payload.size()) - 10;
    EXPECT_EQ(frame.offset, FrameStart(i));
    EXPECT_EQ(std::vector<uint8_t>(frame.payload.begin(), frame.payload.end()),
              PatternPayload(i, 10 + i));
    // The cursor is already past the frame being visited.
    EXPECT_EQ(consumer.cursor(), frame.end());
    seen.push_back(i);
  };
  absl::StatusOr<size_t> first = consumer.Poll(visit, /*max_frames=*/3);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, 3u);
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2}));

  // Next() and Poll() share the cursor.
  EXPECT_EQ(NextIndices(consumer, {.max_frames = 2}), (std::vector<int>{3, 4}));
  absl::StatusOr<size_t> rest = consumer.Poll(visit);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(*rest, static_cast<size_t>(kFrames - 5));
  EXPECT_EQ(seen.back(), kFrames - 1);
  EXPECT_EQ(consumer.cursor(), FrameStart(kFrames));

  absl::StatusOr<size_t> none = consumer.Poll(visit);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(*none, 0u) << "nothing new";
  AppendFrames(kFrames, kFrames + 2);
  absl::StatusOr<size_t> more = consumer.Poll(visit);
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_EQ(*more, 2u);
  EXPECT_EQ(seen.back(), kFrames + 1);
}

TEST_F(ConsumerTest, SpinUntilNewAnswersAtOnceWhenFramesAreWaiting) {
  Consumer consumer(reader_.get());
  // Frames past the cursor: true however short the deadline.
  EXPECT_TRUE(consumer.SpinUntilNew(absl::InfinitePast()));
  ASSERT_TRUE(consumer.SeekToEnd().ok());
  // Nothing new and a deadline already gone: false, after at most one
  // round of kPollsPerClockRead polls.
  EXPECT_FALSE(consumer.SpinUntilNew(absl::InfinitePast()));
  EXPECT_FALSE(consumer.SpinUntilNew(absl::Now() + absl::Milliseconds(5)));
  AppendFrames(kFrames, kFrames + 1);
  EXPECT_TRUE(consumer.SpinUntilNew(absl::InfinitePast()));
}

TEST(ConsumerEmptyLogTest, SpinUntilNewOnANewConsumerOfAnEmptyLogWaits) {
  const std::string path = shmio_test::TempPath("consumer-empty");
  absl::StatusOr<shmio_test::Writer> writer =
      shmio_test::OpenWriter({.path = path, .capacity = 1 << 16});
  ASSERT_TRUE(writer.ok()) << writer.status();
  absl::StatusOr<std::unique_ptr<SharedMemory>> reader = shmio_test::OpenReader(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  // The cursor of a Consumer that has not read yet is "the first frame":
  // an empty log has nothing past it.
  Consumer consumer(reader->get());
  EXPECT_FALSE(consumer.SpinUntilNew(absl::InfinitePast()));
  ASSERT_TRUE(writer->pool->Append(PatternPayload(0, 10)).ok());
  EXPECT_FALSE(consumer.SpinUntilNew(absl::InfinitePast())) << "not committed";
  ASSERT_TRUE(writer->pool->Commit().ok());
  EXPECT_TRUE(consumer.SpinUntilNew(absl::InfinitePast()));
}

TEST_F(ConsumerTest, CommittedIsTheWritersCommittedValue) {
  Consumer consumer(reader_.get());
  absl::StatusOr<uint64_t> committed = consumer.Committed();
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(*committed, writer_.pool->GetSize().committed);
  EXPECT_EQ(*committed, FrameStart(kFrames));
}

}  // namespace
