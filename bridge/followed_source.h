// FollowedSource: the one LogSource (log_source.h) over a uvwatch
// Subscription, for a single file and for a chain alike. What differs
// between them (how to subscribe, how a frame's cursor becomes a position,
// where the log's committed end is) is a SourceLog; batching, pausing,
// errors and the close sequence are here once.
//
// Lifetime and threads: see LogSource. The source owns its SourceLog; the
// subscription may borrow what the SourceLog holds (a file's mapping) and
// is closed before the SourceLog is freed.
#ifndef BRIDGE_FOLLOWED_SOURCE_H_
#define BRIDGE_FOLLOWED_SOURCE_H_

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bridge/log_source.h"
#include "shmio/consumer.h"
#include "uvwatch/subscription.h"

namespace bridge {

// What a FollowedSource needs of the kind of log it follows.
class SourceLog {
 public:
  virtual ~SourceLog() = default;

  // The log's name for messages (a file's path, a chain's directory).
  virtual const std::string& name() const = 0;

  // Subscribes at `position` (nullopt: the oldest frame the log holds),
  // with `options`' batch bounds already set. Errors name the log and the
  // position.
  virtual absl::StatusOr<uvwatch::Subscription*> Subscribe(
      uv_loop_t* loop, std::optional<uint64_t> position, uvwatch::Options options,
      uvwatch::Subscription::BatchCallback on_batch,
      uvwatch::Subscription::ErrorCallback on_error) = 0;

  // The position of `frame`, one of `batch`'s.
  virtual uint64_t PositionOf(const shmio::Batch& batch, const shmio::Frame& frame) = 0;

  // As LogSource::CommittedEnd().
  virtual absl::StatusOr<uint64_t> CommittedEnd() = 0;
};

class FollowedSource final : public LogSource {
 public:
  // Follows `log` from `position`; see OpenLogSource() in log_source.h.
  static absl::StatusOr<FollowedSource*> Open(uv_loop_t* loop, std::unique_ptr<SourceLog> log,
                                              std::optional<uint64_t> position,
                                              const SourceOptions& options,
                                              BatchCallback on_batch, ErrorCallback on_error);

  void Pause() override;
  absl::Status Resume() override;
  absl::StatusOr<uint64_t> CommittedEnd() override { return log_->CommittedEnd(); }
  const std::string& name() const override { return log_->name(); }
  void Close(std::function<void()> on_closed) override;

  ~FollowedSource() override = default;

 private:
  FollowedSource(std::unique_ptr<SourceLog> log, BatchCallback on_batch, ErrorCallback on_error);

  void OnBatch(const shmio::Batch& batch);

  std::unique_ptr<SourceLog> log_;
  uvwatch::Subscription* subscription_ = nullptr;  // owned by the loop
  BatchCallback on_batch_;
  ErrorCallback on_error_;
  std::vector<LogFrame> frames_;  // one batch, reused
  bool closing_ = false;
};

}  // namespace bridge

#endif  // BRIDGE_FOLLOWED_SOURCE_H_
