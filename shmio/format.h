// The on-file format of a shmio log, version 1: the single source of truth
// for every byte. docs/format.md is its prose twin with a worked example;
// change both in one commit and bump kFormatVersion on any layout change.
//
// All integers are little-endian. Offsets are absolute byte offsets in the
// file. The layout is shared with the original Node.js library "shmio": the
// first 24 bytes and the frames are exactly its format, and the extension
// block lies between those 24 bytes and dataOffset, which the original's
// readers skip. (Its debug-mode writer reads the four bytes just before
// dataOffset: see kDebugSentinelOffset.)
//
//   offset  width  field           written by / when
//   ------  -----  --------------  ----------------------------------------
//   0       8      headerSize      first writer, at initialisation; always 24
//   8       8      dataOffset      first writer, at initialisation
//   16      8      committed       writer, at every Commit() (release store);
//                                  end offset of the last committed frame,
//                                  starts at dataOffset
//   24..    -      extension       shmio C++ only (see Extension below);
//                                  absent when dataOffset == 24
//   dataOffset     frames          [u16 total][payload][u16 total], back to
//                                  back, unaligned; total = payload + 4
//
// A file whose first 24 bytes are zero is fresh (an empty log): the first
// writer initialises it. Bytes at and after `committed` are not part of the
// log: a frame being written, or garbage left by a writer that died.
//
// Segments (the original's "buffers"): a file with a geometry {size, num,
// overlap} is num segments of `size` bytes. The original maps segment k as a
// view of size + overlap bytes (the last has no overlap; a single segment's
// view is size - overlap long), so a frame that starts in segment k must end
// at or before (k+1)*size + overlap, and one in the last segment before the
// end of its view: the original's writer never lets a frame reach the last
// byte (SegmentedLogEnd). A file with only a capacity is one segment, all of
// whose bytes frames may use.
//
// Cross-process atomics: `committed` (offset 16) and the doorbell's `armed`
// word (offset 128) are 8-byte aligned in a page-aligned mapping and accessed
// only through std::atomic_ref<uint64_t>, which we require to be always
// lock-free. Lock-free atomics are address-free on every platform we build
// for (x86-64, aarch64), which the standard recommends but does not promise;
// shmio relies on it.
#ifndef SHMIO_FORMAT_H_
#define SHMIO_FORMAT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace shmio {
namespace format {

// --- The original's header (24 bytes) --------------------------------------

inline constexpr uint64_t kHeaderSize = 24;          // value of headerSize
inline constexpr uint64_t kHeaderSizeOffset = 0;     // u64 headerSize
inline constexpr uint64_t kDataOffsetOffset = 8;     // u64 dataOffset
inline constexpr uint64_t kCommittedOffset = 16;     // u64 committed

// --- Frames ----------------------------------------------------------------

inline constexpr uint64_t kFrameSizeBytes = 2;       // each u16 `total`
inline constexpr uint64_t kFrameOverhead = 4;        // leading + trailing
inline constexpr uint64_t kMaxFrameTotal = 65535;    // largest u16
inline constexpr uint64_t kMaxPayload = kMaxFrameTotal - kFrameOverhead;  // 65531

// --- Extension block (files created by shmio C++) ---------------------------
//
//   offset  width  field            meaning
//   24      8      magic            kMagic: "SHMIOC++" read as little-endian
//   32      4      version          kFormatVersion
//   36      4      flags            bit 0 kFlagChainFile: the file is one of
//                                   a chain (the fields at 80..119 apply);
//                                   other bits 0
//   40      8      segment_size     the original's `size`; 0 = no geometry
//   48      8      segment_count    the original's `num`; 0 = no geometry
//   56      8      overlap          the original's `overlap`
//   64      8      capacity         file size in bytes at creation
//   72      8      writer_pid       pid of the last writer to open the file
//                                   (informational; the lock is the truth)
//   80      8      file_sequence    chain files: the file's index in its
//                                   chain (the first is 0); else 0
//   88      8      base_position    chain files: the chain position of the
//                                   file's first frame; else 0
//   96      8      chain_id         chain files: a random nonzero number
//                                   shared by every file of one chain
//   104     8      sealed_end       chain files: 0 while the writer may still
//                                   append; then the file's final committed
//                                   value, stored (release) after it (atomic;
//                                   see "Sealing" below)
//   112     8      sealed_at_ns     chain files: when it was sealed
//                                   (CLOCK_REALTIME ns), for retention by age
//   120..127       reserved, zero
//   128     8      doorbell armed   nonzero while a reader sleeps waiting for
//                                   a commit (atomic; see shmio/doorbell.h)
//   136     8      doorbell rings   count of rings; the writer pwrite()s it,
//                                   which is what raises the inotify event
//   144..251       reserved, zero
//   252     4      debug sentinel   04 00 04 00: an empty frame ending at
//                                   dataOffset (see kDebugSentinelOffset)
//   256            first frame (dataOffset = kExtendedDataOffset)

inline constexpr uint64_t kMagicOffset = 24;
inline constexpr uint64_t kVersionOffset = 32;
inline constexpr uint64_t kFlagsOffset = 36;
inline constexpr uint64_t kSegmentSizeOffset = 40;
inline constexpr uint64_t kSegmentCountOffset = 48;
inline constexpr uint64_t kOverlapOffset = 56;
inline constexpr uint64_t kCapacityOffset = 64;
inline constexpr uint64_t kWriterPidOffset = 72;
inline constexpr uint64_t kFileSequenceOffset = 80;
inline constexpr uint64_t kBasePositionOffset = 88;
inline constexpr uint64_t kChainIdOffset = 96;
inline constexpr uint64_t kSealedEndOffset = 104;
inline constexpr uint64_t kSealedAtOffset = 112;
inline constexpr uint64_t kDoorbellArmedOffset = 128;  // own cache line
inline constexpr uint64_t kDoorbellRingsOffset = 136;
inline constexpr uint64_t kExtendedDataOffset = 256;   // cache-line aligned

// The original's writer, with SHMIO_DEBUG=true, checks the frame before the
// one it appends by reading the u16 just before its position as that
// frame's trailing size, then the leading size it points back to, and
// throws unless they agree and are at least 4 -- also when it appends the
// very first frame at dataOffset, where there is no frame. So the four bytes
// before dataOffset hold an empty frame [4][4], which that check accepts;
// every writer of ours writes them (they are inside the extension, where no
// frame of ours ever is).
inline constexpr uint64_t kDebugSentinelOffset = kExtendedDataOffset - 4;
inline constexpr uint8_t kDebugSentinel[4] = {4, 0, 4, 0};

// --- Chains of files -----------------------------------------------------------
//
// A chain is a directory of log files, each named by the chain position of
// its first frame (ChainFileName): a frame's position is its file's
// base_position + (offset - dataOffset). Each file is a complete log of its
// own (readable alone by shmio and by the original); the fields above say
// where it belongs.
//
// Sealing is how a reader learns that a file is finished. The writer, when
// a frame no longer fits, creates and links the next file (base = this
// base + this committed - dataOffset), then stores sealed_at_ns and
// sealed_end = committed (release), then rings this file's doorbell if a
// reader is armed. So `sealed_end` is a third synchronising word, beside
// `committed` and the doorbell's `armed`: a reader that loads it (acquire)
// nonzero knows that `committed` is final and equal to it, and that the
// next file exists; one that sleeps arms the doorbell and then checks both
// words (the doorbell's handshake covers them alike, doorbell.h). A file
// with a successor is always sealed, except after a writer died between
// linking the successor and sealing: the next writer seals it first.
inline constexpr uint32_t kFlagChainFile = 1u << 0;

// "SHMIOC++" as bytes 53 48 4d 49 4f 43 2b 2b, read as a little-endian u64.
inline constexpr uint64_t kMagic = 0x2b2b434f494d4853ULL;
inline constexpr uint32_t kFormatVersion = 1;

// Smallest file that can hold a log: the original's header alone.
inline constexpr uint64_t kMinCapacity = kHeaderSize;

// Bounds on a geometry, so that a damaged or hostile header cannot make a
// reader build billions of segment views: a segment holds at least our
// header and one frame, and a log has at most 2^20 segments (a 1 TiB log
// of 1 MiB segments).
inline constexpr uint64_t kMinSegmentSize = kExtendedDataOffset + kFrameOverhead;
inline constexpr uint64_t kMaxSegmentCount = uint64_t{1} << 20;

// Locks (see shmio/writer_lock.h): byte ranges far beyond any real file so
// they never interact with data, locked but never written.
inline constexpr uint64_t kWriterLockOffset = uint64_t{1} << 62;
// The reader lock (shmio/reader_lock.h), after the writer lock's two bytes:
// readers hold it shared; a chain writer reusing a retired file takes it
// exclusively.
inline constexpr uint64_t kReaderLockOffset = kWriterLockOffset + 2;

// --- Little-endian helpers --------------------------------------------------
// Payloads and frames are unaligned, so every multi-byte read goes through
// memcpy. x86-64 and aarch64 Linux are little-endian; static_assert it.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "shmio's format is little-endian; add byte swaps for this host");

inline uint16_t DecodeU16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint32_t DecodeU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint64_t DecodeU64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void EncodeU16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, sizeof v); }
inline void EncodeU32(uint8_t* p, uint32_t v) { std::memcpy(p, &v, sizeof v); }
inline void EncodeU64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, sizeof v); }

