#include "node/src/subscription_core.h"

#include <string>
#include <utility>

#include "node/src/chain_window.h"
#include "node/src/env_state.h"
#include "node/src/log_core.h"
#include "node/src/napi_util.h"
#include "node/src/subscription_owner.h"

namespace shmio_node {

SubscriptionCore::SubscriptionCore(napi_env env, std::shared_ptr<SubscriptionOwner> owner,
                                   bool chain)
    : env_(env), owner_(std::move(owner)), chain_(chain) {}

absl::StatusOr<std::shared_ptr<SubscriptionCore>> SubscriptionCore::Open(
    napi_env env, std::shared_ptr<LogCore> log, const uvwatch::Options& options,
    napi_value on_batch, napi_value on_error) {
  std::shared_ptr<SubscriptionCore> self(new SubscriptionCore(env, log, /*chain=*/false));
  SubscriptionCore* raw = self.get();
  absl::StatusOr<uvwatch::Subscription*> sub = uvwatch::Subscription::Open(
      log->env()->loop, &log->shm(), options,
      [raw](const shmio::Batch& batch) { raw->OnBatch(batch); },
      [raw](const absl::Status& error) { raw->OnError(error); });
  if (!sub.ok()) return sub.status();
  self->Start(*sub, on_batch, on_error);
  return self;
}

absl::StatusOr<std::shared_ptr<SubscriptionCore>> SubscriptionCore::OpenChain(
    napi_env env, std::shared_ptr<SubscriptionOwner> owner, const std::string& directory,
    const uvwatch::Options& options, napi_value on_batch, napi_value on_error) {
  uv_loop_t* loop = owner->env()->loop;
  std::shared_ptr<SubscriptionCore> self(
      new SubscriptionCore(env, std::move(owner), /*chain=*/true));
  SubscriptionCore* raw = self.get();
  absl::StatusOr<uvwatch::Subscription*> sub = uvwatch::Subscription::OpenChain(
      loop, directory, options, [raw](const shmio::Batch& batch) { raw->OnBatch(batch); },
      [raw](const absl::Status& error) { raw->OnError(error); });
  if (!sub.ok()) return sub.status();
  self->Start(*sub, on_batch, on_error);
  return self;
}

void SubscriptionCore::Start(uvwatch::Subscription* sub, napi_value on_batch,
                             napi_value on_error) {
  sub_ = sub;
  self_ = shared_from_this();  // the loop's reference, until the last close callback
  mode_ = sub->mode();
  cursor_ = sub->cursor();
  napi_create_reference(env_, on_batch, 1, &on_batch_);
  napi_create_reference(env_, on_error, 1, &on_error_);
  napi_value resource = nullptr;
  napi_value name = String(env_, "shmio.subscription");
  napi_create_object(env_, &resource);
  napi_async_init(env_, resource, name, &async_context_);
  owner_->AddSubscription(this);
  ++owner_->env()->open_subscriptions;
}

SubscriptionCore::~SubscriptionCore() {
  if (on_batch_ != nullptr) napi_delete_reference(env_, on_batch_);
  if (on_error_ != nullptr) napi_delete_reference(env_, on_error_);
  if (on_closed_ != nullptr) napi_delete_reference(env_, on_closed_);
  if (async_context_ != nullptr) napi_async_destroy(env_, async_context_);
}

void SubscriptionCore::Close(napi_value on_closed) {
  if (sub_ == nullptr) {
    // Closed before (by JS, or by its log's close()): still closing, the
    // close callback below calls on_closed; closed, call it now.
    if (on_closed == nullptr) return;
    if (self_ != nullptr && on_closed_ == nullptr) {
      napi_create_reference(env_, on_closed, 1, &on_closed_);
    } else {
      napi_value global = nullptr;
      napi_get_global(env_, &global);
      napi_call_function(env_, global, on_closed, 0, nullptr, nullptr);
    }
    return;
  }
  uvwatch::Subscription* sub = sub_;
  cursor_ = sub->cursor();
  sub_ = nullptr;
  if (on_closed != nullptr) napi_create_reference(env_, on_closed, 1, &on_closed_);
  sub->Close([this] {
    EnvState* env = owner_->env();
    owner_->SubscriptionClosed(this);
    if (on_closed_ != nullptr && !env->tearing_down) {
      // A uv callback: JS values need a handle scope of their own.
      napi_handle_scope scope = nullptr;
      napi_open_handle_scope(env_, &scope);
      CallJs(on_closed_, 0, nullptr);
      napi_close_handle_scope(env_, scope);
    }
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

absl::Status SubscriptionCore::Ack(uint64_t position) {
  if (sub_ == nullptr) {
    return absl::FailedPreconditionError(
        "the subscription is closed: its name's last acknowledged position stays where it was");
  }
  return sub_->Ack(position);
}

uint64_t SubscriptionCore::cursor() const { return sub_ == nullptr ? cursor_ : sub_->cursor(); }

const char* SubscriptionCore::mode() const {
  return sub_ == nullptr ? "closed" : uvwatch::ModeName(mode_);
}

void SubscriptionCore::OnBatch(const shmio::Batch& batch) {
  napi_handle_scope scope = nullptr;
  napi_open_handle_scope(env_, &scope);
  cursor_ = batch.next_cursor;
  napi_value argv[5] = {Number(env_, static_cast<double>(batch.frames.from())),
                        Number(env_, static_cast<double>(batch.frames.to())),
                        Number(env_, static_cast<double>(batch.frame_count)), nullptr,
                        nullptr};
  size_t argc = 3;
  if (chain_) {
    argv[3] = BigInt(env_, batch.next_cursor);
    argv[4] = Undefined(env_);
    if (batch.file.get() != window_file_) {
      absl::StatusOr<napi_value> window = ReaderWindow(env_, batch.file);
      if (!window.ok()) {
        OnError(window.status());
        Close();
        napi_close_handle_scope(env_, scope);
        return;
      }
      argv[4] = *window;
      window_file_ = batch.file.get();
    }
    argc = 5;
  }
  CallJs(on_batch_, argc, argv);
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
