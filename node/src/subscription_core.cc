#include "node/src/subscription_core.h"

#include <utility>

#include "node/src/env_state.h"
#include "node/src/log_core.h"
#include "node/src/napi_util.h"

namespace shmio_node {

SubscriptionCore::SubscriptionCore(napi_env env, std::shared_ptr<LogCore> log)
    : env_(env), log_(std::move(log)) {}

absl::StatusOr<std::shared_ptr<SubscriptionCore>> SubscriptionCore::Open(
    napi_env env, std::shared_ptr<LogCore> log, const uvwatch::Options& options,
    napi_value on_batch, napi_value on_error) {
  std::shared_ptr<SubscriptionCore> self(new SubscriptionCore(env, log));
  SubscriptionCore* raw = self.get();
  absl::StatusOr<uvwatch::Subscription*> sub = uvwatch::Subscription::Open(
      log->env()->loop, &log->shm(), options,
      [raw](const shmio::Batch& batch) { raw->OnBatch(batch); },
      [raw](const absl::Status& error) { raw->OnError(error); });
  if (!sub.ok()) return sub.status();
  self->sub_ = *sub;
  self->self_ = self;  // the loop's reference, until the last close callback
  self->mode_ = (*sub)->mode();
  napi_create_reference(env, on_batch, 1, &self->on_batch_);
  napi_create_reference(env, on_error, 1, &self->on_error_);
  napi_value resource = nullptr;
  napi_value name = String(env, "shmio.subscription");
  napi_create_object(env, &resource);
  napi_async_init(env, resource, name, &self->async_context_);
  log->AddSubscription(raw);
  ++log->env()->open_subscriptions;
  return self;
}

SubscriptionCore::~SubscriptionCore() {
  if (on_batch_ != nullptr) napi_delete_reference(env_, on_batch_);
  if (on_error_ != nullptr) napi_delete_reference(env_, on_error_);
  if (async_context_ != nullptr) napi_async_destroy(env_, async_context_);
}

void SubscriptionCore::Close() {
  if (sub_ == nullptr) return;
  uvwatch::Subscription* sub = sub_;
  sub_ = nullptr;
  sub->Close([this] {
    EnvState* env = log_->env();
    log_->SubscriptionClosed(this);
    // Drop the loop's reference: *this may go here, with its napi
    // references, while the env is still alive (the cleanup hook waits).
    { std::shared_ptr<SubscriptionCore> last = std::move(self_); }
    env->SubscriptionClosed();
  });
}

void SubscriptionCore::Stop() {
  if (sub_ != nullptr) sub_->Stop();
}

absl::Status SubscriptionCore::Resume() {
  if (sub_ == nullptr) {
    return absl::FailedPreconditionError("the subscription is closed");
  }
  return sub_->Resume();
}

const char* SubscriptionCore::mode() const {
  return sub_ == nullptr ? "closed" : uvwatch::ModeName(mode_);
}

void SubscriptionCore::OnBatch(const shmio::Batch& batch) {
  napi_handle_scope scope = nullptr;
  napi_open_handle_scope(env_, &scope);
  napi_value argv[3] = {Number(env_, static_cast<double>(batch.frames.from())),
                        Number(env_, static_cast<double>(batch.frames.to())),
                        Number(env_, static_cast<double>(batch.frame_count))};
  CallJs(on_batch_, 3, argv);
  napi_close_handle_scope(env_, scope);
}

void SubscriptionCore::OnError(const absl::Status& error) {
  napi_handle_scope scope = nullptr;
  napi_open_handle_scope(env_, &scope);
  napi_value argv[2] = {String(env_, std::string(error.message())),
                        String(env_, CodeOf(error.code()))};
  CallJs(on_error_, 2, argv);
  napi_close_handle_scope(env_, scope);
}

void SubscriptionCore::CallJs(napi_ref ref, size_t argc, const napi_value* argv) {
  // Keep *this alive across the call: the callback may close the
  // subscription and drop the last JS reference to it.
  std::shared_ptr<SubscriptionCore> keep = shared_from_this();
  napi_value function = nullptr;
  napi_get_reference_value(env_, ref, &function);
  napi_value global = nullptr;
  napi_get_global(env_, &global);
  napi_value result = nullptr;
  napi_status status =
      napi_make_callback(env_, async_context_, global, function, argc, argv, &result);
  if (status == napi_pending_exception) {
    napi_value exception = nullptr;
    napi_get_and_clear_last_exception(env_, &exception);
    napi_fatal_exception(env_, exception);  // 'uncaughtException', as for timers
  }
}

}  // namespace shmio_node
