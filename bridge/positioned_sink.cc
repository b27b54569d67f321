#include "bridge/positioned_sink.h"

#include "absl/strings/str_format.h"

namespace bridge {

absl::Status PositionedSink::Append(uint64_t position, absl::Span<const uint8_t> payload) {
  uint64_t expected = AppendEnd();
  if (position != expected) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: a frame for position %d cannot be appended: the log holds positions up to %d, "
        "so the next frame must be at %d (%s)",
        name(), position, expected, expected,
        position > expected ? "the frames in between are missing" : "that frame is already there"));
  }
  absl::Status appended = AppendFrame(payload);
  if (!appended.ok()) {
    return absl::Status(appended.code(), absl::StrFormat("%s at position %d: %s", name(),
                                                         position, appended.message()));
  }
  return absl::OkStatus();
}

}  // namespace bridge
