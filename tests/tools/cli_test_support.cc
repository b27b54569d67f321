#include "tests/tools/cli_test_support.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

extern char** environ;

namespace shmio::cli_test {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "cli_test_support: %s: %s\n", what.c_str(),
               std::strerror(errno));
  std::abort();
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) Die(absl::StrCat("$", name, " is not set (run under bazel test)"));
  return value;
}

void ClosePipe(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

// The test writes into pipes of children that may exit early (a full log
// ends `append`): EPIPE must be an error code, not a signal.
const bool kSigpipeIgnored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

void FillResultFromStatus(int status, CliResult* result) {
  if (WIFEXITED(status)) {
    result->exited = true;
    result->exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result->signal = WTERMSIG(status);
  }
}

// Index of `key`'s value in `json`, just past the colon.
size_t ValueStart(const std::string& json, const std::string& key) {
  std::string quoted = absl::StrCat("\"", key, "\":");
  size_t at = json.find(quoted);
  if (at == std::string::npos) {
    errno = 0;
    Die(absl::StrCat("basic.json has no key ", key));
  }
  return at + quoted.size();
}

uint64_t ParseNumberAt(const std::string& json, size_t* at) {
  while (*at < json.size() && std::isspace(static_cast<unsigned char>(json[*at]))) ++*at;
  size_t start = *at;
  while (*at < json.size() && std::isdigit(static_cast<unsigned char>(json[*at]))) ++*at;
  if (start == *at) {
    errno = 0;
    Die(absl::StrCat("basic.json: expected a number at byte ", start));
  }
  return std::stoull(json.substr(start, *at - start));
}

uint64_t JsonInt(const std::string& json, const std::string& key) {
  size_t at = ValueStart(json, key);
  return ParseNumberAt(json, &at);
}

std::vector<uint64_t> JsonIntArray(const std::string& json,
                                   const std::string& key) {
  size_t at = ValueStart(json, key);
  at = json.find('[', at) + 1;
  std::vector<uint64_t> values;
  while (true) {
    while (std::isspace(static_cast<unsigned char>(json[at]))) ++at;
    if (json[at] == ']') return values;
    values.push_back(ParseNumberAt(json, &at));
    while (std::isspace(static_cast<unsigned char>(json[at]))) ++at;
    if (json[at] == ',') ++at;
  }
}

}  // namespace

std::string CliResult::Describe() const {
  std::string how =
      timed_out ? "timed out"
      : exited  ? absl::StrCat("exit ", exit_code)
                : absl::StrCat("killed by signal ", signal);
  return absl::StrCat(how, "\n--- stdout:\n", out.substr(0, 2000),
                      "\n--- stderr:\n", err);
}

ShmioProcess::ShmioProcess(const std::vector<std::string>& args)
    : ShmioProcess(RunfilesPath("tools/shmio"), args) {}

ShmioProcess::ShmioProcess(const std::string& binary, const std::vector<std::string>& args) {
  (void)kSigpipeIgnored;
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 ||
      ::pipe2(err, O_CLOEXEC) != 0) {
    Die("pipe2");
  }
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_strings) argv.push_back(arg.data());
  argv.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ < 0) Die("fork");
  if (pid_ == 0) {
    // dup2 clears O_CLOEXEC on the targets; every other pipe end closes at
    // exec, so no child holds another child's stdin open.
    if (::dup2(in[0], 0) < 0 || ::dup2(out[1], 1) < 0 || ::dup2(err[1], 2) < 0) {
      ::_exit(126);
    }
    ::execve(binary.c_str(), argv.data(), environ);
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  stdin_fd_ = in[1];
  stdout_fd_ = out[0];
  stderr_fd_ = err[0];
}

ShmioProcess::~ShmioProcess() {
  if (!reaped_) KillAndReap(SIGKILL);
  ClosePipe(&stdin_fd_);
  ClosePipe(&stdout_fd_);
  ClosePipe(&stderr_fd_);
}

bool ShmioProcess::WriteStdin(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(stdin_fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

CliResult ShmioProcess::Finish(const std::string& stdin_data) {
  CliResult result;
  if (reaped_) {
    ADD_FAILURE() << "shmio child " << pid_ << " was already reaped";
    return result;
  }
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::seconds(kChildDeadlineSeconds);
  size_t written = 0;
  if (stdin_data.empty()) ClosePipe(&stdin_fd_);
  if (stdin_fd_ >= 0) ::fcntl(stdin_fd_, F_SETFL, O_NONBLOCK);
  while (stdout_fd_ >= 0 || stderr_fd_ >= 0) {
    pollfd fds[3];
    int count = 0;
    int* owners[3];
    if (stdin_fd_ >= 0) { fds[count] = {stdin_fd_, POLLOUT, 0}; owners[count++] = &stdin_fd_; }
    if (stdout_fd_ >= 0) { fds[count] = {stdout_fd_, POLLIN, 0}; owners[count++] = &stdout_fd_; }
    if (stderr_fd_ >= 0) { fds[count] = {stderr_fd_, POLLIN, 0}; owners[count++] = &stderr_fd_; }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    int ready = ::poll(fds, count, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) Die("poll");
    for (int i = 0; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (owners[i] == &stdin_fd_) {
        ssize_t n = ::write(stdin_fd_, stdin_data.data() + written,
                            stdin_data.size() - written);
        if (n > 0) written += static_cast<size_t>(n);
        // EPIPE: the child stopped reading (e.g. the log is full).
        if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
            written == stdin_data.size()) {
          ClosePipe(&stdin_fd_);
        }
        continue;
      }
      char buffer[65536];
      ssize_t n = ::read(*owners[i], buffer, sizeof buffer);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        ClosePipe(owners[i]);
        continue;
      }
      (owners[i] == &stdout_fd_ ? result.out : result.err).append(buffer, n);
    }
  }
  ClosePipe(&stdin_fd_);
  if (result.timed_out) ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) Die("waitpid");
  }
  reaped_ = true;
  FillResultFromStatus(status, &result);
  if (result.timed_out) result.exited = false;
  return result;
}

