#include "tools/flag_parser.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace shmio::cli {

bool ParsedArgs::Has(absl::string_view name) const {
  return values_.find(name) != values_.end();
}

std::optional<std::string> ParsedArgs::Value(absl::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::string> ParsedArgs::File() const {
  if (positional_.size() != 1) {
    return absl::InvalidArgumentError("expected exactly one FILE");
  }
  return positional_[0];
}

absl::StatusOr<uint64_t> ParseUnsigned(absl::string_view flag,
                                       absl::string_view text) {
  uint64_t value = 0;
  // SimpleAtoi accepts a leading '+' and spaces; a flag value is digits only.
  bool digits_only = !text.empty() &&
                     text.find_first_not_of("0123456789") == absl::string_view::npos;
  if (!digits_only || !absl::SimpleAtoi(text, &value)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--%s=%s is not a non-negative decimal integer", flag, text));
  }
  return value;
}

absl::StatusOr<std::optional<uint64_t>> ParsedArgs::Uint(
    absl::string_view name) const {
  std::optional<std::string> text = Value(name);
  if (!text.has_value()) return std::optional<uint64_t>();
  absl::StatusOr<uint64_t> value = ParseUnsigned(name, *text);
  if (!value.ok()) return value.status();
  return std::optional<uint64_t>(*value);
}

absl::StatusOr<ParsedArgs> ParseArgs(absl::Span<const std::string> args,
                                     absl::Span<const FlagSpec> specs) {
  ParsedArgs parsed;
  bool flags_ended = false;
  for (const std::string& arg : args) {
    if (flags_ended || arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      if (!flags_ended && arg.size() > 1 && arg[0] == '-') {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown flag ", arg, " (flags are --name[=value])"));
      }
      parsed.positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_ended = true;
      continue;
    }
    absl::string_view body = absl::string_view(arg).substr(2);
    size_t equals = body.find('=');
    absl::string_view name = body.substr(0, equals);
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& candidate : specs) {
      if (candidate.name == name) spec = &candidate;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (spec->takes_value && equals == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--%s needs a value: --%s=VALUE", name, name));
    }
    if (!spec->takes_value && equals != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--%s takes no value (got %s)", name, arg));
    }
    std::string value = equals == absl::string_view::npos
                            ? std::string()
                            : std::string(body.substr(equals + 1));
    if (!parsed.values_.emplace(std::string(name), std::move(value)).second) {
      return absl::InvalidArgumentError(
          absl::StrFormat("--%s given more than once", name));
    }
  }
  return parsed;
}

bool IsHelpRequest(absl::Span<const std::string> args) {
  for (const std::string& arg : args) {
    if (arg == "--") return false;
    if (arg == "--help" || arg == "-h") return true;
  }
  return false;
}

}  // namespace shmio::cli
