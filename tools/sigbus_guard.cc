#include "tools/sigbus_guard.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "tools/command.h"

namespace shmio::cli {
namespace {

// The handler's message, formatted ahead of time: formatting is not
// async-signal-safe. Written only before the file is mapped (single
// thread), read only by the handler.
char message[4096];
size_t message_length = 0;

void OnSigbus(int) {
  ssize_t ignored = ::write(STDERR_FILENO, message, message_length);
  (void)ignored;
  ::_exit(kExitFailure);
}

}  // namespace

void GuardAgainstShrinkingFile(const std::string& path) {
  std::string text = absl::StrCat(
      "shmio: ", path,
      " shrank while mapped (truncated or re-created by another process; "
      "SIGBUS on a page past its new end); nothing more was read or "
      "written\n");
  message_length = std::min(text.size(), sizeof message);
  std::memcpy(message, text.data(), message_length);

  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = &OnSigbus;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGBUS, &action, nullptr);
}

}  // namespace shmio::cli
