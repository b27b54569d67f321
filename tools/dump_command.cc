#include "tools/dump_command.h"

#include <optional>
#include <string>

#include "absl/strings/str_format.h"
#include "shmio/iterator.h"
#include "shmio/shared_memory.h"
#include "tools/flag_parser.h"
#include "tools/log_snapshot.h"
#include "tools/output_format.h"

namespace shmio::cli {
namespace {

constexpr FlagSpec kFlags[] = {
    {"from", true},     {"to", true},       {"format", true},
    {"cursor", false},  {"reverse", false}, {"debug", false},
};

// Prints every frame of `range` (FrameRange or ReverseFrameRange). Returns
// the range's status, or an error when the output failed.
template <typename Range>
absl::Status PrintAll(Range& range, FramePrinter& printer) {
  for (const Frame& frame : range) {
    if (!printer.Print(frame)) {
      return absl::UnavailableError("writing the output failed");
    }
  }
  return range.status();
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
  if (absl::IsUnavailable(printed)) return FinishOutput(io, self, kExitFailure);
  if (!printed.ok()) {
    std::fflush(io.out);  // what was printed stays in order before the error
    return ReportFailure(io, self, path, printed);
  }
  return FinishOutput(io, self, kExitOk);
}

}  // namespace

const Command kDumpCommand = {
    "dump",
    "dump FILE [--from=CURSOR] [--to=CURSOR] [--format=hex|text|json] "
    "[--cursor] [--reverse] [--debug]",
    "print every committed payload in [from, to), one per line",
    &Run,
};

}  // namespace shmio::cli
