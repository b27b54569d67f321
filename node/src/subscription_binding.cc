// subscribe(log, options, onBatch, onError), subscribeChain(chain, options,
// onBatch, onError) and the Subscription class.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "node/src/bindings.h"
#include "node/src/chain_core.h"
#include "node/src/log_core.h"
#include "node/src/napi_util.h"
#include "node/src/subscription_core.h"
#include "node/src/wrapped.h"

namespace shmio_node {
namespace {

using SubscriptionRef = std::shared_ptr<SubscriptionCore>;

SubscriptionCore* Self(napi_env env, napi_callback_info info, Args* args) {
  if (!GetArgs(env, info, args)) return nullptr;
  SubscriptionRef* ref =
      UnwrapShared<SubscriptionCore>(env, args->self, "Subscription made by subscribe()");
  return ref == nullptr ? nullptr : ref->get();
}

bool IsFunction(napi_env env, napi_value value) {
  napi_valuetype type = napi_undefined;
  if (value != nullptr) napi_typeof(env, value, &type);
  return type == napi_function;
}

napi_value Construct(napi_env env, napi_callback_info info) {
  return ConstructWrapped<SubscriptionCore>(env, info, "Subscription", "subscribe()");
}

napi_value Close(napi_env env, napi_callback_info info) {
  Args args;
  SubscriptionCore* sub = Self(env, info, &args);
  if (sub == nullptr) return nullptr;
  // close(onClosed?): see SubscriptionCore::Close.
  napi_value on_closed = nullptr;
  if (args.argc >= 1 && !IsUndefinedOrNull(env, args.argv[0])) {
    if (!IsFunction(env, args.argv[0])) return ThrowType(env, "shmio: close(onClosed) takes a function");
    on_closed = args.argv[0];
  }
  sub->Close(on_closed);
  return Undefined(env);
}

napi_value Stop(napi_env env, napi_callback_info info) {
  Args args;
  SubscriptionCore* sub = Self(env, info, &args);
  if (sub == nullptr) return nullptr;
  sub->Stop();
  return Undefined(env);
}

napi_value Resume(napi_env env, napi_callback_info info) {
  Args args;
  SubscriptionCore* sub = Self(env, info, &args);
  if (sub == nullptr) return nullptr;
  absl::Status resumed = sub->Resume();
  if (!resumed.ok()) return ThrowStatus(env, resumed);
  return Undefined(env);
}

napi_value Mode(napi_env env, napi_callback_info info) {
  Args args;
  SubscriptionCore* sub = Self(env, info, &args);
  if (sub == nullptr) return nullptr;
  return String(env, sub->mode());
}

// ack(position): a named chain reader's acknowledgement.
napi_value Ack(napi_env env, napi_callback_info info) {
  Args args;
  SubscriptionCore* sub = Self(env, info, &args);
  if (sub == nullptr) return nullptr;
  uint64_t position = 0;
  if (!ToUint64(env, args.argv[0], "position", &position)) return nullptr;
  absl::Status acked = sub->Ack(position);
  if (!acked.ok()) return ThrowStatus(env, acked);
  return Undefined(env);
}

// cursor(): the next frame's position (bigint): where a resumed reader
// would start.
napi_value Cursor(napi_env env, napi_callback_info info) {
  Args args;
  SubscriptionCore* sub = Self(env, info, &args);
  if (sub == nullptr) return nullptr;
  return BigInt(env, sub->cursor());
}


// Reads the uvwatch options; false after throwing.
bool ReadOptions(napi_env env, napi_value object, uvwatch::Options* o) {
  std::string mode;
  bool has_mode = false;
  if (!GetStringProp(env, object, "mode", &mode, &has_mode)) return false;
  if (has_mode) {
    if (mode == "auto") {
      o->mode = uvwatch::Mode::kAuto;
    } else if (mode == "timer") {
      o->mode = uvwatch::Mode::kTimer;
    } else if (mode == "inotify") {
      o->mode = uvwatch::Mode::kInotify;
    } else {
      ThrowType(env, absl::StrCat("shmio: options.mode must be 'auto', 'timer' or 'inotify', got '",
                                  mode, "'"));
      return false;
    }
  }
  uint64_t max_frames = o->max_frames_per_batch, max_bytes = o->max_bytes_per_batch;
  bool has_cursor = false;
  if (!GetUint64Prop(env, object, "pollIntervalMs", &o->poll_interval_ms) ||
      !GetUint64Prop(env, object, "safetyIntervalMs", &o->safety_interval_ms) ||
      !GetUint64Prop(env, object, "maxFrames", &max_frames) ||
      !GetUint64Prop(env, object, "maxBytes", &max_bytes) ||
      !GetUint64Prop(env, object, "cursor", &o->cursor, &has_cursor)) {
    return false;
  }
  o->max_frames_per_batch = max_frames;
  o->max_bytes_per_batch = max_bytes;
  // Cursor 0 is the beginning, wherever the header puts it.
  o->start = has_cursor && o->cursor != 0 ? uvwatch::Start::kCursor : uvwatch::Start::kBeginning;
  return true;
}

// ReadOptions and a chain's: {start: 'beginning'|'end'|'position' (with
// cursor, a position), readerName, autoAck}; false after throwing.
bool ReadChainOptions(napi_env env, napi_value object, uvwatch::Options* o) {
  if (!ReadOptions(env, object, o)) return false;
  std::string start;
  bool has_start = false;
  if (!GetStringProp(env, object, "start", &start, &has_start)) return false;
  if (has_start) {
    if (start == "beginning") {
      o->start = uvwatch::Start::kBeginning;
    } else if (start == "end") {
      o->start = uvwatch::Start::kEnd;
    } else if (start == "position") {
      // A chain's position 0 is a position like any other (a chain may
      // start elsewhere: ChainOptions::first_position).
      o->start = uvwatch::Start::kCursor;
    } else {
      ThrowType(env, "shmio: options.start must be 'beginning', 'end' or 'position', got '" +
                         start + "'");
      return false;
    }
  }
  bool has_name = false;
  if (!GetStringProp(env, object, "readerName", &o->reader_name, &has_name) ||
      !GetBoolProp(env, object, "autoAck", &o->auto_ack)) {
    return false;
  }
  return true;
}

}  // namespace

napi_status DefineSubscriptionClass(napi_env env, EnvState* state, napi_value exports) {
  const napi_property_descriptor methods[] = {
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stop", nullptr, Stop, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"resume", nullptr, Resume, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"mode", nullptr, Mode, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"ack", nullptr, Ack, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"cursor", nullptr, Cursor, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value constructor = nullptr;
  napi_status status =
      napi_define_class(env, "Subscription", NAPI_AUTO_LENGTH, Construct, nullptr,
                        sizeof(methods) / sizeof(methods[0]), methods, &constructor);
  if (status != napi_ok) return status;
  status = napi_create_reference(env, constructor, 1, &state->subscription_constructor);
  if (status != napi_ok) return status;
  return napi_set_named_property(env, exports, "Subscription", constructor);
}

napi_value Subscribe(napi_env env, napi_callback_info info) {
  Args args;
  if (!GetArgs(env, info, &args)) return nullptr;
  std::shared_ptr<LogCore>* log = LogOf(env, args.argv[0]);
  if (log == nullptr) return nullptr;
  if ((*log)->closed()) {
    return ThrowCode(env, "shmio: the shared memory is closed; open it again to subscribe",
                     "ERR_SHM_CLOSED");
  }
  napi_valuetype type = napi_undefined;
  if (args.argv[1] != nullptr) napi_typeof(env, args.argv[1], &type);
  if (type != napi_object) return ThrowType(env, "shmio: subscribe() needs an options object");
  if (!IsFunction(env, args.argv[2]) || !IsFunction(env, args.argv[3])) {
    return ThrowType(env, "shmio: subscribe() needs onBatch and onError functions");
  }
  uvwatch::Options options;
  if (!ReadOptions(env, args.argv[1], &options)) return nullptr;
  absl::StatusOr<SubscriptionRef> sub =
      SubscriptionCore::Open(env, *log, options, args.argv[2], args.argv[3]);
  if (!sub.ok()) {
    // A failed uvwatch Open may leave a watcher closing on the loop; it
    // finishes by itself on the next turn.
    return ThrowStatus(env, sub.status());
  }
  return NewWrapped<SubscriptionCore>(env, EnvState::Of(env)->subscription_constructor,
                                      *std::move(sub));
}

napi_value SubscribeChain(napi_env env, napi_callback_info info) {
  Args args;
  if (!GetArgs(env, info, &args)) return nullptr;
  std::shared_ptr<ChainCore>* chain = ChainOf(env, args.argv[0]);
  if (chain == nullptr) return nullptr;
  if ((*chain)->closed()) {
    return ThrowCode(env, absl::StrCat("shmio: the chain ", (*chain)->directory(),
                                       " is closed; open it again to subscribe"),
                     "ERR_SHM_CLOSED");
  }
  napi_valuetype type = napi_undefined;
  if (args.argv[1] != nullptr) napi_typeof(env, args.argv[1], &type);
  if (type != napi_object) return ThrowType(env, "shmio: subscribeChain() needs an options object");
  if (!IsFunction(env, args.argv[2]) || !IsFunction(env, args.argv[3])) {
    return ThrowType(env, "shmio: subscribeChain() needs onBatch and onError functions");
  }
  uvwatch::Options options;
  if (!ReadChainOptions(env, args.argv[1], &options)) return nullptr;
  absl::StatusOr<SubscriptionRef> sub = SubscriptionCore::OpenChain(
      env, *chain, (*chain)->directory(), options, args.argv[2], args.argv[3]);
  if (!sub.ok()) return ThrowStatus(env, sub.status());
  return NewWrapped<SubscriptionCore>(env, EnvState::Of(env)->subscription_constructor,
                                      *std::move(sub));
}

}  // namespace shmio_node
