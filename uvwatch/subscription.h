// uvwatch: follow a shmio log from a libuv event loop. A Subscription calls
// back with batches of new frames, the C++ counterpart of the original's
// consumer.getAll(pollInterval):
//
//   auto sub = uvwatch::Subscription::Open(
//       loop, "/dev/shm/events", {},
//       [](const shmio::Batch& batch) {
//         for (const shmio::Frame& frame : batch.frames) Use(frame.payload);
//       },
//       [](const absl::Status& error) { Report(error); });
//   ...
//   (*sub)->Close();  // later; the loop frees it in a close callback
//
// The first callback delivers what is already committed (when starting at
// the beginning); each later one delivers a batch of new frames, in order,
// never more than Options' limits. The rest of a large backlog follows on
// later loop turns (one batch per subscription per turn, from a uv_idle_t),
// so millions of pending frames never starve the loop's other handles.
//
// Modes (see README "Following a log from a libuv loop"):
//   kTimer    polls `committed` every poll_interval_ms on a periodic timerfd.
//   kInotify  sleeps on the file's inotify events, woken by the writer's
//             doorbell (uvwatch/inotify_watcher.h), with a safety timer; a
//             writer seen committing without ringing (the Node.js library
//             continuing one of our logs) is polled every poll_interval_ms.
//   kAuto     kInotify when the file has a doorbell (created by shmio C++),
//             the reader can arm it and an inotify watch can be had, else
//             kTimer (files written by the Node.js library, which never
//             ring; read-only files; the inotify limits reached, with a
//             notice).
//
// A renamed or removed log keeps being followed, like `tail -f` follows a
// descriptor, while a writer still holds its lock: a writer that keeps
// committing to a file someone renamed loses nobody. Once no writer holds it
// (or a Node.js writer, which takes no lock, writes it) and every committed
// frame was delivered, the rename or removal is reported as an error.
//
// Errors: a file removed, renamed or replaced while watched (as above), a
// damaged frame below a validated committed value, or a log re-created
// smaller reach the error callback with a Status naming the file and the
// offset reached. Frames committed before the problem are delivered first.
// After an error the subscription delivers nothing more (the loop keeps
// running); Close() it and, if the log was re-created, open a new one. A
// writer that dies and a new writer that takes over the same file are not
// errors: delivery simply continues. Nor is a committed value that does not
// validate (a Node.js writer stopped in the middle of storing it, or damage
// past the last validated frame): the subscription keeps following, and
// after kNoticeAfterMs it says so once through Options::on_notice.
//
// Lifetime, after libuv's handle rules: Open() returns a heap object owned
// by the loop; Close() starts closing its handles and the object is deleted
// in the last close callback, after which `on_closed` runs. Close() is
// idempotent. Stop(), Resume() and Close() are safe from inside the
// subscription's own callbacks, and callbacks may open other subscriptions.
// After every subscription is closed and the loop has run their close
// callbacks, uv_loop_close() returns 0. Several subscriptions may share a
// loop and a file.
//
// Chains (OpenChain): a Subscription on a chain's directory (shmio/
// chain_writer.h) follows it across its files in every mode: cursors are
// chain positions (Batch::CursorOf, next_cursor; Start::kCursor takes a
// saved one), a batch never spans two files, and when the reader moves to
// the next file the watcher moves with it (inotify: the watch and the
// doorbell move to the new file, and the old file, which retention may
// unlink, keeps no watch). In inotify mode the directory is watched too: a
// new file wakes a reader waiting for the chain's first file, or at the end
// of a file a dead writer left unsealed; the writer's sealing rings the
// doorbell of the full file, which wakes a reader asleep at its end. A file
// the reader has not reached yet that retention removed is an error
// (OutOfRange naming the positions lost and the oldest one left).
//
// Named readers (Options::reader_name, OpenChain only): the subscription
// reads through shmio::ChainConsumer::OpenNamed. It starts where the name
// last acknowledged, and acknowledges each batch after its callback
// returns (or, with auto_ack off, when the caller calls Ack()). Delivery is
// at least once: a reader killed or closed between a callback and its
// acknowledgement gets that batch again under the same name, and never
// loses a frame (retention keeps what a named reader has not
// acknowledged). A second live reader with the name is refused by
// OpenChain (FailedPrecondition naming the other's pid). A reader the
// writer dropped (its policy, chain_writer.h) gets the core's OutOfRange
// through the error callback, naming what it lost and where to resume;
// `shmio readers DIR --reset NAME --to=POSITION` (or ReaderTable::Reset)
// while it is closed sets where it goes on.
//
// Thread safety: a Subscription and its callbacks belong to the loop's
// thread. Call every method on that thread only.
#ifndef UVWATCH_SUBSCRIPTION_H_
#define UVWATCH_SUBSCRIPTION_H_

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "shmio/consumer.h"
#include "shmio/shared_memory.h"
#include "uvwatch/followed_log.h"
#include "uvwatch/watcher.h"

