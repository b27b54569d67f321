// `shmio append/stat/dump/verify DIR` on a chain of files: small files so
// that appends roll many times, continuing a chain, retention, and every
// kind of bad chain (each exit 1, naming the file and positions, changing
// nothing on disk).
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/tools/cli_test_support.h"

namespace shmio::cli_test {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kFileCapacity = 4096;  // 3840 bytes of frames a file
constexpr uint64_t kDataOffset = 256;     // of every chain file
constexpr uint64_t kCommittedOffset = 16;
constexpr uint64_t kSealedEndOffset = 104;

// Line i of the input: 12 to 34 bytes, so frames do not divide a file.
std::string Line(int i) {
  return absl::StrFormat("line-%06d%s", i, std::string(i % 23, 'x'));
}

// Lines [first, first + count), each with its "\n".
std::string Lines(int first, int count) {
  std::string text;
  for (int i = first; i < first + count; ++i) absl::StrAppend(&text, Line(i), "\n");
  return text;
}

// The bytes the frames of lines [first, first + count) take.
uint64_t FrameBytes(int first, int count) {
  uint64_t bytes = 0;
  for (int i = first; i < first + count; ++i) bytes += Line(i).size() + 4;
  return bytes;
}

std::string FileName(uint64_t base) { return absl::StrFormat("%020d.shm", base); }

// The chain files in `dir`, by name (which sorts them by position).
std::vector<std::string> ChainFileNames(const std::string& dir) {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename();
    if (name.size() == 24 && name.substr(20) == ".shm") names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

uint64_t BaseOf(const std::string& name) {
  uint64_t base = 0;
  EXPECT_TRUE(absl::SimpleAtoi(name.substr(0, 20), &base)) << name;
  return base;
}

// Every entry of `dir` and its bytes, and its permission bits: what "nothing
// on disk changed" compares.
std::map<std::string, std::string> DirContents(const std::string& dir) {
  std::map<std::string, std::string> contents;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    const std::string path = entry.path();
    struct stat st;
    ::stat(path.c_str(), &st);
    std::string bytes = (st.st_mode & 0444) != 0 ? ReadFile(path) : "<unreadable>";
    contents[entry.path().filename()] = absl::StrCat(st.st_mode, ":", bytes);
  }
  return contents;
}

// One `file NAME: base=B end=E sealed=yes|no frames=N` line of stat.
struct StatFile {
  std::string name;
  uint64_t base = 0;
  uint64_t end = 0;
  bool sealed = false;
  uint64_t frames = 0;
};

std::vector<StatFile> StatFiles(const std::string& out) {
  std::vector<StatFile> files;
  for (const std::string& line : SplitLines(out)) {
    char name[64], sealed[8];
    StatFile file;
    unsigned long long base, end, frames;
    if (std::sscanf(line.c_str(), "file %63[^:]: base=%llu end=%llu sealed=%7s frames=%llu",
                    name, &base, &end, sealed, &frames) == 5) {
      files.push_back({name, base, end, std::string(sealed) == "yes", frames});
    }
  }
  return files;
}

class ChainCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempPath("chain");
    fs::remove_all(dir_);
  }

  // Makes the chain in dir_ from lines [0, count).
  void CreateChain(int count, std::vector<std::string> extra_flags = {}) {
    std::vector<std::string> args = {"append", dir_, "--create", "--chain",
                                     absl::StrCat("--file-capacity=", kFileCapacity),
                                     "--format=text"};
    args.insert(args.end(), extra_flags.begin(), extra_flags.end());
    CliResult result = RunShmio(args, Lines(0, count));
    ASSERT_EQ(result.exit_code, 0) << result.Describe();
    ASSERT_EQ(result.out, absl::StrCat(FrameBytes(0, count), "\n"));
  }

  std::string PathOf(const std::string& name) const { return dir_ + "/" + name; }

  // The chain position of the last frame in the file `name`, from dump.
  uint64_t LastFramePositionIn(const std::string& name, uint64_t end) {
    CliResult dump = RunShmio({"dump", dir_, "--cursor", "--format=text"});
    EXPECT_EQ(dump.exit_code, 0) << dump.Describe();
    uint64_t last = 0;
    for (const std::string& line : SplitLines(dump.out)) {
      uint64_t position = 0;
      if (!absl::SimpleAtoi(line.substr(0, line.find('\t')), &position)) continue;
      if (position >= BaseOf(name) && position < end) last = position;
    }
    return last;
  }

  // Every command refuses the chain: exit 1, stderr naming each of
  // `words`, and nothing in dir_ changes (append included, given a line to
  // write and new retention limits).
  void ExpectEveryCommandRefuses(const std::vector<std::string>& words) {
    const std::map<std::string, std::string> before = DirContents(dir_);
    const std::vector<std::vector<std::string>> commands = {
        {"verify", dir_},
        {"dump", dir_},
        {"stat", dir_},
        {"stat", dir_, "--json"},
        {"append", dir_, "--retain-files=1", "--format=text"},
    };
    for (const std::vector<std::string>& command : commands) {
      CliResult result = RunShmio(command, "more\n");
      const std::string what = absl::StrJoin(command, " ");
      EXPECT_EQ(result.exit_code, 1) << what << ": " << result.Describe();
      for (const std::string& word : words) {
        EXPECT_NE(result.err.find(word), std::string::npos)
            << what << ": stderr lacks \"" << word << "\": " << result.err;
      }
    }
    EXPECT_EQ(DirContents(dir_), before) << "a refused command changed " << dir_;
  }

  std::string dir_;
};

