#include "tools/readers_command.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "shmio/chain_consumer.h"
#include "shmio/chain_directory.h"
#include "shmio/chain_range.h"
#include "shmio/reader_table.h"
#include "tools/flag_parser.h"

namespace shmio::cli {
namespace {

constexpr FlagSpec kFlags[] = {
    {"json", false},
    {"remove", true},
    {"reset", true},
    {"to", true},
};

// What the chain holds past `position`, in frames; nullopt when the chain
// no longer holds `position` (retention removed it) or it is not a frame
// boundary.
std::optional<uint64_t> FramesAfter(const std::string& dir, uint64_t position, uint64_t end) {
  auto consumer = ChainConsumer::Open(dir, ChainStart{ChainStart::kPosition, position});
  if (!consumer.ok()) return std::nullopt;
  absl::StatusOr<ChainFrameRange> frames = (*consumer)->GetData(position);
  if (!frames.ok()) return std::nullopt;
  uint64_t count = 0;
  for (auto it = frames->begin(); it != frames->end() && it->position < end; ++it) ++count;
  if (!frames->status().ok()) return std::nullopt;
  return count;
}

std::string AckTime(uint64_t ns) {
  if (ns == 0) return "never";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixNanos(static_cast<int64_t>(ns)),
                          absl::UTCTimeZone());
}

std::string Describe(const NamedReaderInfo& r, uint64_t end, std::optional<uint64_t> frames,
                     bool json) {
  const bool known = frames.has_value();
  const uint64_t lag = end - std::min(end, r.position);
  if (json) {
    std::string out = absl::StrFormat(
        "{\"name\":\"%s\",\"position\":%d,\"lag_bytes\":%s,\"lag_frames\":%s,\"alive\":%s,"
        "\"pid\":%d,\"acked_at\":%s,\"dropped\":%s",
        r.name, r.position, known ? absl::StrCat(lag) : "null",
        known ? absl::StrCat(*frames) : "null", r.alive ? "true" : "false", r.pid,
        r.acked_at_ns == 0 ? "null" : absl::StrCat("\"", AckTime(r.acked_at_ns), "\""),
        r.dropped ? "true" : "false");
    if (r.dropped) absl::StrAppendFormat(&out, ",\"lost_from\":%d,\"resume_at\":%d", r.dropped_at, r.resume_at);
    return out + "}";
  }
  std::string out = absl::StrFormat(
      "%s position=%d lag_bytes=%s lag_frames=%s %s pid=%d acked_at=%s", r.name, r.position,
      known ? absl::StrCat(lag) : "unknown", known ? absl::StrCat(*frames) : "unknown",
      r.alive ? "alive" : "dead", r.pid, AckTime(r.acked_at_ns));
  if (r.dropped) absl::StrAppendFormat(&out, " dropped lost_from=%d resume_at=%d", r.dropped_at, r.resume_at);
  return out;
}

// `--remove NAME` as the contract spells it, and `--remove=NAME`
// as every other flag of the CLI: both, joined before parsing.
std::vector<std::string> JoinSpacedValues(absl::Span<const std::string> args) {
  std::vector<std::string> joined;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if ((arg == "--remove" || arg == "--reset" || arg == "--to") && i + 1 < args.size()) {
      joined.push_back(absl::StrCat(arg, "=", args[++i]));
    } else {
      joined.push_back(arg);
    }
  }
  return joined;
}

int Run(absl::Span<const std::string> raw_args, const CommandIo& io) {
  const Command& self = kReadersCommand;
  if (IsHelpRequest(raw_args)) return PrintUsage(io, self);
  const std::vector<std::string> args = JoinSpacedValues(raw_args);
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args, kFlags);
  if (!parsed.ok()) return ReportUsageError(io, self, parsed.status().message());
  absl::StatusOr<std::string> file = parsed->File();
  if (!file.ok()) return ReportUsageError(io, self, file.status().message());
  const std::string& dir = *file;
  if (parsed->Has("remove") && parsed->Has("reset")) {
    return ReportUsageError(io, self, "give --remove or --reset, not both");
  }
  if (parsed->Has("reset") != parsed->Has("to")) {
    return ReportUsageError(io, self, "--reset=NAME needs --to=POSITION (and --to needs --reset)");
  }
  absl::StatusOr<std::optional<uint64_t>> to = parsed->Uint("to");
  if (!to.ok()) return ReportUsageError(io, self, to.status().message());

  absl::StatusOr<ChainSettings> settings = ReadChainSettings(dir);
  if (!settings.ok()) return ReportFailure(io, self, dir, settings.status());
  absl::StatusOr<std::shared_ptr<ReaderTable>> table =
      ReaderTable::Open(dir, settings->chain_id, /*create=*/false);
  if (absl::IsNotFound(table.status()) && !parsed->Has("remove") && !parsed->Has("reset")) {
    absl::FPrintF(io.out, parsed->Has("json") ? "[]\n" : "");
    return FinishOutput(io, self, kExitOk);  // no named reader yet
  }
  if (!table.ok()) return ReportFailure(io, self, dir, table.status());

  if (std::optional<std::string> name = parsed->Value("remove")) {
    absl::Status removed = (*table)->Remove(*name);
    return removed.ok() ? kExitOk : ReportFailure(io, self, dir, removed);
  }
  if (std::optional<std::string> name = parsed->Value("reset")) {
    // Only to a frame boundary the chain holds (or its end).
    auto probe = ChainConsumer::Open(dir, ChainStart{ChainStart::kPosition, **to});
    if (!probe.ok()) return ReportFailure(io, self, dir, probe.status());
    absl::Status reset = (*table)->Reset(*name, **to);
    return reset.ok() ? kExitOk : ReportFailure(io, self, dir, reset);
  }

  absl::StatusOr<std::vector<NamedReaderInfo>> readers = (*table)->List();
  if (!readers.ok()) return ReportFailure(io, self, dir, readers.status());
  auto end_reader = ChainConsumer::Open(dir, ChainStart{ChainStart::kEnd});
  if (!end_reader.ok()) return ReportFailure(io, self, dir, end_reader.status());
  const uint64_t end = (*end_reader)->cursor();
  std::vector<std::string> lines;
  for (const NamedReaderInfo& reader : *readers) {
    lines.push_back(Describe(reader, end, FramesAfter(dir, reader.position, end), parsed->Has("json")));
  }
  if (parsed->Has("json")) {
    absl::FPrintF(io.out, "[%s]\n", absl::StrJoin(lines, ","));
  } else {
    for (const std::string& line : lines) absl::FPrintF(io.out, "%s\n", line);
  }
  return FinishOutput(io, self, kExitOk);
}

}  // namespace

const Command kReadersCommand = {
    "readers",
    "readers DIR [--json] | DIR --remove NAME | DIR --reset NAME --to=POSITION",
    "list a chain's named readers (position, lag, alive, pid, last "
    "acknowledgement); forget one, or move it",
    Run,
};

}  // namespace shmio::cli
