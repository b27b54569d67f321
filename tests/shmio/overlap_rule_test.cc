// A file written here with a geometry reads correctly with the original
// Node.js library's rules. The reader below follows ONLY the original's
// SharedMemoryIterator algorithm, over the file's bytes read with pread
// (not through shmio): num views of size + overlap bytes (the last without
// overlap), frame k read entirely from the view of the segment it starts in,
// where Node's Buffer.slice would silently cut a frame that runs past the
// view. Every frame the writer accepted must come back whole.
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shmio/pool.h"
#include "tests/shmio/log_util.h"
#include "tests/shmio/test_util.h"

namespace {

using ::shmio_test::PatternPayload;

struct Geometry {
  uint64_t size;
  uint64_t num;
  uint64_t overlap;
};

uint64_t DecodeU64(const std::vector<uint8_t>& file, uint64_t offset) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | file[offset + i];
  return v;
}

// The original's reader: buffers[k] covers [k*size, k*size + size +
// overlap), the last [k*size, num*size) -- except that a single buffer
// (num = 1) is size - overlap long, as the original computes it. The iterator keeps (bufferIndex,
// index within the buffer), reads the u16 size at `index`, slices the
// payload out of the current buffer, advances index by the size and moves
// to the next buffer once index >= size. Returns the payloads, or an error
// naming the first frame the original would cut or misread.
absl::StatusOr<std::vector<std::vector<uint8_t>>> ReadLikeTheOriginal(
    const std::vector<uint8_t>& file, const Geometry& g) {
  struct View {
    uint64_t begin;
    uint64_t length;
  };
  std::vector<View> buffers;
  for (uint64_t k = 0; k < g.num; ++k) {
    uint64_t length = k + 1 < g.num ? g.size + g.overlap
                      : g.num == 1  ? g.size - g.overlap
                                    : g.size;
    buffers.push_back({k * g.size, length});
  }
  const uint64_t from = DecodeU64(file, 8);  // dataOffset
  const uint64_t to = DecodeU64(file, 16);   // committed: totalSize
  uint64_t buffer_index = from / g.size;
  uint64_t buffers_total = g.size * buffer_index;
  uint64_t index = from % g.size;

  std::vector<std::vector<uint8_t>> payloads;
  while (buffers_total + index < to) {
    if (buffer_index >= buffers.size()) {
      return absl::OutOfRangeError(absl::StrCat(
          "the original runs out of buffers at ", buffers_total + index));
    }
    const View& view = buffers[buffer_index];
    if (index + 2 > view.length) {
      return absl::DataLossError(absl::StrCat(
          "the original cannot read the size at ", buffers_total + index,
          ": past the end of buffer ", buffer_index));
    }
    const uint8_t* buffer = file.data() + view.begin;
    uint64_t size = buffer[index] | (buffer[index + 1] << 8);
    if (size < 4) {
      return absl::DataLossError(
          absl::StrCat("frame size ", size, " at ", buffers_total + index));
    }
    if (index + size > view.length) {
      // Buffer.slice would clamp: the original would return a cut frame.
      return absl::DataLossError(
          absl::StrCat("frame at ", buffers_total + index, " of ", size,
                       " bytes runs past buffer ", buffer_index, " (ends at ",
                       view.begin + index + size, ", buffer ends at ",
                       view.begin + view.length, ")"));
    }
    payloads.emplace_back(buffer + index + 2, buffer + index + size - 2);
    index += size;
    if (index >= g.size) {
      index -= g.size;
      ++buffer_index;
      buffers_total += g.size;
    }
  }
  return payloads;
}

// Where the original's writer ends the log: it refuses a frame that would
// end at or past the end of its last view (its check is `>=`).
uint64_t LogEnd(const Geometry& g) {
  return (g.num == 1 ? g.size - g.overlap : g.num * g.size) - 1;
}

// The limit the original's rules give a frame starting at `start`.
uint64_t FrameLimit(uint64_t start, const Geometry& g) {
  uint64_t k = start / g.size;
  return k + 1 >= g.num ? LogEnd(g) : (k + 1) * g.size + g.overlap;
}

