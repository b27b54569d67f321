// InotifyWatcher: sleeps on the log file's inotify events (a uv_fs_event_t)
// and is woken by the writer's doorbell, with a slow safety timer behind it.
//
// Why a doorbell: stores into a shared mapping raise no inotify event, so a
// writer that only stores `committed` would never wake this watcher. Before
// the owner sleeps it calls PrepareToSleep(), which arms the doorbell
// (shmio/doorbell.h) and re-reads `committed`; the writer's Commit() sees
// the armed flag and pwrite()s the doorbell line, which raises IN_MODIFY.
// The handshake (explained in PrepareToSleep below and in doorbell.h)
// guarantees no wake-up is lost: either the writer sees `armed` and rings,
// or this reader sees the new `committed` and reads instead of sleeping.
// A reader that keeps up costs the writer one load per commit; a sleeping
// reader costs it one syscall per wake-up, not per commit.
//
// The safety timer (Options::safety_interval_ms, 1 s by default) wakes the
// reader even if an event were lost some other way (e.g. the inotify queue
// overflowed, or a writer crashed between its store and its ring). It is a
// backstop, not the mechanism: tests set it to 30 s and still see sub-ms
// wake-ups.
//
// Only files created by shmio C++ have a doorbell. Files written by the
// Node.js library never ring: watch them with a TimerWatcher.
//
// Lifetime: heap-allocated by Create(), never moves (both handles' data ==
// this), deleted only in the close callback of the second of its two
// handles after Close(); see watcher.h.
//
// Thread safety: loop thread only.
#ifndef UVWATCH_INOTIFY_WATCHER_H_
#define UVWATCH_INOTIFY_WATCHER_H_

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "shmio/doorbell.h"
#include "uvwatch/watcher.h"

namespace uvwatch {

class InotifyWatcher final : public Watcher {
 public:
  // Creates a stopped watcher for the log at `path` on `loop` (which must
  // outlive it). `doorbell` is the log's doorbell (Doorbell::Open(shm));
  // `safety_interval_ms` > 0 is the backstop period. The watcher is owned by
  // the loop from here on: release it with Close(), never delete it.
  static InotifyWatcher* Create(uv_loop_t* loop, std::string path,
                                std::unique_ptr<shmio::Doorbell> doorbell,
                                uint64_t safety_interval_ms,
                                WakeCallback on_wake);

  // Starts the inotify watch on the file and the safety timer. Errors (e.g.
  // ENOSPC: the inotify watch limit, fs.inotify.max_user_watches) name the
  // file; on error nothing runs and the caller should Close().
  absl::Status Start() override;
  void Stop() override;
  bool PrepareToSleep(uint64_t cursor) override;
  void RetrySoon() override;
  void Close(ClosedCallback on_closed) override;

  // Public only so that OnClose can adopt *this into a std::unique_ptr.
  ~InotifyWatcher() override = default;

 private:
  InotifyWatcher(std::string path, std::unique_ptr<shmio::Doorbell> doorbell,
                 uint64_t safety_interval_ms, WakeCallback on_wake);

  static void OnFileEvent(uv_fs_event_t* event, const char* filename,
                          int events, int status);
  static void OnSafetyTick(uv_timer_t* timer);
  static void OnClose(uv_handle_t* handle);

  uv_fs_event_t event_;
  uv_timer_t safety_timer_;
  const std::string path_;
  std::unique_ptr<shmio::Doorbell> doorbell_;
  const uint64_t safety_interval_ms_;
  WakeCallback on_wake_;
  ClosedCallback on_closed_;
  bool closing_ = false;
  int open_handles_ = 2;  // event_ and safety_timer_, until closed
};

}  // namespace uvwatch

#endif  // UVWATCH_INOTIFY_WATCHER_H_
