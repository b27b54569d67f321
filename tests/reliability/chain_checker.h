// ChainChecker: the reader side of the crash suite for chains of files. It
// follows a numbered chain (numbered_payload.h) with a ChainConsumer from
// the position where its last check stopped, as a restarted reader with a
// saved position would, and checks that every committed frame is whole, in
// sequence, in whole batches and at the position right after the previous
// frame, across every roll.
//
// With retention (retain_files > 0) the oldest files go while the checker is
// not looking, its saved position among them. It then resumes at the oldest
// position still there and checks that the removal is one retention could
// have made: whole files (the oldest is a file boundary, and its first frame
// begins a batch), at least retain_files files left, and a jump in sequence
// numbers that the removed bytes can hold (every frame is 20..65535 bytes).
// Everything from there on must be there, gap-free, as without retention.
#ifndef TESTS_RELIABILITY_CHAIN_CHECKER_H_
#define TESTS_RELIABILITY_CHAIN_CHECKER_H_

#include <cstdint>
#include <random>
#include <string>

#include "absl/status/status.h"
#include "tests/reliability/log_checker.h"
#include "tests/reliability/numbered_payload.h"

namespace shmio_reliability {

class ChainChecker : public NumberedLogCheck {
 public:
  // `retain_files`: the writers' ChainOptions::retain_files; 0 (no
  // retention) makes any removed frame DataLoss.
  explicit ChainChecker(std::string directory, uint64_t seed = 1, uint64_t retain_files = 0)
      : directory_(std::move(directory)), rng_(seed), retain_files_(retain_files) {}

  // A chain with no file yet counts as empty; one that loses frames it had,
  // other than whole oldest files retention may remove, is DataLoss.
  absl::Status CatchUp() override;

  // A fresh consumer from the chain's first frame must see everything seen
  // so far; then a reverse range walks back from the end to position 0; and
  // each file's base position is the previous file's end. With retention,
  // "position 0" is the oldest position still there.
  absl::Status CheckFromScratch() const override;

  uint64_t committed() const override { return position_; }
  uint64_t frames() const override { return sequence_.next_seq(); }
  bool initialised() const override { return initialised_; }

  // True when a file before the last is not sealed yet: a writer died
  // between linking a new file and sealing the one before (the next writer
  // seals it). Counted by the crash suite to show kills land mid-roll.
  bool UnsealedBeforeLast() const;
  // How many files the chain has now.
  size_t FileCount() const;
  // How many CatchUp() calls found their saved position removed.
  uint64_t resumed_after_removal() const { return resumed_after_removal_; }

 private:
  // Checks a removal of [from, the oldest file's base) that holds the frames
  // from sequence_.next_seq() up to `first_seq`, the oldest frame's.
  absl::Status CheckRemoved(uint64_t from, uint64_t oldest, size_t files,
                            uint64_t first_seq) const;

  std::string directory_;
  std::mt19937_64 rng_;
  uint64_t retain_files_ = 0;
  bool initialised_ = false;
  uint64_t position_ = 0;  // the cursor after the last CatchUp
  SequenceChecker sequence_;
  // Where this checker's view of the chain begins: the oldest frame's
  // position and seq at its first CatchUp (0, 0 without retention).
  uint64_t first_position_ = 0;
  uint64_t first_seq_ = 0;
  uint64_t resumed_after_removal_ = 0;
};

}  // namespace shmio_reliability

#endif  // TESTS_RELIABILITY_CHAIN_CHECKER_H_
