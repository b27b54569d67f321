#include "bridge/publisher.h"

#include <hiredis/hiredis.h>

#include <charconv>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bridge/stream_id.h"
#include "bridge/stream_reply.h"

namespace bridge {
namespace {

// Redis's refusal of an explicit ID at or below the stream's top item.
constexpr absl::string_view kIdTooSmall = "equal or smaller than the target stream top item";

// Writes `value` in decimal into `buffer` and returns the text.
absl::string_view Decimal(uint64_t value, char (&buffer)[24]) {
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  (void)error;  // 20 digits always fit
  return absl::string_view(buffer, static_cast<size_t>(end - buffer));
}

}  // namespace

Publisher::Publisher(uv_loop_t* loop, PublisherOptions options, Callbacks callbacks)
    : loop_(loop), options_(std::move(options)), callbacks_(std::move(callbacks)) {
  if (options_.maxlen > 0) maxlen_text_ = absl::StrCat(options_.maxlen);
}

Publisher::~Publisher() = default;

absl::StatusOr<Publisher*> Publisher::Start(uv_loop_t* loop, RedisOptions redis,
                                            PublisherOptions options, Callbacks callbacks) {
  if (options.log_path.empty() || options.stream.empty()) {
    return absl::InvalidArgumentError("a publisher needs a log path and a stream key");
  }
  if (options.max_in_flight == 0) {
    return absl::InvalidArgumentError("max_in_flight must be at least 1");
  }
  if (!callbacks.on_fatal || (options.notify_caught_up && !callbacks.on_caught_up)) {
    return absl::InvalidArgumentError("a publisher needs on_fatal (and on_caught_up)");
  }
  auto* self = new Publisher(loop, std::move(options), std::move(callbacks));
  RedisConnection::Callbacks redis_callbacks;
  redis_callbacks.on_ready = [self] { self->OnReady(); };
  redis_callbacks.on_down = [self](const absl::Status&) { self->OnDown(); };
  redis_callbacks.on_notice = self->callbacks_.on_notice;  // may be empty
  redis_callbacks.on_fatal = [self](const absl::Status& error) { self->Fail(error); };
  absl::StatusOr<RedisConnection*> connection =
      RedisConnection::Open(loop, std::move(redis), std::move(redis_callbacks));
  if (!connection.ok()) {
    delete self;
    return connection.status();
  }
  self->redis_ = *connection;
  self->open_parts_ = 1;
  return self;
}

std::string Publisher::Where() const {
  return StreamAt(options_.stream, redis_->address());
}

void Publisher::OnReady() {
  if (failed_ || closing_) return;
  uint64_t generation = ++generation_;
  ++stats_.resumes;
  in_flight_ends_.clear();  // a new connection has nothing in flight
  CloseSource();
  const absl::string_view type[] = {"TYPE", options_.stream};
  const absl::string_view last[] = {"XREVRANGE", options_.stream, "+", "-", "COUNT", "1"};
  // Pipelined: the TYPE reply comes first and settles a key of another type.
  absl::Status sent = redis_->Command(type, [this, generation](absl::StatusOr<const redisReply*> reply) {
    if (generation != generation_ || !reply.ok()) return;
    absl::Status checked = CheckStreamType(options_.stream, *reply);
    if (!checked.ok()) Fail(AtRedis(redis_->address(), checked));
  });
  if (sent.ok()) {
    sent = redis_->Command(last, [this, generation](absl::StatusOr<const redisReply*> reply) {
      OnLastEntry(generation, std::move(reply));
    });
  }
  (void)sent;  // not sent: the connection is down again, and OnReady comes back
}

void Publisher::OnLastEntry(uint64_t generation, absl::StatusOr<const redisReply*> reply) {
  if (generation != generation_ || !reply.ok() || failed_ || closing_) return;
  if ((*reply)->type == REDIS_REPLY_ERROR) {
    Fail(ReplyError(absl::StrCat("XREVRANGE of ", Where()), *reply));
    return;
  }
  absl::StatusOr<std::vector<StreamEntry>> entries = DecodeEntries(options_.stream, *reply);
  if (!entries.ok()) {
    Fail(AtRedis(redis_->address(), entries.status()));
    return;
  }
  std::optional<uint64_t> position;
  verify_payload_.reset();
  if (!entries->empty()) {
    const StreamEntry& last = entries->front();
    position = last.position;
    verify_position_ = last.position;
    verify_payload_ = std::string(last.payload);
    stats_.end_position = NextPosition(last.position, last.payload.size());
  } else {
    // Nothing published yet: the stream will begin where the log does.
    absl::StatusOr<uint64_t> oldest = OldestPosition(options_.log_path);
    if (!oldest.ok()) {
      Fail(oldest.status());
      return;
    }
    stats_.end_position = *oldest;
  }
  if (first_resume_ && callbacks_.on_notice) {
    first_resume_ = false;
    callbacks_.on_notice(absl::StrFormat(
        "%s %s position %d; publishing %s from there", Where(),
        entries->empty() ? "is empty, and the log begins at" : "ends at", stats_.end_position,
        options_.log_path));
  }
  OpenSource(position);
}

absl::Status Publisher::CheckNotRemoved() const {
  absl::StatusOr<uint64_t> oldest = OldestPosition(options_.log_path);
  if (!oldest.ok()) return oldest.status();
  if (verify_position_ >= *oldest) return absl::OkStatus();
  const uint64_t end = stats_.end_position;
  return absl::FailedPreconditionError(absl::StrFormat(
      "%s ends with the entry at position %d (it needs the frames from %d on), but "
      "retention removed the files of %s below position %d: %s. Publish %s to a new "
      "stream (it starts at the oldest position left), or keep more files in the chain "
      "(retention limits) so the publisher can keep up",
      Where(), verify_position_, end, options_.log_path, *oldest,
      *oldest > end ? absl::StrFormat("positions %d to %d were never published and are lost",
                                      end, *oldest)
                    : absl::StrFormat("the entry at %d, which the stream is checked against, "
                                      "is gone",
                                      verify_position_),
      options_.log_path));
}

void Publisher::OpenSource(std::optional<uint64_t> position) {
  CloseSource();
  if (verify_payload_.has_value()) {
    absl::Status kept = CheckNotRemoved();
    if (!kept.ok()) {
      Fail(kept);
      return;
    }
  }
  uint64_t generation = generation_;
  absl::StatusOr<LogSource*> source = OpenLogSource(
      loop_, options_.log_path, position, options_.source,
      [this, generation](absl::Span<const LogFrame> frames) {
        if (generation == generation_) OnBatch(frames);
      },
      [this, generation](const absl::Status& error) {
        if (generation == generation_) Fail(error);
      });
  if (!source.ok()) {
    absl::Status status = source.status();
    if (verify_payload_.has_value() &&
        (absl::IsOutOfRange(status) || absl::IsInvalidArgument(status))) {
      status = absl::FailedPreconditionError(absl::StrFormat(
          "%s holds positions up to %d, which %s does not have (%s): the stream was "
          "published from another log; publish %s to a new stream",
          Where(), stats_.end_position, options_.log_path, status.message(), options_.log_path));
    }
    Fail(status);
    return;
  }
  source_ = *source;
  paused_ = false;
  MaybeCaughtUp();
}

void Publisher::OnBatch(absl::Span<const LogFrame> frames) {
  for (const LogFrame& frame : frames) {
    // A callback below (a failure, or caught-up) may have ended the run.
    if (failed_ || closing_ || source_ == nullptr) return;
    if (verify_payload_.has_value()) {
      // The first frame is the stream's last entry: the same log must hold
      // the same bytes there.
      absl::string_view bytes(reinterpret_cast<const char*>(frame.payload.data()),
                              frame.payload.size());
      if (frame.position != verify_position_ || bytes != *verify_payload_) {
        Fail(absl::FailedPreconditionError(absl::StrFormat(
            "%s ends with the entry at position %d, but %s holds other bytes there (%d bytes "
            "in the stream, %d in the log): the stream was published from another log; "
            "publish %s to a new stream",
            Where(), verify_position_, options_.log_path, verify_payload_->size(),
            frame.payload.size(), options_.log_path)));
        return;
      }
      verify_payload_.reset();
      MaybeCaughtUp();
      continue;
    }
    Add(frame);
  }
  if (in_flight_ends_.size() >= options_.max_in_flight && source_ != nullptr) {
    source_->Pause();
    paused_ = true;
  }
}

void Publisher::Add(const LogFrame& frame) {
  char id_buffer[48];
  char pos_buffer[24];
  absl::string_view pos = Decimal(frame.position, pos_buffer);
  // "<position>-1": see bridge/stream_id.h (EntryIdForPosition, without
  // building a std::string per frame).
  std::memcpy(id_buffer, pos.data(), pos.size());
  id_buffer[pos.size()] = '-';
  id_buffer[pos.size() + 1] = '1';
  absl::string_view id(id_buffer, pos.size() + 2);
  absl::string_view data(reinterpret_cast<const char*>(frame.payload.data()),
                         frame.payload.size());
  uint64_t generation = generation_;
  RedisConnection::ReplyCallback on_reply =
      [this, generation](absl::StatusOr<const redisReply*> reply) {
        OnAdded(generation, std::move(reply));
      };
  absl::Status sent;
  if (maxlen_text_.empty()) {
    const absl::string_view args[] = {"XADD", options_.stream, id, kPosField, pos, kDataField, data};
    sent = redis_->Command(args, std::move(on_reply));
  } else {
    const absl::string_view args[] = {"XADD", options_.stream, "MAXLEN", maxlen_text_, id,
                                      kPosField, pos, kDataField, data};
    sent = redis_->Command(args, std::move(on_reply));
  }
  // Not sent: the connection is going down; OnDown and a resume follow.
  if (sent.ok()) in_flight_ends_.push_back(NextPosition(frame.position, frame.payload.size()));
}

void Publisher::OnAdded(uint64_t generation, absl::StatusOr<const redisReply*> reply) {
  if (generation != generation_ || !reply.ok() || failed_ || closing_) return;
  const redisReply* r = *reply;
  if (r->type == REDIS_REPLY_ERROR) {
    if (!absl::StrContains(absl::string_view(r->str, r->len), kIdTooSmall)) {
      Fail(ReplyError(absl::StrCat("XADD to ", Where()), r));
      return;
    }
    ++stats_.already_there;  // a replay: the entry is in the stream already
  } else {
    ++stats_.added;
  }
  if (!in_flight_ends_.empty()) {
    stats_.end_position = in_flight_ends_.front();
    in_flight_ends_.pop_front();
  }
  if (paused_ && in_flight_ends_.size() <= options_.max_in_flight / 2 && source_ != nullptr) {
    paused_ = false;
    absl::Status resumed = source_->Resume();
    if (!resumed.ok()) {
      Fail(resumed);
      return;
    }
  }
  MaybeCaughtUp();
}

void Publisher::MaybeCaughtUp() {
  if (!options_.notify_caught_up || caught_up_notified_ || failed_ || closing_) return;
  if (source_ == nullptr || verify_payload_.has_value() || !in_flight_ends_.empty()) return;
  absl::StatusOr<uint64_t> committed = source_->CommittedEnd();
  if (!committed.ok()) {
    Fail(committed.status());
    return;
  }
  if (stats_.end_position < *committed) return;
  caught_up_notified_ = true;
  callbacks_.on_caught_up();
}

void Publisher::OnDown() {
  // Whatever was in flight may or may not have landed; the resume after the
  // reconnect asks the stream.
  ++generation_;
  in_flight_ends_.clear();
  CloseSource();
}

void Publisher::CloseSource() {
  if (source_ == nullptr) return;
  source_->Close();
  source_ = nullptr;
}

void Publisher::Fail(const absl::Status& error) {
  if (failed_ || closing_) return;
  failed_ = true;
  ++generation_;
  CloseSource();
  callbacks_.on_fatal(error);
}

void Publisher::Close(std::function<void()> on_closed) {
  if (closing_) return;
  closing_ = true;
  ++generation_;
  on_closed_ = std::move(on_closed);
  if (source_ != nullptr) {
    ++open_parts_;
    source_->Close([this] { OnPartClosed(); });
    source_ = nullptr;
  }
  redis_->Close([this] { OnPartClosed(); });
}

void Publisher::OnPartClosed() {
  if (--open_parts_ > 0) return;
  std::function<void()> on_closed = std::move(on_closed_);
  delete this;
  if (on_closed) on_closed();
}

}  // namespace bridge
