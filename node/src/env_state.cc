#include "node/src/env_state.h"

#include <vector>

#include "node/src/chain_core.h"
#include "node/src/log_core.h"
#include "node/src/napi_util.h"

namespace shmio_node {
namespace {

void DeleteState(napi_env env, void* data, void* hint) {
  EnvState* state = static_cast<EnvState*>(data);
  // Instance data goes last, after the cleanup hook closed every log; a
  // log still referenced by a Buffer not yet finalized outlives it.
  for (LogCore* log : state->logs) log->DetachEnv();
  for (ChainCore* chain : state->chains) chain->DetachEnv();
  if (state->log_constructor != nullptr) napi_delete_reference(env, state->log_constructor);
  for (napi_ref ref : {state->subscription_constructor, state->chain_constructor,
                       state->chain_reader_constructor}) {
    if (ref != nullptr) napi_delete_reference(env, ref);
  }
  delete state;
}

}  // namespace

EnvState* EnvState::Create(napi_env env) {
  auto* state = new EnvState;
  state->env = env;
  if (napi_get_uv_event_loop(env, &state->loop) != napi_ok || state->loop == nullptr) {
    delete state;
    ThrowCode(env, "shmio: napi_get_uv_event_loop failed", "ERR_SHM_INTERNAL");
    return nullptr;
  }
  if (napi_set_instance_data(env, state, DeleteState, nullptr) != napi_ok) {
    delete state;
    ThrowCode(env, "shmio: napi_set_instance_data failed", "ERR_SHM_INTERNAL");
    return nullptr;
  }
  napi_add_async_cleanup_hook(env, &EnvState::OnCleanup, state, &state->cleanup_hook);
  return state;
}

EnvState* EnvState::Of(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return static_cast<EnvState*>(data);
}

void EnvState::OnCleanup(napi_async_cleanup_hook_handle handle, void* data) {
  EnvState* state = static_cast<EnvState*>(data);
  state->tearing_down = true;
  // Close() may erase from `logs` (a log with nothing left to wait for goes
  // at once), so walk a copy.
  std::vector<LogCore*> logs(state->logs.begin(), state->logs.end());
  for (LogCore* log : logs) log->Close();
  std::vector<ChainCore*> chains(state->chains.begin(), state->chains.end());
  for (ChainCore* chain : chains) chain->Close();
  state->FinishCleanupIfDone();
}

void EnvState::SubscriptionClosed() {
  --open_subscriptions;
  FinishCleanupIfDone();
}

void EnvState::FinishCleanupIfDone() {
  if (!tearing_down || open_subscriptions != 0 || cleanup_hook == nullptr) return;
  napi_async_cleanup_hook_handle hook = cleanup_hook;
  cleanup_hook = nullptr;
  napi_remove_async_cleanup_hook(hook);  // Node may now close the loop
}

}  // namespace shmio_node
