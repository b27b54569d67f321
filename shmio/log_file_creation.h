// Creating a new log file so that it appears at its path complete or not at
// all: exactly one of several racing creators wins, and a loser never
// removes anything it did not make.
//
// The file is made without a name (O_TMPFILE in the target directory),
// locked as the writer (writer_lock.h) and its space reserved
// (space_reservation.h); only then is it linked at the path with linkat(2),
// which fails with EEXIST if anything is there already. So a reader never
// sees a half-reserved file, two creators never both succeed, and a creator
// killed at any moment leaves nothing behind (an unnamed file vanishes with
// its last descriptor). Where the file system has no O_TMPFILE, a uniquely
// named temporary file in the same directory plays its part (link(2) is as
// exclusive), and is unlinked again whatever happens; only a creator killed
// in that window leaves it behind.
//
// Internal to //shmio (SharedMemory::Open).
#ifndef SHMIO_LOG_FILE_CREATION_H_
#define SHMIO_LOG_FILE_CREATION_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace shmio {
namespace internal {

// A new file not yet linked at its path: unnamed (O_TMPFILE), or, where the
// file system has none, under a temporary name in the same directory.
struct UnlinkedFile {
  int fd = -1;            // O_RDWR, holding the writer lock
  std::string temp_path;  // empty for an unnamed file
};

// Creates a file in `directory` with permission bits `mode` (minus the
// umask) and `capacity` bytes reserved, holding the writer lock, named
// nowhere yet (so no reader can see it). `path_for_messages` names it in
// errors. Errors leave nothing behind.
absl::StatusOr<UnlinkedFile> CreateUnlinkedLogFile(const std::string& directory,
                                                   const std::string& path_for_messages,
                                                   mode_t mode, uint64_t capacity);

// Gives `file` its name `path`. AlreadyExists when something (a file, a
// link, a dangling symbolic link) is at `path` already; nothing changes
// then. A temporary name, if any, is removed either way.
absl::Status LinkLogFile(UnlinkedFile& file, const std::string& path);

// Closes `file` (and removes its temporary name), dropping what it reserved.
void DiscardLogFile(UnlinkedFile& file);

// CreateUnlinkedLogFile() in the directory of `path`, then LinkLogFile():
// returns the open O_RDWR descriptor, holding the writer lock. AlreadyExists
// when something is at `path` already: nothing was created, and the caller
// opens what is there. Other errors name the path or directory and leave
// nothing behind.
absl::StatusOr<int> CreateLogFile(const std::string& path, mode_t mode,
                                  uint64_t capacity);

// The directory part of `path` ("." for a bare name).
std::string DirectoryOf(const std::string& path);

}  // namespace internal
}  // namespace shmio

#endif  // SHMIO_LOG_FILE_CREATION_H_
