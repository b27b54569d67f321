#include "tools/tail_command.h"

#include <signal.h>
#include <uv.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "shmio/iterator.h"
#include "shmio/shared_memory.h"
#include "tools/flag_parser.h"
#include "tools/log_snapshot.h"
#include "tools/output_format.h"
#include "tools/sigbus_guard.h"
#include "uvwatch/subscription.h"

namespace shmio::cli {
namespace {

constexpr FlagSpec kFlags[] = {
    {"follow", false}, {"mode", true},   {"interval", true},
    {"from", true},    {"format", true}, {"cursor", false},
};

// Where to start, from --from.
struct From {
  uvwatch::Start start = uvwatch::Start::kBeginning;
  uint64_t cursor = 0;
};

absl::StatusOr<From> ParseFrom(const std::optional<std::string>& value) {
  From from;
  if (!value.has_value() || *value == "begin") return from;
  if (*value == "end") {
    from.start = uvwatch::Start::kEnd;
    return from;
  }
  if (!absl::SimpleAtoi(*value, &from.cursor)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--from=%s: expected begin, end or a cursor (a byte offset)", *value));
  }
  from.start = uvwatch::Start::kCursor;
  return from;
}

absl::StatusOr<uvwatch::Mode> ParseMode(const std::optional<std::string>& value) {
  if (!value.has_value() || *value == "auto") return uvwatch::Mode::kAuto;
  if (*value == "inotify") return uvwatch::Mode::kInotify;
  if (*value == "timer") return uvwatch::Mode::kTimer;
  return absl::InvalidArgumentError(
      absl::StrFormat("--mode=%s: expected auto, inotify or timer", *value));
}

// Prints what is committed now, from `from`, and returns the exit code.
int PrintCommitted(const std::string& path, const From& from,
                   FramePrinter& printer, const CommandIo& io) {
  const Command& self = kTailCommand;
  absl::StatusOr<LogSnapshot> log = OpenLogSnapshot(path, DebugFromEnvironment());
  if (!log.ok()) return ReportFailure(io, self, path, log.status());
  if (log->empty_log() || from.start == uvwatch::Start::kEnd) {
    return FinishOutput(io, self, kExitOk);
  }
  uint64_t start = log->data_offset;
  if (from.start == uvwatch::Start::kCursor) {
    absl::Status status = from.cursor < log->data_offset
                              ? absl::InvalidArgumentError(absl::StrFormat(
                                    "--from=%d is inside the header; the first "
                                    "frame is at %d",
                                    from.cursor, log->data_offset))
                              : log->consumer->Seek(from.cursor);
    if (!status.ok()) return ReportFailure(io, self, path, status);
    start = from.cursor;
  }
  FrameRange frames(*log->shm, start, log->committed, DebugFromEnvironment());
  for (const Frame& frame : frames) {
    if (!printer.Print(frame)) return FinishOutput(io, self, kExitFailure);
  }
  if (!frames.status().ok()) {
    std::fflush(io.out);
    return ReportFailure(io, self, path, frames.status());
  }
  return FinishOutput(io, self, kExitOk);
}

// Follows the log on a libuv loop until SIGINT/SIGTERM or an error. All of
// it runs on this thread, the loop's.
class Follower {
 public:
  Follower(const std::string& path, FramePrinter& printer, const CommandIo& io)
      : path_(path), printer_(printer), io_(io) {}

  int Run(const uvwatch::Options& options) {
    const Command& self = kTailCommand;
    // A log re-created smaller under the mapping is reported by uvwatch on
    // its next wake-up; a read racing with the truncation would fault.
    GuardAgainstShrinkingFile(path_);
    uv_loop_init(&loop_);
    auto subscription = uvwatch::Subscription::Open(
        &loop_, path_, options,
        [this](const shmio::Batch& batch) { OnBatch(batch); },
        [this](const absl::Status& error) { Stop(ReportFailure(io_, self, path_, error)); });
    if (!subscription.ok()) {
      absl::Status status = subscription.status();
      if (options.mode == uvwatch::Mode::kInotify &&
          absl::IsFailedPrecondition(status)) {
        status = absl::FailedPreconditionError(absl::StrFormat(
            "--mode=inotify: %s (run with --mode=auto or --mode=timer)",
            status.message()));
      }
      uv_run(&loop_, UV_RUN_NOWAIT);  // a half-made watcher may be closing
      uv_loop_close(&loop_);
      return ReportFailure(io_, self, path_, status);
    }
    subscription_ = *subscription;
    for (int i = 0; i < 2; ++i) {
      uv_signal_init(&loop_, &signals_[i]);
      signals_[i].data = this;
      uv_signal_start(&signals_[i], &Follower::OnSignal, i == 0 ? SIGINT : SIGTERM);
    }
    uv_run(&loop_, UV_RUN_DEFAULT);  // until every handle is closed
    int closed = uv_loop_close(&loop_);
    if (closed != 0 && exit_code_ == kExitOk) {
      absl::FPrintF(io_.err, "shmio tail: uv_loop_close: %s\n", uv_strerror(closed));
      exit_code_ = kExitFailure;
    }
    return exit_code_;
  }

