// Creating a log: racing creators (exactly one wins, nothing of the winner's
// is lost or unlinked), a fresh file too small for a log, a reservation the
// file system cannot hold (named, checked before anything is reserved), a
// log being created as a reader sees it, a dangling symbolic link, and the
// permission bits of a new log.
#include <fcntl.h>
#include <sched.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shmio/format.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "tests/shmio/log_util.h"
#include "tests/shmio/test_util.h"

namespace {

using ::shmio::SharedMemory;
using ::shmio_test::ForkChild;
using ::shmio_test::Pipe;
using ::shmio_test::ScopedChild;
using ::shmio_test::TempPath;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint64_t kCapacity = 1 << 16;

// What a racing creator reports through the pipe.
enum Outcome : uint64_t { kWon = 1, kRefused = 2, kOtherError = 3 };

// One racer: waits for the start signal, opens `path` as its writer
// (creating it), and reports. A winner commits one frame holding its pid
// and keeps the log open until `release` says so, so that every loser
// meets a live writer.
int Race(const std::string& path, Pipe& start, Pipe& report, Pipe& release) {
  uint64_t go = 0;
  if (!start.Receive(&go)) return 10;
  absl::StatusOr<shmio_test::Writer> writer =
      shmio_test::OpenWriter({.path = path, .capacity = kCapacity});
  if (!writer.ok()) {
    report.Send(absl::IsFailedPrecondition(writer.status()) ? kRefused : kOtherError);
    return 0;
  }
  uint64_t pid = static_cast<uint64_t>(getpid());
  std::vector<uint8_t> payload(sizeof pid);
  shmio::format::EncodeU64(payload.data(), pid);
  if (!writer->pool->Append(payload).ok() || !writer->pool->Commit().ok()) {
    report.Send(kOtherError);
    return 0;
  }
  report.Send(kWon);
  uint64_t done = 0;
  release.Receive(&done);
  return 0;
}

TEST(LogCreationTest, OfRacingCreatorsExactlyOneWinsAndItsFramesAreAtThePath) {
  constexpr int kRounds = 40;
  constexpr int kRacers = 4;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const std::string path = TempPath("race");
    Pipe start, report, release;
    std::vector<std::unique_ptr<ScopedChild>> racers;
    for (int i = 0; i < kRacers; ++i) {
      racers.push_back(std::make_unique<ScopedChild>(
          ForkChild([&] { return Race(path, start, report, release); })));
    }
    for (int i = 0; i < kRacers; ++i) ASSERT_TRUE(start.Send(1));
    int won = 0, refused = 0;
    for (int i = 0; i < kRacers; ++i) {
      uint64_t outcome = 0;
      ASSERT_TRUE(report.Receive(&outcome));
      won += outcome == kWon;
      refused += outcome == kRefused;
    }
    EXPECT_EQ(won, 1) << "creators that won";
    EXPECT_EQ(refused, kRacers - 1) << "every loser is refused by the lock";
    // While the winner still holds it, its frame is in the file at the path.
    absl::StatusOr<std::unique_ptr<SharedMemory>> reader =
        shmio_test::OpenReader(path);
    ASSERT_TRUE(reader.ok()) << "the winner's log is gone: " << reader.status();
    std::vector<std::vector<uint8_t>> payloads =
        shmio_test::ReadCommittedPayloads(**reader);
    ASSERT_EQ(payloads.size(), 1u);
    absl::StatusOr<std::optional<pid_t>> holder = SharedMemory::WriterPid(path);
    ASSERT_TRUE(holder.ok()) << holder.status();
    ASSERT_TRUE(holder->has_value()) << "the winner's lock is not on the file at the path";
    EXPECT_EQ(shmio::format::DecodeU64(payloads[0].data()),
              static_cast<uint64_t>(**holder))
        << "the frame at the path is the lock holder's";
    for (int i = 0; i < kRacers; ++i) ASSERT_TRUE(release.Send(1));
    for (auto& racer : racers) EXPECT_EQ(racer->Wait(), 0);
    unlink(path.c_str());
  }
}

