// What happens when someone else truncates or removes a live log.
//
// A mapping does not shrink with its file: once another process truncates a
// mapped log, touching a page past the new end raises SIGBUS in every
// reader (and in the writer). No library check can make that safe (the file
// can shrink between any check and the load), so the rule is: never truncate
// a live log. shmio itself never shrinks a file. To discard or rotate a log,
// unlink (or rename) it: every process that has it open keeps reading and
// writing the old file until it closes it, and a new writer at the same
// path creates a new file. A reader that must survive careless tools can
// compare fstat(shm.fd()).st_size with shm.capacity() before each read;
// that narrows the window but cannot close it.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "shmio/consumer.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "tests/reliability/child_process.h"

namespace shmio_reliability {
namespace {

constexpr uint64_t kCapacity = 64 * 1024;  // several pages

struct Writer {
  std::unique_ptr<shmio::SharedMemory> shm;
  std::unique_ptr<shmio::Pool> pool;
};

Writer OpenWriter(const std::string& path) {
  Writer writer;
  shmio::Options options;
  options.path = path;
  options.capacity = kCapacity;
  options.writable = true;
  auto shm = shmio::SharedMemory::Open(options);
  EXPECT_TRUE(shm.ok()) << shm.status();
  if (!shm.ok()) return writer;
  writer.shm = std::move(*shm);
  auto pool = shmio::Pool::Create(writer.shm.get());
  EXPECT_TRUE(pool.ok()) << pool.status();
  if (pool.ok()) writer.pool = std::move(*pool);
  return writer;
}

void AppendFrames(shmio::Pool* pool, int count, uint8_t value) {
  for (int i = 0; i < count; ++i) {
    ASSERT_TRUE(pool->Append(std::vector<uint8_t>(500, value)).ok());
  }
  ASSERT_TRUE(pool->Commit().ok());
}

std::unique_ptr<shmio::SharedMemory> OpenReader(const std::string& path) {
  shmio::Options options;
  options.path = path;
  auto shm = shmio::SharedMemory::Open(options);
  EXPECT_TRUE(shm.ok()) << shm.status();
  return shm.ok() ? std::move(*shm) : nullptr;
}

// Reads every committed frame; returns how many.
uint64_t CountFrames(const shmio::SharedMemory& shm) {
  shmio::Consumer consumer(&shm);
  uint64_t frames = 0;
  for (;;) {
    auto batch = consumer.Next();
    if (!batch.ok() || batch->empty()) return frames;
    frames += batch->frame_count;
  }
}

// Killed by SIGBUS; in sanitizer builds the sanitizer's SIGBUS handler
// ends the process instead (ASan aborts, TSan exits 66) after printing
// "BUS", which the death test's message matcher checks.
bool DiedOfSigbus(int status) {
#ifdef SHMIO_SANITIZER
  return WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
#else
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS;
#endif
}

TEST(TruncationTest, TruncatingAMappedLogRaisesSigbusInItsReaders) {
  testing::FLAGS_gtest_death_test_style = "threadsafe";
  std::string path = ShmPath("truncated");
  ScopedUnlink unlink_path(path);
  Writer writer = OpenWriter(path);
  ASSERT_NE(writer.pool, nullptr);
  AppendFrames(writer.pool.get(), 100, 1);  // ~50 KiB: pages past the first
  std::unique_ptr<shmio::SharedMemory> reader = OpenReader(path);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(CountFrames(*reader), 100u);

  // Another process (here: this one, through the file) truncates the log.
  // Unlinked too, so that the death test's child, which re-runs this body
  // and dies, leaves no file behind; the mappings are not affected.
  ASSERT_EQ(truncate(path.c_str(), 0), 0);
  ASSERT_EQ(unlink(path.c_str()), 0);

  // The careful reader's check sees it before touching the mapping...
  struct stat st;
  ASSERT_EQ(fstat(reader->fd(), &st), 0);
  EXPECT_LT(static_cast<uint64_t>(st.st_size), reader->capacity());
  // ...and a reader that reads anyway dies of SIGBUS.
#ifdef SHMIO_SANITIZER
  EXPECT_EXIT(CountFrames(*reader), DiedOfSigbus, "BUS");
#else
  EXPECT_EXIT(CountFrames(*reader), DiedOfSigbus, "");
#endif
}

TEST(TruncationTest, UnlinkingALiveLogLeavesItsReadersAndWriterWorking) {
  std::string path = ShmPath("unlinked");
  ScopedUnlink unlink_path(path);
  Writer writer = OpenWriter(path);
  ASSERT_NE(writer.pool, nullptr);
  AppendFrames(writer.pool.get(), 10, 1);
  std::unique_ptr<shmio::SharedMemory> reader = OpenReader(path);
  ASSERT_NE(reader, nullptr);

  ASSERT_EQ(unlink(path.c_str()), 0);
  // The old file lives on for everyone who has it open.
  EXPECT_EQ(CountFrames(*reader), 10u);
  AppendFrames(writer.pool.get(), 5, 2);
  EXPECT_EQ(CountFrames(*reader), 15u);

  // A new writer at the same path makes a new, empty log; the old reader
  // still sees the old one.
  Writer next = OpenWriter(path);
  ASSERT_NE(next.pool, nullptr);
  AppendFrames(next.pool.get(), 3, 3);
  EXPECT_EQ(CountFrames(*reader), 15u);
  std::unique_ptr<shmio::SharedMemory> new_reader = OpenReader(path);
  ASSERT_NE(new_reader, nullptr);
  EXPECT_EQ(CountFrames(*new_reader), 3u);
}

}  // namespace
}  // namespace shmio_reliability
