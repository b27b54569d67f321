// Readers never trust the file: a damaged frame (leading size below 4, a
// size that runs past `committed` or past the mapping, a trailing size that
// disagrees under debug checks) ends the walk with DataLoss naming the path
// and the offset, never an out-of-bounds read, and the reader writes
// nothing. The damage is done with pwrite on a log written by a Pool.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shmio/consumer.h"
#include "shmio/iterator.h"
#include "shmio/shared_memory.h"
#include "tests/shmio/log_util.h"
#include "tests/shmio/test_util.h"

namespace {

using ::shmio::Consumer;
using ::shmio::FrameRange;
using ::shmio::ReverseFrameRange;
using ::shmio::SharedMemory;
using ::shmio_test::PatternPayload;
using ::shmio_test::WriteU16At;
using ::testing::HasSubstr;

// Five 10-byte payloads: frames of 14 bytes at these offsets.
constexpr uint64_t kFrameAt[] = {256, 270, 284, 298, 312};
constexpr uint64_t kCommitted = 326;

// What a walk over a range found.
struct Walk {
  std::vector<uint64_t> offsets;
  absl::Status status;
};

template <typename Range>
Walk WalkAll(Range range) {
  Walk walk;
  for (const shmio::Frame& frame : range) walk.offsets.push_back(frame.offset);
  walk.status = range.status();
  return walk;
}

class ReaderDamageTest : public ::testing::Test {
 protected:
  // Writes the five frames (or `payload_sizes`) into a fresh log of
  // `capacity` bytes and closes the writer.
  void WriteLog(uint64_t capacity = 4096,
                std::vector<size_t> payload_sizes = {10, 10, 10, 10, 10}) {
    absl::StatusOr<shmio_test::Writer> w =
        shmio_test::OpenWriter({.path = path_, .capacity = capacity});
    ASSERT_TRUE(w.ok()) << w.status();
    for (size_t i = 0; i < payload_sizes.size(); ++i) {
      ASSERT_TRUE(w->pool->Append(PatternPayload(i, payload_sizes[i])).ok());
    }
    ASSERT_TRUE(w->pool->Commit().ok());
  }

  // Opens the damaged log read-only and remembers its bytes, which no
  // reader may change (checked in TearDown).
  std::unique_ptr<SharedMemory> OpenDamaged(bool debug_checks = false) {
    before_ = shmio_test::ReadFileBytes(path_);
    absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
        SharedMemory::Open({.path = path_, .debug_checks = debug_checks});
    EXPECT_TRUE(shm.ok()) << shm.status();
    return shm.ok() ? *std::move(shm) : nullptr;
  }

  void TearDown() override {
    if (!before_.empty()) {
      EXPECT_EQ(shmio_test::ReadFileBytes(path_), before_)
          << "a reader wrote to the damaged file";
    }
  }

  // Reads once with a Consumer, through Poll() when `use_poll`, else
  // Next(), copying the offsets of what it delivers.
  absl::Status ConsumeOnce(Consumer& consumer, bool use_poll,
                           std::vector<uint64_t>* delivered) {
    if (use_poll) {
      absl::StatusOr<size_t> frames = consumer.Poll(
          [&](const shmio::Frame& frame) { delivered->push_back(frame.offset); });
      return frames.status();
    }
    absl::StatusOr<shmio::Batch> batch = consumer.Next();
    if (!batch.ok()) return batch.status();
    for (const shmio::Frame& frame : batch->frames) {
      delivered->push_back(frame.offset);
    }
    return batch->frames.status();
  }

