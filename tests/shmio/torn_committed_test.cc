// The original Node.js writer stores the 8 bytes of `committed` one at a
// time, so a reader can load a torn value: one that goes backwards, lies
// beyond the file, or does not end on a frame boundary. This test plays
// that writer through its own writable mapping of a Node-style file (header
// 24/24/committed, frames from 24), stores each new committed value byte by
// byte (low byte first, then high byte first), and lets a Consumer read
// after every store that changed the value. The Consumer must never deliver
// a frame on a torn value, must deliver every genuine frame exactly once in
// order, must say what is odd about a bad value (CommittedProblem) without
// giving up, and must deliver again as soon as the value completes, however
// long the writer stayed stopped in the middle of its store.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
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
#include "tests/shmio/numbered_frames.h"
#include "tests/shmio/test_util.h"

namespace {

using ::shmio::Consumer;
using ::shmio::SharedMemory;
using ::shmio_test::NumberedPayload;
using ::testing::HasSubstr;

// Capacity not a power of two, so that torn values can lie beyond the file.
constexpr uint64_t kCapacity = 3000;

// Plays the original Node.js writer on a file of kCapacity zero bytes,
// through its own MAP_SHARED writable mapping (the reader has another).
class NodeWriterSim {
 public:
  explicit NodeWriterSim(const std::string& path) {
    shmio_test::CreateZeroFile(path, kCapacity);
    int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    EXPECT_GE(fd, 0) << path;
    void* p =
        mmap(nullptr, kCapacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    EXPECT_NE(p, MAP_FAILED) << path;
    base_ = static_cast<uint8_t*>(p);
  }
  ~NodeWriterSim() { munmap(base_, kCapacity); }

  // The original's Pool constructor on a fresh file: 24/24/24.
  void Initialise() {
    StoreU64(0, 24);
    StoreU64(8, 24);
    StoreU64(16, 24);
    position_ = 24;
    committed_ = 24;
  }

  // Writes a frame after the last one; false when it does not fit.
  bool Append(const std::vector<uint8_t>& payload) {
    uint64_t total = payload.size() + 4;
    if (position_ + total > kCapacity) return false;
    uint16_t t = static_cast<uint16_t>(total);
    std::memcpy(base_ + position_, &t, 2);
    std::memcpy(base_ + position_ + 2, payload.data(), payload.size());
    std::memcpy(base_ + position_ + 2 + payload.size(), &t, 2);
    position_ += total;
    return true;
  }

  // Stores `committed` = position one byte at a time in the given order,
  // calling `after_store(value now in the header)` after each byte that
  // changed the value.
  template <typename Fn>
  void CommitByteByByte(bool low_byte_first, Fn after_store) {
    for (int step = 0; step < 8; ++step) {
      int b = low_byte_first ? step : 7 - step;
      uint8_t byte = static_cast<uint8_t>(position_ >> (8 * b));
      if (base_[16 + b] == byte) continue;
      // A plain byte store, as the original's writer does.
      base_[16 + b] = byte;
      uint64_t now;
      std::memcpy(&now, base_ + 16, sizeof now);
      after_store(now);
    }
    committed_ = position_;
  }

  void StoreCommitted(uint64_t value) { StoreU64(16, value); }
  uint64_t position() const { return position_; }
  uint64_t committed() const { return committed_; }

 private:
  void StoreU64(uint64_t offset, uint64_t v) {
    std::memcpy(base_ + offset, &v, sizeof v);
  }

  uint8_t* base_ = nullptr;
  uint64_t position_ = 0;
  uint64_t committed_ = 0;
};

// A Consumer over its own read-only mapping that checks every delivered
// frame is the next numbered payload.
class CheckingReader {
 public:
  explicit CheckingReader(const std::string& path) {
    absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
        shmio_test::OpenReader(path);
    EXPECT_TRUE(shm.ok()) << shm.status();
    if (shm.ok()) shm_ = *std::move(shm);
    consumer_ = std::make_unique<Consumer>(shm_.get());
  }

  // Reads what is there now; returns the number of frames delivered, or
  // the error the Consumer gave. Calls alternate between Consumer::Poll()
  // and Consumer::Next(), so both readers face every kind of torn value.
  absl::StatusOr<uint64_t> Poll() {
    use_poll_ = !use_poll_;
    if (use_poll_) {
      return consumer_->Poll([&](const shmio::Frame& frame) {
        absl::Status ok = shmio_test::CheckNumberedPayload(frame.payload, next_);
        EXPECT_TRUE(ok.ok()) << "frame at " << frame.offset << ": " << ok;
        ++next_;
      });
    }
    absl::StatusOr<shmio::Batch> batch = consumer_->Next();
    if (!batch.ok()) return batch.status();
    uint64_t delivered = 0;
    for (const shmio::Frame& frame : batch->frames) {
      absl::Status ok = shmio_test::CheckNumberedPayload(frame.payload, next_);
      EXPECT_TRUE(ok.ok()) << "frame at " << frame.offset << ": " << ok;
      ++next_;
      ++delivered;
    }
    EXPECT_TRUE(batch->frames.status().ok()) << batch->frames.status();
    return delivered;
  }

