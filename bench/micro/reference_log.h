// The in-run reference for //bench:micro: a minimal hand-written C-style log
// over the same kind of mapping, with the same frame format
// ([u16 total][payload][u16 total]), the same header word for `committed`
// and the same release-store commit, and a reader with the same one-compare
// bounds check per frame. No Status, no doorbell, no segments, no debug
// checks: what an expert would write for one program. shmio's numbers are
// shown as a ratio to this.
#ifndef BENCH_MICRO_REFERENCE_LOG_H_
#define BENCH_MICRO_REFERENCE_LOG_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace bench {

// Header words at the same offsets as shmio's format.
inline constexpr uint64_t kRefCommittedOffset = 16;
inline constexpr uint64_t kRefDataOffset = 256;

struct RefWriter {
  uint8_t* base;
  uint64_t capacity;
  uint64_t position;  // end of the last appended frame

  // Appends one frame; false when it does not fit.
  bool Append(const uint8_t* payload, size_t n) {
    const uint64_t total = n + 4;
    if (total > capacity - position) return false;
    uint8_t* frame = base + position;
    const uint16_t size = static_cast<uint16_t>(total);
    std::memcpy(frame, &size, 2);
    std::memcpy(frame + 2, payload, n);
    std::memcpy(frame + 2 + n, &size, 2);
    position += total;
    return true;
  }

  // Publishes with one release store, as shmio does.
  void Commit() {
    // Release: the frames written above become visible to a reader's
    // acquire load of the same word.
    __atomic_store_n(reinterpret_cast<uint64_t*>(base + kRefCommittedOffset),
                     position, __ATOMIC_RELEASE);
  }
};

// Calls visit(payload, size) for each frame in [from, to), forwards; stops
// at a frame that does not fit (returns its offset, else `to`).
template <typename Visit>
inline uint64_t RefForEachForward(const uint8_t* base, uint64_t from,
                                  uint64_t to, Visit&& visit) {
  uint64_t offset = from;
  while (offset < to) {
    uint16_t total;
    std::memcpy(&total, base + offset, 2);
    if (total < 4 || total > to - offset) return offset;
    visit(base + offset + 2, static_cast<size_t>(total - 4));
    offset += total;
  }
  return offset;
}

// Same, last frame first, through the trailing sizes.
template <typename Visit>
inline uint64_t RefForEachReverse(const uint8_t* base, uint64_t from,
                                  uint64_t to, Visit&& visit) {
  uint64_t end = to;
  while (end > from) {
    uint16_t total;
    std::memcpy(&total, base + end - 2, 2);
    if (total < 4 || total > end - from) return end;
    visit(base + end - total + 2, static_cast<size_t>(total - 4));
    end -= total;
  }
  return end;
}

}  // namespace bench

#endif  // BENCH_MICRO_REFERENCE_LOG_H_
