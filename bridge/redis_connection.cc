#include "bridge/redis_connection.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bridge/hiredis_uv.h"

namespace bridge {
namespace {

// How often the watchdog looks for an overdue connect or reply.
constexpr uint64_t kWatchdogPeriodMs = 50;

}  // namespace

std::string DescribeReply(const redisReply* reply) {
  if (reply == nullptr) return "no reply";
  switch (reply->type) {
    case REDIS_REPLY_ERROR:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_STRING:
      return std::string(reply->str, reply->len);
    case REDIS_REPLY_INTEGER:
      return absl::StrCat("integer ", reply->integer);
    case REDIS_REPLY_NIL:
      return "nil";
    case REDIS_REPLY_ARRAY:
      return absl::StrCat("an array of ", reply->elements);
    default:
      return absl::StrCat("a reply of type ", reply->type);
  }
}

RedisConnection::RedisConnection(uv_loop_t* loop, RedisOptions options, Callbacks callbacks)
    : loop_(loop),
      options_(std::move(options)),
      callbacks_(std::move(callbacks)),
      backoff_ms_(options_.backoff_initial_ms) {}

RedisConnection::~RedisConnection() = default;

absl::StatusOr<RedisConnection*> RedisConnection::Open(uv_loop_t* loop, RedisOptions options,
                                                       Callbacks callbacks) {
  if (options.connect_timeout_ms == 0 || options.command_timeout_ms == 0 ||
      options.backoff_initial_ms == 0 || options.backoff_max_ms < options.backoff_initial_ms) {
    return absl::InvalidArgumentError(
        "redis timeouts and backoff must be > 0, and the maximum backoff at least the first");
  }
  if (!callbacks.on_ready || !callbacks.on_down || !callbacks.on_fatal) {
    return absl::InvalidArgumentError("RedisConnection needs on_ready, on_down and on_fatal");
  }
  auto* self = new RedisConnection(loop, std::move(options), std::move(callbacks));
  uv_timer_init(loop, &self->retry_timer_);
  uv_timer_init(loop, &self->watchdog_);
  self->retry_timer_.data = self;
  self->watchdog_.data = self;
  // The first attempt runs from the loop, so no callback runs inside Open().
  uv_timer_start(&self->retry_timer_, &RedisConnection::OnRetryTimer, 0, 0);
  uv_timer_start(&self->watchdog_, &RedisConnection::OnWatchdog, kWatchdogPeriodMs,
                 kWatchdogPeriodMs);
  return self;
}

void RedisConnection::Connect() {
  ++attempts_;
  const std::string where = options_.address.ToString();
  redisAsyncContext* context =
      redisAsyncConnect(options_.address.host.c_str(), options_.address.port);
  if (context == nullptr) {
    AfterLoss(absl::ResourceExhaustedError(
                  absl::StrCat("redis ", where, ": out of memory for a connection")),
              false);
    return;
  }
  if (context->err != 0) {
    // Failed before any event (e.g. the name does not resolve): never
    // attached, so freeing it runs no callback of ours.
    std::string why = context->errstr != nullptr ? context->errstr : "connect failed";
    redisAsyncFree(context);
    AfterLoss(absl::UnavailableError(absl::StrCat("redis ", where, ": ", why)), false);
    return;
  }
  context->data = this;
  absl::Status attached = AttachToLoop(context, loop_);
  if (!attached.ok()) {
    redisAsyncFree(context);
    AfterLoss(absl::UnavailableError(absl::StrCat("redis ", where, ": ", attached.message())),
              false);
    return;
  }
  // Attached first: setting the connect callback asks the adapter to wait
  // for the socket to become writable, which is how hiredis sees the
  // connect complete.
  redisAsyncSetDisconnectCallback(context, &RedisConnection::OnDisconnect);
  redisAsyncSetConnectCallback(context, &RedisConnection::OnConnect);
  context_ = context;
  state_ = State::kConnecting;
  attempt_deadline_ms_ = uv_now(loop_) + options_.connect_timeout_ms;
}

void RedisConnection::OnConnect(const redisAsyncContext* context, int status) {
  auto* self = static_cast<RedisConnection*>(context->data);
  if (self->context_ != context) return;
  if (status != REDIS_OK) {
    // hiredis frees the context when this returns.
    self->context_ = nullptr;
    std::string why = context->c.errstr[0] != '\0' ? context->c.errstr : "connect failed";
    self->AfterLoss(absl::UnavailableError(absl::StrCat(
                        "redis ", self->options_.address.ToString(), ": ", why)),
                    false);
    return;
  }
  self->Handshake();
}

void RedisConnection::Handshake() {
  state_ = State::kHandshake;
  attempt_deadline_ms_ = uv_now(loop_) + options_.connect_timeout_ms;
  const std::string where = options_.address.ToString();
  auto refused = [this, where](const redisReply* reply) {
    std::string text = DescribeReply(reply);
    std::string hint = absl::StartsWith(text, "NOAUTH") ? "; it needs a password" : "";
    Fatal(absl::UnauthenticatedError(
        absl::StrCat("redis ", where, " refused the login: ", text, hint)));
  };
  if (!options_.password.empty()) {
    const absl::string_view auth[] = {"AUTH", options_.password};
    absl::Status sent = Send(auth, [this, refused](absl::StatusOr<const redisReply*> reply) {
      if (!reply.ok() || state_ != State::kHandshake) return;  // dropped: retried
      if ((*reply)->type == REDIS_REPLY_ERROR) refused(*reply);
    }, 0);
    // A failed send leaves the attempt to the watchdog's deadline: freeing
    // the context here, inside hiredis's connect handling, is not allowed.
    if (!sent.ok()) return;
  }
  const absl::string_view ping[] = {"PING"};
  absl::Status sent = Send(ping, [this, refused, where](absl::StatusOr<const redisReply*> reply) {
    if (!reply.ok() || state_ != State::kHandshake) return;
    const redisReply* r = *reply;
    if (r->type == REDIS_REPLY_ERROR) {
      std::string text = DescribeReply(r);
      if (absl::StartsWith(text, "NOAUTH") || absl::StartsWith(text, "WRONGPASS")) {
        refused(r);
      } else {
        // E.g. "LOADING": a restarted server still reading its AOF.
        Drop(absl::UnavailableError(absl::StrCat("redis ", where, ": ", text)));
      }
      return;
    }
    state_ = State::kReady;
    backoff_ms_ = options_.backoff_initial_ms;
    if (in_outage_) {
      in_outage_ = false;
      if (callbacks_.on_notice) {
        callbacks_.on_notice(absl::StrCat("redis ", where, ": connected again"));
      }
    }
    callbacks_.on_ready();
  }, 0);
  (void)sent;  // as above: the watchdog ends an attempt that cannot send
}

absl::Status RedisConnection::Command(absl::Span<const absl::string_view> args,
                                      ReplyCallback on_reply, uint64_t extra_timeout_ms) {
  if (state_ != State::kReady) {
    return absl::FailedPreconditionError(
        absl::StrCat("redis ", options_.address.ToString(), ": not connected"));
  }
  return Send(args, std::move(on_reply), extra_timeout_ms);
}

absl::Status RedisConnection::Send(absl::Span<const absl::string_view> args,
                                   ReplyCallback on_reply, uint64_t extra_timeout_ms) {
  // On the stack: this runs once per XADD.
  constexpr size_t kMaxArgs = 16;
  if (args.size() > kMaxArgs) {
    return absl::InvalidArgumentError(absl::StrCat("a command of ", args.size(),
                                                   " arguments; at most ", kMaxArgs));
  }
  const char* argv[kMaxArgs];
  size_t lengths[kMaxArgs];
  for (size_t i = 0; i < args.size(); ++i) {
    argv[i] = args[i].data();
    lengths[i] = args[i].size();
  }
  // Binary-safe: every argument goes with its length. hiredis copies them
  // into its output buffer before returning.
  if (context_ == nullptr ||
      redisAsyncCommandArgv(context_, &RedisConnection::OnReply, this,
                            static_cast<int>(args.size()), argv, lengths) != REDIS_OK) {
    return absl::FailedPreconditionError(absl::StrCat(
        "redis ", options_.address.ToString(), ": the connection is closing"));
  }
  pending_.push_back(Pending{std::move(on_reply), uv_now(loop_) + options_.command_timeout_ms +
                                                      extra_timeout_ms});
  return absl::OkStatus();
}

void RedisConnection::OnReply(redisAsyncContext* context, void* reply, void* privdata) {
  auto* self = static_cast<RedisConnection*>(privdata);
  if (self->pending_.empty()) return;  // cannot happen: one entry per command
  Pending pending = std::move(self->pending_.front());
  self->pending_.pop_front();
  if (self->state_ == State::kClosing) return;  // no callback after Close()
  if (reply == nullptr) {
    // The context is being freed: by Drop() (context_ already cleared), or
    // by hiredis after a connection error (then OnDisconnect follows).
    if (self->context_ == context && self->state_ != State::kWaiting) {
      // The first failed reply of a dying context: remember whether it was
      // usable, for OnDisconnect (the later ones must not overwrite it).
      self->lost_while_ready_ = self->state_ == State::kReady;
      self->state_ = State::kWaiting;  // no new commands on a dying context
      self->loss_reason_ = absl::UnavailableError(absl::StrCat(
          "redis ", self->options_.address.ToString(), ": ",
          context->c.errstr[0] != '\0' ? context->c.errstr : "connection lost"));
    }
    pending.on_reply(self->loss_reason_);
    return;
  }
  pending.on_reply(static_cast<const redisReply*>(reply));
}

void RedisConnection::OnDisconnect(const redisAsyncContext* context, int status) {
  auto* self = static_cast<RedisConnection*>(context->data);
  if (self->context_ != context) return;  // we freed it: Drop() carries on
  // hiredis is freeing the context after an error (the server closed the
  // connection, a reset, a protocol error).
  self->context_ = nullptr;
  bool was_ready = self->state_ == State::kReady || self->lost_while_ready_;
  absl::Status why = !self->loss_reason_.ok()
                         ? self->loss_reason_
                         : absl::UnavailableError(absl::StrCat(
                               "redis ", self->options_.address.ToString(), ": ",
                               context->c.errstr[0] != '\0' ? context->c.errstr
                                                            : "connection lost"));
  self->AfterLoss(why, was_ready);
}

void RedisConnection::Drop(const absl::Status& why) {
  bool was_ready = state_ == State::kReady;
  if (state_ != State::kClosing && state_ != State::kFatal) state_ = State::kWaiting;
  loss_reason_ = absl::UnavailableError(why.message());
  if (context_ != nullptr) {
    redisAsyncContext* context = context_;
    context_ = nullptr;
    // Runs OnReply(NULL) for every pending command (now, or right after the
    // hiredis callback we are in returns), then OnDisconnect, which sees a
    // context it no longer owns.
    redisAsyncFree(context);
  }
  AfterLoss(why, was_ready);
}

void RedisConnection::AfterLoss(const absl::Status& why, bool was_ready) {
  lost_while_ready_ = false;
  if (state_ == State::kClosing || state_ == State::kFatal) return;
  state_ = State::kWaiting;
  if (!in_outage_) {
    in_outage_ = true;
    if (callbacks_.on_notice) {
      callbacks_.on_notice(absl::StrFormat(
          "%s; retrying with backoff (up to %d ms between attempts)", why.message(),
          options_.backoff_max_ms));
    }
  }
  if (was_ready) callbacks_.on_down(why);
  if (state_ != State::kWaiting) return;  // on_down closed us, or reconnected
  uv_timer_start(&retry_timer_, &RedisConnection::OnRetryTimer, backoff_ms_, 0);
  backoff_ms_ = std::min(backoff_ms_ * 2, options_.backoff_max_ms);
}

void RedisConnection::Fatal(const absl::Status& error) {
  state_ = State::kFatal;
  if (context_ != nullptr) {
    redisAsyncContext* context = context_;
    context_ = nullptr;
    redisAsyncFree(context);
  }
  callbacks_.on_fatal(error);
}

void RedisConnection::OnRetryTimer(uv_timer_t* timer) {
  auto* self = static_cast<RedisConnection*>(timer->data);
  if (self->state_ == State::kWaiting && self->context_ == nullptr) {
    self->loss_reason_ = absl::OkStatus();
    self->Connect();
  }
}

void RedisConnection::OnWatchdog(uv_timer_t* timer) {
  static_cast<RedisConnection*>(timer->data)->OnTimeoutCheck();
}

void RedisConnection::OnTimeoutCheck() {
  if (context_ == nullptr) return;
  uint64_t now = uv_now(loop_);
  const std::string where = options_.address.ToString();
  if ((state_ == State::kConnecting || state_ == State::kHandshake) &&
      now > attempt_deadline_ms_) {
    Drop(absl::DeadlineExceededError(absl::StrFormat(
        "redis %s: no connection within %d ms", where, options_.connect_timeout_ms)));
    return;
  }
  if (!pending_.empty() && now > pending_.front().deadline_ms) {
    Drop(absl::DeadlineExceededError(absl::StrFormat(
        "redis %s: no reply within %d ms", where, options_.command_timeout_ms)));
  }
}

void RedisConnection::Close(std::function<void()> on_closed) {
  if (state_ == State::kClosing) return;
  state_ = State::kClosing;
  on_closed_ = std::move(on_closed);
  if (context_ != nullptr) {
    redisAsyncContext* context = context_;
    context_ = nullptr;
    redisAsyncFree(context);  // pending callbacks are dropped: kClosing
  }
  pending_.clear();
  uv_close(reinterpret_cast<uv_handle_t*>(&retry_timer_), &RedisConnection::OnTimerClosed);
  uv_close(reinterpret_cast<uv_handle_t*>(&watchdog_), &RedisConnection::OnTimerClosed);
}

void RedisConnection::OnTimerClosed(uv_handle_t* handle) {
  auto* self = static_cast<RedisConnection*>(handle->data);
  if (--self->open_timers_ > 0) return;
  std::function<void()> on_closed = std::move(self->on_closed_);
  delete self;
  if (on_closed) on_closed();
}

}  // namespace bridge
