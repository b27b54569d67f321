// FollowLog: a live reader for the concurrency suite. It reads a numbered log
// (numbered_payload.h) with one Consumer while a writer appends, in batches
// of random limits, checking every frame's sequence number, checksum and
// batch, until it has seen `frames` frames.
#ifndef TESTS_RELIABILITY_LOG_FOLLOWER_H_
#define TESTS_RELIABILITY_LOG_FOLLOWER_H_

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "shmio/shared_memory.h"

namespace shmio_reliability {

struct FollowStats {
  uint64_t frames = 0;
  uint64_t batches = 0;      // non-empty Next() results
  uint64_t caught_up = 0;    // empty Next() results (reader ahead of writer)
};

// Reads `shm` (which must outlive the call) from the first frame until
// `frames` frames were checked. Polls when it has caught up with the writer.
// Returns the first problem found; `stats` (may be null) says how it went.
// `writer_gone` (may be null) set to true makes a caught-up reader give up
// with an error instead of waiting for frames that will never come.
absl::Status FollowLog(const shmio::SharedMemory& shm, uint64_t frames,
                       uint64_t seed, FollowStats* stats,
                       const std::atomic<bool>* writer_gone = nullptr);

}  // namespace shmio_reliability

#endif  // TESTS_RELIABILITY_LOG_FOLLOWER_H_
