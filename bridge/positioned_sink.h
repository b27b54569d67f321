// PositionedSink: what every LogSink (log_sink.h) does the same way, over
// whatever writer it has (a Pool for a single file, a ChainWriter for a
// chain): the refusal of a frame at any position but the append end, with
// a message naming both, and the errors of the writer named by log and
// position. A kind of log supplies only its writer's ends and one append.
#ifndef BRIDGE_POSITIONED_SINK_H_
#define BRIDGE_POSITIONED_SINK_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "bridge/log_sink.h"

namespace bridge {

class PositionedSink : public LogSink {
 public:
  uint64_t CommittedEnd() const final { return Ends().committed; }
  uint64_t AppendEnd() const final { return Ends().uncommitted; }
  absl::Status Append(uint64_t position, absl::Span<const uint8_t> payload) final;

 protected:
  // Positions, as Pool::Size and ChainWriter::Size are offsets or positions.
  struct WriterEnds {
    uint64_t committed = 0;
    uint64_t uncommitted = 0;
  };
  virtual WriterEnds Ends() const = 0;
  // Appends one frame at the append end (already checked).
  virtual absl::Status AppendFrame(absl::Span<const uint8_t> payload) = 0;
};

}  // namespace bridge

#endif  // BRIDGE_POSITIONED_SINK_H_
