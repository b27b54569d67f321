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

absl::Status CreateError(int err, const std::string& path,
                         const std::string& dir) {
  if (err == ENOENT || err == ENOTDIR) {
    return absl::NotFoundError(absl::StrFormat(
        "cannot create %s: its directory %s does not exist", path, dir));
  }
  return absl::ErrnoToStatus(err, absl::StrFormat("cannot create %s", path));
}

// The fallback for file systems without O_TMPFILE: a named temporary file.
absl::StatusOr<UnlinkedFile> CreateWithTemporaryName(const std::string& dir,
                                                     const std::string& path,
                                                     mode_t mode) {
  std::random_device random;
  UnlinkedFile file;
  for (int attempt = 0; attempt < 16 && file.fd < 0; ++attempt) {
    file.temp_path =
        absl::StrFormat("%s/.shmio-creating-%d-%08x", dir, getpid(), random());
    file.fd = open(file.temp_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (file.fd < 0 && errno != EEXIST) return CreateError(errno, path, dir);
  }
  if (file.fd < 0) return CreateError(EEXIST, file.temp_path, dir);
  return file;
}

}  // namespace

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::StatusOr<UnlinkedFile> CreateUnlinkedLogFile(const std::string& directory,
                                                   const std::string& path,
                                                   mode_t mode, uint64_t capacity) {
  absl::StatusOr<UnlinkedFile> made;
  int fd = open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
  if (fd >= 0) {
    made = UnlinkedFile{fd, ""};
  } else if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
    // This file system (or kernel) has no O_TMPFILE.
    made = CreateWithTemporaryName(directory, path, mode);
  } else {
    return CreateError(errno, path, directory);
  }
  if (!made.ok()) return made.status();
  absl::Status status = AcquireWriterLock(made->fd, path);
  if (status.ok()) status = ReserveSpace(made->fd, path, capacity);
  if (!status.ok()) {
    DiscardLogFile(*made);  // an unnamed file vanishes here, with its space
    return status;
  }
  return made;
}

absl::Status LinkLogFile(UnlinkedFile& file, const std::string& path) {
  int err = 0;
  if (file.temp_path.empty()) {
    // Linking an O_TMPFILE file by its /proc/self/fd name needs no
    // privilege (AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH).
    const std::string self = absl::StrFormat("/proc/self/fd/%d", file.fd);
    if (linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      err = errno;
    }
  } else {
    if (link(file.temp_path.c_str(), path.c_str()) != 0) err = errno;
    unlink(file.temp_path.c_str());  // ours, whatever happened
    file.temp_path.clear();
  }
  if (err == EEXIST) return absl::AlreadyExistsError(absl::StrFormat("%s exists", path));
  if (err != 0) {
    return absl::ErrnoToStatus(err, absl::StrFormat("cannot create %s (link)", path));
  }
  return absl::OkStatus();
}

void DiscardLogFile(UnlinkedFile& file) {
  if (!file.temp_path.empty()) unlink(file.temp_path.c_str());
  file.temp_path.clear();
  if (file.fd >= 0) close(file.fd);
  file.fd = -1;
}

absl::StatusOr<int> CreateLogFile(const std::string& path, mode_t mode,
                                  uint64_t capacity) {
  absl::StatusOr<UnlinkedFile> file =
      CreateUnlinkedLogFile(DirectoryOf(path), path, mode, capacity);
  if (!file.ok()) return file.status();
  absl::Status linked = LinkLogFile(*file, path);
  if (!linked.ok()) {
    DiscardLogFile(*file);
    return linked;
  }
  return file->fd;
}

}  // namespace internal
}  // namespace shmio
