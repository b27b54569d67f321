// Writing and reading back through the public API: appends across segment
// boundaries, commit batching, reopening, the writer's size and status, the
// payload limits, a full log, the segment rule, SetActive(false), Wrap<T>.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shmio/consumer.h"
#include "shmio/format.h"
#include "shmio/iterator.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "tests/shmio/log_util.h"
#include "tests/shmio/test_util.h"

namespace {

using ::shmio::Consumer;
using ::shmio::Options;
using ::shmio::Pool;
using ::shmio_test::OpenReader;
using ::shmio_test::OpenWriter;
using ::shmio_test::PatternPayload;
using ::shmio_test::ReadCommittedFrames;
using ::shmio_test::ReadCommittedPayloads;
using ::shmio_test::ReadFileBytes;
using ::shmio_test::TempPath;
using ::shmio_test::Writer;
using ::testing::HasSubstr;

constexpr uint64_t kDataOffset = shmio::format::kExtendedDataOffset;  // 256

Writer MustOpenWriter(Options options) {
  absl::StatusOr<Writer> writer = OpenWriter(std::move(options));
  EXPECT_TRUE(writer.ok()) << writer.status();
  return writer.ok() ? *std::move(writer) : Writer{};
}

TEST(RoundtripTest, FramesCrossingSegmentBoundariesReadBackIntact) {
  std::string path = TempPath("segments");
  Writer w =
      MustOpenWriter({.path = path, .size = 1024, .num = 8, .overlap = 256});
  ASSERT_NE(w.pool, nullptr);

  // Payloads up to 200 bytes (frames up to 204 <= overlap) fill the log; the
  // segment rule never refuses them, only the end of the log stops us.
  std::vector<std::vector<uint8_t>> written;
  int crossings = 0;
  for (uint64_t i = 0;; ++i) {
    std::vector<uint8_t> payload = PatternPayload(i, (i * 53) % 201);
    uint64_t start = w.pool->GetSize().uncommitted;
    absl::Status status = w.pool->Append(payload);
    if (absl::IsResourceExhausted(status)) break;
    ASSERT_TRUE(status.ok()) << "frame " << i << ": " << status;
    uint64_t end = start + payload.size() + 4;
    if (start / 1024 != (end - 1) / 1024) ++crossings;
    written.push_back(std::move(payload));
    if (i % 7 == 6) {
      ASSERT_TRUE(w.pool->Commit().ok());
    }
  }
  ASSERT_TRUE(w.pool->Commit().ok());
  ASSERT_GE(crossings, 5) << "the test must cross segment boundaries";

  EXPECT_EQ(ReadCommittedPayloads(*w.shm), written);
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> reader =
      OpenReader(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(ReadCommittedPayloads(**reader), written);
}

TEST(RoundtripTest, UncommittedFramesAreInvisibleUntilCommit) {
  std::string path = TempPath("batching");
  Writer w = MustOpenWriter({.path = path, .capacity = 1 << 16});
  ASSERT_NE(w.pool, nullptr);
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> reader =
      OpenReader(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  Consumer consumer(reader->get());

  for (uint64_t batch = 0; batch < 5; ++batch) {
    for (uint64_t i = 0; i < 10; ++i) {
      ASSERT_TRUE(w.pool->Append(PatternPayload(batch * 10 + i, 9)).ok());
      absl::StatusOr<shmio::Batch> nothing = consumer.Next();
      ASSERT_TRUE(nothing.ok()) << nothing.status();
      EXPECT_TRUE(nothing->empty())
          << "frame visible before Commit(), batch " << batch << " frame " << i;
    }
    ASSERT_TRUE(w.pool->Commit().ok());
    absl::StatusOr<shmio::Batch> next = consumer.Next();
    ASSERT_TRUE(next.ok()) << next.status();
    EXPECT_EQ(next->frame_count, 10u) << "a commit publishes its whole batch";
    uint64_t i = 0;
    for (const shmio::Frame& frame : next->frames) {
      EXPECT_EQ(
          std::vector<uint8_t>(frame.payload.begin(), frame.payload.end()),
          PatternPayload(batch * 10 + i, 9));
      ++i;
    }
    EXPECT_EQ(i, 10u);
  }
}

TEST(RoundtripTest, ReopenContinuesAtCommittedAndOverwritesUncommittedBytes) {
  std::string path = TempPath("reopen");
  uint64_t committed = 0;
  {
    Writer w = MustOpenWriter({.path = path, .capacity = 8192});
    ASSERT_NE(w.pool, nullptr);
    for (uint64_t i = 0; i < 3; ++i) {
      ASSERT_TRUE(w.pool->Append(PatternPayload(i, 20)).ok());
    }
    ASSERT_TRUE(w.pool->Commit().ok());
    committed = w.pool->GetSize().committed;
    // Two frames the writer never commits: they must never be read.
    ASSERT_TRUE(w.pool->Append(PatternPayload(100, 30)).ok());
    ASSERT_TRUE(w.pool->Append(PatternPayload(101, 30)).ok());
  }
  EXPECT_EQ(committed, kDataOffset + 3 * 24);
  EXPECT_EQ(shmio_test::ReadU64At(path, 16), committed);
  {
    absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> reader =
        OpenReader(path);
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ(ReadCommittedPayloads(**reader).size(), 3u);
  }

  Writer w = MustOpenWriter({.path = path});
  ASSERT_NE(w.pool, nullptr);
  EXPECT_EQ(w.pool->GetSize().committed, committed);
  EXPECT_EQ(w.pool->GetSize().uncommitted, committed);
  ASSERT_TRUE(w.pool->Append(PatternPayload(3, 5)).ok());
  ASSERT_TRUE(w.pool->Commit().ok());

  std::vector<shmio_test::CopiedFrame> frames = ReadCommittedFrames(*w.shm);
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[3].offset, committed);
  EXPECT_EQ(frames[3].payload, PatternPayload(3, 5));
  EXPECT_EQ(shmio_test::ReadU16At(path, committed), 9u)
      << "the new frame overwrote the dead writer's uncommitted bytes";
}

TEST(RoundtripTest, PrefaultedAndFlushedLogsReadTheSame) {
  std::string path = TempPath("prefault");
  Writer w =
      MustOpenWriter({.path = path, .capacity = 1 << 16, .prefault = true});
  ASSERT_NE(w.pool, nullptr);
  std::vector<std::vector<uint8_t>> written;
  for (uint64_t i = 0; i < 50; ++i) {
    written.push_back(PatternPayload(i, i));
    ASSERT_TRUE(w.pool->Append(written.back()).ok());
  }
  ASSERT_TRUE(w.pool->Commit().ok());
  absl::Status flushed = w.pool->Flush();
  EXPECT_TRUE(flushed.ok()) << flushed;
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> reader =
      shmio::SharedMemory::Open({.path = path, .prefault = true});
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(ReadCommittedPayloads(**reader), written);
}

TEST(RoundtripTest, GetSizeAndGetStatusFollowTheWritePosition) {
  std::string path = TempPath("size-status");
  Writer w =
      MustOpenWriter({.path = path, .size = 1024, .num = 4, .overlap = 128});
  ASSERT_NE(w.pool, nullptr);
  EXPECT_EQ(w.pool->GetSize().committed, kDataOffset);
  EXPECT_EQ(w.pool->GetSize().uncommitted, kDataOffset);
  EXPECT_EQ(w.pool->GetStatus().segment, 0u);
  EXPECT_EQ(w.pool->GetStatus().offset, kDataOffset);

  ASSERT_TRUE(w.pool->Append(PatternPayload(0, 96)).ok());  // 256 -> 356
  EXPECT_EQ(w.pool->GetSize().committed, kDataOffset);
  EXPECT_EQ(w.pool->GetSize().uncommitted, 356u);
  EXPECT_EQ(w.pool->GetStatus().segment, 0u);
  EXPECT_EQ(w.pool->GetStatus().offset, 356u);

  // 356 + 8 * 100 = 1156: the write position is now in segment 1.
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(w.pool->Append(PatternPayload(i, 96)).ok());
  }
  ASSERT_TRUE(w.pool->Commit().ok());
  EXPECT_EQ(w.pool->GetSize().committed, 1156u);
  EXPECT_EQ(w.pool->GetSize().uncommitted, 1156u);
  EXPECT_EQ(w.pool->GetStatus().segment, 1u);
  EXPECT_EQ(w.pool->GetStatus().offset, 1156u - 1024);
}

TEST(RoundtripTest, SetActiveFalseWritesNothingToTheLog) {
  std::string path = TempPath("inactive");
  Writer w = MustOpenWriter({.path = path, .capacity = 4096});
  ASSERT_NE(w.pool, nullptr);
  ASSERT_TRUE(w.pool->Append(PatternPayload(1, 10)).ok());
  ASSERT_TRUE(w.pool->Commit().ok());
  std::vector<uint8_t> before = ReadFileBytes(path);
  Pool::Size size_before = w.pool->GetSize();

  w.pool->SetActive(false);
  EXPECT_FALSE(w.pool->active());
  absl::StatusOr<absl::Span<uint8_t>> slice = w.pool->SliceSize(100);
  ASSERT_TRUE(slice.ok()) << slice.status();
  ASSERT_EQ(slice->size(), 100u);
  EXPECT_TRUE(slice->data() < w.shm->data() ||
              slice->data() >= w.shm->data() + w.shm->capacity())
      << "an inactive pool hands out buffers outside the log";
  std::fill(slice->begin(), slice->end(), 0xAB);
  ASSERT_TRUE(w.pool->Append(PatternPayload(2, 50)).ok());
  ASSERT_TRUE(w.pool->Commit().ok());

  EXPECT_EQ(ReadFileBytes(path), before) << "an inactive pool wrote the file";
  EXPECT_EQ(w.pool->GetSize().committed, size_before.committed);
  EXPECT_EQ(w.pool->GetSize().uncommitted, size_before.uncommitted);

  w.pool->SetActive(true);
  ASSERT_TRUE(w.pool->Append(PatternPayload(3, 10)).ok());
  ASSERT_TRUE(w.pool->Commit().ok());
  std::vector<std::vector<uint8_t>> expected = {PatternPayload(1, 10),
                                                PatternPayload(3, 10)};
  EXPECT_EQ(ReadCommittedPayloads(*w.shm), expected);
}

TEST(RoundtripTest, EmptyAndLargestPayloadsRoundtrip) {
  std::string path = TempPath("limits");
  Writer w = MustOpenWriter({.path = path, .capacity = 1 << 17});
  ASSERT_NE(w.pool, nullptr);
  std::vector<std::vector<uint8_t>> written = {
      {}, PatternPayload(7, shmio::format::kMaxPayload), {}};
  for (const std::vector<uint8_t>& payload : written) {
    ASSERT_TRUE(w.pool->Append(payload).ok());
  }
  ASSERT_TRUE(w.pool->Commit().ok());
  EXPECT_EQ(shmio_test::ReadU16At(path, kDataOffset + 4), 65535u)
      << "the largest frame's total is the largest u16";
  EXPECT_EQ(ReadCommittedPayloads(*w.shm), written);
}

TEST(RoundtripTest, PayloadOver65531BytesIsInvalidArgumentAndWritesNothing) {
  std::string path = TempPath("too-large");
  Writer w = MustOpenWriter({.path = path, .capacity = 1 << 17});
  ASSERT_NE(w.pool, nullptr);
  std::vector<uint8_t> before = ReadFileBytes(path);

  absl::Status status =
      w.pool->Append(PatternPayload(1, shmio::format::kMaxPayload + 1));
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("65532"));
  EXPECT_TRUE(absl::IsInvalidArgument(
      w.pool->SliceSize(shmio::format::kMaxPayload + 1).status()));
  ASSERT_TRUE(w.pool->Commit().ok());