 private:
  void OnBatch(const shmio::Batch& batch) {
    for (const Frame& frame : batch.frames) {
      if (!printer_.Print(frame)) {
        Stop(FinishOutput(io_, kTailCommand, kExitFailure));
        return;
      }
    }
    if (!batch.frames.status().ok()) {
      std::fflush(io_.out);
      Stop(ReportFailure(io_, kTailCommand, path_, batch.frames.status()));
      return;
    }
    // Each batch reaches a pipe or file as it arrives.
    int flushed = FinishOutput(io_, kTailCommand, kExitOk);
    if (flushed != kExitOk) Stop(flushed);
  }

  static void OnSignal(uv_signal_t* handle, int signum) {
    static_cast<Follower*>(handle->data)->Stop(kExitOk);
  }

  // Closes every handle; uv_run returns once their close callbacks ran.
  void Stop(int exit_code) {
    if (stopping_) return;
    stopping_ = true;
    exit_code_ = exit_code;
    subscription_->Close();
    for (uv_signal_t& signal : signals_) {
      uv_close(reinterpret_cast<uv_handle_t*>(&signal), nullptr);
    }
  }

  const std::string& path_;
  FramePrinter& printer_;
  const CommandIo& io_;
  uv_loop_t loop_;
  uv_signal_t signals_[2];  // SIGINT, SIGTERM
  uvwatch::Subscription* subscription_ = nullptr;  // owned by the loop
  bool stopping_ = false;
  int exit_code_ = kExitOk;
};

int Run(absl::Span<const std::string> args, const CommandIo& io) {
  const Command& self = kTailCommand;
  if (IsHelpRequest(args)) return PrintUsage(io, self);
  // -f is tail's traditional spelling of --follow.
  std::vector<std::string> normalized(args.begin(), args.end());
  for (std::string& arg : normalized) {
    if (arg == "--") break;
    if (arg == "-f") arg = "--follow";
  }
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(normalized, kFlags);
  if (!parsed.ok()) return ReportUsageError(io, self, parsed.status().message());
  absl::StatusOr<std::string> file = parsed->File();
  if (!file.ok()) return ReportUsageError(io, self, file.status().message());
  const std::string& path = *file;
  absl::StatusOr<OutputFormat> format =
      ParseOutputFormat(parsed->Value("format").value_or("hex"));
  if (!format.ok()) return ReportUsageError(io, self, format.status().message());
  absl::StatusOr<From> from = ParseFrom(parsed->Value("from"));
  if (!from.ok()) return ReportUsageError(io, self, from.status().message());
  absl::StatusOr<uvwatch::Mode> mode = ParseMode(parsed->Value("mode"));
  if (!mode.ok()) return ReportUsageError(io, self, mode.status().message());
  absl::StatusOr<std::optional<uint64_t>> interval = parsed->Uint("interval");
  if (!interval.ok()) return ReportUsageError(io, self, interval.status().message());
  if (interval->has_value() && **interval == 0) {
    return ReportUsageError(io, self, "--interval must be at least 1 (ms)");
  }

  FramePrinter printer(io.out, *format, parsed->Has("cursor"));
  if (!parsed->Has("follow")) return PrintCommitted(path, *from, printer, io);

  uvwatch::Options options;
  options.mode = *mode;
  options.poll_interval_ms = interval->value_or(10);
  options.start = from->start;
  options.cursor = from->cursor;
  Follower follower(path, printer, io);
  return follower.Run(options);
}

}  // namespace

const Command kTailCommand = {
    "tail",
    "tail FILE [-f] [--mode=auto|inotify|timer] [--interval=MS] "
    "[--from=begin|end|CURSOR] [--format=hex|text|json] [--cursor]",
    "print committed payloads like dump; with -f keep following new ones "
    "(libuv; inotify woken by the writer's doorbell, or polling) until "
    "SIGINT/SIGTERM",
    &Run,
};

}  // namespace shmio::cli
