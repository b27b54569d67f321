// SubscriptionCore: a uvwatch::Subscription on a LogCore's SharedMemory,
// calling JavaScript back on the env's own loop (napi_get_uv_event_loop,
// so a worker thread's subscription runs on that worker's loop).
//
// Each batch reaches JS as onBatch(from, to, count): absolute offsets of
// the frames [from, to), which the JS layer reads through the log's view.
// A chain's batch (OpenChain) reaches JS as onBatch(from, to, count,
// nextCursor, window): offsets in the batch's file, the chain position
// after it (a bigint), and a window Buffer over that file (chain_window.h)
// when the batch is in another file than the previous one (else
// undefined): the JS layer keeps the last window it was given.
// Errors reach JS as onError(message, code); the subscription then
// delivers nothing more. Callbacks run through napi_make_callback inside a
// handle scope, so promises and process.nextTick work in them, and an
// exception thrown by one becomes an uncaughtException like any other.
//
// Lifetime: the object holds a reference to itself while its uvwatch
// subscription is open, so it keeps running when JS drops its wrapper (like
// a timer). Close() (from JS, from LogCore::Close, or at env teardown)
// starts uvwatch's close; the self-reference goes in the last close
// callback, and the object dies once no JS wrapper holds it either.
//
// Thread safety: the env's thread only.
#ifndef NODE_SRC_SUBSCRIPTION_CORE_H_
#define NODE_SRC_SUBSCRIPTION_CORE_H_

#include <node_api.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "uvwatch/subscription.h"

namespace shmio_node {

class LogCore;
class SubscriptionOwner;

class SubscriptionCore : public std::enable_shared_from_this<SubscriptionCore> {
 public:
  // Subscribes to `log` (which must be open) with `options`; `on_batch` and
  // `on_error` are JS functions. Errors are uvwatch::Subscription::Open's.
  static absl::StatusOr<std::shared_ptr<SubscriptionCore>> Open(
      napi_env env, std::shared_ptr<LogCore> log, const uvwatch::Options& options,
      napi_value on_batch, napi_value on_error);
  // Follows the chain in `directory` (uvwatch::Subscription::OpenChain),
  // owned by `owner` (a ChainCore). Errors are OpenChain's.
  static absl::StatusOr<std::shared_ptr<SubscriptionCore>> OpenChain(
      napi_env env, std::shared_ptr<SubscriptionOwner> owner, const std::string& directory,
      const uvwatch::Options& options, napi_value on_batch, napi_value on_error);
  ~SubscriptionCore();
  SubscriptionCore(const SubscriptionCore&) = delete;
  SubscriptionCore& operator=(const SubscriptionCore&) = delete;

  // Idempotent; no batch or error callback runs after it. `on_closed`
  // (a JS function, may be null) is called once uvwatch has closed every
  // handle, when a named reader's name is free again (not at env
  // teardown, when no JS runs).
  void Close(napi_value on_closed = nullptr);
  bool closed() const { return sub_ == nullptr; }
  void Stop();
  absl::Status Resume();
  // "inotify" or "timer" (auto resolved); "closed" after Close().
  const char* mode() const;
  // A named chain reader's acknowledgement (uvwatch::Subscription::Ack).
  absl::Status Ack(uint64_t position);
  // The position (or offset) of the next frame to deliver.
  uint64_t cursor() const;

 private:
  SubscriptionCore(napi_env env, std::shared_ptr<SubscriptionOwner> owner, bool chain);
  // After uvwatch opened `sub`: the references, the async context, the
  // owner's and the env's counts.
  void Start(uvwatch::Subscription* sub, napi_value on_batch, napi_value on_error);
  void OnBatch(const shmio::Batch& batch);
  void OnError(const absl::Status& error);
  // Calls `ref` with `argv` as a top-level callback (see the file comment).
  void CallJs(napi_ref ref, size_t argc, const napi_value* argv);

  napi_env env_;
  std::shared_ptr<SubscriptionOwner> owner_;
  const bool chain_;
  // The file of the last window given to JS (chains only): compared, never
  // dereferenced.
  const void* window_file_ = nullptr;
  uint64_t cursor_ = 0;  // kept after Close(), for cursor()
  uvwatch::Subscription* sub_ = nullptr;  // owned by the loop; null once closing
  uvwatch::Mode mode_ = uvwatch::Mode::kTimer;
  napi_ref on_batch_ = nullptr;
  napi_ref on_error_ = nullptr;
  napi_ref on_closed_ = nullptr;
  napi_async_context async_context_ = nullptr;
  std::shared_ptr<SubscriptionCore> self_;  // while open; see Lifetime
};

}  // namespace shmio_node

#endif  // NODE_SRC_SUBSCRIPTION_CORE_H_
