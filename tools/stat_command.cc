#include "tools/stat_command.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "shmio/iterator.h"
#include "shmio/shared_memory.h"
#include "tools/flag_parser.h"
#include "tools/log_snapshot.h"

namespace shmio::cli {
namespace {

constexpr FlagSpec kFlags[] = {{"json", false}};

// One line of the report. `json_value` is already JSON (a number, a string
// with quotes, or null).
struct Field {
  std::string key;
  std::string text_value;
  std::string json_value;
};

Field Number(std::string key, uint64_t value) {
  std::string text = absl::StrCat(value);
  return {std::move(key), text, text};
}

Field Word(std::string key, absl::string_view value) {
  return {std::move(key), std::string(value), absl::StrCat("\"", value, "\"")};
}

void Print(const CommandIo& io, const std::vector<Field>& fields, bool json) {
  if (!json) {
    for (const Field& field : fields) {
      absl::FPrintF(io.out, "%s: %s\n", field.key, field.text_value);
    }
    return;
  }
  std::string line = "{";
  for (size_t i = 0; i < fields.size(); ++i) {
    absl::StrAppend(&line, i == 0 ? "" : ",", "\"", fields[i].key,
                    "\":", fields[i].json_value);
  }
  absl::FPrintF(io.out, "%s}\n", line);
}

int Run(absl::Span<const std::string> args, const CommandIo& io) {
  const Command& self = kStatCommand;
  if (IsHelpRequest(args)) return PrintUsage(io, self);
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args, kFlags);
  if (!parsed.ok()) return ReportUsageError(io, self, parsed.status().message());
  absl::StatusOr<std::string> file = parsed->File();
  if (!file.ok()) return ReportUsageError(io, self, file.status().message());
  const std::string& path = *file;

  absl::StatusOr<LogSnapshot> log = OpenLogSnapshot(path, DebugFromEnvironment());
  if (!log.ok()) return ReportFailure(io, self, path, log.status());

  uint64_t frames = 0;
  if (!log->empty_log()) {
    FrameRange range(*log->shm, log->data_offset, log->committed);
    for (const Frame& frame : range) {
      (void)frame;
      ++frames;
    }
    if (!range.status().ok()) return ReportFailure(io, self, path, range.status());
  }

  absl::StatusOr<std::optional<pid_t>> writer = SharedMemory::WriterPid(path);
  if (!writer.ok()) return ReportFailure(io, self, path, writer.status());

  const HeaderSnapshot& header = log->header;
  uint64_t capacity = log->shm->capacity();
  double used_percent = 0;
  if (!log->empty_log() && capacity > log->data_offset) {
    used_percent = 100.0 * static_cast<double>(log->committed - log->data_offset) /
                   static_cast<double>(capacity - log->data_offset);
  }
  std::string percent = absl::StrFormat("%.2f", used_percent);

  std::vector<Field> fields = {
      Number("header_size", header.header_size),
      Number("data_offset", log->data_offset),
      Number("committed", log->committed),
      Number("capacity", capacity),
      Number("frames", frames),
      {"used_percent", percent, percent},
      Word("format", FileFormatName(header.format)),
  };
  if (!writer->has_value()) {
    fields.push_back({"writer", "none", "null"});
  } else if (**writer == 0) {
    fields.push_back(Word("writer", "unknown"));
  } else {
    fields.push_back(Number("writer", static_cast<uint64_t>(**writer)));
  }
  const std::optional<Geometry>& geometry = header.geometry;
  if (geometry.has_value()) {
    fields.push_back(Number("size", geometry->size));
    fields.push_back(Number("num", geometry->num));
    fields.push_back(Number("overlap", geometry->overlap));
  }
  Print(io, fields, parsed->Has("json"));
  return FinishOutput(io, self, kExitOk);
}

}  // namespace

const Command kStatCommand = {
    "stat",
    "stat FILE [--json]",
    "print the log's header, committed size, frame count, format and writer",
    &Run,
};

}  // namespace shmio::cli
