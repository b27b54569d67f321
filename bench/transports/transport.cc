#include "bench/transports/transport.h"

#include <sched.h>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace bench {

absl::Status WaitForChildReady(SharedControl* control, double seconds) {
  SpinGuard guard(control, seconds);
  // Acquire: pairs with SignalChildReady's release, so the child's setup
  // (connected socket, mapped file) is complete before we send.
  while (control->child_ready.load(std::memory_order_acquire) == 0) {
    if (guard.Expired()) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "the reader process was not ready within %.0f s (it failed or is "
          "stuck; see its error)",
          seconds));
    }
    sched_yield();  // the child may share our CPU on a 1-CPU machine
  }
  return absl::OkStatus();
}

void SignalChildReady(SharedControl* control) {
  // Release: publishes the child's setup to the parent's acquire load.
  control->child_ready.store(1, std::memory_order_release);
}

void RecordReaderDone(SharedControl* control, uint64_t verified) {
  // Relaxed: the parent reads both only after waitpid, which orders them.
  control->end_ns.store(NowNs(), std::memory_order_relaxed);
  control->verified.store(verified, std::memory_order_relaxed);
}

void RecordReaderProgress(SharedControl* control, uint64_t verified) {
  // Relaxed: only read for the error message, after waitpid.
  control->verified.store(verified, std::memory_order_relaxed);
}

void WaitForReaderDone(const SharedControl* control, double seconds) {
  SpinGuard guard(control, seconds);
  // Relaxed: only the moment matters here; no data rides on end_ns.
  while (control->end_ns.load(std::memory_order_relaxed) == 0 && !guard.ExpiredNow()) {
    absl::SleepFor(absl::Milliseconds(1));
  }
}

void RecordWriterStart(SharedControl* control) {
  // Relaxed: read by the parent itself after the run.
  control->start_ns.store(NowNs(), std::memory_order_relaxed);
}

}  // namespace bench
