// Positions and stream IDs: how a frame of a shmio log is named in a Redis
// stream, so that publishing it twice can never store it twice.
//
// Position. A frame's position is its distance in bytes from the log's first
// frame, independent of where the file puts its frames:
//   single file:  frame.offset - dataOffset  (the first frame is at 0, whether
//                 dataOffset is 24, a Node.js file, or 256, a shmio C++ file)
//   chain:        the file's base position + frame.offset - dataOffset
// Positions are contiguous: the frame after the one at P with an n-byte
// payload is at NextPosition(P, n) = P + n + 4 (a chain's next file starts at
// the position where the previous one ended).
//
// Stream ID. The entry for the frame at position P has ID "P-1" (ms = P,
// seq = 1) and two fields, in this order: "pos" (P in decimal) and "data"
// (the payload, binary-safe). Why this shape:
//   - Redis orders IDs as (ms, seq) pairs and refuses an XADD whose explicit
//     ID is at or below the stream's top ID (even after XDEL or trimming; only
//     DEL resets it). IDs order exactly as positions do, so a replay of any
//     frame already in the stream is refused: it cannot be stored twice, and
//     there is no deduplication window to outlive.
//   - seq = 1 keeps position 0 away from ID 0-0, which Redis refuses.
//   - `XRANGE KEY P1 P2` selects the frames with positions in [P1, P2] (a bare
//     number is an ID's ms part), so positions are directly queryable.
//   - Entries Redis numbers itself (XADD *) have seq 0 for the first entry of
//     each millisecond and no "pos" field equal to their ms part, so a stream
//     not written by shmio is told apart (DecodeEntry) instead of mirrored.
//
// Thread safety: pure functions.
#ifndef BRIDGE_STREAM_ID_H_
#define BRIDGE_STREAM_ID_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace bridge {

inline constexpr uint64_t kEntrySeq = 1;           // every shmio entry's seq
inline constexpr absl::string_view kPosField = "pos";
inline constexpr absl::string_view kDataField = "data";
inline constexpr uint64_t kFrameOverhead = 4;      // a frame's two u16 sizes

// A Redis stream ID, compared as Redis compares them.
struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;

  std::string ToString() const;  // "ms-seq"
  friend bool operator==(const StreamId& a, const StreamId& b) {
    return a.ms == b.ms && a.seq == b.seq;
  }
  friend bool operator<(const StreamId& a, const StreamId& b) {
    return a.ms < b.ms || (a.ms == b.ms && a.seq < b.seq);
  }
};

// Parses "ms-seq" (both decimal u64). InvalidArgument otherwise.
absl::StatusOr<StreamId> ParseStreamId(absl::string_view text);

// The ID of the entry for the frame at `position`: "position-1".
std::string EntryIdForPosition(uint64_t position);

// The exclusive XREAD start that returns the entry at `position` first:
// "position-0" (every shmio ID at or after `position` is above it, every one
// before is below it; "0-0" for position 0).
std::string ReadStartForPosition(uint64_t position);

// The position right after a frame at `position` with `payload_size` bytes.
inline uint64_t NextPosition(uint64_t position, uint64_t payload_size) {
  return position + payload_size + kFrameOverhead;
}

// One entry of a stream written by shmio; `payload` views the reply it was
// decoded from.
struct StreamEntry {
  uint64_t position = 0;
  absl::string_view payload;
};

// Decodes one entry (its ID and its field/value list, flattened) and checks
// that shmio wrote it: ID "P-1", fields exactly pos=P and data, a payload
// that fits a frame. FailedPrecondition naming `stream` and the ID
// otherwise ("... was not written by shmio ...").
absl::StatusOr<StreamEntry> DecodeEntry(absl::string_view stream,
                                        absl::string_view id,
                                        absl::string_view field1,
                                        absl::string_view value1,
                                        absl::string_view field2,
                                        absl::string_view value2);

// The message for an entry that does not have shmio's shape (used by the
// reply parser for entries of the wrong arity too).
std::string NotWrittenByShmio(absl::string_view stream, absl::string_view id,
                              absl::string_view what);

}  // namespace bridge

#endif  // BRIDGE_STREAM_ID_H_
