// FileLog: a single log file as a Subscription follows it: a Consumer over
// a SharedMemory (owned, or borrowed from the caller) and the file's
// identity, checked on each wake-up so that a file removed or replaced at
// its path is noticed.
//
// Thread safety: the loop thread only.
#ifndef UVWATCH_FILE_LOG_H_
#define UVWATCH_FILE_LOG_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "shmio/consumer.h"
#include "shmio/shared_memory.h"
#include "uvwatch/file_identity.h"
#include "uvwatch/followed_log.h"

namespace uvwatch::internal {

class FileLog final : public FollowedLog {
 public:
  // Follows `*shm` (owned when `owned` holds it, else it must outlive the
  // FileLog). Errors: those of FileIdentity::Of.
  static absl::StatusOr<std::unique_ptr<FileLog>> Open(
      std::unique_ptr<shmio::SharedMemory> owned, const shmio::SharedMemory* shm);

  shmio::Consumer& consumer() { return consumer_; }

  bool is_chain() const override { return false; }
  const std::string& name() const override { return shm_->path(); }
  const char* cursor_unit() const override { return "offset"; }
  const char* after_error() const override {
    return "Close() it, and open the log again once a writer has re-created it";
  }
  absl::StatusOr<std::optional<shmio::Batch>> Next(
      const shmio::BatchLimits& limits) override {
    return consumer_.Next(limits);
  }
  uint64_t cursor() const override { return consumer_.cursor(); }
  const shmio::SharedMemory* file() const override { return shm_; }
  uint64_t file_cursor() const override { return consumer_.cursor(); }
  uint64_t file_changes() const override { return 0; }
  bool finished_file() const override { return false; }
  absl::Status CheckIdentity() const override { return identity_.Check(); }
  absl::Status CommittedProblem() const override { return consumer_.CommittedProblem(); }
  absl::Duration CommittedProblemAge() const override {
    return consumer_.CommittedProblemAge();
  }

 private:
  FileLog(std::unique_ptr<shmio::SharedMemory> owned, const shmio::SharedMemory* shm,
          FileIdentity identity)
      : owned_(std::move(owned)), shm_(shm), consumer_(shm), identity_(std::move(identity)) {}

  std::unique_ptr<shmio::SharedMemory> owned_;  // null when borrowed
  const shmio::SharedMemory* shm_;
  shmio::Consumer consumer_;
  FileIdentity identity_;
};

}  // namespace uvwatch::internal

#endif  // UVWATCH_FILE_LOG_H_
