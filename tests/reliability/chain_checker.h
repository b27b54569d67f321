// ChainChecker: the reader side of the crash suite for chains of files. It
// follows a numbered chain (numbered_payload.h) with a ChainConsumer from
// the position where its last check stopped, as a restarted reader with a
// saved position would, and checks that every committed frame is whole, in
// sequence, in whole batches and at the position right after the previous
// frame, across every roll.
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
  explicit ChainChecker(std::string directory, uint64_t seed = 1)
      : directory_(std::move(directory)), rng_(seed) {}

  // A chain with no file yet counts as empty; one that loses frames it had
  // is DataLoss.
  absl::Status CatchUp() override;

  // A fresh consumer from the chain's first frame must see everything seen
  // so far; then a reverse range walks back from the end to position 0; and
  // each file's base position is the previous file's end.
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

 private:
  std::string directory_;
  std::mt19937_64 rng_;
  bool initialised_ = false;
  uint64_t position_ = 0;  // the cursor after the last CatchUp
  SequenceChecker sequence_;
};

}  // namespace shmio_reliability

#endif  // TESTS_RELIABILITY_CHAIN_CHECKER_H_
