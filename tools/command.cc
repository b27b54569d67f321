#include "tools/command.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"

namespace shmio::cli {

int ReportFailure(const CommandIo& io, const Command& command,
                  const std::string& path, const absl::Status& status) {
  // Library messages usually name the path already; say it once.
  absl::string_view message = status.message();
  if (absl::StrContains(message, path)) {
    absl::FPrintF(io.err, "shmio %s: %s\n", command.name, message);
  } else {
    absl::FPrintF(io.err, "shmio %s: %s: %s\n", command.name, path, message);
  }
  return kExitFailure;
}

int ReportUsageError(const CommandIo& io, const Command& command,
                     absl::string_view message) {
  absl::FPrintF(io.err, "shmio %s: %s\nusage: shmio %s\n", command.name,
                message, command.synopsis);
  return kExitUsage;
}

int PrintUsage(const CommandIo& io, const Command& command) {
  absl::FPrintF(io.out, "usage: shmio %s\n  %s\n", command.synopsis,
                command.summary);
  return kExitOk;
}

int FinishOutput(const CommandIo& io, const Command& command, int code) {
  if (std::fflush(io.out) != 0 || std::ferror(io.out)) {
    int error = errno;
    absl::FPrintF(io.err, "shmio %s: writing the output failed: %s\n",
                  command.name, error != 0 ? std::strerror(error) : "error");
    return kExitFailure;
  }
  return code;
}

}  // namespace shmio::cli