  // ConsumeOnce() until it reports an error (at most a few calls: the
  // frames before the damage come first, then the error).
  absl::Status ConsumeUntilError(Consumer& consumer, bool use_poll,
                                 std::vector<uint64_t>* delivered) {
    for (int call = 0; call < 4; ++call) {
      absl::Status status = ConsumeOnce(consumer, use_poll, delivered);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }

  std::string path_ = shmio_test::TempPath("damaged");
  std::vector<uint8_t> before_;
};

TEST_F(ReaderDamageTest, LeadingSizeBelowFourIsDataLossNamingTheOffset) {
  WriteLog();
  for (uint16_t size : {0, 1, 2, 3}) {
    WriteU16At(path_, kFrameAt[2], size);
    std::unique_ptr<SharedMemory> shm = OpenDamaged();
    ASSERT_NE(shm, nullptr);
    Walk walk = WalkAll(FrameRange(*shm, 256, kCommitted));
    EXPECT_THAT(walk.offsets, testing::ElementsAre(256, 270))
        << "size " << size;
    EXPECT_TRUE(absl::IsDataLoss(walk.status)) << walk.status;
    EXPECT_THAT(std::string(walk.status.message()),
                HasSubstr(absl::StrCat("offset ", kFrameAt[2])));
    EXPECT_THAT(std::string(walk.status.message()), HasSubstr(path_));
  }
}

TEST_F(ReaderDamageTest, SizeRunningPastCommittedIsDataLossNamingTheOffset) {
  WriteLog();
  WriteU16At(path_, kFrameAt[4], 100);  // would run to 412 > 326
  std::unique_ptr<SharedMemory> shm = OpenDamaged();
  ASSERT_NE(shm, nullptr);
  Walk walk = WalkAll(FrameRange(*shm, 256, kCommitted));
  EXPECT_EQ(walk.offsets.size(), 4u);
  EXPECT_TRUE(absl::IsDataLoss(walk.status)) << walk.status;
  EXPECT_THAT(std::string(walk.status.message()),
              HasSubstr(absl::StrCat("offset ", kFrameAt[4])));
}

// Damage inside a range the Consumer has not validated yet looks, to a
// reader, like a committed value that is not on a frame boundary (a torn one
// looks the same): nothing of that range is delivered, never an error that
// stops a follower, and CommittedProblem() names the damaged offset.
TEST_F(ReaderDamageTest, DamageInAnUnvalidatedRangeIsNeverDeliveredAndIsDescribed) {
  WriteLog();
  WriteU16At(path_, kFrameAt[2], 2);
  std::unique_ptr<SharedMemory> shm = OpenDamaged();
  ASSERT_NE(shm, nullptr);
  for (bool use_poll : {false, true}) {
    SCOPED_TRACE(use_poll ? "Poll()" : "Next()");
    Consumer consumer(shm.get());
    std::vector<uint64_t> delivered;
    for (int round = 0; round < 20; ++round) {
      absl::Status status = ConsumeOnce(consumer, use_poll, &delivered);
      ASSERT_TRUE(status.ok()) << status;
    }
    EXPECT_TRUE(delivered.empty()) << "delivered a frame of an unvalidated range";
    absl::Status problem = consumer.CommittedProblem();
    EXPECT_TRUE(absl::IsDataLoss(problem)) << problem;
    EXPECT_THAT(std::string(problem.message()),
                HasSubstr(absl::StrCat("offset ", kFrameAt[2])));
  }
}

// Damage below a committed value the Consumer has validated is DataLoss at
// once, after the frames before it.
TEST_F(ReaderDamageTest, DamageBelowAValidatedCommittedIsDataLossAtOnce) {
  WriteLog();
  std::unique_ptr<SharedMemory> shm = OpenDamaged();
  ASSERT_NE(shm, nullptr);
  for (bool use_poll : {false, true}) {
    SCOPED_TRACE(use_poll ? "Poll()" : "Next()");
    WriteU16At(path_, kFrameAt[2], kFrameAt[1] - kFrameAt[0]);  // healthy again
    Consumer consumer(shm.get());
    ASSERT_TRUE(consumer.Committed().ok());  // validates the whole log
    WriteU16At(path_, kFrameAt[2], 2);
    std::vector<uint64_t> delivered;
    absl::Status status = ConsumeOnce(consumer, use_poll, &delivered);
    if (status.ok()) status = ConsumeOnce(consumer, use_poll, &delivered);
    EXPECT_TRUE(absl::IsDataLoss(status)) << status;
    EXPECT_THAT(std::string(status.message()),
                HasSubstr(absl::StrCat("offset ", kFrameAt[2])));
    EXPECT_THAT(delivered, testing::ElementsAre(kFrameAt[0], kFrameAt[1]));
    WriteU16At(path_, kFrameAt[2], kFrameAt[1] - kFrameAt[0]);  // as TearDown expects
  }
}

TEST_F(ReaderDamageTest, FrameSizeRunningPastTheMappingIsNeverRead) {
  // 30 frames of 128 bytes fill the 4096-byte file (one page) exactly, so
  // a size read at face value would run off the end of the mapping.
  WriteLog(4096, std::vector<size_t>(30, 124));
  const uint64_t last = 4096 - 128;
  WriteU16At(path_, last, 0xFFFF);
  WriteU16At(path_, 4096 - 2, 0xFFFF);
  std::unique_ptr<SharedMemory> shm = OpenDamaged(/*debug_checks=*/true);
  ASSERT_NE(shm, nullptr);
  ASSERT_EQ(shm->capacity(), 4096u);

  Walk forward = WalkAll(FrameRange(*shm, 256, 4096));
  EXPECT_EQ(forward.offsets.size(), 29u);
  EXPECT_TRUE(absl::IsDataLoss(forward.status)) << forward.status;
  EXPECT_THAT(std::string(forward.status.message()),
              HasSubstr(absl::StrCat("offset ", last)));

  Walk backward = WalkAll(ReverseFrameRange(*shm, 256, 4096));
  EXPECT_TRUE(backward.offsets.empty());
  EXPECT_TRUE(absl::IsDataLoss(backward.status)) << backward.status;
  EXPECT_THAT(std::string(backward.status.message()),
              HasSubstr(absl::StrCat(4096 - 2)));
}

TEST_F(ReaderDamageTest, TrailingMismatchIsDebugDataLossWithDebugChecks) {
  WriteLog();
  WriteU16At(path_, kFrameAt[1] + 12, 99);  // frame 1's trailing size
  std::unique_ptr<SharedMemory> shm = OpenDamaged(/*debug_checks=*/true);
  ASSERT_NE(shm, nullptr);

  Walk walk = WalkAll(FrameRange(*shm, 256, kCommitted));
  EXPECT_THAT(walk.offsets, testing::ElementsAre(256));
  EXPECT_TRUE(absl::IsDataLoss(walk.status)) << walk.status;
  EXPECT_THAT(std::string(walk.status.message()), HasSubstr("[DEBUG]"));
  EXPECT_THAT(std::string(walk.status.message()),
              HasSubstr(absl::StrCat("offset ", kFrameAt[1])));

  for (bool use_poll : {false, true}) {
    SCOPED_TRACE(use_poll ? "Poll()" : "Next()");
    Consumer consumer(shm.get());
    std::vector<uint64_t> delivered;
    absl::Status status = ConsumeUntilError(consumer, use_poll, &delivered);
    EXPECT_THAT(delivered, testing::ElementsAre(256));
    EXPECT_TRUE(absl::IsDataLoss(status)) << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr("[DEBUG]"));
  }
}

TEST_F(ReaderDamageTest, TrailingMismatchPassesWithoutDebugChecks) {
  if (shmio::DebugFromEnvironment()) {
    GTEST_SKIP() << "SHMIO_DEBUG=true turns debug checks on everywhere";
  }
  WriteLog();
  WriteU16At(path_, kFrameAt[1] + 12, 99);
  std::unique_ptr<SharedMemory> shm = OpenDamaged(/*debug_checks=*/false);
  ASSERT_NE(shm, nullptr);
  // Only the leading sizes are followed (one compare per frame); the
  // trailing copy is checked under debug checks, as in the original.
  Walk walk = WalkAll(FrameRange(*shm, 256, kCommitted, /*debug=*/false));
  EXPECT_EQ(walk.offsets.size(), 5u);
  EXPECT_TRUE(walk.status.ok()) << walk.status;
}

TEST_F(ReaderDamageTest, ReverseWalkOverABadTrailingSizeIsDataLoss) {
  WriteLog();
  for (uint16_t trailing : {2, 200}) {
    WriteU16At(path_, kCommitted - 2, trailing);  // the last frame's
    std::unique_ptr<SharedMemory> shm = OpenDamaged();
    ASSERT_NE(shm, nullptr);
    Walk walk = WalkAll(ReverseFrameRange(*shm, 256, kCommitted));
    EXPECT_TRUE(walk.offsets.empty()) << "trailing " << trailing;
    EXPECT_TRUE(absl::IsDataLoss(walk.status)) << walk.status;
    EXPECT_THAT(std::string(walk.status.message()),
                HasSubstr(absl::StrCat(kCommitted - 2)));
  }
}

// A reverse walk compares every frame's leading size with its trailing
// size, with or without debug checks (it is the only way it can tell a
// damaged trailing size from a frame).
TEST_F(ReaderDamageTest, ReverseWalkAlwaysComparesTheLeadingSize) {
  WriteLog();
  WriteU16At(path_, kFrameAt[3], 15);  // frame 3's leading size
  for (bool debug : {false, true}) {
    SCOPED_TRACE(debug ? "debug checks" : "no debug checks");
    std::unique_ptr<SharedMemory> shm = OpenDamaged(debug);
    ASSERT_NE(shm, nullptr);
    Walk walk = WalkAll(ReverseFrameRange(*shm, 256, kCommitted));
    EXPECT_THAT(walk.offsets, testing::ElementsAre(kFrameAt[4]));
    EXPECT_TRUE(absl::IsDataLoss(walk.status)) << walk.status;
    EXPECT_THAT(std::string(walk.status.message()),
                HasSubstr(absl::StrCat("offset ", kFrameAt[3])));
  }
}

// The case found by hostile testing: [8|AAAA|8][8|BBBB|16]. The forward walk
// reads two frames by their leading sizes; the reverse walk must not read
// the second frame's damaged trailing size 16 as one invented frame of 16
// bytes spanning both, but report the damage, naming the offset.
TEST_F(ReaderDamageTest, ReverseWalkNeverInventsAFrameFromADamagedTrailingSize) {
  std::string path = shmio_test::TempPath("two-frames");
  {
    absl::StatusOr<shmio_test::Writer> w =
        shmio_test::OpenWriter({.path = path, .capacity = 4096});
    ASSERT_TRUE(w.ok()) << w.status();
    const std::vector<uint8_t> a(4, 'A'), b(4, 'B');
    ASSERT_TRUE(w->pool->Append(a).ok());
    ASSERT_TRUE(w->pool->Append(b).ok());
    ASSERT_TRUE(w->pool->Commit().ok());
  }
  WriteU16At(path, 256 + 8 + 6, 16);  // the second frame's trailing size
  absl::StatusOr<std::unique_ptr<SharedMemory>> shm = shmio_test::OpenReader(path);
  ASSERT_TRUE(shm.ok()) << shm.status();
  Walk forward = WalkAll(shmio::FrameRange(**shm, 256, 272, /*debug=*/false));
  EXPECT_THAT(forward.offsets, testing::ElementsAre(256u, 264u));
  Walk reverse = WalkAll(ReverseFrameRange(**shm, 256, 272));
  EXPECT_TRUE(reverse.offsets.empty()) << "the reverse walk invented a frame";
  EXPECT_TRUE(absl::IsDataLoss(reverse.status)) << reverse.status;
  EXPECT_THAT(std::string(reverse.status.message()), HasSubstr("offset 256"));
  EXPECT_THAT(std::string(reverse.status.message()), HasSubstr(path));
}

TEST_F(ReaderDamageTest, RangeOutsideTheFileIsEmptyWithAnError) {
  WriteLog();
  std::unique_ptr<SharedMemory> shm = OpenDamaged();
  ASSERT_NE(shm, nullptr);
  Walk walk = WalkAll(FrameRange(*shm, 256, 4096 + 14));
  EXPECT_TRUE(walk.offsets.empty());
  EXPECT_FALSE(walk.status.ok());
  EXPECT_THAT(std::string(walk.status.message()), HasSubstr(path_));
}

}  // namespace
