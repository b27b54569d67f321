// JS objects that own a std::shared_ptr<T> (a LogCore or a
// SubscriptionCore): the constructor the class is defined with, and how
// the addon makes instances. JS cannot construct them itself: the
// constructor takes only an external made by NewWrapped().
//
// Thread safety: the env's thread only.
#ifndef NODE_SRC_WRAPPED_H_
#define NODE_SRC_WRAPPED_H_

#include <node_api.h>

#include <memory>
#include <string>

#include "node/src/napi_util.h"

namespace shmio_node {

template <typename T>
void FinalizeWrapped(napi_env env, void* data, void* hint) {
  delete static_cast<std::shared_ptr<T>*>(data);
}

// The class constructor: wraps `this` around the shared_ptr<T>* in
// argv[0] (and owns it from here on, freeing it if wrapping fails).
// `how` tells JS callers what to use instead ("open(options)").
template <typename T>
napi_value ConstructWrapped(napi_env env, napi_callback_info info, const char* what,
                            const char* how) {
  Args args;
  if (!GetArgs(env, info, &args)) return nullptr;
  napi_valuetype type = napi_undefined;
  if (args.argc >= 1) napi_typeof(env, args.argv[0], &type);
  void* data = nullptr;
  if (type != napi_external || napi_get_value_external(env, args.argv[0], &data) != napi_ok) {
    return ThrowType(env, std::string("shmio: ") + what + " cannot be constructed directly; use " + how);
  }
  auto* ref = static_cast<std::shared_ptr<T>*>(data);
  if (napi_wrap(env, args.self, ref, FinalizeWrapped<T>, nullptr, nullptr) != napi_ok) {
    delete ref;
    return ThrowCode(env, "shmio: napi_wrap failed", "ERR_SHM_INTERNAL");
  }
  return args.self;
}

// A new instance of the class `constructor` owning `object`.
template <typename T>
napi_value NewWrapped(napi_env env, napi_ref constructor, std::shared_ptr<T> object) {
  auto* ref = new std::shared_ptr<T>(std::move(object));
  napi_value external = nullptr;
  napi_create_external(env, ref, nullptr, nullptr, &external);
  napi_value function = nullptr;
  napi_get_reference_value(env, constructor, &function);
  napi_value instance = nullptr;
  // The constructor owns `ref` from here on (and frees it if it fails).
  if (napi_new_instance(env, function, 1, &external, &instance) != napi_ok) return nullptr;
  return instance;
}

// The shared_ptr<T> behind `object`, or null after throwing a TypeError
// that says `object` is not a `what`.
template <typename T>
std::shared_ptr<T>* UnwrapShared(napi_env env, napi_value object, const char* what) {
  void* data = nullptr;
  if (object == nullptr || napi_unwrap(env, object, &data) != napi_ok || data == nullptr) {
    ThrowType(env, std::string("shmio: this needs a ") + what);
    return nullptr;
  }
  return static_cast<std::shared_ptr<T>*>(data);
}

}  // namespace shmio_node

#endif  // NODE_SRC_WRAPPED_H_
