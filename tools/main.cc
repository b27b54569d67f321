// shmio: inspect and write shmio logs from the command line.
//
//   shmio stat FILE|DIR [--json]
//   shmio dump FILE|DIR [--from=CURSOR] [--to=CURSOR] [--format=hex|text|json] ...
//   shmio verify FILE|DIR
//   shmio append FILE [--create] [--capacity=N | --size=N --num=N ...] ...
//   shmio append DIR [--create --chain --file-capacity=BYTES] [--retain-files=N] ...
//   shmio tail FILE [-f] [--mode=auto|inotify|timer] [--from=...] ...
//   shmio readers DIR [--json] | DIR --remove NAME | DIR --reset NAME --to=P
//   shmio bench [--quick] [flags of //bench:ipc]
//   shmio publish LOG --redis=HOST:PORT --stream=KEY [--maxlen=N] ...
//   shmio mirror --redis=HOST:PORT --stream=KEY DEST [--capacity=BYTES]
//
// DIR is a chain of files (shmio/chain_writer.h); its cursors are positions.
// Exit codes: 0 ok, 1 data or runtime problem, 2 usage error. Errors go to
// stderr and name the file. Each subcommand lives in its own
// tools/<name>_command.{h,cc}; this file only dispatches through kCommands.
#include <csignal>
#include <cstdio>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/strings/str_format.h"
#include "tools/append_command.h"
#include "tools/bench_command.h"
#include "tools/command.h"
#include "tools/dump_command.h"
#include "tools/mirror_command.h"
#include "tools/publish_command.h"
#include "tools/readers_command.h"
#include "tools/stat_command.h"
#include "tools/tail_command.h"
#include "tools/verify_command.h"

namespace shmio::cli {
namespace {

// The subcommands, in the order `shmio --help` lists them.
const Command* const kCommands[] = {
    &kStatCommand,
    &kDumpCommand,
    &kVerifyCommand,
    &kAppendCommand,
    &kTailCommand,
    &kReadersCommand,
    &kBenchCommand,
    &kPublishCommand,
    &kMirrorCommand,
};

void PrintOverview(std::FILE* stream) {
  absl::FPrintF(stream,
                "usage: shmio COMMAND [FILE|DIR] [flags]\n  (DIR: a chain of log files; "
                "its cursors are positions)\n\ncommands:\n");
  for (const Command* command : kCommands) {
    absl::FPrintF(stream, "  shmio %s\n      %s\n", command->synopsis,
                  command->summary);
  }
  absl::FPrintF(stream,
                "\nexit codes: 0 ok, 1 data or runtime problem, 2 usage "
                "error\n");
}

int Main(int argc, char** argv) {
  // A reader that closes the pipe (`shmio dump f | head`) must not kill us
  // with SIGPIPE: writes then fail with EPIPE and we exit 1.
  std::signal(SIGPIPE, SIG_IGN);

  CommandIo io{stdin, stdout, stderr};
  if (argc < 2) {
    PrintOverview(stderr);
    return kExitUsage;
  }
  absl::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintOverview(stdout);
    return kExitOk;
  }
  std::vector<std::string> args(argv + 2, argv + argc);
  for (const Command* command : kCommands) {
    if (command->name == name) return command->run(args, io);
  }
  absl::FPrintF(stderr, "shmio: unknown command '%s'\n", name);
  PrintOverview(stderr);
  return kExitUsage;
}

}  // namespace
}  // namespace shmio::cli

int main(int argc, char** argv) { return shmio::cli::Main(argc, argv); }
