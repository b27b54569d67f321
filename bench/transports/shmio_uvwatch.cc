#include "bench/transports/shmio_uvwatch.h"

#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <functional>
#include <utility>

#include "absl/strings/str_format.h"
#include "bench/message.h"
#include "bench/transports/shmio_files.h"

namespace bench {
namespace {

// Called for each frame the subscription delivers; sets *finished when the
// side has done its last round trip.
using FrameHandler =
    std::function<absl::Status(const shmio::Frame& frame, bool* finished)>;

// One process's loop: a subscription on the peer's log, a watchdog timer
// that ends the loop when the peer gave up or the time ran out, and the
// first status that went wrong.
class LoopSide {
 public:
  LoopSide(SharedControl* control, double timeout_seconds)
      : control_(control),
        deadline_ns_(NowNs() + static_cast<int64_t>(timeout_seconds * 1e9)) {}

  // Subscribes to `path`, runs `kickoff` (may be empty), then runs the loop
  // until `on_frame` finishes, an error occurs, or the watchdog fires.
  absl::Status Run(const std::string& path, const uvwatch::Options& options,
                   FrameHandler on_frame, std::function<absl::Status()> kickoff) {
    int r = uv_loop_init(&loop_);
    if (r != 0) return absl::InternalError(uv_strerror(r));
    on_frame_ = std::move(on_frame);
    absl::StatusOr<uvwatch::Subscription*> subscription =
        uvwatch::Subscription::Open(
            &loop_, path, options,
            [this](const shmio::Batch& batch) { OnBatch(batch); },
            [this](const absl::Status& error) { Finish(error); });
    if (!subscription.ok()) {
      uv_run(&loop_, UV_RUN_NOWAIT);  // a half-made watcher may be closing
      uv_loop_close(&loop_);
      return subscription.status();
    }
    subscription_ = *subscription;
    uv_timer_init(&loop_, &watchdog_);
    watchdog_.data = this;
    uv_timer_start(&watchdog_, &LoopSide::OnWatchdog, 50, 50);
    if (kickoff) {
      absl::Status status = kickoff();
      if (!status.ok()) Finish(status);
    }
    uv_run(&loop_, UV_RUN_DEFAULT);
    r = uv_loop_close(&loop_);
    if (r != 0 && result_.ok()) {
      result_ = absl::InternalError(absl::StrFormat(
          "uv_loop_close: %s (a handle was left open)", uv_strerror(r)));
    }
    return result_;
  }

 private:
  void OnBatch(const shmio::Batch& batch) {
    // A copy of the range (a few words) to walk it and read its status.
    shmio::FrameRange frames = batch.frames;
    for (const shmio::Frame& frame : frames) {
      if (done_) return;
      bool finished = false;
      absl::Status status = on_frame_(frame, &finished);
      if (!status.ok() || finished) {
        Finish(status);
        return;
      }
    }
    if (!frames.status().ok()) Finish(frames.status());
  }

  // Records the first error and closes every handle, so uv_run returns.
  void Finish(const absl::Status& status) {
    if (result_.ok()) result_ = status;
    if (done_) return;
    done_ = true;
    subscription_->Close();
    uv_close(reinterpret_cast<uv_handle_t*>(&watchdog_), nullptr);
  }

  static void OnWatchdog(uv_timer_t* timer) {
    auto* self = static_cast<LoopSide*>(timer->data);
    // Relaxed: `stop` only asks us to give up; no data rides on it.
    if (self->control_->stop.load(std::memory_order_relaxed) != 0) {
      self->Finish(absl::AbortedError("the peer process gave up"));
    } else if (NowNs() > self->deadline_ns_) {
      self->Finish(absl::DeadlineExceededError(
          "ping-pong through uvwatch did not finish in time"));
    }
  }