TEST_F(ChainCommandsTest, AppendsRollManyTimesAndVerifyCountsEveryFrame) {
  CreateChain(3000);

  std::vector<std::string> names = ChainFileNames(dir_);
  ASSERT_GE(names.size(), 10u) << "3000 lines should fill many 4096-byte files";
  EXPECT_EQ(names.front(), FileName(0));
  CliResult verify = RunShmio({"verify", dir_});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
  EXPECT_EQ(verify.out, absl::StrFormat("ok: 3000 frames, %d bytes, %d files\n",
                                        FrameBytes(0, 3000), names.size()));
  EXPECT_EQ(verify.err, "");
}

TEST_F(ChainCommandsTest, ContinuingAppendsAfterTheLastFrame) {
  CreateChain(1000);

  CliResult more = RunShmio({"append", dir_, "--format=text", "--batch=7"}, Lines(1000, 1000));

  ASSERT_EQ(more.exit_code, 0) << more.Describe();
  EXPECT_EQ(more.out, absl::StrCat(FrameBytes(0, 2000), "\n"));
  CliResult dump = RunShmio({"dump", dir_, "--format=text"});
  ASSERT_EQ(dump.exit_code, 0) << dump.Describe();
  EXPECT_EQ(dump.out, Lines(0, 2000));
  CliResult verify = RunShmio({"verify", dir_});
  EXPECT_EQ(verify.out, absl::StrFormat("ok: 2000 frames, %d bytes, %d files\n",
                                        FrameBytes(0, 2000), ChainFileNames(dir_).size()));
}

TEST_F(ChainCommandsTest, DumpAcrossRollsEqualsTheInputWithPositionsAsCursors) {
  CreateChain(2000);
  ASSERT_GE(ChainFileNames(dir_).size(), 5u);

  CliResult forward = RunShmio({"dump", dir_, "--format=text", "--cursor"});
  CliResult backward = RunShmio({"dump", dir_, "--format=text", "--reverse"});

  ASSERT_EQ(forward.exit_code, 0) << forward.Describe();
  std::string expected;
  for (int i = 0; i < 2000; ++i) {
    absl::StrAppend(&expected, FrameBytes(0, i), "\t", Line(i), "\n");
  }
  EXPECT_EQ(forward.out, expected);
  ASSERT_EQ(backward.exit_code, 0) << backward.Describe();
  std::vector<std::string> lines = SplitLines(backward.out);
  std::reverse(lines.begin(), lines.end());
  EXPECT_EQ(absl::StrJoin(lines, "\n"), absl::StrJoin(SplitLines(Lines(0, 2000)), "\n"));
}

