// The addon's entry point: one EnvState per env (main thread or worker),
// the Log, Subscription, Chain and ChainReader classes, open(),
// openChain() and loopMetrics().
#include <node_api.h>
#include <uv.h>

#include "node/src/bindings.h"
#include "node/src/env_state.h"
#include "node/src/napi_util.h"

namespace shmio_node {
namespace {

// Counters of this env's loop, from libuv's own metrics: how many times the
// loop went round (woke up) and how many events it handled. Tests use them
// to count wake-ups honestly.
napi_value LoopMetrics(napi_env env, napi_callback_info info) {
  EnvState* state = EnvState::Of(env);
  uv_metrics_t metrics{};
  int rc = uv_metrics_info(state->loop, &metrics);
  if (rc != 0) return ThrowCode(env, uv_strerror(rc), "ERR_SHM_INTERNAL");
  napi_value result = nullptr;
  napi_create_object(env, &result);
  SetProp(env, result, "loopCount", Number(env, static_cast<double>(metrics.loop_count)));
  SetProp(env, result, "events", Number(env, static_cast<double>(metrics.events)));
  SetProp(env, result, "eventsWaiting",
          Number(env, static_cast<double>(metrics.events_waiting)));
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  EnvState* state = EnvState::Create(env);
  if (state == nullptr) return nullptr;
  if (DefineLogClass(env, state, exports) != napi_ok ||
      DefineSubscriptionClass(env, state, exports) != napi_ok ||
      DefineChainClass(env, state, exports) != napi_ok ||
      DefineChainReaderClass(env, state, exports) != napi_ok) {
    return ThrowCode(env, "shmio: defining the addon's classes failed", "ERR_SHM_INTERNAL");
  }
  SetMethod(env, exports, "open", Open);
  SetMethod(env, exports, "subscribe", Subscribe);
  SetMethod(env, exports, "openChain", OpenChain);
  SetMethod(env, exports, "subscribeChain", SubscribeChain);
  SetMethod(env, exports, "loopMetrics", LoopMetrics);
  SetProp(env, exports, "uvVersion", String(env, uv_version_string()));
  return exports;
}

}  // namespace
}  // namespace shmio_node

NAPI_MODULE_INIT() { return shmio_node::Init(env, exports); }
