#include "tools/stat_command.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "shmio/chain_directory.h"
#include "shmio/iterator.h"
#include "shmio/shared_memory.h"
#include "tools/flag_parser.h"
#include "tools/chain_snapshot.h"
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

// A JSON string: quotes, backslashes and control characters escaped (a
// path or a foreign file's name may hold any of them).
std::string JsonString(absl::string_view value) {
  std::string json = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') {
      absl::StrAppend(&json, "\\", std::string(1, c));
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&json, "\\u%04x", static_cast<unsigned char>(c));
    } else {
      json.push_back(c);
    }
  }
  return json + "\"";
}

Field Word(std::string key, absl::string_view value) {
  return {std::move(key), std::string(value), JsonString(value)};
}

// The fields as JSON members: "key":value,... (no braces).
std::string JsonMembers(const std::vector<Field>& fields) {
  std::string members;
  for (size_t i = 0; i < fields.size(); ++i) {
    absl::StrAppend(&members, i == 0 ? "" : ",", "\"", fields[i].key,
                    "\":", fields[i].json_value);
  }
  return members;
}

void Print(const CommandIo& io, const std::vector<Field>& fields, bool json) {
  if (!json) {
    for (const Field& field : fields) {
      absl::FPrintF(io.out, "%s: %s\n", field.key, field.text_value);
    }
    return;
  }
  absl::FPrintF(io.out, "{%s}\n", JsonMembers(fields));
}

// The writer field of a log (its lock's holder), or of a chain
// (writer.lock's): a pid, none, or unknown.
absl::StatusOr<Field> WriterField(const std::string& lock_path, bool missing_is_none) {
  absl::StatusOr<std::optional<pid_t>> writer = SharedMemory::WriterPid(lock_path);
  if (!writer.ok()) {
    // A chain that no writer ever opened has no writer.lock yet.
    if (missing_is_none && absl::IsNotFound(writer.status())) return Field{"writer", "none", "null"};
    return writer.status();
  }
  if (!writer->has_value()) return Field{"writer", "none", "null"};
  if (**writer == 0) return Word("writer", "unknown");
  return Number("writer", static_cast<uint64_t>(**writer));
}

// `stat DIR`: the chain's totals, then one line (an object) per file and
// per foreign entry; see the header. A chain that is not whole is listed up
// to the file with the problem, which is then reported (exit 1).
int RunChain(const CommandIo& io, const std::string& dir, bool json) {
  const Command& self = kStatCommand;
  absl::StatusOr<ChainSnapshot> chain = OpenChainSnapshot(
      dir, {.debug = DebugFromEnvironment(), .walk_frames = true});
  if (!chain.ok()) return ReportFailure(io, self, dir, chain.status());
  absl::StatusOr<Field> writer =
      WriterField(ChainPath(dir, kChainLockFileName), /*missing_is_none=*/true);
  if (!writer.ok()) return ReportFailure(io, self, dir, writer.status());

  const ChainSettings& settings = chain->settings;
  std::vector<Field> fields = {
      Word("chain", dir),
      Number("chain_id", settings.chain_id),
      Number("file_capacity", settings.file_capacity),
      Number("retain_files", settings.retain_files),
      Number("retain_bytes", settings.retain_bytes),
      Number("retain_seconds", settings.retain_seconds),
      Number("files", chain->chain_files.size()),
      Number("begin", chain->begin()),
      Number("committed", chain->end()),
      Number("frames", chain->frames()),
      Number("bytes", chain->end() - chain->begin()),
      *writer,
  };
  if (json) {
    std::string files;
    for (const ChainFileFacts& file : chain->chain_files) {
      absl::StrAppend(&files, files.empty() ? "" : ",", "{",
                      JsonMembers({Word("name", file.name), Number("base", file.base),
                                   Number("end", file.end),
                                   {"sealed", "", file.sealed ? "true" : "false"},
                                   Number("frames", file.frames)}),
                      "}");
    }
    std::string foreign;
    for (const std::string& name : chain->foreign) {
      absl::StrAppend(&foreign, foreign.empty() ? "" : ",", Word("", name).json_value);
    }
    absl::FPrintF(io.out, "{%s,\"file_list\":[%s],\"foreign\":[%s]}\n", JsonMembers(fields),
                  files, foreign);
  } else {
    Print(io, fields, /*json=*/false);
    for (const ChainFileFacts& file : chain->chain_files) {
      absl::FPrintF(io.out, "file %s: base=%d end=%d sealed=%s frames=%d\n", file.name,
                    file.base, file.end, file.sealed ? "yes" : "no", file.frames);
    }
    for (const std::string& name : chain->foreign) {
      absl::FPrintF(io.out, "foreign %s: ignored\n", name);
    }
  }
  if (!chain->problem.ok()) {
    std::fflush(io.out);  // the listing stays in order before the error
    return ReportFailure(io, self, dir, chain->problem);
  }
  return FinishOutput(io, self, kExitOk);
}

int Run(absl::Span<const std::string> args, const CommandIo& io) {
  const Command& self = kStatCommand;
  if (IsHelpRequest(args)) return PrintUsage(io, self);
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args, kFlags);
  if (!parsed.ok()) return ReportUsageError(io, self, parsed.status().message());
  absl::StatusOr<std::string> file = parsed->File();
  if (!file.ok()) return ReportUsageError(io, self, file.status().message());
  const std::string& path = *file;
  if (IsDirectory(path)) return RunChain(io, path, parsed->Has("json"));

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

  absl::StatusOr<Field> writer = WriterField(path, /*missing_is_none=*/false);
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
  fields.push_back(*writer);
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
    "stat FILE|DIR [--json]",
    "print the log's header, committed size, frame count, format and writer; for a "
    "chain (DIR), its totals and each file's base, end and sealed state",
    &Run,
};

}  // namespace shmio::cli
