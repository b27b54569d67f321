// The line formats of the CLI: how `dump` (and `tail`) print one frame per
// line, and how `append` reads one payload per line.
//
//   hex   lowercase hex of the payload; an empty payload is an empty line
//   text  the payload bytes as they are, then "\n"
//   json  {"cursor":N,"size":N,"hex":"..."} (size = payload bytes)
//
// With a cursor prefix every line starts with the frame's cursor (decimal:
// its offset in a file, its position in a chain) and a tab, whatever the
// format.
#ifndef SHMIO_TOOLS_OUTPUT_FORMAT_H_
#define SHMIO_TOOLS_OUTPUT_FORMAT_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "shmio/iterator.h"

namespace shmio::cli {

enum class OutputFormat { kHex, kText, kJson };

// Parses "hex", "text" or "json"; InvalidArgument naming the value
// otherwise.
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view name);

// Prints frames to a stdio stream, one line each. Owns a scratch buffer so
// printing allocates only while the largest frame grows it.
class FramePrinter {
 public:
  // `out` is not owned and must outlive the printer.
  FramePrinter(std::FILE* out, OutputFormat format, bool with_cursor);

  // Prints one frame. Returns false when the stream failed (e.g. a closed
  // pipe); the caller should stop and report it.
  bool Print(const Frame& frame) { return Print(frame.payload, frame.offset); }
  // Prints one frame whose cursor is `cursor` (a chain frame's position).
  bool Print(absl::Span<const uint8_t> payload, uint64_t cursor);

 private:
  std::FILE* out_;
  OutputFormat format_;
  bool with_cursor_;
  std::string line_;
};

// Appends the lowercase hex of `bytes` to `*out`.
void AppendHex(absl::Span<const uint8_t> bytes, std::string* out);

// Decodes a hex line (either case; a trailing '\r' is ignored) into
// `*payload`. InvalidArgument saying what is wrong (odd length, or the
// first non-hex character and its column) otherwise.
absl::Status DecodeHexLine(absl::string_view line, std::string* payload);

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_OUTPUT_FORMAT_H_
