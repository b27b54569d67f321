// View: this addon's own mapping of a log file, the memory that every
// zero-copy Buffer handed to JavaScript points into.
//
// Why a second mapping (SharedMemory has one): a JS Buffer may outlive
// close(), and V8 frees it whenever the garbage collector gets round to it.
// The file's mapping and its writer lock must go at close() (a new writer
// may open the log right after), yet a Buffer used later must not crash
// the process. So close() calls Retire(), which replaces this view, in
// one mmap(MAP_FIXED) and at the same addresses, by private anonymous
// zero pages: the file is no longer mapped here and the lock can go, while
// every old Buffer still points at mapped memory (it reads zeros, and its
// writes go nowhere). The address range is unmapped only when the last
// Buffer over it has been finalized (the view is shared_ptr-owned by
// every Buffer's finalizer and by the log). Both mappings are MAP_SHARED
// views of one file, so writes through either are seen through the other.
//
// Thread safety: one JS thread (the env's); not shared across workers.
#ifndef NODE_SRC_VIEW_H_
#define NODE_SRC_VIEW_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"

namespace shmio_node {

class View {
 public:
  // Maps `length` bytes of the open file `fd` (not owned), read-write when
  // `writable`. Errors name `path` and errno.
  static absl::StatusOr<std::shared_ptr<View>> Map(int fd, uint64_t length,
                                                   bool writable,
                                                   const std::string& path);
  ~View();  // unmaps
  View(const View&) = delete;
  View& operator=(const View&) = delete;

  uint8_t* data() const { return base_; }
  uint64_t size() const { return length_; }
  bool retired() const { return retired_; }

  // Replaces the file's pages by anonymous zero pages at the same addresses
  // (see the file comment). Idempotent. If the kernel refuses (out of
  // memory for page tables), the file stays mapped: memory stays valid,
  // only the unmapping waits for the Buffers.
  void Retire();

 private:
  View(uint8_t* base, uint64_t length) : base_(base), length_(length) {}

  uint8_t* base_;
  uint64_t length_;
  bool retired_ = false;
};

}  // namespace shmio_node

#endif  // NODE_SRC_VIEW_H_
