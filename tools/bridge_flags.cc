#include "tools/bridge_flags.h"

#include <signal.h>

#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bridge/redis_address.h"
#include "tools/uv_loop_init.h"

namespace shmio::cli {

absl::StatusOr<RedisFlags> ParseRedisFlags(const ParsedArgs& parsed) {
  RedisFlags flags;
  std::optional<std::string> address = parsed.Value("redis");
  if (!address.has_value()) return absl::InvalidArgumentError("--redis=HOST:PORT is required");
  absl::StatusOr<bridge::RedisAddress> parsed_address = bridge::ParseRedisAddress(*address);
  if (!parsed_address.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--redis: ", parsed_address.status().message()));
  }
  flags.redis.address = *parsed_address;
  std::optional<std::string> stream = parsed.Value("stream");
  if (!stream.has_value() || stream->empty()) {
    return absl::InvalidArgumentError("--stream=KEY is required");
  }
  flags.stream = *stream;
  if (std::optional<std::string> password = parsed.Value("redis-password")) {
    flags.redis.password = *password;
  } else if (const char* env = std::getenv(kRedisPasswordEnv)) {
    flags.redis.password = env;
  }
  return flags;
}

int ReportBridgeFailure(const CommandIo& io, const Command& command, const absl::Status& error) {
  std::string hint;
  if (absl::IsUnauthenticated(error)) {
    hint = absl::StrFormat(" (give the password with --redis-password=PW or %s)",
                           kRedisPasswordEnv);
  }
  absl::FPrintF(io.err, "shmio %s: %s%s\n", command.name, error.message(), hint);
  std::fflush(io.err);
  return kExitFailure;
}

absl::StatusOr<std::unique_ptr<CommandLoop>> CommandLoop::Create() {
  auto loop = std::unique_ptr<CommandLoop>(new CommandLoop);
  absl::Status started = InitLoop(&loop->loop_);
  if (!started.ok()) {
    loop->loop_closed_ = true;  // never initialised: nothing to close
    return started;
  }
  loop->signals_open_ = true;
  for (int i = 0; i < 2; ++i) {
    int r = uv_signal_init(&loop->loop_, &loop->signals_[i]);
    if (r != 0) {
      return absl::ResourceExhaustedError(absl::StrFormat(
          "uv_signal_init: %s (out of file descriptors? raise `ulimit -n`)",
          uv_strerror(r)));  // the destructor closes what was made
    }
    loop->signals_[i].data = loop.get();
    ++loop->signals_initialised_;
  }
  return loop;
}

CommandLoop::~CommandLoop() {
  if (loop_closed_) return;
  // Run() never ran (the command failed before it): release the handles.
  StopSignals();
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

bool CommandLoop::Run(std::function<void()> on_signal, const CommandIo& io,
                      const Command& command) {
  on_signal_ = std::move(on_signal);
  uv_signal_start(&signals_[0], &CommandLoop::OnSignal, SIGINT);
  uv_signal_start(&signals_[1], &CommandLoop::OnSignal, SIGTERM);
  uv_run(&loop_, UV_RUN_DEFAULT);  // until every handle is closed
  int closed = uv_loop_close(&loop_);
  loop_closed_ = closed == 0;
  if (closed != 0) {
    absl::FPrintF(io.err, "shmio %s: uv_loop_close: %s\n", command.name, uv_strerror(closed));
    return false;
  }
  return true;
}

void CommandLoop::OnSignal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<CommandLoop*>(handle->data);
  std::function<void()> on_signal = std::move(self->on_signal_);
  self->on_signal_ = nullptr;
  if (on_signal) on_signal();
  self->StopSignals();
}

void CommandLoop::StopSignals() {
  if (!signals_open_) return;
  signals_open_ = false;
  for (int i = 0; i < signals_initialised_; ++i) {
    uv_close(reinterpret_cast<uv_handle_t*>(&signals_[i]), nullptr);
  }
}

}  // namespace shmio::cli
