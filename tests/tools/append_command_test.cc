// `shmio append`: one payload per stdin line, committed in batches, read
// back by `dump`; and the errors that end a run (full log, segment overlap,
// bad lines) after committing what came before.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/tools/cli_test_support.h"

namespace shmio::cli_test {
namespace {

// The data offset and committed size `stat` reports for `path`.
struct Sizes {
  uint64_t data_offset = 0;
  uint64_t committed = 0;
  uint64_t frames = 0;
};

Sizes StatSizes(const std::string& path) {
  CliResult result = RunShmio({"stat", path});
  EXPECT_EQ(result.exit_code, 0) << result.Describe();
  std::map<std::string, std::string> values = ParseKeyValues(result.out);
  return {std::stoull(values["data_offset"]), std::stoull(values["committed"]),
          std::stoull(values["frames"])};
}

std::string Lines(const std::vector<std::string>& lines) {
  return absl::StrCat(absl::StrJoin(lines, "\n"), "\n");
}

TEST(AppendCommandTest, HexRoundTripsThroughDumpIncludingEmptyPayloads) {
  std::string path = TempPath("log.shm");
  std::vector<std::string> payloads = {"00ff10", "", "abcdef0123456789", "", "7f"};

  CliResult appended =
      RunShmio({"append", path, "--create", "--capacity=65536"}, Lines(payloads));
  CliResult dumped = RunShmio({"dump", path});

  ASSERT_EQ(appended.exit_code, 0) << appended.Describe();
  ASSERT_EQ(dumped.exit_code, 0) << dumped.Describe();
  EXPECT_EQ(dumped.out, Lines(payloads));
  Sizes sizes = StatSizes(path);
  EXPECT_EQ(sizes.frames, payloads.size());
  EXPECT_EQ(sizes.committed, sizes.data_offset + 3 + 0 + 8 + 0 + 1 + 5 * 4);
  EXPECT_EQ(appended.out, absl::StrCat(sizes.committed, "\n"));
}

TEST(AppendCommandTest, UppercaseHexIsReadAndPrintedLowercase) {
  std::string path = TempPath("log.shm");

  ASSERT_EQ(RunShmio({"append", path, "--create", "--capacity=4096"}, "ABCDEF\n")
                .exit_code,
            0);

  EXPECT_EQ(RunShmio({"dump", path}).out, "abcdef\n");
}

TEST(AppendCommandTest, TextRoundTripsThroughDump) {
  std::string path = TempPath("log.shm");
  std::string input = "hello\n\nworld, with spaces\ttabs\n";

  CliResult appended = RunShmio(
      {"append", path, "--create", "--capacity=4096", "--format=text"}, input);
  CliResult text = RunShmio({"dump", path, "--format=text"});
  CliResult hex = RunShmio({"dump", path});

  ASSERT_EQ(appended.exit_code, 0) << appended.Describe();
  EXPECT_EQ(text.out, input);
  EXPECT_EQ(hex.out, Lines({ToHex({'h', 'e', 'l', 'l', 'o'}), "",
                            ToHex(std::vector<uint8_t>(
                                input.begin() + 7, input.end() - 1))}));
}

TEST(AppendCommandTest, LastLineWithoutNewlineIsAPayload) {
  std::string path = TempPath("log.shm");

  ASSERT_EQ(RunShmio({"append", path, "--create", "--capacity=4096"}, "01\n02")
                .exit_code,
            0);

  EXPECT_EQ(RunShmio({"dump", path}).out, "01\n02\n");
}

TEST(AppendCommandTest, EmptyInputAppendsNothingAndPrintsTheCommittedSize) {
  std::string path = TempPath("log.shm");

  CliResult result = RunShmio({"append", path, "--create", "--capacity=4096"}, "");

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  Sizes sizes = StatSizes(path);
  EXPECT_EQ(sizes.frames, 0u);
  EXPECT_EQ(result.out, absl::StrCat(sizes.data_offset, "\n"));
}

TEST(AppendCommandTest, SecondRunContinuesAtTheCommittedSize) {
  std::string path = TempPath("log.shm");
  ASSERT_EQ(RunShmio({"append", path, "--create", "--capacity=4096"}, "01\n").exit_code, 0);

  // Without --create on an existing file, and with --create and a matching
  // size: both open it and continue.
  CliResult second = RunShmio({"append", path}, "02\n");
  CliResult third = RunShmio({"append", path, "--create", "--capacity=4096"}, "03\n");

  ASSERT_EQ(second.exit_code, 0) << second.Describe();
  ASSERT_EQ(third.exit_code, 0) << third.Describe();
  EXPECT_EQ(RunShmio({"dump", path}).out, "01\n02\n03\n");
}

TEST(AppendCommandTest, MismatchedSizeOnAnExistingFileFailsNamingBoth) {
  std::string path = TempPath("log.shm");
  ASSERT_EQ(RunShmio({"append", path, "--create", "--capacity=4096"}, "01\n").exit_code, 0);

  CliResult result = RunShmio({"append", path, "--create", "--capacity=8192"}, "02\n");

  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find("4096"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("8192"), std::string::npos) << result.err;
  EXPECT_EQ(RunShmio({"dump", path}).out, "01\n");
}

TEST(AppendCommandTest, BatchCommitsAtTheEndOfInputToo) {
  std::string path = TempPath("log.shm");

  // 5 lines, batches of 3: one commit after line 3, one at the end.
  CliResult result = RunShmio({"append", path, "--create", "--capacity=4096", "--batch=3"},
                              "01\n02\n03\n04\n05\n");

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(RunShmio({"dump", path}).out, "01\n02\n03\n04\n05\n");
}

TEST(AppendCommandTest, CreateWithoutASizeIsAUsageError) {
  std::string path = TempPath("log.shm");

  CliResult result = RunShmio({"append", path, "--create"}, "01\n");

  EXPECT_EQ(result.exit_code, 2) << result.Describe();
  EXPECT_NE(result.err.find("usage:"), std::string::npos) << result.err;
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << "the file was created";
}

TEST(AppendCommandTest, CreateWithoutASizeOpensAnExistingFile) {
  // The size is needed only to make a missing file.
  std::string path = TempPath("log.shm");
  ASSERT_EQ(RunShmio({"append", path, "--create", "--capacity=4096"}, "01\n").exit_code, 0);

  CliResult result = RunShmio({"append", path, "--create"}, "02\n");

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(RunShmio({"dump", path}).out, "01\n02\n");
}

TEST(AppendCommandTest, MissingFileWithoutCreateFailsNamingIt) {
  std::string path = TempPath("log.shm");

  CliResult result = RunShmio({"append", path}, "01\n");

  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find(path), std::string::npos) << result.err;
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << "the file was created";
}

TEST(AppendCommandTest, FullLogNamesTheLineAndCommitsEveryEarlierLine) {
  std::string path = TempPath("log.shm");
  ASSERT_EQ(RunShmio({"append", path, "--create", "--capacity=1024"}, "").exit_code, 0);
  Sizes empty = StatSizes(path);
  // Frames of 100 payload bytes take 104; count how many fit.
  uint64_t fit = (1024 - empty.data_offset) / 104;
  std::vector<std::string> lines(fit + 3, std::string(200, 'a'));

  // Batches of 3 leave the last lines before the failure uncommitted until
  // the failure commits them.
  CliResult result = RunShmio({"append", path, "--batch=3"}, Lines(lines));

  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find(absl::StrCat("line ", fit + 1, ":")), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("Shared memory exhausted"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find(path), std::string::npos) << result.err;
  Sizes sizes = StatSizes(path);
  EXPECT_EQ(sizes.frames, fit);
  EXPECT_EQ(sizes.committed, empty.data_offset + fit * 104);
  EXPECT_EQ(result.out, absl::StrCat(sizes.committed, "\n"));
}

TEST(AppendCommandTest, FrameCrossingASegmentByMoreThanTheOverlapIsRefused) {
  std::string path = TempPath("log.shm");
  ASSERT_EQ(RunShmio({"append", path, "--create", "--size=1024", "--num=2",
                      "--overlap=64"},
                     "")
                .exit_code,
            0);
  Sizes empty = StatSizes(path);
  // First frame ends 40 bytes before the segment end; the next (200 bytes)
  // would run 164 bytes into segment 1, more than the overlap of 64.
  uint64_t first_payload = 1024 - 40 - empty.data_offset - 4;
  std::vector<std::string> lines = {std::string(2 * first_payload, 'b'),
                                    std::string(2 * 196, 'c'), "dd"};

  CliResult result = RunShmio({"append", path}, Lines(lines));

  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find("line 2:"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("raise the overlap"), std::string::npos) << result.err;
  EXPECT_EQ(RunShmio({"dump", path}).out, Lines({lines[0]}));
}

TEST(AppendCommandTest, FrameWithinTheOverlapIsAccepted) {
  std::string path = TempPath("log.shm");
  ASSERT_EQ(RunShmio({"append", path, "--create", "--size=1024", "--num=2",
                      "--overlap=64"},
                     "")
                .exit_code,
            0);
  Sizes empty = StatSizes(path);
  uint64_t first_payload = 1024 - 40 - empty.data_offset - 4;
  // 60 bytes: ends 20 bytes into segment 1, within the overlap.
  std::vector<std::string> lines = {std::string(2 * first_payload, 'b'),
                                    std::string(2 * 56, 'c')};

  CliResult result = RunShmio({"append", path}, Lines(lines));

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(RunShmio({"dump", path}).out, Lines(lines));
}

TEST(AppendCommandTest, NodeFileIsWrittenWithItsGeometry) {
  NodeManifest manifest = LoadNodeManifest();
  std::string path = CopyNodeFixture("basic.shm");

  CliResult result = RunShmio(
      {"append", path, "--size=4096", "--num=4", "--overlap=512"}, "c0ffee\n");

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(result.out, absl::StrCat(manifest.committed_size + 7, "\n"));
  std::vector<std::string> lines = SplitLines(RunShmio({"dump", path}).out);
  ASSERT_EQ(lines.size(), manifest.committed_frames + 1);
  EXPECT_EQ(lines.front(), ToHex(NodePayload(0)));
  EXPECT_EQ(lines.back(), "c0ffee");
}

TEST(AppendCommandTest, NodeFileWithoutGeometryIsRefusedUntouchedNamingBothForms) {
  std::string path = CopyNodeFixture("basic.shm");
  std::string before = ReadFile(path);

  CliResult result = RunShmio({"append", path}, "c0ffee\n");

  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find(path), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("size, num and overlap"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("capacity = its size, 16384 bytes"), std::string::npos)
      << result.err;
  EXPECT_EQ(ReadFile(path), before);
}

// The Node library 1.x maps a log whole (no geometry): its files are
// continued with --capacity = their size, as one segment.
TEST(AppendCommandTest, NodeFileOfTheOneMappingLibraryIsWrittenWithItsCapacity) {
  NodeManifest manifest = LoadNodeManifest();
  std::string path = CopyNodeFixture("basic.shm");
  CliResult result = RunShmio({"append", path, "--capacity=16384"}, "c0ffee\n");
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(result.out, absl::StrCat(manifest.committed_size + 7, "\n"));
  std::vector<std::string> lines = SplitLines(RunShmio({"dump", path}).out);
  ASSERT_EQ(lines.size(), manifest.committed_frames + 1);
  EXPECT_EQ(lines.back(), "c0ffee");
  std::string before = ReadFile(path);
  CliResult wrong = RunShmio({"append", path, "--capacity=8192"}, "00\n");
  EXPECT_EQ(wrong.exit_code, 1) << wrong.Describe();
  EXPECT_NE(wrong.err.find("16384"), std::string::npos) << wrong.err;
  EXPECT_EQ(ReadFile(path), before);
}

TEST(AppendCommandTest, CreateTakesThePermissionBitsOfTheNewLog) {
  std::string path = TempPath("private.shm");
  CliResult result =
      RunShmio({"append", path, "--create", "--capacity=4096", "--permissions=0600"}, "00\n");
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  CliResult bad = RunShmio(
      {"append", TempPath("bad.shm"), "--create", "--capacity=4096", "--permissions=rw"}, "");
  EXPECT_EQ(bad.exit_code, 2) << bad.Describe();
}

TEST(AppendCommandTest, DanglingSymbolicLinkIsNamedAsOne) {
  std::string target = TempPath("nowhere.shm");
  std::string path = TempPath("link.shm");
  ASSERT_EQ(symlink(target.c_str(), path.c_str()), 0);
  CliResult result = RunShmio({"append", path, "--create", "--capacity=4096"}, "00\n");
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find("symbolic link"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("a reader never creates"), std::string::npos) << result.err;
  EXPECT_NE(::access(target.c_str(), F_OK), 0) << "created through the link";
}

TEST(AppendCommandTest, FreshFileTooSmallForALogIsRefusedUntouched) {
  std::string path = TempPath("tiny.shm");
  WriteFile(path, std::string(100, '\0'));  // truncate -s 100
  CliResult result = RunShmio({"append", path}, "");
  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find("260"), std::string::npos) << result.err;
  EXPECT_EQ(ReadFile(path), std::string(100, '\0'));
}