CliResult ShmioProcess::KillAndReap(int signal) {
  if (!reaped_) ::kill(pid_, signal);
  return Finish();
}

CliResult RunShmio(const std::vector<std::string>& args,
                   const std::string& stdin_data) {
  ShmioProcess process(args);
  return process.Finish(stdin_data);
}

CliResult RunProgram(const std::string& binary, const std::vector<std::string>& args) {
  ShmioProcess process(binary, args);
  return process.Finish();
}

std::string RunfilesPath(const std::string& relative) {
  return absl::StrCat(Env("TEST_SRCDIR"), "/", Env("TEST_WORKSPACE"), "/",
                      relative);
}

std::string TempPath(const std::string& name) {
  const ::testing::TestInfo* test =
      ::testing::UnitTest::GetInstance()->current_test_info();
  std::string path = absl::StrCat(
      Env("TEST_TMPDIR"), "/",
      test != nullptr ? absl::StrCat(test->test_suite_name(), ".", test->name(), ".")
                      : std::string(),
      name);
  ::unlink(path.c_str());
  return path;
}

NodeManifest LoadNodeManifest() {
  std::string json = ReadFile(RunfilesPath("tests/fixtures/node-shmio/basic.json"));
  NodeManifest manifest;
  manifest.file_bytes = JsonInt(json, "file_bytes");
  manifest.data_offset = JsonInt(json, "dataOffset");
  manifest.committed_size = JsonInt(json, "committed_size");
  manifest.committed_frames = JsonInt(json, "committed_frames");
  manifest.frame_offsets = JsonIntArray(json, "frame_offsets");
  manifest.payload_lengths = JsonIntArray(json, "payload_lengths");
  manifest.uncommitted_end = JsonInt(json, "end");
  return manifest;
}

std::vector<uint8_t> NodePayload(uint64_t i) {
  std::vector<uint8_t> payload((i * 37) % 200 + 1);
  for (uint64_t j = 0; j < payload.size(); ++j) {
    payload[j] = static_cast<uint8_t>((i * 31 + j * 7) & 0xFF);
  }
  return payload;
}

std::string CopyNodeFixture(const std::string& name) {
  std::string path = TempPath(name);
  WriteFile(path, ReadFile(RunfilesPath("tests/fixtures/node-shmio/basic.shm")));
  return path;
}

std::map<std::string, std::string> ParseKeyValues(const std::string& text) {
  std::map<std::string, std::string> values;
  for (const std::string& line : SplitLines(text)) {
    size_t colon = line.find(": ");
    if (colon == std::string::npos) continue;
    values[line.substr(0, colon)] = line.substr(colon + 2);
  }
  return values;
}

bool WaitUntil(const std::function<bool()>& condition) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::seconds(kChildDeadlineSeconds);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    ::usleep(1000);
  }
  return true;
}

std::string ToHex(const std::vector<uint8_t>& bytes) {
  std::string hex;
  for (uint8_t byte : bytes) absl::StrAppendFormat(&hex, "%02x", byte);
  return hex;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  // "a\nb\n" is two lines, not three.
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die(absl::StrCat("cannot read ", path));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) Die(absl::StrCat("cannot write ", path));
}

namespace {
void PatchBytes(const std::string& path, uint64_t offset, const void* bytes,
                size_t size) {
  int fd = ::open(path.c_str(), O_WRONLY);
  if (fd < 0) Die(absl::StrCat("open ", path));
  if (::pwrite(fd, bytes, size, static_cast<off_t>(offset)) !=
      static_cast<ssize_t>(size)) {
    Die(absl::StrCat("pwrite ", path));
  }
  ::close(fd);
}

void PeekBytes(const std::string& path, uint64_t offset, void* bytes,
               size_t size) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) Die(absl::StrCat("open ", path));
  if (::pread(fd, bytes, size, static_cast<off_t>(offset)) !=
      static_cast<ssize_t>(size)) {
    Die(absl::StrCat("pread ", path));
  }
  ::close(fd);
}
}  // namespace

// The format is little-endian and so is every host we test on (format.h
// static_asserts it), so the integers are written as they lie in memory.
void WriteU16At(const std::string& path, uint64_t offset, uint16_t value) {
  PatchBytes(path, offset, &value, sizeof value);
}
void WriteU64At(const std::string& path, uint64_t offset, uint64_t value) {
  PatchBytes(path, offset, &value, sizeof value);
}
uint64_t ReadU64At(const std::string& path, uint64_t offset) {
  uint64_t value = 0;
  PeekBytes(path, offset, &value, sizeof value);
  return value;
}
uint16_t ReadU16At(const std::string& path, uint64_t offset) {
  uint16_t value = 0;
  PeekBytes(path, offset, &value, sizeof value);
  return value;
}

}  // namespace shmio::cli_test
