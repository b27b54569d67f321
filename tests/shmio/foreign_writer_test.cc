// A second writer that ignores the writer lock (the original Node.js
// library takes none, and stores `committed` one byte at a time) commits
// frames behind our Pool's back. The Pool must notice that `committed` is no
// longer what it stored last and refuse, naming the file and both values,
// instead of storing its own value over it (which would move `committed`
// backwards and silently drop the other writer's committed frames).
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "tests/shmio/log_util.h"
#include "tests/shmio/test_util.h"

namespace {

using ::shmio_test::PatternPayload;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr uint64_t kCapacity = 1 << 16;

// The original's writer, continuing a log through its own mapping: frames
// at `committed`, then `committed` stored one byte at a time. No lock.
class LockIgnoringWriter {
 public:
  explicit LockIgnoringWriter(const std::string& path) {
    int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    EXPECT_GE(fd, 0) << path;
    void* p = mmap(nullptr, kCapacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    EXPECT_NE(p, MAP_FAILED);
    base_ = static_cast<uint8_t*>(p);
  }
  ~LockIgnoringWriter() { munmap(base_, kCapacity); }

  // Appends one frame per payload at the committed value and commits them.
  void CommitFrames(const std::vector<std::vector<uint8_t>>& payloads) {
    uint64_t position = committed();
    for (const std::vector<uint8_t>& payload : payloads) {
      uint16_t total = static_cast<uint16_t>(payload.size() + 4);
      std::memcpy(base_ + position, &total, 2);
      std::memcpy(base_ + position + 2, payload.data(), payload.size());
      std::memcpy(base_ + position + 2 + payload.size(), &total, 2);
      position += total;
    }
    for (int b = 0; b < 8; ++b) base_[16 + b] = static_cast<uint8_t>(position >> (8 * b));
  }

  uint64_t committed() const {
    uint64_t value;
    std::memcpy(&value, base_ + 16, sizeof value);
    return value;
  }

 private:
  uint8_t* base_ = nullptr;
};

class ForeignWriterTest : public testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<shmio_test::Writer> writer =
        shmio_test::OpenWriter({.path = path_, .capacity = kCapacity});
    ASSERT_TRUE(writer.ok()) << writer.status();
    writer_ = *std::move(writer);
    for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(Pool().Append(PatternPayload(i, 10)).ok());
    ASSERT_TRUE(Pool().Commit().ok());
  }

  shmio::Pool& Pool() { return *writer_.pool; }

  // The payloads a fresh reader finds.
  std::vector<std::vector<uint8_t>> Read() {
    absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> reader =
        shmio_test::OpenReader(path_);
    EXPECT_TRUE(reader.ok()) << reader.status();
    return shmio_test::ReadCommittedPayloads(**reader);
  }

  // The refusal names the file and both committed values.
  void ExpectRefusal(const absl::Status& status, uint64_t ours, uint64_t theirs) {
    EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
    EXPECT_THAT(std::string(status.message()),
                AllOf(HasSubstr(path_), HasSubstr(absl::StrCat(ours)),
                      HasSubstr(absl::StrCat(theirs)), HasSubstr("writer lock")));
  }

  std::string path_ = shmio_test::TempPath("foreign");
  shmio_test::Writer writer_;
};

TEST_F(ForeignWriterTest, AppendAfterAForeignCommitIsRefusedAndItsFramesAreKept) {
  const uint64_t ours = Pool().GetSize().committed;
  LockIgnoringWriter node(path_);
  node.CommitFrames({PatternPayload(100, 7), PatternPayload(101, 8)});
  const uint64_t theirs = node.committed();

  absl::Status appended = Pool().Append(PatternPayload(3, 10));
  ExpectRefusal(appended, ours, theirs);
  EXPECT_TRUE(Pool().Commit().ok()) << "nothing pending: nothing to refuse";
  EXPECT_EQ(node.committed(), theirs) << "committed moved backwards";

  std::vector<std::vector<uint8_t>> expected;
  for (uint64_t i = 0; i < 3; ++i) expected.push_back(PatternPayload(i, 10));
  expected.push_back(PatternPayload(100, 7));
  expected.push_back(PatternPayload(101, 8));
  EXPECT_EQ(Read(), expected) << "the other writer's frames were dropped";
}

TEST_F(ForeignWriterTest, CommitAfterAForeignCommitIsRefusedAndStoresNothing) {
  const uint64_t ours = Pool().GetSize().committed;
  ASSERT_TRUE(Pool().Append(PatternPayload(3, 10)).ok());  // before the other writer
  LockIgnoringWriter node(path_);
  node.CommitFrames({PatternPayload(100, 7)});  // at the same place
  const uint64_t theirs = node.committed();

  absl::Status committed = Pool().Commit();
  ExpectRefusal(committed, ours, theirs);
  EXPECT_EQ(node.committed(), theirs) << "our value was stored over theirs";
  EXPECT_EQ(Read().back(), PatternPayload(100, 7));
  // And it stays refused: this writer can no longer continue the log.
  ExpectRefusal(Pool().Commit(), ours, theirs);
}

TEST_F(ForeignWriterTest, ReopeningAfterTheOtherWriterStoppedContinuesAfterItsFrames) {
  LockIgnoringWriter node(path_);
  node.CommitFrames({PatternPayload(100, 7)});
  writer_.Close();
  absl::StatusOr<shmio_test::Writer> writer =
      shmio_test::OpenWriter({.path = path_, .capacity = kCapacity});
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE(writer->pool->Append(PatternPayload(4, 10)).ok());
  ASSERT_TRUE(writer->pool->Commit().ok());
  std::vector<std::vector<uint8_t>> got = Read();
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[3], PatternPayload(100, 7));
  EXPECT_EQ(got[4], PatternPayload(4, 10));
}

}  // namespace
