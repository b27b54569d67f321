// //bench:frame_cost: shmio's hot paths and the reference loop's
// (bench/micro/reference_log.h), each a fixed number of 32-byte frames in
// one function, for counting instructions per frame with callgrind, which
// a loaded machine cannot disturb (issue 14):
//
//   bazel-bin/bench/frame_cost --list
//   valgrind --tool=callgrind --toggle-collect='bench::frame_cost::Run*'
//       bazel-bin/bench/frame_cost --case=append_commit_every_1/shmio
//   (one command line)
//
// Ir in the callgrind summary / --frames = instructions per frame (the
// setup, outside Run*, is not counted). Without valgrind it prints the
// wall time per frame, for what that is worth.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "bench/micro/fresh_log.h"
#include "bench/micro/reference_log.h"
#include "shmio/consumer.h"
#include "shmio/iterator.h"

namespace bench {
namespace frame_cost {

constexpr size_t kPayload = 32;
constexpr uint64_t kFrameBytes = kPayload + 4;

// Each Run* is one timed loop over `frames` frames; the callers set up and
// check outside it. noinline so that callgrind can count each alone.
#define FRAME_COST_RUN __attribute__((noinline))

FRAME_COST_RUN bool RunShmioAppendCommit(shmio::Pool& pool, uint64_t frames,
                                         uint64_t every) {
  uint8_t payload[kPayload] = {7};
  uint64_t since_commit = 0;
  for (uint64_t i = 0; i < frames; ++i) {
    absl::StatusOr<absl::Span<uint8_t>> slice = pool.SliceSize(kPayload);
    if (!slice.ok()) return false;
    std::memcpy(slice->data(), payload, kPayload);
    if (++since_commit == every) {
      since_commit = 0;
      if (!pool.Commit().ok()) return false;
    }
  }
  return pool.Commit().ok();
}

FRAME_COST_RUN bool RunRefAppendCommit(RefWriter& writer, uint64_t frames,
                                       uint64_t every) {
  uint8_t payload[kPayload] = {7};
  uint64_t since_commit = 0;
  for (uint64_t i = 0; i < frames; ++i) {
    if (!writer.Append(payload, kPayload)) return false;
    if (++since_commit == every) {
      since_commit = 0;
      writer.Commit();
    }
  }
  writer.Commit();
  return true;
}

FRAME_COST_RUN uint64_t RunShmioPollNothing(shmio::Consumer& consumer, uint64_t polls) {
  uint64_t found = 0;
  for (uint64_t i = 0; i < polls; ++i) {
    absl::StatusOr<size_t> frames =
        consumer.Poll([&](const shmio::Frame& frame) { found += frame.payload[0]; });
    if (!frames.ok()) return ~uint64_t{0};
    found += *frames;
  }
  return found;
}

FRAME_COST_RUN uint64_t RunRefPollNothing(const uint8_t* base, uint64_t cursor,
                                          uint64_t polls) {
  uint64_t found = 0;
  for (uint64_t i = 0; i < polls; ++i) {
    // Acquire: as a reader would, to see the frames below a new value.
    const uint64_t committed = __atomic_load_n(
        reinterpret_cast<const uint64_t*>(base + kRefCommittedOffset), __ATOMIC_ACQUIRE);
    found += committed != cursor;
  }
  return found;
}

// Append one frame, commit, read it back: a busy-poll wake-up's software.
FRAME_COST_RUN uint64_t RunShmioOneFrameRound(shmio::Pool& pool,
                                              shmio::Consumer& consumer,
                                              uint64_t frames) {
  uint8_t payload[kPayload] = {7};
  uint64_t sum = 0;
  for (uint64_t i = 0; i < frames; ++i) {
    absl::StatusOr<absl::Span<uint8_t>> slice = pool.SliceSize(kPayload);
    if (!slice.ok()) return 0;
    std::memcpy(slice->data(), payload, kPayload);
    (void)pool.Commit();
    absl::StatusOr<size_t> read =
        consumer.Poll([&](const shmio::Frame& frame) { sum += frame.payload[0]; }, 1);
    if (!read.ok() || *read != 1) return 0;
  }
  return sum;
}

FRAME_COST_RUN uint64_t RunRefOneFrameRound(RefWriter& writer, uint64_t frames) {
  uint8_t payload[kPayload] = {7};
  uint64_t sum = 0;
  uint64_t cursor = kRefDataOffset;
  for (uint64_t i = 0; i < frames; ++i) {
    if (!writer.Append(payload, kPayload)) return 0;
    writer.Commit();
    const uint64_t committed = __atomic_load_n(
        reinterpret_cast<const uint64_t*>(writer.base + kRefCommittedOffset), __ATOMIC_ACQUIRE);
    cursor = RefForEachForward(writer.base, cursor, committed,
                               [&](const uint8_t* p, size_t) { sum += p[0]; });
  }
  return sum;
}

// A reader behind a writer that commits every 64 frames: Poll() per batch
// (validation walk and delivery), as //bench:ipc's reader.
FRAME_COST_RUN uint64_t RunShmioPollBatches(shmio::Pool& pool, shmio::Consumer& consumer,
                                            uint64_t frames) {
  uint8_t payload[kPayload] = {7};
  uint64_t sum = 0;
  for (uint64_t i = 0; i < frames; i += 64) {
    for (int j = 0; j < 64; ++j) {
      absl::StatusOr<absl::Span<uint8_t>> slice = pool.SliceSize(kPayload);
      if (!slice.ok()) return 0;
      std::memcpy(slice->data(), payload, kPayload);
    }
    (void)pool.Commit();
    absl::StatusOr<size_t> read =
        consumer.Poll([&](const shmio::Frame& frame) { sum += frame.payload[0]; });
    if (!read.ok() || *read != 64) return 0;
  }
  return sum;
}

FRAME_COST_RUN uint64_t RunRefPollBatches(RefWriter& writer, uint64_t frames) {
  uint8_t payload[kPayload] = {7};
  uint64_t sum = 0;
  uint64_t cursor = kRefDataOffset;
  for (uint64_t i = 0; i < frames; i += 64) {
    for (int j = 0; j < 64; ++j) {
      if (!writer.Append(payload, kPayload)) return 0;
    }
    writer.Commit();
    const uint64_t committed = __atomic_load_n(
        reinterpret_cast<const uint64_t*>(writer.base + kRefCommittedOffset), __ATOMIC_ACQUIRE);
    cursor = RefForEachForward(writer.base, cursor, committed,
                               [&](const uint8_t* p, size_t) { sum += p[0]; });
  }
  return sum;
}

FRAME_COST_RUN uint64_t RunShmioForward(const shmio::SharedMemory& shm, uint64_t from,
                                        uint64_t to) {
  uint64_t sum = 0;
  shmio::FrameRange frames(shm, from, to);
  for (const shmio::Frame& frame : frames) sum += frame.payload.size() + frame.payload[0];
  return frames.status().ok() ? sum : 0;
}

FRAME_COST_RUN uint64_t RunRefForward(const uint8_t* base, uint64_t from, uint64_t to) {
  uint64_t sum = 0;
  RefForEachForward(base, from, to,
                    [&](const uint8_t* payload, size_t size) { sum += size + payload[0]; });
  return sum;
}

absl::StatusOr<std::unique_ptr<FreshShmioLog>> ShmioLog(uint64_t frames) {
  return FreshShmioLog::Create(kRefDataOffset + (frames + 64) * kFrameBytes + 4096,
                               /*prefault=*/true);
}

absl::StatusOr<std::unique_ptr<FreshReferenceLog>> RefLog(uint64_t frames) {
  return FreshReferenceLog::Create(kRefDataOffset + (frames + 64) * kFrameBytes + 4096,
                                   /*prefault=*/true);
}

// Each case: OK when its loop ran and checked out.
using Case = std::function<absl::Status(uint64_t frames)>;

absl::Status Check(bool ok) { return ok ? absl::OkStatus() : absl::InternalError("failed"); }

std::map<std::string, Case> Cases() {
  std::map<std::string, Case> cases;
  for (uint64_t every : {uint64_t{1}, uint64_t{1000}}) {
    const std::string name = "append_commit_every_" + std::to_string(every);
    cases[name + "/shmio"] = [every](uint64_t frames) -> absl::Status {
      auto log = ShmioLog(frames);
      if (!log.ok()) return log.status();
      return Check(RunShmioAppendCommit((*log)->pool(), frames, every));
    };
    cases[name + "/reference"] = [every](uint64_t frames) -> absl::Status {
      auto log = RefLog(frames);
      if (!log.ok()) return log.status();
      return Check(RunRefAppendCommit((*log)->writer(), frames, every));
    };
  }
  cases["poll_nothing_new/shmio"] = [](uint64_t frames) -> absl::Status {
    auto log = ShmioLog(1);
    if (!log.ok()) return log.status();
    shmio::Consumer consumer(&(*log)->shm());
    absl::Status status = consumer.SeekToEnd();
    if (!status.ok()) return status;
    return Check(RunShmioPollNothing(consumer, frames) == 0);
  };
  cases["poll_nothing_new/reference"] = [](uint64_t frames) -> absl::Status {
    auto log = RefLog(1);
    if (!log.ok()) return log.status();
    return Check(RunRefPollNothing((*log)->data(), kRefDataOffset, frames) == 0);
  };
  cases["one_frame_round/shmio"] = [](uint64_t frames) -> absl::Status {
    auto log = ShmioLog(frames);
    if (!log.ok()) return log.status();
    shmio::Consumer consumer(&(*log)->shm());
    return Check(RunShmioOneFrameRound((*log)->pool(), consumer, frames) == 7 * frames);
  };
  cases["one_frame_round/reference"] = [](uint64_t frames) -> absl::Status {
    auto log = RefLog(frames);
    if (!log.ok()) return log.status();
    return Check(RunRefOneFrameRound((*log)->writer(), frames) == 7 * frames);
  };
  cases["poll_batches_of_64/shmio"] = [](uint64_t frames) -> absl::Status {
    auto log = ShmioLog(frames);
    if (!log.ok()) return log.status();
    shmio::Consumer consumer(&(*log)->shm());
    return Check(RunShmioPollBatches((*log)->pool(), consumer, frames) != 0);
  };
  cases["poll_batches_of_64/reference"] = [](uint64_t frames) -> absl::Status {
    auto log = RefLog(frames);
    if (!log.ok()) return log.status();
    return Check(RunRefPollBatches((*log)->writer(), frames) != 0);
  };
  // Both walk one log that shmio wrote: the same bytes.
  cases["forward_iteration/shmio"] = [](uint64_t frames) -> absl::Status {
    auto log = ShmioLog(frames);
    if (!log.ok()) return log.status();
    uint8_t payload[kPayload] = {7};
    for (uint64_t i = 0; i < frames; ++i) {
      absl::Status status = (*log)->pool().Append(payload);
      if (!status.ok()) return status;
    }
    absl::Status status = (*log)->pool().Commit();
    if (!status.ok()) return status;
    const shmio::HeaderSnapshot header = (*log)->shm().ReadHeader();
    return Check(RunShmioForward((*log)->shm(), header.data_offset, header.committed) != 0);
  };
  cases["forward_iteration/reference"] = [](uint64_t frames) -> absl::Status {
    auto log = ShmioLog(frames);
    if (!log.ok()) return log.status();
    uint8_t payload[kPayload] = {7};
    for (uint64_t i = 0; i < frames; ++i) {
      absl::Status status = (*log)->pool().Append(payload);
      if (!status.ok()) return status;
    }
    absl::Status status = (*log)->pool().Commit();
    if (!status.ok()) return status;
    const shmio::HeaderSnapshot header = (*log)->shm().ReadHeader();
    return Check(RunRefForward((*log)->shm().data(), header.data_offset, header.committed) !=
                 0);
  };
  return cases;
}

}  // namespace frame_cost
}  // namespace bench

