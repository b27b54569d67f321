// Attaches a hiredis async context to a uv loop: the event hooks hiredis
// calls to start and stop watching its socket.
//
// Why not hiredis 0.14's own adapter (<hiredis/adapters/libuv.h>): when the
// socket reports an error (POLLERR: a refused connect, a reset), libuv calls
// the poll callback with status UV_EBADF and stops the handle, and that
// adapter returns without telling hiredis. A refused connect then hangs
// until some timeout instead of failing at once (seen: EPOLLOUT|EPOLLERR on
// a connect to a closed port, then nothing). This adapter hands an error to
// redisAsyncHandleRead(), where hiredis reads the socket's error
// (getsockopt SO_ERROR while connecting, read() after) and fails the
// connection through its usual callbacks. Otherwise it does what the 0.14
// adapter does: one uv_poll_t per context, closed in hiredis's cleanup hook
// and freed in its close callback.
//
// Thread safety: loop thread only.
#ifndef BRIDGE_HIREDIS_UV_H_
#define BRIDGE_HIREDIS_UV_H_

#include <uv.h>

#include "absl/status/status.h"

struct redisAsyncContext;

namespace bridge {

// Attaches `context` (not yet attached to anything) to `loop`. Errors:
// uv_poll_init failed (named with libuv's error).
absl::Status AttachToLoop(redisAsyncContext* context, uv_loop_t* loop);

}  // namespace bridge

#endif  // BRIDGE_HIREDIS_UV_H_
