#include "bench/two_process.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>
#include <thread>

#include "absl/strings/str_format.h"

namespace bench {

static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<int64_t>::is_always_lock_free);
static_assert(std::atomic<uint64_t>::is_always_lock_free);

absl::StatusOr<ControlBlock> ControlBlock::Create() {
  void* p = mmap(nullptr, sizeof(SharedControl), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return absl::ErrnoToStatus(
        errno, absl::StrFormat("mmap of %d shared bytes for the benchmark's "
                               "control block",
                               sizeof(SharedControl)));
  }
  return ControlBlock(new (p) SharedControl());
}

ControlBlock::ControlBlock(ControlBlock&& other) noexcept
    : control_(other.control_) {
  other.control_ = nullptr;
}

ControlBlock::~ControlBlock() {
  if (control_ != nullptr) munmap(control_, sizeof(SharedControl));
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

SpinGuard::SpinGuard(const SharedControl* control, double seconds)
    : control_(control),
      deadline_ns_(NowNs() + static_cast<int64_t>(seconds * 1e9)) {}

bool SpinGuard::ExpiredNow() const {
  // Relaxed: `stop` only asks the spinner to give up; no data rides on it.
  if (control_->stop.load(std::memory_order_relaxed) != 0) return true;
  return NowNs() > deadline_ns_;
}

absl::Status PinToCpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrFormat("sched_setaffinity to CPU %d (see nproc; pass "
                               "--writer_cpu/--reader_cpu)",
                               cpu));
  }
  return absl::OkStatus();
}

namespace {

// Waits for `pid` up to `seconds`, then kills it. Returns its wait status.
int WaitOrKill(pid_t pid, double seconds) {
  const int64_t deadline = NowNs() + static_cast<int64_t>(seconds * 1e9);
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return -1;
    if (NowNs() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

absl::Status RunPair(int parent_cpu, int child_cpu, SharedControl* control,
                     absl::FunctionRef<absl::Status()> parent,
                     absl::FunctionRef<absl::Status()> child,
                     double grace_seconds) {
  cpu_set_t saved;
  if (sched_getaffinity(0, sizeof saved, &saved) != 0) {
    return absl::ErrnoToStatus(errno, "sched_getaffinity");
  }
  pid_t pid = fork();
  if (pid < 0) return absl::ErrnoToStatus(errno, "fork of the reader process");
  if (pid == 0) {
    absl::Status status = PinToCpu(child_cpu);
    if (status.ok()) status = child();
    if (!status.ok()) {
      std::string text(status.ToString());
      std::snprintf(control->child_error, sizeof control->child_error, "%s",
                    text.c_str());
      // Relaxed: the parent reads child_error only after waitpid, which
      // orders it; `stop` just ends the parent's spinning early.
      control->stop.store(1, std::memory_order_relaxed);
    }
    _exit(status.ok() ? 0 : 1);
  }
  absl::Status status = PinToCpu(parent_cpu);
  if (status.ok()) status = parent();
  if (!status.ok()) {
    // Relaxed: see above; tells the child to stop spinning.
    control->stop.store(1, std::memory_order_relaxed);
  }
  const int wait_status = WaitOrKill(pid, grace_seconds);
  sched_setaffinity(0, sizeof saved, &saved);
  if (!status.ok() && control->child_error[0] != '\0') {
    // Both failed: the reader's error comes first, as the cause (a writer
    // that waits for its reader fails when the reader did).
    return absl::Status(status.code(), absl::StrCat("reader process: ", control->child_error,
                                                    "; then the writer: ", status.message()));
  }
  if (!status.ok()) return status;
  if (control->child_error[0] != '\0') {
    return absl::InternalError(
        absl::StrCat("reader process: ", control->child_error));
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return absl::InternalError(absl::StrFormat(
        "reader process %d ended abnormally (wait status %#x)", pid,
        wait_status));
  }
  return absl::OkStatus();
}

}  // namespace bench
