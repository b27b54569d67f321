// Opening the files of one chain for reading, each checked to belong where
// its name says: the chain's id, a base position equal to its name, and the
// sequence number the caller expects. Shared by ChainConsumer and the chain
// frame ranges; a file stays mapped as long as anything holds its
// shared_ptr, also after retention unlinked it.
//
// Thread safety: const after Open(); OpenFile() and List() may be called
// from any thread.
#ifndef SHMIO_CHAIN_FILES_H_
#define SHMIO_CHAIN_FILES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "shmio/chain_directory.h"
#include "shmio/shared_memory.h"

namespace shmio {

// One open file of a chain and where it belongs.
struct ChainFile {
  std::shared_ptr<const SharedMemory> shm;
  uint64_t base_position = 0;
  uint64_t sequence = 0;
  uint64_t data_offset = 0;

  // The chain position of the frame at `offset` in this file.
  uint64_t PositionOf(uint64_t offset) const { return base_position + (offset - data_offset); }
  // The file offset of chain position `position` (>= base_position).
  uint64_t OffsetOf(uint64_t position) const { return data_offset + (position - base_position); }
  // 0 while the writer may still append; then the final committed offset.
  uint64_t LoadSealedEnd() const { return shm->LoadSealedEnd(); }
};

class ChainFiles {
 public:
  // Reads DIR/chain.conf for the chain's id. Errors as ReadChainSettings()
  // and ListChain().
  static absl::StatusOr<std::shared_ptr<ChainFiles>> Open(const std::string& directory,
                                                          bool debug_checks);

  // Opens the file whose first frame is at `base_position` (by its name).
  // NotFound when there is none; DataLoss naming the file when it is not a
  // file of this chain at that position (or, when given, with that
  // sequence number).
  absl::StatusOr<ChainFile> OpenFile(uint64_t base_position,
                                     std::optional<uint64_t> expected_sequence = {}) const;

  // Opens the oldest file of the chain. Retention may remove it between
  // the listing and the open: then the next one is the oldest, and is
  // opened instead. Unavailable when the chain has no file yet.
  absl::StatusOr<ChainFile> OpenOldest() const;

  // The directory as it is now.
  absl::StatusOr<ChainListing> List() const { return ListChain(directory_); }

  // The file holding chain position `position`: the last file whose base is
  // at or below it. OutOfRange naming the oldest position still in the
  // chain when `position` is before it (retention removed it), or when the
  // chain has no file yet.
  absl::StatusOr<ChainFile> FileAt(uint64_t position) const;

  // OutOfRange for a reader that needs the file at `base_position`, which
  // is gone: names what was lost and where the chain now starts.
  absl::Status Removed(uint64_t base_position) const;

  const std::string& directory() const { return directory_; }
  uint64_t chain_id() const { return chain_id_; }
  bool debug_checks() const { return debug_checks_; }

 private:
  ChainFiles(std::string directory, uint64_t chain_id, bool debug_checks)
      : directory_(std::move(directory)), chain_id_(chain_id), debug_checks_(debug_checks) {}

  // OK when `header` (of the file at `path`) is this chain's file at
  // `base_position` (and, when given, with that sequence number); else the
  // DataLoss error OpenFile() returns for the first check that fails.
  absl::Status CheckBelongs(const std::string& path, const HeaderSnapshot& header,
                            uint64_t base_position,
                            std::optional<uint64_t> expected_sequence) const;

  std::string directory_;
  uint64_t chain_id_;
  bool debug_checks_;
};

}  // namespace shmio

#endif  // SHMIO_CHAIN_FILES_H_
