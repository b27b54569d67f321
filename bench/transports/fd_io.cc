#include "bench/transports/fd_io.h"

#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_format.h"

namespace bench {

absl::Status WriteAll(int fd, const uint8_t* data, size_t n,
                      const char* what) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = write(fd, data + done, n - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(
          errno, absl::StrFormat("write of %d bytes to %s", n - done, what));
    }
    done += static_cast<size_t>(r);
  }
  return absl::OkStatus();
}

absl::Status ReadExactly(int fd, uint8_t* data, size_t n, const char* what) {
  size_t done = 0;
  while (done < n) {
    absl::StatusOr<size_t> r = ReadSome(fd, data + done, n - done, what);
    if (!r.ok()) return r.status();
    done += *r;
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> ReadSome(int fd, uint8_t* data, size_t n,
                                const char* what) {
  while (true) {
    ssize_t r = read(fd, data, n);
    if (r > 0) return static_cast<size_t>(r);
    if (r == 0) {
      return absl::UnavailableError(absl::StrFormat(
          "%s: end of file (the peer process ended early)", what));
    }
    if (errno == EINTR) continue;
    return absl::ErrnoToStatus(errno,
                               absl::StrFormat("read of %d bytes from %s", n,
                                               what));
  }
}

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

}  // namespace bench
