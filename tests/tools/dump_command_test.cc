// `shmio dump` on the Node.js fixture: every committed payload in order,
// never the uncommitted tail, in each format, forwards and backwards, and
// with cursor bounds that must be frame boundaries.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/tools/cli_test_support.h"

namespace shmio::cli_test {
namespace {

class DumpCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    manifest_ = LoadNodeManifest();
    path_ = CopyNodeFixture("basic.shm");
  }

  // The hex lines dump should print for frames [first, last).
  std::vector<std::string> HexLines(uint64_t first, uint64_t last) const {
    std::vector<std::string> lines;
    for (uint64_t i = first; i < last; ++i) lines.push_back(ToHex(NodePayload(i)));
    return lines;
  }

  NodeManifest manifest_;
  std::string path_;
};

TEST_F(DumpCommandTest, PrintsEveryCommittedPayloadAsHexInOrder) {
  CliResult result = RunShmio({"dump", path_});

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(result.err, "");
  EXPECT_EQ(SplitLines(result.out), HexLines(0, manifest_.committed_frames));
}

TEST_F(DumpCommandTest, NeverPrintsTheUncommittedTail) {
  // Frames 153..155 lie written but uncommitted after the committed size:
  // whole, valid frames that a reader walking leading sizes would reach.
  ASSERT_GT(manifest_.uncommitted_end, manifest_.committed_size);

  for (std::string direction : {"--from=24", "--reverse"}) {
    CliResult result = RunShmio({"dump", path_, "--cursor", direction});

    ASSERT_EQ(result.exit_code, 0) << result.Describe();
    std::vector<std::string> lines = SplitLines(result.out);
    EXPECT_EQ(lines.size(), manifest_.committed_frames) << direction;
    for (const std::string& line : lines) {
      uint64_t cursor = std::stoull(line.substr(0, line.find('\t')));
      EXPECT_LT(cursor, manifest_.committed_size) << direction << ": " << line;
    }
  }
}

TEST_F(DumpCommandTest, CursorPrefixesEachLineWithTheFrameOffset) {
  CliResult result = RunShmio({"dump", path_, "--cursor"});

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  std::vector<std::string> expected;
  for (uint64_t i = 0; i < manifest_.committed_frames; ++i) {
    expected.push_back(absl::StrCat(manifest_.frame_offsets[i], "\t",
                                    ToHex(NodePayload(i))));
  }
  EXPECT_EQ(SplitLines(result.out), expected);
}

TEST_F(DumpCommandTest, ReverseWalksFromTheLastFrameToTheFirst) {
  CliResult result = RunShmio({"dump", path_, "--reverse", "--cursor"});

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  std::vector<std::string> expected;
  for (uint64_t i = manifest_.committed_frames; i-- > 0;) {
    expected.push_back(absl::StrCat(manifest_.frame_offsets[i], "\t",
                                    ToHex(NodePayload(i))));
  }
  EXPECT_EQ(SplitLines(result.out), expected);
}

TEST_F(DumpCommandTest, JsonPrintsCursorSizeAndHexPerLine) {
  CliResult result = RunShmio({"dump", path_, "--format=json"});

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  std::vector<std::string> expected;
  for (uint64_t i = 0; i < manifest_.committed_frames; ++i) {
    std::vector<uint8_t> payload = NodePayload(i);
    expected.push_back(absl::StrFormat("{\"cursor\":%d,\"size\":%d,\"hex\":\"%s\"}",
                                       manifest_.frame_offsets[i], payload.size(),
                                       ToHex(payload)));
  }
  EXPECT_EQ(SplitLines(result.out), expected);
}

TEST_F(DumpCommandTest, TextPrintsTheBytesAsTheyAre) {
  CliResult result = RunShmio({"dump", path_, "--format=text", "--to=150"});

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  // Frames 0..2 end at 150 (manifest frame_offsets[3]).
  ASSERT_EQ(manifest_.frame_offsets[3], 150u);
  std::string expected;
  for (uint64_t i = 0; i < 3; ++i) {
    std::vector<uint8_t> payload = NodePayload(i);
    expected.append(payload.begin(), payload.end());
    expected.push_back('\n');
  }
  EXPECT_EQ(result.out, expected);
}

TEST_F(DumpCommandTest, FromIsInclusiveAndToExclusive) {
  std::string from = absl::StrCat("--from=", manifest_.frame_offsets[10]);
  std::string to = absl::StrCat("--to=", manifest_.frame_offsets[20]);

  CliResult forward = RunShmio({"dump", path_, from, to});
  CliResult backward = RunShmio({"dump", path_, from, to, "--reverse"});

  ASSERT_EQ(forward.exit_code, 0) << forward.Describe();
  EXPECT_EQ(SplitLines(forward.out), HexLines(10, 20));
  ASSERT_EQ(backward.exit_code, 0) << backward.Describe();
  std::vector<std::string> reversed = HexLines(10, 20);
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(SplitLines(backward.out), reversed);
}

TEST_F(DumpCommandTest, FramesCrossingSegmentBoundariesReadWhole) {
  // Frame 40 starts at 4084 and ends at 4169, across the 4096 boundary.
  std::string from = absl::StrCat("--from=", manifest_.frame_offsets[40]);
  std::string to = absl::StrCat("--to=", manifest_.frame_offsets[41]);

  CliResult result = RunShmio({"dump", path_, from, to});

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(SplitLines(result.out), HexLines(40, 41));
}

