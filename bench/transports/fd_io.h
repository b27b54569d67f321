// Small helpers for the descriptor-based peers (pipe, Unix socket): whole
// writes and reads that retry on EINTR and name what failed.
#ifndef BENCH_TRANSPORTS_FD_IO_H_
#define BENCH_TRANSPORTS_FD_IO_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace bench {

// Writes all `n` bytes (retrying short writes and EINTR). `what` names the
// channel in errors.
absl::Status WriteAll(int fd, const uint8_t* data, size_t n, const char* what);

// Reads exactly `n` bytes; EOF before that is an error (the peer died).
absl::Status ReadExactly(int fd, uint8_t* data, size_t n, const char* what);

// Reads what is available, up to `n` bytes (at least 1; blocks until then).
// EOF is an error.
absl::StatusOr<size_t> ReadSome(int fd, uint8_t* data, size_t n,
                                const char* what);

// Closes `*fd` if open and sets it to -1.
void CloseFd(int* fd);

}  // namespace bench

#endif  // BENCH_TRANSPORTS_FD_IO_H_
