#include "tests/shmio/test_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace shmio_test {
namespace {

// Makes every TempPath/ShmPath unique within this process.
std::atomic<int> path_counter{0};

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr && *dir != '\0' ? dir : "/tmp";
}

int OpenOrDie(const std::string& path, int flags) {
  int fd = open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) {
    ADD_FAILURE() << "open " << path << ": " << std::strerror(errno);
    std::abort();
  }
  return fd;
}

void PwriteOrDie(const std::string& path, const void* data, size_t n,
                 uint64_t offset) {
  int fd = OpenOrDie(path, O_WRONLY);
  ssize_t written = pwrite(fd, data, n, static_cast<off_t>(offset));
  close(fd);
  if (written != static_cast<ssize_t>(n)) {
    ADD_FAILURE() << "pwrite " << path << " at " << offset;
    std::abort();
  }
}

void PreadOrDie(const std::string& path, void* data, size_t n,
                uint64_t offset) {
  int fd = OpenOrDie(path, O_RDONLY);
  ssize_t got = pread(fd, data, n, static_cast<off_t>(offset));
  close(fd);
  if (got != static_cast<ssize_t>(n)) {
    ADD_FAILURE() << "pread " << path << " at " << offset << ": short read";
    std::abort();
  }
}

}  // namespace

std::string TempPath(absl::string_view name) {
  // Relaxed: only uniqueness matters, no other memory is published by it.
  int n = path_counter.fetch_add(1, std::memory_order_relaxed);
  return absl::StrCat(TempDir(), "/", name, "-", getpid(), "-", n);
}

std::string ShmPath(absl::string_view name) {
  // Relaxed: only uniqueness matters, no other memory is published by it.
  int n = path_counter.fetch_add(1, std::memory_order_relaxed);
  return absl::StrCat("/dev/shm/shmio-coretests-", name, "-", getpid(), "-", n);
}

ScopedPath::~ScopedPath() { unlink(path_.c_str()); }

std::string RunfilePath(absl::string_view workspace_relative) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  std::string root = srcdir != nullptr ? srcdir : ".";
  std::string ws = workspace != nullptr ? workspace : "shmio";
  return absl::StrCat(root, "/", ws, "/", workspace_relative);
}

std::string CopyNodeFixture(absl::string_view file_name) {
  std::string from =
      RunfilePath(absl::StrCat("tests/fixtures/node-shmio/", file_name));
  std::string to = TempPath(absl::StrCat("copy-of-", file_name));
  CopyFile(from, to);
  chmod(to.c_str(), 0644);
  return to;
}

std::vector<uint8_t> ReadFileBytes(const std::string& path) {
  std::vector<uint8_t> bytes(FileSize(path));
  if (!bytes.empty()) PreadOrDie(path, bytes.data(), bytes.size(), 0);
  return bytes;
}

void WriteFileBytes(const std::string& path, absl::Span<const uint8_t> bytes) {
  int fd = OpenOrDie(path, O_WRONLY | O_CREAT | O_TRUNC);
  ssize_t written = write(fd, bytes.data(), bytes.size());
  close(fd);
  if (written != static_cast<ssize_t>(bytes.size())) {
    ADD_FAILURE() << "write " << path;
    std::abort();
  }
}

void CopyFile(const std::string& from, const std::string& to) {
  WriteFileBytes(to, ReadFileBytes(from));
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    ADD_FAILURE() << "stat " << path << ": " << std::strerror(errno);
    std::abort();
  }
  return static_cast<uint64_t>(st.st_size);
}

uint16_t ReadU16At(const std::string& path, uint64_t offset) {
  uint8_t b[2];
  PreadOrDie(path, b, sizeof b, offset);
  return static_cast<uint16_t>(b[0] | (b[1] << 8));
}

uint64_t ReadU64At(const std::string& path, uint64_t offset) {
  uint8_t b[8];
  PreadOrDie(path, b, sizeof b, offset);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
  return v;
}

void WriteU16At(const std::string& path, uint64_t offset, uint16_t value) {
  uint8_t b[2] = {static_cast<uint8_t>(value & 0xFF),
                  static_cast<uint8_t>(value >> 8)};
  PwriteOrDie(path, b, sizeof b, offset);
}

void WriteU64At(const std::string& path, uint64_t offset, uint64_t value) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(value >> (8 * i));
  PwriteOrDie(path, b, sizeof b, offset);
}

void CorruptByte(const std::string& path, uint64_t offset) {
  uint8_t b;
  PreadOrDie(path, &b, 1, offset);
  CorruptByte(path, offset, static_cast<uint8_t>(~b));
}

void CorruptByte(const std::string& path, uint64_t offset, uint8_t value) {
  PwriteOrDie(path, &value, 1, offset);
}

void TruncateTo(const std::string& path, uint64_t size) {
  if (truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
    ADD_FAILURE() << "truncate " << path << " to " << size << ": "
                  << std::strerror(errno);
    std::abort();
  }
}

void CreateZeroFile(const std::string& path, uint64_t size) {
  int fd = OpenOrDie(path, O_WRONLY | O_CREAT | O_TRUNC);
  close(fd);
  TruncateTo(path, size);
}

std::vector<uint8_t> PatternPayload(uint64_t seed, size_t length) {
  std::vector<uint8_t> payload(length);
  for (size_t j = 0; j < length; ++j) {
    payload[j] = static_cast<uint8_t>(seed * 131 + j * 7 + 1);
  }
  return payload;
}

Pipe::Pipe() {
  if (pipe2(fds_, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    std::abort();
  }
}

Pipe::~Pipe() {
  CloseRead();
  CloseWrite();
}

void Pipe::CloseRead() {
  if (fds_[0] >= 0) close(fds_[0]);
  fds_[0] = -1;
}

void Pipe::CloseWrite() {
  if (fds_[1] >= 0) close(fds_[1]);
  fds_[1] = -1;
}

bool Pipe::Send(uint64_t value) {
  ssize_t n;
  do {
    n = write(fds_[1], &value, sizeof value);
  } while (n < 0 && errno == EINTR);
  return n == sizeof value;
}

bool Pipe::Receive(uint64_t* value) {
  uint8_t buf[sizeof(uint64_t)];
  size_t got = 0;
  while (got < sizeof buf) {
    ssize_t n = read(fds_[0], buf + got, sizeof buf - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  std::memcpy(value, buf, sizeof buf);
  return true;
}

pid_t ForkChild(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  if (pid < 0) ADD_FAILURE() << "fork: " << std::strerror(errno);
  return pid;
}

int WaitForExit(pid_t pid) {
  int status = 0;
  pid_t got;
  do {
    got = waitpid(pid, &status, 0);
  } while (got < 0 && errno == EINTR);
  if (got != pid) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

ScopedChild::~ScopedChild() {
  if (pid_ > 0) Kill();
}

int ScopedChild::Wait() {
  int code = WaitForExit(pid_);
  pid_ = -1;
  return code;
}

int ScopedChild::Kill() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGKILL);
  return Wait();
}

pid_t SpawnProgram(const std::vector<std::string>& argv,
                   const std::vector<int>& inherit_fds) {
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    for (int fd : inherit_fds) {
      int flags = fcntl(fd, F_GETFD);
      if (flags < 0 || fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0) _exit(126);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  if (pid < 0) ADD_FAILURE() << "fork: " << std::strerror(errno);
  return pid;
}

}  // namespace shmio_test
