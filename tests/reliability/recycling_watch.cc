#include "tests/reliability/recycling_watch.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "shmio/chain_directory.h"

namespace shmio_reliability {

absl::Status RecyclingWatch::Look() {
  absl::StatusOr<shmio::ChainListing> listing = shmio::ListChain(directory_);
  if (absl::IsNotFound(listing.status()) || absl::IsFailedPrecondition(listing.status())) {
    return absl::OkStatus();  // no writer has made the chain yet
  }
  if (!listing.ok()) return listing.status();
  for (const shmio::ChainFileEntry& file : listing->files) {
    struct stat st;
    if (stat(file.path.c_str(), &st) != 0) {
      return absl::ErrnoToStatus(errno, absl::StrFormat("cannot stat %s", file.path));
    }
    // tmpfs numbers inodes from a counter, so a number seen again is the
    // same file, renamed: Recycle's, not a new file that happens to match.
    auto [seen, inserted] = base_of_inode_.emplace(st.st_ino, file.base_position);
    if (!inserted && seen->second != file.base_position) {
      ++reused_;
      seen->second = file.base_position;
    }
  }
  previous_ = std::move(leftovers_);
  leftovers_ = listing->recycling;
  return absl::OkStatus();
}

std::vector<std::string> RecyclingWatch::StillThere() const {
  std::vector<std::string> still;
  for (const std::string& path : previous_) {
    if (std::find(leftovers_.begin(), leftovers_.end(), path) != leftovers_.end()) {
      still.push_back(path);
    }
  }
  return still;
}

}  // namespace shmio_reliability
