// RedisConnection: one hiredis async connection on a uv loop that keeps
// itself connected. It connects (and AUTHs, and PINGs to learn whether the
// login holds), reports when the connection is usable, times out connects
// and commands, and after any failure reconnects with exponential backoff,
// saying so once per outage.
//
// Why timers of our own: hiredis 0.14's async API has no timeouts. A connect
// that never completes, or a server that stops answering, would otherwise
// hang the bridge forever. Each attempt gets connect_timeout_ms; each command
// must be answered within command_timeout_ms (plus the block time it asks
// for, for XREAD BLOCK); otherwise the connection is dropped and retried.
//
// hiredis facts this relies on (0.14, async.c): replies arrive in command
// order; when a context is freed (by us, or on a connection error) every
// pending reply callback runs with a NULL reply, then the disconnect
// callback (only if it had connected); a failed connect calls the connect
// callback with REDIS_ERR and hiredis frees the context right after;
// redisAsyncFree() from inside a reply callback is deferred until the
// callback returns. The loop adapter (hiredis_uv.h, not 0.14's, which drops
// socket errors) closes its uv_poll_t in hiredis's cleanup hook, so the loop
// must run once more before uv_loop_close().
//
// Failures and what follows:
//   - unreachable, refused, reset, timed out: retry with backoff; the first
//     failure of an outage reaches on_notice, and so does the first success
//     after it. A usable connection that drops fails its pending commands
//     (Unavailable), then calls on_down.
//   - refused login (AUTH refused, or NOAUTH when no password was given):
//     Unauthenticated through on_fatal; no retry.
//
// Lifetime: heap-allocated by Open(), owned by the loop, released by
// Close(), deleted in the last close callback (libuv's rule; see
// STYLE.md). Callbacks never run after Close(). Close() is safe from inside
// any of this object's callbacks.
//
// Thread safety: loop thread only.
#ifndef BRIDGE_REDIS_CONNECTION_H_
#define BRIDGE_REDIS_CONNECTION_H_

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "bridge/redis_address.h"

struct redisAsyncContext;
struct redisReply;

namespace bridge {

struct RedisOptions {
  RedisAddress address;
  std::string password;  // empty: no AUTH
  uint64_t connect_timeout_ms = 2000;
  uint64_t command_timeout_ms = 5000;
  uint64_t backoff_initial_ms = 50;  // first retry; doubles per failure
  uint64_t backoff_max_ms = 2000;
};

class RedisConnection {
 public:
  struct Callbacks {
    // The connection is usable (connected, logged in): send commands.
    std::function<void()> on_ready;
    // A usable connection was lost; its pending commands have failed.
    // Reconnecting has started.
    std::function<void(const absl::Status& why)> on_down;
    // One line for a person: the first failure of an outage ("...;
    // retrying with backoff") and the first success after it.
    std::function<void(const std::string& notice)> on_notice;
    // The server refused the login; nothing more happens.
    std::function<void(const absl::Status& error)> on_fatal;
  };

  // The reply (valid only during the call; an error reply is a reply of
  // type REDIS_REPLY_ERROR), or Unavailable when the connection dropped
  // before the reply came.
  using ReplyCallback = std::function<void(absl::StatusOr<const redisReply*> reply)>;

  // Starts connecting to options.address on `loop`, which must outlive the
  // connection (until Close()'s callback). All callbacks are required except
  // on_notice. Errors: InvalidArgument for zero timeouts.
  static absl::StatusOr<RedisConnection*> Open(uv_loop_t* loop, RedisOptions options,
                                               Callbacks callbacks);

  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // True between on_ready and the next on_down (or Close()).
  bool ready() const { return state_ == State::kReady; }

  // Sends a command (binary-safe arguments, copied before it returns).
  // `on_reply` runs exactly once, later, unless this returns an error
  // (FailedPrecondition when not ready()) or Close() comes first. The
  // command must be answered within command_timeout_ms + extra_timeout_ms.
  absl::Status Command(absl::Span<const absl::string_view> args, ReplyCallback on_reply,
                       uint64_t extra_timeout_ms = 0);

  // Disconnects and closes the timers; `on_closed` (may be empty) runs
  // after *this is deleted. Idempotent.
  void Close(std::function<void()> on_closed = nullptr);

  const RedisAddress& address() const { return options_.address; }
  // Connection attempts so far (for tests and notices).
  uint64_t attempts() const { return attempts_; }

  // Public only so that the last close callback can delete *this.
  ~RedisConnection();

 private:
  enum class State { kWaiting, kConnecting, kHandshake, kReady, kFatal, kClosing };
  struct Pending {
    ReplyCallback on_reply;
    uint64_t deadline_ms;  // uv_now() by which the reply must come
  };

  RedisConnection(uv_loop_t* loop, RedisOptions options, Callbacks callbacks);

  void Connect();
  void Handshake();
  // Frees the context (if any), fails every pending command, and unless
  // closing or fatal schedules the next attempt.
  void Drop(const absl::Status& why);
  // Everything after the context is gone: notices, on_down, the retry.
  void AfterLoss(const absl::Status& why, bool was_ready);
  void Fatal(const absl::Status& error);
  absl::Status Send(absl::Span<const absl::string_view> args, ReplyCallback on_reply,
                    uint64_t extra_timeout_ms);
  void OnTimeoutCheck();

  static void OnConnect(const redisAsyncContext* context, int status);
  static void OnDisconnect(const redisAsyncContext* context, int status);
  static void OnReply(redisAsyncContext* context, void* reply, void* privdata);
  static void OnRetryTimer(uv_timer_t* timer);
  static void OnWatchdog(uv_timer_t* timer);
  static void OnTimerClosed(uv_handle_t* handle);

  uv_loop_t* loop_;
  RedisOptions options_;
  Callbacks callbacks_;
  std::function<void()> on_closed_;
  uv_timer_t retry_timer_;  // next attempt, after the backoff
  uv_timer_t watchdog_;     // connect and command timeouts
  redisAsyncContext* context_ = nullptr;  // null between attempts
  std::deque<Pending> pending_;  // in command order, as replies come
  State state_ = State::kWaiting;
  uint64_t attempt_deadline_ms_ = 0;
  uint64_t backoff_ms_;
  uint64_t attempts_ = 0;
  bool in_outage_ = false;  // a failure was noticed and no success since
  // Why the current context died, for the replies it fails, and whether
  // it was usable when hiredis began freeing it after an error.
  absl::Status loss_reason_;
  bool lost_while_ready_ = false;
  int open_timers_ = 2;
};

// The text of an error reply, or a description of an unexpected reply.
std::string DescribeReply(const redisReply* reply);

}  // namespace bridge

#endif  // BRIDGE_REDIS_CONNECTION_H_
