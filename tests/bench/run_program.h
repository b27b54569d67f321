// Runs one of the benchmark programs from the test's runfiles and captures
// its standard output and exit code, for the smoke tests.
#ifndef TESTS_BENCH_RUN_PROGRAM_H_
#define TESTS_BENCH_RUN_PROGRAM_H_

#include <string>
#include <vector>

namespace bench_test {

struct ProgramResult {
  int exit_code = -1;  // -1 when it did not exit normally
  std::string out;     // standard output; stderr goes to the test log
};

// Returns the runfiles path of `workspace_relative` (e.g. "bench/ipc").
std::string RunfilePath(const std::string& workspace_relative);

// Runs `program` with `args` (no shell quoting needed: each argument must be
// free of single quotes) and waits for it.
ProgramResult RunProgram(const std::string& program,
                         const std::vector<std::string>& args);

// The lines of `text` that start with `prefix`.
std::vector<std::string> LinesStartingWith(const std::string& text,
                                           const std::string& prefix);

// The value of `key=` in a key=value line ("" when absent).
std::string Field(const std::string& line, const std::string& key);

}  // namespace bench_test

#endif  // TESTS_BENCH_RUN_PROGRAM_H_
