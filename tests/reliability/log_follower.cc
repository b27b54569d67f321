#include "tests/reliability/log_follower.h"

#include <sched.h>
#include <time.h>

#include <limits>
#include <random>

#include "absl/strings/str_format.h"
#include "shmio/consumer.h"
#include "tests/reliability/numbered_payload.h"

namespace shmio_reliability {

absl::Status FollowLog(const shmio::SharedMemory& shm, uint64_t frames,
                       uint64_t seed, FollowStats* stats,
                       const std::atomic<bool>* writer_gone) {
  FollowStats local;
  if (stats == nullptr) stats = &local;
  std::mt19937_64 rng(seed);
  shmio::Consumer consumer(&shm);
  SequenceChecker sequence;
  uint64_t expected_offset = 0;  // 0 until the first frame
  int idle_turns = 0;
  while (sequence.next_seq() < frames) {
    shmio::BatchLimits limits;
    limits.max_frames = 1 + rng() % 256;
    limits.max_bytes = 1 + rng() % 8192;
    // Loaded before Next(): acquire pairs with the writer thread's release
    // store made after its last Commit(), so once `gone` is seen this Next()
    // sees every frame there will ever be, and an empty batch is final.
    bool gone = writer_gone != nullptr &&
                writer_gone->load(std::memory_order_acquire);
    absl::StatusOr<shmio::Batch> batch = consumer.Next(limits);
    if (!batch.ok()) return batch.status();
    if (batch->empty()) {
      // Caught up with the writer: what was read so far ends on a committed
      // value, which must close a whole batch.
      absl::Status status = sequence.CheckAtBatchEnd(consumer.cursor());
      if (!status.ok()) return status;
      ++stats->caught_up;
      if (gone) {
        return absl::AbortedError(absl::StrFormat(
            "%s: the writer stopped after %d frames; expected %d", shm.path(),
            sequence.next_seq(), frames));
      }
      // Polling, not synchronisation: give the writer the CPU (the test
      // machine may have fewer cores than processes), sleeping a little
      // when yielding alone does not help.
      if (++idle_turns < 16) {
        sched_yield();
      } else {
        timespec pause = {0, 50 * 1000};
        nanosleep(&pause, nullptr);
      }
      continue;
    }
    idle_turns = 0;
    ++stats->batches;
    for (const shmio::Frame& frame : batch->frames) {
      if (expected_offset != 0 && frame.offset != expected_offset) {
        return absl::DataLossError(absl::StrFormat(
            "%s: frame at %d, expected the next frame at %d", shm.path(),
            frame.offset, expected_offset));
      }
      absl::Status status = sequence.Check(frame.payload, frame.offset);
      if (!status.ok()) {
        stats->frames = sequence.next_seq();
        return status;
      }
      expected_offset = frame.end();
    }
    stats->frames = sequence.next_seq();
    if (!batch->frames.status().ok()) return batch->frames.status();
    if (expected_offset != batch->next_cursor) {
      return absl::InternalError(absl::StrFormat(
          "%s: batch ends at %d but says the next cursor is %d", shm.path(),
          expected_offset, batch->next_cursor));
    }
  }
  stats->frames = sequence.next_seq();
  return absl::OkStatus();
}

}  // namespace shmio_reliability
