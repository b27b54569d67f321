#include "tests/bridge/bridge_test_support.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bridge/log_source.h"
#include "shmio/chain_directory.h"
#include "shmio/chain_writer.h"
#include "shmio/iterator.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"

namespace bridge_test {
namespace {

// Appends numbered frames *next_frame.. through `writer` (a Pool or a
// ChainWriter: the same Append and Commit), committing every `batch`.
template <typename Writer>
absl::Status WriteNumbered(uint64_t count, uint64_t batch, uint64_t* next_frame, Writer& writer) {
  for (uint64_t i = 0; i < count; ++i) {
    std::string payload = NumberedPayload(*next_frame);
    absl::Status appended = writer.Append(absl::Span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
    if (!appended.ok()) return appended;
    ++*next_frame;
    if ((i + 1) % batch == 0) {
      absl::Status committed = writer.Commit();
      if (!committed.ok()) return committed;
    }
  }
  return writer.Commit();
}

class SingleFileWriter final : public TestLogWriter {
 public:
  SingleFileWriter(std::unique_ptr<shmio::SharedMemory> shm, std::unique_ptr<shmio::Pool> pool,
                   uint64_t data_offset, uint64_t next_frame)
      : shm_(std::move(shm)),
        pool_(std::move(pool)),
        data_offset_(data_offset),
        next_frame_(next_frame) {}

  absl::Status Write(uint64_t count, uint64_t batch) override {
    return WriteNumbered(count, batch, &next_frame_, *pool_);
  }
  uint64_t next_frame() const override { return next_frame_; }
  uint64_t end_position() const override { return pool_->GetSize().committed - data_offset_; }

 private:
  std::unique_ptr<shmio::SharedMemory> shm_;
  std::unique_ptr<shmio::Pool> pool_;
  uint64_t data_offset_;
  uint64_t next_frame_;
};

class ChainFileWriter final : public TestLogWriter {
 public:
  ChainFileWriter(std::unique_ptr<shmio::ChainWriter> chain, uint64_t next_frame)
      : chain_(std::move(chain)), next_frame_(next_frame) {}

  absl::Status Write(uint64_t count, uint64_t batch) override {
    return WriteNumbered(count, batch, &next_frame_, *chain_);
  }
  uint64_t next_frame() const override { return next_frame_; }
  uint64_t end_position() const override { return chain_->GetSize().committed; }
  uint64_t rolls() const override { return chain_->rolls(); }

 private:
  std::unique_ptr<shmio::ChainWriter> chain_;
  uint64_t next_frame_;
};

// Runs `loop` one turn at a time until `done` or `bound` passes.
template <typename Done>
bool RunLoopUntil(uv_loop_t* loop, Done done, absl::Duration bound) {
  uv_timer_t timer;
  uv_timer_init(loop, &timer);
  bool expired = false;
  timer.data = &expired;
  uv_timer_start(
      &timer, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; },
      static_cast<uint64_t>(absl::ToInt64Milliseconds(bound)), 0);
  while (!done() && !expired) uv_run(loop, UV_RUN_ONCE);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
  return done();
}

// Follows `path` from its oldest frame, appending to *entries (when non-null)
// until the source's delivered end reaches `end` (or, with end ==
// UINT64_MAX, the log's committed end at the start).
absl::Status Follow(const std::string& path, uint64_t end, std::vector<Entry>* entries,
                    absl::Duration bound) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  uint64_t reached = 0;
  absl::Status error;
  bridge::SourceOptions options;
  absl::StatusOr<bridge::LogSource*> source = bridge::OpenLogSource(
      &loop, path, std::nullopt, options,
      [&](absl::Span<const bridge::LogFrame> frames) {
        for (const bridge::LogFrame& frame : frames) {
          if (entries != nullptr) {
            entries->push_back(Entry{frame.position,
                                     std::string(reinterpret_cast<const char*>(frame.payload.data()),
                                                 frame.payload.size())});
          }
          reached = frame.position + frame.payload.size() + 4;
        }
      },
      [&](const absl::Status& status) { error = status; });
  if (!source.ok()) {
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
    return source.status();
  }
  if (end == UINT64_MAX) {
    absl::StatusOr<uint64_t> committed = (*source)->CommittedEnd();
    end = committed.ok() ? *committed : 0;
    if (!committed.ok()) error = committed.status();
  }
  bool done = RunLoopUntil(&loop, [&] { return reached >= end || !error.ok(); }, bound);
  (*source)->Close();
  uv_run(&loop, UV_RUN_DEFAULT);
  int closed = uv_loop_close(&loop);
  if (!error.ok()) return error;
  if (closed != 0) return absl::InternalError("uv_loop_close failed: a handle was left open");
  if (!done) {
    return absl::DeadlineExceededError(absl::StrFormat(
        "%s reached position %d of %d within %s", path, reached, end, absl::FormatDuration(bound)));
  }
  return absl::OkStatus();
}

}  // namespace

