#include "tests/bridge/redis_server.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace bridge_test {
namespace {

constexpr absl::string_view kReadyLine = "Ready to accept connections";
constexpr absl::Duration kStartBound = absl::Seconds(20);

}  // namespace

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::Start(RedisServerOptions options) {
  if (options.dir.empty()) return absl::InvalidArgumentError("RedisServer needs a directory");
  mkdir(options.dir.c_str(), 0755);
  bool pick_port = options.port == 0;
  absl::Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (pick_port) options.port = FreeLoopbackPort();
    std::unique_ptr<RedisServer> server(new RedisServer(options));
    last = server->Launch();
    if (last.ok()) return server;
    if (!pick_port) break;  // the port was asked for: no other to try
  }
  return last;
}

absl::StatusOr<std::unique_ptr<RedisServer>> RedisServer::StartIn(const std::string& dir) {
  RedisServerOptions options;
  options.dir = dir;
  return Start(options);
}

std::string RedisServer::address() const { return absl::StrCat("127.0.0.1:", options_.port); }

absl::Status RedisServer::Launch() {
  std::vector<std::string> args = {
      "redis-server", "--port", absl::StrCat(options_.port), "--bind", "127.0.0.1",
      "--dir", options_.dir, "--save", "", "--daemonize", "no", "--logfile", "",
      "--protected-mode", "no", "--loglevel", "notice",
      // No AOF rewrite child: a forked child would outlive a SIGKILLed server.
      "--auto-aof-rewrite-percentage", "0",
  };
  if (options_.persistent) {
    for (const char* arg : {"--appendonly", "yes", "--appendfsync", "always"}) args.push_back(arg);
  } else {
    for (const char* arg : {"--appendonly", "no"}) args.push_back(arg);
  }
  if (!options_.password.empty()) {
    args.push_back("--requirepass");
    args.push_back(options_.password);
  }
  // This launch's lines start here (taken before the server can write).
  size_t from;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    from = log_.size();
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe for redis-server");
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::ErrnoToStatus(errno, "fork for redis-server");
  }
  if (pid_ == 0) {
    // Die with the test, whatever ends it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(126);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execvp("redis-server", argv.data());
    _exit(127);
  }
  close(fds[1]);
  log_fd_ = fds[0];
  {
    std::lock_guard<std::mutex> lock(mutex_);
    log_closed_ = false;
  }
  reader_ = std::thread([this, fd = log_fd_] {
    char buffer[4096];
    for (;;) {
      ssize_t n = read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (n <= 0) {
          log_closed_ = true;
        } else {
          log_.append(buffer, static_cast<size_t>(n));
        }
      }
      log_grew_.notify_all();
      if (n <= 0) return;
    }
  });
  // Wait for the ready line (or the end of the log: the server died).
  bool ready = false;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    log_grew_.wait_for(lock, absl::ToChronoMilliseconds(kStartBound), [this, from] {
      return log_closed_ || log_.find(std::string(kReadyLine), from) != std::string::npos;
    });
    ready = log_.find(std::string(kReadyLine), from) != std::string::npos;
  }
  if (!ready) {
    std::string log = Log();
    Kill();
    return absl::UnavailableError(
        absl::StrCat("redis-server on port ", options_.port, " did not start: ", log));
  }
  return absl::OkStatus();
}

void RedisServer::Reap() {
  if (pid_ > 0) {
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // The pipe's write end died with the server: the reader sees EOF.
  if (reader_.joinable()) reader_.join();
  if (log_fd_ >= 0) close(log_fd_);
  log_fd_ = -1;
}

void RedisServer::Kill() {
  if (pid_ > 0) kill(pid_, SIGKILL);
  Reap();
}

absl::Status RedisServer::Restart() {
  Kill();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    log_ += "\n--- restarted by the test ---\n";
  }
  return Launch();
}

std::string RedisServer::Log() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return log_;
}

RedisServer::~RedisServer() { Kill(); }

void SyncRedis::ReplyDeleter::operator()(redisReply* reply) const { freeReplyObject(reply); }

absl::StatusOr<std::unique_ptr<SyncRedis>> SyncRedis::Connect(int port,
                                                              const std::string& password) {
  timeval timeout = {10, 0};
  redisContext* context = redisConnectWithTimeout("127.0.0.1", port, timeout);
  if (context == nullptr || context->err != 0) {
    std::string why = context != nullptr ? context->errstr : "out of memory";
    if (context != nullptr) redisFree(context);
    return absl::UnavailableError(absl::StrCat("connecting to redis on port ", port, ": ", why));
  }
  redisSetTimeout(context, timeout);
  std::unique_ptr<SyncRedis> client(new SyncRedis(context));
  if (!password.empty()) {
    std::string reply = client->Text({"AUTH", password});
    if (reply != "OK") return absl::UnauthenticatedError(reply);
  }
  return client;
}

SyncRedis::~SyncRedis() { redisFree(context_); }

absl::StatusOr<SyncRedis::Reply> SyncRedis::Command(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  void* reply = redisCommandArgv(context_, static_cast<int>(argv.size()), argv.data(),
                                 lengths.data());
  if (reply == nullptr) {
    return absl::UnavailableError(absl::StrCat("redis command ", args[0], ": ", context_->errstr));
  }
  return Reply(static_cast<redisReply*>(reply));
}

std::string SyncRedis::Text(const std::vector<std::string>& args) {
  absl::StatusOr<Reply> reply = Command(args);
  if (!reply.ok()) return std::string(reply.status().message());
  redisReply* r = reply->get();
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER:
      return absl::StrCat(r->integer);
    case REDIS_REPLY_NIL:
      return "(nil)";
    default:
      return absl::StrCat("(array of ", r->elements, ")");
  }
}

}  // namespace bridge_test
