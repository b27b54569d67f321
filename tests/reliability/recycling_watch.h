// RecyclingWatch: what the crash suite can see of recycling (chain_writer.h,
// SharedMemory::Recycle) from outside a writer it SIGKILLs, which never
// gets to report ChainWriter::files_recycled(): the directory itself.
//
//   - A chain file whose inode an older chain file had was reused: Recycle
//     renames the file it takes, so the inode travels with it.
//   - A .shmio-recycling-* file after a kill (ChainListing::recycling): the
//     writer died between taking a file out of the chain and linking it
//     back under its new name. The next writer must remove it.
//
// Look only while no writer runs (between a kill and the next spawn).
#ifndef TESTS_RELIABILITY_RECYCLING_WATCH_H_
#define TESTS_RELIABILITY_RECYCLING_WATCH_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace shmio_reliability {

class RecyclingWatch {
 public:
  explicit RecyclingWatch(std::string directory) : directory_(std::move(directory)) {}

  // Lists the directory: counts chain files that took over an earlier
  // file's inode, and keeps the leftovers of the last Look() as previous().
  absl::Status Look();

  // Chain files seen so far that had been another file (a reused inode).
  uint64_t reused() const { return reused_; }
  // The .shmio-recycling-* paths at the last Look() and at the one before.
  const std::vector<std::string>& leftovers() const { return leftovers_; }
  const std::vector<std::string>& previous() const { return previous_; }
  // The paths of previous() still there at the last Look(): a writer that
  // started in between must have removed them.
  std::vector<std::string> StillThere() const;

 private:
  std::string directory_;
  std::map<ino_t, uint64_t> base_of_inode_;  // as last seen
  uint64_t reused_ = 0;
  std::vector<std::string> leftovers_;
  std::vector<std::string> previous_;
};

}  // namespace shmio_reliability

#endif  // TESTS_RELIABILITY_RECYCLING_WATCH_H_
