// Runs one side of a benchmark in this process and the other in a forked
// child, each pinned to its own CPU, with a small block of shared memory to
// synchronise their start and carry the child's verdict back.
//
// Why fork and not threads: the benchmark measures what a reader in another
// process sees (separate address spaces, separate page tables, the file
// mapped twice), which is shmio's use case.
#ifndef BENCH_TWO_PROCESS_H_
#define BENCH_TWO_PROCESS_H_

#include <atomic>
#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace bench {

// Lives in a MAP_SHARED anonymous mapping created before fork, so both
// processes see the same bytes. The atomics are lock-free, hence
// address-free across processes (static_asserted in two_process.cc).
struct SharedControl {
  // Set (release) by the child once it is ready to receive; the parent waits
  // (acquire) so that the child's setup is not timed.
  std::atomic<uint32_t> child_ready{0};
  // Set by either side when it gives up, so the other stops spinning.
  std::atomic<uint32_t> stop{0};
  // Throughput: when the writer began (parent) and when the reader had
  // verified the last message (child), steady_clock nanoseconds. The clock
  // is system-wide, so the two can be subtracted.
  std::atomic<int64_t> start_ns{0};
  std::atomic<int64_t> end_ns{0};
  // Messages the child verified (sequence and checksum).
  std::atomic<uint64_t> verified{0};
  // The child's error message, NUL-terminated; empty when it succeeded.
  char child_error[512] = {0};
};

// Owns one SharedControl mapping.
class ControlBlock {
 public:
  static absl::StatusOr<ControlBlock> Create();
  ControlBlock(ControlBlock&& other) noexcept;
  ControlBlock& operator=(ControlBlock&&) = delete;
  ~ControlBlock();

  SharedControl* get() const { return control_; }

 private:
  explicit ControlBlock(SharedControl* control) : control_(control) {}
  SharedControl* control_;
};

// Returns the monotonic clock in nanoseconds (steady_clock; vDSO, no
// syscall).
int64_t NowNs();

// A watchdog for spin loops: Expired() turns true when `seconds` have passed
// or the other side set control->stop. It reads the clock only every 1024
// calls, so it is cheap enough to call on every spin; ExpiredNow() reads it
// at once, for loops whose every turn already takes a while.
class SpinGuard {
 public:
  SpinGuard(const SharedControl* control, double seconds);
  bool Expired() {
    if ((++calls_ & 1023) != 0) return false;
    return ExpiredNow();
  }
  bool ExpiredNow() const;

 private:
  const SharedControl* control_;
  int64_t deadline_ns_;
  uint64_t calls_ = 0;
};

// Pins the calling process to `cpu` (sched_setaffinity). Errors name the CPU.
absl::Status PinToCpu(int cpu);

// Forks. The child pins itself to `child_cpu`, runs `child`, stores its
// error (if any) in control->child_error and exits. This process pins itself
// to `parent_cpu`, runs `parent`, then waits for the child (killing it if it
// has not ended within `grace_seconds` after the parent side finished).
// Returns the parent's error, else the child's, else OK. The parent's CPU
// affinity is restored afterwards.
absl::Status RunPair(int parent_cpu, int child_cpu, SharedControl* control,
                     absl::FunctionRef<absl::Status()> parent,
                     absl::FunctionRef<absl::Status()> child,
                     double grace_seconds = 20);

}  // namespace bench

#endif  // BENCH_TWO_PROCESS_H_
