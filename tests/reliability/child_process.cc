#include "tests/reliability/child_process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace shmio_reliability {

std::string RunfilePath(absl::string_view workspace_relative) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                      workspace != nullptr ? workspace : "shmio", "/",
                      workspace_relative);
}

Child Spawn(const std::vector<std::string>& argv, bool report_pipe) {
  Child child;
  int fds[2] = {-1, -1};
  // O_CLOEXEC so that no other child inherits this pipe: its EOF must mean
  // "this child is gone".
  if (report_pipe && pipe2(fds, O_CLOEXEC) != 0) return child;
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  child.pid = fork();
  if (child.pid == 0) {
    if (report_pipe) {
      // dup2 clears close-on-exec on the new descriptor; when the pipe
      // already sits on that number, clear it by hand.
      if (fds[1] == kChildReportFd) {
        fcntl(kChildReportFd, F_SETFD, 0);
      } else {
        dup2(fds[1], kChildReportFd);
      }
    }
    execv(args[0], args.data());
    _exit(127);
  }
  if (report_pipe) {
    close(fds[1]);
    if (child.pid < 0) {
      close(fds[0]);
    } else {
      child.report_fd = fds[0];
    }
  }
  return child;
}

bool ReadReport(int fd, Report* report) {
  char* bytes = reinterpret_cast<char*>(report);
  size_t got = 0;
  while (got < sizeof *report) {
    ssize_t n = read(fd, bytes + got, sizeof *report - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

void CloseReports(Child* child) {
  if (child->report_fd >= 0) close(child->report_fd);
  child->report_fd = -1;
}

int WaitForExit(pid_t pid) {
  int status = 0;
  pid_t got;
  do {
    got = waitpid(pid, &status, 0);
  } while (got < 0 && errno == EINTR);
  if (got != pid) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string ShmPath(absl::string_view name) {
  // Relaxed: only uniqueness within this process matters.
  static std::atomic<int> counter{0};
  return absl::StrCat("/dev/shm/shmio-reliability-", getpid(), "-", name, "-",
                      counter.fetch_add(1, std::memory_order_relaxed));
}

ScopedUnlink::~ScopedUnlink() { unlink(path_.c_str()); }

}  // namespace shmio_reliability
