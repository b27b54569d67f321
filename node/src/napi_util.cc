#include "node/src/napi_util.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"

namespace shmio_node {
namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1

napi_value MakeError(napi_env env, bool type_error, const std::string& message,
                     const char* code) {
  napi_value js_message = String(env, message);
  napi_value js_code = String(env, code);
  napi_value error = nullptr;
  if (type_error) {
    napi_create_type_error(env, js_code, js_message, &error);
  } else {
    napi_create_error(env, js_code, js_message, &error);
  }
  return error;
}

std::string TypeName(napi_env env, napi_value value) {
  napi_valuetype type = napi_undefined;
  napi_typeof(env, value, &type);
  switch (type) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_number: return "a number";
    case napi_string: return "a string";
    case napi_symbol: return "a symbol";
    case napi_object: return "an object";
    case napi_function: return "a function";
    case napi_external: return "an external";
    case napi_bigint: return "a bigint";
  }
  return "unknown";
}

}  // namespace

const char* CodeOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument: return "ERR_SHM_INVALID_ARGUMENT";
    case absl::StatusCode::kNotFound: return "ERR_SHM_NOT_FOUND";
    case absl::StatusCode::kFailedPrecondition: return "ERR_SHM_FAILED_PRECONDITION";
    case absl::StatusCode::kResourceExhausted: return "ERR_SHM_EXHAUSTED";
    case absl::StatusCode::kDataLoss: return "ERR_SHM_DATA_LOSS";
    case absl::StatusCode::kOutOfRange: return "ERR_SHM_OUT_OF_RANGE";
    case absl::StatusCode::kPermissionDenied: return "ERR_SHM_PERMISSION_DENIED";
    case absl::StatusCode::kAlreadyExists: return "ERR_SHM_ALREADY_EXISTS";
    default: return "ERR_SHM_INTERNAL";
  }
}

napi_value ThrowStatus(napi_env env, const absl::Status& status) {
  napi_throw(env, MakeError(env, false, std::string(status.message()),
                            CodeOf(status.code())));
  return nullptr;
}

napi_value ThrowType(napi_env env, const std::string& message) {
  napi_throw(env, MakeError(env, true, message, "ERR_INVALID_ARG_TYPE"));
  return nullptr;
}

napi_value ThrowCode(napi_env env, const std::string& message, const char* code) {
  napi_throw(env, MakeError(env, false, message, code));
  return nullptr;
}

bool GetArgs(napi_env env, napi_callback_info info, Args* args) {
  args->argc = Args::kMaxArgs;
  return napi_get_cb_info(env, info, &args->argc, args->argv, &args->self,
                          &args->data) == napi_ok;
}

bool IsUndefinedOrNull(napi_env env, napi_value value) {
  if (value == nullptr) return true;
  napi_valuetype type = napi_undefined;
  napi_typeof(env, value, &type);
  return type == napi_undefined || type == napi_null;
}

bool ToUint64(napi_env env, napi_value value, const char* what, uint64_t* out) {
  napi_valuetype type = napi_undefined;
  if (value != nullptr) napi_typeof(env, value, &type);
  if (type == napi_number) {
    double d = 0;
    napi_get_value_double(env, value, &d);
    if (!std::isfinite(d) || d < 0 || d != std::floor(d) || d > kMaxSafeInteger) {
      ThrowCode(env,
                absl::StrCat(what, " must be a non-negative integer (at most 2^53 - 1), got ", d),
                "ERR_OUT_OF_RANGE");
      return false;
    }
    *out = static_cast<uint64_t>(d);
    return true;
  }
  if (type == napi_bigint) {
    bool lossless = false;
    uint64_t v = 0;
    napi_get_value_bigint_uint64(env, value, &v, &lossless);
    if (!lossless) {
      ThrowCode(env, absl::StrCat(what, " must be a bigint from 0 to 2^64 - 1"),
                "ERR_OUT_OF_RANGE");
      return false;
    }
    *out = v;
    return true;
  }
  ThrowType(env, absl::StrCat(what, " must be a number or a bigint, got ",
                              TypeName(env, value)));
  return false;
}

bool ToBool(napi_env env, napi_value value, const char* what, bool* out) {
  napi_valuetype type = napi_undefined;
  if (value != nullptr) napi_typeof(env, value, &type);
  if (type != napi_boolean) {
    ThrowType(env, absl::StrCat(what, " must be a boolean, got ", TypeName(env, value)));
    return false;
  }
  napi_get_value_bool(env, value, out);
  return true;
}

bool ToString(napi_env env, napi_value value, const char* what, std::string* out) {
  napi_valuetype type = napi_undefined;
  if (value != nullptr) napi_typeof(env, value, &type);
  if (type != napi_string) {
    ThrowType(env, absl::StrCat(what, " must be a string, got ", TypeName(env, value)));
    return false;
  }
  size_t length = 0;
  napi_get_value_string_utf8(env, value, nullptr, 0, &length);
  out->assign(length, '\0');
  napi_get_value_string_utf8(env, value, out->data(), length + 1, &length);
  if (out->find('\0') != std::string::npos) {
    ThrowType(env, absl::StrCat(what, " must not contain NUL characters"));
    return false;
  }
  return true;
}

namespace {
napi_value GetProp(napi_env env, napi_value object, const char* name) {
  napi_value value = nullptr;
  if (napi_get_named_property(env, object, name, &value) != napi_ok) return nullptr;
  return value;
}
}  // namespace

bool GetUint64Prop(napi_env env, napi_value object, const char* name,
                   uint64_t* out, bool* present) {
  napi_value value = GetProp(env, object, name);
  bool has = !IsUndefinedOrNull(env, value);
  if (present != nullptr) *present = has;
  if (!has) return true;
  return ToUint64(env, value, absl::StrCat("options.", name).c_str(), out);
}

bool GetBoolProp(napi_env env, napi_value object, const char* name, bool* out) {
  napi_value value = GetProp(env, object, name);
  if (IsUndefinedOrNull(env, value)) return true;
  return ToBool(env, value, absl::StrCat("options.", name).c_str(), out);
}

bool GetStringProp(napi_env env, napi_value object, const char* name,
                   std::string* out, bool* present) {
  napi_value value = GetProp(env, object, name);
  *present = !IsUndefinedOrNull(env, value);
  if (!*present) return true;
  return ToString(env, value, absl::StrCat("options.", name).c_str(), out);
}

napi_value Number(napi_env env, double value) {
  napi_value result = nullptr;
  napi_create_double(env, value, &result);
  return result;
}

napi_value BigInt(napi_env env, uint64_t value) {
  napi_value result = nullptr;
  napi_create_bigint_uint64(env, value, &result);
  return result;
}

napi_value Boolean(napi_env env, bool value) {
  napi_value result = nullptr;
  napi_get_boolean(env, value, &result);
  return result;
}

napi_value String(napi_env env, const std::string& value) {
  napi_value result = nullptr;
  napi_create_string_utf8(env, value.data(), value.size(), &result);
  return result;
}

napi_value Undefined(napi_env env) {
  napi_value result = nullptr;
  napi_get_undefined(env, &result);
  return result;
}

void SetProp(napi_env env, napi_value object, const char* name, napi_value value) {
  napi_set_named_property(env, object, name, value);
}

void SetMethod(napi_env env, napi_value object, const char* name, napi_callback fn,
               void* data) {
  napi_value function = nullptr;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, data, &function);
  SetProp(env, object, name, function);
}

}  // namespace shmio_node
