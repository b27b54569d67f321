// The errors a user of `shmio publish` and `shmio mirror` meets, each a clear
// message naming the stream, the host or the file, and exit 1 (2 for a bad
// command line): a refused login, a key of another type, a stream shmio did
// not write, a stream published from another log, a trimmed stream the
// mirror cannot continue. And what is not an error: an unreachable Redis is
// retried with backoff and said once.
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"
#include "tests/bridge/bridge_test_support.h"
#include "tests/bridge/redis_server.h"

namespace bridge_test {
namespace {

constexpr uint64_t kCapacity = uint64_t{4} << 20;

class BridgeErrorsTest : public testing::Test {
 protected:
  void StartServer(const std::string& password = "") {
    RedisServerOptions options;
    options.dir = TempDir("redis");
    options.password = password;
    absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    absl::StatusOr<std::unique_ptr<SyncRedis>> client = SyncRedis::Connect(server_->port(), password);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
    redis_flag_ = absl::StrCat("--redis=", server_->address());
  }

  // A log of `frames` numbered frames, committed 10 at a time.
  std::string WriteLog(const std::string& name, uint64_t frames) {
    std::string path = ShmPath(name);
    absl::StatusOr<std::unique_ptr<TestLogWriter>> writer = OpenSingleFileWriter(path, kCapacity);
    EXPECT_TRUE(writer.ok()) << writer.status();
    if (writer.ok()) {
      EXPECT_TRUE((*writer)->Write(frames, 10).ok());
    }
    return path;
  }

  // Runs a command to its end.
  struct Run {
    int exit_code;
    std::string out;
    std::string err;
  };
  Run Shmio(const std::vector<std::string>& args) {
    ShmioChild child(args);
    int code = child.Wait();
    return Run{code, child.out(), child.err()};
  }

  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<SyncRedis> client_;
  std::string redis_flag_;
};

TEST_F(BridgeErrorsTest, AWrongPasswordIsARefusedLoginNamingTheHost) {
  StartServer("s3cret");
  std::string log = WriteLog("log", 5);
  Run run = Shmio({"publish", log, redis_flag_, "--stream=s", "--redis-password=wrong",
                   "--until-caught-up"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, absl::StrCat("redis ", server_->address(),
                                                      " refused the login")))
      << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, "SHMIO_REDIS_PASSWORD")) << run.err;
  EXPECT_EQ(client_->Text({"EXISTS", "s"}), "0");
}

TEST_F(BridgeErrorsTest, NoPasswordForAServerThatNeedsOneIsARefusedLogin) {
  StartServer("s3cret");
  std::string dest = ShmPath("dest");
  Run run = Shmio({"mirror", redis_flag_, "--stream=s", dest, "--capacity=65536"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, "refused the login: NOAUTH")) << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, "it needs a password")) << run.err;
  EXPECT_NE(access(dest.c_str(), F_OK), 0) << "a DEST made for nothing is removed";
}

TEST_F(BridgeErrorsTest, ThePasswordCanComeFromTheEnvironment) {
  StartServer("s3cret");
  std::string log = WriteLog("log", 5);
  setenv("SHMIO_REDIS_PASSWORD", "s3cret", 1);
  Run run = Shmio({"publish", log, redis_flag_, "--stream=s", "--until-caught-up"});
  unsetenv("SHMIO_REDIS_PASSWORD");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(client_->Text({"XLEN", "s"}), "5");
}

TEST_F(BridgeErrorsTest, AKeyOfAnotherTypeIsRefusedByBoth) {
  StartServer();
  std::string log = WriteLog("log", 5);
  ASSERT_EQ(client_->Text({"SET", "k", "v"}), "OK");
  Run published = Shmio({"publish", log, redis_flag_, "--stream=k", "--until-caught-up"});
  EXPECT_EQ(published.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(published.err, "key k holds a string, not a stream"))
      << published.err;
  EXPECT_TRUE(absl::StrContains(published.err, server_->address())) << published.err;
  Run mirrored = Shmio({"mirror", redis_flag_, "--stream=k", ShmPath("dest"), "--capacity=65536"});
  EXPECT_EQ(mirrored.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(mirrored.err, "key k holds a string, not a stream"))
      << mirrored.err;
  EXPECT_EQ(client_->Text({"GET", "k"}), "v");
}

