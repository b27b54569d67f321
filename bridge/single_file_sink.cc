#include "bridge/single_file_sink.h"

#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "shmio/format.h"

namespace bridge {

SingleFileSink::SingleFileSink(std::unique_ptr<shmio::SharedMemory> shm,
                               std::unique_ptr<shmio::Pool> pool, uint64_t data_offset)
    : shm_(std::move(shm)), pool_(std::move(pool)), data_offset_(data_offset) {}

absl::StatusOr<std::unique_ptr<SingleFileSink>> SingleFileSink::Open(const SinkOptions& options) {
  struct stat info;
  bool exists = ::stat(options.path.c_str(), &info) == 0;
  if (!exists && errno != ENOENT) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open ", options.path));
  }
  // A file shorter than the header is a creation cut short (a writer
  // killed between creating the file and sizing it): create it again.
  bool create = !exists || static_cast<uint64_t>(info.st_size) < shmio::format::kHeaderSize;
  if (create && options.create_capacity == 0) {
    return absl::NotFoundError(
        exists ? absl::StrFormat("%s is %d bytes, not a log yet: give a capacity to create it",
                                 options.path, info.st_size)
               : absl::StrCat(options.path, " does not exist"));
  }
  shmio::Options shm_options;
  shm_options.path = options.path;
  shm_options.writable = true;
  shm_options.debug_checks = shmio::DebugFromEnvironment();
  // A capacity is a size to create with; an existing log keeps its own.
  if (create) shm_options.capacity = options.create_capacity;
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm = shmio::SharedMemory::Open(shm_options);
  if (!shm.ok()) return shm.status();
  absl::StatusOr<std::unique_ptr<shmio::Pool>> pool = shmio::Pool::Create(shm->get());
  if (!pool.ok()) return pool.status();
  // Pool::Create initialised a fresh file, so the header is known now.
  uint64_t data_offset = (*shm)->ReadHeader().data_offset;
  return std::unique_ptr<SingleFileSink>(
      new SingleFileSink(std::move(*shm), std::move(*pool), data_offset));
}

PositionedSink::WriterEnds SingleFileSink::Ends() const {
  const shmio::Pool::Size size = pool_->GetSize();
  return {size.committed - data_offset_, size.uncommitted - data_offset_};
}

absl::Status SingleFileSink::AppendFrame(absl::Span<const uint8_t> payload) {
  return pool_->Append(payload);
}

absl::Status SingleFileSink::Commit() { return pool_->Commit(); }

}  // namespace bridge