TEST_F(ChainCommandsTest, DumpTakesPositionsAcrossFilesAndRefusesOthers) {
  CreateChain(2000);
  const uint64_t second_base = BaseOf(ChainFileNames(dir_)[1]);
  int first_of_second = 0;
  while (FrameBytes(0, first_of_second) < second_base) ++first_of_second;
  ASSERT_EQ(FrameBytes(0, first_of_second), second_base) << "files begin at frames";

  // From the last frame of the first file to the second frame of the next.
  CliResult range = RunShmio({"dump", dir_, "--format=text",
                              absl::StrCat("--from=", FrameBytes(0, first_of_second - 1)),
                              absl::StrCat("--to=", FrameBytes(0, first_of_second + 2))});
  CliResult inside = RunShmio({"dump", dir_, absl::StrCat("--from=", second_base + 1)});
  CliResult past = RunShmio({"dump", dir_, absl::StrCat("--to=", FrameBytes(0, 2000) + 4)});

  ASSERT_EQ(range.exit_code, 0) << range.Describe();
  EXPECT_EQ(range.out, Lines(first_of_second - 1, 3));
  EXPECT_EQ(inside.exit_code, 1) << inside.Describe();
  EXPECT_NE(inside.err.find(PathOf(FileName(second_base))), std::string::npos) << inside.err;
  EXPECT_NE(inside.err.find("not a frame boundary"), std::string::npos) << inside.err;
  EXPECT_EQ(past.exit_code, 1) << past.Describe();
  EXPECT_NE(past.err.find(absl::StrCat("positions 0 to ", FrameBytes(0, 2000))),
            std::string::npos)
      << past.err;
}

