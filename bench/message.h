// Benchmark messages that a reader can verify: every message carries its
// sequence number and a checksum over all its other bytes, so a benchmark
// that loses, repeats, reorders or tears a message reports an error instead
// of a fast number.
//
//   bytes [0, 8)        u64 sequence number, little-endian
//   bytes [8, n - 8)    filler: a fixed pattern that differs per byte
//   bytes [n - 8, n)    u64 checksum of bytes [0, n - 8) (see Checksum)
//
// The checksum is linear in the sequence number, so the writer computes it
// from the pattern's precomputed part in one add, while the reader sums every
// byte it received. The writer's cost is one memcpy of the pattern per
// message, which is what writing a payload costs anyway.
#ifndef BENCH_MESSAGE_H_
#define BENCH_MESSAGE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/types/span.h"

namespace bench {

// Messages are a whole number of 8-byte words, at least sequence + checksum.
inline constexpr size_t kMinMessageBytes = 16;

// Returns OK when `payload_bytes` can hold a verifiable message.
inline absl::Status CheckMessageSize(size_t payload_bytes) {
  if (payload_bytes < kMinMessageBytes || payload_bytes % 8 != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "payload of %d bytes: benchmark messages need a multiple of 8 bytes, "
        "at least %d (sequence + checksum)",
        payload_bytes, kMinMessageBytes));
  }
  return absl::OkStatus();
}

// A seed, so that bytes never written (all zero) never verify.
inline constexpr uint64_t kChecksumSeed = 0x9e3779b97f4a7c15ULL;

// The seed plus word i times (2i + 1) over the 8-byte words of p[0, n - 8):
// every byte counts, and swapped words change the sum.
inline uint64_t Checksum(const uint8_t* p, size_t n) {
  uint64_t sum = kChecksumSeed;
  const size_t words = (n - 8) / 8;
  for (size_t i = 0; i < words; ++i) {
    uint64_t w;
    std::memcpy(&w, p + 8 * i, sizeof w);  // payloads are unaligned
    sum += w * (2 * i + 1);
  }
  return sum;
}

// Writes numbered messages of one size.
class MessageMaker {
 public:
  // `payload_bytes` must pass CheckMessageSize().
  explicit MessageMaker(size_t payload_bytes) : pattern_(payload_bytes) {
    for (size_t i = 8; i + 8 < payload_bytes; ++i) {
      pattern_[i] = static_cast<uint8_t>(i * 131 + 7);
    }
    // Sequence 0 contributes nothing to word 0, so the pattern's checksum is
    // the constant part; word 0 has weight 1.
    std::memset(pattern_.data(), 0, 8);
    pattern_sum_ = Checksum(pattern_.data(), payload_bytes);
  }

  size_t size() const { return pattern_.size(); }

  // Writes message `sequence` into dst[0, size()).
  void Fill(uint64_t sequence, uint8_t* dst) const {
    const size_t n = pattern_.size();
    std::memcpy(dst, pattern_.data(), n);
    std::memcpy(dst, &sequence, sizeof sequence);
    const uint64_t checksum = pattern_sum_ + sequence;
    std::memcpy(dst + n - 8, &checksum, sizeof checksum);
  }

 private:
  std::vector<uint8_t> pattern_;
  uint64_t pattern_sum_ = 0;
};

// Returns OK when `payload` is message `expected_sequence` of `size` bytes,
// intact; otherwise an error saying what differs.
inline absl::Status VerifyMessage(absl::Span<const uint8_t> payload,
                                  size_t size, uint64_t expected_sequence) {
  if (payload.size() != size) {
    return absl::DataLossError(absl::StrFormat(
        "message %d: got %d bytes, expected %d", expected_sequence,
        payload.size(), size));
  }
  uint64_t sequence;
  std::memcpy(&sequence, payload.data(), sizeof sequence);
  if (sequence != expected_sequence) {
    return absl::DataLossError(absl::StrFormat(
        "expected message %d, got %d (lost, repeated or reordered)",
        expected_sequence, sequence));
  }
  uint64_t stored;
  std::memcpy(&stored, payload.data() + size - 8, sizeof stored);
  const uint64_t computed = Checksum(payload.data(), size);
  if (stored != computed) {
    return absl::DataLossError(absl::StrFormat(
        "message %d: checksum %#x, computed %#x (torn or corrupt payload)",
        sequence, stored, computed));
  }
  return absl::OkStatus();
}

// Reads the sequence number only (latency ping-pong replies).
inline uint64_t SequenceOf(const uint8_t* payload) {
  uint64_t sequence;
  std::memcpy(&sequence, payload, sizeof sequence);
  return sequence;
}

}  // namespace bench

#endif  // BENCH_MESSAGE_H_
