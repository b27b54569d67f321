// One writer per file, enforced by a lock held for the writer's lifetime: a
// second writer in this process or another is refused with an error naming
// the path and the holder's pid; a writer killed by SIGKILL releases the
// lock (the kernel drops it) and the next writer continues at `committed`
// with no committed frame lost.
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "tests/shmio/log_util.h"
#include "tests/shmio/test_util.h"

namespace {

using ::shmio::Pool;
using ::shmio::SharedMemory;
using ::shmio_test::ForkChild;
using ::shmio_test::OpenWriter;
using ::shmio_test::PatternPayload;
using ::shmio_test::Pipe;
using ::shmio_test::ScopedChild;
using ::shmio_test::TempPath;
using ::testing::HasSubstr;

absl::StatusOr<std::unique_ptr<SharedMemory>> OpenWritable(
    const std::string& path) {
  return SharedMemory::Open(
      {.path = path, .capacity = 1 << 16, .writable = true});
}

// True when `status` refuses a second writer of `path` held by `pid`.
bool IsRefusalNaming(const absl::Status& status, const std::string& path,
                     pid_t pid) {
  std::string message(status.message());
  return absl::IsFailedPrecondition(status) &&
         message.find(path) != std::string::npos &&
         message.find(absl::StrCat(pid)) != std::string::npos;
}

TEST(WriterLockTest, SecondWriterInTheSameProcessIsRefusedNamingPathAndPid) {
  std::string path = TempPath("same-process");
  absl::StatusOr<shmio_test::Writer> first =
      OpenWriter({.path = path, .capacity = 1 << 16});
  ASSERT_TRUE(first.ok()) << first.status();

  absl::StatusOr<std::unique_ptr<SharedMemory>> second = OpenWritable(path);
  ASSERT_FALSE(second.ok()) << "two writers hold " << path;
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  EXPECT_THAT(std::string(second.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr(absl::StrCat(getpid())));
}

TEST(WriterLockTest, SecondPoolOverOneSharedMemoryIsRefused) {
  std::string path = TempPath("second-pool");
  absl::StatusOr<shmio_test::Writer> first =
      OpenWriter({.path = path, .capacity = 1 << 16});
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<Pool>> second = Pool::Create(first->shm.get());
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
}

TEST(WriterLockTest, PoolOverAReadOnlySharedMemoryIsRefused) {
  std::string path = TempPath("read-only-pool");
  {
    absl::StatusOr<shmio_test::Writer> w =
        OpenWriter({.path = path, .capacity = 1 << 16});
    ASSERT_TRUE(w.ok()) << w.status();
  }
  absl::StatusOr<std::unique_ptr<SharedMemory>> reader =
      shmio_test::OpenReader(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::StatusOr<std::unique_ptr<Pool>> pool = Pool::Create(reader->get());
  EXPECT_TRUE(absl::IsFailedPrecondition(pool.status())) << pool.status();
}

TEST(WriterLockTest, ReadersOpenWhileAWriterHoldsTheLock) {
  std::string path = TempPath("readers");
  absl::StatusOr<shmio_test::Writer> w =
      OpenWriter({.path = path, .capacity = 1 << 16});
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_TRUE(w->pool->Append(PatternPayload(1, 8)).ok());
  ASSERT_TRUE(w->pool->Commit().ok());
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::unique_ptr<SharedMemory>> reader =
        shmio_test::OpenReader(path);
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ(shmio_test::ReadCommittedPayloads(**reader).size(), 1u);
  }
}

TEST(WriterLockTest, SecondWriterInAnotherProcessIsRefusedNamingPathAndPid) {
  std::string path = TempPath("other-process");
  absl::StatusOr<shmio_test::Writer> first =
      OpenWriter({.path = path, .capacity = 1 << 16});
  ASSERT_TRUE(first.ok()) << first.status();
  const pid_t holder = getpid();

  ScopedChild child(ForkChild([&] {
    absl::StatusOr<std::unique_ptr<SharedMemory>> second = OpenWritable(path);
    if (second.ok()) {
      std::fprintf(stderr, "child: second writer opened %s\n", path.c_str());
      return 1;
    }
    if (!IsRefusalNaming(second.status(), path, holder)) {
      std::fprintf(stderr, "child: wrong refusal: %s\n",
                   second.status().ToString().c_str());
      return 2;
    }
    return 0;
  }));
  EXPECT_EQ(child.Wait(), 0) << "see the child's stderr above";
}

TEST(WriterPidTest, ReportsNoneThenThisProcessThenNoneAgain) {
  std::string path = TempPath("writer-pid");
  {
    absl::StatusOr<shmio_test::Writer> w =
        OpenWriter({.path = path, .capacity = 1 << 16});
    ASSERT_TRUE(w.ok()) << w.status();
    absl::StatusOr<std::optional<pid_t>> pid = SharedMemory::WriterPid(path);
    ASSERT_TRUE(pid.ok()) << pid.status();
    ASSERT_TRUE(pid->has_value()) << "the lock is held by this process";
    EXPECT_EQ(**pid, getpid());
  }
  absl::StatusOr<std::optional<pid_t>> pid = SharedMemory::WriterPid(path);
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_FALSE(pid->has_value()) << "the writer is gone: " << **pid;
}

TEST(WriterPidTest, MissingFileIsNotFound) {
  absl::StatusOr<std::optional<pid_t>> pid =
      SharedMemory::WriterPid(TempPath("missing"));
  EXPECT_TRUE(absl::IsNotFound(pid.status())) << pid.status();
}

TEST(WriterLockTest, KilledWritersLockIsReleasedAndNoCommittedFrameIsLost) {
  std::string path = TempPath("killed");
  constexpr int kCommitted = 100;
  Pipe ready;  // child -> parent: the committed value
  Pipe never;  // the child blocks reading it until it is killed
  ScopedChild child(ForkChild([&] {
    ready.CloseRead();
    never.CloseWrite();
    absl::StatusOr<shmio_test::Writer> w =
        OpenWriter({.path = path, .size = 4096, .num = 4, .overlap = 256});
    if (!w.ok()) {
      std::fprintf(stderr, "child: %s\n", w.status().ToString().c_str());
      return 1;
    }
    for (int i = 0; i < kCommitted; ++i) {
      if (!w->pool->Append(PatternPayload(i, 17 + i % 50)).ok()) return 2;
      if (i % 10 == 9 && !w->pool->Commit().ok()) return 3;
    }
    // Appended, never committed: the next writer must not see these.
    for (int i = 0; i < 5; ++i) {
      if (!w->pool->Append(PatternPayload(1000 + i, 30)).ok()) return 4;
    }
    if (!ready.Send(w->pool->GetSize().committed)) return 5;
    uint64_t unused;
    never.Receive(&unused);  // blocks until SIGKILL
    return 6;
  }));
  ready.CloseWrite();
  never.CloseRead();

  uint64_t committed = 0;
  ASSERT_TRUE(ready.Receive(&committed)) << "the child writer failed";

  absl::StatusOr<std::optional<pid_t>> holder = SharedMemory::WriterPid(path);
  ASSERT_TRUE(holder.ok()) << holder.status();
  ASSERT_TRUE(holder->has_value());
  EXPECT_EQ(**holder, child.pid());
  absl::StatusOr<std::unique_ptr<SharedMemory>> refused = OpenWritable(path);
  EXPECT_TRUE(IsRefusalNaming(refused.status(), path, child.pid()))
      << refused.status();
  refused = absl::UnknownError("closed");  // drop it before the next open

  EXPECT_EQ(child.Kill(), 128 + SIGKILL);

  absl::StatusOr<shmio_test::Writer> next = OpenWriter({.path = path});
  ASSERT_TRUE(next.ok()) << "after the writer died: " << next.status();
  EXPECT_EQ(next->pool->GetSize().committed, committed);
  EXPECT_EQ(next->pool->GetSize().uncommitted, committed);
  std::vector<std::vector<uint8_t>> expected;
  for (int i = 0; i < kCommitted; ++i) {
    expected.push_back(PatternPayload(i, 17 + i % 50));
  }
  EXPECT_EQ(shmio_test::ReadCommittedPayloads(*next->shm), expected);

  ASSERT_TRUE(next->pool->Append(PatternPayload(kCommitted, 9)).ok());
  ASSERT_TRUE(next->pool->Commit().ok());
  expected.push_back(PatternPayload(kCommitted, 9));
  EXPECT_EQ(shmio_test::ReadCommittedPayloads(*next->shm), expected);
  absl::StatusOr<std::optional<pid_t>> now = SharedMemory::WriterPid(path);
  ASSERT_TRUE(now.ok()) << now.status();
  ASSERT_TRUE(now->has_value());
  EXPECT_EQ(**now, getpid());
}

// fork() without exec: the child inherits the writer's descriptor and
// mapping, whose open file description holds the OFD writer lock. The child
// must not keep the lock alive after the writer dies, must not write
// through the inherited Pool (refused, naming both pids), and may still read.
TEST(WriterLockTest, ForkChildOfTheWriterNeitherWritesNorKeepsTheLock) {
  std::string path = TempPath("forked");
  Pipe report;     // grandchild -> test: what it saw
  Pipe never;      // the grandchild blocks on it until the test is done
  Pipe writer_up;  // writer -> test: the grandchild's pid once forked
  ScopedChild writer(ForkChild([&] {
    absl::StatusOr<shmio_test::Writer> w = OpenWriter({.path = path, .capacity = 1 << 16});
    if (!w.ok() || !w->pool->Append(PatternPayload(1, 20)).ok() ||
        !w->pool->Commit().ok()) {
      return 1;
    }
    const pid_t parent = getpid();
    pid_t grandchild = fork();
    if (grandchild == 0) {
      // The child of fork(): writing is refused, naming both processes...
      absl::Status appended = w->pool->Append(PatternPayload(2, 20));
      std::string message(appended.message());
      bool refused = absl::IsFailedPrecondition(appended) &&
                     message.find(absl::StrCat(getpid())) != std::string::npos &&
                     message.find(absl::StrCat(parent)) != std::string::npos;
      bool commit_refused = absl::IsFailedPrecondition(w->pool->Commit());
      // ...reading works.
      bool reads = shmio_test::ReadCommittedPayloads(*w->shm).size() == 1;
      report.Send((refused ? 1 : 0) | (commit_refused ? 2 : 0) | (reads ? 4 : 0));
      uint64_t unused;
      never.Receive(&unused);
      _exit(0);
    }
    writer_up.Send(static_cast<uint64_t>(grandchild));
    uint64_t unused;
    never.Receive(&unused);  // until killed
    return 0;
  }));
  uint64_t grandchild = 0;
  ASSERT_TRUE(writer_up.Receive(&grandchild));
  ScopedChild grandchild_guard(static_cast<pid_t>(grandchild));
  uint64_t seen = 0;
  ASSERT_TRUE(report.Receive(&seen));
  EXPECT_TRUE(seen & 1) << "the fork() child appended through its parent's Pool";
  EXPECT_TRUE(seen & 2) << "the fork() child committed through its parent's Pool";
  EXPECT_TRUE(seen & 4) << "the fork() child could not read";

  EXPECT_EQ(writer.Kill(), 128 + SIGKILL);
  // The writer is dead; its child lives on, and must not hold the lock.
  absl::StatusOr<shmio_test::Writer> next = OpenWriter({.path = path});
  ASSERT_TRUE(next.ok()) << "a fork() child kept the dead writer's lock: "
                         << next.status();
  EXPECT_EQ(shmio_test::ReadCommittedPayloads(*next->shm).size(), 1u);
}

}  // namespace
