// The bytes of a shmio C++ file, checked on disk with plain POSIX reads (not
// through shmio's own decoding): the original's 24-byte header, the
// extension block documented in shmio/format.h, and frames
// [u16 total][payload][u16 total] in a worked example of three appends.
// Also the segment views (the original's getBuffers()) and the options in
// force (getConfig()).
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "tests/shmio/log_util.h"
#include "tests/shmio/test_util.h"

namespace {

using ::shmio::Options;
using ::shmio::Pool;
using ::shmio::SharedMemory;
using ::shmio_test::ReadFileBytes;
using ::shmio_test::ReadU16At;
using ::shmio_test::ReadU64At;
using ::shmio_test::TempPath;
using ::shmio_test::Writer;
using ::testing::ElementsAreArray;

// Creates a fresh writable log and its writer.
Writer CreateWriter(Options options) {
  absl::StatusOr<Writer> writer = shmio_test::OpenWriter(std::move(options));
  EXPECT_TRUE(writer.ok()) << writer.status();
  return writer.ok() ? *std::move(writer) : Writer{};
}

uint32_t ReadU32At(const std::string& path, uint64_t offset) {
  std::vector<uint8_t> bytes = ReadFileBytes(path);
  return static_cast<uint32_t>(bytes[offset]) |
         static_cast<uint32_t>(bytes[offset + 1]) << 8 |
         static_cast<uint32_t>(bytes[offset + 2]) << 16 |
         static_cast<uint32_t>(bytes[offset + 3]) << 24;
}

TEST(FormatTest, FreshCapacityOnlyFileHasTheDocumentedHeaderAndExtension) {
  std::string path = TempPath("fresh-capacity");
  Writer w = CreateWriter({.path = path, .capacity = 4096});
  ASSERT_NE(w.pool, nullptr);

  EXPECT_EQ(shmio_test::FileSize(path), 4096u);
  EXPECT_EQ(ReadU64At(path, 0), 24u) << "headerSize";
  EXPECT_EQ(ReadU64At(path, 8), 256u) << "dataOffset";
  EXPECT_EQ(ReadU64At(path, 16), 256u) << "committed starts at dataOffset";

  std::vector<uint8_t> bytes = ReadFileBytes(path);
  EXPECT_EQ(std::string(bytes.begin() + 24, bytes.begin() + 32), "SHMIOC++");
  EXPECT_EQ(ReadU32At(path, 32), 1u) << "version";
  EXPECT_EQ(ReadU32At(path, 36), 0u) << "flags";
  EXPECT_EQ(ReadU64At(path, 40), 0u) << "segment_size: no geometry";
  EXPECT_EQ(ReadU64At(path, 48), 0u) << "segment_count: no geometry";
  EXPECT_EQ(ReadU64At(path, 56), 0u) << "overlap";
  EXPECT_EQ(ReadU64At(path, 64), 4096u) << "capacity";
  EXPECT_EQ(ReadU64At(path, 72), static_cast<uint64_t>(getpid()))
      << "writer_pid";
  EXPECT_EQ(ReadU64At(path, 80), 0u) << "file_sequence";
  // Reserved words and the (unarmed) doorbell are zero, and so is the data
  // area of a fresh log.
  for (uint64_t offset = 88; offset < 128; ++offset) {
    EXPECT_EQ(bytes[offset], 0) << "reserved byte at " << offset;
  }
  EXPECT_EQ(ReadU64At(path, 128), 0u) << "doorbell armed";
  for (uint64_t offset = 144; offset < 252; ++offset) {
    ASSERT_EQ(bytes[offset], 0) << "byte at " << offset;
  }
  // The debug sentinel: an empty frame [4][4] ending at dataOffset, which
  // the original's debug-mode writer reads as "the previous frame".
  EXPECT_EQ(ReadU16At(path, 252), 4u) << "sentinel leading size";
  EXPECT_EQ(ReadU16At(path, 254), 4u) << "sentinel trailing size";
  for (uint64_t offset = 256; offset < 4096; ++offset) {
    ASSERT_EQ(bytes[offset], 0) << "byte at " << offset;
  }
}

TEST(FormatTest, FreshFileWithGeometryRecordsSizeNumOverlapAndCapacity) {
  std::string path = TempPath("fresh-geometry");
  Writer w =
      CreateWriter({.path = path, .size = 4096, .num = 4, .overlap = 512});
  ASSERT_NE(w.pool, nullptr);

  EXPECT_EQ(shmio_test::FileSize(path), 4096u * 4) << "file = size * num";
  EXPECT_EQ(ReadU64At(path, 0), 24u);
  EXPECT_EQ(ReadU64At(path, 8), 256u);
  EXPECT_EQ(ReadU64At(path, 16), 256u);
  EXPECT_EQ(ReadU64At(path, 40), 4096u) << "segment_size";
  EXPECT_EQ(ReadU64At(path, 48), 4u) << "segment_count";
  EXPECT_EQ(ReadU64At(path, 56), 512u) << "overlap";
  EXPECT_EQ(ReadU64At(path, 64), 16384u) << "capacity";
}

TEST(FormatTest, ThreeAppendsProduceTheWorkedExampleBytes) {
  std::string path = TempPath("worked-example");
  Writer w = CreateWriter({.path = path, .capacity = 4096});
  ASSERT_NE(w.pool, nullptr);

  const std::vector<uint8_t> a = {'a'};
  const std::vector<uint8_t> empty;
  const std::vector<uint8_t> hello = {'h', 'e', 'l', 'l', 'o'};
  ASSERT_TRUE(w.pool->Append(a).ok());
  ASSERT_TRUE(w.pool->Append(empty).ok());
  ASSERT_TRUE(w.pool->Append(hello).ok());

  // Appended frames are in the file already, but `committed` has not moved.
  EXPECT_EQ(ReadU64At(path, 16), 256u);
  ASSERT_TRUE(w.pool->Commit().ok());
  EXPECT_EQ(ReadU64At(path, 16), 256u + 5 + 4 + 9);

  const std::vector<uint8_t> expected = {
      0x05, 0x00, 'a',  0x05, 0x00,                        // frame at 256
      0x04, 0x00, 0x04, 0x00,                              // frame at 261
      0x09, 0x00, 'h',  'e',  'l',  'l', 'o', 0x09, 0x00,  // frame at 265
      0x00, 0x00,                                          // nothing after 274
  };
  std::vector<uint8_t> bytes = ReadFileBytes(path);
  std::vector<uint8_t> frames(bytes.begin() + 256,
                              bytes.begin() + 256 + expected.size());
  EXPECT_THAT(frames, ElementsAreArray(expected));
}

TEST(FormatTest, FramesAreUnalignedAndBackToBack) {
  std::string path = TempPath("unaligned");
  Writer w = CreateWriter({.path = path, .capacity = 4096});
  ASSERT_NE(w.pool, nullptr);
  uint64_t position = 256;
  for (size_t n : {3u, 0u, 7u, 1u, 12u}) {
    ASSERT_TRUE(w.pool->Append(shmio_test::PatternPayload(n, n)).ok());
    EXPECT_EQ(ReadU16At(path, position), n + 4)
        << "leading size at " << position;
    EXPECT_EQ(ReadU16At(path, position + 2 + n), n + 4)
        << "trailing size at " << position + 2 + n;
    position += n + 4;
  }
  ASSERT_TRUE(w.pool->Commit().ok());
  EXPECT_EQ(ReadU64At(path, 16), position);
}

TEST(FormatTest, GetBuffersOfACapacityOnlyLogIsOneViewOfTheWholeFile) {
  std::string path = TempPath("buffers-capacity");
  Writer w = CreateWriter({.path = path, .capacity = 8192});
  ASSERT_NE(w.shm, nullptr);
  std::vector<absl::Span<const uint8_t>> views = w.shm->GetBuffers();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].data(), w.shm->data());
  EXPECT_EQ(views[0].size(), 8192u);
  EXPECT_FALSE(w.shm->geometry().has_value());
}

