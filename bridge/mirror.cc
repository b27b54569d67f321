#include "bridge/mirror.h"

#include <hiredis/hiredis.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bridge/stream_id.h"
#include "bridge/stream_reply.h"

namespace bridge {

Mirror::Mirror(MirrorOptions options, LogSink* sink, SinkOpener open_sink, Callbacks callbacks)
    : options_(std::move(options)),
      sink_(sink),
      open_sink_(std::move(open_sink)),
      callbacks_(std::move(callbacks)),
      count_text_(absl::StrCat(options_.entries_per_read)),
      block_text_(absl::StrCat(options_.block_ms)) {}

Mirror::~Mirror() = default;

absl::StatusOr<Mirror*> Mirror::Start(uv_loop_t* loop, RedisOptions redis, MirrorOptions options,
                                      LogSink* sink, Callbacks callbacks) {
  if (sink == nullptr) return absl::InvalidArgumentError("a mirror needs a sink");
  return Connect(loop, std::move(redis),
                 new Mirror(std::move(options), sink, nullptr, std::move(callbacks)));
}

absl::StatusOr<Mirror*> Mirror::Start(uv_loop_t* loop, RedisOptions redis, MirrorOptions options,
                                      SinkOpener open_sink, Callbacks callbacks) {
  if (!open_sink) return absl::InvalidArgumentError("a mirror needs a way to open its sink");
  return Connect(loop, std::move(redis),
                 new Mirror(std::move(options), nullptr, std::move(open_sink),
                            std::move(callbacks)));
}

absl::StatusOr<Mirror*> Mirror::Connect(uv_loop_t* loop, RedisOptions redis, Mirror* self) {
  if (self->options_.stream.empty() || !self->callbacks_.on_fatal) {
    delete self;
    return absl::InvalidArgumentError("a mirror needs a stream key and on_fatal");
  }
  if (self->options_.entries_per_read == 0 || self->options_.block_ms == 0) {
    delete self;
    return absl::InvalidArgumentError("entries_per_read and block_ms must be at least 1");
  }
  RedisConnection::Callbacks redis_callbacks;
  redis_callbacks.on_ready = [self] { self->OnReady(); };
  // Each reply is written and committed before the next read is sent, so a
  // lost connection leaves nothing half done: the next OnReady reads on
  // from the sink's end.
  redis_callbacks.on_down = [self](const absl::Status&) { ++self->generation_; };
  redis_callbacks.on_notice = self->callbacks_.on_notice;  // may be empty
  redis_callbacks.on_fatal = [self](const absl::Status& error) { self->Fail(error); };
  absl::StatusOr<RedisConnection*> connection =
      RedisConnection::Open(loop, std::move(redis), std::move(redis_callbacks));
  if (!connection.ok()) {
    delete self;
    return connection.status();
  }
  self->redis_ = *connection;
  return self;
}

std::string Mirror::Where() const {
  return StreamAt(options_.stream, redis_->address());
}

void Mirror::OnReady() {
  if (failed_ || closing_) return;
  uint64_t generation = ++generation_;
  if (first_ready_ && callbacks_.on_notice) {
    first_ready_ = false;
    callbacks_.on_notice(
        sink_ == nullptr
            ? absl::StrFormat("the log is made at the first position of %s; mirroring from there",
                              Where())
            : absl::StrFormat("%s ends at position %d; mirroring %s from there", sink_->name(),
                              sink_->CommittedEnd(), Where()));
  }
  const absl::string_view type[] = {"TYPE", options_.stream};
  absl::Status sent = redis_->Command(type, [this, generation](absl::StatusOr<const redisReply*> reply) {
    if (generation != generation_ || !reply.ok() || failed_ || closing_) return;
    absl::Status checked = CheckStreamType(options_.stream, *reply);
    if (!checked.ok()) {
      Fail(AtRedis(redis_->address(), checked));
      return;
    }
    Read(generation);
  });
  (void)sent;  // not sent: the connection is down again, and OnReady comes back
}

void Mirror::Read(uint64_t generation) {
  // No sink yet: from the stream's first entry, wherever it is.
  std::string start = ReadStartForPosition(sink_ == nullptr ? 0 : sink_->AppendEnd());
  const absl::string_view args[] = {"XREAD", "COUNT", count_text_, "BLOCK", block_text_,
                                    "STREAMS", options_.stream, start};
  absl::Status sent = redis_->Command(
      args,
      [this, generation](absl::StatusOr<const redisReply*> reply) {
        OnRead(generation, std::move(reply));
      },
      options_.block_ms);
  (void)sent;  // as in OnReady
}

void Mirror::OnRead(uint64_t generation, absl::StatusOr<const redisReply*> reply) {
  if (generation != generation_ || !reply.ok() || failed_ || closing_) return;
  absl::Status written = Write(*reply);
  if (!written.ok()) {
    Fail(written);
    return;
  }
  Read(generation);
}

absl::Status Mirror::Write(const redisReply* reply) {
  if (reply->type == REDIS_REPLY_ERROR) {
    return ReplyError(absl::StrCat("XREAD of ", Where()), reply);
  }
  absl::StatusOr<std::vector<StreamEntry>> entries = DecodeXreadReply(options_.stream, reply);
  if (!entries.ok()) {
    return AtRedis(redis_->address(), entries.status());
  }
  if (entries->empty()) return absl::OkStatus();  // the block timed out
  ++stats_.reads;
  if (sink_ == nullptr) {
    absl::StatusOr<LogSink*> opened = open_sink_(entries->front().position);
    if (!opened.ok()) return opened.status();
    sink_ = *opened;
  }
  absl::Status status;
  for (const StreamEntry& entry : *entries) {
    uint64_t end = sink_->AppendEnd();
    if (entry.position != end) {
      if (end == 0 && !sink_->is_chain()) {
        status = absl::FailedPreconditionError(absl::StrFormat(
            "%s begins at position %d, not 0: its older entries were trimmed (MAXLEN, XTRIM) "
            "or deleted, and %s, a single file, holds positions from 0 only; nothing was "
            "written. Mirror a stream that still holds position 0, or republish the log to a "
            "new stream",
            Where(), entry.position, sink_->name()));
      } else {
        status = absl::FailedPreconditionError(absl::StrFormat(
            "%s has no entry at position %d, where %s ends (the next entry is at %d): %s",
            Where(), end, sink_->name(), entry.position,
            entry.position > end
                ? "the entries in between were trimmed (MAXLEN, XTRIM) before the mirror "
                  "copied them"
                : "the stream goes backwards, so it is not the one this log was mirrored from"));
      }
      break;
    }
    status = sink_->Append(entry.position,
                           absl::Span<const uint8_t>(
                               reinterpret_cast<const uint8_t*>(entry.payload.data()),
                               entry.payload.size()));
    if (!status.ok()) break;
    ++stats_.mirrored;
  }
  // Whatever was appended before a problem is good: keep it.
  absl::Status committed = sink_->Commit();
  if (!status.ok()) return status;
  return committed;
}

void Mirror::Fail(const absl::Status& error) {
  if (failed_ || closing_) return;
  failed_ = true;
  ++generation_;
  callbacks_.on_fatal(error);
}

void Mirror::Close(std::function<void()> on_closed) {
  if (closing_) return;
  closing_ = true;
  ++generation_;
  on_closed_ = std::move(on_closed);
  redis_->Close([this] {
    std::function<void()> on_closed = std::move(on_closed_);
    delete this;
    if (on_closed) on_closed();
  });
}

}  // namespace bridge
