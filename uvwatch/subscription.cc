#include "uvwatch/subscription.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "shmio/doorbell.h"
#include "uvwatch/inotify_watcher.h"
#include "uvwatch/timer_watcher.h"

namespace uvwatch {
namespace {

absl::Status CheckOptions(uv_loop_t* loop, const Options& options,
                          const Subscription::BatchCallback& on_batch,
                          const Subscription::ErrorCallback& on_error) {
  if (loop == nullptr) return absl::InvalidArgumentError("uvwatch: loop is null");
  if (!on_batch || !on_error) {
    return absl::InvalidArgumentError(
        "uvwatch: both a batch callback and an error callback are required");
  }
  if (options.poll_interval_ms == 0 || options.safety_interval_ms == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "uvwatch: poll_interval_ms (", options.poll_interval_ms,
        ") and safety_interval_ms (", options.safety_interval_ms,
        ") must be > 0"));
  }
  if (options.max_frames_per_batch == 0 || options.max_bytes_per_batch == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "uvwatch: max_frames_per_batch (", options.max_frames_per_batch,
        ") and max_bytes_per_batch (", options.max_bytes_per_batch,
        ") must be > 0"));
  }
  return absl::OkStatus();
}

// Opens the doorbell for mode kInotify (required) or kAuto (if possible).
// Returns null in auto mode when the file cannot ring: then we poll.
absl::StatusOr<std::unique_ptr<shmio::Doorbell>> DoorbellFor(
    const shmio::SharedMemory& shm, Mode mode) {
  if (mode == Mode::kTimer) return nullptr;
  shmio::FileFormat format = shm.ReadHeader().format;
  if (format != shmio::FileFormat::kShmioV1) {
    if (mode == Mode::kAuto) return nullptr;
    return absl::FailedPreconditionError(absl::StrCat(
        "uvwatch: mode inotify needs a doorbell, but ", shm.path(),
        " has format ", shmio::FileFormatName(format),
        (format == shmio::FileFormat::kNode
             ? " (written by the Node.js library, which never rings)"
             : " (no writer has initialised it yet)"),
        "; ", kPollInsteadHint));
  }
  absl::StatusOr<std::unique_ptr<shmio::Doorbell>> doorbell =
      shmio::Doorbell::Open(shm);  // the very file we map, not the path's
  if (doorbell.ok() || mode == Mode::kInotify) {
    if (!doorbell.ok()) {
      return absl::Status(
          doorbell.status().code(),
          absl::StrCat("uvwatch: mode inotify: ", doorbell.status().message(),
                       "; ", kPollInsteadHint));
    }
    return doorbell;
  }
  return nullptr;  // auto: e.g. no write permission to arm it; poll instead
}

}  // namespace

const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kAuto:
      return "auto";
    case Mode::kTimer:
      return "timer";
    case Mode::kInotify:
      return "inotify";
  }
  return "unknown";
}

Subscription::Subscription(uv_loop_t* loop,
                           std::unique_ptr<shmio::SharedMemory> owned,
                           const shmio::SharedMemory* shm,
                           const Options& options, FileIdentity identity,
                           BatchCallback on_batch, ErrorCallback on_error)
    : owned_shm_(std::move(owned)),
      shm_(shm),
      consumer_(shm),
      identity_(std::move(identity)),
      on_batch_(std::move(on_batch)),
      on_error_(std::move(on_error)),
      on_notice_(options.on_notice) {
  limits_.max_frames = options.max_frames_per_batch;
  limits_.max_bytes = options.max_bytes_per_batch;
}

Subscription::~Subscription() = default;

absl::StatusOr<Subscription*> Subscription::Open(uv_loop_t* loop,
                                                 const std::string& path,
                                                 const Options& options,
                                                 BatchCallback on_batch,
                                                 ErrorCallback on_error) {
  absl::Status valid = CheckOptions(loop, options, on_batch, on_error);
  if (!valid.ok()) return valid;
  shmio::Options shm_options;
  shm_options.path = path;
  shm_options.writable = false;
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm =
      shmio::SharedMemory::Open(shm_options);
  if (!shm.ok()) return shm.status();
  const shmio::SharedMemory* raw = shm->get();
  return OpenShared(loop, *std::move(shm), raw, options, std::move(on_batch),
                    std::move(on_error));
}

