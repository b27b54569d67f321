// The Log class: one open log (a LogCore) as the JS layer sees it.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/src/bindings.h"
#include "node/src/log_core.h"
#include "node/src/napi_util.h"
#include "node/src/wrapped.h"
#include "shmio/iterator.h"

namespace shmio_node {
namespace {

// Window layout (see windows()): a Buffer may hold at most 2^32 bytes, so a
// larger log is seen through windows that start every kWindowStride bytes
// and reach kWindowSlack further, so every frame (at most 65,535 bytes)
// lies whole in the window of its first byte.
constexpr uint64_t kWindowStride = uint64_t{1} << 31;
constexpr uint64_t kWindowSlack = uint64_t{1} << 16;

using LogRef = std::shared_ptr<LogCore>;

// Every window Buffer keeps the log's memory mapped (see view.h).
void FinalizeWindow(napi_env env, void* data, void* hint) {
  delete static_cast<LogRef*>(hint);
}

LogRef* UnwrapRef(napi_env env, napi_value self) {
  return UnwrapShared<LogCore>(env, self, "Log object made by open()");
}

// The LogCore behind `this`, or null after throwing; closed logs throw
// ERR_SHM_CLOSED naming the path.
LogCore* Self(napi_env env, napi_callback_info info, Args* args) {
  if (!GetArgs(env, info, args)) return nullptr;
  LogRef* ref = UnwrapRef(env, args->self);
  if (ref == nullptr) return nullptr;
  LogCore* log = ref->get();
  if (log->closed()) {
    ThrowCode(env, "shmio: the shared memory is closed; open it again to use it",
              "ERR_SHM_CLOSED");
    return nullptr;
  }
  return log;
}

// The writer behind `this`, or null after throwing (closed, or no Pool).
shmio::Pool* SelfPool(napi_env env, napi_callback_info info, Args* args, LogCore** log_out) {
  LogCore* log = Self(env, info, args);
  if (log == nullptr) return nullptr;
  if (log->pool() == nullptr) {
    ThrowCode(env, absl::StrCat("shmio: ", log->shm().path(), " has no writer (Pool) yet"),
              "ERR_SHM_FAILED_PRECONDITION");
  }
  if (log_out != nullptr) *log_out = log;
  return log->pool();
}

napi_value Pair(napi_env env, uint64_t a, uint64_t b) {
  napi_value array = nullptr;
  napi_create_array_with_length(env, 2, &array);
  napi_set_element(env, array, 0, Number(env, static_cast<double>(a)));
  napi_set_element(env, array, 1, Number(env, static_cast<double>(b)));
  return array;
}

napi_value Construct(napi_env env, napi_callback_info info) {
  return ConstructWrapped<LogCore>(env, info, "Log", "open(options)");
}

napi_value Info(napi_env env, napi_callback_info info) {
  Args args;
  LogCore* log = Self(env, info, &args);
  if (log == nullptr) return nullptr;
  const shmio::SharedMemory& shm = log->shm();
  shmio::HeaderSnapshot header = shm.ReadHeader();
  napi_value result = nullptr;
  napi_create_object(env, &result);
  SetProp(env, result, "path", String(env, shm.path()));
  SetProp(env, result, "writable", Boolean(env, shm.writable()));
  SetProp(env, result, "debugChecks", Boolean(env, shm.debug_checks()));
  SetProp(env, result, "capacity", Number(env, static_cast<double>(shm.capacity())));
  SetProp(env, result, "format", String(env, shmio::FileFormatName(header.format)));
  SetProp(env, result, "dataOffset", Number(env, static_cast<double>(header.data_offset)));
  if (shm.geometry()) {
    SetProp(env, result, "size", Number(env, static_cast<double>(shm.geometry()->size)));
    SetProp(env, result, "num", Number(env, static_cast<double>(shm.geometry()->num)));
    SetProp(env, result, "overlap", Number(env, static_cast<double>(shm.geometry()->overlap)));
  }
  return result;
}

napi_value Windows(napi_env env, napi_callback_info info) {
  Args args;
  LogCore* log = Self(env, info, &args);
  if (log == nullptr) return nullptr;
  LogRef* self_ref = UnwrapRef(env, args.self);
  uint8_t* base = log->view()->data();
  uint64_t capacity = log->view()->size();
  napi_value buffers = nullptr;
  napi_create_array(env, &buffers);
  uint32_t index = 0;
  for (uint64_t start = 0; start < capacity; start += kWindowStride, ++index) {
    uint64_t length = std::min(kWindowStride + kWindowSlack, capacity - start);
    auto* hint = new LogRef(*self_ref);
    napi_value buffer = nullptr;
    if (napi_create_external_buffer(env, length, base + start, FinalizeWindow, hint,
                                    &buffer) != napi_ok) {
      delete hint;
      return ThrowCode(env, absl::StrCat("shmio: could not make a Buffer of ", length,
                                         " bytes over ", log->shm().path()),
                       "ERR_SHM_INTERNAL");
    }
    napi_set_element(env, buffers, index, buffer);
  }
  napi_value result = nullptr;
  napi_create_object(env, &result);
  SetProp(env, result, "stride", Number(env, static_cast<double>(kWindowStride)));
  SetProp(env, result, "buffers", buffers);
  return result;
}

// [headerSize, dataOffset, committed] as they are now (committed raw, as
// loaded with acquire; not validated).
napi_value Header(napi_env env, napi_callback_info info) {
  Args args;
  LogCore* log = Self(env, info, &args);
  if (log == nullptr) return nullptr;
  shmio::HeaderSnapshot header = log->shm().ReadHeader();
  napi_value array = nullptr;
  napi_create_array_with_length(env, 3, &array);
  napi_set_element(env, array, 0, Number(env, static_cast<double>(header.header_size)));
  napi_set_element(env, array, 1, Number(env, static_cast<double>(header.data_offset)));
  napi_set_element(env, array, 2, Number(env, static_cast<double>(header.committed)));
  return array;
}

// The last validated committed value (Consumer::Committed): 0 while no
// writer has initialised the header.
napi_value Committed(napi_env env, napi_callback_info info) {
  Args args;
  LogCore* log = Self(env, info, &args);
  if (log == nullptr) return nullptr;
  absl::StatusOr<uint64_t> committed = log->consumer().Committed();
  if (!committed.ok()) return ThrowStatus(env, committed.status());
  return Number(env, static_cast<double>(*committed));
}

// Throws unless `cursor` (absolute; 0 = the beginning) is a frame boundary
// at or below the committed value.
napi_value CheckCursor(napi_env env, napi_callback_info info) {
  Args args;
  LogCore* log = Self(env, info, &args);
  if (log == nullptr) return nullptr;
  uint64_t cursor = 0;
  if (!ToUint64(env, args.argv[0], "cursor", &cursor)) return nullptr;
  absl::Status seek = log->consumer().Seek(cursor);
  if (!seek.ok()) return ThrowStatus(env, seek);
  return Undefined(env);
}

// frameError(offset, limit, debug?): throws the DataLoss that explains why
// the frame at `offset` does not fit below `limit` (the JS reader found it
// so); `debug` adds the leading == trailing check to the log's own setting.
napi_value FrameError(napi_env env, napi_callback_info info) {
  Args args;
  LogCore* log = Self(env, info, &args);
  if (log == nullptr) return nullptr;
  uint64_t offset = 0, limit = 0;
  if (!ToUint64(env, args.argv[0], "offset", &offset) ||
      !ToUint64(env, args.argv[1], "limit", &limit)) {
    return nullptr;
  }
  bool debug = false;
  if (!IsUndefinedOrNull(env, args.argv[2]) && !ToBool(env, args.argv[2], "debug", &debug)) {
    return nullptr;
  }
  const shmio::SharedMemory& shm = log->shm();
  if (offset > limit || limit > shm.capacity()) {
    return ThrowCode(env, absl::StrCat("shmio: offsets ", offset, "..", limit,
                                       " are not within ", shm.path(), " (",
                                       shm.capacity(), " bytes)"),
                     "ERR_OUT_OF_RANGE");
  }
  return ThrowStatus(env, shmio::FrameDamageAt(shm.data(), offset, limit,
                                               shm.debug_checks() || debug, shm.path()));
}

napi_value CreatePool(napi_env env, napi_callback_info info) {
  Args args;
  LogCore* log = Self(env, info, &args);
  if (log == nullptr) return nullptr;
  absl::Status created = log->CreatePool();
  if (!created.ok()) return ThrowStatus(env, created);
  return Undefined(env);
}

// slice(n): reserves a frame for an n-byte payload; returns the payload's
// absolute offset.
napi_value Slice(napi_env env, napi_callback_info info) {
  Args args;
  shmio::Pool* pool = SelfPool(env, info, &args, nullptr);
  if (pool == nullptr) return nullptr;
  uint64_t n = 0;
  if (!ToUint64(env, args.argv[0], "size", &n)) return nullptr;
  if (!pool->active()) {
    return ThrowCode(env, "shmio: the pool is inactive (setActive(false)); no log space to slice",
                     "ERR_SHM_FAILED_PRECONDITION");
  }
  absl::StatusOr<absl::Span<uint8_t>> span = pool->SliceSize(static_cast<size_t>(n));
  if (!span.ok()) return ThrowStatus(env, span.status());
  return Number(env, static_cast<double>(span->data() - pool->shared_memory().data()));
}

// Appends the frames the JS writer has placed since its last call (see
// lib/writer.js): the first `count` entries of the log's pending sizes
// (pendingSizes()), the first of which JS placed at absolute offset
// `start`. Each goes through Pool::SliceSize, which checks it and writes
// its sizes; each must land where JS put it, or the writer's placement and
// the Pool disagree (an error, and JS resynchronises). False after throwing.
bool AppendPending(napi_env env, const Args& args, LogCore* log, shmio::Pool* pool) {
  if (IsUndefinedOrNull(env, args.argv[0])) return true;
  uint64_t count = 0, start = 0;
  if (!ToUint64(env, args.argv[0], "count", &count) ||
      !ToUint64(env, args.argv[1], "start", &start)) {
    return false;
  }
  const std::vector<uint32_t>& sizes = log->pending_sizes();
  if (count > sizes.size()) {
    ThrowCode(env, absl::StrCat("shmio: count ", count, " exceeds the ", sizes.size(), " pending sizes"),
              "ERR_OUT_OF_RANGE");
    return false;
  }
  const uint8_t* base = log->shm().data();
  uint64_t expected = start;
  for (uint64_t i = 0; i < count; ++i) {
    absl::StatusOr<absl::Span<uint8_t>> span = pool->SliceSize(sizes[i]);
    if (!span.ok()) {
      ThrowStatus(env, span.status());
      return false;
    }
    uint64_t frame = static_cast<uint64_t>(span->data() - base) - shmio::format::kFrameSizeBytes;
    if (frame != expected) {
      ThrowCode(env, absl::StrCat("shmio: the writer placed a frame at offset ", expected, " of ",
                                  log->shm().path(), " but the core put it at ", frame,
                                  "; frames after ", expected, " were not appended"),
                "ERR_SHM_INTERNAL");
      return false;
    }
    expected += uint64_t{sizes[i]} + shmio::format::kFrameOverhead;
  }
  return true;
}

// pendingSizes(): a Uint32Array over the log's pending sizes, which the
// Array keeps alive (like the windows).
napi_value PendingSizes(napi_env env, napi_callback_info info) {
  Args args;
  LogCore* log = Self(env, info, &args);
  if (log == nullptr) return nullptr;
  std::vector<uint32_t>& sizes = log->pending_sizes();
  auto* hint = new LogRef(*UnwrapRef(env, args.self));
  napi_value buffer = nullptr;
  if (napi_create_external_arraybuffer(env, sizes.data(), sizes.size() * sizeof(uint32_t),
                                       FinalizeWindow, hint, &buffer) != napi_ok) {
    delete hint;
    return ThrowCode(env, "shmio: could not make the pending sizes' ArrayBuffer", "ERR_SHM_INTERNAL");
  }
  napi_value array = nullptr;
  napi_create_typedarray(env, napi_uint32_array, sizes.size(), buffer, 0, &array);
  return array;
}

// append(count, start): appends pending frames (see AppendPending).
napi_value Append(napi_env env, napi_callback_info info) {
  Args args;
  LogCore* log = nullptr;
  shmio::Pool* pool = SelfPool(env, info, &args, &log);
  if (pool == nullptr || !AppendPending(env, args, log, pool)) return nullptr;
  return nullptr;
}

// commit(count?, start?): appends pending frames, then Commit().
napi_value Commit(napi_env env, napi_callback_info info) {
  Args args;
  LogCore* log = nullptr;
  shmio::Pool* pool = SelfPool(env, info, &args, &log);
  if (pool == nullptr || !AppendPending(env, args, log, pool)) return nullptr;
  absl::Status committed = pool->Commit();
  if (!committed.ok()) return ThrowStatus(env, committed);
  return nullptr;
}

// [committed, end of the last appended frame], absolute.
napi_value Size(napi_env env, napi_callback_info info) {
  Args args;
  shmio::Pool* pool = SelfPool(env, info, &args, nullptr);
  if (pool == nullptr) return nullptr;
  shmio::Pool::Size size = pool->GetSize();
  return Pair(env, size.committed, size.uncommitted);
}

napi_value Status(napi_env env, napi_callback_info info) {
  Args args;
  shmio::Pool* pool = SelfPool(env, info, &args, nullptr);
  if (pool == nullptr) return nullptr;
  shmio::Pool::Status status = pool->GetStatus();
  return Pair(env, status.segment, status.offset);
}

napi_value SetActive(napi_env env, napi_callback_info info) {
  Args args;
  shmio::Pool* pool = SelfPool(env, info, &args, nullptr);
  if (pool == nullptr) return nullptr;
  bool active = true;
  if (!ToBool(env, args.argv[0], "active", &active)) return nullptr;
  pool->SetActive(active);
  return Undefined(env);
}

napi_value DoorbellRings(napi_env env, napi_callback_info info) {
  Args args;
  LogCore* log = Self(env, info, &args);
  if (log == nullptr) return nullptr;
  shmio::Pool* pool = log->pool();
  return Number(env, pool == nullptr ? 0 : static_cast<double>(pool->doorbell_rings()));
}

napi_value Close(napi_env env, napi_callback_info info) {
  Args args;
  if (!GetArgs(env, info, &args)) return nullptr;
  LogRef* ref = UnwrapRef(env, args.self);
  if (ref == nullptr) return nullptr;
  (*ref)->Close();
  return Undefined(env);
}

napi_value IsClosed(napi_env env, napi_callback_info info) {
  Args args;
  if (!GetArgs(env, info, &args)) return nullptr;
  LogRef* ref = UnwrapRef(env, args.self);
  if (ref == nullptr) return nullptr;
  return Boolean(env, (*ref)->closed());
}

}  // namespace

std::shared_ptr<LogCore>* LogOf(napi_env env, napi_value object) {
  return UnwrapRef(env, object);
}

napi_status DefineLogClass(napi_env env, EnvState* state, napi_value exports) {
  const napi_property_descriptor methods[] = {
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"windows", nullptr, Windows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"header", nullptr, Header, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"committed", nullptr, Committed, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"checkCursor", nullptr, CheckCursor, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"frameError", nullptr, FrameError, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"createPool", nullptr, CreatePool, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"slice", nullptr, Slice, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"append", nullptr, Append, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"pendingSizes", nullptr, PendingSizes, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"commit", nullptr, Commit, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"size", nullptr, Size, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"status", nullptr, Status, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setActive", nullptr, SetActive, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"doorbellRings", nullptr, DoorbellRings, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"isClosed", nullptr, IsClosed, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value constructor = nullptr;
  napi_status status = napi_define_class(env, "Log", NAPI_AUTO_LENGTH, Construct, nullptr,
                                         sizeof(methods) / sizeof(methods[0]), methods,
                                         &constructor);
  if (status != napi_ok) return status;
  status = napi_create_reference(env, constructor, 1, &state->log_constructor);
  if (status != napi_ok) return status;
  return napi_set_named_property(env, exports, "Log", constructor);
}

napi_value Open(napi_env env, napi_callback_info info) {
  Args args;
  if (!GetArgs(env, info, &args)) return nullptr;
  napi_valuetype type = napi_undefined;
  if (args.argc >= 1) napi_typeof(env, args.argv[0], &type);
  if (type != napi_object) return ThrowType(env, "shmio: open(options) needs an options object");
  napi_value options = args.argv[0];
  shmio::Options o;
  bool has_path = false;
  if (!GetStringProp(env, options, "path", &o.path, &has_path)) return nullptr;
  if (!has_path) return ThrowType(env, "shmio: options.path is required (a string)");
  if (!GetBoolProp(env, options, "writable", &o.writable) ||
      !GetBoolProp(env, options, "prefault", &o.prefault) ||
      !GetBoolProp(env, options, "debugChecks", &o.debug_checks) ||
      !GetUint64Prop(env, options, "capacity", &o.capacity) ||
      !GetUint64Prop(env, options, "size", &o.size) ||
      !GetUint64Prop(env, options, "num", &o.num) ||
      !GetUint64Prop(env, options, "overlap", &o.overlap)) {
    return nullptr;
  }
  EnvState* state = EnvState::Of(env);
  absl::StatusOr<std::shared_ptr<LogCore>> log = LogCore::Open(state, std::move(o));
  if (!log.ok()) return ThrowStatus(env, log.status());
  return NewWrapped<LogCore>(env, state->log_constructor, *std::move(log));
}

}  // namespace shmio_node
