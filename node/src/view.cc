#include "node/src/view.h"

#include <sys/mman.h>

#include <cerrno>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace shmio_node {

absl::StatusOr<std::shared_ptr<View>> View::Map(int fd, uint64_t length,
                                                bool writable,
                                                const std::string& path) {
  int protection = writable ? PROT_READ | PROT_WRITE : PROT_READ;
  void* base = mmap(nullptr, length, protection, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    int error = errno;
    return absl::ErrnoToStatus(
        error, absl::StrCat("mmap of ", length, " bytes of ", path,
                            " for the Node.js view failed"));
  }
  return std::shared_ptr<View>(new View(static_cast<uint8_t*>(base), length));
}

View::~View() { munmap(base_, length_); }

void View::Retire() {
  if (retired_) return;
  // MAP_FIXED replaces the file's pages in place, with no moment where the
  // range is unmapped (another thread's mmap cannot land in between).
  // MAP_NORESERVE: the zero pages cost nothing until a stale Buffer writes.
  void* replaced = mmap(base_, length_, PROT_READ | PROT_WRITE,
                        MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  retired_ = replaced != MAP_FAILED;
}

}  // namespace shmio_node
