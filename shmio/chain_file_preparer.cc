#include "shmio/chain_file_preparer.h"

#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "shmio/chain_files.h"
#include "shmio/reader_table.h"

namespace shmio {
namespace internal {

ChainFilePreparer::ChainFilePreparer(std::string directory, Options file_options,
                                     bool recycle)
    : directory_(std::move(directory)),
      file_options_(std::move(file_options)),
      recycle_(recycle),
      thread_([this] { Run(); }) {}

ChainFilePreparer::~ChainFilePreparer() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void ChainFilePreparer::Request() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (wanted_ || (made_.has_value() && made_->ok())) return;
    made_.reset();  // a failed preparation is tried again
    wanted_ = true;
  }
  wake_.notify_all();
}

absl::StatusOr<std::unique_ptr<SharedMemory>> ChainFilePreparer::Take() {
  Request();
  std::unique_lock<std::mutex> lock(mutex_);
  ready_.wait(lock, [this] { return made_.has_value(); });
  absl::StatusOr<std::unique_ptr<SharedMemory>> file = std::move(*made_);
  made_.reset();
  return file;
}

void ChainFilePreparer::Retain(const ChainSettings& settings, uint64_t current_base) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    retain_ = std::make_pair(settings, current_base);
  }
  wake_.notify_all();
}

void ChainFilePreparer::RunOnAnyAllowedCpu() {
  // A thread inherits its creator's CPU affinity. A writer pinned to one
  // CPU (as latency-minded writers are) would then have its next file made
  // only when it blocks waiting for it: measured in //bench:ipc, the
  // writer spent 40% of a run waiting. The kernel intersects this mask with
  // the CPUs the process's cpuset allows; if that fails, the thread keeps
  // the writer's.
  cpu_set_t any;
  CPU_ZERO(&any);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &any);
  (void)sched_setaffinity(0, sizeof any, &any);
}

bool ChainFilePreparer::ready() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return made_.has_value() && made_->ok();
}

void ChainFilePreparer::Retire(std::unique_ptr<SharedMemory> file) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    retired_.push_back(std::move(file));
  }
  wake_.notify_all();
}

uint64_t ChainFilePreparer::removed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return removed_;
}

uint64_t ChainFilePreparer::recycled() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return recycled_;
}

absl::StatusOr<std::unique_ptr<SharedMemory>> ChainFilePreparer::MakeFile() {
  if (spare_ != nullptr) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++recycled_;
    return std::move(spare_);
  }
  return SharedMemory::CreateUnlinked(directory_, file_options_);
}

bool ChainFilePreparer::Remove(const std::string& path, uint64_t base_position) {
  // The writer's mapping of it, if kept: reused, or unmapped with the file.
  std::unique_ptr<SharedMemory> mapped;
  for (auto it = kept_.begin(); it != kept_.end(); ++it) {
    if ((*it)->path() == path) {
      mapped = std::move(*it);
      kept_.erase(it);
      break;
    }
  }
  if (recycle_ && spare_ == nullptr) {
    const std::string temp =
        absl::StrFormat("%s/%s%020d", directory_, kRecyclingFilePrefix, base_position);
    absl::StatusOr<std::unique_ptr<SharedMemory>> reused =
        mapped != nullptr ? SharedMemory::RecycleMapped(std::move(mapped), temp, file_options_)
                          : SharedMemory::Recycle(path, temp, file_options_);
    if (reused.ok()) {
      spare_ = *std::move(reused);
      return true;
    }
    // A reader has it open (it keeps reading it to its end), or it cannot
    // be reused: unlinked, as without recycling.
  }
  return unlink(path.c_str()) == 0;
}

