#include "tools/dump_command.h"

#include <optional>
#include <string>

#include "absl/strings/str_format.h"
#include "shmio/chain_directory.h"
#include "shmio/chain_range.h"
#include "shmio/iterator.h"
#include "shmio/shared_memory.h"
#include "tools/chain_snapshot.h"
#include "tools/flag_parser.h"
#include "tools/log_snapshot.h"
#include "tools/output_format.h"

namespace shmio::cli {
namespace {

constexpr FlagSpec kFlags[] = {
    {"from", true},     {"to", true},       {"format", true},
    {"cursor", false},  {"reverse", false}, {"debug", false},
};

// A frame to print: a file's (its offset is the cursor) or a chain's (its
// position is).
const Frame& AsFrame(const Frame& frame) { return frame; }
Frame AsFrame(const ChainFrame& frame) { return Frame{frame.position, frame.payload}; }

// Prints every frame of `range` (FrameRange, ReverseFrameRange or their
// chain twins). Returns the range's status, or an error when the output
// failed.
template <typename Range>
absl::Status PrintAll(Range& range, FramePrinter& printer) {
  for (const auto& frame : range) {
    if (!printer.Print(AsFrame(frame))) {
      return absl::UnavailableError("writing the output failed");
    }
  }
  return range.status();
}

// The exit code once PrintAll() returned `printed` for the log or chain at
// `path`.
int FinishDump(const CommandIo& io, const std::string& path, const absl::Status& printed) {
  const Command& self = kDumpCommand;
  if (absl::IsUnavailable(printed)) return FinishOutput(io, self, kExitFailure);
  if (!printed.ok()) {
    std::fflush(io.out);  // what was printed stays in order before the error
    return ReportFailure(io, self, path, printed);
  }
  return FinishOutput(io, self, kExitOk);
}

// `dump DIR`: the frames of a chain across its files, cursors as positions.
// The chain is checked whole first (nothing printed when it is not).
int RunChain(const CommandIo& io, const std::string& dir, const ParsedArgs& parsed,
             OutputFormat format, std::optional<uint64_t> from_flag,
             std::optional<uint64_t> to_flag, bool debug) {
  const Command& self = kDumpCommand;
  absl::StatusOr<ChainSnapshot> chain = OpenChainSnapshot(dir, {.debug = debug});
  if (!chain.ok()) return ReportFailure(io, self, dir, chain.status());
  if (!chain->problem.ok()) return ReportFailure(io, self, dir, chain->problem);
  if (to_flag.has_value()) {
    absl::Status status = CheckChainPosition(*chain, "to", *to_flag, debug);
    if (!status.ok()) return ReportFailure(io, self, dir, status);
  }
  if (from_flag.has_value()) {
    absl::Status status = CheckChainPosition(*chain, "from", *from_flag, debug);
    if (!status.ok()) return ReportFailure(io, self, dir, status);
  }
  if (chain->chain_files.empty()) return FinishOutput(io, self, kExitOk);
  const uint64_t from = from_flag.value_or(chain->begin());
  const uint64_t to = to_flag.value_or(chain->end());

  FramePrinter printer(io.out, format, parsed.Has("cursor"));
  absl::Status printed;
  if (parsed.Has("reverse")) {
    ReverseChainFrameRange range(chain->files, from, to);
    printed = PrintAll(range, printer);
  } else {
    ChainFrameRange range(chain->files, from, to);
    printed = PrintAll(range, printer);
  }
  return FinishDump(io, dir, printed);
}

int Run(absl::Span<const std::string> args, const CommandIo& io) {
  const Command& self = kDumpCommand;
  if (IsHelpRequest(args)) return PrintUsage(io, self);
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args, kFlags);
  if (!parsed.ok()) return ReportUsageError(io, self, parsed.status().message());
  absl::StatusOr<std::string> file = parsed->File();
  if (!file.ok()) return ReportUsageError(io, self, file.status().message());
  const std::string& path = *file;
  absl::StatusOr<OutputFormat> format =
      ParseOutputFormat(parsed->Value("format").value_or("hex"));
  if (!format.ok()) return ReportUsageError(io, self, format.status().message());
  absl::StatusOr<std::optional<uint64_t>> from_flag = parsed->Uint("from");
  if (!from_flag.ok()) return ReportUsageError(io, self, from_flag.status().message());
  absl::StatusOr<std::optional<uint64_t>> to_flag = parsed->Uint("to");
  if (!to_flag.ok()) return ReportUsageError(io, self, to_flag.status().message());
  if (from_flag->has_value() && to_flag->has_value() && **from_flag > **to_flag) {
    return ReportUsageError(
        io, self, absl::StrFormat("--from=%d is after --to=%d", **from_flag,
                                  **to_flag));
  }
  bool debug = parsed->Has("debug") || DebugFromEnvironment();
  if (IsDirectory(path)) {
    return RunChain(io, path, *parsed, *format, *from_flag, *to_flag, debug);
  }

  absl::StatusOr<LogSnapshot> log = OpenLogSnapshot(path, debug);
  if (!log.ok()) return ReportFailure(io, self, path, log.status());
  if (to_flag->has_value()) {
    absl::Status status = CheckCursor(*log, "to", **to_flag);
    if (!status.ok()) return ReportFailure(io, self, path, status);
  }
  if (from_flag->has_value()) {
    absl::Status status = CheckCursor(*log, "from", **from_flag);
    if (!status.ok()) return ReportFailure(io, self, path, status);
  }
  // No writer has initialised an empty file: no frames.
  if (log->empty_log()) return FinishOutput(io, self, kExitOk);
  uint64_t from = from_flag->value_or(log->data_offset);
  uint64_t to = to_flag->value_or(log->committed);

  FramePrinter printer(io.out, *format, parsed->Has("cursor"));
  absl::Status printed;
  if (parsed->Has("reverse")) {
    ReverseFrameRange range(*log->shm, from, to, debug);
    printed = PrintAll(range, printer);
  } else {
    FrameRange range(*log->shm, from, to, debug);
    printed = PrintAll(range, printer);
  }
  return FinishDump(io, path, printed);
}

}  // namespace

const Command kDumpCommand = {
    "dump",
    "dump FILE|DIR [--from=CURSOR] [--to=CURSOR] [--format=hex|text|json] "
    "[--cursor] [--reverse] [--debug]",
    "print every committed payload in [from, to), one per line; for a chain (DIR), "
    "across its files, cursors being positions",
    &Run,
};

}  // namespace shmio::cli