  EXPECT_EQ(ReadFileBytes(path), before);
  EXPECT_EQ(w.pool->GetSize().uncommitted, kDataOffset);
}

TEST(RoundtripTest, FullLogIsResourceExhaustedAndNothingIsWrittenPastTheEnd) {
  std::string path = TempPath("full");
  // Room for exactly two 50-byte payloads after the 256-byte header.
  const uint64_t capacity = kDataOffset + 2 * 54;
  Writer w = MustOpenWriter({.path = path, .capacity = capacity});
  ASSERT_NE(w.pool, nullptr);
  ASSERT_TRUE(w.pool->Append(PatternPayload(1, 50)).ok());
  ASSERT_TRUE(w.pool->Append(PatternPayload(2, 50)).ok())
      << "a frame that ends exactly at the end of the file fits";
  ASSERT_TRUE(w.pool->Commit().ok());
  std::vector<uint8_t> before = ReadFileBytes(path);

  absl::Status status = w.pool->Append({});
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("Shared memory exhausted"));
  EXPECT_THAT(std::string(status.message()), HasSubstr(path));
  absl::StatusOr<absl::Span<uint8_t>> slice = w.pool->SliceSize(1000);
  EXPECT_TRUE(absl::IsResourceExhausted(slice.status())) << slice.status();
  EXPECT_THAT(std::string(slice.status().message()), HasSubstr("1000"))
      << "the message names the size asked for";

  EXPECT_EQ(ReadFileBytes(path), before);
  EXPECT_EQ(shmio_test::FileSize(path), capacity) << "the file never grows";
  EXPECT_EQ(ReadCommittedPayloads(*w.shm).size(), 2u);
}

