// LogSink: what the mirror writes. It appends frames at known positions,
// commits them in batches, and says what position it holds up to, so a
// mirror that restarts continues exactly where the sink ends.
//
// Positions are those of bridge/stream_id.h. Append() takes the position the
// frame must land at and refuses any other: a frame is never written twice
// and never renumbered. One implementation per kind of log, sharing
// positioned_sink.h: single_file_sink.h for one file (a Pool),
// chain_sink.h for a chain of files (a ChainWriter); OpenLogSink() below
// picks it.
//
// Thread safety: one thread at a time (it is the log's writer). No loop:
// every call completes before it returns.
#ifndef BRIDGE_LOG_SINK_H_
#define BRIDGE_LOG_SINK_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace bridge {

class LogSink {
 public:
  virtual ~LogSink() = default;

  // The position right after the last committed frame: what the sink holds
  // for certain (0 for an empty log). A restart resumes here.
  virtual uint64_t CommittedEnd() const = 0;
  // The position the next Append() must give (CommittedEnd() plus what was
  // appended since the last Commit()).
  virtual uint64_t AppendEnd() const = 0;

  // Appends one frame at `position`, invisible to readers until Commit().
  // Errors, with nothing written: FailedPrecondition when `position` is not
  // AppendEnd() (names both: a gap or a repeat), ResourceExhausted when the
  // log is full ("Shared memory exhausted"), InvalidArgument for a payload
  // over 65531 bytes.
  virtual absl::Status Append(uint64_t position, absl::Span<const uint8_t> payload) = 0;

  // Publishes every frame appended since the last Commit() at once.
  virtual absl::Status Commit() = 0;

  // The log's name for messages (its path).
  virtual const std::string& name() const = 0;
  // True for a chain of files, which may start at any position; a single
  // file holds positions from 0 only.
  virtual bool is_chain() const = 0;
};

struct SinkOptions {
  std::string path;
  // Bytes for a file this call creates (missing, or shorter than the
  // 24-byte header: a creation cut short); 0 = the log must exist already.
  // An existing log keeps its own size.
  uint64_t create_capacity = 0;
  // A chain: > 0 creates one at options.path (a directory) when there is
  // none, with files of this many bytes, its first frame at
  // first_position (the stream's first entry). 0 = continue the chain
  // that options.path holds.
  uint64_t chain_file_capacity = 0;
  uint64_t first_position = 0;
};

// Opens the log at options.path as its one writer (the lock of
// shmio/shared_memory.h, or a chain's writer.lock, keeps a second mirror
// out): a chain when options.path is a directory or chain_file_capacity >
// 0, else a single file, created when missing and create_capacity > 0.
// Errors: NotFound (missing, no capacity given; a directory that is not a
// chain), FailedPrecondition (another writer holds it, naming its pid; a
// chain capacity other than the chain's own), DataLoss (a chain that is
// not whole), and those of SharedMemory::Open, Pool::Create and
// ChainWriter::Open; all name the path.
absl::StatusOr<std::unique_ptr<LogSink>> OpenLogSink(const SinkOptions& options);

}  // namespace bridge

#endif  // BRIDGE_LOG_SINK_H_
