#include "uvwatch/file_log.h"

#include <utility>

namespace uvwatch::internal {

absl::StatusOr<std::unique_ptr<FileLog>> FileLog::Open(
    std::unique_ptr<shmio::SharedMemory> owned, const shmio::SharedMemory* shm) {
  absl::StatusOr<FileIdentity> identity =
      FileIdentity::Of(shm->fd(), shm->path(), shm->capacity());
  if (!identity.ok()) return identity.status();
  return std::unique_ptr<FileLog>(new FileLog(std::move(owned), shm, *std::move(identity)));
}

}  // namespace uvwatch::internal
