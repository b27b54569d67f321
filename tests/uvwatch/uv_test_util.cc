#include "tests/uvwatch/uv_test_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "shmio/chain_writer.h"
#include "shmio/format.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"

namespace uvwatch_test {
namespace {

enum : uint64_t { kOpCommit = 1, kOpAppendOnly = 2, kOpExit = 3, kOpCommitEach = 4 };
constexpr uint64_t kFailed = UINT64_MAX;

bool WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool ReadAll(int fd, void* data, size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    ssize_t n = read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// The child's side: `writer` (a Pool or a ChainWriter) serves commands
// until told to exit; `reply_of` says what a command's reply counts.
template <typename Writer, typename ReplyOf>
int ServeCommands(Writer& writer, ReplyOf reply_of, int command_fd, int reply_fd) {
  uint64_t ready = 0;
  WriteAll(reply_fd, &ready, sizeof ready);
  uint64_t command[4];
  while (ReadAll(command_fd, command, sizeof command)) {
    if (command[0] == kOpExit) return 0;
    // kOpCommitEach: command[3] frames per Commit(), of kEachPayloadBytes.
    const bool each = command[0] == kOpCommitEach;
    const uint64_t payload_bytes = each ? kEachPayloadBytes : command[3];
    uint64_t reply = 0;
    for (uint64_t n = command[1]; n < command[1] + command[2] && reply == 0; ++n) {
      if (!writer.Append(NumberedPayload(n, payload_bytes)).ok()) reply = kFailed;
      const bool last = n + 1 == command[1] + command[2];
      if (reply == 0 && each && ((n - command[1] + 1) % command[3] == 0 || last) &&
          !writer.Commit().ok()) {
        reply = kFailed;
      }
    }
    if (reply == 0 && command[0] == kOpCommit) {
      if (!writer.Commit().ok()) reply = kFailed;
    }
    if (reply == 0) reply = reply_of(writer);
    WriteAll(reply_fd, &reply, sizeof reply);
  }
  return 0;  // the parent went away
}

int ServeWriter(const std::string& path, uint64_t capacity, int command_fd,
                int reply_fd) {
  shmio::Options options;
  options.path = path;
  options.capacity = capacity;
  options.writable = true;
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) {
    WriteAll(reply_fd, &kFailed, sizeof kFailed);
    return 2;
  }
  auto pool = shmio::Pool::Create(shm->get());
  if (!pool.ok()) {
    WriteAll(reply_fd, &kFailed, sizeof kFailed);
    return 3;
  }
  return ServeCommands(
      **pool, [](const shmio::Pool& pool) { return pool.doorbell_rings(); },
      command_fd, reply_fd);
}

int ServeChainWriter(const shmio::ChainOptions& options, int command_fd, int reply_fd) {
  auto chain = shmio::ChainWriter::Open(options);
  if (!chain.ok()) {
    WriteAll(reply_fd, &kFailed, sizeof kFailed);
    return 2;
  }
  return ServeCommands(
      **chain, [](const shmio::ChainWriter& chain) { return chain.rolls(); },
      command_fd, reply_fd);
}

}  // namespace

ShmFile::ShmFile(absl::string_view name) {
  static std::atomic<int> counter{0};
  // Relaxed: only uniqueness matters, and tests run on one thread.
  path_ = absl::StrCat("/dev/shm/uvwatch-test-", getpid(), "-", name, "-",
                       counter.fetch_add(1, std::memory_order_relaxed));
  unlink(path_.c_str());
}

ShmFile::~ShmFile() { unlink(path_.c_str()); }

ShmDir::ShmDir(absl::string_view name) : ShmFile(name) {
  std::filesystem::remove_all(path());
}

ShmDir::~ShmDir() {
  std::error_code ignored;  // a test that failed half-way leaves what it left
  std::filesystem::remove_all(path(), ignored);
}

void LoopTest::SetUp() { ASSERT_EQ(uv_loop_init(&loop_), 0); }

void LoopTest::TearDown() {
  // Close callbacks run in the loop's closing phase; a few turns are plenty.
  for (int i = 0; i < 10 && uv_loop_alive(&loop_); ++i) {
    uv_run(&loop_, UV_RUN_NOWAIT);
  }
  EXPECT_EQ(uv_loop_close(&loop_), 0)
      << "a handle was left open (UV_EBUSY = " << UV_EBUSY << ")";
}

namespace {
struct Deadline {
  uv_timer_t timer;
  bool fired = false;
};
}  // namespace

bool LoopTest::RunUntil(const std::function<bool()>& done,
                        absl::string_view what, uint64_t bound_ms) {
  auto* deadline = new Deadline;
  uv_timer_init(&loop_, &deadline->timer);
  deadline->timer.data = deadline;
  uv_timer_start(
      &deadline->timer,
      [](uv_timer_t* timer) { static_cast<Deadline*>(timer->data)->fired = true; },
      bound_ms, 0);
  while (!done() && !deadline->fired) uv_run(&loop_, UV_RUN_ONCE);
  bool ok = done();
  uv_close(reinterpret_cast<uv_handle_t*>(&deadline->timer),
           [](uv_handle_t* handle) { delete static_cast<Deadline*>(handle->data); });
  if (!ok) {
    ADD_FAILURE() << "the loop did not deliver within " << bound_ms
                  << " ms: " << what;
  }
  return ok;
}

void LoopTest::RunFor(uint64_t ms) {
  auto* deadline = new Deadline;
  uv_timer_init(&loop_, &deadline->timer);
  deadline->timer.data = deadline;
  uv_timer_start(
      &deadline->timer,
      [](uv_timer_t* timer) { static_cast<Deadline*>(timer->data)->fired = true; },
      ms, 0);
  while (!deadline->fired) uv_run(&loop_, UV_RUN_ONCE);
  uv_close(reinterpret_cast<uv_handle_t*>(&deadline->timer),
           [](uv_handle_t* handle) { delete static_cast<Deadline*>(handle->data); });
}

void LoopTest::RunTurns(int turns) {
  for (int i = 0; i < turns; ++i) uv_run(&loop_, UV_RUN_NOWAIT);
}

void LoopTest::CloseAndWait(uvwatch::Subscription* sub) {
  bool closed = false;
  sub->Close([&closed] { closed = true; });
  RunUntil([&] { return closed; }, "close callback of a subscription");
}

std::unique_ptr<ChildWriter> ChildWriter::Start(const std::string& path,
                                                uint64_t capacity) {
  return Spawn(path, [&](int command_fd, int reply_fd) {
    return ServeWriter(path, capacity, command_fd, reply_fd);
  });
}

std::unique_ptr<ChildWriter> ChildWriter::StartChain(const shmio::ChainOptions& options) {
  return Spawn(options.directory, [&](int command_fd, int reply_fd) {
    return ServeChainWriter(options, command_fd, reply_fd);
  });
}

std::unique_ptr<ChildWriter> ChildWriter::Spawn(
    const std::string& what, const std::function<int(int, int)>& serve) {
  int commands[2];
  int replies[2];
  if (pipe2(commands, O_CLOEXEC) != 0 || pipe2(replies, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << strerror(errno);
    return nullptr;
  }
  pid_t pid = fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << strerror(errno);
    return nullptr;
  }
  if (pid == 0) {
    close(commands[1]);
    close(replies[0]);
    _exit(serve(commands[0], replies[1]));
  }
  close(commands[0]);
  close(replies[1]);
  std::unique_ptr<ChildWriter> writer(
      new ChildWriter(pid, commands[1], replies[0]));
  uint64_t ready = kFailed;
  if (!ReadAll(writer->reply_fd_, &ready, sizeof ready) || ready != 0) {
    ADD_FAILURE() << "the writer child could not open " << what;
    return nullptr;
  }
  return writer;
}

ChildWriter::~ChildWriter() {
  if (pid_ > 0) Kill();
  close(command_fd_);
  close(reply_fd_);
}

uint64_t ChildWriter::Send(uint64_t op, uint64_t first, uint64_t count,
                           uint64_t payload_bytes) {
  if (!SendOnly(op, first, count, payload_bytes)) return kFailed;
  return AwaitReply();
}

bool ChildWriter::SendOnly(uint64_t op, uint64_t first, uint64_t count,
                           uint64_t payload_bytes) {
  uint64_t command[4] = {op, first, count, payload_bytes};
  if (!WriteAll(command_fd_, command, sizeof command)) {
    ADD_FAILURE() << "cannot send op " << op << " to the writer child";
    return false;
  }
  return true;
}

uint64_t ChildWriter::AwaitReply() {
  uint64_t reply = kFailed;
  if (!ReadAll(reply_fd_, &reply, sizeof reply) || reply == kFailed) {
    ADD_FAILURE() << "the writer child failed its last command";
    return kFailed;
  }
  return reply;
}

bool ChildWriter::StartCommittingEach(uint64_t first, uint64_t count,
                                      uint64_t per_commit) {
  return SendOnly(kOpCommitEach, first, count, per_commit);
}

uint64_t ChildWriter::Commit(uint64_t first, uint64_t count,
                             size_t payload_bytes) {
  return Send(kOpCommit, first, count, payload_bytes);
}

uint64_t ChildWriter::AppendOnly(uint64_t first, uint64_t count,
                                 size_t payload_bytes) {
  return Send(kOpAppendOnly, first, count, payload_bytes);
}

void ChildWriter::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int ChildWriter::Finish() {
  uint64_t command[4] = {kOpExit, 0, 0, 0};
  WriteAll(command_fd_, command, sizeof command);
  int status = 0;
  if (waitpid(pid_, &status, 0) != pid_) return -1;
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::vector<uint8_t> NumberedPayload(uint64_t n, size_t payload_bytes) {
  std::vector<uint8_t> payload(payload_bytes < 8 ? 8 : payload_bytes);
  shmio::format::EncodeU64(payload.data(), n);
  for (size_t j = 8; j < payload.size(); ++j) {
    payload[j] = static_cast<uint8_t>((n + j) & 0xff);
  }
  return payload;
}

uint64_t FrameNumber(const shmio::Frame& frame) {
  if (frame.payload.size() < 8) {
    ADD_FAILURE() << "frame at " << frame.offset << " is too short: "
                  << frame.payload.size() << " bytes";
    return UINT64_MAX;
  }
  uint64_t n = shmio::format::DecodeU64(frame.payload.data());
  for (size_t j = 8; j < frame.payload.size(); ++j) {
    if (frame.payload[j] != static_cast<uint8_t>((n + j) & 0xff)) {
      ADD_FAILURE() << "frame " << n << " at offset " << frame.offset
                    << " has a wrong byte at " << j;
      return UINT64_MAX;
    }
  }
  return n;
}

void Recorder::Record(const shmio::Batch& batch) {
  if (!numbers.empty() || !batch_frames.empty()) {
    if (batch.frames.from() != last_cursor) cursors_chain = false;
  }
  if (batch.next_cursor != batch.frames.to()) cursors_chain = false;
  last_cursor = batch.next_cursor;
  batch_frames.push_back(batch.frame_count);
  batch_bytes.push_back(batch.payload_bytes);
  size_t seen = 0;
  for (const shmio::Frame& frame : batch.frames) {
    numbers.push_back(FrameNumber(frame));
    ++seen;
  }
  EXPECT_TRUE(batch.frames.status().ok()) << batch.frames.status();
  EXPECT_EQ(seen, batch.frame_count);
}

uvwatch::Subscription::BatchCallback Recorder::OnBatch() {
  return [this](const shmio::Batch& batch) { Record(batch); };
}

uvwatch::Subscription::ErrorCallback Recorder::OnError() {
  return [this](const absl::Status& error) { errors.push_back(error); };
}

bool Recorder::IsRun(uint64_t first, uint64_t count) const {
  if (numbers.size() != count) return false;
  for (uint64_t i = 0; i < count; ++i) {
    if (numbers[i] != first + i) return false;
  }
  return true;
}

uint64_t ReadArmedWord(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ADD_FAILURE() << "open " << path << ": " << strerror(errno);
    return 0;
  }
  uint8_t bytes[8] = {};
  if (pread(fd, bytes, sizeof bytes, shmio::format::kDoorbellArmedOffset) !=
      8) {
    ADD_FAILURE() << "pread of the doorbell word of " << path;
  }
  close(fd);
  return shmio::format::DecodeU64(bytes);
}

}  // namespace uvwatch_test
