#include "tools/uv_loop_init.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"

namespace shmio::cli {

absl::Status InitLoop(uv_loop_t* loop) {
  // The descriptors uv_loop_init takes: its epoll instance, the global
  // pipe (whose failure aborts), and the loop's wake-up eventfd.
  int fds[4];
  bool free = pipe2(fds, O_CLOEXEC) == 0;
  if (free && pipe2(fds + 2, O_CLOEXEC) != 0) {
    close(fds[0]);
    close(fds[1]);
    free = false;
  }
  if (!free) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "cannot start a libuv loop: %s (out of file descriptors? raise "
        "`ulimit -n`)",
        std::strerror(errno)));
  }
  for (int fd : fds) close(fd);
  int r = uv_loop_init(loop);
  if (r != 0) {
    return absl::ResourceExhaustedError(absl::StrFormat(
        "uv_loop_init: %s (out of file descriptors? raise `ulimit -n`)",
        uv_strerror(r)));
  }
  return absl::OkStatus();
}

}  // namespace shmio::cli
