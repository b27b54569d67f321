// LogSource: what the publisher reads. It follows a log from a position and
// hands out batches of (position, payload) on the uv loop, through uvwatch.
//
// Positions are those of bridge/stream_id.h: the first frame of a log is at
// 0, and the frame after the one at P with n payload bytes is at P + n + 4.
// One implementation, followed_source.h, over a uvwatch subscription; what
// differs between a single file (single_file_source.h) and a chain of files
// (chain_source.h) is a SourceLog. OpenLogSource() below picks it.
//
// Delivery: the first batch starts with the frame at the starting position;
// each later batch starts where the previous one ended; batches are bounded
// by the options' frame and byte limits, and the rest follows on later loop
// turns. Pause() stops delivery (the publisher's back-pressure) until
// Resume(). An error (the log removed, replaced or damaged, a starting
// position the log does not hold) reaches on_error once; nothing is
// delivered after it.
//
// Lifetime: heap-allocated, owned by the loop, released by Close(), which
// frees it in a close callback (libuv's rule); no callback runs after
// Close(). Close() is safe from inside the source's own callbacks.
//
// Thread safety: loop thread only.
#ifndef BRIDGE_LOG_SOURCE_H_
#define BRIDGE_LOG_SOURCE_H_

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace bridge {

// One frame as a source hands it out. `payload` is valid until the batch
// callback returns (copy what must outlive it).
struct LogFrame {
  uint64_t position = 0;
  absl::Span<const uint8_t> payload;
};

struct SourceOptions {
  size_t max_frames_per_batch = 1024;
  size_t max_bytes_per_batch = size_t{1} << 20;  // payload bytes
};

class LogSource {
 public:
  using BatchCallback = std::function<void(absl::Span<const LogFrame> frames)>;
  using ErrorCallback = std::function<void(const absl::Status& error)>;

  // Stops delivering until Resume(); the position is kept.
  virtual void Pause() = 0;
  // Delivers again from where it stopped. FailedPrecondition after an
  // error or Close().
  virtual absl::Status Resume() = 0;

  // The position right after the last frame the log has committed now
  // (what "caught up" is measured against). Errors: the log is damaged.
  virtual absl::StatusOr<uint64_t> CommittedEnd() = 0;

  // The log's name for messages (its path).
  virtual const std::string& name() const = 0;

  // Stops delivery and releases the source; `on_closed` (may be empty)
  // runs after it is freed. Idempotent.
  virtual void Close(std::function<void()> on_closed = nullptr) = 0;

 protected:
  virtual ~LogSource() = default;
};

// Opens the log at `path` (a file, or a directory holding a chain) and
// starts following it from `position` on `loop` (which must outlive the
// source); nullopt starts at the oldest frame the log holds (0 for a file;
// a chain's first position, or what retention left). The callbacks are
// required. Errors: NotFound (no such log), DataLoss (a damaged header),
// OutOfRange (the log's committed end is below `position`, or retention
// removed it from a chain: the message names the oldest position left),
// InvalidArgument (`position` is not a frame boundary of the log),
// FailedPrecondition (a directory that is not a chain), and those of
// SharedMemory::Open; all name the path.
absl::StatusOr<LogSource*> OpenLogSource(uv_loop_t* loop, const std::string& path,
                                         std::optional<uint64_t> position,
                                         const SourceOptions& options,
                                         LogSource::BatchCallback on_batch,
                                         LogSource::ErrorCallback on_error);

// The oldest position the log at `path` still holds: 0 for a file (and for
// a chain that has no file yet), a chain's first file's base position
// otherwise. Errors: those of shmio::ListChain, naming the directory.
absl::StatusOr<uint64_t> OldestPosition(const std::string& path);

}  // namespace bridge

#endif  // BRIDGE_LOG_SOURCE_H_
