// Turns libuv's negative error codes into absl::Status: the one place where
// uvwatch translates libuv errors, so every message has the same shape.
//
// Thread safety: pure functions, callable from any thread.
#ifndef UVWATCH_UV_STATUS_H_
#define UVWATCH_UV_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace uvwatch {

// Returns OK for `uv_code` >= 0 (libuv's success), otherwise a Status whose
// message is "`what`: <UV_NAME> <uv_strerror text>" and whose code follows
// the errno behind the libuv code (on Unix libuv codes are negated errnos),
// e.g. UvStatus(UV_ENOSPC, "inotify watch on /dev/shm/log") is
// ResourceExhausted "inotify watch on /dev/shm/log: ENOSPC no space left on
// device". `what` should name the call and the file involved.
absl::Status UvStatus(int uv_code, absl::string_view what);

}  // namespace uvwatch

#endif  // UVWATCH_UV_STATUS_H_
