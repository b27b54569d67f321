// The ChainReader class: a ChainReaderCore (a C++ ChainConsumer) as the JS
// chain iterator (lib/chain_iterator.js) calls it. Positions cross as
// bigints; offsets within a file as numbers.
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "node/src/bindings.h"
#include "node/src/chain_core.h"
#include "node/src/chain_reader_core.h"
#include "node/src/chain_window.h"
#include "node/src/napi_util.h"
#include "node/src/wrapped.h"

namespace shmio_node {
namespace {

using ReaderRef = std::shared_ptr<ChainReaderCore>;

ReaderRef* UnwrapReader(napi_env env, napi_value self) {
  return UnwrapShared<ChainReaderCore>(env, self, "ChainReader made by openReader()");
}

// The consumer behind `this`, or null after throwing (ERR_SHM_CLOSED once
// the reader or its chain is closed).
ChainReaderCore* Self(napi_env env, napi_callback_info info, Args* args) {
  if (!GetArgs(env, info, args)) return nullptr;
  ReaderRef* ref = UnwrapReader(env, args->self);
  if (ref == nullptr) return nullptr;
  if ((*ref)->consumer() == nullptr) {
    ThrowCode(env, absl::StrCat("shmio: this reader of the chain ", (*ref)->chain().directory(),
                                " is closed"),
              "ERR_SHM_CLOSED");
    return nullptr;
  }
  return ref->get();
}

napi_value Construct(napi_env env, napi_callback_info info) {
  return ConstructWrapped<ChainReaderCore>(env, info, "ChainReader", "openReader()");
}

// next(maxFrames, maxBytes): ChainConsumer::Next. null when nothing new;
// else [from, to, count, nextCursor, window]: the frames [from, to) of the
// batch's file (offsets), the position after them (bigint), and a window
// Buffer over that file when it is not the last window's (else undefined).
napi_value Next(napi_env env, napi_callback_info info) {
  Args args;
  ChainReaderCore* reader = Self(env, info, &args);
  if (reader == nullptr) return nullptr;
  uint64_t max_frames = 0, max_bytes = 0;
  if (!ToUint64(env, args.argv[0], "maxFrames", &max_frames) ||
      !ToUint64(env, args.argv[1], "maxBytes", &max_bytes)) {
    return nullptr;
  }
  shmio::BatchLimits limits;
  limits.max_frames = static_cast<size_t>(max_frames);
  limits.max_bytes = static_cast<size_t>(max_bytes);
  absl::StatusOr<shmio::Batch> batch = reader->consumer()->Next(limits);
  if (!batch.ok()) return ThrowStatus(env, batch.status());
  if (batch->empty()) {
    napi_value null = nullptr;
    napi_get_null(env, &null);
    return null;
  }
  napi_value window = Undefined(env);
  if (batch->file.get() != reader->window_file) {
    absl::StatusOr<napi_value> made = ReaderWindow(env, batch->file);
    if (!made.ok()) return ThrowStatus(env, made.status());
    window = *made;
    reader->window_file = batch->file.get();
  }
  napi_value result = nullptr;
  napi_create_array_with_length(env, 5, &result);
  napi_set_element(env, result, 0, Number(env, static_cast<double>(batch->frames.from())));
  napi_set_element(env, result, 1, Number(env, static_cast<double>(batch->frames.to())));
  napi_set_element(env, result, 2, Number(env, static_cast<double>(batch->frame_count)));
  napi_set_element(env, result, 3, BigInt(env, batch->next_cursor));
  napi_set_element(env, result, 4, window);
  return result;
}

napi_value Cursor(napi_env env, napi_callback_info info) {
  Args args;
  ChainReaderCore* reader = Self(env, info, &args);
  if (reader == nullptr) return nullptr;
  return BigInt(env, reader->consumer()->cursor());
}

napi_value Committed(napi_env env, napi_callback_info info) {
  Args args;
  ChainReaderCore* reader = Self(env, info, &args);
  if (reader == nullptr) return nullptr;
  absl::StatusOr<uint64_t> committed = reader->consumer()->Committed();
  if (!committed.ok()) return ThrowStatus(env, committed.status());
  return BigInt(env, *committed);
}

napi_value Seek(napi_env env, napi_callback_info info) {
  Args args;
  ChainReaderCore* reader = Self(env, info, &args);
  if (reader == nullptr) return nullptr;
  uint64_t position = 0;
  if (!ToUint64(env, args.argv[0], "position", &position)) return nullptr;
  absl::Status sought = reader->consumer()->Seek(position);
  if (!sought.ok()) return ThrowStatus(env, sought);
  return Undefined(env);
}

napi_value SeekToEnd(napi_env env, napi_callback_info info) {
  Args args;
  ChainReaderCore* reader = Self(env, info, &args);
  if (reader == nullptr) return nullptr;
  absl::Status sought = reader->consumer()->SeekToEnd();
  if (!sought.ok()) return ThrowStatus(env, sought);
  return Undefined(env);
}

napi_value SeekToBeginning(napi_env env, napi_callback_info info) {
  Args args;
  ChainReaderCore* reader = Self(env, info, &args);
  if (reader == nullptr) return nullptr;
  absl::Status sought = reader->consumer()->SeekToBeginning();
  if (!sought.ok()) return ThrowStatus(env, sought);
  return Undefined(env);
}

// ack(position?): ChainConsumer::Ack; without a position, the cursor.
napi_value Ack(napi_env env, napi_callback_info info) {
  Args args;
  ChainReaderCore* reader = Self(env, info, &args);
  if (reader == nullptr) return nullptr;
  uint64_t position = reader->consumer()->cursor();
  if (!IsUndefinedOrNull(env, args.argv[0]) &&
      !ToUint64(env, args.argv[0], "position", &position)) {
    return nullptr;
  }
  absl::Status acked = reader->consumer()->Ack(position);
  if (!acked.ok()) return ThrowStatus(env, acked);
  return Undefined(env);
}

napi_value Acked(napi_env env, napi_callback_info info) {
  Args args;
  ChainReaderCore* reader = Self(env, info, &args);
  if (reader == nullptr) return nullptr;
  return BigInt(env, reader->consumer()->acked());
}

napi_value Name(napi_env env, napi_callback_info info) {
  Args args;
  ChainReaderCore* reader = Self(env, info, &args);
  if (reader == nullptr) return nullptr;
  return String(env, reader->consumer()->name());
}

napi_value Close(napi_env env, napi_callback_info info) {
  Args args;
  if (!GetArgs(env, info, &args)) return nullptr;
  ReaderRef* ref = UnwrapReader(env, args.self);
  if (ref == nullptr) return nullptr;
  (*ref)->Close();
  return Undefined(env);
}

}  // namespace

napi_status DefineChainReaderClass(napi_env env, EnvState* state, napi_value exports) {
  const napi_property_descriptor methods[] = {
      {"next", nullptr, Next, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"cursor", nullptr, Cursor, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"committed", nullptr, Committed, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"seek", nullptr, Seek, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"seekToEnd", nullptr, SeekToEnd, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"seekToBeginning", nullptr, SeekToBeginning, nullptr, nullptr, nullptr, napi_default,
       nullptr},
      {"ack", nullptr, Ack, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"acked", nullptr, Acked, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"name", nullptr, Name, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value constructor = nullptr;
  napi_status status = napi_define_class(env, "ChainReader", NAPI_AUTO_LENGTH, Construct,
                                         nullptr, sizeof(methods) / sizeof(methods[0]),
                                         methods, &constructor);
  if (status != napi_ok) return status;
  status = napi_create_reference(env, constructor, 1, &state->chain_reader_constructor);
  if (status != napi_ok) return status;
  return napi_set_named_property(env, exports, "ChainReader", constructor);
}

}  // namespace shmio_node
