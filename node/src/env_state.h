// EnvState: what the addon keeps per Node.js environment (the main thread
// and each worker thread has its own env, loop and EnvState), set as the
// env's instance data.
//
// Teardown: when an env ends (process exit, worker.terminate(), a worker
// returning), Node runs the async cleanup hook registered here before it
// closes the env's loop. The hook closes every log still open (their
// mappings, writer locks and uvwatch subscriptions); uvwatch handles die
// in close callbacks on the loop, so the hook stays registered until the
// last of them has run, and only then tells Node it is done. A worker's
// loop is therefore always closed with no handle of ours on it.
//
// Thread safety: the env's thread only.
#ifndef NODE_SRC_ENV_STATE_H_
#define NODE_SRC_ENV_STATE_H_

#include <node_api.h>
#include <uv.h>

#include <cstddef>
#include <set>

namespace shmio_node {

class ChainCore;
class LogCore;

struct EnvState {
  napi_env env = nullptr;
  uv_loop_t* loop = nullptr;            // napi_get_uv_event_loop: this env's loop
  napi_ref log_constructor = nullptr;   // the Log class
  napi_ref subscription_constructor = nullptr;
  napi_ref chain_constructor = nullptr;
  napi_ref chain_reader_constructor = nullptr;
  std::set<LogCore*> logs;              // open or closing; not owned
  std::set<ChainCore*> chains;          // not owned
  size_t open_subscriptions = 0;        // until their last close callback
  napi_async_cleanup_hook_handle cleanup_hook = nullptr;
  bool tearing_down = false;

  // Creates the state for `env`, sets it as instance data and registers the
  // cleanup hook. Returns null after throwing.
  static EnvState* Create(napi_env env);
  static EnvState* Of(napi_env env);

  // Called when a subscription has finished closing.
  void SubscriptionClosed();

 private:
  static void OnCleanup(napi_async_cleanup_hook_handle handle, void* data);
  void FinishCleanupIfDone();
};

}  // namespace shmio_node

#endif  // NODE_SRC_ENV_STATE_H_