TEST_F(ChainCommandsTest, StatListsEachFileWithItsBaseEndAndSeal) {
  CreateChain(2000);
  std::vector<std::string> names = ChainFileNames(dir_);

  CliResult stat = RunShmio({"stat", dir_});

  ASSERT_EQ(stat.exit_code, 0) << stat.Describe();
  std::map<std::string, std::string> totals = ParseKeyValues(stat.out);
  EXPECT_EQ(totals["files"], absl::StrCat(names.size()));
  EXPECT_EQ(totals["begin"], "0");
  EXPECT_EQ(totals["committed"], absl::StrCat(FrameBytes(0, 2000)));
  EXPECT_EQ(totals["frames"], "2000");
  EXPECT_EQ(totals["file_capacity"], absl::StrCat(kFileCapacity));
  EXPECT_EQ(totals["writer"], "none");
  std::vector<StatFile> files = StatFiles(stat.out);
  ASSERT_EQ(files.size(), names.size()) << stat.out;
  uint64_t frames = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(files[i].name, names[i]);
    EXPECT_EQ(files[i].base, BaseOf(names[i]));
    const bool last = i + 1 == files.size();
    EXPECT_EQ(files[i].end, last ? FrameBytes(0, 2000) : BaseOf(names[i + 1])) << names[i];
    EXPECT_EQ(files[i].sealed, !last) << names[i];
    frames += files[i].frames;
  }
  EXPECT_EQ(frames, 2000u);

  CliResult json = RunShmio({"stat", dir_, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.Describe();
  EXPECT_NE(json.out.find(absl::StrFormat(
                "{\"name\":\"%s\",\"base\":0,\"end\":%d,\"sealed\":true,\"frames\":%d}",
                names[0], files[0].end, files[0].frames)),
            std::string::npos)
      << json.out;
  EXPECT_NE(json.out.find(absl::StrFormat("\"committed\":%d,", FrameBytes(0, 2000))),
            std::string::npos)
      << json.out;
}

TEST_F(ChainCommandsTest, RetainFilesRemovesTheOldestAndTheRestVerifies) {
  CreateChain(3000, {"--retain-files=2"});

  std::vector<std::string> names = ChainFileNames(dir_);
  ASSERT_EQ(names.size(), 2u);
  const uint64_t begin = BaseOf(names[0]);
  EXPECT_GT(begin, 0u);
  int first_kept = 0;
  while (FrameBytes(0, first_kept) < begin) ++first_kept;
  CliResult verify = RunShmio({"verify", dir_});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
  EXPECT_EQ(verify.out, absl::StrFormat("ok: %d frames, %d bytes, 2 files\n", 3000 - first_kept,
                                        FrameBytes(0, 3000) - begin));
  CliResult dump = RunShmio({"dump", dir_, "--format=text"});
  EXPECT_EQ(dump.out, Lines(first_kept, 3000 - first_kept));
  CliResult gone = RunShmio({"dump", dir_, "--from=0"});
  EXPECT_EQ(gone.exit_code, 1) << gone.Describe();
  EXPECT_NE(gone.err.find(absl::StrCat("retention removed the files before ", begin)),
            std::string::npos)
      << gone.err;
}

TEST_F(ChainCommandsTest, RetainBytesGivenWhenContinuingKeepsThatManyBytesOfFiles) {
  CreateChain(1500);
  ASSERT_GT(ChainFileNames(dir_).size(), 3u);

  CliResult more = RunShmio(
      {"append", dir_, "--format=text", absl::StrCat("--retain-bytes=", 3 * kFileCapacity)},
      Lines(1500, 1500));

  ASSERT_EQ(more.exit_code, 0) << more.Describe();
  EXPECT_EQ(ChainFileNames(dir_).size(), 3u);
  CliResult stat = RunShmio({"stat", dir_});
  EXPECT_EQ(ParseKeyValues(stat.out)["retain_bytes"], absl::StrCat(3 * kFileCapacity));
  CliResult verify = RunShmio({"verify", dir_});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
  EXPECT_NE(verify.out.find(", 3 files\n"), std::string::npos) << verify.out;
}

TEST_F(ChainCommandsTest, ForeignFilesAreListedByStatAndIgnoredByReaders) {
  CreateChain(1000);
  WriteFile(PathOf("notes.txt"), "not part of the chain\n");
  WriteFile(PathOf("0123.shm"), "nor this\n");

  CliResult stat = RunShmio({"stat", dir_});
  CliResult verify = RunShmio({"verify", dir_});
  CliResult dump = RunShmio({"dump", dir_, "--format=text"});

  EXPECT_EQ(stat.exit_code, 0) << stat.Describe();
  EXPECT_NE(stat.out.find("foreign 0123.shm: ignored\nforeign notes.txt: ignored\n"),
            std::string::npos)
      << stat.out;
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
  EXPECT_EQ(dump.out, Lines(0, 1000));
}

TEST_F(ChainCommandsTest, AMissingFileIsAGapNamedWithItsPositions) {
  CreateChain(2000);
  std::vector<std::string> names = ChainFileNames(dir_);
  ASSERT_GE(names.size(), 4u);
  fs::remove(PathOf(names[2]));

  ExpectEveryCommandRefuses(
      {PathOf(names[1]), PathOf(names[3]),
       absl::StrFormat("positions %d to %d are missing", BaseOf(names[2]), BaseOf(names[3]))});
}

TEST_F(ChainCommandsTest, ASealedFileEndingBeforeTheNextBaseIsRefused) {
  CreateChain(1000);
  std::vector<std::string> names = ChainFileNames(dir_);
  const uint64_t next_base = BaseOf(names[1]);
  // The first file now ends one frame early, as sealed.
  const uint64_t last = LastFramePositionIn(names[0], next_base);
  WriteU64At(PathOf(names[0]), kCommittedOffset, kDataOffset + last);
  WriteU64At(PathOf(names[0]), kSealedEndOffset, kDataOffset + last);

  ExpectEveryCommandRefuses({PathOf(names[0]), PathOf(names[1]),
                             absl::StrFormat("ends at position %d", last),
                             absl::StrFormat("positions %d to %d are missing", last, next_base)});
}

TEST_F(ChainCommandsTest, FilesThatOverlapAreRefused) {
  CreateChain(1000);
  std::vector<std::string> names = ChainFileNames(dir_);
  const uint64_t next_base = BaseOf(names[1]);
  const uint64_t end_offset = kDataOffset + next_base;  // the first file's base is 0
  ASSERT_GE(kFileCapacity - end_offset, 4u) << "no room for an empty frame";
  // One more (empty) frame in the first file: it now ends 4 bytes into the
  // second one.
  WriteU16At(PathOf(names[0]), end_offset, 4);
  WriteU16At(PathOf(names[0]), end_offset + 2, 4);
  WriteU64At(PathOf(names[0]), kCommittedOffset, end_offset + 4);
  WriteU64At(PathOf(names[0]), kSealedEndOffset, end_offset + 4);

  ExpectEveryCommandRefuses(
      {PathOf(names[0]), PathOf(names[1]),
       absl::StrFormat("positions %d to %d are in both", next_base, next_base + 4)});
}

TEST_F(ChainCommandsTest, AFileNamedLikeAChainFileThatIsNoLogIsRefused) {
  CreateChain(1000);
  const std::string impostor = FileName(FrameBytes(0, 1000) + 1000);
  WriteFile(PathOf(impostor), "not a log\n");

  // The readers open it and say why it is none; the writer may first find
  // the gap before it, also naming it.
  ExpectEveryCommandRefuses({PathOf(impostor)});
  CliResult verify = RunShmio({"verify", dir_});
  EXPECT_NE(verify.err.find("not a shmio log"), std::string::npos) << verify.err;
}

TEST_F(ChainCommandsTest, ALogOfItsOwnAmongTheChainFilesIsRefused) {
  CreateChain(1000);
  const std::string impostor = PathOf(FileName(FrameBytes(0, 1000)));
  CliResult own = RunShmio({"append", impostor, "--create", "--capacity=4096"}, "00\n");
  ASSERT_EQ(own.exit_code, 0) << own.Describe();

  ExpectEveryCommandRefuses({impostor, "is not one of it"});
}

TEST_F(ChainCommandsTest, AnUnreadableFileIsRefusedNamingIt) {
  // Root reads every file, so the commands run as nobody then; the chain
  // lives where nobody can reach it.
  char tmpl[] = "/tmp/shmio-chain-permissions-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  ASSERT_EQ(::chmod(root.c_str(), 0755), 0);
  dir_ = root + "/chain";
  const std::string binary = root + "/shmio";
  fs::copy_file(RunfilesPath("tools/shmio"), binary);
  CreateChain(1000);
  std::vector<std::string> names = ChainFileNames(dir_);
  ASSERT_EQ(::chmod(PathOf(names[1]).c_str(), 0), 0);
  const std::map<std::string, std::string> before = DirContents(dir_);

  for (const char* command : {"verify", "dump", "stat"}) {
    std::vector<std::string> args = {binary, command, dir_};
    if (::geteuid() == 0) {
      args.insert(args.begin(), {"--reuid=65534", "--regid=65534", "--clear-groups"});
    }
    CliResult result = RunProgram(::geteuid() == 0 ? "/usr/bin/setpriv" : binary, args);
    EXPECT_EQ(result.exit_code, 1) << command << ": " << result.Describe();
    EXPECT_NE(result.err.find(PathOf(names[1])), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("read access"), std::string::npos) << result.err;
  }
  EXPECT_EQ(DirContents(dir_), before);
  fs::remove_all(root);
}

TEST_F(ChainCommandsTest, ADirectoryThatIsNoChainIsRefusedUntouched) {
  fs::create_directory(dir_);
  WriteFile(PathOf("notes.txt"), "hello\n");
  const std::map<std::string, std::string> before = DirContents(dir_);

  CliResult plain = RunShmio({"append", dir_, "--format=text"}, "x\n");
  CliResult chain = RunShmio({"append", dir_, "--chain", "--format=text"}, "x\n");
  CliResult verify = RunShmio({"verify", dir_});
  CliResult stat = RunShmio({"stat", dir_});
  CliResult no_size = RunShmio({"append", dir_, "--create", "--chain"}, "x\n");

  for (const CliResult* result : {&plain, &chain, &verify, &stat}) {
    EXPECT_EQ(result->exit_code, 1) << result->Describe();
    EXPECT_NE(result->err.find(dir_ + " is not a shmio chain"), std::string::npos)
        << result->err;
    EXPECT_NE(result->err.find("--create --chain --file-capacity=BYTES"), std::string::npos)
        << result->err;
  }
  EXPECT_EQ(no_size.exit_code, 2) << no_size.Describe();
  EXPECT_EQ(DirContents(dir_), before);
}

TEST(ChainUsageTest, HelpShowsTheChainForms) {
  CliResult help = RunShmio({"--help"});

  EXPECT_EQ(help.exit_code, 0) << help.Describe();
  for (const char* form : {"stat FILE|DIR", "dump FILE|DIR", "verify FILE|DIR",
                           "append FILE|DIR", "--chain --file-capacity=BYTES",
                           "--retain-files=N", "--retain-bytes=B"}) {
    EXPECT_NE(help.out.find(form), std::string::npos) << form << " not in:\n" << help.out;
  }
}

}  // namespace
}  // namespace shmio::cli_test
