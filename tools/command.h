// The shape every `shmio` subcommand shares: its entry in the dispatch table
// (tools/main.cc), its exit codes, and how it reports errors.
//
// Adding a subcommand is one new file pair (foo_command.{h,cc} defining a
// `const Command kFooCommand`), one line in main.cc's table, and one
// cc_library + one dep in tools/BUILD.bazel.
#ifndef SHMIO_TOOLS_COMMAND_H_
#define SHMIO_TOOLS_COMMAND_H_

#include <cstdio>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace shmio::cli {

// The CLI's contract: scripts rely on these.
enum ExitCode : int {
  kExitOk = 0,       // done
  kExitFailure = 1,  // a data or runtime problem (damaged file, full log...)
  kExitUsage = 2,    // bad command line; usage printed to stderr
};

// Where a command reads and writes. Not owned; main() passes the process's
// stdin, stdout and stderr.
struct CommandIo {
  std::FILE* in;
  std::FILE* out;
  std::FILE* err;
};

// One subcommand. `run` receives the arguments after the subcommand's name
// and returns an ExitCode.
struct Command {
  absl::string_view name;      // "stat"
  absl::string_view synopsis;  // "stat FILE [--json]"
  absl::string_view summary;   // one line for `shmio --help`
  int (*run)(absl::Span<const std::string> args, const CommandIo& io);
};

// Prints "shmio NAME: PATH: MESSAGE" to io.err (PATH only when the message
// does not name it already) and returns kExitFailure.
int ReportFailure(const CommandIo& io, const Command& command,
                  const std::string& path, const absl::Status& status);

// Prints "shmio NAME: MESSAGE" and the command's usage line to io.err and
// returns kExitUsage.
int ReportUsageError(const CommandIo& io, const Command& command,
                     absl::string_view message);

// Prints the command's usage line to io.out (for --help) and returns kExitOk.
int PrintUsage(const CommandIo& io, const Command& command);

// Flushes io.out and returns kExitFailure with a message naming the error
// when anything written to it was lost (e.g. a closed pipe), else `code`.
int FinishOutput(const CommandIo& io, const Command& command, int code);

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_COMMAND_H_
