#include "tools/mirror_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bridge/log_sink.h"
#include "bridge/mirror.h"
#include "tools/bridge_flags.h"
#include "tools/flag_parser.h"
#include "tools/sigbus_guard.h"

namespace shmio::cli {
namespace {

std::vector<FlagSpec> Flags() {
  std::vector<FlagSpec> flags(std::begin(kRedisFlagSpecs), std::end(kRedisFlagSpecs));
  flags.push_back({"capacity", true});
  return flags;
}

int Run(absl::Span<const std::string> args, const CommandIo& io) {
  const Command& self = kMirrorCommand;
  if (IsHelpRequest(args)) return PrintUsage(io, self);
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args, Flags());
  if (!parsed.ok()) return ReportUsageError(io, self, parsed.status().message());
  absl::StatusOr<std::string> dest = parsed->File();
  if (!dest.ok()) return ReportUsageError(io, self, "expected exactly one DEST");
  absl::StatusOr<RedisFlags> redis = ParseRedisFlags(*parsed);
  if (!redis.ok()) return ReportUsageError(io, self, redis.status().message());
  absl::StatusOr<std::optional<uint64_t>> capacity = parsed->Uint("capacity");
  if (!capacity.ok()) return ReportUsageError(io, self, capacity.status().message());

  struct stat info;
  bool exists = ::stat(dest->c_str(), &info) == 0;
  if (!exists && errno != ENOENT) {
    int error = errno;
    return ReportFailure(io, self, *dest,
                         absl::ErrnoToStatus(error, absl::StrCat("cannot open ", *dest)));
  }
  // A DEST shorter than the header is a creation cut short: it needs the
  // capacity again.
  bool creating = !exists || info.st_size < 24;
  if (creating && !capacity->has_value()) {
    return ReportUsageError(
        io, self, absl::StrCat(*dest, " does not exist: give --capacity=BYTES to create it"));
  }

  GuardAgainstShrinkingFile(*dest);
  bridge::SinkOptions sink_options;
  sink_options.path = *dest;
  sink_options.create_capacity = capacity->value_or(0);
  absl::StatusOr<std::unique_ptr<bridge::LogSink>> sink = bridge::OpenLogSink(sink_options);
  if (!sink.ok()) return ReportFailure(io, self, *dest, sink.status());

  bridge::MirrorOptions options;
  options.stream = redis->stream;
  absl::StatusOr<std::unique_ptr<CommandLoop>> made_loop = CommandLoop::Create();
  if (!made_loop.ok()) return ReportBridgeFailure(io, self, made_loop.status());
  CommandLoop& loop = **made_loop;
  int exit_code = kExitOk;
  bridge::Mirror* mirror = nullptr;
  bridge::MirrorStats stats;
  auto stop = [&](int code) {
    if (mirror == nullptr) return;
    exit_code = code;
    stats = mirror->stats();
    mirror->Close();
    mirror = nullptr;
    loop.StopSignals();
  };
  bridge::Mirror::Callbacks callbacks;
  callbacks.on_fatal = [&](const absl::Status& error) {
    stop(ReportBridgeFailure(io, self, error));
  };
  callbacks.on_notice = [&](const std::string& notice) {
    absl::FPrintF(io.err, "shmio mirror: %s\n", notice);
    std::fflush(io.err);
  };
  absl::StatusOr<bridge::Mirror*> started = bridge::Mirror::Start(
      loop.loop(), redis->redis, options, sink->get(), std::move(callbacks));
  if (!started.ok()) return ReportBridgeFailure(io, self, started.status());
  mirror = *started;
  if (!loop.Run([&] { stop(kExitOk); }, io, self) && exit_code == kExitOk) {
    exit_code = kExitFailure;
  }
  uint64_t end = (*sink)->CommittedEnd();
  sink->reset();  // releases the writer lock and the mapping
  if (exit_code != kExitOk && creating && end == 0) {
    // Bad input leaves nothing behind: this run made DEST and wrote nothing.
    ::unlink(dest->c_str());
  }
  absl::FPrintF(io.out, "mirrored: %d\nend_position: %d\n", stats.mirrored, end);
  return FinishOutput(io, self, exit_code);
}

}  // namespace

const Command kMirrorCommand = {
    "mirror",
    "mirror --redis=HOST:PORT --stream=KEY DEST [--capacity=BYTES] [--redis-password=PW]",
    "write every entry of a Redis stream written by `shmio publish` into the log DEST at its "
    "position (DEST is created with --capacity when missing, continued where it ends), until "
    "SIGINT/SIGTERM",
    &Run,
};

}  // namespace shmio::cli