// Racing `append --create` of one new log: every run that succeeds has its
// lines in the file at the path (a loser used to unlink the winner's file
// in its clean-up, and the winner reported success into an orphan).
TEST(AppendCommandTest, RacingCreatorsNeverLoseTheWinnersLines) {
  for (int round = 0; round < 10; ++round) {
    std::string path = TempPath(absl::StrCat("race-", round, ".shm"));
    std::vector<std::unique_ptr<ShmioProcess>> racers;
    for (int i = 0; i < 4; ++i) {
      racers.push_back(std::make_unique<ShmioProcess>(std::vector<std::string>{
          "append", path, "--create", "--capacity=65536", "--format=text"}));
    }
    std::vector<std::string> expected;
    for (int i = 0; i < 4; ++i) {
      CliResult result = racers[i]->Finish(absl::StrCat("racer ", i, "\n"));
      if (result.exit_code == 0) {
        expected.push_back(absl::StrCat("racer ", i));
      } else {
        EXPECT_EQ(result.exit_code, 1) << result.Describe();
        EXPECT_NE(result.err.find("already has a writer"), std::string::npos) << result.err;
      }
    }
    ASSERT_FALSE(expected.empty()) << "no racer won";
    std::vector<std::string> lines =
        SplitLines(RunShmio({"dump", path, "--format=text"}).out);
    std::sort(lines.begin(), lines.end());
    EXPECT_EQ(lines, expected) << "round " << round;
  }
}

