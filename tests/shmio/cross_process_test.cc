// A writer in another process (numbered_writer, fork + exec) and readers in
// this one, running at the same time: every reader sees only whole
// committed frames, in order, gap-free, each one intact (its sequence number
// and checksum), and never a frame of a batch whose commit it has not seen.
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "shmio/consumer.h"
#include "shmio/iterator.h"
#include "shmio/shared_memory.h"
#include "tests/shmio/log_util.h"
#include "tests/shmio/numbered_frames.h"
#include "tests/shmio/test_util.h"

namespace {

using ::shmio::BatchLimits;
using ::shmio::Consumer;
using ::shmio::SharedMemory;

constexpr uint64_t kFrames = 20000;
constexpr uint64_t kCommitEvery = 10;
// The writer waits for the first reader to have read each block of this
// many frames before it writes the next: so the reader provably reads while
// the writer runs, on a loaded machine too, without any sleep.
constexpr uint64_t kAckEvery = 2000;

// What one reader thread saw.
struct ReaderResult {
  uint64_t frames = 0;
  uint64_t batches = 0;
  absl::Status status;  // the first problem, if any
};

// How a reader thread reads: Consumer::Next(limits), or the busy-poll pair
// Consumer::SpinUntilNew() + Consumer::Poll(limits.max_frames).
enum class ReadWith { kNext, kSpinAndPoll };

// One read: checks each frame the Consumer delivers now against the next
// numbered payload and counts it in result->frames. Returns how many came.
absl::StatusOr<uint64_t> ReadOnce(Consumer& consumer, ReadWith how,
                                  BatchLimits limits, ReaderResult* result) {
  absl::Status bad;
  auto check = [&](const shmio::Frame& frame) {
    if (!bad.ok()) return;
    absl::Status ok = shmio_test::CheckNumberedPayload(frame.payload, result->frames);
    if (!ok.ok()) {
      bad = absl::DataLossError(
          absl::StrCat("at offset ", frame.offset, ": ", ok.message()));
      return;
    }
    ++result->frames;
  };
  const uint64_t before = result->frames;
  if (how == ReadWith::kSpinAndPoll) {
    // A short spin: the caller re-checks whether the writer has exited.
    consumer.SpinUntilNew(absl::Now() + absl::Milliseconds(20));
    absl::StatusOr<size_t> polled = consumer.Poll(check, limits.max_frames);
    if (!polled.ok()) return polled.status();
  } else {
    absl::StatusOr<shmio::Batch> batch = consumer.Next(limits);
    if (!batch.ok()) return batch.status();
    for (const shmio::Frame& frame : batch->frames) check(frame);
    if (!batch->frames.status().ok()) return batch->frames.status();
  }
  if (!bad.ok()) return bad;
  return result->frames - before;
}

// Reads `path` with a Consumer until all kFrames arrived or the writer has
// exited and nothing more is there. `whole_commits`: the limits let a batch
// reach the committed value, so every batch must end on a commit boundary.
// `ack`, if not null, gets one byte per kAckEvery frames read and is closed
// when the reader stops (so a writer waiting on it never hangs).
void ReadConcurrently(const std::string& path, ReadWith how, BatchLimits limits,
                      bool whole_commits, const std::atomic<bool>* writer_done,
                      shmio_test::Pipe* ack, ReaderResult* result) {
  absl::Cleanup close_ack = [ack] {
    if (ack != nullptr) ack->CloseWrite();
  };
  uint64_t acknowledged = 0;
  absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
      shmio_test::OpenReader(path);
  if (!shm.ok()) {
    result->status = shm.status();
    return;
  }
  Consumer consumer(shm->get());
  while (result->frames < kFrames) {
    // Acquire: pairs with the release store after waitpid, so a final
    // drain after seeing it finds every frame the writer committed.
    bool done = writer_done->load(std::memory_order_acquire);
    absl::StatusOr<uint64_t> read = ReadOnce(consumer, how, limits, result);
    if (!read.ok()) {
      result->status = read.status();
      return;
    }
    if (*read == 0) {
      if (done) break;
      std::this_thread::yield();
      continue;
    }
    ++result->batches;
    // The writer waits after each block but the last.
    while (ack != nullptr && result->frames >= acknowledged + kAckEvery &&
           acknowledged + kAckEvery < kFrames) {
      if (write(ack->write_fd(), "+", 1) != 1) {
        result->status = absl::InternalError("cannot acknowledge to writer");
        return;
      }
      acknowledged += kAckEvery;
    }
    if (whole_commits && result->frames % kCommitEvery != 0 &&
        result->frames != kFrames) {
      result->status = absl::DataLossError(
          absl::StrCat("a batch ended after frame ", result->frames,
                       ", inside a commit of ", kCommitEvery, " frames"));
      return;
    }
  }
}

TEST(CrossProcessTest,
     ReadersSeeOnlyWholeCommittedFramesInOrderWhileAWriterRuns) {
  shmio_test::ScopedPath path(shmio_test::ShmPath("cross-process"));
  {
    // Create and initialise the log, then release the writer lock for the
    // child.
    absl::StatusOr<shmio_test::Writer> init = shmio_test::OpenWriter(
        {.path = path.path(), .size = 1 << 16, .num = 24, .overlap = 256});
    ASSERT_TRUE(init.ok()) << init.status();
  }

  // A writer that died early must show up as its exit code, not kill this
  // process with SIGPIPE when a reader acknowledges.
  signal(SIGPIPE, SIG_IGN);
  shmio_test::Pipe ack;
  shmio_test::ScopedChild writer(shmio_test::SpawnProgram(
      {
          shmio_test::RunfilePath("tests/shmio/numbered_writer"),
          absl::StrCat("--path=", path.path()),
          absl::StrCat("--frames=", kFrames),
          absl::StrCat("--batch=", kCommitEvery),
          absl::StrCat("--ack_fd=", ack.read_fd()),
          absl::StrCat("--ack_every=", kAckEvery),
      },
      {ack.read_fd()}));
  ack.CloseRead();

  std::atomic<bool> writer_done{false};
  ReaderResult whole;
  ReaderResult limited;
  ReaderResult spinning;
  std::thread whole_reader(ReadConcurrently, path.path(), ReadWith::kNext,
                           BatchLimits{}, true, &writer_done, &ack, &whole);
  std::thread limited_reader(ReadConcurrently, path.path(), ReadWith::kNext,
                             BatchLimits{.max_frames = 7, .max_bytes = 300},
                             false, &writer_done, nullptr, &limited);
  std::thread spinning_reader(ReadConcurrently, path.path(),
                              ReadWith::kSpinAndPoll, BatchLimits{}, true,
                              &writer_done, nullptr, &spinning);

  int exit_code = writer.Wait();
  // Release: pairs with the readers' acquire load (see ReadConcurrently).
  writer_done.store(true, std::memory_order_release);
  whole_reader.join();
  limited_reader.join();
  spinning_reader.join();

  EXPECT_EQ(exit_code, 0) << "numbered_writer failed; see its stderr";
  EXPECT_TRUE(whole.status.ok()) << whole.status;
  EXPECT_TRUE(limited.status.ok()) << limited.status;
  EXPECT_TRUE(spinning.status.ok()) << spinning.status;
  EXPECT_EQ(whole.frames, kFrames);
  EXPECT_EQ(limited.frames, kFrames);
  EXPECT_EQ(spinning.frames, kFrames);
  EXPECT_GE(limited.batches, kFrames / 7) << "max_frames bounds every batch";
  EXPECT_GE(whole.batches, kFrames / kAckEvery)
      << "the reader read while the writer ran, at least once per block";
  RecordProperty("whole_reader_batches", static_cast<int>(whole.batches));
}

}  // namespace
