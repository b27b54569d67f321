#include "tools/tail_command.h"

#include <signal.h>
#include <uv.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "shmio/chain_consumer.h"
#include "shmio/chain_directory.h"
#include "shmio/chain_range.h"
#include "shmio/iterator.h"
#include "shmio/shared_memory.h"
#include "tools/flag_parser.h"
#include "tools/log_snapshot.h"
#include "tools/output_format.h"
#include "tools/sigbus_guard.h"
#include "tools/uv_loop_init.h"
#include "uvwatch/subscription.h"

namespace shmio::cli {
namespace {

constexpr FlagSpec kFlags[] = {
    {"follow", false}, {"mode", true},   {"interval", true},
    {"from", true},    {"format", true}, {"cursor", false},
    {"name", true},
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
  absl::StatusOr<uint64_t> cursor = ParseUnsigned("from", *value);
  if (!cursor.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--from=%s: expected begin, end or a cursor (a byte offset in a file, a "
        "position in a chain)",
        *value));
  }
  from.start = uvwatch::Start::kCursor;
  from.cursor = *cursor;
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
    absl::Status status = CheckCursor(*log, "from", from.cursor);
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

// Prints what a chain (a directory) holds now, from `from`, across its
// files, and returns the exit code. Cursors are chain positions.
int PrintChainCommitted(const std::string& directory, const From& from,
                        FramePrinter& printer, const CommandIo& io) {
  const Command& self = kTailCommand;
  ChainStart start;
  if (from.start == uvwatch::Start::kEnd) start.kind = ChainStart::kEnd;
  if (from.start == uvwatch::Start::kCursor) start = {ChainStart::kPosition, from.cursor};
  absl::StatusOr<std::unique_ptr<ChainConsumer>> chain =
      ChainConsumer::Open(directory, start, DebugFromEnvironment());
  // Unavailable: no file yet, so nothing committed (as an empty log).
  if (absl::IsUnavailable(chain.status()) && from.start != uvwatch::Start::kCursor) {
    return FinishOutput(io, self, kExitOk);
  }
  if (!chain.ok()) return ReportFailure(io, self, directory, chain.status());
  absl::StatusOr<ChainFrameRange> frames = (*chain)->GetData();
  if (!frames.ok()) return ReportFailure(io, self, directory, frames.status());
  for (const ChainFrame& frame : *frames) {
    if (!printer.Print(frame.payload, frame.position)) {
      return FinishOutput(io, self, kExitFailure);
    }
  }
  if (!frames->status().ok()) {
    std::fflush(io.out);
    return ReportFailure(io, self, directory, frames->status());
  }
  return FinishOutput(io, self, kExitOk);
}

// As the named reader `name` of a chain: prints what it holds now from the
// name's acknowledged position (`from` for a new name) to the committed end
// seen at the start, then acknowledges it once it is flushed to the output.
int PrintNamedCommitted(const std::string& directory, const std::string& name,
                        const From& from, FramePrinter& printer, const CommandIo& io) {
  const Command& self = kTailCommand;
  ChainStart start;
  if (from.start == uvwatch::Start::kEnd) start.kind = ChainStart::kEnd;
  if (from.start == uvwatch::Start::kCursor) start = {ChainStart::kPosition, from.cursor};
  absl::StatusOr<std::unique_ptr<ChainConsumer>> chain =
      ChainConsumer::OpenNamed(directory, name, start, DebugFromEnvironment());
  // Unavailable: no file yet, so nothing to print or acknowledge.
  if (absl::IsUnavailable(chain.status()) && from.start != uvwatch::Start::kCursor) {
    return FinishOutput(io, self, kExitOk);
  }
  if (!chain.ok()) return ReportFailure(io, self, directory, chain.status());
  absl::StatusOr<ChainFrameRange> frames = (*chain)->GetData();
  if (!frames.ok()) return ReportFailure(io, self, directory, frames.status());
  // Next(), not the range, so that a reader the writer dropped hears so.
  while ((*chain)->cursor() < frames->to()) {
    absl::StatusOr<Batch> batch = (*chain)->Next();
    if (!batch.ok()) return ReportFailure(io, self, directory, batch.status());
    if (batch->empty()) break;
    for (const Frame& frame : batch->frames) {
      if (!printer.Print(frame.payload, batch->CursorOf(frame))) {
        return FinishOutput(io, self, kExitFailure);
      }
    }
    if (!batch->frames.status().ok()) {
      std::fflush(io.out);
      return ReportFailure(io, self, directory, batch->frames.status());
    }
  }
  // Acknowledged only once the output has it.
  int flushed = FinishOutput(io, self, kExitOk);
  if (flushed != kExitOk) return flushed;
  absl::Status acked = (*chain)->Ack();
  if (!acked.ok()) return ReportFailure(io, self, directory, acked);
  return kExitOk;
}

// How often a follower looks again at a log that is being created.
constexpr uint64_t kCreationRetryMs = 20;

// Follows the log on a libuv loop until SIGINT/SIGTERM or an error. All of
// it runs on this thread, the loop's. Every libuv call that can fail is
// checked: out of descriptors (`prlimit --nofile`) is an error and exit 1,
// never a crash.
class Follower {
 public:
  Follower(const std::string& path, const From& from, FramePrinter& printer,
           const CommandIo& io)
      : path_(path), from_(from), printer_(printer), io_(io) {}

