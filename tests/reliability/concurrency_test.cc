// Concurrency suite: one writer and three readers at the same time, readers
// checking every frame's sequence number, checksum and batch while the
// writer runs (numbered_payload.h).
//
//  - Processes: numbered_writer and three numbered_reader programs, each a
//    real separate process with its own mapping of the file in /dev/shm.
//  - Threads: a writer thread and three reader threads in this process, so
//    that ThreadSanitizer (--config=tsan) can check the publication of
//    frames by the release store of `committed` and the readers' acquire
//    load. TSan tracks memory by address, so it can only see that pairing
//    when writer and readers use the same mapping: one variant gives the
//    readers the writer's SharedMemory (same addresses), the other gives
//    each reader its own read-only SharedMemory of the file (separate
//    mappings, as separate processes have; TSan then checks only the
//    objects' own state).
//
// Sanitizer builds (SHMIO_SANITIZER, set by .bazelrc's asan/tsan configs)
// run fewer frames: they are several times slower and check more per frame.
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "tests/reliability/child_process.h"
#include "tests/reliability/log_checker.h"
#include "tests/reliability/log_follower.h"
#include "tests/reliability/numbered_payload.h"
#include "tests/reliability/writer_report.h"

namespace shmio_reliability {
namespace {

#ifdef SHMIO_SANITIZER
constexpr uint64_t kProcessFrames = 200'000;
constexpr uint64_t kThreadFrames = 100'000;
#else
constexpr uint64_t kProcessFrames = 2'000'000;
constexpr uint64_t kThreadFrames = 1'000'000;
#endif
constexpr int kReaders = 3;
// Small payloads (16..48 bytes) keep millions of frames within 128 MiB.
constexpr uint64_t kMaxPayload = 48;
constexpr uint64_t kCapacity = 128ull << 20;

TEST(ConcurrencyTest, ThreeReaderProcessesCheckEveryFrameWhileAWriterRuns) {
  ScopedUnlink log(ShmPath("processes"));
  Child writer = Spawn(
      {RunfilePath("tests/reliability/numbered_writer"),
       absl::StrCat("--path=", log.path()),
       absl::StrCat("--capacity=", kCapacity),
       absl::StrCat("--frames=", kProcessFrames),
       absl::StrCat("--max_payload=", kMaxPayload), "--max_batch=64",
       "--on_full=exit", absl::StrCat("--report_fd=", kChildReportFd)},
      true);
  ASSERT_GT(writer.pid, 0);
  // The readers open the file read-only, so start them once the writer has
  // created and initialised it (its first report).
  Report report;
  ASSERT_TRUE(ReadReport(writer.report_fd, &report))
      << "the writer ended before opening the log; see stderr";
  ASSERT_EQ(report.kind, ReportKind::kStarted);

  std::vector<pid_t> readers;
  for (int i = 0; i < kReaders; ++i) {
    Child reader = Spawn({RunfilePath("tests/reliability/numbered_reader"),
                          absl::StrCat("--path=", log.path()),
                          absl::StrCat("--frames=", kProcessFrames),
                          absl::StrCat("--seed=", i + 1)},
                         false);
    ASSERT_GT(reader.pid, 0);
    readers.push_back(reader.pid);
  }

  Report last = report;
  while (ReadReport(writer.report_fd, &report)) last = report;
  CloseReports(&writer);
  int writer_exit = WaitForExit(writer.pid);
  if (writer_exit != 0) {
    // Readers would wait forever for frames that never come.
    for (pid_t pid : readers) kill(pid, SIGKILL);
  }
  for (pid_t pid : readers) {
    EXPECT_EQ(WaitForExit(pid), 0) << "reader " << pid << " failed; see stderr";
  }
  ASSERT_EQ(writer_exit, 0) << "the writer failed; see stderr";
  EXPECT_EQ(last.kind, ReportKind::kCommitted);
  EXPECT_EQ(last.next_seq, kProcessFrames);

  // And the finished log, read once more from scratch, both ways.
  LogChecker checker(log.path());
  absl::Status status = checker.CatchUp();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(checker.frames(), kProcessFrames);
  EXPECT_EQ(checker.committed(), last.committed);
  status = checker.CheckFromScratch();
  EXPECT_TRUE(status.ok()) << status;
}

// Appends `frames` numbered frames in random batches of 1..64, committing
// each batch.
absl::Status WriteFrames(shmio::Pool* pool, uint64_t frames, uint64_t seed) {
  std::mt19937_64 rng(seed);
  uint64_t seq = 0;
  while (seq < frames) {
    uint64_t batch = std::min<uint64_t>(1 + rng() % 64, frames - seq);
    for (uint64_t i = 0; i < batch; ++i) {
      absl::StatusOr<absl::Span<uint8_t>> slice =
          pool->SliceSize(RandomPayloadLength(rng, kMaxPayload));
      if (!slice.ok()) return slice.status();
      FillPayload(*slice, seq + i, static_cast<uint16_t>(i),
                  static_cast<uint16_t>(batch));
    }
    absl::Status status = pool->Commit();
    if (!status.ok()) return status;
    seq += batch;
  }
  return absl::OkStatus();
}

// Runs a writer thread and kReaders reader threads over one log; with
// `share_writer_mapping` the readers read through the writer's
// SharedMemory, otherwise each opens its own.
void RunThreads(bool share_writer_mapping) {
  ScopedUnlink log(ShmPath("threads"));
  shmio::Options options;
  options.path = log.path();
  options.capacity = kThreadFrames * (kMaxPayload + 4) + 4096;
  options.writable = true;
  auto writer_shm = shmio::SharedMemory::Open(options);
  ASSERT_TRUE(writer_shm.ok()) << writer_shm.status();
  auto pool = shmio::Pool::Create(writer_shm->get());
  ASSERT_TRUE(pool.ok()) << pool.status();

  // Each reader's own mapping is opened here, before the threads start, so
  // that the file is initialised and a failure is reported by gtest.
  std::vector<std::unique_ptr<shmio::SharedMemory>> reader_shms;
  for (int i = 0; i < kReaders && !share_writer_mapping; ++i) {
    shmio::Options reader_options;
    reader_options.path = log.path();
    auto shm = shmio::SharedMemory::Open(reader_options);
    ASSERT_TRUE(shm.ok()) << shm.status();
    reader_shms.push_back(std::move(*shm));
  }

  std::vector<absl::Status> reader_status(kReaders);
  std::vector<FollowStats> reader_stats(kReaders);
  std::atomic<bool> writer_gone{false};
  std::vector<std::thread> readers;
  for (int i = 0; i < kReaders; ++i) {
    const shmio::SharedMemory& shm =
        share_writer_mapping ? **writer_shm : *reader_shms[i];
    readers.emplace_back([&, i] {
      reader_status[i] = FollowLog(shm, kThreadFrames, i + 1,
                                   &reader_stats[i], &writer_gone);
    });
  }
  absl::Status written = WriteFrames(pool->get(), kThreadFrames, 42);
  // Release: pairs with FollowLog's acquire load, so a reader that sees the
  // flag also sees the last Commit() (see FollowLog).
  writer_gone.store(true, std::memory_order_release);
  for (std::thread& reader : readers) reader.join();

  ASSERT_TRUE(written.ok()) << written;
  for (int i = 0; i < kReaders; ++i) {
    EXPECT_TRUE(reader_status[i].ok())
        << "reader " << i << " after " << reader_stats[i].frames
        << " frames: " << reader_status[i];
    EXPECT_EQ(reader_stats[i].frames, kThreadFrames);
  }
}

TEST(ConcurrencyTest, ReaderThreadsSharingTheWritersMappingCheckEveryFrame) {
  RunThreads(/*share_writer_mapping=*/true);
}

TEST(ConcurrencyTest, ReaderThreadsWithTheirOwnMappingsCheckEveryFrame) {
  RunThreads(/*share_writer_mapping=*/false);
}

}  // namespace
}  // namespace shmio_reliability