namespace uvwatch {

class InotifyWatcher;

enum class Mode { kAuto, kTimer, kInotify };

// The advice that ends an error of mode kInotify on a file it cannot serve
// (no doorbell, or no right to arm it). Programs with their own vocabulary
// (the `shmio` CLI's --mode flag) may put theirs in its place.
inline constexpr char kPollInsteadHint[] = "use mode auto or timer, which poll it";
const char* ModeName(Mode mode);  // "auto", "timer", "inotify"

// Where the first batch starts.
enum class Start {
  kBeginning,  // every committed frame, then new ones (like getAll)
  kEnd,        // only frames committed after Open()
  kCursor,     // from Options::cursor, a saved Batch::next_cursor
};

struct Options {
  Mode mode = Mode::kAuto;

  // Timer mode (and auto's fallback): how often to look at `committed`.
  // 10 ms is the original's default poll interval.
  uint64_t poll_interval_ms = 10;

  // Inotify mode: the backstop timer's period. Wake-ups come from the
  // doorbell; this only bounds the delay if an event were lost.
  uint64_t safety_interval_ms = 1000;

  Start start = Start::kBeginning;
  // With Start::kCursor: a frame boundary (a file offset; a chain position
  // for OpenChain).
  uint64_t cursor = 0;

  // Bounds on one callback's batch. A batch holds at least one frame when
  // any is pending, even if that frame alone exceeds max_bytes_per_batch.
  size_t max_frames_per_batch = 1024;
  size_t max_bytes_per_batch = size_t{1} << 20;  // payload bytes

  // OpenChain only: follow the chain as the named reader `reader_name`
  // (shmio/reader_table.h; 1 to 64 of A-Z a-z 0-9 . _ -). The subscription
  // starts at the name's acknowledged position (`start` and `cursor` apply
  // only the first time the name is used), and the writer's retention keeps
  // every frame from there on (see "Named readers" above). Empty: a reader
  // without a name, which retention does not protect.
  std::string reader_name;
  // With reader_name: acknowledge each batch's next_cursor once its
  // callback returned (unless the callback closed the subscription: a
  // callback that could not handle its batch closes it, and the batch
  // comes again to the next reader with the name). false: the caller
  // acknowledges with Subscription::Ack(), e.g. once its output is durable.
  bool auto_ack = true;

  // Hears, on the loop thread, about something odd that does not stop the
  // subscription, each kind at most once: auto mode falling back to timer
  // mode (and why), a writer seen not to ring the doorbell, a committed
  // value that has not validated for kNoticeAfterMs. May be empty.
  std::function<void(const absl::Status& notice)> on_notice;
};

class Subscription {
 public:
  // How long a committed value must fail to validate before on_notice hears
  // of it.
  static constexpr int kNoticeAfterMs = 1000;

  // Receives a run of whole committed frames. `batch.frames` iterates them
  // (check batch.frames.status() after the loop for a damaged frame) and
  // `batch.next_cursor` is where the next batch starts: save it to resume
  // with Start::kCursor. The payload spans stay valid while the log's
  // SharedMemory lives (for Open(path), until the subscription is closed).
  using BatchCallback = std::function<void(const shmio::Batch& batch)>;
  // Receives a Status naming the file and the offset reached.
  using ErrorCallback = std::function<void(const absl::Status& error)>;

  // Subscribes to the log at `path`, opened read-only and owned by the
  // subscription. `loop` must outlive the subscription (until its close
  // callback). Both callbacks are required and run on the loop thread;
  // none runs before Open() returns. Errors (nothing is delivered, and no
  // callback runs): InvalidArgument for bad options, those of
  // SharedMemory::Open, FailedPrecondition for mode kInotify on a file that
  // has no doorbell (written by the Node.js library: use auto or timer) or
  // that the reader may not arm, OutOfRange/InvalidArgument for a bad
  // Start::kCursor. After a failed Open(), run the loop once (e.g.
  // UV_RUN_NOWAIT) before uv_loop_close(): a half-made watcher may still be
  // closing.
  static absl::StatusOr<Subscription*> Open(uv_loop_t* loop,
                                            const std::string& path,
                                            const Options& options,
                                            BatchCallback on_batch,
                                            ErrorCallback on_error);

  // Same, on a log the caller has opened: `*shm` is not owned and must
  // outlive the subscription (until `on_closed` of Close() runs).
  static absl::StatusOr<Subscription*> Open(uv_loop_t* loop,
                                            const shmio::SharedMemory* shm,
                                            const Options& options,
                                            BatchCallback on_batch,
                                            ErrorCallback on_error);