  int Run(uvwatch::Options options) {
    options_ = std::move(options);
    options_.on_notice = [this](const absl::Status& notice) {
      absl::FPrintF(io_.err, "shmio tail: notice: %s\n", notice.message());
    };
    // A log re-created smaller under the mapping is reported by uvwatch on
    // its next wake-up; a read racing with the truncation would fault.
    GuardAgainstShrinkingFile(path_);
    absl::Status loop = InitLoop(&loop_);
    if (!loop.ok()) return ReportFailure(io_, kTailCommand, path_, loop);
    absl::Status ready = InitHandles();
    if (ready.ok()) ready = TryToFollow();
    if (!ready.ok()) {
      Stop(ReportFailure(io_, kTailCommand, path_, ready));
    }
    uv_run(&loop_, UV_RUN_DEFAULT);  // until every handle is closed
    int closed = uv_loop_close(&loop_);
    if (closed != 0 && exit_code_ == kExitOk) {
      exit_code_ = Failed(absl::StrFormat("uv_loop_close: %s", uv_strerror(closed)));
    }
    return exit_code_;
  }

 private:
  int Failed(const std::string& what) {
    absl::FPrintF(io_.err, "shmio tail: %s: %s\n", path_, what);
    return kExitFailure;
  }

  // The signal handles and the retry timer. Each one that was initialised
  // is closed by Stop(); uv_signal_init needs a descriptor (its pipe).
  absl::Status InitHandles() {
    for (int i = 0; i < 2; ++i) {
      int r = uv_signal_init(&loop_, &signals_[i]);
      if (r != 0) {
        return absl::ResourceExhaustedError(absl::StrFormat(
            "uv_signal_init: %s (out of file descriptors? raise `ulimit -n`)",
            uv_strerror(r)));
      }
      ++signals_initialised_;
      signals_[i].data = this;
      r = uv_signal_start(&signals_[i], &Follower::OnSignal, i == 0 ? SIGINT : SIGTERM);
      if (r != 0) {
        return absl::InternalError(absl::StrFormat("uv_signal_start: %s", uv_strerror(r)));
      }
    }
    uv_timer_init(&loop_, &retry_);  // cannot fail: it only links the handle
    retry_.data = this;
    timer_initialised_ = true;
    return absl::OkStatus();
  }

  // Opens the subscription, or waits for a log that is being created.
  absl::Status TryToFollow() {
    // A chain's subscription waits for a file by itself, and checks a
    // position given with --from when it opens.
    if (IsDirectory(path_)) {
      return Subscribe(uvwatch::Subscription::OpenChain(&loop_, path_, options_,
                                                        OnBatchCallback(), OnErrorCallback()));
    }
    absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
        SharedMemory::Open(Options{.path = path_});
    if (absl::IsUnavailable(shm.status())) {
      // Being created: its writer is still reserving the space.
      if (!said_waiting_) {
        said_waiting_ = true;
        absl::FPrintF(io_.err, "shmio tail: %s; waiting\n", shm.status().message());
      }
      uv_timer_start(&retry_, &Follower::OnRetry, kCreationRetryMs, 0);
      return absl::OkStatus();
    }
    if (!shm.ok()) return shm.status();
    if (from_.start == uvwatch::Start::kCursor) {
      // Cursors mean the same with and without -f (see CheckCursor).
      absl::Status status =
          CheckCursorOutsideHeader((*shm)->ReadHeader(), "from", from_.cursor);
      if (!status.ok()) return status;
    }
    shm_ = *std::move(shm);
    return Subscribe(uvwatch::Subscription::Open(&loop_, shm_.get(), options_,
                                                 OnBatchCallback(), OnErrorCallback()));
  }

  uvwatch::Subscription::BatchCallback OnBatchCallback() {
    return [this](const shmio::Batch& batch) { OnBatch(batch); };
  }

  uvwatch::Subscription::ErrorCallback OnErrorCallback() {
    return [this](const absl::Status& error) {
      Stop(ReportFailure(io_, kTailCommand, path_, error));
    };
  }