// The header words that synchronise processes, as atomics over the mapping.
static_assert(std::atomic_ref<uint64_t>::is_always_lock_free,
              "shmio needs lock-free (hence address-free) 64-bit atomics");
static_assert(kCommittedOffset % alignof(uint64_t) == 0);
static_assert(kDoorbellArmedOffset % alignof(uint64_t) == 0);
static_assert(kDoorbellArmedOffset / 64 != kCommittedOffset / 64,
              "the doorbell has its own cache line");
static_assert(kExtendedDataOffset % 64 == 0);
static_assert(kSealedEndOffset % alignof(uint64_t) == 0);
static_assert(kSealedAtOffset + 8 <= kDoorbellArmedOffset);

// Returns the header word at `offset` of a mapping based at `base` as an
// atomic. `base` must be page aligned (every mmap is).
inline std::atomic_ref<uint64_t> AtomicWord(const uint8_t* base,
                                            uint64_t offset) {
  // atomic_ref needs a non-const referent; loads through it never write.
  return std::atomic_ref<uint64_t>(
      *reinterpret_cast<uint64_t*>(const_cast<uint8_t*>(base) + offset));
}

// True when the mapping at `base` (`file_size` bytes) holds an initialised
// header with shmio C++'s extension: dataOffset past the extension block and
// the magic in place. False for a fresh file and for the Node.js layout.
inline bool HasExtension(const uint8_t* base, uint64_t file_size) {
  // Acquire: the extension is written before committed's first release
  // store, so it is complete once committed is nonzero.
  uint64_t committed = AtomicWord(base, kCommittedOffset).load(std::memory_order_acquire);
  return committed != 0 && file_size >= kExtendedDataOffset &&
         DecodeU64(base + kDataOffsetOffset) >= kExtendedDataOffset &&
         DecodeU64(base + kMagicOffset) == kMagic;
}

// The end offset of the log for a geometry {segment_size, segment_count,
// overlap}: no frame may end past it. The original's writer refuses a frame
// that would end at or past the end of its last view (its check is `>=`),
// and with a single segment its one view is segment_size - overlap long; so
// the last byte is never used, and a writer of the original continuing one
// of our full logs says "Shared memory exhausted" instead of failing.
inline uint64_t SegmentedLogEnd(uint64_t segment_size, uint64_t segment_count,
                                uint64_t overlap) {
  uint64_t last_view_end = segment_count == 1 ? segment_size - overlap
                                              : segment_count * segment_size;
  return last_view_end - 1;
}

// The end offset a frame starting at `frame_start` may not pass under the
// original's segment rule (see the file comment): the end of its segment
// plus the overlap, or the end of the log for the last segment.
inline uint64_t SegmentFrameLimit(uint64_t frame_start, uint64_t segment_size,
                                  uint64_t segment_count, uint64_t overlap) {
  uint64_t k = frame_start / segment_size;
  if (k + 1 < segment_count) return (k + 1) * segment_size + overlap;
  return SegmentedLogEnd(segment_size, segment_count, overlap);
}

}  // namespace format
}  // namespace shmio

#endif  // SHMIO_FORMAT_H_
