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
#include "shmio/chain_directory.h"
#include "tools/bridge_flags.h"
#include "tools/flag_parser.h"
#include "tools/sigbus_guard.h"

namespace shmio::cli {
namespace {

std::vector<FlagSpec> Flags() {
  std::vector<FlagSpec> flags(std::begin(kRedisFlagSpecs), std::end(kRedisFlagSpecs));
  flags.push_back({"capacity", true});
  flags.push_back({"chain", false});
  flags.push_back({"file-capacity", true});
  return flags;
}

// True when `dir` holds a chain with at least one file: its end is known,
// so it is continued there; a chain without files (its creation cut short)
// is made again at the stream's first position.
bool ChainHasFiles(const std::string& dir) {
  absl::StatusOr<shmio::ChainListing> listing = shmio::ListChain(dir);
  return listing.ok() && !listing->files.empty();
}

// Runs a mirror of redis.stream into `sink`, or into the sink `open_sink`
// makes at the stream's first position, until SIGINT/SIGTERM or an error;
// prints "mirrored: N". Returns the exit code.
int RunMirror(bridge::LogSink* sink, bridge::Mirror::SinkOpener open_sink,
              const RedisFlags& redis, const CommandIo& io) {
  const Command& self = kMirrorCommand;
  bridge::MirrorOptions options;
  options.stream = redis.stream;
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
  absl::StatusOr<bridge::Mirror*> started =
      sink != nullptr ? bridge::Mirror::Start(loop.loop(), redis.redis, options, sink,
                                              std::move(callbacks))
                      : bridge::Mirror::Start(loop.loop(), redis.redis, options,
                                              std::move(open_sink), std::move(callbacks));
  if (!started.ok()) return ReportBridgeFailure(io, self, started.status());
  mirror = *started;
  if (!loop.Run([&] { stop(kExitOk); }, io, self) && exit_code == kExitOk) {
    exit_code = kExitFailure;
  }
  absl::FPrintF(io.out, "mirrored: %d\n", stats.mirrored);
  return exit_code;
}

// `shmio mirror` into a chain: DEST, a chain directory, is continued where
// it ends; with --chain, a DEST that holds no chain yet is created as one
// (files of `file_capacity` bytes) beginning at the stream's first position.
int RunIntoChain(const std::string& dest, bool chain_flag, uint64_t file_capacity,
                 const RedisFlags& redis, const CommandIo& io) {
  const Command& self = kMirrorCommand;
  struct stat info;
  if (::stat(dest.c_str(), &info) == 0 && !S_ISDIR(info.st_mode)) {
    return ReportUsageError(io, self,
                            absl::StrCat("--chain: ", dest,
                                         " is a file, not a chain directory: leave out --chain "
                                         "to continue it, or give another DEST"));
  }
  bridge::SinkOptions sink_options;
  sink_options.path = dest;
  // A capacity asks for creation; ChainWriter refuses one that is not the
  // existing chain's own.
  sink_options.chain_file_capacity = file_capacity;
  std::unique_ptr<bridge::LogSink> sink;
  GuardAgainstShrinkingFile(dest);
  int exit_code = kExitOk;
  if (!chain_flag || ChainHasFiles(dest)) {
    absl::StatusOr<std::unique_ptr<bridge::LogSink>> opened = bridge::OpenLogSink(sink_options);
    if (!opened.ok()) return ReportFailure(io, self, dest, opened.status());
    sink = *std::move(opened);
    exit_code = RunMirror(sink.get(), nullptr, redis, io);
  } else {
    if (file_capacity == 0) {
      return ReportUsageError(
          io, self, absl::StrCat(dest, " holds no chain yet: give --file-capacity=BYTES to create it"));
    }
    exit_code = RunMirror(
        nullptr,
        [&](uint64_t first_position) -> absl::StatusOr<bridge::LogSink*> {
          sink_options.first_position = first_position;
          absl::StatusOr<std::unique_ptr<bridge::LogSink>> opened =
              bridge::OpenLogSink(sink_options);
          if (!opened.ok()) return opened.status();
          sink = *std::move(opened);
          return sink.get();
        },
        redis, io);
  }
  uint64_t end = sink != nullptr ? sink->CommittedEnd() : 0;
  sink.reset();  // releases the chain's writer lock
  absl::FPrintF(io.out, "end_position: %d\n", end);
  return FinishOutput(io, self, exit_code);
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
  absl::StatusOr<std::optional<uint64_t>> file_capacity = parsed->Uint("file-capacity");
  if (!file_capacity.ok()) return ReportUsageError(io, self, file_capacity.status().message());
  const bool chain = parsed->Has("chain");
  if (file_capacity->has_value() && !chain) {
    return ReportUsageError(io, self,
                            "--file-capacity=BYTES goes with --chain (the size of each file of "
                            "the chain DEST is created as)");
  }
  if (chain && capacity->has_value()) {
    return ReportUsageError(io, self,
                            "--capacity=BYTES is for a single-file DEST; a chain takes "
                            "--chain --file-capacity=BYTES");
  }
  if (chain || shmio::IsDirectory(*dest)) {
    return RunIntoChain(*dest, chain, file_capacity->value_or(0), *redis, io);
  }

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

  int exit_code = RunMirror(sink->get(), nullptr, *redis, io);
  uint64_t end = (*sink)->CommittedEnd();
  sink->reset();  // releases the writer lock and the mapping
  if (exit_code != kExitOk && creating && end == 0) {
    // Bad input leaves nothing behind: this run made DEST and wrote nothing.
    ::unlink(dest->c_str());
  }
  absl::FPrintF(io.out, "end_position: %d\n", end);
  return FinishOutput(io, self, exit_code);
}

}  // namespace

const Command kMirrorCommand = {
    "mirror",
    "mirror --redis=HOST:PORT --stream=KEY DEST [--capacity=BYTES | --chain "
    "[--file-capacity=BYTES]] [--redis-password=PW]",
    "write every entry of a Redis stream written by `shmio publish` into the log DEST at its "
    "position (a file, created with --capacity when missing; or a chain directory, created "
    "with --chain --file-capacity at the stream's first position; continued where it ends), "
    "until SIGINT/SIGTERM",
    &Run,
};

}  // namespace shmio::cli
