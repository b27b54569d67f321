// Busy-poll IPC: the lowest-latency way to read a log. A client process
// sends orders on one log; a server process answers each with an ack on a
// second log. Neither side sleeps: each waits with Consumer::SpinUntilNew()
// and reads with Consumer::Poll(). Use this when a reader owns a core; a
// reader that may sleep wants uvwatch (see batched_ipc).
//
//   ./bazelw run //examples:busy_poll_ipc
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "examples/events.h"
#include "shmio/consumer.h"
#include "shmio/pool.h"
#include "shmio/shared_memory.h"

namespace {

constexpr int kOrders = 1000;

// One process's two logs: the one it writes and the one it reads.
struct Side {
  std::unique_ptr<shmio::SharedMemory> out_log;
  std::unique_ptr<shmio::Pool> out;
  std::unique_ptr<shmio::SharedMemory> in_log;
  std::unique_ptr<shmio::Consumer> in;
};

absl::Status OpenOut(const std::string& path, Side* side) {
  shmio::Options options;
  options.path = path;
  options.capacity = 1 << 20;
  options.writable = true;
  options.prefault = true;  // no page fault on the hot path
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) return shm.status();
  auto pool = shmio::Pool::Create(shm->get());
  if (!pool.ok()) return pool.status();
  side->out_log = *std::move(shm);
  side->out = *std::move(pool);
  return absl::OkStatus();
}

absl::Status OpenIn(const std::string& path, Side* side) {
  shmio::Options options;
  options.path = path;
  options.prefault = true;
  auto shm = shmio::SharedMemory::Open(options);
  if (!shm.ok()) return shm.status();
  side->in_log = *std::move(shm);
  side->in = std::make_unique<shmio::Consumer>(side->in_log.get());
  return absl::OkStatus();
}

// Spins until one frame arrives on `side.in` and hands it to `handle`.
// Errors: the log's, or DeadlineExceeded when the peer went quiet for 10 s.
template <typename Handle>
absl::Status ReceiveOne(Side& side, Handle&& handle) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (side.in->SpinUntilNew(deadline)) {
    absl::StatusOr<size_t> frames = side.in->Poll(handle, /*max_frames=*/1);
    if (!frames.ok()) return frames.status();
    if (*frames == 1) return absl::OkStatus();
  }
  return absl::DeadlineExceededError("the peer sent nothing for 10 s");
}

// The server: acks every order until the end of the stream.
int RunServer(const std::string& orders, const std::string& acks, int ready_fd) {
  Side side;
  absl::Status status = OpenOut(acks, &side);
  if (status.ok()) status = OpenIn(orders, &side);
  if (!status.ok() || write(ready_fd, "r", 1) != 1) return 1;
  bool done = false;
  absl::Status replied;  // what answering the last order gave
  while (!done && status.ok() && replied.ok()) {
    status = ReceiveOne(side, [&](const shmio::Frame& frame) {
      if (examples::TypeOf(frame.payload.data()) == examples::MsgType::kEndOfStream) {
        done = true;
        return;
      }
      auto* order = reinterpret_cast<const examples::Order*>(frame.payload.data());
      auto ack = side.out->Wrap<examples::Ack>();
      if (!ack.ok()) {
        replied = ack.status();
        return;
      }
      (*ack)->header.msg_type = examples::MsgType::kAck;
      (*ack)->order_id = order->order_id;
      replied = side.out->Commit();  // one ack per commit: it goes out now
    });
  }
  if (status.ok()) status = replied;
  if (!status.ok()) std::fprintf(stderr, "server: %s\n", status.ToString().c_str());
  return status.ok() ? 0 : 1;
}

}  // namespace

int main() {
  const std::string orders = absl::StrFormat("/dev/shm/shmio-orders-%d", getpid());
  const std::string acks = absl::StrFormat("/dev/shm/shmio-acks-%d", getpid());
  Side client;
  absl::Status status = OpenOut(orders, &client);
  if (!status.ok()) {
    std::fprintf(stderr, "client: %s\n", status.ToString().c_str());
    return 1;
  }
  int ready[2];
  if (pipe(ready) != 0) return 1;
  pid_t server = fork();
  if (server == 0) {
    close(ready[0]);
    _exit(RunServer(orders, acks, ready[1]));
  }
  close(ready[1]);
  char byte;
  if (read(ready[0], &byte, 1) == 1) status = OpenIn(acks, &client);
  else status = absl::InternalError("the server process failed to start");

  std::vector<int64_t> round_trip_ns;
  int acked_in_order = 0;
  for (int id = 0; id < kOrders && status.ok(); ++id) {
    const auto start = std::chrono::steady_clock::now();
    auto order = client.out->Wrap<examples::Order>();
    if (!order.ok()) {
      status = order.status();
      break;
    }
    (*order)->header.msg_type = examples::MsgType::kOrder;
    (*order)->order_id = static_cast<uint64_t>(id);
    (*order)->quantity = 1;
    status = client.out->Commit();
    if (status.ok()) {
      status = ReceiveOne(client, [&](const shmio::Frame& frame) {
        auto* ack = reinterpret_cast<const examples::Ack*>(frame.payload.data());
        if (ack->header.msg_type == examples::MsgType::kAck &&
            ack->order_id == static_cast<uint64_t>(id)) {
          ++acked_in_order;
        }
      });
    }
    round_trip_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now() - start)
                                .count());
  }
  auto end = client.out->Wrap<examples::EndOfStream>();
  if (end.ok()) {
    (*end)->header.msg_type = examples::MsgType::kEndOfStream;
    (*end)->frames_sent = kOrders;
    (void)client.out->Commit();
  }
  int server_status = 0;
  waitpid(server, &server_status, 0);
  unlink(orders.c_str());
  unlink(acks.c_str());

  std::sort(round_trip_ns.begin(), round_trip_ns.end());
  const bool ok = status.ok() && acked_in_order == kOrders &&
                  WIFEXITED(server_status) && WEXITSTATUS(server_status) == 0;
  if (!status.ok()) std::fprintf(stderr, "client: %s\n", status.ToString().c_str());
  std::printf("client: %d orders, %d acked in order; median round trip %lld ns "
              "(both processes spinning)\n%s\n",
              kOrders, acked_in_order,
              round_trip_ns.empty()
                  ? 0LL
                  : static_cast<long long>(round_trip_ns[round_trip_ns.size() / 2]),
              ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
