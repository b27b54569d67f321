#include "bridge/hiredis_uv.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "absl/strings/str_cat.h"
#include "uvwatch/uv_status.h"

namespace bridge {
namespace {

// One per context; deleted in the poll handle's close callback.
struct Watch {
  uv_poll_t poll;
  redisAsyncContext* context;  // null once hiredis has cleaned up
  int events = 0;              // UV_READABLE | UV_WRITABLE being polled
};

void OnPoll(uv_poll_t* poll, int status, int events) {
  auto* watch = static_cast<Watch*>(poll->data);
  if (watch->context == nullptr) return;
  if (status < 0) {
    // libuv has stopped the handle; let hiredis find the socket's error.
    watch->events = 0;
    redisAsyncHandleRead(watch->context);
    return;
  }
  if (events & UV_READABLE) redisAsyncHandleRead(watch->context);
  // Reading may have freed the context (cleanup clears the pointer).
  if (watch->context != nullptr && (events & UV_WRITABLE)) {
    redisAsyncHandleWrite(watch->context);
  }
}

// Applies a changed event mask. hiredis asks for writability on every
// command it buffers; uv_poll_start() first stops the handle, which costs an
// epoll_ctl(EPOLL_CTL_DEL) syscall (libuv 1.44 unix/poll.c), so an unchanged
// mask must not reach it.
void Update(Watch* watch, int events) {
  if (events == watch->events) return;
  watch->events = events;
  if (watch->events != 0) {
    uv_poll_start(&watch->poll, watch->events, &OnPoll);
  } else {
    uv_poll_stop(&watch->poll);
  }
}

void AddRead(void* data) {
  auto* watch = static_cast<Watch*>(data);
  Update(watch, watch->events | UV_READABLE);
}

void DelRead(void* data) {
  auto* watch = static_cast<Watch*>(data);
  Update(watch, watch->events & ~UV_READABLE);
}

void AddWrite(void* data) {
  auto* watch = static_cast<Watch*>(data);
  Update(watch, watch->events | UV_WRITABLE);
}

void DelWrite(void* data) {
  auto* watch = static_cast<Watch*>(data);
  Update(watch, watch->events & ~UV_WRITABLE);
}

void OnClosed(uv_handle_t* handle) { delete static_cast<Watch*>(handle->data); }

void Cleanup(void* data) {
  auto* watch = static_cast<Watch*>(data);
  watch->context = nullptr;  // hiredis is freeing it
  uv_close(reinterpret_cast<uv_handle_t*>(&watch->poll), &OnClosed);
}

}  // namespace

absl::Status AttachToLoop(redisAsyncContext* context, uv_loop_t* loop) {
  auto* watch = new Watch;
  watch->context = context;
  int initialised = uv_poll_init(loop, &watch->poll, context->c.fd);
  if (initialised != 0) {
    delete watch;  // never initialised, so never to be closed
    return uvwatch::UvStatus(initialised, absl::StrCat("uv_poll_init on redis socket ",
                                                       context->c.fd));
  }
  watch->poll.data = watch;
  context->ev.data = watch;
  context->ev.addRead = &AddRead;
  context->ev.delRead = &DelRead;
  context->ev.addWrite = &AddWrite;
  context->ev.delWrite = &DelWrite;
  context->ev.cleanup = &Cleanup;
  return absl::OkStatus();
}

}  // namespace bridge
