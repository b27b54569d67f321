// Durability on disk: Pool::Flush() and SharedMemory::Flush() must reach the
// disk (msync + fdatasync), so committed frames on a real file system
// survive a power loss. Checked without strace: the kernel's cachestat()
// (Linux 6.5+) counts a file's dirty page-cache pages; after a committed
// batch they are dirty, after Flush() none may be dirty or under writeback.
// The log lives in $TEST_TMPDIR, which here is a real disk (ext4); on tmpfs
// the dirty-page check is skipped (tmpfs has no disk to reach).
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "shmio/consumer.h"
#include "shmio/format.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "tests/reliability/file_state.h"

namespace shmio_reliability {
namespace {

// include/uapi/linux/mman.h (not in every libc's headers yet).
struct CachestatRange {
  uint64_t off;
  uint64_t len;  // 0: to the end of the file
};
struct Cachestat {
  uint64_t nr_cache;
  uint64_t nr_dirty;
  uint64_t nr_writeback;
  uint64_t nr_evicted;
  uint64_t nr_recently_evicted;
};
constexpr long kCachestatSyscall = 451;  // same number on x86-64 and aarch64
constexpr long kTmpfsMagic = 0x01021994;

// The page-cache state of the file behind `fd`, or false when the kernel
// has no cachestat().
bool PageCacheState(int fd, Cachestat* state) {
  CachestatRange range{0, 0};
  return syscall(kCachestatSyscall, fd, &range, state, 0) == 0;
}

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

struct Log {
  std::unique_ptr<shmio::SharedMemory> shm;
  std::unique_ptr<shmio::Pool> pool;
};

// A log on disk with `frames` committed 1000-byte frames (several pages).
Log WriteLog(const std::string& path, int frames) {
  Log log;
  shmio::Options options;
  options.path = path;
  options.capacity = 1 << 20;
  options.writable = true;
  auto shm = shmio::SharedMemory::Open(options);
  EXPECT_TRUE(shm.ok()) << shm.status();
  if (!shm.ok()) return log;
  log.shm = std::move(*shm);
  auto pool = shmio::Pool::Create(log.shm.get());
  EXPECT_TRUE(pool.ok()) << pool.status();
  if (!pool.ok()) return log;
  log.pool = std::move(*pool);
  for (int i = 0; i < frames; ++i) {
    EXPECT_TRUE(log.pool->Append(std::vector<uint8_t>(1000, i & 0xff)).ok());
  }
  EXPECT_TRUE(log.pool->Commit().ok());
  return log;
}

TEST(DurabilityTest, PoolFlushWritesEveryDirtyPageOfTheLogToDisk) {
  std::string path = TempPath("durable.shm");
  struct statfs fs;
  ASSERT_EQ(statfs(TempPath("").c_str(), &fs), 0);
  Log log = WriteLog(path, 100);
  ASSERT_NE(log.pool, nullptr);

  if (fs.f_type == kTmpfsMagic) {
    EXPECT_TRUE(log.pool->Flush().ok());
    GTEST_SKIP() << "$TEST_TMPDIR is tmpfs: no disk for Flush() to reach";
  }
  Cachestat before;
  if (!PageCacheState(log.shm->fd(), &before)) {
    EXPECT_TRUE(log.pool->Flush().ok());
    GTEST_SKIP() << "no cachestat() (Linux < 6.5, errno " << errno
                 << "): cannot see dirty pages";
  }
  if (before.nr_dirty == 0) {
    GTEST_SKIP() << "the kernel wrote the pages back before Flush(); "
                    "nothing left to tell Flush() apart from no Flush()";
  }
  absl::Status flushed = log.pool->Flush();
  ASSERT_TRUE(flushed.ok()) << flushed;
  Cachestat after;
  ASSERT_TRUE(PageCacheState(log.shm->fd(), &after));
  EXPECT_EQ(after.nr_dirty, 0u) << before.nr_dirty << " dirty pages before";
  EXPECT_EQ(after.nr_writeback, 0u) << "Flush() returned before the disk did";

  // What reached the file is the committed log: pread (not the mapping)
  // sees the committed value and the frames.
  FileState on_disk = Snapshot(path);
  uint64_t committed = log.pool->GetSize().committed;
  ASSERT_EQ(on_disk.size, log.shm->capacity());
  EXPECT_EQ(shmio::format::DecodeU64(on_disk.bytes.data() +
                                     shmio::format::kCommittedOffset),
            committed);
  EXPECT_TRUE(std::equal(on_disk.bytes.begin(),
                         on_disk.bytes.begin() + committed, log.shm->data()));
  unlink(path.c_str());
}

TEST(DurabilityTest, SharedMemoryFlushOfAReaderSucceeds) {
  std::string path = TempPath("durable-reader.shm");
  Log log = WriteLog(path, 10);
  ASSERT_NE(log.pool, nullptr);
  shmio::Options options;
  options.path = path;
  auto reader = shmio::SharedMemory::Open(options);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::Status flushed = (*reader)->Flush();
  EXPECT_TRUE(flushed.ok()) << flushed;

  Cachestat state;
  if (PageCacheState((*reader)->fd(), &state)) {
    // A reader's Flush() syncs the file too (fdatasync works on a read-only
    // descriptor), so it also makes the writer's committed frames durable.
    EXPECT_EQ(state.nr_dirty, 0u);
  }
  unlink(path.c_str());
}

TEST(DurabilityTest, FlushOnTmpfsIsHarmless) {
  std::string path = absl::StrCat("/dev/shm/shmio-durability-", getpid());
  Log log = WriteLog(path, 10);
  ASSERT_NE(log.pool, nullptr);
  absl::Status flushed = log.pool->Flush();
  EXPECT_TRUE(flushed.ok()) << flushed;
  shmio::Consumer consumer(log.shm.get());
  auto batch = consumer.Next();
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->frame_count, 10u);
  unlink(path.c_str());
}

}  // namespace
}  // namespace shmio_reliability
