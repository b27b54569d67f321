#include "uvwatch/subscription.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "shmio/doorbell.h"
#include "uvwatch/chain_log.h"
#include "uvwatch/file_log.h"
#include "uvwatch/inotify_watcher.h"
#include "uvwatch/timer_watcher.h"

namespace uvwatch {
namespace {

absl::Status CheckOptions(uv_loop_t* loop, const Options& options,
                          const Subscription::BatchCallback& on_batch,
                          const Subscription::ErrorCallback& on_error, bool chain) {
  if (loop == nullptr) return absl::InvalidArgumentError("uvwatch: loop is null");
  if (!chain && !options.reader_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "uvwatch: reader_name \"", options.reader_name,
        "\" is for a chain (OpenChain): a single log file has no named readers"));
  }
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

// The single file `*shm` (owned when `owned` holds it), positioned at
// options.start.
absl::StatusOr<std::unique_ptr<internal::FileLog>> OpenFileLog(
    std::unique_ptr<shmio::SharedMemory> owned, const shmio::SharedMemory* shm,
    const Options& options) {
  absl::StatusOr<std::unique_ptr<internal::FileLog>> log =
      internal::FileLog::Open(std::move(owned), shm);
  if (!log.ok()) return log.status();
  absl::Status positioned = absl::OkStatus();
  if (options.start == Start::kEnd) {
    positioned = (*log)->consumer().SeekToEnd();
  } else if (options.start == Start::kCursor) {
    positioned = (*log)->consumer().Seek(options.cursor);
  }
  if (!positioned.ok()) return positioned;
  return log;
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
                           std::unique_ptr<internal::FollowedLog> log,
                           const Options& options, BatchCallback on_batch,
                           ErrorCallback on_error)
    : loop_(loop),
      log_(std::move(log)),
      options_(options),
      on_batch_(std::move(on_batch)),
      on_error_(std::move(on_error)) {
  limits_.max_frames = options.max_frames_per_batch;
  limits_.max_bytes = options.max_bytes_per_batch;
}

Subscription::~Subscription() = default;

uint64_t Subscription::cursor() const { return log_->cursor(); }

const std::string& Subscription::path() const { return log_->name(); }

absl::StatusOr<Subscription*> Subscription::Open(uv_loop_t* loop,
                                                 const std::string& path,
                                                 const Options& options,
                                                 BatchCallback on_batch,
                                                 ErrorCallback on_error) {
  absl::Status valid = CheckOptions(loop, options, on_batch, on_error, /*chain=*/false);
  if (!valid.ok()) return valid;
  shmio::Options shm_options;
  shm_options.path = path;
  shm_options.writable = false;
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm =
      shmio::SharedMemory::Open(shm_options);
  if (!shm.ok()) return shm.status();
  const shmio::SharedMemory* raw = shm->get();
  absl::StatusOr<std::unique_ptr<internal::FileLog>> log =
      OpenFileLog(*std::move(shm), raw, options);
  if (!log.ok()) return log.status();
  return Follow(loop, *std::move(log), options, std::move(on_batch),
                std::move(on_error));
}

absl::StatusOr<Subscription*> Subscription::Open(
    uv_loop_t* loop, const shmio::SharedMemory* shm, const Options& options,
    BatchCallback on_batch, ErrorCallback on_error) {
  absl::Status valid = CheckOptions(loop, options, on_batch, on_error, /*chain=*/false);
  if (!valid.ok()) return valid;
  if (shm == nullptr) return absl::InvalidArgumentError("uvwatch: shm is null");
  absl::StatusOr<std::unique_ptr<internal::FileLog>> log =
      OpenFileLog(nullptr, shm, options);
  if (!log.ok()) return log.status();
  return Follow(loop, *std::move(log), options, std::move(on_batch),
                std::move(on_error));
}

absl::StatusOr<Subscription*> Subscription::OpenChain(
    uv_loop_t* loop, const std::string& directory, const Options& options,
    BatchCallback on_batch, ErrorCallback on_error) {
  absl::Status valid = CheckOptions(loop, options, on_batch, on_error, /*chain=*/true);
  if (!valid.ok()) return valid;
  shmio::ChainStart start;
  if (options.start == Start::kEnd) {
    start.kind = shmio::ChainStart::kEnd;
  } else if (options.start == Start::kCursor) {
    start = {shmio::ChainStart::kPosition, options.cursor};
  }
  absl::StatusOr<std::unique_ptr<internal::ChainLog>> log =
      internal::ChainLog::Open(directory, start, options.reader_name);
  if (!log.ok()) return log.status();
  return Follow(loop, *std::move(log), options, std::move(on_batch),
                std::move(on_error));
}

absl::StatusOr<Subscription*> Subscription::Follow(
    uv_loop_t* loop, std::unique_ptr<internal::FollowedLog> log,
    const Options& options, BatchCallback on_batch, ErrorCallback on_error) {
  // Everything that can fail happens before any handle joins the loop, so a
  // failed Open() leaves nothing behind but, at worst, a closing watcher.
  std::unique_ptr<Subscription> sub(new Subscription(
      loop, std::move(log), options, std::move(on_batch), std::move(on_error)));
  absl::Status started = sub->StartWatcher();
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

absl::Status Subscription::StartWatcher() {
  const shmio::SharedMemory* file = log_->file();
  watched_changes_ = log_->file_changes();
  auto wake = [this] { OnWake(); };
  auto notice = [this](const absl::Status& notice) { Notice(notice); };
  std::unique_ptr<shmio::Doorbell> doorbell;
  if (file != nullptr) {
    absl::StatusOr<std::unique_ptr<shmio::Doorbell>> opened =
        DoorbellFor(*file, options_.mode);
    if (!opened.ok()) return opened.status();
    doorbell = *std::move(opened);
  }
  // A chain with no file yet is watched through its directory until one
  // appears (in mode auto too: shmio C++ made every file of a chain, so each
  // has a doorbell).
  const bool inotify =
      doorbell != nullptr || (file == nullptr && options_.mode != Mode::kTimer);
  if (inotify) {
    mode_ = Mode::kInotify;
    absl::Status started = absl::OkStatus();
    if (log_->is_chain()) {
      inotify_ = InotifyWatcher::CreateForChain(loop_, log_->name(),
                                                options_.safety_interval_ms,
                                                options_.poll_interval_ms, wake, notice);
      if (file != nullptr) started = inotify_->Follow(file->path(), std::move(doorbell));
    } else {
      inotify_ = InotifyWatcher::Create(loop_, file->path(), std::move(doorbell),
                                        options_.safety_interval_ms,
                                        options_.poll_interval_ms, wake, notice);
    }
    watcher_ = inotify_;
    if (started.ok()) started = watcher_->Start();
    if (started.ok()) return started;
    watcher_->Close(nullptr);  // it dies in its own close callback
    watcher_ = nullptr;
    inotify_ = nullptr;
    if (options_.mode == Mode::kInotify) return started;
    // Auto mode: the inotify limits are the usual reason; polling works.
    pending_notice_ = absl::Status(
        started.code(),
        absl::StrCat("uvwatch: ", started.message(), "; following ",
                     log_->name(), " in timer mode instead (every ",
                     options_.poll_interval_ms, " ms)"));
  }
  return StartTimerWatcher();
}

absl::Status Subscription::StartTimerWatcher() {
  mode_ = Mode::kTimer;
  absl::StatusOr<TimerWatcher*> timer =
      TimerWatcher::Create(loop_, options_.poll_interval_ms, [this] { OnWake(); });
  if (!timer.ok()) return timer.status();
  watcher_ = *timer;
  absl::Status started = watcher_->Start();
  if (!started.ok()) {
    watcher_->Close(nullptr);
    watcher_ = nullptr;
  }
  return started;
}

absl::Status Subscription::FollowFileChange() {
  if (log_->file_changes() == watched_changes_) return absl::OkStatus();
  watched_changes_ = log_->file_changes();
  if (inotify_ == nullptr) return absl::OkStatus();  // polling: any file
  const shmio::SharedMemory& file = *log_->file();
  absl::StatusOr<std::unique_ptr<shmio::Doorbell>> doorbell =
      DoorbellFor(file, Mode::kInotify);
  absl::Status followed = doorbell.ok()
                              ? inotify_->Follow(file.path(), *std::move(doorbell))
                              : doorbell.status();
  if (followed.ok() || options_.mode == Mode::kInotify) return followed;
  // Auto mode: this file cannot be watched (no right to arm it, the inotify
  // limits): poll the chain from here on.
  inotify_->Close(nullptr);  // it dies in its own close callback
  inotify_ = nullptr;
  watcher_ = nullptr;
  absl::Status polling = StartTimerWatcher();
  if (!polling.ok()) return polling;
  Notice(absl::Status(
      followed.code(),
      absl::StrCat("uvwatch: ", followed.message(), "; following ", log_->name(),
                   " in timer mode from here on (every ", options_.poll_interval_ms,
                   " ms)")));
  return absl::OkStatus();
}

void Subscription::Notice(const absl::Status& notice) {
  if (options_.on_notice) options_.on_notice(notice);
}

void Subscription::OnWake() {
  if (closing_ || stopped_) return;
  if (!file_gone_.has_value()) {
    absl::Status same_file = log_->CheckIdentity();
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
  absl::StatusOr<std::optional<shmio::Batch>> batch = log_->Next(limits_);
  if (!batch.ok()) {
    Fail(batch.status());
    return;
  }
  // A chain may have moved to another file: watch that one from now on,
  // before anything decides to sleep.
  absl::Status followed = FollowFileChange();
  if (!followed.ok()) {
    Fail(followed);
    return;
  }
  if (!batch->has_value() || (*batch)->empty()) {
    WaitForMore(/*nothing_readable=*/true);
    return;
  }
  problem_noticed_ = false;
  on_batch_(**batch);
  // The callback may have stopped or closed us; *this lives on until the
  // close callbacks run on a later loop phase, so reading flags is safe.
  // A closed one did not acknowledge: its batch comes again (at least once).
  if (!closing_ && options_.auto_ack && log_->named()) {
    absl::Status acked = log_->Ack((*batch)->next_cursor);
    if (!acked.ok()) {
      Fail(acked);
      return;
    }
  }
  if (closing_ || stopped_) return;
  // More already committed (or a batch cut by the limits, or a chain's file
  // read to its sealed end): the next loop turn reads on, after the loop's
  // other handles had their turn.
  if (log_->HasMore()) return;
  WaitForMore(/*nothing_readable=*/false);
}

void Subscription::WaitForMore(bool nothing_readable) {
  if (file_gone_.has_value()) {
    // Renamed, removed or replaced: follow on while a writer holds the file
    // (as `tail -f` follows a descriptor); report once none does.
    absl::StatusOr<std::optional<pid_t>> writer = log_->file()->CurrentWriterPid();
    if (!writer.ok() || !writer->has_value()) {
      Fail(*file_gone_);
      return;
    }
    // Its writer's departure raises no event: look again soon.
    watcher_->RetrySoon();
  }
  if (nothing_readable && !problem_noticed_ &&
      log_->CommittedProblemAge() >= absl::Milliseconds(kNoticeAfterMs)) {
    absl::Status problem = log_->CommittedProblem();
    if (!problem.ok()) {
      problem_noticed_ = true;
      Notice(absl::Status(
          problem.code(),
          absl::StrCat("uvwatch: ", problem.message(),
                       " [still following ", log_->name(),
                       ": frames come as soon as the value validates]")));
      if (closing_ || stopped_) return;
    }
  }
  // A chain with no file yet has nothing to arm: its directory wakes us.
  const bool has_file = log_->file() != nullptr;
  bool moved = has_file && watcher_->PrepareToSleep(log_->file_cursor());
  if (moved && !nothing_readable) return;  // read on next turn, don't sleep
  // A chain's file sealed since the last read: move on, don't sleep. Read
  // after the doorbell is armed (PrepareToSleep's fence): the writer stores
  // sealed_end, then (after a fence) loads `armed`, so either it rings or
  // this load sees the seal (format.h, "Sealing").
  if (has_file && log_->finished_file()) return;
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
                   log_->name(), " delivered every frame before ",
                   log_->cursor_unit(), " ", log_->cursor(), " and stops here; ",
                   log_->after_error(), "]")));
}

// Also while closing: the reader keeps its slot until *this is deleted, so
// a callback may acknowledge its batch and then Close().
absl::Status Subscription::Ack(uint64_t position) { return log_->Ack(position); }

void Subscription::Stop() {
  if (closing_ || stopped_) return;
  stopped_ = true;
  StopReading();
  watcher_->Stop();
}

absl::Status Subscription::Resume() {
  if (closing_ || failed_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "uvwatch: cannot resume the subscription on ", log_->name(),
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
