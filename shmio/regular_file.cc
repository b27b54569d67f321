#include "shmio/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace shmio {
namespace internal {

const char* FileTypeName(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "a regular file";
    case S_IFDIR:
      return "a directory";
    case S_IFIFO:
      return "a FIFO (named pipe)";
    case S_IFSOCK:
      return "a socket";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFLNK:
      return "a symbolic link";
  }
  return "not a regular file";
}

absl::StatusOr<int> OpenRegularFile(const std::string& path, int flags,
                                    const char* what, int* open_errno) {
  if (open_errno != nullptr) *open_errno = 0;
  int fd = open(path.c_str(), flags | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (open_errno != nullptr) *open_errno = err;
    return absl::ErrnoToStatus(err, absl::StrFormat("%s %s", what, path));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return absl::ErrnoToStatus(err, absl::StrFormat("cannot stat %s", path));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is not a regular file (it is %s); a shmio log is a regular file",
        path, FileTypeName(st.st_mode)));
  }
  // Clearing O_NONBLOCK on a regular file cannot fail in a way that matters.
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0) (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  return fd;
}

}  // namespace internal
}  // namespace shmio