std::string NumberedPayload(uint64_t n) {
  std::string payload(8 + (n * 7) % 61, '\0');
  std::memcpy(payload.data(), &n, 8);
  for (size_t j = 8; j < payload.size(); ++j) payload[j] = static_cast<char>((n + j * 13) & 0xff);
  return payload;
}

absl::StatusOr<std::unique_ptr<TestLogWriter>> OpenSingleFileWriter(const std::string& path,
                                                                    uint64_t capacity) {
  shmio::Options options;
  options.path = path;
  options.writable = true;
  if (access(path.c_str(), F_OK) != 0) options.capacity = capacity;
  absl::StatusOr<std::unique_ptr<shmio::SharedMemory>> shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) return shm.status();
  absl::StatusOr<std::unique_ptr<shmio::Pool>> pool = shmio::Pool::Create(shm->get());
  if (!pool.ok()) return pool.status();
  uint64_t data_offset = (*shm)->ReadHeader().data_offset;
  // Continue the numbering where an existing log ends.
  uint64_t frames = 0;
  for (const shmio::Frame& frame :
       shmio::FrameRange(**shm, data_offset, (*pool)->GetSize().committed)) {
    (void)frame;
    ++frames;
  }
  return std::unique_ptr<TestLogWriter>(
      new SingleFileWriter(std::move(*shm), std::move(*pool), data_offset, frames));
}

absl::StatusOr<std::unique_ptr<TestLogWriter>> OpenChainWriter(const std::string& dir,
                                                                uint64_t file_capacity) {
  // Continue the numbering where an existing chain ends.
  uint64_t frames = 0;
  if (shmio::IsDirectory(dir)) {
    absl::StatusOr<std::vector<Entry>> existing = ReadLog(dir);
    if (!existing.ok()) return existing.status();
    frames = existing->size();
  }
  shmio::ChainOptions options;
  options.directory = dir;
  options.create = true;
  options.file_capacity = file_capacity;
  absl::StatusOr<std::unique_ptr<shmio::ChainWriter>> chain = shmio::ChainWriter::Open(options);
  if (!chain.ok()) return chain.status();
  return std::unique_ptr<TestLogWriter>(new ChainFileWriter(*std::move(chain), frames));
}

absl::StatusOr<std::vector<Entry>> ReadLog(const std::string& path) {
  std::vector<Entry> entries;
  absl::Status status = Follow(path, UINT64_MAX, &entries, kWaitBound);
  if (!status.ok()) return status;
  return entries;
}

bool WaitForLogEnd(const std::string& path, uint64_t end, absl::Duration bound) {
  absl::Time deadline = absl::Now() + bound;
  for (;;) {
    absl::Status followed = Follow(path, end, nullptr, deadline - absl::Now());
    // Missing, or a directory not yet a chain: a mirror is still creating it.
    bool being_created = absl::IsNotFound(followed) || absl::IsFailedPrecondition(followed);
    if (!being_created || absl::Now() >= deadline) return followed.ok();
    absl::SleepFor(absl::Milliseconds(10));
  }
}

absl::StatusOr<std::vector<Entry>> ReadStream(SyncRedis& redis, const std::string& stream) {
  std::vector<Entry> entries;
  std::string start = "-";
  for (;;) {
    absl::StatusOr<SyncRedis::Reply> reply =
        redis.Command({"XRANGE", stream, start, "+", "COUNT", "10000"});
    if (!reply.ok()) return reply.status();
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_ARRAY) {
      return absl::InternalError(absl::StrCat("XRANGE ", stream, ": not an array"));
    }
    if (r->elements == 0) return entries;
    std::string last_id;
    for (size_t i = 0; i < r->elements; ++i) {
      const redisReply* entry = r->element[i];
      std::string id(entry->element[0]->str, entry->element[0]->len);
      const redisReply* fields = entry->element[1];
      size_t dash = id.find('-');
      uint64_t ms = 0;
      if (dash == std::string::npos || !absl::SimpleAtoi(id.substr(0, dash), &ms) ||
          id.substr(dash + 1) != "1" || fields->elements != 4 ||
          std::string(fields->element[0]->str) != "pos" ||
          std::string(fields->element[1]->str) != absl::StrCat(ms) ||
          std::string(fields->element[2]->str) != "data") {
        return absl::DataLossError(absl::StrCat("stream ", stream, ": entry ", id,
                                                " is not shaped as the bridge writes it"));
      }
      entries.push_back(Entry{ms, std::string(fields->element[3]->str, fields->element[3]->len)});
      last_id = id;
    }
    start = absl::StrCat("(", last_id);  // exclusive: after the last one read
  }
}

