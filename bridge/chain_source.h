// ChainLog: a SourceLog (followed_source.h) over a chain of files
// (shmio/chain_writer.h), followed across its files and rolls through
// uvwatch::Subscription::OpenChain.
//
// Positions are the chain's own (a file's base position plus offset minus
// dataOffset), so a chain whose first position is 0 numbers its first file
// as a single file would. Retention may remove files the source has not
// reached: the subscription then fails with OutOfRange naming the positions
// lost and the oldest one left.
#ifndef BRIDGE_CHAIN_SOURCE_H_
#define BRIDGE_CHAIN_SOURCE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "bridge/followed_source.h"
#include "shmio/chain_files.h"
#include "shmio/consumer.h"

namespace bridge {

class ChainSourceLog final : public SourceLog {
 public:
  // Checks that `directory` is a chain. Errors: those of ChainFiles::Open
  // (NotFound, not a chain), naming the directory.
  static absl::StatusOr<std::unique_ptr<ChainSourceLog>> Open(const std::string& directory);

  const std::string& name() const override { return files_->directory(); }
  absl::StatusOr<uvwatch::Subscription*> Subscribe(
      uv_loop_t* loop, std::optional<uint64_t> position, uvwatch::Options options,
      uvwatch::Subscription::BatchCallback on_batch,
      uvwatch::Subscription::ErrorCallback on_error) override;
  uint64_t PositionOf(const shmio::Batch& batch, const shmio::Frame& frame) override {
    return batch.CursorOf(frame);  // a chain's cursors are positions
  }
  // The committed end of the chain's last file, as a position (0 while the
  // chain has no file).
  absl::StatusOr<uint64_t> CommittedEnd() override;

 private:
  explicit ChainSourceLog(std::shared_ptr<shmio::ChainFiles> files) : files_(std::move(files)) {}

  std::shared_ptr<shmio::ChainFiles> files_;
  // The last file when CommittedEnd() last looked, and a reader of its
  // validated committed value; replaced once it is sealed (a roll).
  shmio::ChainFile last_;
  std::unique_ptr<shmio::Consumer> last_reader_;
};

}  // namespace bridge

#endif  // BRIDGE_CHAIN_SOURCE_H_