TEST_F(BridgeErrorsTest, AStreamShmioDidNotWriteIsRefusedByBoth) {
  StartServer();
  std::string log = WriteLog("log", 5);
  client_->Text({"XADD", "auto", "*", "temperature", "21"});  // Redis's own ID
  client_->Text({"XADD", "lookalike", "7-1", "pos", "8", "data", "x"});  // pos != ID
  for (const char* stream : {"auto", "lookalike"}) {
    Run published =
        Shmio({"publish", log, redis_flag_, absl::StrCat("--stream=", stream), "--until-caught-up"});
    EXPECT_EQ(published.exit_code, 1) << stream;
    EXPECT_TRUE(absl::StrContains(published.err, absl::StrCat("stream ", stream, ": entry ")))
        << published.err;
    EXPECT_TRUE(absl::StrContains(published.err, "was not written by shmio")) << published.err;
    std::string dest = ShmPath("dest");
    Run mirrored = Shmio({"mirror", redis_flag_, absl::StrCat("--stream=", stream), dest,
                          "--capacity=65536"});
    EXPECT_EQ(mirrored.exit_code, 1) << stream;
    EXPECT_TRUE(absl::StrContains(mirrored.err, "was not written by shmio")) << mirrored.err;
    EXPECT_NE(access(dest.c_str(), F_OK), 0);
  }
  EXPECT_EQ(client_->Text({"XLEN", "auto"}), "1") << "nothing was added";
}

TEST_F(BridgeErrorsTest, AStreamPublishedFromAnotherLogIsRefused) {
  StartServer();
  std::string first = WriteLog("first", 20);
  ASSERT_EQ(Shmio({"publish", first, redis_flag_, "--stream=s", "--until-caught-up"}).exit_code, 0);
  // Shorter than the stream: the stream's last position is past its end.
  std::string shorter = WriteLog("shorter", 3);
  Run run = Shmio({"publish", shorter, redis_flag_, "--stream=s", "--until-caught-up"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(run.err, "published from another log")) << run.err;
  // As long, but other bytes (of the same size) at the stream's last
  // position.
  std::string other = ShmPath("other");
  {
    shmio::Options options;
    options.path = other;
    options.capacity = kCapacity;
    options.writable = true;
    auto shm = shmio::SharedMemory::Open(options);
    ASSERT_TRUE(shm.ok());
    auto pool = shmio::Pool::Create(shm->get());
    ASSERT_TRUE(pool.ok());
    for (uint64_t n = 0; n < 20; ++n) {
      std::string payload = NumberedPayload(n);
      if (n == 19) payload = std::string(payload.rbegin(), payload.rend());
      ASSERT_TRUE((*pool)->Append(absl::Span<const uint8_t>(
                                      reinterpret_cast<const uint8_t*>(payload.data()),
                                      payload.size()))
                      .ok());
    }
    ASSERT_TRUE((*pool)->Commit().ok());
  }
  run = Shmio({"publish", other, redis_flag_, "--stream=s", "--until-caught-up"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(run.err, "holds other bytes there")) << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, "published from another log")) << run.err;
  EXPECT_EQ(client_->Text({"XLEN", "s"}), "20") << "nothing was added";
}

TEST_F(BridgeErrorsTest, MirroringATrimmedStreamIntoAFreshFileIsRefusedAndLeavesNoFile) {
  StartServer();
  std::string log = WriteLog("log", 100);
  ASSERT_EQ(Shmio({"publish", log, redis_flag_, "--stream=s", "--maxlen=10", "--until-caught-up"})
                .exit_code,
            0);
  ASSERT_EQ(client_->Text({"XLEN", "s"}), "10");
  std::string dest = ShmPath("dest");
  Run run = Shmio({"mirror", redis_flag_, "--stream=s", dest, "--capacity=65536"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(run.err, "not 0: its older entries were trimmed")) << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, "holds positions from 0 only")) << run.err;
  EXPECT_NE(access(dest.c_str(), F_OK), 0) << "nothing was renumbered into a new file";
}

TEST_F(BridgeErrorsTest, AMirrorThatFellBehindTheTrimmingStopsAtTheGap) {
  StartServer();
  std::string log = ShmPath("log");
  absl::StatusOr<std::unique_ptr<TestLogWriter>> writer = OpenSingleFileWriter(log, kCapacity);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(20, 20).ok());
  ASSERT_EQ(Shmio({"publish", log, redis_flag_, "--stream=s", "--until-caught-up"}).exit_code, 0);
  std::string dest = ShmPath("dest");
  {
    ShmioChild mirror({"mirror", redis_flag_, "--stream=s", dest, "--capacity=65536"});
    ASSERT_TRUE(mirror.WaitForStderr("mirroring"));
    ASSERT_TRUE(WaitForLogEnd(dest, (*writer)->end_position()));
    mirror.Signal(SIGTERM);
    ASSERT_EQ(mirror.Wait(), 0);
  }
  uint64_t dest_end = (*writer)->end_position();
  // 50 more frames, and a stream trimmed to the last 10: positions from
  // dest_end to the 61st frame are gone.
  ASSERT_TRUE((*writer)->Write(50, 50).ok());
  ASSERT_EQ(Shmio({"publish", log, redis_flag_, "--stream=s", "--maxlen=10", "--until-caught-up"})
                .exit_code,
            0);
  Run run = Shmio({"mirror", redis_flag_, "--stream=s", dest});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(run.err, absl::StrCat("has no entry at position ", dest_end)))
      << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, "trimmed")) << run.err;
  absl::StatusOr<std::vector<Entry>> mirrored = ReadLog(dest);
  ASSERT_TRUE(mirrored.ok());
  EXPECT_EQ(mirrored->size(), 20u) << "DEST keeps what it had, nothing renumbered";
}

