// Numbered, self-checking payloads for concurrency tests: payload `seq` is
// [u64 seq][u32 checksum][filler], the filler's length varying with seq
// (0..96 bytes) so frames land at every alignment and cross segment
// boundaries. A reader can then tell a gap, a reordering, a torn or a
// mixed-up frame from a good one.
#ifndef TESTS_SHMIO_NUMBERED_FRAMES_H_
#define TESTS_SHMIO_NUMBERED_FRAMES_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace shmio_test {

// Returns the payload for sequence number `seq`.
std::vector<uint8_t> NumberedPayload(uint64_t seq);

// OK when `payload` is exactly NumberedPayload(expected_seq); otherwise an
// error saying what differs (sequence, length, checksum).
absl::Status CheckNumberedPayload(absl::Span<const uint8_t> payload,
                                  uint64_t expected_seq);

}  // namespace shmio_test

#endif  // TESTS_SHMIO_NUMBERED_FRAMES_H_
