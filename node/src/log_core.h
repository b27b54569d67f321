// LogCore: one open log as the addon holds it: the //shmio SharedMemory,
// the addon's View of it (what JS Buffers point into), the writer (Pool)
// once a JS Pool or writer asks for it, a Consumer that validates committed
// values and cursors, and the uvwatch subscriptions reading it.
//
// Lifetime: shared by the JS Log object and every subscription on it.
// Close() (from JS, from the JS object's finalizer, or from env teardown)
// retires the view, drops the writer and, once no subscription still needs
// the SharedMemory (they borrow it until their last uv close callback),
// unmaps the file and closes it, which releases the writer lock.
//
// Thread safety: the env's thread only.
#ifndef NODE_SRC_LOG_CORE_H_
#define NODE_SRC_LOG_CORE_H_

#include <cstdint>
#include <memory>
#include <set>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/src/subscription_owner.h"
#include "node/src/view.h"
#include "shmio/consumer.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"

namespace shmio_node {

struct EnvState;
class SubscriptionCore;

class LogCore : public SubscriptionOwner {
 public:
  // Opens the log (SharedMemory::Open) and maps the view. Errors are
  // SharedMemory::Open's, or the view's mmap.
  static absl::StatusOr<std::shared_ptr<LogCore>> Open(EnvState* env,
                                                       shmio::Options options);
  ~LogCore() override;
  LogCore(const LogCore&) = delete;
  LogCore& operator=(const LogCore&) = delete;

  bool closed() const { return closed_; }
  // Valid while !closed().
  shmio::SharedMemory& shm() const { return *shm_; }
  shmio::Consumer& consumer() const { return *consumer_; }
  shmio::Pool* pool() const { return pool_.get(); }
  const std::shared_ptr<View>& view() const { return view_; }
  EnvState* env() const override { return env_; }

  // Creates the writer. FailedPrecondition when read-only or when a writer
  // already exists on this log (Pool::Create's errors).
  absl::Status CreatePool();

  // See the class comment. Idempotent.
  void Close();

  // Payload sizes of frames the JS writer has placed but not yet handed
  // to the Pool (see lib/writer.js); JS writes them through an external
  // Uint32Array over this memory, which *this owns.
  std::vector<uint32_t>& pending_sizes() { return pending_sizes_; }
  static constexpr size_t kPendingFrames = 4096;

  void AddSubscription(SubscriptionCore* sub) override { subscriptions_.insert(sub); }

  // Called when the env's state goes (after its cleanup hook closed every
  // log): a Buffer finalizer that runs later may still drop the last
  // reference to *this, which must then not touch the EnvState.
  void DetachEnv() { env_ = nullptr; }
  // Called from the subscription's last close callback.
  void SubscriptionClosed(SubscriptionCore* sub) override;

 private:
  LogCore(EnvState* env, std::unique_ptr<shmio::SharedMemory> shm,
          std::shared_ptr<View> view);
  void ReleaseFileIfUnused();

  EnvState* env_;  // null once the env's state is gone
  std::unique_ptr<shmio::SharedMemory> shm_;
  std::shared_ptr<View> view_;
  std::unique_ptr<shmio::Consumer> consumer_;
  std::unique_ptr<shmio::Pool> pool_;
  std::set<SubscriptionCore*> subscriptions_;  // open or closing; not owned
  std::vector<uint32_t> pending_sizes_ = std::vector<uint32_t>(kPendingFrames);
  bool closed_ = false;
};

}  // namespace shmio_node

#endif  // NODE_SRC_LOG_CORE_H_
