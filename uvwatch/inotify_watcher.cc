#include "uvwatch/inotify_watcher.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "shmio/chain_directory.h"
#include "shmio/consumer.h"
#include "uvwatch/uv_status.h"

namespace uvwatch {

namespace {

// The value of a sysctl under /proc/sys, or "?".
std::string Sysctl(const char* path) {
  std::ifstream in(path);
  std::string value;
  if (!(in >> value)) return "?";
  return value;
}

// Why uv_fs_event_start failed, naming the limit behind `uv_code`.
std::string InotifyFailure(int uv_code) {
  if (uv_code == UV_ENOSPC) {
    return absl::StrCat(
        "the inotify watch limit is reached (fs.inotify.max_user_watches = ",
        Sysctl("/proc/sys/fs/inotify/max_user_watches"),
        ", counted per user): raise it, or use mode timer");
  }
  if (uv_code == UV_EMFILE || uv_code == UV_ENFILE) {
    // inotify_init1 says EMFILE both for the per-user instance limit and for
    // this process's descriptor limit; a descriptor we can still open tells
    // them apart.
    int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (probe >= 0) {
      close(probe);
      return absl::StrCat(
          "the inotify instance limit is reached (fs.inotify.max_user_instances "
          "= ",
          Sysctl("/proc/sys/fs/inotify/max_user_instances"),
          ", counted per user, one per loop that watches a file): raise it, "
          "close other inotify users, or use mode timer");
    }
    struct rlimit limit;
    std::string soft = getrlimit(RLIMIT_NOFILE, &limit) == 0
                           ? absl::StrCat(limit.rlim_cur)
                           : std::string("?");
    return absl::StrCat("this process is out of file descriptors (ulimit -n = ",
                        soft, "): raise the limit or close descriptors");
  }
  return absl::StrCat(uv_err_name(uv_code), " ", uv_strerror(uv_code));
}

}  // namespace

InotifyWatcher::InotifyWatcher(std::string path,
                               std::unique_ptr<shmio::Doorbell> doorbell,
                               std::string directory,
                               uint64_t safety_interval_ms,
                               uint64_t poll_interval_ms, WakeCallback on_wake,
                               NoticeCallback on_notice)
    : path_(std::move(path)),
      doorbell_(std::move(doorbell)),
      directory_(std::move(directory)),
      safety_interval_ms_(safety_interval_ms),
      poll_interval_ms_(poll_interval_ms),
      on_wake_(std::move(on_wake)),
      on_notice_(std::move(on_notice)) {}

InotifyWatcher* InotifyWatcher::CreateOn(uv_loop_t* loop,
                                         InotifyWatcher* watcher) {
  // No init can fail on Linux: they only link the handles into the loop
  // (the inotify descriptor is created by uv_fs_event_start).
  uv_fs_event_init(loop, &watcher->event_);
  uv_timer_init(loop, &watcher->safety_timer_);
  watcher->event_.data = watcher;
  watcher->safety_timer_.data = watcher;
  watcher->open_handles_ = 2;
  if (!watcher->directory_.empty()) {
    uv_fs_event_init(loop, &watcher->directory_event_);
    watcher->directory_event_.data = watcher;
    ++watcher->open_handles_;
  }
  return watcher;
}

InotifyWatcher* InotifyWatcher::Create(
    uv_loop_t* loop, std::string path,
    std::unique_ptr<shmio::Doorbell> doorbell, uint64_t safety_interval_ms,
    uint64_t poll_interval_ms, WakeCallback on_wake, NoticeCallback on_notice) {
  return CreateOn(loop, new InotifyWatcher(std::move(path), std::move(doorbell),
                                           /*directory=*/"", safety_interval_ms,
                                           poll_interval_ms, std::move(on_wake),
                                           std::move(on_notice)));
}

InotifyWatcher* InotifyWatcher::CreateForChain(
    uv_loop_t* loop, std::string directory, uint64_t safety_interval_ms,
    uint64_t poll_interval_ms, WakeCallback on_wake, NoticeCallback on_notice) {
  return CreateOn(loop, new InotifyWatcher(/*path=*/"", nullptr, std::move(directory),
                                           safety_interval_ms, poll_interval_ms,
                                           std::move(on_wake), std::move(on_notice)));
}

absl::Status InotifyWatcher::StartFileWatch() {
  int started = uv_fs_event_start(&event_, &InotifyWatcher::OnFileEvent,
                                  path_.c_str(), /*flags=*/0);
  if (started != 0) {
    return UvStatus(started, absl::StrCat("cannot watch ", path_,
                                          " with inotify: ",
                                          InotifyFailure(started)));
  }
  return absl::OkStatus();
}

absl::Status InotifyWatcher::Follow(std::string path,
                                    std::unique_ptr<shmio::Doorbell> doorbell) {
  if (closing_) {
    return absl::FailedPreconditionError(
        absl::StrCat("inotify watcher on ", directory_, " is closed"));
  }
  // libuv removes the inotify watch of the old file once no handle of this
  // loop watches it: an old file that retention unlinks keeps none.
  uv_fs_event_stop(&event_);
  path_ = std::move(path);
  doorbell_ = std::move(doorbell);
  asleep_ = false;  // armed on the old file, if at all: not on this one
  if (!started_) return absl::OkStatus();  // Start() watches it
  absl::Status watched = StartFileWatch();
  if (!watched.ok()) {
    path_.clear();
    doorbell_.reset();
  }
  return watched;
}

absl::Status InotifyWatcher::Start() {
  if (closing_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "inotify watcher on ", path_.empty() ? directory_ : path_, " is closed"));
  }
  if (doorbell_ != nullptr) {
    absl::Status watched = StartFileWatch();
    if (!watched.ok()) return watched;
  }
  if (!directory_.empty()) {
    int started = uv_fs_event_start(&directory_event_, &InotifyWatcher::OnDirectoryEvent,
                                    directory_.c_str(), /*flags=*/0);
    if (started != 0) {
      return UvStatus(started, absl::StrCat("cannot watch the chain directory ",
                                            directory_, " with inotify: ",
                                            InotifyFailure(started)));
    }
  }
  absl::Status timer =
      UvStatus(uv_timer_start(&safety_timer_, &InotifyWatcher::OnSafetyTick,
                              Period(), Period()),
               absl::StrCat("uv_timer_start (safety timer for ",
                            path_.empty() ? directory_ : path_, ")"));
  started_ = timer.ok();
  return timer;
}

