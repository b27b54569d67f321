// What a fork() child may do with its parent's writer: nothing.
//
// A child made by fork() (without exec) inherits the writer's descriptor
// and its writable mapping. Both refer to the open file description that
// holds the writer lock (writer_lock.h), so the child would keep the lock
// after the writer died, and could append through the parent's Pool at the
// same time as the parent. Every writable SharedMemory is therefore
// registered here, and a pthread_atfork child handler detaches each one in
// the child: the mapping is replaced, at the same address, by a read-only
// mapping through a new open file description (so the child can still read
// what it could read, and drops its hold on the lock), the descriptor is
// replaced likewise, and the Pool refuses every append and commit with
// FailedPrecondition naming both pids. exec() needs nothing: the
// descriptor is O_CLOEXEC and the mapping goes.
//
// Internal to //shmio (SharedMemory and Pool).
#ifndef SHMIO_FORK_GUARD_H_
#define SHMIO_FORK_GUARD_H_

namespace shmio {

class SharedMemory;

namespace internal {

// Registers a writable `shm` until UnregisterWriterForFork(shm). Installs
// the atfork handlers on first use. Thread-safe.
void RegisterWriterForFork(SharedMemory* shm);
void UnregisterWriterForFork(SharedMemory* shm);

}  // namespace internal
}  // namespace shmio

#endif  // SHMIO_FORK_GUARD_H_
