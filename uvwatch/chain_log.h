// ChainLog: a chain of log files (shmio/chain_consumer.h) as a Subscription
// follows it. A ChainConsumer reads it across files by itself; this adds
// the wait for a chain that has no file yet (its writer is creating it):
// until the first file appears, every Next() looks again and finds nothing.
//
// Thread safety: the loop thread only.
#ifndef UVWATCH_CHAIN_LOG_H_
#define UVWATCH_CHAIN_LOG_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "shmio/chain_consumer.h"
#include "uvwatch/followed_log.h"

namespace uvwatch::internal {

class ChainLog final : public FollowedLog {
 public:
  // Opens the chain in `directory` at `start`; with a `reader_name`, as
  // that named reader (ChainConsumer::OpenNamed: at its acknowledged
  // position, `start` only for a new name). Errors: those of
  // ChainFiles::Open (not a directory, not a chain) and of
  // ChainConsumer::Open or OpenNamed (a bad start position, a file that is
  // not where it should be, the name taken by a live reader). A chain with
  // no file yet is no error: see the class comment; kEnd then means its
  // first frame (every frame comes after Open()), and a name is claimed
  // when the first file appears.
  static absl::StatusOr<std::unique_ptr<ChainLog>> Open(const std::string& directory,
                                                        shmio::ChainStart start,
                                                        std::string reader_name = "");

  // Null while the chain has no file.
  const shmio::ChainConsumer* consumer() const { return consumer_.get(); }

  bool is_chain() const override { return true; }
  const std::string& name() const override { return directory_; }
  const char* cursor_unit() const override { return "position"; }
  const char* after_error() const override {
    return "Close() it, and open the chain again (after OutOfRange, at the oldest "
           "position the error names)";
  }
  absl::StatusOr<std::optional<shmio::Batch>> Next(
      const shmio::BatchLimits& limits) override;
  uint64_t cursor() const override;
  const shmio::SharedMemory* file() const override {
    return consumer_ == nullptr ? nullptr : &consumer_->current_file();
  }
  uint64_t file_cursor() const override {
    return consumer_->current().OffsetOf(consumer_->cursor());
  }
  // One more than the consumer's count once it exists: opening the first
  // file is a move too.
  uint64_t file_changes() const override {
    return consumer_ == nullptr ? 0 : consumer_->file_changes() + 1;
  }
  bool finished_file() const override;
  absl::Status CheckIdentity() const override { return absl::OkStatus(); }
  absl::Status CommittedProblem() const override {
    return consumer_ == nullptr ? absl::OkStatus() : consumer_->CommittedProblem();
  }
  absl::Duration CommittedProblemAge() const override {
    return consumer_ == nullptr ? absl::ZeroDuration() : consumer_->CommittedProblemAge();
  }
  bool named() const override { return !reader_name_.empty(); }
  absl::Status Ack(uint64_t position) override;

 private:
  ChainLog(std::string directory, shmio::ChainStart start, std::string reader_name)
      : directory_(std::move(directory)), start_(start), reader_name_(std::move(reader_name)) {}
  // Opens the consumer once the chain has a file; OK (and still null)
  // while it has none.
  absl::Status TryOpen();

  const std::string directory_;
  shmio::ChainStart start_;
  const std::string reader_name_;  // "" for a reader without a name
  std::unique_ptr<shmio::ChainConsumer> consumer_;
};

}  // namespace uvwatch::internal

#endif  // UVWATCH_CHAIN_LOG_H_