std::string Difference(const std::vector<Entry>& actual, const std::vector<Entry>& expected) {
  for (size_t i = 0; i < actual.size() && i < expected.size(); ++i) {
    if (actual[i] == expected[i]) continue;
    if (actual[i].position != expected[i].position) {
      return absl::StrFormat("entry %d is at position %d, expected %d (%s)", i,
                             actual[i].position, expected[i].position,
                             actual[i].position > expected[i].position ? "a gap" : "a duplicate");
    }
    return absl::StrFormat("entry %d at position %d holds other bytes (%d, expected %d)", i,
                           actual[i].position, actual[i].payload.size(),
                           expected[i].payload.size());
  }
  if (actual.size() != expected.size()) {
    return absl::StrFormat("%d entries, expected %d", actual.size(), expected.size());
  }
  return "";
}

std::string ShmioPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir != nullptr ? srcdir : ".", "/",
                      workspace != nullptr ? workspace : "shmio", "/tools/shmio");
}

namespace {

// The paths ShmPath() handed out in this process, removed when it exits:
// /dev/shm is memory, and every run of these suites left ~500 MB there.
struct ShmPaths {
  pid_t owner = getpid();  // forked children that exit() remove nothing
  std::vector<std::string> paths;
};

ShmPaths& HandedOut() {
  static ShmPaths* paths = [] {
    std::atexit([] {
      ShmPaths& handed_out = HandedOut();
      if (getpid() != handed_out.owner) return;
      std::error_code ignored;  // a test may have removed its own
      for (const std::string& path : handed_out.paths) std::filesystem::remove_all(path, ignored);
    });
    return new ShmPaths;
  }();
  return *paths;
}

}  // namespace

std::string ShmPath(absl::string_view name) {
  std::string path = absl::StrCat("/dev/shm/shmio-bridge-test-", getpid(), "-", name);
  std::error_code ignored;  // nothing there is the usual case
  std::filesystem::remove_all(path, ignored);
  HandedOut().paths.push_back(path);
  return path;
}

std::string TempDir(absl::string_view name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
}

ShmioChild::ShmioChild(const std::vector<std::string>& args) {
  int out[2];
  int err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) std::abort();
  std::vector<std::string> argv_strings = args;
  argv_strings.insert(argv_strings.begin(), ShmioPath());
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    dup2(out[1], 1);
    dup2(err[1], 2);
    std::vector<char*> argv;
    for (std::string& arg : argv_strings) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
}

ShmioChild::~ShmioChild() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

bool ShmioChild::ReadSome(int timeout_ms) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  int open = 0;
  for (pollfd& fd : fds) {
    if (fd.fd >= 0) ++open;
  }
  if (open == 0) return false;
  int ready = poll(fds, 2, timeout_ms);
  if (ready <= 0) return true;
  int* fd_members[2] = {&out_fd_, &err_fd_};
  std::string* texts[2] = {&out_, &err_};
  for (int i = 0; i < 2; ++i) {
    if (fds[i].fd < 0 || fds[i].revents == 0) continue;
    char buffer[4096];
    ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
    if (n > 0) {
      texts[i]->append(buffer, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      close(*fd_members[i]);
      *fd_members[i] = -1;
    }
  }
  return true;
}

int CountOf(const std::string& in, absl::string_view text) {
  int count = 0;
  std::string needle(text);
  for (size_t at = in.find(needle); at != std::string::npos; at = in.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

bool ShmioChild::WaitForStderr(absl::string_view text, int times, absl::Duration bound) {
  absl::Time deadline = absl::Now() + bound;
  while (CountOf(err_, text) < times) {
    if (err_fd_ < 0 || absl::Now() >= deadline) return false;
    ReadSome(static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now())) + 1);
  }
  return true;
}

const std::string& ShmioChild::out() {
  while ((out_fd_ >= 0 || err_fd_ >= 0) && ReadSome(0) && HasInput()) {
  }
  return out_;
}

const std::string& ShmioChild::err() {
  out();
  return err_;
}

bool ShmioChild::HasInput() const {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  return poll(fds, 2, 0) > 0;
}

void ShmioChild::Signal(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

int ShmioChild::Wait(absl::Duration bound) {
  if (pid_ <= 0) return exit_code_;
  absl::Time deadline = absl::Now() + bound;
  while (out_fd_ >= 0 || err_fd_ >= 0) {
    if (absl::Now() >= deadline) {
      kill(pid_, SIGKILL);
      deadline = absl::InfiniteFuture();
    }
    ReadSome(100);
  }
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

}  // namespace bridge_test
