// Mirror: reads a Redis stream written by a Publisher and writes each entry
// into a local shmio log (a LogSink) at the entry's position, committing
// once per XREAD reply, so local readers follow it through uvwatch at
// shared-memory speed.
//
// Exactly once by position: the sink holds positions [0, end). The mirror
// reads with XREAD BLOCK from ID "end-0", whose first entry must be the one
// at position `end`; each entry must start where the previous one ended.
// A mirror SIGKILLed at any moment loses only frames it had not committed,
// and restarts from the sink's committed end, so nothing is lost or
// written twice.
//
// What it refuses (on_fatal, after committing what came before):
//   - an entry that does not start at the sink's end: the stream was trimmed
//     (MAXLEN) past what the sink holds, or a fresh single-file sink meets a
//     stream that no longer begins at position 0 (a chain the mirror
//     creates begins where the stream begins: see the SinkOpener form of
//     Start()). The message names both positions; nothing is renumbered.
//   - a key of another type, an entry shmio did not write, a refused login,
//     a full sink.
// An unreachable or restarted Redis is retried with backoff (said once).
//
// Lifetime: as Publisher's. Thread safety: loop thread only.
#ifndef BRIDGE_MIRROR_H_
#define BRIDGE_MIRROR_H_

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bridge/log_sink.h"
#include "bridge/redis_connection.h"

namespace bridge {

struct MirrorOptions {
  std::string stream;            // the stream's key
  size_t entries_per_read = 1024;  // XREAD COUNT
  uint64_t block_ms = 1000;      // XREAD BLOCK; then it asks again
};

struct MirrorStats {
  uint64_t mirrored = 0;  // entries written into the sink
  uint64_t reads = 0;     // XREAD replies with entries
};

class Mirror {
 public:
  struct Callbacks {
    std::function<void(const absl::Status& error)> on_fatal;  // required
    std::function<void(const std::string& notice)> on_notice; // may be empty
  };

  // Opens the sink once the stream's first position is known: a sink
  // that must begin where the stream begins (a chain created for it).
  // Returns a sink that must outlive the mirror, or the error to stop with.
  using SinkOpener = std::function<absl::StatusOr<LogSink*>(uint64_t first_position)>;

  // Connects and starts mirroring into `*sink`, which must outlive the
  // mirror (until Close()'s callback). Errors: InvalidArgument.
  static absl::StatusOr<Mirror*> Start(uv_loop_t* loop, RedisOptions redis,
                                       MirrorOptions options, LogSink* sink,
                                       Callbacks callbacks);
  // Same, for a sink that does not exist yet: the mirror reads the stream
  // from its first entry and calls `open_sink` with that entry's position
  // before writing anything (once; an empty stream is waited for).
  static absl::StatusOr<Mirror*> Start(uv_loop_t* loop, RedisOptions redis,
                                       MirrorOptions options, SinkOpener open_sink,
                                       Callbacks callbacks);

  Mirror(const Mirror&) = delete;
  Mirror& operator=(const Mirror&) = delete;

  const MirrorStats& stats() const { return stats_; }

  // Disconnects and frees *this; `on_closed` runs after. Idempotent.
  void Close(std::function<void()> on_closed = nullptr);

  ~Mirror();  // public for the last close callback only

 private:
  Mirror(MirrorOptions options, LogSink* sink, SinkOpener open_sink, Callbacks callbacks);
  static absl::StatusOr<Mirror*> Connect(uv_loop_t* loop, RedisOptions redis, Mirror* self);

  void OnReady();
  void Read(uint64_t generation);
  void OnRead(uint64_t generation, absl::StatusOr<const redisReply*> reply);
  // Writes the entries of one reply and commits them.
  absl::Status Write(const redisReply* reply);
  void Fail(const absl::Status& error);
  std::string Where() const;

  MirrorOptions options_;
  LogSink* sink_;  // not owned; null until open_sink_ made it
  SinkOpener open_sink_;
  Callbacks callbacks_;
  std::function<void()> on_closed_;
  RedisConnection* redis_ = nullptr;  // owned by the loop
  std::string count_text_;
  std::string block_text_;
  uint64_t generation_ = 0;  // bumped on every (re)connect and loss
  MirrorStats stats_;
  bool failed_ = false;
  bool closing_ = false;
  bool first_ready_ = true;
};

}  // namespace bridge

#endif  // BRIDGE_MIRROR_H_
