// SingleFileSink: a LogSink over one shmio log file, written through a Pool.
// Positions are frame.offset - dataOffset (bridge/stream_id.h), so a file
// this sink creates (dataOffset 256) and a Node.js file (dataOffset 24) both
// start at position 0. A single file holds positions from 0 only: it cannot
// start at a later position.
//
// Thread safety: see LogSink.
#ifndef BRIDGE_SINGLE_FILE_SINK_H_
#define BRIDGE_SINGLE_FILE_SINK_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bridge/log_sink.h"
#include "bridge/positioned_sink.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"

namespace bridge {

class SingleFileSink final : public PositionedSink {
 public:
  // See OpenLogSink() in log_sink.h.
  static absl::StatusOr<std::unique_ptr<SingleFileSink>> Open(const SinkOptions& options);

  absl::Status Commit() override;
  const std::string& name() const override { return shm_->path(); }
  bool is_chain() const override { return false; }

 private:
  WriterEnds Ends() const override;
  absl::Status AppendFrame(absl::Span<const uint8_t> payload) override;

  SingleFileSink(std::unique_ptr<shmio::SharedMemory> shm, std::unique_ptr<shmio::Pool> pool,
                 uint64_t data_offset);

  std::unique_ptr<shmio::SharedMemory> shm_;
  std::unique_ptr<shmio::Pool> pool_;  // borrows *shm_; declared after it
  uint64_t data_offset_;
};

}  // namespace bridge

#endif  // BRIDGE_SINGLE_FILE_SINK_H_