  SharedControl* control_;
  int64_t deadline_ns_;
  uv_loop_t loop_;
  uv_timer_t watchdog_;
  uvwatch::Subscription* subscription_ = nullptr;  // owned by the loop
  FrameHandler on_frame_;
  absl::Status result_;
  bool done_ = false;
};

absl::Status AppendAndCommit(shmio::Pool& pool, const MessageMaker& maker,
                             uint64_t sequence) {
  absl::StatusOr<absl::Span<uint8_t>> slice = pool.SliceSize(maker.size());
  if (!slice.ok()) return slice.status();
  maker.Fill(sequence, slice->data());
  return pool.Commit();
}

}  // namespace

ShmioUvwatchTransport::ShmioUvwatchTransport(std::string dir,
                                             uvwatch::Mode mode,
                                             uint64_t poll_interval_ms)
    : dir_(std::move(dir)), mode_(mode), poll_interval_ms_(poll_interval_ms) {}

std::string ShmioUvwatchTransport::name() const {
  return mode_ == uvwatch::Mode::kTimer ? "shmio-timer" : "shmio-inotify";
}

uint64_t ShmioUvwatchTransport::LatencyRoundTrips(uint64_t budget) const {
  // A timer round trip takes about one interval: keep a run near a second.
  if (mode_ == uvwatch::Mode::kTimer) {
    return std::min<uint64_t>(budget, 1000 / std::max<uint64_t>(1, poll_interval_ms_));
  }
  return std::min<uint64_t>(budget, 20000);
}

uvwatch::Options ShmioUvwatchTransport::SubscriptionOptions() const {
  uvwatch::Options options;
  options.mode = mode_;
  options.poll_interval_ms = poll_interval_ms_;
  options.start = uvwatch::Start::kBeginning;
  return options;
}

absl::Status ShmioUvwatchTransport::PrepareThroughput(const ThroughputSpec&) {
  return absl::UnimplementedError("uvwatch transports measure latency only");
}
absl::Status ShmioUvwatchTransport::ThroughputWriter(const ThroughputSpec&,
                                                     SharedControl*) {
  return absl::UnimplementedError("uvwatch transports measure latency only");
}
absl::Status ShmioUvwatchTransport::ThroughputReader(const ThroughputSpec&,
                                                     SharedControl*) {
  return absl::UnimplementedError("uvwatch transports measure latency only");
}

absl::Status ShmioUvwatchTransport::PrepareLatency(const LatencySpec& spec) {
  const uint64_t capacity = LogCapacityFor(
      spec.warmup_round_trips + spec.round_trips, spec.payload_bytes);
  ping_path_ = UniqueLogPath(dir_, "uv-ping");
  pong_path_ = UniqueLogPath(dir_, "uv-pong");
  absl::Status status = CreateEmptyLog(ping_path_, capacity);
  if (!status.ok()) return status;
  return CreateEmptyLog(pong_path_, capacity);
}

absl::Status ShmioUvwatchTransport::LatencyInitiator(
    const LatencySpec& spec, SharedControl* control,
    std::vector<int64_t>* one_way_ns) {
  absl::StatusOr<LogWriter> ping = OpenLogWriter(ping_path_);
  if (!ping.ok()) return ping.status();
  absl::Status status = WaitForChildReady(control, spec.timeout_seconds);
  if (!status.ok()) return status;
  const MessageMaker maker(spec.payload_bytes);
  const uint64_t total = spec.warmup_round_trips + spec.round_trips;
  uint64_t sequence = 0;
  int64_t sent_at = 0;
  auto send = [&]() {
    sent_at = NowNs();
    return AppendAndCommit(*ping->pool, maker, sequence);
  };
  auto on_reply = [&](const shmio::Frame& frame, bool* finished) {
    absl::Status verified = VerifyMessage(frame.payload, spec.payload_bytes, sequence);
    if (!verified.ok()) return verified;
    const int64_t now = NowNs();
    if (sequence >= spec.warmup_round_trips) {
      one_way_ns->push_back((now - sent_at) / 2);
    }
    if (++sequence == total) {
      *finished = true;
      return absl::OkStatus();
    }
    return send();
  };
  LoopSide side(control, spec.timeout_seconds);
  return side.Run(pong_path_, SubscriptionOptions(), on_reply, send);
}

absl::Status ShmioUvwatchTransport::LatencyEchoer(const LatencySpec& spec,
                                                  SharedControl* control) {
  absl::StatusOr<LogWriter> pong = OpenLogWriter(pong_path_);
  if (!pong.ok()) return pong.status();
  const MessageMaker maker(spec.payload_bytes);
  const uint64_t total = spec.warmup_round_trips + spec.round_trips;
  uint64_t sequence = 0;
  auto on_ping = [&](const shmio::Frame& frame, bool* finished) {
    absl::Status status = VerifyMessage(frame.payload, spec.payload_bytes, sequence);
    if (status.ok()) status = AppendAndCommit(*pong->pool, maker, sequence);
    if (status.ok() && ++sequence == total) *finished = true;
    return status;
  };
  // Ready once subscribed: the kickoff runs after Open() and before the loop.
  auto ready = [&]() {
    SignalChildReady(control);
    return absl::OkStatus();
  };
  LoopSide side(control, spec.timeout_seconds);
  absl::Status status = side.Run(ping_path_, SubscriptionOptions(), on_ping, ready);
  if (status.ok()) RecordReaderDone(control, total);
  return status;
}

void ShmioUvwatchTransport::Cleanup() {
  if (!ping_path_.empty()) unlink(ping_path_.c_str());
  if (!pong_path_.empty()) unlink(pong_path_.c_str());
  ping_path_.clear();
  pong_path_.clear();
}

}  // namespace bench
