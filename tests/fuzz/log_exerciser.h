// ExerciseLogBytes: the body of the damaged-file fuzzer. It writes arbitrary
// bytes to a file, opens it as a log (read-only, and a copy writable) and
// reads it through every reader API, checking properties that hold for ANY
// file: nothing read lies outside the mapping or the range asked for,
// forward and backward walks agree, the Consumer delivers exactly the frames
// a bounds-checked walk finds and reports damage as an error where the walk
// fails. A broken property aborts with a message (the fuzzer keeps the
// input); damage in the file itself is never a crash.
//
// Used by the libFuzzer target (log_fuzzer.cc) and, without libFuzzer, by
// fuzz_regression_test over the seed corpus and saved crash inputs.
#ifndef TESTS_FUZZ_LOG_EXERCISER_H_
#define TESTS_FUZZ_LOG_EXERCISER_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace shmio_fuzz {

// Runs every reader API over `data` as a log file. Aborts (after printing
// what broke) only when shmio breaks a promise, never for a bad file.
void ExerciseLogBytes(const uint8_t* data, size_t size);

// Removes the scratch files ExerciseLogBytes made in process `pid` (in
// /dev/shm, named after the pid). They go at normal exit anyway; a parent
// that forks children to run inputs removes theirs after reaping them.
void RemoveScratchFiles(pid_t pid);

}  // namespace shmio_fuzz

#endif  // TESTS_FUZZ_LOG_EXERCISER_H_