TEST(RoundtripTest, FrameBeyondTheOverlapIsRefusedAndWritesNothing) {
  std::string path = TempPath("segment-rule");
  Writer w =
      MustOpenWriter({.path = path, .size = 1024, .num = 4, .overlap = 64});
  ASSERT_NE(w.pool, nullptr);
  // 256 + 6 * 124 = 1000: the next frame starts 24 bytes before the end of
  // segment 0 and may end at most at 1024 + 64 = 1088.
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(w.pool->Append(PatternPayload(i, 120)).ok());
  }
  ASSERT_TRUE(w.pool->Commit().ok());
  ASSERT_EQ(w.pool->GetSize().uncommitted, 1000u);
  std::vector<uint8_t> before = ReadFileBytes(path);

  absl::Status status = w.pool->Append(PatternPayload(9, 85));  // ends 1089
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(absl::AsciiStrToLower(status.message()), HasSubstr("overlap"))
      << "the message says to raise the overlap: " << status;
  ASSERT_TRUE(w.pool->Commit().ok());
  EXPECT_EQ(ReadFileBytes(path), before) << "a refused frame wrote bytes";
  EXPECT_EQ(w.pool->GetSize().uncommitted, 1000u);

  // A frame that ends exactly at the end of the overlap is fine.
  ASSERT_TRUE(w.pool->Append(PatternPayload(10, 84)).ok());  // ends 1088
  ASSERT_TRUE(w.pool->Commit().ok());
  EXPECT_EQ(ReadCommittedPayloads(*w.shm).size(), 7u);
}

