// Opening a log's path without ever blocking, and only if it is a regular
// file. open(2) of a FIFO blocks until a writer (or reader) appears, so every
// open of a log path goes through here: O_NONBLOCK makes the open itself
// return at once, fstat() then refuses anything that is not a regular file,
// and O_NONBLOCK is cleared again (it means nothing for regular files, but a
// descriptor handed to other code should not carry surprises).
//
// Internal to //shmio (SharedMemory, WriterPid, Doorbell).
#ifndef SHMIO_REGULAR_FILE_H_
#define SHMIO_REGULAR_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace shmio {
namespace internal {

// Opens `path` with `flags` (O_RDONLY or O_RDWR, plus O_CLOEXEC always) and
// returns the descriptor. Errors: the errno of open(2) as a Status (NotFound
// for ENOENT, PermissionDenied for EACCES, ...) whose message names `path`
// and `what` ("cannot open", "cannot open for writing"); FailedPrecondition
// "is not a regular file" naming what it is (a FIFO, a directory, a device,
// a socket), with nothing opened. When open(2) itself fails and
// `open_errno` is not null, *open_errno is its errno (else 0).
absl::StatusOr<int> OpenRegularFile(const std::string& path, int flags,
                                    const char* what, int* open_errno = nullptr);

// "a FIFO", "a directory", ... for the file type bits of `mode`.
const char* FileTypeName(unsigned mode);

}  // namespace internal
}  // namespace shmio

#endif  // SHMIO_REGULAR_FILE_H_
