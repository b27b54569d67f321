// Prepares a chain's next file ahead of need, on a thread of its own: a log
// file that no path names yet, its space reserved and, if asked,
// prefaulted, so that the append that crosses a roll pays for neither
// posix_fallocate nor a page-fault storm. The same thread applies the
// chain's retention after each roll (unlink, never truncate), off the
// writer's path. When allowed, the file retention removes becomes the next
// file (SharedMemory::Recycle) if no reader has it open: its pages are
// resident already, where a new file's must be allocated and zeroed by the
// kernel (the cost that bounded a chain's appends); and when it is one the
// writer retired, still mapped here, with that mapping
// (SharedMemory::RecycleMapped), so no page is mapped again either.
//
// Thread safety: Request(), Take() and Retain() are for the writer's thread;
// the preparer's own thread only creates files and removes old ones.
#ifndef SHMIO_CHAIN_FILE_PREPARER_H_
#define SHMIO_CHAIN_FILE_PREPARER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "shmio/chain_directory.h"
#include "shmio/shared_memory.h"

namespace shmio {
namespace internal {

class ChainFilePreparer {
 public:
  // Files are made in `directory` with `file_options` (capacity, prefault,
  // create_mode, debug_checks; path and writable are set here); `recycle`
  // allows reusing removed files.
  ChainFilePreparer(std::string directory, Options file_options, bool recycle);
  // Stops the thread, after the retention job Retain() last asked for; a
  // prepared file vanishes.
  ~ChainFilePreparer();
  ChainFilePreparer(const ChainFilePreparer&) = delete;
  ChainFilePreparer& operator=(const ChainFilePreparer&) = delete;

  // Starts preparing a file unless one is ready or on its way.
  void Request();

  // The prepared file, waiting for it if need be (requesting one first if
  // none was). The error of a preparation that failed (e.g. the file system
  // is full), after which the next Request() tries again.
  absl::StatusOr<std::unique_ptr<SharedMemory>> Take();

  // Asks the thread to apply `settings`' retention to the chain's sealed
  // files, never touching the file at `current_base` or any after it.
  void Retain(const ChainSettings& settings, uint64_t current_base);

  // Unmaps `file` (a sealed file the writer is done with) on the thread:
  // unmapping a large mapping takes long enough to show in the latency of
  // the append that rolled.
  void Retire(std::unique_ptr<SharedMemory> file);

  // How many files retention has removed so far (for tests and stat).
  uint64_t removed() const;
  // How many of the prepared files were removed files reused.
  uint64_t recycled() const;
  // True when the next file is prepared and waiting to be taken.
  bool ready() const;

 private:
  void Run();
  // Lets this thread run on every CPU the process may use, not only the
  // one its writer is pinned to.
  static void RunOnAnyAllowedCpu();
  void ApplyRetention(const ChainSettings& settings, uint64_t current_base);
  // Removes the retired file at `path` from the chain: as the spare file
  // for the next preparation when allowed and possible, else by unlink.
  // False when it could do neither.
  bool Remove(const std::string& path, uint64_t base_position);
  // The next file: the spare, or a new one.
  absl::StatusOr<std::unique_ptr<SharedMemory>> MakeFile();
  // True when a named reader (not dropped) is before position `end`.
  bool NeededByNamedReader(uint64_t chain_id, uint64_t end) const;

  const std::string directory_;
  const Options file_options_;
  const bool recycle_;
  // A removed file waiting to be the next one; the thread's own.
  std::unique_ptr<SharedMemory> spare_;
  // With recycling, the writer's retired files stay mapped, newest last,
  // until retention removes them: the one it removes is then reused with
  // its mapping (SharedMemory::RecycleMapped), not unmapped here and
  // mapped and populated again for the next file. At most kKeptMappings,
  // so a long retention window holds no more mappings than a short one;
  // the thread's own.
  static constexpr size_t kKeptMappings = 16;
  std::deque<std::unique_ptr<SharedMemory>> kept_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;   // the thread waits for work on it
  std::condition_variable ready_;  // Take() waits for a file on it
  bool wanted_ = false;            // a file was requested and not made yet
  std::optional<absl::StatusOr<std::unique_ptr<SharedMemory>>> made_;
  std::optional<std::pair<ChainSettings, uint64_t>> retain_;
  std::vector<std::unique_ptr<SharedMemory>> retired_;
  uint64_t removed_ = 0;
  uint64_t recycled_ = 0;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace internal
}  // namespace shmio

#endif  // SHMIO_CHAIN_FILE_PREPARER_H_
