#include "uvwatch/timer_watcher.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "uvwatch/uv_status.h"

namespace uvwatch {

TimerWatcher::TimerWatcher(int timer_fd, uint64_t poll_interval_ms,
                           WakeCallback on_wake)
    : timer_fd_(timer_fd),
      poll_interval_ms_(poll_interval_ms),
      on_wake_(std::move(on_wake)) {}

absl::StatusOr<TimerWatcher*> TimerWatcher::Create(uv_loop_t* loop,
                                                   uint64_t poll_interval_ms,
                                                   WakeCallback on_wake) {
  // CLOCK_MONOTONIC: wall-clock jumps must not stretch or skip a tick.
  const int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(
        errno, "timerfd_create for the uvwatch poll timer (out of file "
               "descriptors? raise `ulimit -n`)");
  }
  auto watcher = std::unique_ptr<TimerWatcher>(
      new TimerWatcher(fd, poll_interval_ms, std::move(on_wake)));
  const int r = uv_poll_init(loop, &watcher->poll_, fd);
  if (r != 0) {
    close(fd);  // the handle was never linked into the loop: plain delete
    return UvStatus(r, absl::StrCat("uv_poll_init on timerfd ", fd));
  }
  watcher->poll_.data = watcher.get();
  return watcher.release();
}

absl::Status TimerWatcher::SetTimer(uint64_t interval_ms) {
  itimerspec spec{};
  spec.it_interval.tv_sec = static_cast<time_t>(interval_ms / 1000);
  spec.it_interval.tv_nsec = static_cast<long>(interval_ms % 1000) * 1000000;
  // The first expiry after one interval: the owner reads once right away on
  // its own, so an immediate tick would only repeat that read.
  spec.it_value = spec.it_interval;
  if (timerfd_settime(timer_fd_, 0, &spec, nullptr) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("timerfd_settime(", interval_ms, " ms)"));
  }
  return absl::OkStatus();
}

absl::Status TimerWatcher::Start() {
  if (closing_) return absl::FailedPreconditionError("timer watcher is closed");
  absl::Status status = SetTimer(poll_interval_ms_);
  if (!status.ok()) return status;
  return UvStatus(uv_poll_start(&poll_, UV_READABLE, &TimerWatcher::OnTick),
                  absl::StrCat("uv_poll_start on timerfd ", timer_fd_));
}

void TimerWatcher::Stop() {
  if (closing_) return;
  uv_poll_stop(&poll_);
  (void)SetTimer(0);  // disarming a valid timerfd cannot fail
}

void TimerWatcher::Close(ClosedCallback on_closed) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), &TimerWatcher::OnClose);
}

void TimerWatcher::OnTick(uv_poll_t* poll, int status, int events) {
  auto* self = static_cast<TimerWatcher*>(poll->data);
  // Reading the expiry count re-arms readiness. Several expiries since the
  // last read (the loop was busy) still make one poll: the owner reads
  // everything committed, so a missed tick loses nothing.
  uint64_t expirations = 0;
  if (read(self->timer_fd_, &expirations, sizeof expirations) < 0) {
    // EAGAIN: nothing expired (a spurious wake-up). A timerfd we own has no
    // other read error. Either way the poll below is safe: it finds nothing
    // new or everything committed.
  }
  (void)status;  // an error on a timerfd is not possible; poll anyway
  (void)events;
  self->on_wake_();
}

void TimerWatcher::OnClose(uv_handle_t* handle) {
  // The one place a TimerWatcher dies: libuv is done with poll_, so the
  // timerfd can be closed.
  std::unique_ptr<TimerWatcher> self(static_cast<TimerWatcher*>(handle->data));
  close(self->timer_fd_);
  ClosedCallback on_closed = std::move(self->on_closed_);
  self.reset();
  if (on_closed) on_closed();
}

}  // namespace uvwatch
