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
// Only files created by shmio C++ have a doorbell, and only shmio writers
// ring it. A writer that does not ring (the Node.js library continuing a log
// of ours) shows itself when `committed` moved while the reader was armed
// and no event came: the next safety tick notices, and from then on the
// timer ticks every poll_interval_ms (timer mode's period) until an event
// shows that the writer rings again; the second such commit is reported,
// once, through the notice callback.
// Files written by the Node.js library from the start have no doorbell:
// watch them with a TimerWatcher.
//
// A chain (CreateForChain) is read one file at a time: the watch follows
// the file being read (Follow() moves it, so the old file, which retention
// may unlink, keeps no watch), and a third handle watches the chain's
// directory, so that a new file appearing (IN_CREATE, IN_MOVED_TO) wakes a
// reader waiting for the chain's first file or at the end of a file a dead
// writer left unsealed. libuv watches a directory for every kind of event;
// those that are not a chain file's name appearing or going are ignored
// (a ring in a file of the directory shows there too, and the file's own
// watch has it).
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
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"

#include "shmio/doorbell.h"
#include "uvwatch/watcher.h"

namespace uvwatch {

class InotifyWatcher final : public Watcher {
 public:
  // Creates a stopped watcher for the log at `path` on `loop` (which must
  // outlive it). `doorbell` is the log's doorbell (Doorbell::Open(shm));
  // `safety_interval_ms` > 0 is the backstop period. The watcher is owned by
  // the loop from here on: release it with Close(), never delete it.
  // `poll_interval_ms` > 0 is the period used once the writer is seen not
  // to ring; `on_notice` (may be empty) hears about that, once.
  using NoticeCallback = std::function<void(const absl::Status& notice)>;
  static InotifyWatcher* Create(uv_loop_t* loop, std::string path,
                                std::unique_ptr<shmio::Doorbell> doorbell,
                                uint64_t safety_interval_ms,
                                uint64_t poll_interval_ms, WakeCallback on_wake,
                                NoticeCallback on_notice);

  // Creates a stopped watcher for the chain in `directory`: it watches the
  // directory, and a file once Follow() names one.
  static InotifyWatcher* CreateForChain(uv_loop_t* loop, std::string directory,
                                        uint64_t safety_interval_ms,
                                        uint64_t poll_interval_ms,
                                        WakeCallback on_wake,
                                        NoticeCallback on_notice);

  // Moves the file watch to the log at `path`, whose doorbell is
  // `doorbell`: the reader moved on to another file of its chain. The old
  // file's inotify watch is removed. Errors as Start(), naming `path`; the
  // watcher then watches no file (the directory and the timer still wake).
  absl::Status Follow(std::string path, std::unique_ptr<shmio::Doorbell> doorbell);

  // Starts the inotify watch on the file (and the directory, for a chain)
  // and the safety timer. Errors name
  // the file and the limit that was reached, with its value: the inotify
  // instance limit (fs.inotify.max_user_instances, EMFILE), the watch limit
  // (fs.inotify.max_user_watches, ENOSPC), or the descriptor limit (ulimit
  // -n); on error nothing runs and the caller should Close().
  absl::Status Start() override;
  void Stop() override;
  bool PrepareToSleep(uint64_t cursor) override;
  void RetrySoon() override;
  void Close(ClosedCallback on_closed) override;

  // Public only so that OnClose can adopt *this into a std::unique_ptr.
  ~InotifyWatcher() override = default;

 private:
  InotifyWatcher(std::string path, std::unique_ptr<shmio::Doorbell> doorbell,
                 std::string directory, uint64_t safety_interval_ms,
                 uint64_t poll_interval_ms, WakeCallback on_wake,
                 NoticeCallback on_notice);
  static InotifyWatcher* CreateOn(uv_loop_t* loop, InotifyWatcher* watcher);

  // Starts the watch on path_ (there is one: doorbell_ is set).
  absl::Status StartFileWatch();

  // The safety timer's period now: poll_interval_ms_ while the writer does
  // not ring, else safety_interval_ms_.
  uint64_t Period() const {
    return writer_rings_ ? safety_interval_ms_ : poll_interval_ms_;
  }

  static void OnFileEvent(uv_fs_event_t* event, const char* filename,
                          int events, int status);
  static void OnDirectoryEvent(uv_fs_event_t* event, const char* filename,
                               int events, int status);
  static void OnSafetyTick(uv_timer_t* timer);
  static void OnClose(uv_handle_t* handle);

  uv_fs_event_t event_;
  uv_timer_t safety_timer_;
  uv_fs_event_t directory_event_;  // initialised for a chain only
  std::string path_;  // the file watched; empty while a chain has none
  std::unique_ptr<shmio::Doorbell> doorbell_;  // path_'s; null with it
  const std::string directory_;  // the chain's; empty for a single file
  const uint64_t safety_interval_ms_;
  const uint64_t poll_interval_ms_;
  WakeCallback on_wake_;
  NoticeCallback on_notice_;
  ClosedCallback on_closed_;
  // Armed and asleep since PrepareToSleep(armed_cursor_), with no event
  // since: if `committed` moves meanwhile, the writer did not ring.
  bool asleep_ = false;
  uint64_t armed_cursor_ = 0;
  bool writer_rings_ = true;  // false once a commit came without a ring
  bool noticed_ = false;      // on_notice_ was told (once per watcher)
  bool started_ = false;  // between Start() and Stop()
  bool closing_ = false;
  int open_handles_ = 0;  // of event_, safety_timer_, directory_event_
};

}  // namespace uvwatch

#endif  // UVWATCH_INOTIFY_WATCHER_H_
