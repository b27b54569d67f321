#include "tests/reliability/cli_runner.h"

#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "tests/reliability/child_process.h"

namespace shmio_reliability {
namespace {

// An unlinked temporary file, open read-write.
int TempFile() {
  char name[] = "/tmp/shmio-cli-runner-XXXXXX";
  int fd = mkstemp(name);
  if (fd >= 0) unlink(name);
  return fd;
}

std::string ReadBack(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t n;
  off_t offset = 0;
  while ((n = pread(fd, buffer, sizeof buffer, offset)) > 0) {
    text.append(buffer, static_cast<size_t>(n));
    offset += n;
  }
  return text;
}

}  // namespace

ProgramResult RunProgram(const std::vector<std::string>& argv,
                         const std::string& stdin_data, bool as_nobody) {
  ProgramResult result;
  int in = TempFile(), out = TempFile(), err = TempFile();
  if (in < 0 || out < 0 || err < 0 ||
      pwrite(in, stdin_data.data(), stdin_data.size(), 0) !=
          static_cast<ssize_t>(stdin_data.size())) {
    result.skipped = "cannot make temporary files";
    return result;
  }
  // The child may not be allowed to reach the program's path (runfiles live
  // under /root), so it execs through a descriptor opened here.
  int program = open(argv[0].c_str(), O_RDONLY | O_CLOEXEC);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    if (as_nobody &&
        (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0)) {
      _exit(126);
    }
    lseek(in, 0, SEEK_SET);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    fexecve(program, args.data(), environ);
    _exit(127);
  }
  if (program >= 0) close(program);
  result.exit_code = pid < 0 ? -1 : WaitForExit(pid);
  if (as_nobody && result.exit_code == 126) {
    result.skipped = "cannot switch to uid 65534 (no CAP_SETUID?)";
  }
  result.out = ReadBack(out);
  result.err = ReadBack(err);
  close(in);
  close(out);
  close(err);
  return result;
}

}  // namespace shmio_reliability
