#include "shmio/writer_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "shmio/format.h"

namespace shmio {
namespace internal {
namespace {

constexpr off_t kEnforceByte = static_cast<off_t>(format::kWriterLockOffset);
constexpr off_t kPidByte = kEnforceByte + 1;

struct flock LockRange(short type, off_t start) {
  struct flock fl = {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = start;
  fl.l_len = 1;
  fl.l_pid = 0;  // must be 0 for OFD locks
  return fl;
}

// The pid the extension block records for the last writer, or 0.
pid_t PidFromExtension(int fd) {
  uint8_t magic[8], pid[8];
  if (pread(fd, magic, sizeof magic, format::kMagicOffset) != sizeof magic ||
      format::DecodeU64(magic) != format::kMagic ||
      pread(fd, pid, sizeof pid, format::kWriterPidOffset) != sizeof pid) {
    return 0;
  }
  return static_cast<pid_t>(format::DecodeU64(pid));
}

// True unless `pid` is known to have exited.
bool MayBeAlive(pid_t pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

// The pid of the writer lock's holder, or 0 when it cannot be known.
pid_t PidOfHolder(int fd) {
  struct flock fl = LockRange(F_RDLCK, kPidByte);
  if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK) return fl.l_pid;
  // No POSIX lock shows: our own process's locks never conflict with us,
  // and a writer that closed any descriptor of the file lost its pid lock.
  // The extension's record of the last writer is the best remaining guess,
  // unless that process is gone (then whoever holds the lock is unknown).
  pid_t recorded = PidFromExtension(fd);
  return recorded > 0 && MayBeAlive(recorded) ? recorded : 0;
}

std::string HolderText(pid_t pid) {
  if (pid == 0) return "another writer (pid unknown)";
  if (pid == getpid()) return absl::StrFormat("this process (pid %d)", pid);
  return absl::StrFormat("pid %d", pid);
}


}  // namespace

absl::Status AcquireWriterLock(int fd, const std::string& path) {
  struct flock enforce = LockRange(F_WRLCK, kEnforceByte);
  if (fcntl(fd, F_OFD_SETLK, &enforce) != 0) {
    int err = errno;
    if (err == EAGAIN || err == EACCES) {
      absl::StatusOr<std::optional<pid_t>> holder = QueryWriterLock(fd, path);
      pid_t pid = (holder.ok() && holder->has_value()) ? **holder : 0;
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s already has a writer: %s holds its writer lock; shmio allows "
          "one writer per log (stop that writer, or open read-only)",
          path, HolderText(pid)));
    }
    return absl::ErrnoToStatus(
        err, absl::StrFormat("cannot lock %s for writing (fcntl F_OFD_SETLK)",
                             path));
  }
  // Advertise our pid. Best effort: losing it only makes the pid unknown.
  struct flock advertise = LockRange(F_WRLCK, kPidByte);
  (void)fcntl(fd, F_SETLK, &advertise);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<pid_t>> QueryWriterLock(int fd,
                                                     const std::string& path) {
  // A read lock conflicts with the writer's write lock and may be tested
  // through a read-only descriptor.
  struct flock probe = LockRange(F_RDLCK, kEnforceByte);
  if (fcntl(fd, F_OFD_GETLK, &probe) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrFormat("cannot query the writer lock of %s", path));
  }
  if (probe.l_type == F_UNLCK) return std::optional<pid_t>();
  return std::optional<pid_t>(PidOfHolder(fd));
}

}  // namespace internal
}  // namespace shmio
