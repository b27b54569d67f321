// A small per-subcommand parser for `--key=value` and `--switch` flags.
//
// Why not Abseil flags: they are process-global, so every subcommand would
// accept every other subcommand's flags, and a bad flag makes
// absl::ParseCommandLine exit with status 1, while the CLI's contract says a
// usage error exits 2. Each subcommand instead declares the flags it takes
// and gets a usage error (exit 2) for anything else.
#ifndef SHMIO_TOOLS_FLAG_PARSER_H_
#define SHMIO_TOOLS_FLAG_PARSER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace shmio::cli {

// One flag a subcommand accepts.
struct FlagSpec {
  absl::string_view name;  // without the dashes: "from"
  bool takes_value;       // true: --from=N; false: --json
};

// The parsed command line of one subcommand.
class ParsedArgs {
 public:
  // The one FILE of a command that takes exactly one; InvalidArgument (a
  // usage error) when there are none or several.
  absl::StatusOr<std::string> File() const;

  // True when the flag was given.
  bool Has(absl::string_view name) const;

  // The flag's value, or nullopt when it was not given.
  std::optional<std::string> Value(absl::string_view name) const;

  // The flag's value as a decimal unsigned integer, nullopt when absent.
  // InvalidArgument naming the flag when it is not a number.
  absl::StatusOr<std::optional<uint64_t>> Uint(absl::string_view name) const;

 private:
  friend absl::StatusOr<ParsedArgs> ParseArgs(absl::Span<const std::string>,
                                              absl::Span<const FlagSpec>);
  std::vector<std::string> positional_;
  std::map<std::string, std::string, std::less<>> values_;
};

// Parses `text`, the value of --`flag`, as a decimal unsigned integer:
// digits only (no sign, no spaces). InvalidArgument naming the flag
// otherwise. The one parser of numbers and cursors on the command line.
absl::StatusOr<uint64_t> ParseUnsigned(absl::string_view flag,
                                       absl::string_view text);

// Parses `args` against `specs`. Accepts `--name=value` for value flags,
// `--name` for switches, and `--` to end the flags. InvalidArgument (a
// usage error) for an unknown flag, a missing or unexpected value, or a flag
// given twice. `-h`/`--help` are left to the caller (see IsHelpRequest).
absl::StatusOr<ParsedArgs> ParseArgs(absl::Span<const std::string> args,
                                     absl::Span<const FlagSpec> specs);

// True when `args` asks for help (`--help` or `-h` before any `--`).
bool IsHelpRequest(absl::Span<const std::string> args);

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_FLAG_PARSER_H_
