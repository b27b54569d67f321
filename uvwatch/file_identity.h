// FileIdentity: notices when the log a reader has mapped is no longer the
// file at its path (removed, or replaced by a new file of the same name).
// A reader keeps its mapping of the old file either way, so without this
// check it would silently wait forever on a file nobody writes any more.
//
// Thread safety: immutable after Of(); Check() may run on any thread.
#ifndef UVWATCH_FILE_IDENTITY_H_
#define UVWATCH_FILE_IDENTITY_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace uvwatch {

class FileIdentity {
 public:
  // Records the device and inode of the open file `fd`, mapped from `path`
  // over `mapped_bytes`. `fd` is not owned and must stay open while Check()
  // is used.
  static absl::StatusOr<FileIdentity> Of(int fd, std::string path,
                                         uint64_t mapped_bytes);

  // OK while `path` still names the open file at its mapped size. NotFound
  // when the file was removed (nothing is at `path`); FailedPrecondition when `path` now names another file
  // (re-created or renamed over); DataLoss when the file shrank below the
  // mapping (re-created smaller in place: reading on would fault). Messages
  // name the path, the inodes and the sizes.
  absl::Status Check() const;

  const std::string& path() const { return path_; }

 private:
  FileIdentity(int fd, std::string path, uint64_t mapped_bytes, dev_t dev,
               ino_t ino)
      : fd_(fd),
        path_(std::move(path)),
        mapped_bytes_(mapped_bytes),
        dev_(dev),
        ino_(ino) {}

  int fd_;
  std::string path_;
  uint64_t mapped_bytes_;
  dev_t dev_;
  ino_t ino_;
};

}  // namespace uvwatch

#endif  // UVWATCH_FILE_IDENTITY_H_