// The interleaving that lost data, made likely: a second writer that opens
// the new file the moment it appears (woken by inotify's IN_CREATE, on the
// same CPU as the creator, which runs at the lowest priority). If the path
// showed a file before its creator held the lock, the second writer would
// take the lock first, and the creator's clean-up would unlink the file the
// second writer then commits into. Whoever succeeds, its frame must be at
// the path.
TEST(LogCreationTest, AWriterThatOpensTheNewFileTheMomentItAppearsLosesNothing) {
  cpu_set_t one_cpu, all_cpus;
  ASSERT_EQ(sched_getaffinity(0, sizeof all_cpus, &all_cpus), 0);
  CPU_ZERO(&one_cpu);
  CPU_SET(sched_getcpu(), &one_cpu);
  ASSERT_EQ(sched_setaffinity(0, sizeof one_cpu, &one_cpu), 0);
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const std::string path = TempPath("appears");
    const std::string dir = path.substr(0, path.rfind('/'));
    const std::string name = path.substr(path.rfind('/') + 1);
    int watch = inotify_init1(IN_CLOEXEC);
    ASSERT_GE(watch, 0);
    ASSERT_GE(inotify_add_watch(watch, dir.c_str(), IN_CREATE), 0);
    Pipe start, report, release;
    ScopedChild creator(ForkChild([&] {
      (void)!nice(19);  // preempted by the watcher as soon as it wakes
      return Race(path, start, report, release);
    }));
    ASSERT_TRUE(start.Send(1));
    // Wait for the name to appear, then open it as a writer at once.
    bool appeared = false;
    while (!appeared) {
      alignas(inotify_event) char events[4096];
      ssize_t n = read(watch, events, sizeof events);
      ASSERT_GT(n, 0);
      for (char* p = events; p < events + n;) {
        auto* event = reinterpret_cast<inotify_event*>(p);
        if (event->len > 0 && name == event->name) appeared = true;
        p += sizeof(inotify_event) + event->len;
      }
    }
    absl::StatusOr<shmio_test::Writer> second =
        shmio_test::OpenWriter({.path = path, .capacity = kCapacity});
    uint64_t second_pid = 0;
    if (second.ok()) {
      second_pid = static_cast<uint64_t>(getpid());
      std::vector<uint8_t> payload(sizeof second_pid);
      shmio::format::EncodeU64(payload.data(), second_pid);
      ASSERT_TRUE(second->pool->Append(payload).ok());
      ASSERT_TRUE(second->pool->Commit().ok());
    } else {
      EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
    }
    uint64_t outcome = 0;
    ASSERT_TRUE(report.Receive(&outcome));
    EXPECT_NE(outcome == kWon, second.ok()) << "exactly one of the two writes";
    absl::StatusOr<std::unique_ptr<SharedMemory>> reader = shmio_test::OpenReader(path);
    ASSERT_TRUE(reader.ok()) << "the winner's log is gone from the path: "
                             << reader.status();
    std::vector<std::vector<uint8_t>> payloads = shmio_test::ReadCommittedPayloads(**reader);
    ASSERT_EQ(payloads.size(), 1u) << "the winner's frame is not at the path";
    if (second.ok()) {
      EXPECT_EQ(shmio::format::DecodeU64(payloads[0].data()), second_pid);
    }
    ASSERT_TRUE(release.Send(1));
    EXPECT_EQ(creator.Wait(), 0);
    close(watch);
    unlink(path.c_str());
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof all_cpus, &all_cpus), 0);
}

TEST(LogCreationTest, FreshFileTooSmallForALogIsRefusedAndLeftAsItWas) {
  const std::string path = TempPath("tiny");
  shmio_test::CreateZeroFile(path, 100);  // truncate -s 100
  absl::StatusOr<shmio_test::Writer> writer = shmio_test::OpenWriter({.path = path});
  ASSERT_FALSE(writer.ok()) << "a writer initialised a 100-byte file";
  EXPECT_TRUE(absl::IsFailedPrecondition(writer.status())) << writer.status();
  EXPECT_THAT(std::string(writer.status().message()),
              AllOf(HasSubstr(path), HasSubstr("100 bytes"), HasSubstr("260")));
  EXPECT_EQ(shmio_test::ReadFileBytes(path), std::vector<uint8_t>(100, 0))
      << "the file changed";
}

