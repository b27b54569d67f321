// Turns a SIGBUS on the mapped log into an error and exit 1.
//
// A mapping of a file that shrinks underneath it (someone truncates or
// re-creates the log while we read or write it) raises SIGBUS on the first
// touch of a page past the new end. The CLI's contract is that no signal
// ends it, so the handler prints "shmio: PATH shrank while mapped ..." to
// stderr and exits with kExitFailure. Only async-signal-safe calls run in
// the handler (write, _exit).
#ifndef SHMIO_TOOLS_SIGBUS_GUARD_H_
#define SHMIO_TOOLS_SIGBUS_GUARD_H_

#include <string>

namespace shmio::cli {

// Installs the handler (once) and names `path` in its message. Call before
// mapping the file; later calls replace the name.
void GuardAgainstShrinkingFile(const std::string& path);

}  // namespace shmio::cli

#endif  // SHMIO_TOOLS_SIGBUS_GUARD_H_
