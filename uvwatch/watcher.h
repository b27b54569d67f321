// Watcher: what tells a Subscription that a log's committed value may have
// moved. Two kinds exist: TimerWatcher (polls on a uv_timer_t, like the
// original's getAll(pollInterval)) and InotifyWatcher (sleeps on the file's
// inotify events, woken by the writer's doorbell, plus a slow safety timer).
// A watcher only wakes its owner; reading frames is the Subscription's job.
//
// Lifetime, after libuv's handle rules: a watcher is heap-allocated, never
// moves (its uv handles point back at it through handle.data), and is
// destroyed only in the close callback of its last handle, after Close().
// Close() is idempotent. Destructors never call libuv.
//
// Thread safety: loop thread only, like everything in uvwatch.
#ifndef UVWATCH_WATCHER_H_
#define UVWATCH_WATCHER_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"

namespace uvwatch {

class Watcher {
 public:
  // Called on the loop thread when the committed value may have moved.
  using WakeCallback = std::function<void()>;
  // Called once, from the last close callback, after which the watcher is
  // gone.
  using ClosedCallback = std::function<void()>;

  Watcher() = default;
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Starts (or, after Stop(), restarts) calling the wake callback. Errors
  // come from libuv; when Start() fails nothing runs.
  virtual absl::Status Start() = 0;

  // Stops calling the wake callback until Start(). Safe from any callback.
  virtual void Stop() = 0;

  // Called when the owner has read everything up to `cursor` and is about
  // to wait. Returns true when the committed value is already past `cursor`
  // (read again instead of waiting). An inotify watcher arms the doorbell
  // here; a timer watcher just waits for its next tick and returns false.
  virtual bool PrepareToSleep(uint64_t cursor) = 0;

  // Asks for one extra wake-up soon (a committed value the reader could not
  // validate yet, e.g. a torn or damaged one, needs another look without
  // spinning). A timer watcher's next tick does that already.
  virtual void RetrySoon() = 0;

  // Stops and closes every handle; `on_closed` (may be empty) runs in the
  // last close callback, after which *this is deleted. Idempotent: later
  // calls do nothing.
  virtual void Close(ClosedCallback on_closed) = 0;

 protected:
  // Only the static close callbacks delete a watcher.
  virtual ~Watcher() = default;
};

}  // namespace uvwatch

#endif  // UVWATCH_WATCHER_H_
