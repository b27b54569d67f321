// openChain(options) and the Chain class: one chain as the JS layer sees
// it (lib/chain_log.js), its writer's calls, and openReader().
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/src/bindings.h"
#include "node/src/chain_core.h"
#include "node/src/chain_reader_core.h"
#include "node/src/env_state.h"
#include "node/src/napi_util.h"
#include "node/src/wrapped.h"

namespace shmio_node {
namespace {

using ChainRef = std::shared_ptr<ChainCore>;

ChainRef* UnwrapChain(napi_env env, napi_value self) {
  return UnwrapShared<ChainCore>(env, self, "Chain object made by openChain()");
}

// The ChainCore behind `this`, or null after throwing (ERR_SHM_CLOSED
// naming the directory once closed).
ChainCore* Self(napi_env env, napi_callback_info info, Args* args) {
  if (!GetArgs(env, info, args)) return nullptr;
  ChainRef* ref = UnwrapChain(env, args->self);
  if (ref == nullptr) return nullptr;
  if ((*ref)->closed()) {
    ThrowCode(env, absl::StrCat("shmio: the chain ", (*ref)->directory(),
                                " is closed; open it again to use it"),
              "ERR_SHM_CLOSED");
    return nullptr;
  }
  return ref->get();
}

// The writer behind `this`, or null after throwing.
shmio::ChainWriter* SelfWriter(napi_env env, napi_callback_info info, Args* args,
                               ChainCore** chain_out = nullptr) {
  ChainCore* chain = Self(env, info, args);
  if (chain == nullptr) return nullptr;
  if (chain->writer() == nullptr) {
    ThrowCode(env, absl::StrCat("shmio: the chain ", chain->directory(),
                                " was opened read-only (writable: false); it has no writer here"),
              "ERR_SHM_FAILED_PRECONDITION");
    return nullptr;
  }
  if (chain_out != nullptr) *chain_out = chain;
  return chain->writer();
}

napi_value Construct(napi_env env, napi_callback_info info) {
  return ConstructWrapped<ChainCore>(env, info, "Chain", "openChain(options)");
}

napi_value Info(napi_env env, napi_callback_info info) {
  Args args;
  ChainCore* chain = Self(env, info, &args);
  if (chain == nullptr) return nullptr;
  napi_value result = nullptr;
  napi_create_object(env, &result);
  SetProp(env, result, "directory", String(env, chain->directory()));
  SetProp(env, result, "writable", Boolean(env, chain->writer() != nullptr));
  SetProp(env, result, "debugChecks", Boolean(env, chain->debug_checks()));
  if (const shmio::ChainWriter* writer = chain->writer()) {
    const shmio::ChainSettings& s = writer->settings();
    SetProp(env, result, "fileCapacity", Number(env, static_cast<double>(s.file_capacity)));
    SetProp(env, result, "retainFiles", Number(env, static_cast<double>(s.retain_files)));
    SetProp(env, result, "retainBytes", Number(env, static_cast<double>(s.retain_bytes)));
    SetProp(env, result, "retainSeconds", Number(env, static_cast<double>(s.retain_seconds)));
    SetProp(env, result, "maxReaderLag", Number(env, static_cast<double>(s.max_reader_lag)));
    SetProp(env, result, "dropSlowReaders", Boolean(env, s.drop_slow_readers != 0));
  }
  return result;
}

// window(): a Buffer over the writer's current file (chain_window.h).
napi_value Window(napi_env env, napi_callback_info info) {
  Args args;
  ChainCore* chain = nullptr;
  if (SelfWriter(env, info, &args, &chain) == nullptr) return nullptr;
  absl::StatusOr<napi_value> window = chain->WriterWindow(env);
  if (!window.ok()) return ThrowStatus(env, window.status());
  return *window;
}

// slice(n): reserves a frame for an n-byte payload (ChainWriter::SliceSize,
// which may roll); returns the payload's offset in the current file, or
// [offset, window] when the frame went to another file than the last
// window's (the JS layer then writes through the new window).
napi_value Slice(napi_env env, napi_callback_info info) {
  Args args;
  ChainCore* chain = nullptr;
  shmio::ChainWriter* writer = SelfWriter(env, info, &args, &chain);
  if (writer == nullptr) return nullptr;
  uint64_t n = 0;
  if (!ToUint64(env, args.argv[0], "size", &n)) return nullptr;
  absl::StatusOr<absl::Span<uint8_t>> span = writer->SliceSize(static_cast<size_t>(n));
  if (!span.ok()) return ThrowStatus(env, span.status());
  napi_value offset =
      Number(env, static_cast<double>(span->data() - writer->current_file().data()));
  if (!chain->WriterMoved()) return offset;
  absl::StatusOr<napi_value> window = chain->WriterWindow(env);
  if (!window.ok()) return ThrowStatus(env, window.status());
  napi_value pair = nullptr;
  napi_create_array_with_length(env, 2, &pair);
  napi_set_element(env, pair, 0, offset);
  napi_set_element(env, pair, 1, *window);
  return pair;
}

// append(bytes): ChainWriter::Append, a copy of a Buffer/Uint8Array.
napi_value Append(napi_env env, napi_callback_info info) {
  Args args;
  shmio::ChainWriter* writer = SelfWriter(env, info, &args);
  if (writer == nullptr) return nullptr;
  bool is_typed = false;
  if (args.argv[0] != nullptr) napi_is_typedarray(env, args.argv[0], &is_typed);
  if (!is_typed) return ThrowType(env, "shmio: append(payload) needs a Buffer or Uint8Array");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_get_typedarray_info(env, args.argv[0], &type, &length, &data, nullptr, nullptr);
  if (type != napi_uint8_array) {
    return ThrowType(env, "shmio: append(payload) needs a Buffer or Uint8Array");
  }
  absl::Status appended =
      writer->Append(absl::MakeConstSpan(static_cast<const uint8_t*>(data), length));
  if (!appended.ok()) return ThrowStatus(env, appended);
  return Undefined(env);
}

napi_value Commit(napi_env env, napi_callback_info info) {
  Args args;
  shmio::ChainWriter* writer = SelfWriter(env, info, &args);
  if (writer == nullptr) return nullptr;
  absl::Status committed = writer->Commit();
  if (!committed.ok()) return ThrowStatus(env, committed);
  return Undefined(env);
}

napi_value Flush(napi_env env, napi_callback_info info) {
  Args args;
  shmio::ChainWriter* writer = SelfWriter(env, info, &args);
  if (writer == nullptr) return nullptr;
  absl::Status flushed = writer->Flush();
  if (!flushed.ok()) return ThrowStatus(env, flushed);
  return Undefined(env);
}

// stats(): [committed, uncommitted] positions (bigints), rolls, files removed.
napi_value Stats(napi_env env, napi_callback_info info) {
  Args args;
  shmio::ChainWriter* writer = SelfWriter(env, info, &args);
  if (writer == nullptr) return nullptr;
  shmio::ChainWriter::Size size = writer->GetSize();
  napi_value result = nullptr;
  napi_create_object(env, &result);
  SetProp(env, result, "committed", BigInt(env, size.committed));
  SetProp(env, result, "uncommitted", BigInt(env, size.uncommitted));
  SetProp(env, result, "rolls", Number(env, static_cast<double>(writer->rolls())));
  SetProp(env, result, "filesRemoved", Number(env, static_cast<double>(writer->files_removed())));
  SetProp(env, result, "currentFile", String(env, writer->current_file().path()));
  return result;
}

// openReader(name, start, position): a ChainReader. start: "beginning",
// "end" or "position"; `name` "" for a reader without a name.
napi_value OpenReader(napi_env env, napi_callback_info info) {
  Args args;
  ChainCore* chain = Self(env, info, &args);
  if (chain == nullptr) return nullptr;
  std::string name, start;
  if (!ToString(env, args.argv[0], "name", &name) ||
      !ToString(env, args.argv[1], "start", &start)) {
    return nullptr;
  }
  shmio::ChainStart where;
  if (start == "beginning") {
    where.kind = shmio::ChainStart::kBeginning;
  } else if (start == "end") {
    where.kind = shmio::ChainStart::kEnd;
  } else if (start == "position") {
    where.kind = shmio::ChainStart::kPosition;
    if (!ToUint64(env, args.argv[2], "position", &where.position)) return nullptr;
  } else {
    return ThrowType(env, "shmio: start must be 'beginning', 'end' or 'position', got '" + start + "'");
  }
  absl::StatusOr<std::shared_ptr<ChainReaderCore>> reader =
      ChainReaderCore::Open(*UnwrapChain(env, args.self), name, where);
  if (!reader.ok()) return ThrowStatus(env, reader.status());
  return NewWrapped<ChainReaderCore>(env, EnvState::Of(env)->chain_reader_constructor,
                                     *std::move(reader));
}

napi_value Close(napi_env env, napi_callback_info info) {
  Args args;
  if (!GetArgs(env, info, &args)) return nullptr;
  ChainRef* ref = UnwrapChain(env, args.self);
  if (ref == nullptr) return nullptr;
  (*ref)->Close();
  return Undefined(env);
}

napi_value IsClosed(napi_env env, napi_callback_info info) {
  Args args;
  if (!GetArgs(env, info, &args)) return nullptr;
  ChainRef* ref = UnwrapChain(env, args.self);
  if (ref == nullptr) return nullptr;
  return Boolean(env, (*ref)->closed());
}

}  // namespace

std::shared_ptr<ChainCore>* ChainOf(napi_env env, napi_value object) {
  return UnwrapChain(env, object);
}

napi_status DefineChainClass(napi_env env, EnvState* state, napi_value exports) {
  const napi_property_descriptor methods[] = {
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"window", nullptr, Window, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"slice", nullptr, Slice, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"append", nullptr, Append, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"commit", nullptr, Commit, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"flush", nullptr, Flush, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stats", nullptr, Stats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"openReader", nullptr, OpenReader, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"isClosed", nullptr, IsClosed, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value constructor = nullptr;
  napi_status status = napi_define_class(env, "Chain", NAPI_AUTO_LENGTH, Construct, nullptr,
                                         sizeof(methods) / sizeof(methods[0]), methods,
                                         &constructor);
  if (status != napi_ok) return status;
  status = napi_create_reference(env, constructor, 1, &state->chain_constructor);
  if (status != napi_ok) return status;
  return napi_set_named_property(env, exports, "Chain", constructor);
}

// openChain({directory, writable, create, fileCapacity, retainFiles,
// retainBytes, retainSeconds, maxReaderLag, dropSlowReaders,
// firstPosition, prefault, debugChecks}).
napi_value OpenChain(napi_env env, napi_callback_info info) {
  Args args;
  if (!GetArgs(env, info, &args)) return nullptr;
  napi_valuetype type = napi_undefined;
  if (args.argc >= 1) napi_typeof(env, args.argv[0], &type);
  if (type != napi_object) return ThrowType(env, "shmio: openChain(options) needs an options object");
  napi_value options = args.argv[0];
  shmio::ChainOptions o;
  bool has_directory = false, writable = false;
  if (!GetStringProp(env, options, "directory", &o.directory, &has_directory)) return nullptr;
  if (!has_directory || o.directory.empty()) {
    return ThrowType(env, "shmio: options.directory is required (a non-empty string)");
  }
  if (!GetBoolProp(env, options, "writable", &writable) ||
      !GetBoolProp(env, options, "create", &o.create) ||
      !GetBoolProp(env, options, "prefault", &o.prefault) ||
      !GetBoolProp(env, options, "debugChecks", &o.debug_checks) ||
      !GetBoolProp(env, options, "dropSlowReaders", &o.drop_slow_readers) ||
      !GetUint64Prop(env, options, "fileCapacity", &o.file_capacity) ||
      !GetUint64Prop(env, options, "retainFiles", &o.retain_files) ||
      !GetUint64Prop(env, options, "retainBytes", &o.retain_bytes) ||
      !GetUint64Prop(env, options, "retainSeconds", &o.retain_seconds) ||
      !GetUint64Prop(env, options, "maxReaderLag", &o.max_reader_lag) ||
      !GetUint64Prop(env, options, "firstPosition", &o.first_position)) {
    return nullptr;
  }
  if (o.file_capacity > kMaxChainWindowBytes) {
    return ThrowCode(env, absl::StrCat("shmio: fileCapacity ", o.file_capacity, " for ",
                                       o.directory, " is more than one Node.js Buffer can cover (",
                                       kMaxChainWindowBytes, " bytes)"),
                     "ERR_OUT_OF_RANGE");
  }
  EnvState* state = EnvState::Of(env);
  absl::StatusOr<std::shared_ptr<ChainCore>> chain =
      ChainCore::Open(state, std::move(o), writable);
  if (!chain.ok()) return ThrowStatus(env, chain.status());
  return NewWrapped<ChainCore>(env, state->chain_constructor, *std::move(chain));
}

}  // namespace shmio_node