void ChainFilePreparer::Run() {
  RunOnAnyAllowedCpu();
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] {
      return stopping_ || wanted_ || retain_.has_value() || !retired_.empty();
    });
    // A retention job asked for before the writer closed is still done, so
    // a short-lived writer leaves the chain within its limits; a file
    // being asked for is not made. Retired files left are unmapped by the
    // destructor.
    if (stopping_ && !retain_.has_value()) return;
    if (!retired_.empty()) {
      std::vector<std::unique_ptr<SharedMemory>> retired = std::move(retired_);
      retired_.clear();
      lock.unlock();
      if (recycle_) {
        for (std::unique_ptr<SharedMemory>& file : retired) kept_.push_back(std::move(file));
        while (kept_.size() > kKeptMappings) kept_.pop_front();  // munmap, outside the lock
      }
      retired.clear();  // munmap, outside the lock
      lock.lock();
    }
    // Retention before preparing: the file it removes can be the next one.
    if (retain_.has_value()) {
      std::pair<ChainSettings, uint64_t> job = *retain_;
      retain_.reset();
      lock.unlock();
      ApplyRetention(job.first, job.second);
      lock.lock();
    }
    if (wanted_ && !stopping_) {
      lock.unlock();  // making a file takes long: never under the lock
      absl::StatusOr<std::unique_ptr<SharedMemory>> file = MakeFile();
      lock.lock();
      wanted_ = false;
      made_ = std::move(file);
      ready_.notify_all();
    }
  }
}

bool ChainFilePreparer::NeededByNamedReader(uint64_t chain_id, uint64_t end) const {
  absl::StatusOr<std::shared_ptr<ReaderTable>> table =
      ReaderTable::Open(directory_, chain_id, /*create=*/false);
  if (absl::IsNotFound(table.status())) return false;
  if (!table.ok()) return true;  // cannot tell: keep the file
  absl::StatusOr<std::vector<NamedReaderInfo>> readers = (*table)->List();
  if (!readers.ok()) return true;
  for (const NamedReaderInfo& reader : *readers) {
    if (!reader.dropped && reader.position < end) return true;
  }
  return false;
}

void ChainFilePreparer::ApplyRetention(const ChainSettings& settings,
                                       uint64_t current_base) {
  if (settings.retain_files == 0 && settings.retain_bytes == 0 &&
      settings.retain_seconds == 0) {
    return;
  }
  absl::StatusOr<ChainListing> listing = ListChain(directory_);
  if (!listing.ok()) return;  // the next roll tries again
  std::vector<ChainFileEntry>& files = listing->files;
  // Sizes only for a limit in bytes: a stat per file per roll adds up in a
  // chain of many small files.
  std::vector<uint64_t> sizes(files.size(), 0);
  uint64_t total_bytes = 0;
  if (settings.retain_bytes != 0) {
    for (size_t i = 0; i < files.size(); ++i) {
      struct stat st;
      sizes[i] = stat(files[i].path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
      total_bytes += sizes[i];
    }
  }
  const uint64_t now_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  uint64_t count = files.size();
  for (size_t i = 0; i < files.size(); ++i) {
    const ChainFileEntry& entry = files[i];
    if (entry.base_position >= current_base) break;  // never the current one
    bool too_many = settings.retain_files != 0 && count > settings.retain_files;
    bool too_big = settings.retain_bytes != 0 && total_bytes > settings.retain_bytes;
    bool too_old = false;
    if (settings.retain_seconds != 0) {
      Options options;
      options.path = entry.path;
      absl::StatusOr<std::unique_ptr<SharedMemory>> shm = SharedMemory::Open(options);
      if (!shm.ok()) break;
      const uint64_t sealed_at = format::DecodeU64((*shm)->data() + format::kSealedAtOffset);
      too_old = (*shm)->LoadSealedEnd() != 0 &&
                now_ns - sealed_at > settings.retain_seconds * 1000000000ull;
    }
    if (!too_many && !too_big && !too_old) break;  // oldest first: the rest are newer
    // Only sealed files: a file before the current one is, unless its
    // writer died before sealing it (the next writer seals it first).
    Options options;
    options.path = entry.path;
    absl::StatusOr<std::unique_ptr<SharedMemory>> shm = SharedMemory::Open(options);
    if (!shm.ok() || (*shm)->LoadSealedEnd() == 0) break;
    // A named reader that has not acknowledged past this file's end keeps
    // it (the writer dropped, before the roll, those it may not keep).
    const uint64_t end = i + 1 < files.size() ? files[i + 1].base_position : current_base;
    if (NeededByNamedReader(settings.chain_id, end)) break;
    shm->reset();  // ours is a reader's open too: it would keep the file
    if (!Remove(entry.path, entry.base_position)) break;
    --count;
    total_bytes -= sizes[i];
    std::lock_guard<std::mutex> lock(mutex_);
    ++removed_;  // counted as each file goes, so removed() never lags the directory long
  }
}

}  // namespace internal
}  // namespace shmio