absl::StatusOr<Subscription*> Subscription::Open(
    uv_loop_t* loop, const shmio::SharedMemory* shm, const Options& options,
    BatchCallback on_batch, ErrorCallback on_error) {
  absl::Status valid = CheckOptions(loop, options, on_batch, on_error);
  if (!valid.ok()) return valid;
  if (shm == nullptr) return absl::InvalidArgumentError("uvwatch: shm is null");
  return OpenShared(loop, nullptr, shm, options, std::move(on_batch),
                    std::move(on_error));
}

absl::StatusOr<Subscription*> Subscription::OpenShared(
    uv_loop_t* loop, std::unique_ptr<shmio::SharedMemory> owned,
    const shmio::SharedMemory* shm, const Options& options,
    BatchCallback on_batch, ErrorCallback on_error) {
  absl::StatusOr<FileIdentity> identity =
      FileIdentity::Of(shm->fd(), shm->path(), shm->capacity());
  if (!identity.ok()) return identity.status();

  // Everything that can fail happens before any handle joins the loop, so a
  // failed Open() leaves nothing behind but, at worst, a closing watcher.
  std::unique_ptr<Subscription> sub(
      new Subscription(loop, std::move(owned), shm, options, *identity,
                       std::move(on_batch), std::move(on_error)));
  absl::Status positioned = absl::OkStatus();
  if (options.start == Start::kEnd) {
    positioned = sub->consumer_.SeekToEnd();
  } else if (options.start == Start::kCursor) {
    positioned = sub->consumer_.Seek(options.cursor);
  }
  if (!positioned.ok()) return positioned;

  absl::Status started = sub->StartWatcher(loop, options);
  if (!started.ok()) return started;

  // uv_idle_init cannot fail: it only links the handle into the loop.
  uv_idle_init(loop, &sub->idle_);
  sub->idle_.data = sub.get();
  sub->open_parts_ = 2;
  // The first batch (what is already committed) comes on the first loop
  // turn, never from inside Open().
  sub->StartReading();
  return sub.release();  // owned by the loop until the last close callback
}

absl::Status Subscription::StartWatcher(uv_loop_t* loop, const Options& options) {
  absl::StatusOr<std::unique_ptr<shmio::Doorbell>> doorbell =
      DoorbellFor(*shm_, options.mode);
  if (!doorbell.ok()) return doorbell.status();
  auto wake = [this] { OnWake(); };
  if (*doorbell != nullptr) {
    mode_ = Mode::kInotify;
    watcher_ = InotifyWatcher::Create(
        loop, shm_->path(), *std::move(doorbell), options.safety_interval_ms,
        options.poll_interval_ms, wake,
        [this](const absl::Status& notice) { Notice(notice); });
    absl::Status started = watcher_->Start();
    if (started.ok()) return started;
    watcher_->Close(nullptr);  // it dies in its own close callback
    watcher_ = nullptr;
    if (options.mode == Mode::kInotify) return started;
    // Auto mode: the inotify limits are the usual reason; polling works.
    pending_notice_ = absl::Status(
        started.code(),
        absl::StrCat("uvwatch: ", started.message(), "; following ",
                     shm_->path(), " in timer mode instead (every ",
                     options.poll_interval_ms, " ms)"));
  }
  mode_ = Mode::kTimer;
  absl::StatusOr<TimerWatcher*> timer =
      TimerWatcher::Create(loop, options.poll_interval_ms, wake);
  if (!timer.ok()) return timer.status();
  watcher_ = *timer;
  absl::Status started = watcher_->Start();
  if (!started.ok()) {
    watcher_->Close(nullptr);
    watcher_ = nullptr;
  }
  return started;
}

void Subscription::Notice(const absl::Status& notice) {
  if (on_notice_) on_notice_(notice);
}

void Subscription::OnWake() {
  if (closing_ || stopped_) return;
  if (!file_gone_.has_value()) {
    absl::Status same_file = identity_.Check();
    if (absl::IsDataLoss(same_file)) {
      // Shrunk under the mapping: reading on would fault. Report now.
      Fail(same_file);
      return;
    }
    // Removed or replaced: deliver what comes, then report (WaitForMore).
    if (!same_file.ok()) file_gone_ = same_file;
  }
  StartReading();
}

void Subscription::StartReading() {
  if (reading_ || closing_ || stopped_) return;
  reading_ = true;
  uv_idle_start(&idle_, &Subscription::OnIdle);
}

void Subscription::StopReading() {
  if (!reading_) return;
  reading_ = false;
  uv_idle_stop(&idle_);
}