TEST(RoundtripTest, DebugChecksRefuseToCommitASliceWrittenPastItsEnd) {
  std::string path = TempPath("overrun");
  Writer w =
      MustOpenWriter({.path = path, .capacity = 4096, .debug_checks = true});
  ASSERT_NE(w.pool, nullptr);
  ASSERT_TRUE(w.pool->Append(PatternPayload(1, 10)).ok());
  ASSERT_TRUE(w.pool->Commit().ok());
  const uint64_t committed = w.pool->GetSize().committed;

  absl::StatusOr<absl::Span<uint8_t>> slice = w.pool->SliceSize(10);
  ASSERT_TRUE(slice.ok()) << slice.status();
  // A bug in the caller: 12 bytes into a 10-byte slice, over the trailing
  // size (still inside the mapping, so the test itself stays defined).
  std::fill(slice->data(), slice->data() + 12, 0x55);
  absl::Status status = w.pool->Commit();
  EXPECT_TRUE(absl::IsDataLoss(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("[DEBUG]"));
  EXPECT_THAT(std::string(status.message()), HasSubstr(absl::StrCat(committed)))
      << "names the offset of the overrun frame";
  EXPECT_EQ(shmio_test::ReadU64At(path, 16), committed)
      << "nothing is published after a failed debug check";
}

// A packed record like those bendec's C++ generator emits.
struct __attribute__((packed)) Trade {
  uint8_t side;
  uint64_t price;
  uint32_t quantity;
  uint16_t venue;
};
static_assert(sizeof(Trade) == 15 && alignof(Trade) == 1);

TEST(RoundtripTest, WrapBuildsAPackedStructInPlace) {
  std::string path = TempPath("wrap");
  Writer w = MustOpenWriter({.path = path, .capacity = 4096});
  ASSERT_NE(w.pool, nullptr);
  ASSERT_TRUE(w.pool->Append({0x01}).ok());  // makes the next payload odd
  absl::StatusOr<Trade*> trade = w.pool->Wrap<Trade>();
  ASSERT_TRUE(trade.ok()) << trade.status();
  EXPECT_EQ((*trade)->price, 0u) << "Wrap value-initialises";
  (*trade)->side = 2;
  (*trade)->price = 0x0102030405060708;
  (*trade)->quantity = 500;
  (*trade)->venue = 7;
  absl::StatusOr<absl::Span<uint8_t>> slice = w.pool->Slice<Trade>();
  ASSERT_TRUE(slice.ok()) << slice.status();
  EXPECT_EQ(slice->size(), sizeof(Trade));
  ASSERT_TRUE(w.pool->Commit().ok());

  std::vector<std::vector<uint8_t>> payloads = ReadCommittedPayloads(*w.shm);
  ASSERT_EQ(payloads.size(), 3u);
  ASSERT_EQ(payloads[1].size(), sizeof(Trade));
  const std::vector<uint8_t> expected = {
      2,                                               // side
      0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // price, LE
      0xF4, 0x01, 0x00, 0x00,                          // quantity 500
      0x07, 0x00,                                      // venue
  };
  EXPECT_EQ(payloads[1], expected);
  Trade copy;
  std::memcpy(&copy, payloads[1].data(), sizeof copy);
  EXPECT_EQ(copy.price, 0x0102030405060708u);
}

}  // namespace
