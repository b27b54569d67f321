// The writer side of the doorbell (DESIGN.md 4): stores into the mapping
// raise no inotify event, so a reader about to sleep arms the doorbell and
// the writer's next Commit() rings it with one syscall that raises IN_MODIFY.
// Unarmed commits make no syscall and raise no event. Checked with a real
// inotify descriptor on the log file, and across processes.
#include "shmio/doorbell.h"

#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "tests/shmio/log_util.h"
#include "tests/shmio/test_util.h"

namespace {

using ::shmio::Doorbell;
using ::shmio_test::PatternPayload;

// An inotify descriptor watching one file for IN_MODIFY, non-blocking so
// that counting the queued events never waits: the kernel queues an event
// inside the syscall that causes it, before that syscall returns.
class ModifyWatch {
 public:
  explicit ModifyWatch(const std::string& path)
      : fd_(inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    EXPECT_GE(fd_, 0);
    EXPECT_GE(inotify_add_watch(fd_, path.c_str(), IN_MODIFY), 0) << path;
  }
  ~ModifyWatch() { close(fd_); }

  // Returns how many IN_MODIFY events are queued now, and removes them.
  int Drain() {
    int events = 0;
    alignas(struct inotify_event) char buffer[4096];
    while (true) {
      ssize_t n = read(fd_, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      for (ssize_t at = 0; at < n;) {
        const auto* event =
            reinterpret_cast<const struct inotify_event*>(buffer + at);
        if (event->mask & IN_MODIFY) ++events;
        at += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
      }
    }
    return events;
  }

 private:
  int fd_;
};

class DoorbellTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<shmio_test::Writer> w =
        shmio_test::OpenWriter({.path = path_, .capacity = 1 << 16});
    ASSERT_TRUE(w.ok()) << w.status();
    writer_ = *std::move(w);
  }

  void AppendAndCommit(uint64_t seed) {
    ASSERT_TRUE(writer_.pool->Append(PatternPayload(seed, 16)).ok());
    ASSERT_TRUE(writer_.pool->Commit().ok());
  }

  std::string path_ = shmio_test::TempPath("doorbell");
  shmio_test::Writer writer_;
};

TEST_F(DoorbellTest, UnarmedCommitsNeitherRingNorRaiseAnEvent) {
  ModifyWatch watch(path_);
  for (uint64_t i = 0; i < 100; ++i) AppendAndCommit(i);
  EXPECT_EQ(writer_.pool->doorbell_rings(), 0u);
  EXPECT_EQ(watch.Drain(), 0) << "stores into the mapping raised events";
}

TEST_F(DoorbellTest, AnArmedReaderIsRungOnceByTheNextCommit) {
  absl::StatusOr<std::unique_ptr<Doorbell>> bell = Doorbell::Open(path_);
  ASSERT_TRUE(bell.ok()) << bell.status();
  ModifyWatch watch(path_);

  EXPECT_EQ((*bell)->ArmAndLoadCommitted(), 256u) << "nothing committed yet";
  AppendAndCommit(1);
  EXPECT_EQ(writer_.pool->doorbell_rings(), 1u);
  EXPECT_GE(watch.Drain(), 1) << "the ring raised IN_MODIFY";

  // The ring disarmed the doorbell: later commits cost nothing until the
  // reader arms it again.
  AppendAndCommit(2);
  AppendAndCommit(3);
  EXPECT_EQ(writer_.pool->doorbell_rings(), 1u);
  EXPECT_EQ(watch.Drain(), 0);

  (*bell)->ArmAndLoadCommitted();
  AppendAndCommit(4);
  EXPECT_EQ(writer_.pool->doorbell_rings(), 2u);
  EXPECT_GE(watch.Drain(), 1);
}

TEST_F(DoorbellTest, ArmingReturnsTheCommittedValueSoAReaderDrainsFirst) {
  absl::StatusOr<std::unique_ptr<Doorbell>> bell = Doorbell::Open(path_);
  ASSERT_TRUE(bell.ok()) << bell.status();
  AppendAndCommit(1);
  // A reader that last saw 256 arms and learns the log moved: it must drain
  // instead of sleeping (no event is coming for that commit).
  EXPECT_EQ((*bell)->ArmAndLoadCommitted(), writer_.pool->GetSize().committed);
}

TEST_F(DoorbellTest, ACommitWithNothingNewDoesNotRing) {
  absl::StatusOr<std::unique_ptr<Doorbell>> bell = Doorbell::Open(path_);
  ASSERT_TRUE(bell.ok()) << bell.status();
  (*bell)->ArmAndLoadCommitted();
  ASSERT_TRUE(writer_.pool->Commit().ok());
  EXPECT_EQ(writer_.pool->doorbell_rings(), 0u);
  AppendAndCommit(1);
  EXPECT_EQ(writer_.pool->doorbell_rings(), 1u) << "still armed until then";
}

TEST_F(DoorbellTest, AWriterInAnotherProcessRingsTheReadersDoorbell) {
  // Hand the file to a child writer: release this process's writer first.
  writer_.Close();
  absl::StatusOr<std::unique_ptr<Doorbell>> bell = Doorbell::Open(path_);
  ASSERT_TRUE(bell.ok()) << bell.status();
  ModifyWatch watch(path_);
  (*bell)->ArmAndLoadCommitted();

  // The child opens the log, then waits for the go-ahead, so that only the
  // commit's ring can raise the events counted below.
  shmio_test::Pipe opened;
  shmio_test::Pipe go;
  shmio_test::ScopedChild child(shmio_test::ForkChild([&] {
    opened.CloseRead();
    go.CloseWrite();
    absl::StatusOr<shmio_test::Writer> w =
        shmio_test::OpenWriter({.path = path_});
    if (!w.ok() || !opened.Send(1)) return 1;
    uint64_t unused;
    if (!go.Receive(&unused)) return 2;
    if (!w->pool->Append(PatternPayload(9, 16)).ok()) return 3;
    if (!w->pool->Commit().ok()) return 4;
    return w->pool->doorbell_rings() == 1 ? 0 : 5;
  }));
  opened.CloseWrite();
  go.CloseRead();
  uint64_t unused;
  ASSERT_TRUE(opened.Receive(&unused)) << "the child writer could not open";
  watch.Drain();
  ASSERT_TRUE(go.Send(1));
  ASSERT_EQ(child.Wait(), 0);
  EXPECT_GE(watch.Drain(), 1) << "the reader would have slept through it";
}

TEST(DoorbellOpenTest, NodeFileHasNoDoorbell) {
  std::string copy = shmio_test::CopyNodeFixture("basic.shm");
  absl::StatusOr<std::unique_ptr<Doorbell>> bell = Doorbell::Open(copy);
  EXPECT_TRUE(absl::IsFailedPrecondition(bell.status())) << bell.status();
}

TEST(DoorbellOpenTest, MissingFileIsNotFound) {
  absl::StatusOr<std::unique_ptr<Doorbell>> bell =
      Doorbell::Open(shmio_test::TempPath("missing"));
  EXPECT_TRUE(absl::IsNotFound(bell.status())) << bell.status();
}

}  // namespace
