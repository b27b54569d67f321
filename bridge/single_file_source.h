// SingleFileSourceLog: a SourceLog (followed_source.h) over one shmio log file,
// followed through a uvwatch subscription (inotify woken by the writer's
// doorbell for shmio C++ files; polling for files written by the Node.js
// library).
//
// Positions: frame.offset - dataOffset, so the first frame is at position 0
// whatever the file's dataOffset (24 for Node.js files, 256 for ours). A
// file no writer has initialised yet (all-zero header) can be followed from
// position 0; its dataOffset is learnt from the header once frames come.
//
// It owns the read-only mapping that the subscription borrows.
#ifndef BRIDGE_SINGLE_FILE_SOURCE_H_
#define BRIDGE_SINGLE_FILE_SOURCE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "bridge/followed_source.h"
#include "shmio/consumer.h"
#include "shmio/shared_memory.h"

namespace bridge {

class SingleFileSourceLog final : public SourceLog {
 public:
  // Maps the file at `path` read-only. Errors: those of SharedMemory::Open.
  static absl::StatusOr<std::unique_ptr<SingleFileSourceLog>> Open(const std::string& path);

  const std::string& name() const override { return shm_->path(); }
  absl::StatusOr<uvwatch::Subscription*> Subscribe(
      uv_loop_t* loop, std::optional<uint64_t> position, uvwatch::Options options,
      uvwatch::Subscription::BatchCallback on_batch,
      uvwatch::Subscription::ErrorCallback on_error) override;
  uint64_t PositionOf(const shmio::Batch& batch, const shmio::Frame& frame) override {
    return batch.CursorOf(frame) - DataOffset();
  }
  absl::StatusOr<uint64_t> CommittedEnd() override;

 private:
  explicit SingleFileSourceLog(std::unique_ptr<shmio::SharedMemory> shm);

  // Learns dataOffset from the header once a writer has initialised it.
  uint64_t DataOffset();

  std::unique_ptr<shmio::SharedMemory> shm_;
  shmio::Consumer committed_reader_;  // CommittedEnd(): validated committed values
  uint64_t data_offset_ = 0;  // 0 until the header is initialised
};

}  // namespace bridge

#endif  // BRIDGE_SINGLE_FILE_SOURCE_H_
