// Opening a log for a one-shot reading command (stat, dump, verify): the
// file must be at least a header long, is opened read-only (never created,
// never written), and its committed value is settled once.
//
// Settling: a live Node.js writer can show a torn committed value for an
// instant, so a value that is outside the file or not on a frame boundary is
// re-read (shmio::Consumer does the validating and the damage confirmation,
// Consumer::kDamageConfirmMs) and reported as damage only when it persists.
// The whole wait is bounded by kSettleDeadlineMs (plus one
// Consumer::Committed() call, itself bounded): a one-shot command never
// waits indefinitely.
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
inline constexpr int kSettleDeadlineMs = 50 * Consumer::kDamageConfirmMs;

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
// value. Errors: NotFound for a missing file; DataLoss for a file shorter
// than the 24-byte header ("not a shmio log"), a damaged header, or a
// committed value that stays invalid (naming the value and the file size).
absl::StatusOr<LogSnapshot> OpenLogSnapshot(const std::string& path,
                                            bool debug);

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_LOG_SNAPSHOT_H_