void Subscription::OnIdle(uv_idle_t* idle) {
  static_cast<Subscription*>(idle->data)->ReadOneBatch();
}

void Subscription::ReadOneBatch() {
  if (closing_ || stopped_) {
    StopReading();
    return;
  }
  if (pending_notice_.has_value()) {
    absl::Status notice = *std::move(pending_notice_);
    pending_notice_.reset();
    Notice(notice);
    if (closing_ || stopped_) return;
  }
  absl::StatusOr<shmio::Batch> batch = consumer_.Next(limits_);
  if (!batch.ok()) {
    Fail(batch.status());
    return;
  }
  if (batch->empty()) {
    WaitForMore(/*nothing_readable=*/true);
    return;
  }
  problem_noticed_ = false;
  on_batch_(*batch);
  // The callback may have stopped or closed us; *this lives on until the
  // close callbacks run on a later loop phase, so reading flags is safe.
  if (closing_ || stopped_) return;
  // More already committed (or a batch cut by the limits): the next loop
  // turn reads on, after the loop's other handles had their turn.
  if (shm_->LoadCommitted() != consumer_.cursor()) return;
  WaitForMore(/*nothing_readable=*/false);
}

void Subscription::WaitForMore(bool nothing_readable) {
  if (file_gone_.has_value()) {
    // Renamed, removed or replaced: follow on while a writer holds the file
    // (as `tail -f` follows a descriptor); report once none does.
    absl::StatusOr<std::optional<pid_t>> writer = shm_->CurrentWriterPid();
    if (!writer.ok() || !writer->has_value()) {
      Fail(*file_gone_);
      return;
    }
    // Its writer's departure raises no event: look again soon.
    watcher_->RetrySoon();
  }
  if (nothing_readable && !problem_noticed_ &&
      consumer_.CommittedProblemAge() >= absl::Milliseconds(kNoticeAfterMs)) {
    absl::Status problem = consumer_.CommittedProblem();
    if (!problem.ok()) {
      problem_noticed_ = true;
      Notice(absl::Status(
          problem.code(),
          absl::StrCat("uvwatch: ", problem.message(),
                       " [still following ", shm_->path(),
                       ": frames come as soon as the value validates]")));
      if (closing_ || stopped_) return;
    }
  }
  bool moved = watcher_->PrepareToSleep(consumer_.cursor());
  if (moved && !nothing_readable) return;  // read on next turn, don't sleep
  StopReading();
  // `committed` moved but no frame could be read: a value the Consumer
  // cannot validate yet (torn, or damage it will soon confirm). Look again
  // shortly rather than spin on the idle handle.
  if (moved) watcher_->RetrySoon();
}

void Subscription::Fail(const absl::Status& error) {
  if (failed_ || closing_) return;
  failed_ = true;
  stopped_ = true;
  StopReading();
  watcher_->Stop();
  on_error_(absl::Status(
      error.code(),
      absl::StrCat(error.message(), " [uvwatch: subscription on ",
                   shm_->path(), " delivered every frame before offset ",
                   consumer_.cursor(),
                   " and stops here; Close() it, and open the log again "
                   "once a writer has re-created it]")));
}

void Subscription::Stop() {
  if (closing_ || stopped_) return;
  stopped_ = true;
  StopReading();
  watcher_->Stop();
}

absl::Status Subscription::Resume() {
  if (closing_ || failed_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "uvwatch: cannot resume the subscription on ", shm_->path(),
        closing_ ? ": it is closing" : ": it stopped after an error"));
  }
  if (!stopped_) return absl::OkStatus();
  absl::Status started = watcher_->Start();
  if (!started.ok()) return started;
  stopped_ = false;
  StartReading();
  return absl::OkStatus();
}

void Subscription::Close(std::function<void()> on_closed) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(on_closed);
  StopReading();
  watcher_->Close([this] { OnPartClosed(); });
  watcher_ = nullptr;  // deletes itself in its close callback
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), &Subscription::OnIdleClose);
}

void Subscription::OnIdleClose(uv_handle_t* handle) {
  static_cast<Subscription*>(handle->data)->OnPartClosed();
}

void Subscription::OnPartClosed() {
  if (--open_parts_ > 0) return;
  // The one place a Subscription dies: libuv is done with every handle.
  std::unique_ptr<Subscription> self(this);
  std::function<void()> on_closed = std::move(on_closed_);
  self.reset();
  if (on_closed) on_closed();
}

}  // namespace uvwatch