TEST_F(DumpCommandTest, EqualFromAndToPrintNothing) {
  std::string at = absl::StrCat(manifest_.frame_offsets[7]);

  CliResult result = RunShmio({"dump", path_, "--from=" + at, "--to=" + at});

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(result.out, "");
}

TEST_F(DumpCommandTest, FromOffTheFrameBoundaryFailsNamingTheOffset) {
  uint64_t inside = manifest_.frame_offsets[10] + 1;

  CliResult result = RunShmio({"dump", path_, absl::StrCat("--from=", inside)});

  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find(absl::StrCat(inside)), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(path_), std::string::npos) << result.err;
  EXPECT_EQ(result.out, "");
}

TEST_F(DumpCommandTest, CursorInsideTheHeaderFailsNamingTheOffset) {
  // 0 is no frame boundary of this log (frames start at 24), even though
  // the Consumer API uses 0 to mean "the first frame".
  for (const char* cursor : {"0", "10"}) {
    CliResult from = RunShmio({"dump", path_, std::string("--from=") + cursor});
    CliResult to = RunShmio({"dump", path_, std::string("--to=") + cursor});

    EXPECT_EQ(from.exit_code, 1) << from.Describe();
    EXPECT_NE(from.err.find(absl::StrCat("--from=", cursor)), std::string::npos)
        << from.err;
    EXPECT_EQ(from.out, "");
    EXPECT_EQ(to.exit_code, 1) << to.Describe();
    EXPECT_EQ(to.out, "");
  }
}

TEST_F(DumpCommandTest, ToOffTheFrameBoundaryFailsNamingTheOffset) {
  uint64_t inside = manifest_.frame_offsets[20] - 1;

  CliResult result = RunShmio({"dump", path_, absl::StrCat("--to=", inside)});

  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find(absl::StrCat(inside)), std::string::npos) << result.err;
  EXPECT_EQ(result.out, "");
}

TEST_F(DumpCommandTest, ToInTheUncommittedTailFails) {
  // 16091 is where uncommitted frame 154 starts: a boundary, but past the
  // committed size, so not a cursor of this log.
  CliResult result = RunShmio({"dump", path_, "--to=16091"});

  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find("16091"), std::string::npos) << result.err;
  EXPECT_EQ(result.out, "");
}

// [8|AAAA|8][8|BBBB|16]: the forward walk prints two frames; the reverse
// walk used to print one invented 16-byte frame and exit 0.
TEST_F(DumpCommandTest, ReverseOverADamagedTrailingSizeFailsNamingTheOffset) {
  std::string path = TempPath("two.shm");
  ASSERT_EQ(RunShmio({"append", path, "--create", "--capacity=4096", "--format=text"},
                     "AAAA\nBBBB\n")
                .exit_code,
            0);
  WriteU16At(path, 256 + 8 + 6, 16);  // the second frame's trailing size
  CliResult forward = RunShmio({"dump", path, "--format=text"});
  EXPECT_EQ(forward.exit_code, 0) << forward.Describe();
  EXPECT_EQ(forward.out, "AAAA\nBBBB\n");
  CliResult reverse = RunShmio({"dump", path, "--reverse", "--format=text"});
  EXPECT_EQ(reverse.exit_code, 1) << reverse.Describe();
  EXPECT_EQ(reverse.out, "") << "an invented frame";
  EXPECT_NE(reverse.err.find("offset 256"), std::string::npos) << reverse.err;
}

TEST_F(DumpCommandTest, FromAfterToIsAUsageError) {
  std::string from = absl::StrCat("--from=", manifest_.frame_offsets[20]);
  std::string to = absl::StrCat("--to=", manifest_.frame_offsets[10]);

  CliResult result = RunShmio({"dump", path_, from, to});

  EXPECT_EQ(result.exit_code, 2) << result.Describe();
}

TEST_F(DumpCommandTest, DebugFindsATrailingSizeThatBoundsChecksAlone) {
  // Frame 5's trailing size disagrees with its leading size. Bounds checks
  // alone walk past it (leading sizes are intact); --debug stops there.
  uint64_t trailing = manifest_.frame_offsets[6] - 2;
  WriteU16At(path_, trailing, ReadU16At(path_, trailing) + 1);

  CliResult plain = RunShmio({"dump", path_});
  CliResult debug = RunShmio({"dump", path_, "--debug"});

  ASSERT_EQ(plain.exit_code, 0) << plain.Describe();
  EXPECT_EQ(SplitLines(plain.out).size(), manifest_.committed_frames);
  EXPECT_EQ(debug.exit_code, 1) << debug.Describe();
  EXPECT_NE(debug.err.find(absl::StrCat(manifest_.frame_offsets[5])), std::string::npos)
      << debug.err;
  EXPECT_NE(debug.err.find("[DEBUG]"), std::string::npos) << debug.err;
  // The frames before the damaged one were printed.
  EXPECT_EQ(SplitLines(debug.out), HexLines(0, 5));
}

TEST_F(DumpCommandTest, ShmioDebugEnvironmentTurnsOnTheSameCheck) {
  uint64_t trailing = manifest_.frame_offsets[6] - 2;
  WriteU16At(path_, trailing, ReadU16At(path_, trailing) + 1);

  // The child inherits the environment; the test is single-threaded.
  ::setenv("SHMIO_DEBUG", "true", 1);
  CliResult result = RunShmio({"dump", path_});
  ::unsetenv("SHMIO_DEBUG");

  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find(absl::StrCat(manifest_.frame_offsets[5])), std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace shmio::cli_test
