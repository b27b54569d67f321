#include "shmio/fork_guard.h"

#include <pthread.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "shmio/shared_memory.h"

namespace shmio {
namespace internal {
namespace {

// The registry. Leaked on purpose: writers may be destroyed during static
// destruction, after a static registry would be gone.
struct Registry {
  std::mutex mutex;
  std::vector<SharedMemory*> writers;
};

Registry& TheRegistry() {
  static Registry* registry = new Registry;
  return *registry;
}

// The prepare handler takes the lock so that no writer is half-registered
// when the address space is copied; parent and child release it.
void LockBeforeFork() { TheRegistry().mutex.lock(); }
void UnlockInParent() { TheRegistry().mutex.unlock(); }
void DetachInChild() {
  Registry& registry = TheRegistry();
  for (SharedMemory* shm : registry.writers) shm->DetachAfterFork();
  registry.mutex.unlock();
}

}  // namespace

void RegisterWriterForFork(SharedMemory* shm) {
  static const int installed =
      pthread_atfork(&LockBeforeFork, &UnlockInParent, &DetachInChild);
  (void)installed;  // only fails for lack of memory; then forks stay unguarded
  Registry& registry = TheRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.writers.push_back(shm);
}

void UnregisterWriterForFork(SharedMemory* shm) {
  Registry& registry = TheRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.writers.erase(
      std::remove(registry.writers.begin(), registry.writers.end(), shm),
      registry.writers.end());
}

}  // namespace internal
}  // namespace shmio
