// FollowedLog: what a Subscription reads, behind one interface, so that one
// subscription core (idle-driven batches, watchers, errors, lifetime)
// follows both a single file (FileLog) and a chain of files (ChainLog).
// The core asks for batches and, before it sleeps, which file to watch and
// where in it the reader stands; a log that moves to another file says so
// through file_changes(), and the core re-arms its watcher on file().
//
// Thread safety: the loop thread only, like the Subscription that owns it.
#ifndef UVWATCH_FOLLOWED_LOG_H_
#define UVWATCH_FOLLOWED_LOG_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "shmio/consumer.h"
#include "shmio/shared_memory.h"

namespace uvwatch::internal {

class FollowedLog {
 public:
  virtual ~FollowedLog() = default;

  // True for a chain of files (name() is its directory).
  virtual bool is_chain() const = 0;
  // What messages name: the file's path, or the chain's directory.
  virtual const std::string& name() const = 0;
  // What a cursor counts in messages: "offset" or "position".
  virtual const char* cursor_unit() const = 0;
  // How to go on after an error stopped the subscription, for its message.
  virtual const char* after_error() const = 0;

  // The next run of frames after the cursor, moving past it. Nothing new:
  // an empty batch, or none at all while a chain has no file to read.
  virtual absl::StatusOr<std::optional<shmio::Batch>> Next(
      const shmio::BatchLimits& limits) = 0;
  // The cursor of the next frame to deliver (an offset or a position).
  virtual uint64_t cursor() const = 0;

  // The file read now; null while a chain has no file yet.
  virtual const shmio::SharedMemory* file() const = 0;
  // The cursor as an offset in file(), which its `committed` is compared
  // with (file() must be set).
  virtual uint64_t file_cursor() const = 0;
  // Counts moves to another file; the owner re-arms its watch when it
  // changes. Always 0 for a single file.
  virtual uint64_t file_changes() const = 0;
  // True when file() is sealed and read to its end: the next Next() moves
  // to the next file, so there is no reason to sleep.
  virtual bool finished_file() const = 0;

  // OK while file() is still what name() names; see FileIdentity::Check().
  // A chain's files may be unlinked by retention while read: always OK.
  virtual absl::Status CheckIdentity() const = 0;

  // As Consumer::CommittedProblem() and CommittedProblemAge(), for file().
  virtual absl::Status CommittedProblem() const = 0;
  virtual absl::Duration CommittedProblemAge() const = 0;

  // A named reader's acknowledgement (shmio::ChainConsumer::Ack): every
  // frame before `position` is done. Only a chain followed under a reader
  // name has one; FailedPrecondition for the others.
  virtual bool named() const { return false; }
  virtual absl::Status Ack(uint64_t /*position*/) {
    return absl::FailedPreconditionError(
        "uvwatch: only a subscription with Options::reader_name acknowledges");
  }

  // True when reading on may find more without waiting: committed moved
  // past the cursor, or the file is finished.
  bool HasMore() const {
    const shmio::SharedMemory* shm = file();
    return shm != nullptr && (shm->LoadCommitted() != file_cursor() || finished_file());
  }
};

}  // namespace uvwatch::internal

#endif  // UVWATCH_FOLLOWED_LOG_H_