void InotifyWatcher::Stop() {
  if (closing_) return;
  started_ = false;
  uv_fs_event_stop(&event_);
  if (!directory_.empty()) uv_fs_event_stop(&directory_event_);
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
  if (doorbell_ == nullptr) {
    // A chain with no file yet: the directory's events wake us.
    asleep_ = false;
    return false;
  }
  const bool moved = doorbell_->ArmAndLoadCommitted() != cursor;
  asleep_ = !moved;
  armed_cursor_ = cursor;
  return moved;
}

void InotifyWatcher::RetrySoon() {
  if (closing_) return;
  // One early tick, then back to the safety period: a value that does not
  // validate is looked at again every kRecheckMs while it lasts (a Node
  // writer stopped mid-store rings no doorbell when it completes).
  uv_timer_start(&safety_timer_, &InotifyWatcher::OnSafetyTick,
                 shmio::Consumer::kRecheckMs, Period());
}

void InotifyWatcher::Close(ClosedCallback on_closed) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(on_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&event_), &InotifyWatcher::OnClose);
  uv_close(reinterpret_cast<uv_handle_t*>(&safety_timer_),
           &InotifyWatcher::OnClose);
  if (!directory_.empty()) {
    uv_close(reinterpret_cast<uv_handle_t*>(&directory_event_),
             &InotifyWatcher::OnClose);
  }
}

void InotifyWatcher::OnFileEvent(uv_fs_event_t* event, const char* filename,
                                 int events, int status) {
  // Every event (a ring's IN_MODIFY, an unlink's IN_ATTRIB, a rename) and
  // even an error means "look again": the owner's read and its file
  // identity check find out what happened.
  auto* self = static_cast<InotifyWatcher*>(event->data);
  self->asleep_ = false;
  if (!self->writer_rings_ && (events & UV_CHANGE) != 0) {
    // A ring: the writer rings (again), so the slow backstop will do.
    self->writer_rings_ = true;
    uv_timer_start(&self->safety_timer_, &InotifyWatcher::OnSafetyTick,
                   self->Period(), self->Period());
  }
  self->on_wake_();
}

void InotifyWatcher::OnDirectoryEvent(uv_fs_event_t* event,
                                      const char* filename, int events,
                                      int status) {
  // A chain file's name appearing or going (UV_RENAME: IN_CREATE,
  // IN_MOVED_TO, IN_DELETE) or an error means "look again"; a change inside
  // a file (a ring: the file's own watch has it) or to chain.conf does not.
  const bool chain_file = filename != nullptr &&
                          shmio::ParseChainFileName(filename).has_value();
  if (status == 0 && !(chain_file && (events & UV_RENAME) != 0)) return;
  auto* self = static_cast<InotifyWatcher*>(event->data);
  self->asleep_ = false;
  self->on_wake_();
}

void InotifyWatcher::OnSafetyTick(uv_timer_t* timer) {
  auto* self = static_cast<InotifyWatcher*>(timer->data);
  const uint64_t committed =
      self->asleep_ ? self->doorbell_->LoadCommitted() : self->armed_cursor_;
  if (committed != self->armed_cursor_) {
    // Armed and asleep, no event since, yet `committed` moved: the writer
    // committed without ringing. Or a ring is still queued behind this
    // timer in the same loop turn (libuv runs timers before I/O): so the
    // first time, only poll faster (the queued event, if any, turns that
    // back); say so once it happens again.
    if (self->writer_rings_) {
      self->writer_rings_ = false;
      uv_timer_start(&self->safety_timer_, &InotifyWatcher::OnSafetyTick,
                     self->Period(), self->Period());
    } else if (!self->noticed_) {
      self->noticed_ = true;
      if (self->on_notice_) {
        self->on_notice_(absl::FailedPreconditionError(absl::StrCat(
            "uvwatch: ", self->path_, ": committed moved from ",
            self->armed_cursor_, " to ", committed,
            " without a doorbell ring: its writer does not ring (the Node.js "
            "library never does); polling it every ",
            self->poll_interval_ms_, " ms until it rings")));
      }
    }
  }
  self->asleep_ = false;
  self->on_wake_();
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
