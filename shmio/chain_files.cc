#include "shmio/chain_files.h"

#include <sys/stat.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace shmio {
namespace {

// True while `path` names the file open as `fd`.
bool StillNamed(const std::string& path, int fd) {
  struct stat named, opened;
  return stat(path.c_str(), &named) == 0 && fstat(fd, &opened) == 0 &&
         named.st_dev == opened.st_dev && named.st_ino == opened.st_ino;
}

}  // namespace

absl::Status ChainFiles::CheckBelongs(const std::string& path, const HeaderSnapshot& header,
                                      uint64_t base_position,
                                      std::optional<uint64_t> expected_sequence) const {
  if (!header.chain.has_value() || header.chain->chain_id != chain_id_) {
    return absl::DataLossError(absl::StrFormat(
        "%s is named like a file of the chain in %s but is not one of it (%s); "
        "move it out of the directory",
        path, directory_,
        header.chain ? absl::StrFormat("its chain id is %d, the chain's %d",
                                       header.chain->chain_id, chain_id_)
                     : std::string("it is a log of its own, or no log")));
  }
  if (header.chain->base_position != base_position) {
    return absl::DataLossError(absl::StrFormat(
        "%s says its first frame is at position %d, its name says %d", path,
        header.chain->base_position, base_position));
  }
  if (expected_sequence && header.chain->sequence != *expected_sequence) {
    return absl::DataLossError(absl::StrFormat(
        "%s is file %d of its chain, but the file before it says file %d "
        "comes next: a file is missing or was replaced",
        path, header.chain->sequence, *expected_sequence));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<ChainFiles>> ChainFiles::Open(const std::string& directory,
                                                             bool debug_checks) {
  absl::StatusOr<ChainListing> listing = ListChain(directory);
  if (!listing.ok()) return listing.status();
  absl::StatusOr<ChainSettings> settings = ReadChainSettings(directory);
  if (!settings.ok()) return settings.status();
  return std::shared_ptr<ChainFiles>(
      new ChainFiles(directory, settings->chain_id, debug_checks));
}

absl::StatusOr<ChainFile> ChainFiles::OpenFile(
    uint64_t base_position, std::optional<uint64_t> expected_sequence) const {
  const std::string path = ChainPath(directory_, ChainFileName(base_position));
  Options options;
  options.path = path;
  options.debug_checks = debug_checks_;
  absl::StatusOr<std::unique_ptr<SharedMemory>> shm = SharedMemory::Open(options);
  if (!shm.ok()) return shm.status();
  HeaderSnapshot header = (*shm)->ReadHeader();
  absl::Status mismatch = CheckBelongs(path, header, base_position, expected_sequence);
  if (!mismatch.ok()) {
    if (!StillNamed(path, (*shm)->fd())) {
      // Retention removed the file between our open and our look at its
      // header, and its writer is reusing it for a new file
      // (SharedMemory::Recycle): the header is the new file's.
      return absl::NotFoundError(absl::StrFormat(
          "%s was removed from the chain by retention while it was being opened", path));
    }
    return mismatch;
  }
  ChainFile file;
  file.base_position = base_position;
  file.sequence = header.chain->sequence;
  file.data_offset = header.data_offset;
  file.shm = std::move(*shm);
  return file;
}

absl::StatusOr<ChainFile> ChainFiles::OpenOldest() const {
  // Each retry follows a removal, and retention stops at the writer's
  // current file: the bound only guards against a broken directory.
  constexpr int kAttempts = 1000;
  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<ChainListing> listing = List();
    if (!listing.ok()) return listing.status();
    if (listing->files.empty()) {
      return absl::UnavailableError(absl::StrFormat(
          "%s has no file yet: its writer is creating the chain; try again in a moment",
          directory_));
    }
    absl::StatusOr<ChainFile> file = OpenFile(listing->files.front().base_position);
    if (!absl::IsNotFound(file.status()) || attempt == kAttempts) return file;
  }
}

absl::Status ChainFiles::Removed(uint64_t base_position) const {
  absl::StatusOr<ChainListing> listing = List();
  if (!listing.ok()) return listing.status();
  if (listing->files.empty() || listing->files.front().base_position <= base_position) {
    return absl::DataLossError(absl::StrFormat(
        "%s: the file at position %d is missing from the chain (%s)", directory_,
        base_position, ChainFileName(base_position)));
  }
  const uint64_t oldest = listing->files.front().base_position;
  return absl::OutOfRangeError(absl::StrFormat(
      "%s: the frames from position %d to %d were removed by retention (%d bytes "
      "of frames lost to this reader); the oldest position still in the chain is "
      "%d: seek there to go on",
      directory_, base_position, oldest, oldest - base_position, oldest));
}

absl::StatusOr<ChainFile> ChainFiles::FileAt(uint64_t position) const {
  absl::StatusOr<ChainListing> listing = List();
  if (!listing.ok()) return listing.status();
  if (listing->files.empty()) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: the chain has no file yet, so no position %d", directory_, position));
  }
  if (position < listing->files.front().base_position) {
    return absl::OutOfRangeError(absl::StrFormat(
        "%s: position %d is no longer in the chain (retention removed it); the "
        "oldest position still there is %d",
        directory_, position, listing->files.front().base_position));
  }
  auto it = listing->files.end();
  do {
    --it;
  } while (it->base_position > position);
  absl::StatusOr<ChainFile> file = OpenFile(it->base_position);
  // Removed by retention since the listing: OutOfRange, as if it had been
  // gone before.
  if (absl::IsNotFound(file.status())) return Removed(it->base_position);
  return file;
}

}  // namespace shmio
