// Window Buffers over the files of a chain: one Buffer over a whole file,
// out of which the JS layer cuts each frame's zero-copy Buffer (as
// MappedLog does for one file). A Buffer keeps its file mapped until the
// garbage collector has collected it and every Buffer cut from it, so a
// frame's Buffer stays valid after the reader moved on to the next file,
// after retention unlinked its file, and after the chain's close().
//
// Readers: the window holds the file's read-only shmio::SharedMemory, the
// one the C++ consumer read the batch from; its reader lock keeps the
// chain's writer from reusing the file's pages while a Buffer is alive
// (shmio/reader_lock.h), so such a file is only unlinked.
//
// The writer: its files' SharedMemory belongs to shmio::ChainWriter, which
// drops each at a roll, so the window is a WriterView, a second mapping of
// the file. It maps a new open file description of the file (through
// /proc/self/fd): a mapping of the writer's own descriptor would hold the
// file's OFD writer lock until the last Buffer is collected (see view.h).
// The new descriptor stays open while the writer writes that file, because
// closing any descriptor of a file drops the process's POSIX lock on it,
// the one that tells others the writer's pid (shmio/writer_lock.h). The
// view holds a reader lock on it, for the same reason as readers do.
//
// Thread safety: the env's thread only.
#ifndef NODE_SRC_CHAIN_WINDOW_H_
#define NODE_SRC_CHAIN_WINDOW_H_

#include <node_api.h>

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "shmio/shared_memory.h"

namespace shmio_node {

// The largest file a window can cover: Node's Buffer limit (2^32 bytes).
inline constexpr uint64_t kMaxChainWindowBytes = uint64_t{1} << 32;

// A Buffer over all of `file` (a reader's mapping), holding it.
// FailedPrecondition naming the file for one larger than a Buffer can be.
absl::StatusOr<napi_value> ReaderWindow(napi_env env,
                                        std::shared_ptr<const shmio::SharedMemory> file);

class WriterView {
 public:
  // Maps all of `file` (the chain writer's current file) read-write through
  // a new open file description. Errors name the file and errno.
  static absl::StatusOr<std::shared_ptr<WriterView>> Map(const shmio::SharedMemory& file);
  ~WriterView();  // unmaps; closes the descriptor if still open
  WriterView(const WriterView&) = delete;
  WriterView& operator=(const WriterView&) = delete;

  uint8_t* data() const { return base_; }
  uint64_t size() const { return length_; }
  // Closes the descriptor once the writer has left the file (see the file
  // comment); the mapping stays.
  void ReleaseDescriptor();

 private:
  WriterView(uint8_t* base, uint64_t length, int fd) : base_(base), length_(length), fd_(fd) {}

  uint8_t* base_;
  uint64_t length_;
  int fd_;
};

// A Buffer over all of `view`, holding it.
absl::StatusOr<napi_value> WriterWindow(napi_env env, std::shared_ptr<WriterView> view);

}  // namespace shmio_node

#endif  // NODE_SRC_CHAIN_WINDOW_H_
