#include "tools/verify_command.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_format.h"
#include "shmio/chain_directory.h"
#include "shmio/format.h"
#include "shmio/iterator.h"
#include "shmio/shared_memory.h"
#include "tools/chain_snapshot.h"
#include "tools/flag_parser.h"
#include "tools/log_snapshot.h"

namespace shmio::cli {
namespace {

int ReportBadFrame(const CommandIo& io, const std::string& path,
                   const FrameWalk& walk) {
  absl::FPrintF(io.out, "bad frame at offset %d: %s\n", walk.bad_offset,
                walk.status.message());
  absl::FPrintF(io.err, "shmio verify: %s: damaged at offset %d\n", path,
                walk.bad_offset);
  return FinishOutput(io, kVerifyCommand, kExitFailure);
}

// `verify DIR`: every file of the chain and how they join (see the header).
int RunChain(const CommandIo& io, const std::string& dir) {
  const Command& self = kVerifyCommand;
  absl::StatusOr<ChainSnapshot> chain =
      OpenChainSnapshot(dir, {.debug = true, .walk_frames = true});
  if (!chain.ok()) return ReportFailure(io, self, dir, chain.status());
  if (chain->bad_frame.has_value()) {
    const BadChainFrame& bad = *chain->bad_frame;
    absl::FPrintF(io.out, "bad frame at position %d (offset %d of %s): %s\n", bad.position,
                  bad.offset, bad.path, bad.message);
    absl::FPrintF(io.err, "shmio verify: %s: damaged at offset %d (position %d)\n", bad.path,
                  bad.offset, bad.position);
    return FinishOutput(io, self, kExitFailure);
  }
  if (!chain->problem.ok()) return ReportFailure(io, self, dir, chain->problem);
  absl::FPrintF(io.out, "ok: %d frames, %d bytes, %d files\n", chain->frames(),
                chain->end() - chain->begin(), chain->chain_files.size());
  return FinishOutput(io, self, kExitOk);
}

int Run(absl::Span<const std::string> args, const CommandIo& io) {
  const Command& self = kVerifyCommand;
  if (IsHelpRequest(args)) return PrintUsage(io, self);
  // verify takes no flags: it always checks leading == trailing.
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args, {});
  if (!parsed.ok()) return ReportUsageError(io, self, parsed.status().message());
  absl::StatusOr<std::string> file = parsed->File();
  if (!file.ok()) return ReportUsageError(io, self, file.status().message());
  const std::string& path = *file;
  if (IsDirectory(path)) return RunChain(io, path);

  absl::StatusOr<LogSnapshot> log = OpenLogSnapshot(path, /*debug=*/true);
  if (!log.ok()) {
    int code = ReportFailure(io, self, path, log.status());
    // A committed value that stayed invalid: show where the frames stop
    // fitting below it, if the header itself could be read.
    absl::StatusOr<std::unique_ptr<SharedMemory>> shm = SharedMemory::Open(
        Options{.path = path, .writable = false, .debug_checks = true});
    if (!shm.ok()) return code;
    HeaderSnapshot header = (*shm)->ReadHeader();
    if (header.format == FileFormat::kEmpty ||
        header.data_offset > (*shm)->capacity()) {
      return code;
    }
    uint64_t limit = std::min(header.committed, (*shm)->capacity());
    FrameWalk walk = WalkFrames(**shm, header.data_offset, limit, /*debug=*/true);
    if (!walk.status.ok()) return ReportBadFrame(io, path, walk);
    return code;
  }
  if (log->empty_log()) {
    absl::FPrintF(io.out, "ok: 0 frames, 0 bytes\n");
    return FinishOutput(io, self, kExitOk);
  }

  FrameWalk walk = WalkFrames(*log->shm, log->data_offset, log->committed, /*debug=*/true);
  if (!walk.status.ok()) return ReportBadFrame(io, path, walk);
  absl::FPrintF(io.out, "ok: %d frames, %d bytes\n", walk.frames,
                log->committed - log->data_offset);
  return FinishOutput(io, self, kExitOk);
}

}  // namespace

const Command kVerifyCommand = {
    "verify",
    "verify FILE|DIR",
    "check every committed frame's bounds and leading == trailing sizes; for a "
    "chain (DIR), every file and that each starts where the one before ends",
    &Run,
};

}  // namespace shmio::cli
