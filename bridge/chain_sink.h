// ChainSink: a LogSink over a chain of files, written through its
// ChainWriter (shmio/chain_writer.h), so a mirror never fills: the chain
// rolls to a new file as a single file would run out. Positions are the
// chain's own; a chain this sink creates starts at SinkOptions::
// first_position (the stream's first entry, for a stream trimmed at its
// start).
//
// A batch (the frames between two Commit()s) must fit in one file of the
// chain; when the next frame would not fit in a file with the batch in
// progress, the sink commits what it has first. That only makes frames
// visible earlier: they are at their positions either way, and a restart
// resumes at CommittedEnd().
//
// Thread safety: see LogSink.
#ifndef BRIDGE_CHAIN_SINK_H_
#define BRIDGE_CHAIN_SINK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bridge/log_sink.h"
#include "bridge/positioned_sink.h"
#include "shmio/chain_writer.h"

namespace bridge {

class ChainSink final : public PositionedSink {
 public:
  // See OpenLogSink() in log_sink.h.
  static absl::StatusOr<std::unique_ptr<ChainSink>> Open(const SinkOptions& options);

  absl::Status Commit() override { return writer_->Commit(); }
  const std::string& name() const override { return writer_->directory(); }
  bool is_chain() const override { return true; }

 private:
  explicit ChainSink(std::unique_ptr<shmio::ChainWriter> writer) : writer_(std::move(writer)) {}

  WriterEnds Ends() const override;
  absl::Status AppendFrame(absl::Span<const uint8_t> payload) override;

  std::unique_ptr<shmio::ChainWriter> writer_;
};

}  // namespace bridge

#endif  // BRIDGE_CHAIN_SINK_H_