TEST(AppendCommandTest, PayloadOverTheLimitNamesTheLine) {
  std::string path = TempPath("log.shm");
  std::vector<std::string> lines = {"01", std::string(2 * 65532, 'e'), "02"};

  CliResult result =
      RunShmio({"append", path, "--create", "--capacity=262144"}, Lines(lines));

  EXPECT_EQ(result.exit_code, 1) << result.Describe();
  EXPECT_NE(result.err.find("line 2:"), std::string::npos) << result.err;
  EXPECT_EQ(RunShmio({"dump", path}).out, "01\n");
}

TEST(AppendCommandTest, LargestPayloadIsAccepted) {
  std::string path = TempPath("log.shm");
  std::string line(2 * 65531, 'e');

  CliResult result =
      RunShmio({"append", path, "--create", "--capacity=262144"}, line + "\n");

  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  EXPECT_EQ(RunShmio({"dump", path}).out, line + "\n");
}

TEST(AppendCommandTest, BadHexNamesTheLineAndCommitsEarlierLines) {
  std::string path = TempPath("log.shm");

  CliResult odd = RunShmio({"append", path, "--create", "--capacity=4096", "--batch=10"},
                           "01\n02\n123\n04\n");
  CliResult bad_digit = RunShmio({"append", path}, "05\nzz\n");

  EXPECT_EQ(odd.exit_code, 1) << odd.Describe();
  EXPECT_NE(odd.err.find("line 3:"), std::string::npos) << odd.err;
  EXPECT_EQ(bad_digit.exit_code, 1) << bad_digit.Describe();
  EXPECT_NE(bad_digit.err.find("line 2:"), std::string::npos) << bad_digit.err;
  EXPECT_EQ(RunShmio({"dump", path}).out, "01\n02\n05\n");
}

}  // namespace
}  // namespace shmio::cli_test
