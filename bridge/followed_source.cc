#include "bridge/followed_source.h"

#include <utility>

namespace bridge {

FollowedSource::FollowedSource(std::unique_ptr<SourceLog> log, BatchCallback on_batch,
                               ErrorCallback on_error)
    : log_(std::move(log)), on_batch_(std::move(on_batch)), on_error_(std::move(on_error)) {}

absl::StatusOr<FollowedSource*> FollowedSource::Open(uv_loop_t* loop,
                                                     std::unique_ptr<SourceLog> log,
                                                     std::optional<uint64_t> position,
                                                     const SourceOptions& options,
                                                     BatchCallback on_batch,
                                                     ErrorCallback on_error) {
  if (!on_batch || !on_error) {
    return absl::InvalidArgumentError("a log source needs a batch and an error callback");
  }
  std::unique_ptr<FollowedSource> self(
      new FollowedSource(std::move(log), std::move(on_batch), std::move(on_error)));
  uvwatch::Options watch;
  watch.max_frames_per_batch = options.max_frames_per_batch;
  watch.max_bytes_per_batch = options.max_bytes_per_batch;
  FollowedSource* raw = self.get();
  absl::StatusOr<uvwatch::Subscription*> subscription = raw->log_->Subscribe(
      loop, position, watch, [raw](const shmio::Batch& batch) { raw->OnBatch(batch); },
      [raw](const absl::Status& error) { raw->on_error_(error); });
  if (!subscription.ok()) return subscription.status();
  raw->subscription_ = *subscription;
  return self.release();
}

void FollowedSource::OnBatch(const shmio::Batch& batch) {
  frames_.clear();
  for (const shmio::Frame& frame : batch.frames) {
    frames_.push_back(LogFrame{log_->PositionOf(batch, frame), frame.payload});
  }
  if (!frames_.empty()) on_batch_(frames_);
  if (!batch.frames.status().ok() && !closing_) {
    subscription_->Stop();
    on_error_(batch.frames.status());
  }
}

void FollowedSource::Pause() {
  if (!closing_) subscription_->Stop();
}

absl::Status FollowedSource::Resume() {
  if (closing_) return absl::FailedPreconditionError(log_->name() + ": the source is closed");
  return subscription_->Resume();
}

void FollowedSource::Close(std::function<void()> on_closed) {
  if (closing_) return;
  closing_ = true;
  subscription_->Close([this, on_closed = std::move(on_closed)] {
    delete this;  // the subscription, which may borrow from log_, is gone
    if (on_closed) on_closed();
  });
}

}  // namespace bridge