// Appends frames of 1..`max_payload` bytes until the log is full, checking
// each against FrameLimit; returns the accepted payloads (committed).
std::vector<std::vector<uint8_t>> FillUntilExhausted(shmio::Pool& pool,
                                                     const Geometry& g,
                                                     size_t max_payload) {
  std::mt19937 random(20261202);
  std::uniform_int_distribution<size_t> payload_size(1, max_payload);
  std::vector<std::vector<uint8_t>> accepted;
  for (uint64_t i = 0;; ++i) {
    std::vector<uint8_t> payload = PatternPayload(i, payload_size(random));
    uint64_t start = pool.GetSize().uncommitted;
    absl::Status status = pool.Append(payload);
    if (absl::IsResourceExhausted(status)) break;
    EXPECT_TRUE(status.ok()) << status;
    if (!status.ok()) break;
    EXPECT_LE(start + payload.size() + 4, FrameLimit(start, g)) << "frame at " << start;
    accepted.push_back(std::move(payload));
  }
  EXPECT_TRUE(pool.Commit().ok());
  return accepted;
}

TEST(OverlapRuleTest,
     FramesWrittenWithAGeometryReadBackWithTheOriginalsReader) {
  const Geometry g = {.size = 2048, .num = 16, .overlap = 300};
  std::string path = shmio_test::TempPath("overlap");
  absl::StatusOr<shmio_test::Writer> w = shmio_test::OpenWriter(
      {.path = path, .size = g.size, .num = g.num, .overlap = g.overlap});
  ASSERT_TRUE(w.ok()) << w.status();

  // Payloads of 0..400 bytes: frames up to 404 > overlap, so some are
  // refused where they would cross a boundary by more than the overlap.
  std::mt19937 random(20261126);
  std::uniform_int_distribution<size_t> payload_size(0, 400);
  std::vector<std::vector<uint8_t>> accepted;
  int refused = 0;
  int crossing = 0;
  for (uint64_t i = 0;; ++i) {
    std::vector<uint8_t> payload = PatternPayload(i, payload_size(random));
    uint64_t start = w->pool->GetSize().uncommitted;
    uint64_t end = start + payload.size() + 4;
    absl::Status status = w->pool->Append(payload);
    if (absl::IsResourceExhausted(status)) {
      EXPECT_GT(end, LogEnd(g)) << "refused as full at " << start;
      break;
    }
    if (absl::IsFailedPrecondition(status)) {
      EXPECT_GT(end, FrameLimit(start, g))
          << "a frame the segment rule allows was refused at " << start << ": "
          << status;
      EXPECT_EQ(w->pool->GetSize().uncommitted, start);
      ++refused;
      continue;
    }
    ASSERT_TRUE(status.ok()) << status;
    ASSERT_LE(end, FrameLimit(start, g)) << "frame accepted at " << start;
    if (start / g.size != (end - 1) / g.size) ++crossing;
    accepted.push_back(std::move(payload));
    if (i % 5 == 0) {
      ASSERT_TRUE(w->pool->Commit().ok());
    }
  }
  ASSERT_TRUE(w->pool->Commit().ok());
  ASSERT_GT(refused, 0) << "the test must exercise the segment rule";
  ASSERT_GT(crossing, 0) << "the test must cross segment boundaries";
  ASSERT_GT(accepted.size(), 50u);

  absl::StatusOr<std::vector<std::vector<uint8_t>>> read =
      ReadLikeTheOriginal(shmio_test::ReadFileBytes(path), g);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->size(), accepted.size());
  EXPECT_EQ(*read, accepted);
}

TEST(OverlapRuleTest, TheIndependentReaderReadsAFileTheOriginalWrote) {
  // Guards the guard: on basic.shm, written by the original with
  // {4096, 4, 512}, this reader finds the manifest's 153 frames, with the
  // fixture's payload rule (length ((i*37) % 200) + 1, bytes i*31 + j*7).
  absl::StatusOr<std::vector<std::vector<uint8_t>>> read = ReadLikeTheOriginal(
      shmio_test::ReadFileBytes(
          shmio_test::RunfilePath("tests/fixtures/node-shmio/basic.shm")),
      {.size = 4096, .num = 4, .overlap = 512});
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->size(), 153u);
  for (uint64_t i = 0; i < read->size(); ++i) {
    const std::vector<uint8_t>& payload = (*read)[i];
    ASSERT_EQ(payload.size(), (i * 37) % 200 + 1) << "frame " << i;
    for (uint64_t j = 0; j < payload.size(); ++j) {
      ASSERT_EQ(payload[j], static_cast<uint8_t>(i * 31 + j * 7))
          << "frame " << i << " byte " << j;
    }
  }
}

