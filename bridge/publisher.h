// Publisher: follows a shmio log and appends every frame to a Redis stream,
// exactly once by position (bridge/stream_id.h): the frame at position P
// becomes the entry "P-1" with the fields pos=P and data=<payload>.
//
// How it stays exactly once through crashes (docs/scale-out.md has the full
// argument):
//   - On start and after every reconnect it asks the stream for its last
//     entry (XREVRANGE KEY + - COUNT 1), checks that shmio wrote it and that
//     the log holds the same payload at that position (else the stream came
//     from another log: a fatal error), and resumes with the frame after it.
//     An empty stream starts at the log's oldest frame (0 for a file; a
//     chain's first position, or the oldest one retention left). A chain
//     whose retention removed the stream's last entry is a fatal error
//     naming the positions: what followed it may be lost.
//     Nothing is remembered locally, so a publisher SIGKILLed at any moment
//     restarts from what the stream really holds.
//   - XADDs carry explicit IDs. Redis refuses an ID at or below the stream's
//     top, so an XADD replayed after a reconnect (its first copy may or may
//     not have landed) is refused, never stored twice; a refusal counts as
//     "already in the stream".
//   - XADDs are pipelined (up to max_in_flight unanswered); the source is
//     paused while the window is full.
//
// Errors that end the run (on_fatal): a refused login, a key of another
// type, a stream shmio did not write, a stream from another log, the log
// removed or damaged, an XADD refused for any reason other than its ID. An
// unreachable or restarted Redis is not an error: the connection retries
// with backoff and says so once (on_notice).
//
// Lifetime: heap-allocated by Start(), owned by the loop, released by
// Close() (safe from inside its callbacks); no callback runs after Close().
//
// Thread safety: loop thread only.
#ifndef BRIDGE_PUBLISHER_H_
#define BRIDGE_PUBLISHER_H_

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bridge/log_source.h"
#include "bridge/redis_connection.h"

namespace bridge {

struct PublisherOptions {
  std::string log_path;  // a shmio log file, or a chain's directory
  std::string stream;    // the stream's key
  uint64_t maxlen = 0;   // > 0: each XADD trims the stream to exactly this many entries
  size_t max_in_flight = 4096;  // XADDs sent and not yet answered
  SourceOptions source;         // batch bounds when reading the log
  // Calls on_caught_up once the stream holds every frame the log has
  // committed (checked whenever nothing is in flight).
  bool notify_caught_up = false;
};

struct PublisherStats {
  uint64_t added = 0;          // XADDs the stream accepted
  uint64_t already_there = 0;  // XADDs refused because the ID was already there
  uint64_t resumes = 0;        // times it asked the stream where to resume
  uint64_t end_position = 0;   // the stream holds every frame before this
};

class Publisher {
 public:
  struct Callbacks {
    std::function<void()> on_caught_up;                       // with notify_caught_up
    std::function<void(const absl::Status& error)> on_fatal;  // required
    std::function<void(const std::string& notice)> on_notice; // may be empty
  };

  // Connects and starts publishing on `loop` (which must outlive it).
  // Errors: InvalidArgument for bad options.
  static absl::StatusOr<Publisher*> Start(uv_loop_t* loop, RedisOptions redis,
                                          PublisherOptions options, Callbacks callbacks);

  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  const PublisherStats& stats() const { return stats_; }

  // Stops, disconnects and frees *this; `on_closed` runs after. Idempotent.
  void Close(std::function<void()> on_closed = nullptr);

  ~Publisher();  // public for the last close callback only

 private:
  Publisher(uv_loop_t* loop, PublisherOptions options, Callbacks callbacks);

  void OnReady();
  void OnDown();
  void OnLastEntry(uint64_t generation, absl::StatusOr<const redisReply*> reply);
  // Follows the log from `position` (nullopt: an empty stream, from the
  // log's oldest frame).
  void OpenSource(std::optional<uint64_t> position);
  // FailedPrecondition when retention removed the stream's last entry from
  // a chain (it cannot be checked, and frames after it may be lost).
  absl::Status CheckNotRemoved() const;
  void OnBatch(absl::Span<const LogFrame> frames);
  void Add(const LogFrame& frame);
  void OnAdded(uint64_t generation, absl::StatusOr<const redisReply*> reply);
  void MaybeCaughtUp();
  void CloseSource();
  void Fail(const absl::Status& error);
  void OnPartClosed();
  std::string Where() const;  // "stream KEY at redis HOST:PORT"

  uv_loop_t* loop_;
  PublisherOptions options_;
  Callbacks callbacks_;
  std::function<void()> on_closed_;
  RedisConnection* redis_ = nullptr;  // owned by the loop
  LogSource* source_ = nullptr;       // owned by the loop; null while down
  std::string maxlen_text_;
  // Bumped on every resume and loss: replies of an older generation are
  // stale and ignored.
  uint64_t generation_ = 0;
  // The stream's last entry, which the source's first frame must match.
  std::optional<std::string> verify_payload_;
  uint64_t verify_position_ = 0;
  std::deque<uint64_t> in_flight_ends_;  // per unanswered XADD: its frame's end
  PublisherStats stats_;
  int open_parts_ = 0;
  bool paused_ = false;
  bool caught_up_notified_ = false;
  bool failed_ = false;
  bool closing_ = false;
  bool first_resume_ = true;
};

}  // namespace bridge

#endif  // BRIDGE_PUBLISHER_H_
