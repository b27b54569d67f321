#include "bridge/single_file_source.h"

#include <utility>

#include "absl/strings/str_format.h"

namespace bridge {

SingleFileSourceLog::SingleFileSourceLog(std::unique_ptr<shmio::SharedMemory> shm)
    : shm_(std::move(shm)), committed_reader_(shm_.get()) {}

absl::StatusOr<std::unique_ptr<SingleFileSourceLog>> SingleFileSourceLog::Open(const std::string& path) {
  shmio::Options shm_options;
  shm_options.path = path;
  shm_options.debug_checks = shmio::DebugFromEnvironment();
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm = shmio::SharedMemory::Open(shm_options);
  if (!shm.ok()) return shm.status();
  return std::unique_ptr<SingleFileSourceLog>(new SingleFileSourceLog(std::move(*shm)));
}

absl::StatusOr<uvwatch::Subscription*> SingleFileSourceLog::Subscribe(
    uv_loop_t* loop, std::optional<uint64_t> position, uvwatch::Options options,
    uvwatch::Subscription::BatchCallback on_batch,
    uvwatch::Subscription::ErrorCallback on_error) {
  const std::string& path = shm_->path();
  // A single file's oldest frame is always at position 0.
  const uint64_t start = position.value_or(0);
  uint64_t data_offset = DataOffset();
  if (data_offset == 0) {
    if (start != 0) {
      return absl::OutOfRangeError(absl::StrFormat(
          "%s is an empty log (no writer has initialised it), so it holds no frame at "
          "position %d",
          path, start));
    }
    options.start = uvwatch::Start::kBeginning;
  } else {
    options.start = uvwatch::Start::kCursor;
    options.cursor = data_offset + start;
  }
  absl::StatusOr<uvwatch::Subscription*> subscription = uvwatch::Subscription::Open(
      loop, shm_.get(), options, std::move(on_batch), std::move(on_error));
  if (!subscription.ok()) {
    absl::Status status = subscription.status();
    if (absl::IsOutOfRange(status) || absl::IsInvalidArgument(status)) {
      return absl::Status(status.code(),
                          absl::StrFormat("%s holds no frame at position %d (offset %d): %s",
                                          path, start, data_offset + start, status.message()));
    }
    return status;
  }
  return subscription;
}

uint64_t SingleFileSourceLog::DataOffset() {
  if (data_offset_ == 0) {
    shmio::HeaderSnapshot header = shm_->ReadHeader();
    if (header.format != shmio::FileFormat::kEmpty) data_offset_ = header.data_offset;
  }
  return data_offset_;
}

absl::StatusOr<uint64_t> SingleFileSourceLog::CommittedEnd() {
  absl::StatusOr<uint64_t> committed = committed_reader_.Committed();
  if (!committed.ok()) return committed.status();
  uint64_t data_offset = DataOffset();
  if (data_offset == 0 || *committed < data_offset) return 0;  // nothing written yet
  return *committed - data_offset;
}

}  // namespace bridge
