// The doorbell: how a writer wakes readers that sleep on inotify without
// making a syscall on every commit. Stores into a shared mapping raise no
// inotify event, so a sleeping reader needs the writer to ring: a pwrite()
// into the doorbell line of the file (format.h, offset 136), which raises
// IN_MODIFY for every watcher of the file.
//
// The protocol, in the spirit of a futex (a Dekker-style handshake on two
// words, `committed` and `armed`, each side storing one and loading the
// other with a full barrier in between):
//
//   reader (before it sleeps)           writer (Pool::Commit)
//   armed.store(1)                      committed.store(c, release)
//   fence(seq_cst)                      barrier (see below)
//   membarrier(GLOBAL_EXPEDITED)        if armed.load(): armed = 0; ring()
//   if committed moved: drain
//   else sleep until IN_MODIFY
//
// With a full barrier on both sides, at least one side sees the other's
// store: either the writer sees `armed` and rings, or the reader sees the
// new `committed` and drains instead of sleeping. So no wake-up is lost, a
// busy reader costs the writer one load per commit, and a sleeping reader
// one syscall per wake-up.
//
// The barriers are asymmetric, because commits are frequent and arming is
// rare. A seq_cst fence in Commit() would make every commit wait for its
// store to leave the store buffer, i.e. for a polling reader's core to give
// up the cache line (measured: 3x slower commits in one process, and far
// slower across processes). Instead the writer registers once for
// membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) and keeps only a compiler
// barrier in Commit(); the reader, when it arms, calls membarrier(), which
// runs a full memory barrier on every CPU that runs a registered writer at
// that moment (a writer not running is between context switches, which are
// full barriers). That barrier stands between the writer's store and load
// wherever the writer is, so the argument above holds. Where the kernel
// lacks membarrier (Linux < 4.16) or forbids it, the writer fails to
// register and keeps the seq_cst fence, and the reader's call is a no-op.
// Files without the extension (Node.js) have no doorbell: watch them with a
// timer.
//
// The reader's flag lives in the file, so arming needs write access to the
// header page: Doorbell maps just that page, read-write, through its own
// descriptor; the reader's view of the log stays read-only.
//
// Thread safety: one thread per Doorbell.
#ifndef SHMIO_DOORBELL_H_
#define SHMIO_DOORBELL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/optimization.h"
#include "absl/status/statusor.h"
#include "shmio/format.h"
#include "shmio/shared_memory.h"

namespace shmio {

class Doorbell {
 public:
  // Opens the doorbell of the log at `path`. Errors: FailedPrecondition when
  // the file has no extension (written by the Node.js library, which never
  // rings: poll it with a timer instead), PermissionDenied when the reader
  // may not write to the file, NotFound when it is missing.
  static absl::StatusOr<std::unique_ptr<Doorbell>> Open(const std::string& path);

  // Same, for the very file `shm` maps (reopened through /proc/self/fd, so a
  // file replaced at the path since `shm` was opened cannot get in between).
  static absl::StatusOr<std::unique_ptr<Doorbell>> Open(const SharedMemory& shm);

  ~Doorbell();
  Doorbell(const Doorbell&) = delete;
  Doorbell& operator=(const Doorbell&) = delete;

  // Sets the armed flag, then (after a seq_cst fence) loads and returns
  // `committed`. If it differs from the value the caller last read, frames
  // arrived: drain instead of sleeping. Otherwise sleep until the file's
  // IN_MODIFY event; the writer's next commit rings.
  uint64_t ArmAndLoadCommitted();

  // Loads `committed` (acquire) through the doorbell's own mapping.
  uint64_t LoadCommitted() const {
    // Acquire: as in ArmAndLoadCommitted; the caller may read on from it.
    return format::AtomicWord(page_, format::kCommittedOffset)
        .load(std::memory_order_acquire);
  }

  const std::string& path() const { return path_; }

 private:
  Doorbell(std::string path, uint8_t* page);
  // Opens `open_path` read-write and maps the doorbell page of `path`.
  static absl::StatusOr<std::unique_ptr<Doorbell>> OpenAs(const std::string& open_path,
                                                          const std::string& path);

  std::string path_;
  uint8_t* page_;  // the file's first page, mapped read-write; owned
};

// The seq_cst fence each side of the protocol puts between its store and
// its load. ThreadSanitizer does not model fences, and gcc says so at each
// one it compiles with -fsanitize=thread (-Wtsan, an error under -Werror,
// also in users' builds of this header). Nothing here depends on TSan
// seeing it: both words are atomics (no data race to find), and the
// store-load order the fence gives is beyond a happens-before checker in
// any case. The wake-ups themselves are checked by
// //tests/shmio:doorbell_test and //tests/uvwatch:inotify_watcher_test.
inline void StoreLoadFence() {
#if defined(__SANITIZE_THREAD__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#endif
  std::atomic_thread_fence(std::memory_order_seq_cst);
#if defined(__SANITIZE_THREAD__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
}

// Rings: pwrite()s `ring_number` into the doorbell line of the file open as
// `fd`, which raises IN_MODIFY for every inotify watcher of the file. A
// failed pwrite is ignored: readers then wake by their safety timer.
void RingDoorbell(int fd, uint64_t ring_number);

// Writer side, once per process before its first commit: registers for
// the readers' membarrier() (see the protocol). Returns true when the
// writer may use a compiler barrier in place of a fence in Commit().
bool RegisterWriterForDoorbell();

// Writer side, used by Pool::Commit() right after its release store of
// `committed` into the mapping at `base`: rings if a reader is armed, and
// disarms. `registered` is RegisterWriterForDoorbell()'s answer. Returns
// true when it rang (made the syscall).
inline bool RingDoorbellIfArmed(uint8_t* base, int fd, uint64_t ring_number,
                                bool registered) {
  if (ABSL_PREDICT_TRUE(registered)) {
    // Compiler barrier only: the store of `committed` stays before the load
    // of `armed` in program order; the reader's membarrier() supplies the
    // hardware barrier between them (see the protocol).
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    // seq_cst fence: orders our store of `committed` before the load of
    // `armed` (store-load), pairing with the reader's fence.
    StoreLoadFence();
  }
  std::atomic_ref<uint64_t> armed =
      format::AtomicWord(base, format::kDoorbellArmedOffset);
  // Relaxed: the barrier above orders it; a plain load keeps the common case
  // (no reader asleep) free of read-modify-writes.
  if (ABSL_PREDICT_TRUE(armed.load(std::memory_order_relaxed) == 0)) return false;
  // Relaxed: only atomicity matters (one ring per arming, however many
  // readers armed); the syscall that follows is the wake-up.
  if (armed.exchange(0, std::memory_order_relaxed) == 0) return false;
  RingDoorbell(fd, ring_number);
  return true;
}

}  // namespace shmio

#endif  // SHMIO_DOORBELL_H_
