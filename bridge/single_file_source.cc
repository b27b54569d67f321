#include "bridge/single_file_source.h"

#include <sys/stat.h>

#include <utility>

#include "absl/strings/str_format.h"

namespace bridge {

absl::StatusOr<LogSource*> OpenLogSource(uv_loop_t* loop, const std::string& path,
                                         uint64_t position, const SourceOptions& options,
                                         LogSource::BatchCallback on_batch,
                                         LogSource::ErrorCallback on_error) {
  struct stat info;
  if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s is a directory: publishing a chain of files needs chains (issue 11)", path));
  }
  absl::StatusOr<SingleFileSource*> source = SingleFileSource::Open(
      loop, path, position, options, std::move(on_batch), std::move(on_error));
  if (!source.ok()) return source.status();
  return *source;
}

SingleFileSource::SingleFileSource(std::unique_ptr<shmio::SharedMemory> shm,
                                   BatchCallback on_batch, ErrorCallback on_error)
    : shm_(std::move(shm)),
      committed_reader_(shm_.get()),
      on_batch_(std::move(on_batch)),
      on_error_(std::move(on_error)) {}

absl::StatusOr<SingleFileSource*> SingleFileSource::Open(
    uv_loop_t* loop, const std::string& path, uint64_t position, const SourceOptions& options,
    BatchCallback on_batch, ErrorCallback on_error) {
  if (!on_batch || !on_error) {
    return absl::InvalidArgumentError("a log source needs a batch and an error callback");
  }
  shmio::Options shm_options;
  shm_options.path = path;
  shm_options.debug_checks = shmio::DebugFromEnvironment();
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm = shmio::SharedMemory::Open(shm_options);
  if (!shm.ok()) return shm.status();
  std::unique_ptr<SingleFileSource> self(
      new SingleFileSource(std::move(*shm), std::move(on_batch), std::move(on_error)));

  uvwatch::Options watch;
  watch.max_frames_per_batch = options.max_frames_per_batch;
  watch.max_bytes_per_batch = options.max_bytes_per_batch;
  uint64_t data_offset = self->DataOffset();
  if (data_offset == 0) {
    if (position != 0) {
      return absl::OutOfRangeError(absl::StrFormat(
          "%s is an empty log (no writer has initialised it), so it holds no frame at "
          "position %d",
          path, position));
    }
    watch.start = uvwatch::Start::kBeginning;
  } else {
    watch.start = uvwatch::Start::kCursor;
    watch.cursor = data_offset + position;
  }
  SingleFileSource* raw = self.get();
  absl::StatusOr<uvwatch::Subscription*> subscription = uvwatch::Subscription::Open(
      loop, raw->shm_.get(), watch, [raw](const shmio::Batch& batch) { raw->OnBatch(batch); },
      [raw](const absl::Status& error) { raw->on_error_(error); });
  if (!subscription.ok()) {
    absl::Status status = subscription.status();
    if (absl::IsOutOfRange(status) || absl::IsInvalidArgument(status)) {
      return absl::Status(status.code(),
                          absl::StrFormat("%s holds no frame at position %d (offset %d): %s",
                                          path, position, data_offset + position,
                                          status.message()));
    }
    return status;
  }
  raw->subscription_ = *subscription;
  return self.release();
}

uint64_t SingleFileSource::DataOffset() {
  if (data_offset_ == 0) {
    shmio::HeaderSnapshot header = shm_->ReadHeader();
    if (header.format != shmio::FileFormat::kEmpty) data_offset_ = header.data_offset;
  }
  return data_offset_;
}

void SingleFileSource::OnBatch(const shmio::Batch& batch) {
  uint64_t data_offset = DataOffset();
  frames_.clear();
  for (const shmio::Frame& frame : batch.frames) {
    frames_.push_back(LogFrame{frame.offset - data_offset, frame.payload});
  }
  if (!frames_.empty()) on_batch_(frames_);
  if (!batch.frames.status().ok() && !closing_) {
    subscription_->Stop();
    on_error_(batch.frames.status());
  }
}

void SingleFileSource::Pause() {
  if (!closing_) subscription_->Stop();
}

absl::Status SingleFileSource::Resume() {
  if (closing_) return absl::FailedPreconditionError(shm_->path() + ": the source is closed");
  return subscription_->Resume();
}

absl::StatusOr<uint64_t> SingleFileSource::CommittedEnd() {
  absl::StatusOr<uint64_t> committed = committed_reader_.Committed();
  if (!committed.ok()) return committed.status();
  uint64_t data_offset = DataOffset();
  if (data_offset == 0 || *committed < data_offset) return 0;  // nothing written yet
  return *committed - data_offset;
}

void SingleFileSource::Close(std::function<void()> on_closed) {
  if (closing_) return;
  closing_ = true;
  subscription_->Close([this, on_closed = std::move(on_closed)] {
    delete this;  // the subscription, which borrowed shm_, is gone
    if (on_closed) on_closed();
  });
}

}  // namespace bridge
