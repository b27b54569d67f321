#include "bridge/single_file_sink.h"

#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "shmio/format.h"

namespace bridge {

absl::StatusOr<std::unique_ptr<LogSink>> OpenLogSink(const SinkOptions& options) {
  struct stat info;
  if (::stat(options.path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s is a directory: mirroring into a chain of files needs chains (issue 11)",
        options.path));
  }
  absl::StatusOr<std::unique_ptr<SingleFileSink>> sink = SingleFileSink::Open(options);
  if (!sink.ok()) return sink.status();
  return std::unique_ptr<LogSink>(std::move(*sink));
}

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

uint64_t SingleFileSink::CommittedEnd() const {
  return pool_->GetSize().committed - data_offset_;
}

uint64_t SingleFileSink::AppendEnd() const {
  return pool_->GetSize().uncommitted - data_offset_;
}

absl::Status SingleFileSink::Append(uint64_t position, absl::Span<const uint8_t> payload) {
  uint64_t expected = AppendEnd();
  if (position != expected) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: a frame for position %d cannot be appended: the log holds positions up to %d, "
        "so the next frame must be at %d (%s)",
        shm_->path(), position, expected, expected,
        position > expected ? "the frames in between are missing" : "that frame is already there"));
  }
  absl::Status appended = pool_->Append(payload);
  if (!appended.ok()) {
    return absl::Status(appended.code(),
                        absl::StrFormat("%s at position %d: %s", shm_->path(), position,
                                        appended.message()));
  }
  return absl::OkStatus();
}

absl::Status SingleFileSink::Commit() { return pool_->Commit(); }

}  // namespace bridge
