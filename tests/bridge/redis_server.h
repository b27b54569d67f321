// RedisServer: a real `redis-server` (Debian's 7.0, installed by ./bazelw)
// that a test or benchmark starts on a free loopback port in a directory of
// its own, and that never outlives it:
//   - the destructor SIGKILLs and reaps it;
//   - the server runs with PR_SET_PDEATHSIG = SIGKILL, so it dies with the
//     process that started it even when that process crashes or is killed;
// so a failing test leaks no server.
//
// Readiness is an event, not a sleep: the server logs to a pipe, a reader
// thread collects the log, and Start() returns once "Ready to accept
// connections" appears (bounded by a deadline).
//
// SyncRedis is a blocking hiredis client for the test's own checks.
//
// Thread safety: one thread uses a RedisServer; the reader thread only
// appends to the log under a mutex.
#ifndef TESTS_BRIDGE_REDIS_SERVER_H_
#define TESTS_BRIDGE_REDIS_SERVER_H_

#include <sys/types.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct redisContext;
struct redisReply;

namespace bridge_test {

struct RedisServerOptions {
  std::string dir;          // working directory (AOF lives here); made if missing
  std::string password;     // non-empty: requirepass
  bool persistent = false;  // appendonly yes, appendfsync always
  int port = 0;             // 0: pick a free loopback port
};

class RedisServer {
 public:
  // Starts a server and waits until it accepts connections (20 s bound).
  static absl::StatusOr<std::unique_ptr<RedisServer>> Start(RedisServerOptions options);
  // Start() with the defaults: no password, no persistence, a free port.
  static absl::StatusOr<std::unique_ptr<RedisServer>> StartIn(const std::string& dir);
  ~RedisServer();  // SIGKILLs and reaps a running server
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return options_.port; }
  std::string address() const;  // "127.0.0.1:PORT"
  bool running() const { return pid_ > 0; }

  // SIGKILLs the server and reaps it (a crash: only what it persisted
  // survives).
  void Kill();
  // Starts it again on the same port and directory (a persistent server
  // reloads its AOF before it says it is ready).
  absl::Status Restart();

  // What the server has logged so far.
  std::string Log() const;

 private:
  explicit RedisServer(RedisServerOptions options) : options_(std::move(options)) {}
  absl::Status Launch();
  void Reap();

  RedisServerOptions options_;
  pid_t pid_ = -1;
  int log_fd_ = -1;
  std::thread reader_;
  // std::mutex, not absl::Mutex: Debian's Abseil is not built for TSan,
  // which then cannot see absl::Mutex's ordering and reports false races.
  mutable std::mutex mutex_;
  std::condition_variable log_grew_;
  std::string log_;  // guarded by mutex_
  bool log_closed_ = false;  // guarded by mutex_
};

// A free TCP port on 127.0.0.1 (bound and released; another process could
// take it in between, so callers retry on a failed start).
int FreeLoopbackPort();

// A blocking client.
class SyncRedis {
 public:
  static absl::StatusOr<std::unique_ptr<SyncRedis>> Connect(int port,
                                                            const std::string& password = "");
  ~SyncRedis();

  // Runs a command (binary-safe arguments). The reply is owned by the
  // returned pointer. Errors: the connection failed.
  struct ReplyDeleter {
    void operator()(redisReply* reply) const;
  };
  using Reply = std::unique_ptr<redisReply, ReplyDeleter>;
  absl::StatusOr<Reply> Command(const std::vector<std::string>& args);

  // Runs a command and returns its reply as text (status, string, error,
  // integer), for simple checks: Text({"XLEN", "s"}) == "3".
  std::string Text(const std::vector<std::string>& args);

 private:
  explicit SyncRedis(redisContext* context) : context_(context) {}
  redisContext* context_;
};

}  // namespace bridge_test

#endif  // TESTS_BRIDGE_REDIS_SERVER_H_