int main(int argc, char** argv) {
  std::string only;
  uint64_t frames = 1000000;
  bool list = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--case=", 0) == 0) {
      only = arg.substr(7);
    } else if (arg.rfind("--frames=", 0) == 0) {
      frames = std::stoull(arg.substr(9));
    } else if (arg == "--list") {
      list = true;
    } else {
      std::fprintf(stderr, "usage: %s [--list] [--case=NAME] [--frames=N]\n", argv[0]);
      return 2;
    }
  }
  frames = (frames + 63) / 64 * 64;  // whole batches for poll_batches_of_64
  const auto cases = bench::frame_cost::Cases();
  int failed = 0;
  for (const auto& [name, run] : cases) {
    if (list) {
      std::printf("%s\n", name.c_str());
      continue;
    }
    if (!only.empty() && name != only) continue;
    const auto start = std::chrono::steady_clock::now();
    const absl::Status status = run(frames);
    const double ns = std::chrono::duration<double, std::nano>(
                          std::chrono::steady_clock::now() - start).count();
    if (!status.ok()) ++failed;
    std::printf("case=%s frames=%llu ns_per_frame_with_setup=%.2f status=%s\n", name.c_str(),
                static_cast<unsigned long long>(frames), ns / static_cast<double>(frames),
                status.ok() ? "ok" : status.ToString().c_str());
  }
  return failed == 0 ? 0 : 1;
}
