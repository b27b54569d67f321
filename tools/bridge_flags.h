// What `shmio publish` and `shmio mirror` share: the Redis flags
// (--redis=HOST:PORT, --stream=KEY, --redis-password=PW or the environment
// variable SHMIO_REDIS_PASSWORD), and a uv loop that runs until SIGINT or
// SIGTERM, or until the command stops it.
#ifndef SHMIO_TOOLS_BRIDGE_FLAGS_H_
#define SHMIO_TOOLS_BRIDGE_FLAGS_H_

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bridge/redis_connection.h"
#include "tools/command.h"
#include "tools/flag_parser.h"

namespace shmio::cli {

// The password's environment variable; --redis-password wins over it. The
// environment keeps the password out of `ps` and shell history.
inline constexpr char kRedisPasswordEnv[] = "SHMIO_REDIS_PASSWORD";

// The flags every bridge command takes (add the command's own).
inline constexpr FlagSpec kRedisFlagSpecs[] = {
    {"redis", true}, {"stream", true}, {"redis-password", true}};

struct RedisFlags {
  bridge::RedisOptions redis;
  std::string stream;
};

// Reads --redis, --stream and the password. InvalidArgument (a usage
// error) when --redis or --stream is missing or malformed.
absl::StatusOr<RedisFlags> ParseRedisFlags(const ParsedArgs& parsed);

// Prints "shmio NAME: MESSAGE" to io.err and flushes it, with a hint for a
// refused login. Returns kExitFailure.
int ReportBridgeFailure(const CommandIo& io, const Command& command, const absl::Status& error);

// A uv loop for one command run, with SIGINT and SIGTERM handlers.
class CommandLoop {
 public:
  // A loop with its SIGINT/SIGTERM handles. ResourceExhausted (out of file
  // descriptors) instead of libuv's abort; see tools/uv_loop_init.h.
  static absl::StatusOr<std::unique_ptr<CommandLoop>> Create();
  ~CommandLoop();
  CommandLoop(const CommandLoop&) = delete;
  CommandLoop& operator=(const CommandLoop&) = delete;

  uv_loop_t* loop() { return &loop_; }

  // Runs the loop until every handle is closed. `on_signal` runs (once) on
  // SIGINT or SIGTERM: it should close the command's objects, then call
  // StopSignals(). Returns false when uv_loop_close() failed (a handle left
  // open), having said so on io.err.
  bool Run(std::function<void()> on_signal, const CommandIo& io, const Command& command);

  // Closes the signal handles (idempotent), so Run() returns once the
  // command's own handles are closed.
  void StopSignals();

 private:
  CommandLoop() = default;
  static void OnSignal(uv_signal_t* handle, int signum);

  uv_loop_t loop_;
  uv_signal_t signals_[2];  // SIGINT, SIGTERM
  int signals_initialised_ = 0;
  std::function<void()> on_signal_;
  bool signals_open_ = false;
  bool loop_closed_ = false;
};

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_BRIDGE_FLAGS_H_
