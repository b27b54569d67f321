#include "tools/publish_command.h"

#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "bridge/publisher.h"
#include "tools/bridge_flags.h"
#include "tools/flag_parser.h"
#include "tools/sigbus_guard.h"

namespace shmio::cli {
namespace {

std::vector<FlagSpec> Flags() {
  std::vector<FlagSpec> flags(std::begin(kRedisFlagSpecs), std::end(kRedisFlagSpecs));
  flags.push_back({"maxlen", true});
  flags.push_back({"until-caught-up", false});
  return flags;
}

int Run(absl::Span<const std::string> args, const CommandIo& io) {
  const Command& self = kPublishCommand;
  if (IsHelpRequest(args)) return PrintUsage(io, self);
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args, Flags());
  if (!parsed.ok()) return ReportUsageError(io, self, parsed.status().message());
  absl::StatusOr<std::string> log = parsed->File();
  if (!log.ok()) return ReportUsageError(io, self, "expected exactly one LOG (a file or a chain's directory)");
  absl::StatusOr<RedisFlags> redis = ParseRedisFlags(*parsed);
  if (!redis.ok()) return ReportUsageError(io, self, redis.status().message());
  absl::StatusOr<std::optional<uint64_t>> maxlen = parsed->Uint("maxlen");
  if (!maxlen.ok()) return ReportUsageError(io, self, maxlen.status().message());
  if (maxlen->has_value() && **maxlen == 0) {
    return ReportUsageError(io, self, "--maxlen must be at least 1 (leave it out to keep every entry)");
  }

  bridge::PublisherOptions options;
  options.log_path = *log;
  options.stream = redis->stream;
  options.maxlen = maxlen->value_or(0);
  options.notify_caught_up = parsed->Has("until-caught-up");

  // A LOG truncated under the mapping is reported, not a crash.
  GuardAgainstShrinkingFile(*log);
  absl::StatusOr<std::unique_ptr<CommandLoop>> made_loop = CommandLoop::Create();
  if (!made_loop.ok()) return ReportBridgeFailure(io, self, made_loop.status());
  CommandLoop& loop = **made_loop;
  int exit_code = kExitOk;
  bridge::Publisher* publisher = nullptr;
  bridge::PublisherStats stats;
  auto stop = [&](int code) {
    if (publisher == nullptr) return;
    exit_code = code;
    stats = publisher->stats();
    publisher->Close();
    publisher = nullptr;
    loop.StopSignals();
  };
  bridge::Publisher::Callbacks callbacks;
  callbacks.on_caught_up = [&] { stop(kExitOk); };
  callbacks.on_fatal = [&](const absl::Status& error) {
    stop(ReportBridgeFailure(io, self, error));
  };
  callbacks.on_notice = [&](const std::string& notice) {
    absl::FPrintF(io.err, "shmio publish: %s\n", notice);
    std::fflush(io.err);
  };
  absl::StatusOr<bridge::Publisher*> started =
      bridge::Publisher::Start(loop.loop(), redis->redis, options, std::move(callbacks));
  if (!started.ok()) return ReportBridgeFailure(io, self, started.status());
  publisher = *started;
  if (!loop.Run([&] { stop(kExitOk); }, io, self) && exit_code == kExitOk) {
    exit_code = kExitFailure;
  }
  absl::FPrintF(io.out, "published: %d\nalready_in_stream: %d\nend_position: %d\n", stats.added,
                stats.already_there, stats.end_position);
  return FinishOutput(io, self, exit_code);
}

}  // namespace

const Command kPublishCommand = {
    "publish",
    "publish LOG|DIR --redis=HOST:PORT --stream=KEY [--maxlen=N] [--until-caught-up] "
    "[--redis-password=PW]",
    "append every frame of LOG (a file, or a chain DIR across its files) to a Redis stream, "
    "exactly once by position (ID <position>-1); follows it until SIGINT/SIGTERM, or until the stream holds everything "
    "committed",
    &Run,
};

}  // namespace shmio::cli
