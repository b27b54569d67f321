// The JS-facing classes of the addon. The package's JS layer (node/lib)
// is the only intended caller: it validates arguments first and gives the
// friendly errors, but every binding checks its arguments again, so a
// direct call with bad input throws and never crashes.
//
//   open(options) -> Log           options: {path, writable, capacity, size,
//                                   num, overlap, prefault, debugChecks}
//   loopMetrics() -> {loopCount, events, eventsWaiting}   this env's loop
//   subscribe(log, options, onBatch, onError) -> Subscription
//   Log:           info, windows, header, committed, checkCursor,
//                  frameError, createPool, slice, pendingSizes, append,
//                  commit, size, status, setActive, doorbellRings, close,
//                  isClosed
//   Subscription:  close, stop, resume, mode, ack, cursor
//   openChain(options) -> Chain   options: {directory, writable, create,
//                                   fileCapacity, retain*, maxReaderLag,
//                                   dropSlowReaders, firstPosition, ...}
//   subscribeChain(chain, options, onBatch, onError) -> Subscription
//   Chain:         info, window, slice, append, commit, flush, stats,
//                  openReader, close, isClosed
//   ChainReader:   next, cursor, committed, seek, seekToEnd,
//                  seekToBeginning, ack, acked, name, close
//
// Offsets crossing this boundary are absolute file offsets, as JS numbers
// (exact up to 2^53 bytes); chain positions as bigints.
#ifndef NODE_SRC_BINDINGS_H_
#define NODE_SRC_BINDINGS_H_

#include <node_api.h>

#include <memory>

#include "node/src/env_state.h"

namespace shmio_node {

// Defines the Log class on `exports` and stores its constructor in `state`.
napi_status DefineLogClass(napi_env env, EnvState* state, napi_value exports);
napi_status DefineSubscriptionClass(napi_env env, EnvState* state, napi_value exports);
napi_status DefineChainClass(napi_env env, EnvState* state, napi_value exports);
napi_status DefineChainReaderClass(napi_env env, EnvState* state, napi_value exports);

class LogCore;
class ChainCore;

// The LogCore behind a Log object, or null after throwing a TypeError.
std::shared_ptr<LogCore>* LogOf(napi_env env, napi_value object);
// The ChainCore behind a Chain object, or null after throwing a TypeError.
std::shared_ptr<ChainCore>* ChainOf(napi_env env, napi_value object);

// open(options) and subscribe(log, options, onBatch, onError).
napi_value Open(napi_env env, napi_callback_info info);
napi_value Subscribe(napi_env env, napi_callback_info info);
// openChain(options) and subscribeChain(chain, options, onBatch, onError).
napi_value OpenChain(napi_env env, napi_callback_info info);
napi_value SubscribeChain(napi_env env, napi_callback_info info);

}  // namespace shmio_node

#endif  // NODE_SRC_BINDINGS_H_
