// Initialising a libuv loop in a CLI command without ever aborting.
//
// libuv's first uv_loop_init() in a process also makes a process-wide pipe
// (for its signal handling), and calls abort() when it cannot; every other
// failure of uv_loop_init() is an error code. Out of file descriptors
// (`prlimit --nofile=4 shmio tail F -f`) must be an error and exit 1, so the
// descriptors uv_loop_init needs are taken and given back first: in a
// single-threaded program, descriptors proven free are still free for
// libuv a moment later.
#ifndef SHMIO_TOOLS_UV_LOOP_INIT_H_
#define SHMIO_TOOLS_UV_LOOP_INIT_H_

#include <uv.h>

#include "absl/status/status.h"

namespace shmio::cli {

// uv_loop_init(loop), or ResourceExhausted/its error, saying what to do.
// When it fails, `loop` is not initialised: do not close it.
absl::Status InitLoop(uv_loop_t* loop);

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_UV_LOOP_INIT_H_
