// SingleFileSource: a LogSource over one shmio log file, following it
// through a uvwatch subscription (inotify woken by the writer's doorbell for
// shmio C++ files; polling for files written by the Node.js library).
//
// Positions: frame.offset - dataOffset, so the first frame is at position 0
// whatever the file's dataOffset (24 for Node.js files, 256 for ours). A
// file no writer has initialised yet (all-zero header) can be followed from
// position 0; its dataOffset is learnt from the header once frames come.
//
// Lifetime and threads: see LogSource. The source owns the read-only
// mapping; the subscription borrows it and is closed first.
#ifndef BRIDGE_SINGLE_FILE_SOURCE_H_
#define BRIDGE_SINGLE_FILE_SOURCE_H_

#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bridge/log_source.h"
#include "shmio/consumer.h"
#include "shmio/shared_memory.h"
#include "uvwatch/subscription.h"

namespace bridge {

class SingleFileSource final : public LogSource {
 public:
  // See OpenLogSource() in log_source.h for the arguments and errors.
  static absl::StatusOr<SingleFileSource*> Open(uv_loop_t* loop, const std::string& path,
                                                uint64_t position, const SourceOptions& options,
                                                BatchCallback on_batch, ErrorCallback on_error);

  void Pause() override;
  absl::Status Resume() override;
  absl::StatusOr<uint64_t> CommittedEnd() override;
  const std::string& name() const override { return shm_->path(); }
  void Close(std::function<void()> on_closed) override;

  ~SingleFileSource() override = default;

 private:
  SingleFileSource(std::unique_ptr<shmio::SharedMemory> shm, BatchCallback on_batch,
                   ErrorCallback on_error);

  void OnBatch(const shmio::Batch& batch);
  // Learns dataOffset from the header once a writer has initialised it.
  uint64_t DataOffset();

  std::unique_ptr<shmio::SharedMemory> shm_;
  shmio::Consumer committed_reader_;  // CommittedEnd(): validated committed values
  uvwatch::Subscription* subscription_ = nullptr;  // owned by the loop
  BatchCallback on_batch_;
  ErrorCallback on_error_;
  uint64_t data_offset_ = 0;  // 0 until the header is initialised
  std::vector<LogFrame> frames_;  // one batch, reused
  bool closing_ = false;
};

}  // namespace bridge

#endif  // BRIDGE_SINGLE_FILE_SOURCE_H_
