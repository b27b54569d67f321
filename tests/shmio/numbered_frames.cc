#include "tests/shmio/numbered_frames.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace shmio_test {
namespace {

constexpr size_t kFixedBytes = sizeof(uint64_t) + sizeof(uint32_t);

size_t FillerLength(uint64_t seq) { return (seq * 37) % 97; }

// FNV-1a over the sequence number's bytes and the filler.
uint32_t Checksum(uint64_t seq, absl::Span<const uint8_t> filler) {
  uint32_t h = 2166136261u;
  auto mix = [&h](uint8_t b) { h = (h ^ b) * 16777619u; };
  for (int i = 0; i < 8; ++i) mix(static_cast<uint8_t>(seq >> (8 * i)));
  for (uint8_t b : filler) mix(b);
  return h;
}

}  // namespace

std::vector<uint8_t> NumberedPayload(uint64_t seq) {
  std::vector<uint8_t> payload(kFixedBytes + FillerLength(seq));
  for (size_t j = kFixedBytes; j < payload.size(); ++j) {
    payload[j] = static_cast<uint8_t>(seq * 13 + j);
  }
  uint32_t checksum =
      Checksum(seq, absl::MakeConstSpan(payload).subspan(kFixedBytes));
  std::memcpy(payload.data(), &seq, sizeof seq);
  std::memcpy(payload.data() + sizeof seq, &checksum, sizeof checksum);
  return payload;
}

absl::Status CheckNumberedPayload(absl::Span<const uint8_t> payload,
                                  uint64_t expected_seq) {
  if (payload.size() < kFixedBytes) {
    return absl::DataLossError(absl::StrCat("payload of ", payload.size(),
                                            " bytes where frame ", expected_seq,
                                            " was expected"));
  }
  uint64_t seq;
  uint32_t checksum;
  std::memcpy(&seq, payload.data(), sizeof seq);
  std::memcpy(&checksum, payload.data() + sizeof seq, sizeof checksum);
  if (seq != expected_seq) {
    return absl::DataLossError(
        absl::StrCat("frame ", seq, " where ", expected_seq, " was expected"));
  }
  if (payload.size() != kFixedBytes + FillerLength(seq)) {
    return absl::DataLossError(absl::StrCat("frame ", seq, " has ",
                                            payload.size(), " bytes, expected ",
                                            kFixedBytes + FillerLength(seq)));
  }
  if (checksum != Checksum(seq, payload.subspan(kFixedBytes))) {
    return absl::DataLossError(absl::StrCat("frame ", seq, ": bad checksum"));
  }
  return absl::OkStatus();
}

}  // namespace shmio_test
