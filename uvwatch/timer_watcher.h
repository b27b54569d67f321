// TimerWatcher: polls a log on a repeating uv_timer_t, the original's
// getAll(pollInterval). Works on every file, including those written by the
// Node.js library, which never ring the doorbell. Costs one wake-up per
// interval whether or not anything was committed, and up to one interval of
// latency.
//
// Lifetime: heap-allocated by Create(), never moves (timer_.data == this),
// deleted only in the timer's close callback after Close(); see watcher.h.
//
// Thread safety: loop thread only.
#ifndef UVWATCH_TIMER_WATCHER_H_
#define UVWATCH_TIMER_WATCHER_H_

#include <uv.h>

#include <cstdint>

#include "uvwatch/watcher.h"

namespace uvwatch {

class TimerWatcher final : public Watcher {
 public:
  // Creates a stopped watcher on `loop`, which must outlive it (until the
  // close callback). `poll_interval_ms` must be > 0. The watcher is owned
  // by the loop from here on: release it with Close(), never delete it.
  static TimerWatcher* Create(uv_loop_t* loop, uint64_t poll_interval_ms,
                              WakeCallback on_wake);

  absl::Status Start() override;
  void Stop() override;
  bool PrepareToSleep(uint64_t cursor) override { return false; }
  void RetrySoon() override {}
  void Close(ClosedCallback on_closed) override;

  // Public only so that OnClose can adopt *this into a std::unique_ptr.
  ~TimerWatcher() override = default;

 private:
  TimerWatcher(uint64_t poll_interval_ms, WakeCallback on_wake);

  static void OnTick(uv_timer_t* timer);
  static void OnClose(uv_handle_t* handle);

  uv_timer_t timer_;
  const uint64_t poll_interval_ms_;
  WakeCallback on_wake_;
  ClosedCallback on_closed_;
  bool closing_ = false;
};

}  // namespace uvwatch

#endif  // UVWATCH_TIMER_WATCHER_H_
