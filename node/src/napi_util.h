// Small helpers over Node-API's C interface: reading arguments and options
// with checks that name what was wrong, and turning absl::Status into a
// thrown JS Error. Every helper returns false (or an empty value) after it
// has thrown, so a binding function just returns nullptr.
//
// Thread safety: like Node-API itself, only on the thread of `env`.
#ifndef NODE_SRC_NAPI_UTIL_H_
#define NODE_SRC_NAPI_UTIL_H_

#include <node_api.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"

namespace shmio_node {

// The `code` of errors made from a Status ("ERR_SHM_DATA_LOSS", ...), so JS
// callers can tell them apart without parsing messages.
const char* CodeOf(absl::StatusCode code);

// Throws an Error whose message is `status.message()` and whose `code` is
// CodeOf(status.code()). Returns nullptr for the binding to return.
napi_value ThrowStatus(napi_env env, const absl::Status& status);

// Throws a TypeError with `message` (code ERR_INVALID_ARG_TYPE).
napi_value ThrowType(napi_env env, const std::string& message);

// Throws an Error with `message` and `code`.
napi_value ThrowCode(napi_env env, const std::string& message, const char* code);

// The arguments of a call: at most kMaxArgs, `self` is `this`.
struct Args {
  static constexpr size_t kMaxArgs = 6;
  napi_value self = nullptr;
  napi_value argv[kMaxArgs] = {};
  size_t argc = kMaxArgs;
  void* data = nullptr;
};
bool GetArgs(napi_env env, napi_callback_info info, Args* args);

bool IsUndefinedOrNull(napi_env env, napi_value value);

// Reads a non-negative integer from a number (integral, at most 2^53) or a
// bigint (lossless, at most 2^64 - 1). `what` names it in errors.
bool ToUint64(napi_env env, napi_value value, const char* what, uint64_t* out);
bool ToBool(napi_env env, napi_value value, const char* what, bool* out);
bool ToString(napi_env env, napi_value value, const char* what, std::string* out);

// Reads property `name` of `object` into *out; a missing (undefined)
// property leaves *out as it is and sets *present to false.
bool GetUint64Prop(napi_env env, napi_value object, const char* name,
                   uint64_t* out, bool* present = nullptr);
bool GetBoolProp(napi_env env, napi_value object, const char* name, bool* out);
bool GetStringProp(napi_env env, napi_value object, const char* name,
                   std::string* out, bool* present);

napi_value Number(napi_env env, double value);
// A bigint: chain positions cross as bigints (they may pass 2^53).
napi_value BigInt(napi_env env, uint64_t value);
napi_value Boolean(napi_env env, bool value);
napi_value String(napi_env env, const std::string& value);
napi_value Undefined(napi_env env);

// Sets object[name] = value.
void SetProp(napi_env env, napi_value object, const char* name, napi_value value);

// Defines a method `name` calling `fn` on `object`.
void SetMethod(napi_env env, napi_value object, const char* name, napi_callback fn,
               void* data = nullptr);

}  // namespace shmio_node

#endif  // NODE_SRC_NAPI_UTIL_H_
