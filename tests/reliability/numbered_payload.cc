#include "tests/reliability/numbered_payload.h"

#include <cstring>

#include "absl/strings/str_format.h"
#include "shmio/format.h"

namespace shmio_reliability {
namespace {

constexpr size_t kSeqOffset = 0;
constexpr size_t kIndexOffset = 8;
constexpr size_t kBatchLengthOffset = 10;
constexpr size_t kChecksumOffset = 12;
constexpr size_t kBodyOffset = 16;

// FNV-1a, 32 bits, over `bytes` with the checksum field read as zero.
uint32_t Checksum(absl::Span<const uint8_t> bytes) {
  uint32_t hash = 2166136261u;
  for (size_t i = 0; i < bytes.size(); ++i) {
    bool in_checksum = i >= kChecksumOffset && i < kChecksumOffset + 4;
    hash ^= in_checksum ? 0 : bytes[i];
    hash *= 16777619u;
  }
  // Mix in the length so a frame cut short at a plausible byte fails too.
  hash ^= static_cast<uint32_t>(bytes.size());
  return hash * 16777619u;
}

uint8_t BodyByte(uint64_t seq, size_t j) {
  return static_cast<uint8_t>(seq * 131 + j * 7 + 1);
}

}  // namespace

void FillPayload(absl::Span<uint8_t> payload, uint64_t seq, uint16_t index,
                 uint16_t batch_length) {
  using shmio::format::EncodeU16;
  using shmio::format::EncodeU32;
  using shmio::format::EncodeU64;
  EncodeU64(payload.data() + kSeqOffset, seq);
  EncodeU16(payload.data() + kIndexOffset, index);
  EncodeU16(payload.data() + kBatchLengthOffset, batch_length);
  EncodeU32(payload.data() + kChecksumOffset, 0);
  for (size_t j = kBodyOffset; j < payload.size(); ++j) {
    payload[j] = BodyByte(seq, j);
  }
  EncodeU32(payload.data() + kChecksumOffset, Checksum(payload));
}

absl::Status CheckPayload(absl::Span<const uint8_t> payload, uint64_t offset,
                          PayloadInfo* info) {
  using shmio::format::DecodeU16;
  using shmio::format::DecodeU32;
  using shmio::format::DecodeU64;
  if (payload.size() < kMinPayload) {
    return absl::DataLossError(absl::StrFormat(
        "frame at offset %d: payload of %d bytes is shorter than the %d-byte "
        "numbered header",
        offset, payload.size(), kMinPayload));
  }
  uint32_t stored = DecodeU32(payload.data() + kChecksumOffset);
  uint32_t computed = Checksum(payload);
  if (stored != computed) {
    return absl::DataLossError(absl::StrFormat(
        "frame at offset %d (%d payload bytes): checksum %08x, computed %08x",
        offset, payload.size(), stored, computed));
  }
  info->seq = DecodeU64(payload.data() + kSeqOffset);
  info->index = DecodeU16(payload.data() + kIndexOffset);
  info->batch_length = DecodeU16(payload.data() + kBatchLengthOffset);
  if (info->index >= info->batch_length) {
    return absl::DataLossError(absl::StrFormat(
        "frame at offset %d (seq %d): index %d in a batch of %d", offset,
        info->seq, info->index, info->batch_length));
  }
  return absl::OkStatus();
}

size_t RandomPayloadLength(std::mt19937_64& rng, size_t max_payload) {
  uint64_t dice = rng() % 1000;
  size_t limit;
  if (dice < 900) {
    limit = 64;  // most frames: small events
  } else if (dice < 995) {
    limit = 4096;
  } else {
    limit = max_payload;  // rare: up to the largest frame the format allows
  }
  if (limit > max_payload) limit = max_payload;
  if (limit <= kMinPayload) return kMinPayload;
  return kMinPayload + rng() % (limit - kMinPayload + 1);
}

absl::Status SequenceChecker::Check(absl::Span<const uint8_t> payload,
                                    uint64_t offset) {
  PayloadInfo info;
  absl::Status status = CheckPayload(payload, offset, &info);
  if (!status.ok()) return status;
  if (info.seq != next_seq_) {
    return absl::DataLossError(absl::StrFormat(
        "frame at offset %d: seq %d, expected %d (a frame was lost, repeated "
        "or reordered)",
        offset, info.seq, next_seq_));
  }
  uint16_t expected_index = (!any_ || last_.ends_batch()) ? 0 : last_.index + 1;
  if (info.index != expected_index ||
      (any_ && !last_.ends_batch() &&
       info.batch_length != last_.batch_length)) {
    return absl::DataLossError(absl::StrFormat(
        "frame at offset %d (seq %d): index %d of %d follows index %d of %d; "
        "a batch was cut",
        offset, info.seq, info.index, info.batch_length, last_.index,
        last_.batch_length));
  }
  last_ = info;
  any_ = true;
  ++next_seq_;
  return absl::OkStatus();
}

absl::Status SequenceChecker::CheckAtBatchEnd(uint64_t committed) const {
  if (any_ && !last_.ends_batch()) {
    return absl::DataLossError(absl::StrFormat(
        "committed = %d ends inside a batch: last frame (seq %d) is index %d "
        "of %d; a partial batch became visible",
        committed, last_.seq, last_.index, last_.batch_length));
  }
  return absl::OkStatus();
}

}  // namespace shmio_reliability
