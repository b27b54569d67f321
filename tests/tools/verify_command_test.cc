// `shmio verify`: a healthy log is "ok: N frames, B bytes"; a damaged one
// names the first bad frame's offset and exits 1.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/tools/cli_test_support.h"

namespace shmio::cli_test {
namespace {

class VerifyCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    manifest_ = LoadNodeManifest();
    path_ = CopyNodeFixture("basic.shm");
  }

  // Makes frame i's trailing size disagree with its leading size.
  void CorruptTrailingSize(uint64_t i) {
    uint64_t trailing = manifest_.frame_offsets[i] + 2 +
                        manifest_.payload_lengths[i];
    WriteU16At(path_, trailing, ReadU16At(path_, trailing) ^ 0x0100);
  }

  NodeManifest manifest_;
  std::string path_;
};

TEST_F(VerifyCommandTest, NodeFixtureIsOk) {
  CliResult result = RunShmio({"verify", path_});

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(result.out,
            absl::StrCat("ok: ", manifest_.committed_frames, " frames, ",
                         manifest_.committed_size - manifest_.data_offset,
                         " bytes\n"));
  EXPECT_EQ(result.err, "");
}

TEST_F(VerifyCommandTest, CorruptTrailingSizeNamesTheFirstBadFrame) {
  CorruptTrailingSize(42);
  CorruptTrailingSize(100);

  CliResult result = RunShmio({"verify", path_});

  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  std::string offset = absl::StrCat(manifest_.frame_offsets[42]);
  EXPECT_EQ(result.out.rfind("bad frame at offset " + offset + ":", 0), 0u)
      << result.Describe();
  EXPECT_NE(result.err.find(path_), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(offset), std::string::npos) << result.err;
}

TEST_F(VerifyCommandTest, CorruptLastFrameIsFound) {
  CorruptTrailingSize(manifest_.committed_frames - 1);

  CliResult result = RunShmio({"verify", path_});

  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.out.find(absl::StrCat(
                "offset ", manifest_.frame_offsets[manifest_.committed_frames - 1])),
            std::string::npos)
      << result.Describe();
}

TEST_F(VerifyCommandTest, LeadingSizeRunningPastCommittedNamesTheFrame) {
  // Frame 150's leading size now claims more bytes than the log holds, so
  // no walk can end on the committed value: damage, at frame 150.
  WriteU16At(path_, manifest_.frame_offsets[150], 60000);

  CliResult result = RunShmio({"verify", path_});

  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_FALSE(result.timed_out);
  EXPECT_NE(result.out.find(absl::StrCat("offset ", manifest_.frame_offsets[150])),
            std::string::npos)
      << result.Describe();
}

TEST_F(VerifyCommandTest, ShmioWrittenLogIsOk) {
  std::string path = TempPath("log.shm");
  ASSERT_EQ(RunShmio({"append", path, "--create", "--capacity=4096"}, "aa\n\nbbcc\n")
                .exit_code,
            0);

  CliResult result = RunShmio({"verify", path});

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(result.out, "ok: 3 frames, 15 bytes\n");
}

}  // namespace
}  // namespace shmio::cli_test
