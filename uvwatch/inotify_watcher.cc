#include "uvwatch/inotify_watcher.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "shmio/consumer.h"
#include "uvwatch/uv_status.h"

namespace uvwatch {

InotifyWatcher::InotifyWatcher(std::string path,
                               std::unique_ptr<shmio::Doorbell> doorbell,
                               uint64_t safety_interval_ms,
                               WakeCallback on_wake)
    : path_(std::move(path)),
      doorbell_(std::move(doorbell)),
      safety_interval_ms_(safety_interval_ms),
      on_wake_(std::move(on_wake)) {}

InotifyWatcher* InotifyWatcher::Create(
    uv_loop_t* loop, std::string path,
    std::unique_ptr<shmio::Doorbell> doorbell, uint64_t safety_interval_ms,
    WakeCallback on_wake) {
  auto* watcher = new InotifyWatcher(std::move(path), std::move(doorbell),
                                     safety_interval_ms, std::move(on_wake));
  // Neither init can fail on Linux: they only link the handles into the
  // loop (the inotify descriptor is created by uv_fs_event_start).
  uv_fs_event_init(loop, &watcher->event_);
  uv_timer_init(loop, &watcher->safety_timer_);
  watcher->event_.data = watcher;
  watcher->safety_timer_.data = watcher;
  return watcher;
}

absl::Status InotifyWatcher::Start() {
  if (closing_) {
    return absl::FailedPreconditionError(
        absl::StrCat("inotify watcher on ", path_, " is closed"));
  }
  absl::Status status = UvStatus(
      uv_fs_event_start(&event_, &InotifyWatcher::OnFileEvent, path_.c_str(),
                        /*flags=*/0),
      absl::StrCat("uv_fs_event_start (inotify) on ", path_,
                   "; if ENOSPC, raise fs.inotify.max_user_watches or use "
                   "mode timer"));
  if (!status.ok()) return status;
  return UvStatus(uv_timer_start(&safety_timer_, &InotifyWatcher::OnSafetyTick,
                                 safety_interval_ms_, safety_interval_ms_),
                  absl::StrCat("uv_timer_start (safety timer for ", path_,
                               ")"));
}

void InotifyWatcher::Stop() {
  if (closing_) return;
  uv_fs_event_stop(&event_);
  uv_timer_stop(&safety_timer_);
}

bool InotifyWatcher::PrepareToSleep(uint64_t cursor) {
  // The reader's half of the doorbell handshake (shmio/doorbell.h):
  // ArmAndLoadCommitted() stores armed = 1, then runs a full barrier here and
  // (membarrier) on every CPU running a writer, then loads `committed`. The
  // writer's Commit() stores `committed` (release), then loads `armed`, with
  // that barrier standing between the two wherever the writer runs. So at
  // least one side sees the other's store:
  //   - if this load misses the writer's new `committed`, the writer's
  //     later load sees armed == 1 and rings: IN_MODIFY wakes us;
  //   - if the writer's load missed armed == 1, this load sees the new
  //     `committed` and we read again instead of sleeping.
  // A ring that happens before we reach the poll phase is not lost either:
  // the kernel queues the inotify event until libuv reads it.
  return doorbell_->ArmAndLoadCommitted() != cursor;
}

void InotifyWatcher::RetrySoon() {
  if (closing_) return;
  // One early tick, then back to the safety period. A value that still does
  // not validate after Consumer::kDamageConfirmMs is reported as damage by
  // the Consumer, so this does not spin.
  uv_timer_start(&safety_timer_, &InotifyWatcher::OnSafetyTick,
                 shmio::Consumer::kDamageConfirmMs, safety_interval_ms_);
}

void InotifyWatcher::Close(ClosedCallback on_closed) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&event_), &InotifyWatcher::OnClose);
  uv_close(reinterpret_cast<uv_handle_t*>(&safety_timer_),
           &InotifyWatcher::OnClose);
}

void InotifyWatcher::OnFileEvent(uv_fs_event_t* event, const char* filename,
                                 int events, int status) {
  // Every event (a ring's IN_MODIFY, an unlink's IN_ATTRIB, a rename) and
  // even an error means "look again": the owner's read and its file
  // identity check find out what happened.
  static_cast<InotifyWatcher*>(event->data)->on_wake_();
}

void InotifyWatcher::OnSafetyTick(uv_timer_t* timer) {
  static_cast<InotifyWatcher*>(timer->data)->on_wake_();
}

void InotifyWatcher::OnClose(uv_handle_t* handle) {
  auto* raw = static_cast<InotifyWatcher*>(handle->data);
  if (--raw->open_handles_ > 0) return;
  // The one place an InotifyWatcher dies: libuv is done with both handles.
  std::unique_ptr<InotifyWatcher> self(raw);
  ClosedCallback on_closed = std::move(self->on_closed_);
  self.reset();
  if (on_closed) on_closed();
}

}  // namespace uvwatch