  // Keeps the subscription Open() or OpenChain() made, or says why there is
  // none.
  absl::Status Subscribe(absl::StatusOr<uvwatch::Subscription*> subscription) {
    if (!subscription.ok()) {
      // The library's advice in the CLI's words, said once.
      return absl::Status(
          subscription.status().code(),
          absl::StrReplaceAll(subscription.status().message(),
                              {{uvwatch::kPollInsteadHint,
                                "run with --mode=auto or --mode=timer"}}));
    }
    subscription_ = *subscription;
    return absl::OkStatus();
  }

  static void OnRetry(uv_timer_t* timer) {
    auto* self = static_cast<Follower*>(timer->data);
    absl::Status status = self->TryToFollow();
    if (!status.ok()) self->Stop(ReportFailure(self->io_, kTailCommand, self->path_, status));
  }

  void OnBatch(const shmio::Batch& batch) {
    for (const Frame& frame : batch.frames) {
      // The frame's cursor: its offset, or in a chain its position.
      if (!printer_.Print(frame.payload, batch.CursorOf(frame))) {
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
    if (flushed != kExitOk) {
      Stop(flushed);
      return;
    }
    // A named reader acknowledges only what the output has (auto_ack is
    // off): killed before this, it prints the batch again when restarted.
    if (!options_.reader_name.empty()) {
      absl::Status acked = subscription_->Ack(batch.next_cursor);
      if (!acked.ok()) Stop(ReportFailure(io_, kTailCommand, path_, acked));
    }
  }

  static void OnSignal(uv_signal_t* handle, int signum) {
    static_cast<Follower*>(handle->data)->Stop(kExitOk);
  }

  // Closes every handle; uv_run returns once their close callbacks ran.
  void Stop(int exit_code) {
    if (stopping_) return;
    stopping_ = true;
    exit_code_ = exit_code;
    if (subscription_ != nullptr) subscription_->Close();
    for (int i = 0; i < signals_initialised_; ++i) {
      uv_close(reinterpret_cast<uv_handle_t*>(&signals_[i]), nullptr);
    }
    if (timer_initialised_) uv_close(reinterpret_cast<uv_handle_t*>(&retry_), nullptr);
  }

  const std::string& path_;
  const From from_;
  FramePrinter& printer_;
  const CommandIo& io_;
  uvwatch::Options options_;
  uv_loop_t loop_;
  uv_signal_t signals_[2];  // SIGINT, SIGTERM
  int signals_initialised_ = 0;
  uv_timer_t retry_;        // retries opening a log being created
  bool timer_initialised_ = false;
  bool said_waiting_ = false;
  // Declared before subscription_: the subscription borrows it, and the
  // loop has closed the subscription before the Follower goes.
  std::unique_ptr<SharedMemory> shm_;
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

  const std::optional<std::string> name = parsed->Value("name");
  if (name.has_value() && !IsDirectory(path)) {
    return ReportUsageError(
        io, self,
        absl::StrFormat("--name=%s needs a chain directory: %s is not one (a single log "
                        "file has no named readers)",
                        *name, path));
  }

  FramePrinter printer(io.out, *format, parsed->Has("cursor"));
  if (!parsed->Has("follow")) {
    if (name.has_value()) return PrintNamedCommitted(path, *name, *from, printer, io);
    if (IsDirectory(path)) return PrintChainCommitted(path, *from, printer, io);
    return PrintCommitted(path, *from, printer, io);
  }

  uvwatch::Options options;
  options.mode = *mode;
  options.poll_interval_ms = interval->value_or(10);
  options.start = from->start;
  options.cursor = from->cursor;
  if (name.has_value()) {
    options.reader_name = *name;
    options.auto_ack = false;  // OnBatch acknowledges after the flush
  }
  Follower follower(path, *from, printer, io);
  return follower.Run(std::move(options));
}

}  // namespace

const Command kTailCommand = {
    "tail",
    "tail FILE|DIR [-f] [--mode=auto|inotify|timer] [--interval=MS] "
    "[--from=begin|end|CURSOR] [--format=hex|text|json] [--cursor] [--name=NAME]",
    "print committed payloads like dump (of a file, or a chain's directory "
    "across its files); with -f keep following new ones, across a chain's "
    "rolls (libuv; inotify woken by the writer's doorbell, or polling) until "
    "SIGINT/SIGTERM; --name=NAME (a chain only) reads as that named reader: "
    "from its acknowledged position (--from only for a new name), "
    "acknowledging each batch once it is flushed to stdout, so a restart "
    "with the name goes on after the last acknowledged frame",
    &Run,
};

}  // namespace shmio::cli
