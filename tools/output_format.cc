#include "tools/output_format.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace shmio::cli {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view name) {
  if (name == "hex") return OutputFormat::kHex;
  if (name == "text") return OutputFormat::kText;
  if (name == "json") return OutputFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("--format=", name, " is not one of hex, text, json"));
}

void AppendHex(absl::Span<const uint8_t> bytes, std::string* out) {
  size_t start = out->size();
  out->resize(start + 2 * bytes.size());
  char* p = out->data() + start;
  for (uint8_t byte : bytes) {
    *p++ = kHexDigits[byte >> 4];
    *p++ = kHexDigits[byte & 0xF];
  }
}

absl::Status DecodeHexLine(absl::string_view line, std::string* payload) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "odd number of hex digits (%d); each byte is two digits",
        line.size()));
  }
  payload->resize(line.size() / 2);
  for (size_t i = 0; i < line.size(); i += 2) {
    int high = HexValue(line[i]);
    int low = HexValue(line[i + 1]);
    if (high < 0 || low < 0) {
      size_t bad = high < 0 ? i : i + 1;
      return absl::InvalidArgumentError(absl::StrFormat(
          "'%c' at column %d is not a hex digit", line[bad], bad + 1));
    }
    (*payload)[i / 2] = static_cast<char>((high << 4) | low);
  }
  return absl::OkStatus();
}

FramePrinter::FramePrinter(std::FILE* out, OutputFormat format,
                           bool with_cursor)
    : out_(out), format_(format), with_cursor_(with_cursor) {}

bool FramePrinter::Print(absl::Span<const uint8_t> payload, uint64_t cursor) {
  line_.clear();
  if (with_cursor_) absl::StrAppend(&line_, cursor, "\t");
  switch (format_) {
    case OutputFormat::kHex:
      AppendHex(payload, &line_);
      break;
    case OutputFormat::kText:
      line_.append(reinterpret_cast<const char*>(payload.data()),
                   payload.size());
      break;
    case OutputFormat::kJson:
      absl::StrAppend(&line_, "{\"cursor\":", cursor,
                      ",\"size\":", payload.size(), ",\"hex\":\"");
      AppendHex(payload, &line_);
      line_.append("\"}");
      break;
  }
  line_.push_back('\n');
  return std::fwrite(line_.data(), 1, line_.size(), out_) == line_.size();
}

}  // namespace shmio::cli
