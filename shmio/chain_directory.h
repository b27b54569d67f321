// A chain's directory: how its files are named and found, and what else it
// holds (format.h, "Chains of files").
//
//   DIR/00000000000000000000.shm   the first file: base position 0
//   DIR/00000000000004194048.shm   the next: named by its base position
//   DIR/chain.conf                 the chain's settings (ChainSettings)
//   DIR/writer.lock                the chain writer's lock (writer_lock.h)
//   DIR/readers.shm                named readers' positions (reader_table.h)
//
// Anything else in the directory is ignored (and `shmio stat DIR` lists
// it); a file named like a chain file that is not one of this chain is an
// error naming it.
//
// Thread safety: free functions; they read the directory as it is now.
#ifndef SHMIO_CHAIN_DIRECTORY_H_
#define SHMIO_CHAIN_DIRECTORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shmio {

inline constexpr char kChainSettingsFileName[] = "chain.conf";
inline constexpr char kChainLockFileName[] = "writer.lock";
inline constexpr char kReaderTableFileName[] = "readers.shm";  // reader_table.h
// A retired file being reused for the next file (SharedMemory::Recycle) is
// named with this prefix between leaving the chain and rejoining it.
inline constexpr char kRecyclingFilePrefix[] = ".shmio-recycling-";

// "00000000000004194048.shm": 20 decimal digits (every u64 fits) and ".shm",
// so that `ls` sorts files by position.
std::string ChainFileName(uint64_t base_position);

// The base position a chain file's name says, or nullopt for any other name.
std::optional<uint64_t> ParseChainFileName(absl::string_view name);

// DIR/name.
std::string ChainPath(const std::string& directory, absl::string_view name);

// A chain file found in the directory.
struct ChainFileEntry {
  uint64_t base_position = 0;  // from its name
  std::string path;
};

// What a chain directory holds now: its chain files in position order, and
// the names of other entries (ignored by readers and writers).
struct ChainListing {
  std::vector<ChainFileEntry> files;
  std::vector<std::string> foreign;
  // Paths of files being reused (kRecyclingFilePrefix): the writer's own,
  // not part of the chain; left behind only by a killed writer.
  std::vector<std::string> recycling;
};

// Lists `directory`. NotFound when it does not exist, FailedPrecondition
// when it is not a directory or has no chain.conf (not a chain), others
// from opendir/readdir, each naming the directory.
absl::StatusOr<ChainListing> ListChain(const std::string& directory);

// Removes a chain that no writer or reader uses any more: its files,
// chain.conf, writer.lock and readers.shm, then the directory if nothing
// else is in it. For tests, benchmarks and examples that made a chain of
// their own; errors (a missing directory included) name the path.
absl::Status RemoveChain(const std::string& directory);

// True when `path` names a directory (a chain, or meant to become one).
bool IsDirectory(const std::string& path);

// A chain's settings, stored in DIR/chain.conf as "key=value" lines. The
// writer reads them when it opens the chain; readers need only chain_id.
struct ChainSettings {
  uint64_t chain_id = 0;        // nonzero; in every file's extension too
  uint64_t file_capacity = 0;   // bytes of each new file
  // Retention, applied by the writer each time it rolls: only sealed files
  // are removed, oldest first, by unlink. 0 = no such limit.
  uint64_t retain_files = 0;    // keep at most this many files
  uint64_t retain_bytes = 0;    // keep at most this many bytes of files
  uint64_t retain_seconds = 0;  // keep files sealed less than this long ago
  // Named readers (reader_table.h) are protected: retention never removes
  // a file one of them has not acknowledged past, except that a reader more
  // than max_reader_lag bytes behind the writer is dropped (0 = no limit).
  // When protection blocks retention, the append that rolls fails with
  // ResourceExhausted naming the slowest reader, or, with
  // drop_slow_readers = 1, that reader is dropped instead.
  uint64_t max_reader_lag = 0;
  uint64_t drop_slow_readers = 0;
};

// Reads DIR/chain.conf. NotFound (not a chain) when missing; DataLoss naming
// the line when a line or value is not what WriteChainSettings writes.
absl::StatusOr<ChainSettings> ReadChainSettings(const std::string& directory);

// Writes DIR/chain.conf atomically (a temporary file renamed over it), with
// permission bits `mode`.
absl::Status WriteChainSettings(const std::string& directory,
                                const ChainSettings& settings, unsigned mode);

}  // namespace shmio

#endif  // SHMIO_CHAIN_DIRECTORY_H_
