#include "uvwatch/timer_watcher.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "uvwatch/uv_status.h"

namespace uvwatch {

TimerWatcher::TimerWatcher(uint64_t poll_interval_ms, WakeCallback on_wake)
    : poll_interval_ms_(poll_interval_ms), on_wake_(std::move(on_wake)) {}

TimerWatcher* TimerWatcher::Create(uv_loop_t* loop, uint64_t poll_interval_ms,
                                   WakeCallback on_wake) {
  auto* watcher = new TimerWatcher(poll_interval_ms, std::move(on_wake));
  // uv_timer_init cannot fail (it only links the handle into the loop).
  uv_timer_init(loop, &watcher->timer_);
  watcher->timer_.data = watcher;
  return watcher;
}

absl::Status TimerWatcher::Start() {
  if (closing_) return absl::FailedPreconditionError("timer watcher is closed");
  // The first poll comes after one interval: the owner reads once right
  // away on its own, so an immediate tick would only repeat that read.
  return UvStatus(uv_timer_start(&timer_, &TimerWatcher::OnTick,
                                 poll_interval_ms_, poll_interval_ms_),
                  absl::StrCat("uv_timer_start(", poll_interval_ms_, " ms)"));
}

void TimerWatcher::Stop() {
  if (!closing_) uv_timer_stop(&timer_);
}

void TimerWatcher::Close(ClosedCallback on_closed) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &TimerWatcher::OnClose);
}

void TimerWatcher::OnTick(uv_timer_t* timer) {
  auto* self = static_cast<TimerWatcher*>(timer->data);
  self->on_wake_();
}

void TimerWatcher::OnClose(uv_handle_t* handle) {
  // The one place a TimerWatcher dies: libuv is done with timer_.
  std::unique_ptr<TimerWatcher> self(static_cast<TimerWatcher*>(handle->data));
  ClosedCallback on_closed = std::move(self->on_closed_);
  self.reset();
  if (on_closed) on_closed();
}

}  // namespace uvwatch
