// Reserving a log's space up front, and saying which file system refused.
//
// A log's pages are reserved at creation (posix_fallocate), so that a full
// file system fails there, with a clear error, instead of killing a process
// with SIGBUS on its first store to a page that cannot be backed. Before
// reserving, the free space is checked (fstatvfs): on a disk file system a
// reservation that cannot succeed would otherwise fill the disk for as long
// as it runs, and the free space measured after it would read 0.
//
// Internal to //shmio.
#ifndef SHMIO_SPACE_RESERVATION_H_
#define SHMIO_SPACE_RESERVATION_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace shmio {
namespace internal {

// Reserves bytes [0, capacity) of the file open as `fd` (named `path` in
// messages). ResourceExhausted when the file system has less free space
// than `capacity` (checked first, nothing reserved) or runs out while
// reserving, naming the bytes asked for, the bytes free, the file system's
// type and mount point, and what to do; other errors as errno Statuses.
absl::Status ReserveSpace(int fd, const std::string& path, uint64_t capacity);

// "tmpfs mounted at /dev/shm", "ext4 mounted at /", or as much of that as
// the kernel tells (statfs and /proc/self/mountinfo), for the file `fd`.
std::string DescribeFileSystem(int fd);

}  // namespace internal
}  // namespace shmio

#endif  // SHMIO_SPACE_RESERVATION_H_
