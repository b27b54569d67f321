// TimerWatcher: polls a log every poll_interval_ms, the original's
// getAll(pollInterval). Works on every file, including those written by the
// Node.js library, which never ring the doorbell. Costs one wake-up per
// interval whether or not anything was committed, and up to one interval
// plus one wake-up of latency.
//
// Why a timerfd under a uv_poll_t and not a uv_timer_t: libuv re-arms a
// repeating timer from its millisecond loop clock after each tick, and the
// kernel adds its timer slack (50 us by default) to the epoll timeout, so a
// 1 ms uv timer ticks every ~1.08 ms and drifts. A periodic timerfd expires
// on exact multiples of the interval from its start, with no slack (it is
// not a sleep), so the ticks neither stretch nor drift.
//
// Lifetime: heap-allocated by Create(), never moves (poll_.data == this),
// deleted only in the poll handle's close callback after Close(), which
// also closes the timerfd; see watcher.h.
//
// Thread safety: loop thread only.
#ifndef UVWATCH_TIMER_WATCHER_H_
#define UVWATCH_TIMER_WATCHER_H_

#include <uv.h>

#include <cstdint>

#include "absl/status/statusor.h"
#include "uvwatch/watcher.h"

namespace uvwatch {

class TimerWatcher final : public Watcher {
 public:
  // Creates a stopped watcher on `loop`, which must outlive it (until the
  // close callback). `poll_interval_ms` must be > 0. The watcher is owned
  // by the loop from here on: release it with Close(), never delete it.
  // Errors: timerfd_create or uv_poll_init failed (e.g. out of file
  // descriptors), named with errno.
  static absl::StatusOr<TimerWatcher*> Create(uv_loop_t* loop,
                                              uint64_t poll_interval_ms,
                                              WakeCallback on_wake);

  absl::Status Start() override;
  void Stop() override;
  bool PrepareToSleep(uint64_t /*cursor*/) override { return false; }
  void RetrySoon() override {}
  void Close(ClosedCallback on_closed) override;

  // Public only so that OnClose can adopt *this into a std::unique_ptr.
  ~TimerWatcher() override = default;

 private:
  TimerWatcher(int timer_fd, uint64_t poll_interval_ms, WakeCallback on_wake);

  // Arms the timerfd to expire every `interval_ms` (0 disarms it).
  absl::Status SetTimer(uint64_t interval_ms);

  static void OnTick(uv_poll_t* poll, int status, int events);
  static void OnClose(uv_handle_t* handle);

  uv_poll_t poll_;
  const int timer_fd_;  // closed in OnClose, once libuv no longer polls it
  const uint64_t poll_interval_ms_;
  WakeCallback on_wake_;
  ClosedCallback on_closed_;
  bool closing_ = false;
};

}  // namespace uvwatch

#endif  // UVWATCH_TIMER_WATCHER_H_
