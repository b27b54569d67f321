#include "shmio/reader_lock.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "shmio/format.h"

namespace shmio {
namespace internal {
namespace {

bool SetLock(int fd, short type) {
  struct flock fl = {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(format::kReaderLockOffset);
  fl.l_len = 1;
  fl.l_pid = 0;  // must be 0 for OFD locks
  return fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

}  // namespace

absl::Status HoldReaderLock(int fd, const std::string& path) {
  if (SetLock(fd, F_RDLCK)) return absl::OkStatus();
  if (errno == EAGAIN || errno == EACCES) {
    return absl::NotFoundError(absl::StrFormat(
        "%s was just removed from its chain by retention: its writer is "
        "reusing the file's space for a new file; read on from the chain's "
        "oldest position (list the directory again)",
        path));
  }
  return absl::OkStatus();  // no OFD locks here: nobody can recycle either
}

absl::Status ExcludeReaders(int fd, const std::string& path) {
  if (SetLock(fd, F_WRLCK)) return absl::OkStatus();
  const int err = errno;
  return absl::FailedPreconditionError(absl::StrFormat(
      "%s cannot be reused for a new file: %s", path,
      err == EAGAIN || err == EACCES ? "a reader has it open"
                                     : absl::StrFormat("cannot lock it (%s)", std::strerror(err))));
}

void AdmitReaders(int fd) { (void)SetLock(fd, F_UNLCK); }

}  // namespace internal
}  // namespace shmio
