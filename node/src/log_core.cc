#include "node/src/log_core.h"

#include <utility>
#include <vector>

#include "node/src/env_state.h"
#include "node/src/subscription_core.h"

namespace shmio_node {

absl::StatusOr<std::shared_ptr<LogCore>> LogCore::Open(EnvState* env,
                                                       shmio::Options options) {
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm =
      shmio::SharedMemory::Open(std::move(options));
  if (!shm.ok()) return shm.status();
  absl::StatusOr<std::shared_ptr<View>> view = View::Map(
      (*shm)->fd(), (*shm)->capacity(), (*shm)->writable(), (*shm)->path());
  if (!view.ok()) return view.status();
  return std::shared_ptr<LogCore>(new LogCore(env, *std::move(shm), *std::move(view)));
}

LogCore::LogCore(EnvState* env, std::unique_ptr<shmio::SharedMemory> shm,
                 std::shared_ptr<View> view)
    : env_(env),
      shm_(std::move(shm)),
      view_(std::move(view)),
      consumer_(std::make_unique<shmio::Consumer>(shm_.get())) {
  env_->logs.insert(this);
}

LogCore::~LogCore() {
  Close();
  if (env_ != nullptr) env_->logs.erase(this);
}

absl::Status LogCore::CreatePool() {
  absl::StatusOr<std::unique_ptr<shmio::Pool>> pool = shmio::Pool::Create(shm_.get());
  if (!pool.ok()) return pool.status();
  pool_ = *std::move(pool);
  return absl::OkStatus();
}

void LogCore::Close() {
  if (closed_) return;
  closed_ = true;
  // Buffers handed to JS stay mapped (to zero pages) until they are
  // collected; the file itself goes now (see view.h).
  view_->Retire();
  pool_.reset();
  consumer_.reset();
  std::vector<SubscriptionCore*> subscriptions(subscriptions_.begin(),
                                               subscriptions_.end());
  for (SubscriptionCore* sub : subscriptions) sub->Close();
  ReleaseFileIfUnused();
}

void LogCore::SubscriptionClosed(SubscriptionCore* sub) {
  subscriptions_.erase(sub);
  ReleaseFileIfUnused();
}

void LogCore::ReleaseFileIfUnused() {
  // uvwatch subscriptions borrow the SharedMemory until their last close
  // callback; after that, unmap and close the file (drops the writer lock).
  if (closed_ && subscriptions_.empty()) shm_.reset();
}

}  // namespace shmio_node
