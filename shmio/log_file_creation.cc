#include "shmio/log_file_creation.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <random>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "shmio/space_reservation.h"
#include "shmio/writer_lock.h"

namespace shmio {
namespace internal {
namespace {

// The directory part of `path` ("." for a bare name).
std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status CreateError(int err, const std::string& path,
                         const std::string& dir) {
  if (err == ENOENT || err == ENOTDIR) {
    return absl::NotFoundError(absl::StrFormat(
        "cannot create %s: its directory %s does not exist", path, dir));
  }
  return absl::ErrnoToStatus(err, absl::StrFormat("cannot create %s", path));
}

// Locks and reserves the new file `fd`, then gives it its name with `link`
// (which returns 0 or an errno). Closes `fd` on failure.
template <typename Link>
absl::StatusOr<int> LockReserveAndLink(int fd, const std::string& path,
                                       uint64_t capacity, Link link) {
  absl::Status status = AcquireWriterLock(fd, path);
  if (status.ok()) status = ReserveSpace(fd, path, capacity);
  if (status.ok()) {
    int err = link();
    if (err == EEXIST) {
      status = absl::AlreadyExistsError(absl::StrFormat("%s exists", path));
    } else if (err != 0) {
      status = absl::ErrnoToStatus(
          err, absl::StrFormat("cannot create %s (link)", path));
    }
  }
  if (!status.ok()) {
    close(fd);  // an unnamed file vanishes here, with what it had reserved
    return status;
  }
  return fd;
}

// The fallback for file systems without O_TMPFILE: a named temporary file.
absl::StatusOr<int> CreateThroughTemporaryName(const std::string& path,
                                               const std::string& dir,
                                               mode_t mode, uint64_t capacity) {
  std::random_device random;
  std::string temp;
  int fd = -1;
  for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
    temp = absl::StrFormat("%s/.shmio-creating-%d-%08x", dir, getpid(), random());
    fd = open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0 && errno != EEXIST) return CreateError(errno, path, dir);
  }
  if (fd < 0) return CreateError(EEXIST, temp, dir);
  absl::StatusOr<int> made = LockReserveAndLink(fd, path, capacity, [&] {
    return link(temp.c_str(), path.c_str()) == 0 ? 0 : errno;
  });
  unlink(temp.c_str());  // ours, whatever happened; `path` keeps the inode
  return made;
}

}  // namespace

absl::StatusOr<int> CreateLogFile(const std::string& path, mode_t mode,
                                  uint64_t capacity) {
  const std::string dir = DirectoryOf(path);
  int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
  if (fd < 0) {
    int err = errno;
    // EOPNOTSUPP/EISDIR/EINVAL: this file system (or kernel) has no
    // O_TMPFILE.
    if (err == EOPNOTSUPP || err == EISDIR || err == EINVAL) {
      return CreateThroughTemporaryName(path, dir, mode, capacity);
    }
    return CreateError(err, path, dir);
  }
  return LockReserveAndLink(fd, path, capacity, [&] {
    // Linking an O_TMPFILE file by its /proc/self/fd name needs no
    // privilege (AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH).
    const std::string self = absl::StrFormat("/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path.c_str(),
                  AT_SYMLINK_FOLLOW) == 0
               ? 0
               : errno;
  });
}

}  // namespace internal
}  // namespace shmio
