// LogChecker: the reader side of the crash and concurrency suites. It reads a
// numbered log (numbered_payload.h) through the public reader API and checks
// that every committed frame is whole, in sequence and in whole batches, and
// that the committed value only ever moves forward, resuming each check at
// the cursor where the previous one stopped (a saved cursor, as a real
// reader would keep).
#ifndef TESTS_RELIABILITY_LOG_CHECKER_H_
#define TESTS_RELIABILITY_LOG_CHECKER_H_

#include <cstdint>
#include <random>
#include <string>

#include "absl/status/status.h"
#include "shmio/shared_memory.h"
#include "tests/reliability/numbered_payload.h"

namespace shmio_reliability {

class LogChecker {
 public:
  explicit LogChecker(std::string path, uint64_t seed = 1)
      : path_(std::move(path)), rng_(seed) {}

  // Opens the log read-only (debug checks on), Seek()s a new Consumer to the
  // saved cursor and reads up to the committed value in batches of random
  // limits, checking each frame. Returns the first problem found. A missing
  // file, or one whose header no writer has initialised yet, counts as an
  // empty log.
  absl::Status CatchUp();

  // Same, with the SharedMemory given (must outlive the call).
  absl::Status CatchUp(const shmio::SharedMemory& shm);

  // Reads the whole log again from the first frame with a fresh Consumer and
  // checks it against what CatchUp() saw, then walks it backwards from the
  // committed value with ReverseFrameRange (trailing sizes) to the first
  // frame, checking every frame again.
  absl::Status CheckFromScratch() const;

  // The saved cursor (== the committed value after CatchUp) and the number
  // of frames checked so far (== the next sequence number).
  uint64_t committed() const { return committed_; }
  uint64_t frames() const { return sequence_.next_seq(); }
  bool initialised() const { return data_offset_ != 0; }
  uint64_t data_offset() const { return data_offset_; }

 private:
  std::string path_;
  std::mt19937_64 rng_;
  uint64_t data_offset_ = 0;
  uint64_t committed_ = 0;  // the cursor after the last CatchUp
  SequenceChecker sequence_;
};

}  // namespace shmio_reliability

#endif  // TESTS_RELIABILITY_LOG_CHECKER_H_
