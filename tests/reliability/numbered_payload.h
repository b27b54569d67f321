// Self-checking payloads for the reliability suites: each frame carries its
// sequence number, its place in the commit batch it belongs to, and a
// checksum over all of it, so a reader can tell a whole, in-order, committed
// frame from a torn, stale or misplaced one without any side channel.
//
//   offset  width  field
//   0       8      seq            0, 1, 2, ... across every writer of a log
//   8       2      index          position of this frame in its commit batch
//   10      2      batch_length   frames in that batch (index < batch_length)
//   12      4      checksum       FNV-1a over the whole payload with this
//                                 field taken as zero
//   16..           body           bytes derived from seq (any length >= 0)
//
// All little-endian through shmio's format helpers. Payloads are therefore
// at least kMinPayload bytes long.
#ifndef TESTS_RELIABILITY_NUMBERED_PAYLOAD_H_
#define TESTS_RELIABILITY_NUMBERED_PAYLOAD_H_

#include <cstddef>
#include <cstdint>
#include <random>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace shmio_reliability {

inline constexpr size_t kMinPayload = 16;

// What a checked payload says about itself.
struct PayloadInfo {
  uint64_t seq = 0;
  uint16_t index = 0;
  uint16_t batch_length = 0;

  bool ends_batch() const { return index + 1 == batch_length; }
};

// Fills `payload` (at least kMinPayload bytes) as frame `index` of a batch
// of `batch_length` frames with sequence number `seq`. Writes the checksum
// last, so a writer killed half-way leaves a payload that fails the check.
void FillPayload(absl::Span<uint8_t> payload, uint64_t seq, uint16_t index,
                 uint16_t batch_length);

// Checks a payload's length, checksum and batch fields; on success stores
// what it says in `info`. The error names `offset` (the frame's cursor).
absl::Status CheckPayload(absl::Span<const uint8_t> payload, uint64_t offset,
                          PayloadInfo* info);

// A random payload length: mostly small, sometimes a few KiB, rarely up to
// `max_payload` (at most 65531), never below kMinPayload.
size_t RandomPayloadLength(std::mt19937_64& rng, size_t max_payload);

// Tracks a reader's progress through a log: frames must come with
// consecutive sequence numbers from 0, and batches must be whole.
class SequenceChecker {
 public:
  // Checks the next frame at `offset`: payload valid, seq == next_seq(), and
  // its index follows the previous frame's within the same batch.
  absl::Status Check(absl::Span<const uint8_t> payload, uint64_t offset);

  // OK when the frames seen so far end on the last frame of a batch, as
  // every committed value must (batches are committed all at once).
  absl::Status CheckAtBatchEnd(uint64_t committed) const;

  uint64_t next_seq() const { return next_seq_; }

  // Continues at `next_seq` with a new batch: for a reader of a chain whose
  // oldest frames retention removed (the batch before was whole, and the
  // removed range ends at a file boundary, where batches begin).
  void Resume(uint64_t next_seq) {
    next_seq_ = next_seq;
    any_ = false;
  }

 private:
  uint64_t next_seq_ = 0;
  PayloadInfo last_;
  bool any_ = false;
};

}  // namespace shmio_reliability

#endif  // TESTS_RELIABILITY_NUMBERED_PAYLOAD_H_