  uint64_t frames() const { return next_; }
  Consumer& consumer() { return *consumer_; }
  const SharedMemory& shm() const { return *shm_; }

 private:
  std::unique_ptr<SharedMemory> shm_;
  std::unique_ptr<Consumer> consumer_;
  uint64_t next_ = 0;
  bool use_poll_ = false;
};

TEST(TornCommittedTest, NoFrameIsEverDeliveredOnATornCommittedValue) {
  std::string path = shmio_test::TempPath("torn");
  NodeWriterSim writer(path);
  writer.Initialise();
  CheckingReader reader(path);

  std::set<uint64_t> boundaries = {24};  // every genuine frame end so far
  int backwards = 0, beyond_file = 0, off_boundary = 0, reported = 0;
  uint64_t seq = 0;
  bool low_byte_first = true;
  while (true) {
    // One frame per commit.
    const bool full = !writer.Append(NumberedPayload(seq));
    if (!full) {
      boundaries.insert(writer.position());
      ++seq;
    }
    const uint64_t before = writer.committed();
    // Store orders alternate, except that the commit entering the last
    // 256-byte page stores its high byte first: with kCapacity = 3000 that
    // produces a torn value beyond the end of the file.
    const bool into_last_page = (before >> 8) != (writer.position() >> 8) &&
                                (writer.position() >> 8) == (kCapacity >> 8);
    writer.CommitByteByByte(
        low_byte_first && !into_last_page, [&](uint64_t now) {
          // A torn value that happens to be a genuine frame end between the old
          // and the new committed value is indistinguishable from a commit and
          // harmless: those frames were written before the store began.
          const bool usable = now == writer.position() ||
                              (boundaries.count(now) > 0 && now > before &&
                               now <= writer.position());
          if (!usable) {
            if (now < before) {
              ++backwards;
            } else if (now > kCapacity) {
              ++beyond_file;
            } else {
              ++off_boundary;
            }
          }
          // The value stays torn for the whole call (this thread is the
          // writer), so the Consumer answers "nothing yet": never frames,
          // never an error (the store may complete at any moment).
          absl::StatusOr<uint64_t> delivered = reader.Poll();
          ASSERT_TRUE(delivered.ok())
              << "value " << now << ": " << delivered.status();
          absl::Status problem = reader.consumer().CommittedProblem();
          if (usable) {
            EXPECT_TRUE(problem.ok()) << "value " << now << ": " << problem;
            return;
          }
          EXPECT_EQ(*delivered, 0u)
              << "frames delivered on torn value " << now << " (before "
              << before << ", after " << writer.position() << ")";
          ++reported;
          EXPECT_TRUE(absl::IsDataLoss(problem)) << problem;
          EXPECT_THAT(std::string(problem.message()), HasSubstr(absl::StrCat(now)))
              << "the problem names the bad value";
          EXPECT_THAT(std::string(problem.message()), HasSubstr("Node.js writer"))
              << "and says a Node writer may be mid-commit";
        });
    if (HasFatalFailure()) return;
    absl::StatusOr<uint64_t> last = reader.Poll();
    ASSERT_TRUE(last.ok()) << "after the store completed: " << last.status();
    EXPECT_EQ(reader.frames(), seq) << "every genuine frame, once, in order, "
                                       "after the commit at "
                                    << writer.position();
    if (full) break;
    low_byte_first = !low_byte_first;
  }
  EXPECT_GT(seq, 30u);
  // The run must have produced each kind of torn value at least once.
  EXPECT_GT(backwards, 0);
  EXPECT_GT(beyond_file, 0);
  EXPECT_GT(off_boundary, 0);
  EXPECT_EQ(reported, backwards + beyond_file + off_boundary)
      << "every torn value is described by CommittedProblem()";
}

// How long the persistent-value tests keep the bad value: ten times the
// 20 ms after which readers used to call such a value damage and give up.
constexpr absl::Duration kStall = absl::Milliseconds(200);

// Reads for `kStall` while a bad value stays in the header: every read must
// succeed with no frame (never an error: the value may still complete).
// Returns what CommittedProblem() says at the end.
absl::Status ReadThroughAStall(CheckingReader& reader) {
  const absl::Time until = absl::Now() + kStall;
  while (absl::Now() < until) {
    absl::StatusOr<uint64_t> delivered = reader.Poll();
    EXPECT_TRUE(delivered.ok()) << delivered.status();
    if (delivered.ok()) {
      EXPECT_EQ(*delivered, 0u) << "frames delivered on a bad committed value";
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  EXPECT_GE(reader.consumer().CommittedProblemAge(), kStall - absl::Milliseconds(10))
      << "the problem's age covers the stall";
  return reader.consumer().CommittedProblem();
}

// A Node log with 10 committed frames and a reader over it.
struct ReadLog {
  ReadLog() {
    writer.Initialise();
    for (uint64_t seq = 0; seq < 10; ++seq) writer.Append(NumberedPayload(seq));
    writer.StoreCommitted(writer.position());
    reader = std::make_unique<CheckingReader>(path);
  }
  // One more frame, and a commit of it that `StoreCommitted` then completes.
  void AppendEleventhFrame() { writer.Append(NumberedPayload(10)); }

  std::string path = shmio_test::TempPath("persistent");
  NodeWriterSim writer{path};
  std::unique_ptr<CheckingReader> reader;
};

TEST(TornCommittedTest, ValueStuckInsideAFrameIsDescribedAndReadingResumesAfterIt) {
  ReadLog log;
  ASSERT_EQ(*log.reader->Poll(), 10u);
  log.AppendEleventhFrame();
  const uint64_t bad = log.writer.position() - 5;  // inside the new frame
  log.writer.StoreCommitted(bad);
  absl::Status problem = ReadThroughAStall(*log.reader);
  EXPECT_TRUE(absl::IsDataLoss(problem)) << problem;
  EXPECT_THAT(std::string(problem.message()), HasSubstr(absl::StrCat(bad)));
  EXPECT_THAT(std::string(problem.message()), HasSubstr(log.path));
  EXPECT_THAT(std::string(problem.message()), HasSubstr("Node.js writer"));

  // The stopped writer completes its store: the frame comes, once.
  log.writer.StoreCommitted(log.writer.position());
  absl::StatusOr<uint64_t> delivered = log.reader->Poll();
  ASSERT_TRUE(delivered.ok()) << delivered.status();
  EXPECT_EQ(*delivered, 1u);
  EXPECT_TRUE(log.reader->consumer().CommittedProblem().ok());
  EXPECT_EQ(log.reader->consumer().CommittedProblemAge(), absl::ZeroDuration());
}

TEST(TornCommittedTest, ValueStuckBeyondTheFileIsDescribedAndReadingResumesAfterIt) {
  ReadLog log;
  ASSERT_EQ(*log.reader->Poll(), 10u);
  log.AppendEleventhFrame();
  const uint64_t bad = (uint64_t{1} << 40) + 24;
  log.writer.StoreCommitted(bad);
  absl::Status problem = ReadThroughAStall(*log.reader);
  EXPECT_TRUE(absl::IsDataLoss(problem)) << problem;
  EXPECT_THAT(std::string(problem.message()), HasSubstr(absl::StrCat(bad)));
  log.writer.StoreCommitted(log.writer.position());
  absl::StatusOr<uint64_t> delivered = log.reader->Poll();
  ASSERT_TRUE(delivered.ok()) << delivered.status();
  EXPECT_EQ(*delivered, 1u);
}

TEST(TornCommittedTest, ValueStuckGoingBackwardsIsDescribedNamingTheValidatedValue) {
  ReadLog log;
  ASSERT_EQ(*log.reader->Poll(), 10u);
  const uint64_t bad = 24;  // a log rewritten in place, or damage
  log.writer.StoreCommitted(bad);
  absl::Status problem = ReadThroughAStall(*log.reader);
  EXPECT_TRUE(absl::IsDataLoss(problem)) << problem;
  EXPECT_THAT(std::string(problem.message()),
              HasSubstr(absl::StrCat(log.writer.position())))
      << "names the value it had validated before";
}

TEST(TornCommittedTest, AllZeroHeaderIsAnEmptyLogUntilTheWriterStarts) {
  std::string path = shmio_test::TempPath("all-zero");
  NodeWriterSim writer(path);  // the file is all zero bytes
  CheckingReader reader(path);
  EXPECT_EQ(reader.shm().ReadHeader().format, shmio::FileFormat::kEmpty);
  absl::StatusOr<uint64_t> committed = reader.consumer().Committed();
  ASSERT_TRUE(committed.ok()) << committed.status();
  EXPECT_EQ(*committed, 0u);
  // Still empty and still fine for a long while: a writer that has not
  // started is not damage.
  absl::Time until = absl::Now() + kStall;
  do {
    absl::StatusOr<uint64_t> delivered = reader.Poll();
    ASSERT_TRUE(delivered.ok()) << delivered.status();
    EXPECT_EQ(*delivered, 0u);
    absl::SleepFor(absl::Milliseconds(5));
  } while (absl::Now() < until);
  std::vector<uint8_t> zeros(kCapacity, 0);
  EXPECT_EQ(shmio_test::ReadFileBytes(path), zeros)
      << "a reader wrote to the file";

  writer.Initialise();
  for (uint64_t seq = 0; seq < 3; ++seq) writer.Append(NumberedPayload(seq));
  writer.StoreCommitted(writer.position());
  absl::StatusOr<uint64_t> delivered = reader.Poll();
  ASSERT_TRUE(delivered.ok()) << delivered.status();
  EXPECT_EQ(*delivered, 3u);
}

}  // namespace
