// RunProgram: runs a program to completion with `stdin_data` on its stdin
// and captures its exit status, stdout and stderr (through unlinked
// temporary files opened before the fork, so a child that drops privileges
// can still write them, and no pipe can fill and stall it).
#ifndef TESTS_RELIABILITY_CLI_RUNNER_H_
#define TESTS_RELIABILITY_CLI_RUNNER_H_

#include <string>
#include <vector>

namespace shmio_reliability {

struct ProgramResult {
  int exit_code = -1;  // 128 + signal when a signal ended it
  std::string out;
  std::string err;
  std::string skipped;  // non-empty: could not run as asked (says why)
};

// Runs argv[0] with `argv`. With `as_nobody`, the child switches to uid and
// gid 65534 before exec (needs root); it execs through a descriptor, so it
// needs no access to the program's directory.
ProgramResult RunProgram(const std::vector<std::string>& argv,
                         const std::string& stdin_data = "",
                         bool as_nobody = false);

}  // namespace shmio_reliability

#endif  // TESTS_RELIABILITY_CLI_RUNNER_H_