  // Subscribes to the chain in the directory `directory`, which the
  // subscription reads read-only across its files (see "Chains" above).
  // The same rules as Open(path); batches' cursors are positions, and their
  // payload spans stay valid while the Batch lives. A chain that has no
  // file yet is followed from its first one (Start::kEnd included).
  // Errors: InvalidArgument for bad options, NotFound or FailedPrecondition
  // for a directory that is not a chain, those of ChainConsumer::Open for a
  // bad Start::kCursor (OutOfRange for one that retention removed, naming
  // the oldest position), FailedPrecondition for mode kInotify where the
  // reader may not arm the current file's doorbell.
  static absl::StatusOr<Subscription*> OpenChain(uv_loop_t* loop,
                                                 const std::string& directory,
                                                 const Options& options,
                                                 BatchCallback on_batch,
                                                 ErrorCallback on_error);

  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Stops delivering (no callback runs until Resume()); the cursor stays.
  void Stop();

  // Delivers again from the cursor. FailedPrecondition after an error or
  // Close().
  absl::Status Resume();

  // Closes every handle. `on_closed` (may be empty) runs once the last close
  // callback has deleted *this. Idempotent: later calls do nothing (their
  // `on_closed` is dropped). No batch or error callback runs after Close().
  void Close(std::function<void()> on_closed = nullptr);

  // A named reader's acknowledgement (Options::reader_name): every frame
  // before `position`, a frame boundary at or below cursor() (a delivered
  // batch's next_cursor), is done; a restart with the name resumes there.
  // FailedPrecondition for a subscription without a name, or before the
  // chain has a file; InvalidArgument past cursor().
  absl::Status Ack(uint64_t position);

  // The mode in use (kAuto resolved to kInotify or kTimer).
  Mode mode() const { return mode_; }
  // The cursor of the next frame to deliver (the last batch's next_cursor):
  // an offset, or a chain's position.
  uint64_t cursor() const;
  // The file, or the chain's directory.
  const std::string& path() const;
  bool closing() const { return closing_; }

  // Public only so that the last close callback can adopt *this into a
  // std::unique_ptr. Never delete a Subscription yourself: call Close().
  ~Subscription();

 private:
  Subscription(uv_loop_t* loop, std::unique_ptr<internal::FollowedLog> log,
               const Options& options, BatchCallback on_batch,
               ErrorCallback on_error);

  // Everything Open() and OpenChain() share, once the log is open.
  static absl::StatusOr<Subscription*> Follow(uv_loop_t* loop,
                                              std::unique_ptr<internal::FollowedLog> log,
                                              const Options& options,
                                              BatchCallback on_batch,
                                              ErrorCallback on_error);

  // Watcher wake-up: checks the file is still the log, then reads.
  void OnWake();
  void StartReading();
  void StopReading();
  // Reads and delivers one batch (one per loop turn, from idle_).
  void ReadOneBatch();
  // Called when everything committed so far was read: waits for the next
  // wake-up (or reads on if more arrived). `nothing_readable` says the last
  // read found no frame although `committed` may have moved.
  void WaitForMore(bool nothing_readable);
  // Reports `error` (with the cursor reached) and stops delivering.
  void Fail(const absl::Status& error);
  void OnPartClosed();
  // Delivers `notice` to Options::on_notice, if any.
  void Notice(const absl::Status& notice);
  // Chooses and starts the watcher for `mode` (see Modes).
  absl::Status StartWatcher();
  // Replaces the watcher with a started TimerWatcher (auto mode's fallback).
  absl::Status StartTimerWatcher();
  // When the log moved to another file since the watcher was armed, moves
  // the inotify watch there (auto mode falls back to polling, with a
  // notice, where the new file's doorbell cannot be had).
  absl::Status FollowFileChange();

  static void OnIdle(uv_idle_t* idle);
  static void OnIdleClose(uv_handle_t* handle);

  uv_idle_t idle_;  // active while frames may be pending: one batch per turn
  uv_loop_t* loop_;
  std::unique_ptr<internal::FollowedLog> log_;
  const Options options_;
  Watcher* watcher_ = nullptr;  // owned by the loop; released by Close()
  // watcher_ as what it is in mode kInotify (null in mode kTimer), to move
  // its watch to another file of a chain.
  InotifyWatcher* inotify_ = nullptr;
  // log_->file_changes() when the watcher was last armed on log_->file().
  uint64_t watched_changes_ = 0;
  Mode mode_ = Mode::kTimer;
  shmio::BatchLimits limits_;
  BatchCallback on_batch_;
  ErrorCallback on_error_;
  std::function<void()> on_closed_;
  std::optional<absl::Status> pending_notice_;  // from Open(), for turn one
  bool problem_noticed_ = false;  // the committed-value notice was given
  // Set when the path no longer names the log; reported once drained and no
  // writer holds the log's lock.
  std::optional<absl::Status> file_gone_;
  bool reading_ = false;   // idle_ is active
  bool stopped_ = false;   // Stop() or an error
  bool failed_ = false;
  bool closing_ = false;
  int open_parts_ = 0;     // idle_ and the watcher, until closed
};

}  // namespace uvwatch

#endif  // UVWATCH_SUBSCRIPTION_H_
