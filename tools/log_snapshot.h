// Opening a log for a one-shot reading command (stat, dump, verify): the
// file must be at least a header long, is opened read-only (never created,
// never written), and its committed value is settled once.
//
// Settling: a live Node.js writer stores committed one byte at a time, so it
// can show a torn value for an instant, or for as long as it is stopped in
// the middle of a store. shmio::Consumer validates every value (never
// trusting one that is outside the file or not on a frame boundary); a
// one-shot command keeps asking it for up to kSettleDeadlineMs, then reports
// what it saw: the value, what is wrong with it, and that a Node.js writer
// may be mid-commit. A one-shot command never waits longer.
#ifndef SHMIO_TOOLS_LOG_SNAPSHOT_H_
#define SHMIO_TOOLS_LOG_SNAPSHOT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "shmio/consumer.h"
#include "shmio/shared_memory.h"

namespace shmio::cli {

// Upper bound on settling the committed value, whatever the file does.
inline constexpr int kSettleDeadlineMs = 3000;

// A read-only log and the committed value a one-shot command works with.
struct LogSnapshot {
  // Declared before `consumer`, which points into it and dies first.
  std::unique_ptr<SharedMemory> shm;
  std::unique_ptr<Consumer> consumer;
  HeaderSnapshot header;  // as first read; header.committed may be torn
  // A genuine committed value (validated by the Consumer): a frame boundary
  // at or after header.data_offset, within the file; 0 for an empty log.
  uint64_t committed = 0;
  // Where frames start (header.data_offset; 0 for an empty log).
  uint64_t data_offset = 0;

  bool empty_log() const { return header.format == FileFormat::kEmpty; }
};

// Opens `path` read-only with `debug` checks and settles its committed
// value. Errors: NotFound for a missing file; Unavailable for a log being
// created; DataLoss for a file shorter than the 24-byte header ("not a
// shmio log"), a damaged header, or a committed value that stays invalid
// for kSettleDeadlineMs (Consumer::CommittedProblem(): the value, what is
// wrong, how long, and the Node.js hint).
absl::StatusOr<LogSnapshot> OpenLogSnapshot(const std::string& path,
                                            bool debug);

// The one check of a cursor given on the command line as --`flag` (dump's
// --from and --to, tail's --from, with or without -f), against the header
// `header`: 0 is the only cursor of an empty log (all-zero header); in any
// other log a cursor at or past dataOffset (a cursor inside the header, 0
// included, is refused: --from=begin names the first frame). OutOfRange or
// InvalidArgument naming the flag, the cursor and the first frame's offset.
absl::Status CheckCursorOutsideHeader(const HeaderSnapshot& header,
                                      const char* flag, uint64_t cursor);

// CheckCursorOutsideHeader(log.header, ...), then that the cursor is a frame
// boundary at or below log.committed (Consumer::Seek, which moves the
// snapshot's consumer there).
absl::Status CheckCursor(LogSnapshot& log, const char* flag, uint64_t cursor);

// A walk over the frames in [from, limit) of a file: how many there are,
// or the first bad one.
struct FrameWalk {
  uint64_t frames = 0;      // good frames before the end or the bad one
  uint64_t bad_offset = 0;  // valid when !status.ok()
  absl::Status status;      // DataLoss naming the file and bad_offset
};

// Walks [from, limit) of `shm` frame by frame, touching nothing at or past
// `limit`; with `debug` each frame's trailing size must equal its leading.
FrameWalk WalkFrames(const SharedMemory& shm, uint64_t from, uint64_t limit, bool debug);

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_LOG_SNAPSHOT_H_
