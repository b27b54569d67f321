// SharedMemory::Open checks options before touching the disk and checks an
// existing file before trusting it: bad options are InvalidArgument and
// create nothing; a damaged or foreign header is an error naming the path
// and the value found, and the file is left exactly as it was, whether the
// open was for reading or for writing.
#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shmio/shared_memory.h"
#include "tests/shmio/log_util.h"
#include "tests/shmio/test_util.h"

namespace {

using ::shmio::Options;
using ::shmio::SharedMemory;
using ::shmio_test::TempPath;
using ::testing::HasSubstr;

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

struct BadOptionsCase {
  const char* name;
  Options options;
};

class BadOptionsTest : public ::testing::TestWithParam<BadOptionsCase> {};

TEST_P(BadOptionsTest, IsInvalidArgumentAndCreatesNothing) {
  Options options = GetParam().options;
  options.path = TempPath(GetParam().name);
  options.writable = true;
  absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
      SharedMemory::Open(options);
  EXPECT_TRUE(absl::IsInvalidArgument(shm.status())) << shm.status();
  EXPECT_FALSE(Exists(options.path))
      << "a refused open created " << options.path;
}

INSTANTIATE_TEST_SUITE_P(
    Options, BadOptionsTest,
    ::testing::Values(
        BadOptionsCase{"size-zero", {.path = "", .size = 0, .num = 4}},
        BadOptionsCase{"num-zero",
                       {.path = "", .size = 4096, .num = 0, .overlap = 16}},
        BadOptionsCase{"overlap-equals-size",
                       {.path = "", .size = 4096, .num = 4, .overlap = 4096}},
        BadOptionsCase{"overlap-above-size",
                       {.path = "", .size = 4096, .num = 4, .overlap = 5000}},
        BadOptionsCase{"capacity-below-header", {.path = "", .capacity = 10}},
        BadOptionsCase{"segment-smaller-than-header-and-frame",
                       {.path = "", .size = 259, .num = 4}},
        BadOptionsCase{"more-segments-than-the-bound",
                       {.path = "", .size = 4096, .num = (1 << 20) + 1}},
        BadOptionsCase{"no-size-to-create", {}}),
    [](const ::testing::TestParamInfo<BadOptionsCase>& info) {
      std::string name = info.param.name;
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

TEST(OpenValidationTest, EmptyPathIsInvalidArgument) {
  absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
      SharedMemory::Open({.path = "", .capacity = 4096, .writable = true});
  EXPECT_TRUE(absl::IsInvalidArgument(shm.status())) << shm.status();
}

TEST(OpenValidationTest, ReaderOfAMissingFileIsNotFoundAndCreatesNothing) {
  std::string path = TempPath("missing");
  absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
      SharedMemory::Open({.path = path, .capacity = 4096});
  EXPECT_TRUE(absl::IsNotFound(shm.status())) << shm.status();
  EXPECT_THAT(std::string(shm.status().message()), HasSubstr(path));
  EXPECT_FALSE(Exists(path));
}

// A good log, damaged by one header write, must be refused by readers and
// writers alike, with the file unchanged.
class DamagedHeaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<shmio_test::Writer> w =
        shmio_test::OpenWriter({.path = path_, .capacity = 4096});
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE(w->pool->Append(shmio_test::PatternPayload(1, 10)).ok());
    ASSERT_TRUE(w->pool->Commit().ok());
  }

  // Opens read-only and writable; both must fail with a message holding
  // `expected_text` and the path, and leave the bytes as they were.
  void ExpectRefused(const std::string& expected_text) {
    std::vector<uint8_t> before = shmio_test::ReadFileBytes(path_);
    for (bool writable : {false, true}) {
      absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
          SharedMemory::Open({.path = path_, .writable = writable});
      ASSERT_FALSE(shm.ok())
          << (writable ? "writer" : "reader") << " accepted a damaged header";
      EXPECT_FALSE(absl::IsInvalidArgument(shm.status())) << shm.status();
      EXPECT_THAT(std::string(shm.status().message()), HasSubstr(path_));
      EXPECT_THAT(std::string(shm.status().message()),
                  HasSubstr(expected_text));
      EXPECT_EQ(shmio_test::ReadFileBytes(path_), before)
          << (writable ? "writer" : "reader") << " touched the file";
    }
  }

  // A writer must refuse with `expected_text` and the path; a reader opens.
  // Neither touches the bytes.
  void ExpectWriterRefusedReaderOpens(const std::string& expected_text) {
    std::vector<uint8_t> before = shmio_test::ReadFileBytes(path_);
    absl::StatusOr<std::unique_ptr<SharedMemory>> writer =
        SharedMemory::Open({.path = path_, .writable = true});
    ASSERT_FALSE(writer.ok()) << "a writer accepted a damaged committed value";
    EXPECT_TRUE(absl::IsDataLoss(writer.status())) << writer.status();
    EXPECT_THAT(std::string(writer.status().message()), HasSubstr(path_));
    EXPECT_THAT(std::string(writer.status().message()), HasSubstr(expected_text));
    absl::StatusOr<std::unique_ptr<SharedMemory>> reader =
        SharedMemory::Open({.path = path_});
    EXPECT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ(shmio_test::ReadFileBytes(path_), before) << "the file changed";
  }

  std::string path_ = TempPath("header");
};

TEST_F(DamagedHeaderTest, HeaderSizeOtherThan24IsRefused) {
  shmio_test::WriteU64At(path_, 0, 32);
  ExpectRefused("32");
}

TEST_F(DamagedHeaderTest, DataOffsetBeyondTheFileIsRefused) {
  shmio_test::WriteU64At(path_, 8, 5000);
  ExpectRefused("5000");
}

// A reader never trusts `committed` (its Consumer validates every value and
// a stalled Node.js writer may leave a torn one for long), so only a writer
// refuses a log whose committed value lies outside the file.
TEST_F(DamagedHeaderTest, CommittedBeyondTheFileIsRefusedByAWriter) {
  shmio_test::WriteU64At(path_, 16, 4097);
  ExpectWriterRefusedReaderOpens("4097");
}

TEST_F(DamagedHeaderTest, CommittedBeforeTheDataOffsetIsRefusedByAWriter) {
  shmio_test::WriteU64At(path_, 16, 100);
  ExpectWriterRefusedReaderOpens("100");
}

// A hostile geometry: segment size 1 and as many segments as bytes passed
// every check (it describes the file), and GetBuffers() then tried to build
// billions of views. Such a file is refused, naming the values.
TEST_F(DamagedHeaderTest, GeometryOfTinySegmentsIsRefusedNamingTheValues) {
  shmio_test::WriteU64At(path_, 40, 1);     // segment size
  shmio_test::WriteU64At(path_, 48, 4096);  // segment count: size x count = file
  ExpectRefused("segment size 1, count 4096");
}

TEST_F(DamagedHeaderTest, UnknownFormatVersionIsRefused) {
  shmio_test::CorruptByte(path_, 32, 2);  // version 1 -> 2
  ExpectRefused("version 2");
}

TEST_F(DamagedHeaderTest, DataOffsetOfAnExtendedFileWithoutTheMagicIsRefused) {
  // Data at 256 but no magic: neither a Node file (data at 24) nor a shmio
  // C++ file. DESIGN.md 1: the magic lets a reader "refuse a file that is
  // neither".
  shmio_test::CorruptByte(path_, 24);
  ExpectRefused("magic");
}

TEST(OpenValidationTest, FileShorterThanTheHeaderIsNotALog) {
  std::string path = TempPath("short");
  shmio_test::WriteFileBytes(path, std::vector<uint8_t>(10, 0x18));
  for (bool writable : {false, true}) {
    absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
        SharedMemory::Open({.path = path, .writable = writable});
    EXPECT_FALSE(shm.ok());
    EXPECT_THAT(std::string(shm.status().message()), HasSubstr(path));
    EXPECT_EQ(shmio_test::FileSize(path), 10u) << "the file was changed";
  }
}

TEST(OpenValidationTest, ExistingFileOpenedWithAnotherCapacityNamesBothSizes) {
  std::string path = TempPath("mismatch");
  {
    absl::StatusOr<shmio_test::Writer> w =
        shmio_test::OpenWriter({.path = path, .capacity = 8192});
    ASSERT_TRUE(w.ok()) << w.status();
  }
  std::vector<uint8_t> before = shmio_test::ReadFileBytes(path);
  for (bool writable : {false, true}) {
    absl::StatusOr<std::unique_ptr<SharedMemory>> shm = SharedMemory::Open(
        {.path = path, .capacity = 4096, .writable = writable});
    EXPECT_TRUE(absl::IsFailedPrecondition(shm.status())) << shm.status();
    EXPECT_THAT(std::string(shm.status().message()), HasSubstr("8192"));
    EXPECT_THAT(std::string(shm.status().message()), HasSubstr("4096"));
  }
  EXPECT_EQ(shmio_test::ReadFileBytes(path), before);
}

TEST(OpenValidationTest, AllZeroFileOpensReadOnlyAsAnEmptyLogAndStaysZero) {
  std::string path = TempPath("zero");
  shmio_test::CreateZeroFile(path, 4096);
  absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
      shmio_test::OpenReader(path);
  ASSERT_TRUE(shm.ok()) << shm.status();
  EXPECT_EQ((*shm)->ReadHeader().format, shmio::FileFormat::kEmpty);
  EXPECT_TRUE(shmio_test::ReadCommittedPayloads(**shm).empty());
  EXPECT_EQ(shmio_test::ReadFileBytes(path), std::vector<uint8_t>(4096, 0));
}

TEST(OpenValidationTest, CreatedFileHasTheRequestedModeAndReservedSpace) {
  std::string path = TempPath("mode");
  absl::StatusOr<std::unique_ptr<SharedMemory>> shm =
      SharedMemory::Open({.path = path,
                          .capacity = 1 << 20,
                          .writable = true,
                          .create_mode = 0600});
  ASSERT_TRUE(shm.ok()) << shm.status();
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), uint64_t{1} << 20);
  // posix_fallocate reserved the blocks up front (not a sparse file).
  EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, uint64_t{1} << 20);
}

}  // namespace
