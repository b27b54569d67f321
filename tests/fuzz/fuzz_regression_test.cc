// Replays the damaged-file fuzzer's body (log_exerciser.h) over every seed
// in tests/fuzz/corpus/ and every saved crash input in
// tests/fuzz/regressions/, so the plain `bazel test //...` (gcc, no
// libFuzzer) and the sanitizer configs check them on every run. A broken
// promise aborts the test with a message naming it.
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/fuzz/log_exerciser.h"
#include "tests/fuzz/reader_table_exerciser.h"

namespace shmio_fuzz {
namespace {

std::string RunfileDir(const std::string& relative) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                      workspace != nullptr ? workspace : "shmio", "/",
                      relative);
}

// The input files in `dir`, sorted; README.md and dotfiles are not inputs.
std::vector<std::string> InputsIn(const std::string& dir) {
  std::vector<std::string> files;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return files;
  while (dirent* entry = readdir(d)) {
    std::string name = entry->d_name;
    if (name.empty() || name[0] == '.' || absl::EndsWith(name, ".md")) continue;
    files.push_back(absl::StrCat(dir, "/", name));
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
}

// Runs ExerciseLogBytes over `bytes` in a child process, so that a broken
// promise (an abort, or a sanitizer report) fails this input alone and the
// other inputs still run. The child's stderr, which says what broke, goes to
// the test log.
// A fuzzer's body and the removal of the scratch files it made in a child.
struct Exerciser {
  void (*exercise)(const uint8_t* data, size_t size);
  void (*remove_scratch)(pid_t pid);
};
constexpr Exerciser kLog = {&ExerciseLogBytes, &RemoveScratchFiles};
constexpr Exerciser kReaderTable = {&ExerciseReaderTableBytes, &RemoveReaderTableScratch};

void ExpectPromisesKept(const std::vector<uint8_t>& bytes,
                        const std::string& name, const Exerciser& exerciser = kLog) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0) << "fork failed";
  if (pid == 0) {
    exerciser.exercise(bytes.data(), bytes.size());
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  exerciser.remove_scratch(pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << name << " (" << bytes.size() << " bytes) broke a promise"
      << (WIFSIGNALED(status) ? absl::StrCat(": signal ", WTERMSIG(status))
                              : absl::StrCat(": exit ", WEXITSTATUS(status)))
      << "; see the message above";
}

TEST(FuzzRegressionTest, EverySeedReadsWithoutBreakingAPromise) {
  std::vector<std::string> seeds = InputsIn(RunfileDir("tests/fuzz/corpus"));
  // basic.shm (Node), fresh, few frames, geometry, zero header, damaged.
  ASSERT_GE(seeds.size(), 5u) << "the seed corpus is missing from runfiles";
  for (const std::string& path : seeds) {
    std::vector<uint8_t> bytes = ReadAll(path);
    ASSERT_FALSE(bytes.empty()) << path;
    ExpectPromisesKept(bytes, path);
  }
}

TEST(FuzzRegressionTest, EverySavedCrashInputReadsWithoutBreakingAPromise) {
  for (const std::string& path :
       InputsIn(RunfileDir("tests/fuzz/regressions"))) {
    // run_fuzz.sh names the reader-table fuzzer's finds reader-table-*.
    const bool table = absl::StartsWith(path.substr(path.rfind('/') + 1), "reader-table-");
    ExpectPromisesKept(ReadAll(path), path, table ? kReaderTable : kLog);
  }
}

// Reader tables (DIR/readers.shm): the seeds, every truncation to a few
// sizes, and a flip of each header byte and of each byte of slot 0.
TEST(FuzzRegressionTest, EveryReaderTableSeedAndFlipWorksOrIsAnError) {
  std::vector<std::string> seeds = InputsIn(RunfileDir("tests/fuzz/reader_corpus"));
  ASSERT_GE(seeds.size(), 5u) << "the reader-table seeds are missing from runfiles";
  for (const std::string& path : seeds) {
    const std::vector<uint8_t> bytes = ReadAll(path);
    ExpectPromisesKept(bytes, path, kReaderTable);
    if (bytes.size() < 256) continue;
    for (size_t length : {size_t{0}, size_t{24}, size_t{200}, bytes.size() - 1}) {
      ExpectPromisesKept(std::vector<uint8_t>(bytes.begin(), bytes.begin() + length),
                         absl::StrCat(path, " cut to ", length, " bytes"), kReaderTable);
    }
  }
  const std::vector<uint8_t> several = ReadAll(RunfileDir("tests/fuzz/reader_corpus/several.shm"));
  ASSERT_GE(several.size(), 256u);
  for (size_t at = 0; at < 256; ++at) {
    if (at >= 32 && at < 128) continue;  // unused header bytes
    std::vector<uint8_t> damaged = several;
    damaged[at] ^= 0xff;
    ExpectPromisesKept(damaged, absl::StrCat("several.shm with byte ", at, " flipped"),
                       kReaderTable);
  }
}

// Every truncation and every single-byte corruption of each seed: a cheap,
// deterministic sweep of the damage the fuzzer explores at random.
TEST(FuzzRegressionTest, EveryTruncationAndByteFlipOfTheSmallSeeds) {
  for (const std::string& path : InputsIn(RunfileDir("tests/fuzz/corpus"))) {
    std::vector<uint8_t> bytes = ReadAll(path);
    if (bytes.size() > 4096) continue;  // basic.shm is covered above
    for (size_t length = 0; length < bytes.size(); length += 7) {
      ExpectPromisesKept(
          std::vector<uint8_t>(bytes.begin(), bytes.begin() + length),
          absl::StrCat(path, " cut to ", length, " bytes"));
    }
    // Header words and the first frames, where a flip matters most.
    for (size_t at = 0; at < std::min<size_t>(bytes.size(), 320); ++at) {
      std::vector<uint8_t> damaged = bytes;
      damaged[at] ^= 0xff;
      ExpectPromisesKept(damaged,
                         absl::StrCat(path, " with byte ", at, " flipped"));
    }
  }
}

}  // namespace
}  // namespace shmio_fuzz
