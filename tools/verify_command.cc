#include "tools/verify_command.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_format.h"
#include "shmio/format.h"
#include "shmio/iterator.h"
#include "shmio/shared_memory.h"
#include "tools/flag_parser.h"
#include "tools/log_snapshot.h"

namespace shmio::cli {
namespace {

// The first bad frame in [from, limit) of `shm`, with debug checks.
struct WalkResult {
  uint64_t frames = 0;
  uint64_t bad_offset = 0;  // valid when !status.ok()
  absl::Status status;
};

WalkResult Walk(const SharedMemory& shm, uint64_t from, uint64_t limit) {
  WalkResult result;
  uint64_t position = from;
  while (position < limit) {
    Frame frame;
    if (!TryReadFrameAt(shm.data(), position, limit, /*debug=*/true, &frame)) {
      result.bad_offset = position;
      result.status = FrameDamageAt(shm.data(), position, limit,
                                    /*debug=*/true, shm.path());
      return result;
    }
    ++result.frames;
    position = frame.end();
  }
  return result;
}

int ReportBadFrame(const CommandIo& io, const std::string& path,
                   const WalkResult& walk) {
  absl::FPrintF(io.out, "bad frame at offset %d: %s\n", walk.bad_offset,
                walk.status.message());
  absl::FPrintF(io.err, "shmio verify: %s: damaged at offset %d\n", path,
                walk.bad_offset);
  return FinishOutput(io, kVerifyCommand, kExitFailure);
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
    WalkResult walk = Walk(**shm, header.data_offset, limit);
    if (!walk.status.ok()) return ReportBadFrame(io, path, walk);
    return code;
  }
  if (log->empty_log()) {
    absl::FPrintF(io.out, "ok: 0 frames, 0 bytes\n");
    return FinishOutput(io, self, kExitOk);
  }

  WalkResult walk = Walk(*log->shm, log->data_offset, log->committed);
  if (!walk.status.ok()) return ReportBadFrame(io, path, walk);
  absl::FPrintF(io.out, "ok: %d frames, %d bytes\n", walk.frames,
                log->committed - log->data_offset);
  return FinishOutput(io, self, kExitOk);
}

}  // namespace

const Command kVerifyCommand = {
    "verify",
    "verify FILE",
    "check every committed frame's bounds and leading == trailing sizes",
    &Run,
};

}  // namespace shmio::cli
