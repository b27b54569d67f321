#include "uvwatch/file_identity.h"

#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"

namespace uvwatch {

absl::StatusOr<FileIdentity> FileIdentity::Of(int fd, std::string path,
                                              uint64_t mapped_bytes) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("fstat of ", path));
  }
  return FileIdentity(fd, std::move(path), mapped_bytes, st.st_dev,
                      st.st_ino);
}

absl::Status FileIdentity::Check() const {
  // The path first: a file renamed over ours is "replaced", though our
  // inode then has no links left either.
  struct stat at_path;
  if (stat(path_.c_str(), &at_path) != 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat(
          path_, " was removed or renamed while watched (nothing is at the "
                 "path any more; the watched log was inode ", ino_, ")"));
    }
    return absl::ErrnoToStatus(errno, absl::StrCat("stat of ", path_));
  }
  if (at_path.st_ino != ino_ || at_path.st_dev != dev_) {
    return absl::FailedPreconditionError(absl::StrCat(
        path_, " was replaced while watched: the path now names inode ",
        at_path.st_ino, ", the watched log is inode ", ino_));
  }
  struct stat open_file;
  if (fstat(fd_, &open_file) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("fstat of ", path_));
  }
  if (static_cast<uint64_t>(open_file.st_size) < mapped_bytes_) {
    return absl::DataLossError(absl::StrCat(
        path_, " shrank to ", open_file.st_size, " bytes while watched (",
        mapped_bytes_, " bytes are mapped): the log was re-created smaller "
        "in place"));
  }
  return absl::OkStatus();
}

}  // namespace uvwatch