TEST_F(BridgeErrorsTest, AFullDestIsAnErrorThatKeepsWhatFitted) {
  StartServer();
  std::string log = WriteLog("log", 200);
  ASSERT_EQ(Shmio({"publish", log, redis_flag_, "--stream=s", "--until-caught-up"}).exit_code, 0);
  std::string dest = ShmPath("dest");
  Run run = Shmio({"mirror", redis_flag_, "--stream=s", dest, "--capacity=4096"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(run.err, "Shared memory exhausted")) << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, dest)) << run.err;
  absl::StatusOr<std::vector<Entry>> mirrored = ReadLog(dest);
  absl::StatusOr<std::vector<Entry>> source = ReadLog(log);
  ASSERT_TRUE(mirrored.ok() && source.ok());
  ASSERT_GT(mirrored->size(), 0u);
  source->resize(mirrored->size());
  EXPECT_EQ(Difference(*mirrored, *source), "") << "what fitted is the log's prefix";
}

// A listener that accepts connections and closes them at once: a Redis that
// is there and not there.
class ClosingListener {
 public:
  explicit ClosingListener(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address = {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    ok_ = bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
          listen(fd_, 16) == 0;
  }
  ~ClosingListener() { close(fd_); }
  bool ok() const { return ok_; }
  // Accepts one connection and closes it; false when none came in time.
  bool AcceptAndClose() {
    pollfd ready = {fd_, POLLIN, 0};
    if (poll(&ready, 1, 20000) != 1) return false;
    int connection = accept(fd_, nullptr, nullptr);
    if (connection < 0) return false;
    close(connection);
    return true;
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

TEST_F(BridgeErrorsTest, AnUnreachableRedisIsRetriedWithBackoffAndSaidOnce) {
  std::string log = WriteLog("log", 50);
  int port = FreeLoopbackPort();
  ShmioChild publisher(
      {"publish", log, absl::StrCat("--redis=127.0.0.1:", port), "--stream=s", "--until-caught-up"});
  {
    ClosingListener listener(port);
    ASSERT_TRUE(listener.ok());
    for (int attempt = 0; attempt < 4; ++attempt) {
      ASSERT_TRUE(listener.AcceptAndClose()) << "attempt " << attempt << ": " << publisher.err();
    }
  }
  RedisServerOptions options;
  options.dir = TempDir("redis");
  options.port = port;
  absl::StatusOr<std::unique_ptr<RedisServer>> server = RedisServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(publisher.Wait(), 0) << publisher.err();
  EXPECT_EQ(CountOf(publisher.err(), "retrying with backoff"), 1) << publisher.err();
  EXPECT_EQ(CountOf(publisher.err(), "connected again"), 1) << publisher.err();
  absl::StatusOr<std::unique_ptr<SyncRedis>> client = SyncRedis::Connect(port);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Text({"XLEN", "s"}), "50");
}

TEST_F(BridgeErrorsTest, AMissingLogIsAnErrorNamingIt) {
  StartServer();
  std::string log = ShmPath("missing");
  Run run = Shmio({"publish", log, redis_flag_, "--stream=s", "--until-caught-up"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(run.err, log)) << run.err;
}

TEST_F(BridgeErrorsTest, BadCommandLinesAreUsageErrors) {
  std::string log = WriteLog("log", 1);
  std::vector<std::vector<std::string>> cases = {
      {"publish", log, "--stream=s"},
      {"publish", log, "--redis=localhost", "--stream=s"},
      {"publish", log, "--redis=[::1:6379", "--stream=s"},
      {"publish", log, "--redis=localhost:0", "--stream=s"},
      {"publish", log, "--redis=localhost:6379"},
      {"publish", log, "--redis=localhost:6379", "--stream=s", "--maxlen=0"},
      {"publish", "--redis=localhost:6379", "--stream=s"},
      {"mirror", "--redis=localhost:6379", "--stream=s", ShmPath("missing")},
      {"mirror", "--redis=localhost:6379", "--stream=s", ShmPath("d"), "--capacity=x"},
  };
  for (const std::vector<std::string>& args : cases) {
    Run run = Shmio(args);
    EXPECT_EQ(run.exit_code, 2) << absl::StrJoin(args, " ") << ": " << run.err;
    EXPECT_TRUE(absl::StrContains(run.err, "usage: shmio")) << run.err;
  }
}

}  // namespace
}  // namespace bridge_test