TEST(LogCreationTest, ReservationBeyondTheFreeSpaceNamesTheFileSystemAndLeavesNothing) {
  const std::string path = TempPath("too-big");  // on $TEST_TMPDIR's disk
  const std::string dir = path.substr(0, path.rfind('/'));
  struct statvfs vfs;
  ASSERT_EQ(statvfs(dir.c_str(), &vfs), 0);
  const uint64_t free_bytes = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  const uint64_t capacity = free_bytes + (uint64_t{1} << 30);
  struct statfs fs;
  ASSERT_EQ(statfs(dir.c_str(), &fs), 0);
  const bool tmpfs = fs.f_type == 0x01021994;  // TMPFS_MAGIC

  absl::StatusOr<shmio_test::Writer> writer =
      shmio_test::OpenWriter({.path = path, .capacity = capacity});
  ASSERT_FALSE(writer.ok());
  EXPECT_TRUE(absl::IsResourceExhausted(writer.status())) << writer.status();
  const std::string message(writer.status().message());
  EXPECT_THAT(message, AllOf(HasSubstr(path), HasSubstr(absl::StrCat(capacity)),
                             HasSubstr("mounted at")));
  EXPECT_THAT(message, Not(HasSubstr(" 0 bytes free"))) << "the real free space";
  if (!tmpfs) {
    EXPECT_THAT(message, Not(HasSubstr("tmpfs")));
  }
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "a failed create left a file";
  // Nothing was reserved: the space is still there.
  ASSERT_EQ(statvfs(dir.c_str(), &vfs), 0);
  EXPECT_GT(static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize, free_bytes / 2);
}

// A writer reserving an empty file in place holds the lock while the file
// is still 0 bytes (seconds, for a large log): readers hear that it is
// being created, not that it is no log.
TEST(LogCreationTest, ReaderOfAnEmptyFileWhoseWriterHoldsTheLockHearsItIsBeingCreated) {
  const std::string path = TempPath("being-created");
  shmio_test::CreateZeroFile(path, 0);
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  struct flock lock = {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  lock.l_start = static_cast<off_t>(shmio::format::kWriterLockOffset);
  lock.l_len = 1;
  ASSERT_EQ(fcntl(fd, F_OFD_SETLK, &lock), 0);  // what a creating writer holds

  absl::StatusOr<std::unique_ptr<SharedMemory>> reader = shmio_test::OpenReader(path);
  ASSERT_FALSE(reader.ok());
  EXPECT_TRUE(absl::IsUnavailable(reader.status())) << reader.status();
  EXPECT_THAT(std::string(reader.status().message()),
              AllOf(HasSubstr(path), HasSubstr("being created")));

  close(fd);  // no writer any more: an empty file is no log
  reader = shmio_test::OpenReader(path);
  ASSERT_FALSE(reader.ok());
  EXPECT_TRUE(absl::IsDataLoss(reader.status())) << reader.status();
  EXPECT_THAT(std::string(reader.status().message()), HasSubstr("not a shmio log"));
}

TEST(LogCreationTest, DanglingSymbolicLinkIsNamedAndNothingIsCreatedThroughIt) {
  const std::string target = TempPath("link-target");
  const std::string path = TempPath("dangling");
  ASSERT_EQ(symlink(target.c_str(), path.c_str()), 0);
  absl::StatusOr<shmio_test::Writer> writer =
      shmio_test::OpenWriter({.path = path, .capacity = kCapacity});
  ASSERT_FALSE(writer.ok());
  EXPECT_TRUE(absl::IsNotFound(writer.status())) << writer.status();
  EXPECT_THAT(std::string(writer.status().message()),
              AllOf(HasSubstr(path), HasSubstr("symbolic link"), HasSubstr(target)));
  EXPECT_THAT(std::string(writer.status().message()), Not(HasSubstr("reader")));
  EXPECT_NE(access(target.c_str(), F_OK), 0) << "created through the link";
}

TEST(LogCreationTest, NewLogsHaveTheRequestedPermissionBits) {
  const mode_t umask_was = umask(022);
  for (mode_t mode : {mode_t{0600}, mode_t{0640}, mode_t{0644}}) {
    const std::string path = TempPath("mode");
    absl::StatusOr<shmio_test::Writer> writer = shmio_test::OpenWriter(
        {.path = path, .capacity = kCapacity, .create_mode = mode});
    ASSERT_TRUE(writer.ok()) << writer.status();
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, mode);
  }
  const std::string path = TempPath("default-mode");
  ASSERT_TRUE(shmio_test::OpenWriter({.path = path, .capacity = kCapacity}).ok());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u) << "the documented default";
  umask(umask_was);
}

}  // namespace
