// The writer lock: how "one writer per file" is enforced (DESIGN.md §2).
//
// Two byte-range locks far past the end of any real file (format.h,
// kWriterLockOffset), never written:
//   - an open-file-description (OFD) write lock on the first byte enforces
//     the rule: it belongs to the writer's descriptor, so a second writer in
//     the same process conflicts too, and the kernel drops it when the
//     descriptor's last reference goes (a killed writer never wedges a log);
//   - a classic POSIX lock on the next byte only tells others the holder's
//     pid (F_GETLK reports pids for POSIX locks, -1 for OFD locks). Closing
//     any descriptor of the file in the writer's process drops it, so a
//     missing pid means "unknown", never "no writer".
// Linux-only (F_OFD_*): a port replaces this file.
#ifndef SHMIO_WRITER_LOCK_H_
#define SHMIO_WRITER_LOCK_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shmio {
namespace internal {

// Takes the writer lock on `fd` (opened O_RDWR). FailedPrecondition naming
// `path` and, where known, the holder's pid when another writer has it.
absl::Status AcquireWriterLock(int fd, const std::string& path);

// nullopt when no writer holds the lock on `fd`'s file; otherwise the
// holder's pid, or 0 when it cannot be known. `fd` may be read-only.
absl::StatusOr<std::optional<pid_t>> QueryWriterLock(int fd,
                                                     const std::string& path);

}  // namespace internal
}  // namespace shmio

#endif  // SHMIO_WRITER_LOCK_H_