TEST(OverlapRuleTest, TheIndependentReaderCatchesAFrameTheOriginalWouldCut) {
  // Guards the guard: a frame written past the overlap by hand is reported.
  const Geometry g = {.size = 1024, .num = 2, .overlap = 16};
  std::vector<uint8_t> file(2048, 0);
  auto put64 = [&](uint64_t offset, uint64_t v) {
    for (int b = 0; b < 8; ++b)
      file[offset + b] = static_cast<uint8_t>(v >> (8 * b));
  };
  put64(0, 24);
  put64(8, 1000);
  const uint64_t total = 100;  // 1000 + 100 > 1024 + 16
  file[1000] = total;
  file[1000 + total - 2] = total;
  put64(16, 1000 + total);
  absl::StatusOr<std::vector<std::vector<uint8_t>>> read =
      ReadLikeTheOriginal(file, g);
  EXPECT_TRUE(absl::IsDataLoss(read.status())) << read.status();
}

// With a single segment the original's one view is size - overlap long; a
// frame past it made the original's reader fail (TypeError) on our file.
TEST(OverlapRuleTest, SingleSegmentWithOverlapKeepsFramesInTheOriginalsView) {
  const Geometry g = {.size = 4096, .num = 1, .overlap = 512};
  std::string path = shmio_test::TempPath("single-segment");
  absl::StatusOr<shmio_test::Writer> w = shmio_test::OpenWriter(
      {.path = path, .size = g.size, .num = g.num, .overlap = g.overlap});
  ASSERT_TRUE(w.ok()) << w.status();
  std::vector<std::vector<uint8_t>> accepted = FillUntilExhausted(*w->pool, g, 60);
  EXPECT_LE(w->pool->GetSize().committed, g.size - g.overlap - 1);
  EXPECT_GT(w->pool->GetSize().committed, g.size - g.overlap - 64) << "and fills it";
  absl::StatusOr<std::vector<std::vector<uint8_t>>> read =
      ReadLikeTheOriginal(shmio_test::ReadFileBytes(path), g);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, accepted);
}

// The original's writer never ends a frame at num x size exactly (its check
// is `>=`), and a writer of it continuing a full log of ours that did failed
// with a TypeError instead of "Shared memory exhausted".
TEST(OverlapRuleTest, AFullLogLeavesTheLastByteAsTheOriginalDoes) {
  const Geometry g = {.size = 1024, .num = 4, .overlap = 128};
  std::string path = shmio_test::TempPath("last-byte");
  absl::StatusOr<shmio_test::Writer> w = shmio_test::OpenWriter(
      {.path = path, .size = g.size, .num = g.num, .overlap = g.overlap});
  ASSERT_TRUE(w.ok()) << w.status();
  // 256 + 6 + 766 x 5 = 4092: then an empty frame (4 bytes) would end at
  // exactly num x size = 4096.
  ASSERT_TRUE(w->pool->Append(PatternPayload(0, 2)).ok());
  for (int i = 1; i <= 766; ++i) {
    ASSERT_TRUE(w->pool->Append(PatternPayload(i, 1)).ok()) << "frame " << i;
  }
  ASSERT_EQ(w->pool->GetSize().uncommitted, 4092u);
  absl::Status last = w->pool->Append({});
  EXPECT_TRUE(absl::IsResourceExhausted(last)) << "a frame ends at the last byte";
  EXPECT_THAT(std::string(last.message()), testing::HasSubstr("Shared memory exhausted"));
  ASSERT_TRUE(w->pool->Commit().ok());
  EXPECT_LT(w->pool->GetSize().committed, g.num * g.size);
}

// With SHMIO_DEBUG=true the original's writer, before it appends at
// `position`, reads the u16 at position - 2 as the previous frame's trailing
// size t, and requires 4 <= t and the leading size at position - t to equal
// t -- also for the first frame of a log. On an empty log of ours that is
// the debug sentinel at 252..255 (format.h).
TEST(OverlapRuleTest, AnEmptyLogOfOursPassesTheOriginalsDebugCheck) {
  std::string path = shmio_test::TempPath("debug-sentinel");
  {
    absl::StatusOr<shmio_test::Writer> w = shmio_test::OpenWriter(
        {.path = path, .size = 4096, .num = 4, .overlap = 512});
    ASSERT_TRUE(w.ok()) << w.status();
  }
  std::vector<uint8_t> file = shmio_test::ReadFileBytes(path);
  const uint64_t position = DecodeU64(file, 16);  // committed: where it appends
  ASSERT_EQ(position, 256u);
  const uint64_t trailing = file[position - 2] | (file[position - 1] << 8);
  ASSERT_GE(trailing, 4u) << "the original's debug check fails on an empty log";
  ASSERT_LE(trailing, position);
  const uint64_t leading = file[position - trailing] | (file[position - trailing + 1] << 8);
  EXPECT_EQ(leading, trailing) << "the original's debug check fails on an empty log";
}

}  // namespace
