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

// What the crash suite asks of a reader of a numbered log, a single file
// (LogChecker) or a chain (ChainChecker, chain_checker.h). committed() is
// an offset for a file, a position for a chain: what the writers report.
class NumberedLogCheck {
 public:
  virtual ~NumberedLogCheck() = default;
  // Reads what is new since the last call, checking every frame.
  virtual absl::Status CatchUp() = 0;
  // Reads everything again, forward and backward, with fresh readers.
  virtual absl::Status CheckFromScratch() const = 0;
  // Where the last CatchUp() stopped, and how many frames it has seen.
  virtual uint64_t committed() const = 0;
  virtual uint64_t frames() const = 0;
  // A writer has created the log.
  virtual bool initialised() const = 0;
};

class LogChecker : public NumberedLogCheck {
 public:
  explicit LogChecker(std::string path, uint64_t seed = 1)
      : path_(std::move(path)), rng_(seed) {}

  // Opens the log read-only (debug checks on), Seek()s a new Consumer to the
  // saved cursor and reads up to the committed value in batches of random
  // limits, checking each frame. Returns the first problem found. A missing
  // file, or one whose header no writer has initialised yet, counts as an
  // empty log.
  absl::Status CatchUp() override;

  // Same, with the SharedMemory given (must outlive the call).
  absl::Status CatchUp(const shmio::SharedMemory& shm);

  // Reads the whole log again from the first frame with a fresh Consumer and
  // checks it against what CatchUp() saw, then walks it backwards from the
  // committed value with ReverseFrameRange (trailing sizes) to the first
  // frame, checking every frame again.
  absl::Status CheckFromScratch() const override;

  // The saved cursor (== the committed value after CatchUp) and the number
  // of frames checked so far (== the next sequence number).
  uint64_t committed() const override { return committed_; }
  uint64_t frames() const override { return sequence_.next_seq(); }
  bool initialised() const override { return data_offset_ != 0; }
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