TEST(FormatTest, GetBuffersWithGeometryOverlapsEachViewButTheLast) {
  std::string path = TempPath("buffers-geometry");
  Writer w =
      CreateWriter({.path = path, .size = 4096, .num = 4, .overlap = 512});
  ASSERT_NE(w.shm, nullptr);
  std::vector<absl::Span<const uint8_t>> views = w.shm->GetBuffers();
  ASSERT_EQ(views.size(), 4u);
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(views[k].data(), w.shm->data() + k * 4096) << "view " << k;
    EXPECT_EQ(views[k].size(), k < 3 ? 4096u + 512 : 4096u) << "view " << k;
  }
}

TEST(FormatTest, ReopeningReadOnlyFillsTheConfigFromTheFile) {
  std::string path = TempPath("config");
  {
    Writer w =
        CreateWriter({.path = path, .size = 2048, .num = 3, .overlap = 100});
    ASSERT_NE(w.pool, nullptr);
    ASSERT_TRUE(w.pool->Append(shmio_test::PatternPayload(1, 10)).ok());
    ASSERT_TRUE(w.pool->Commit().ok());
  }
  absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
      SharedMemory::Open({.path = path});
  ASSERT_TRUE(shm.ok()) << shm.status();
  const Options& config = (*shm)->config();
  EXPECT_EQ(config.size, 2048u);
  EXPECT_EQ(config.num, 3u);
  EXPECT_EQ(config.overlap, 100u);
  EXPECT_EQ(config.capacity, 6144u);
  EXPECT_FALSE(config.writable);
  EXPECT_EQ((*shm)->capacity(), 6144u);
  ASSERT_TRUE((*shm)->geometry().has_value());
  EXPECT_EQ((*shm)->geometry()->size, 2048u);

  shmio::HeaderSnapshot header = (*shm)->ReadHeader();
  EXPECT_EQ(header.format, shmio::FileFormat::kShmioV1);
  EXPECT_EQ(header.header_size, 24u);
  EXPECT_EQ(header.data_offset, 256u);
  EXPECT_EQ(header.committed, 256u + 14);
  EXPECT_EQ(header.writer_pid, static_cast<uint64_t>(getpid()));
  ASSERT_TRUE(header.geometry.has_value());
  EXPECT_EQ(header.geometry->num, 3u);
  EXPECT_EQ((*shm)->LoadCommitted(), 256u + 14);
}

TEST(FormatTest, FileFormatNamesAreTheOnesTheCliPrints) {
  EXPECT_STREQ(shmio::FileFormatName(shmio::FileFormat::kEmpty), "empty");
  EXPECT_STREQ(shmio::FileFormatName(shmio::FileFormat::kNode), "node");
  EXPECT_STREQ(shmio::FileFormatName(shmio::FileFormat::kShmioV1), "shmio-v1");
}

}  // namespace
