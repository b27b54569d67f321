// ChainCore: one chain (a directory of files, shmio/chain_writer.h) as the
// addon holds it for a JS chain log: its writer (shmio::ChainWriter) when
// opened writable, the view of the writer's current file that JS writes
// payloads through (chain_window.h), and the readers and subscriptions
// opened on it, which it closes when it closes.
//
// Lifetime: shared by the JS Chain object, its ChainReaders and its
// subscriptions. Close() (from JS, the JS object's finalizer, or env
// teardown) drops the writer (its locks go: DIR/writer.lock and the
// current file's), closes every reader (a named reader's name is free
// again) and subscription. Window Buffers keep their files mapped on
// their own (chain_window.h).
//
// Thread safety: the env's thread only.
#ifndef NODE_SRC_CHAIN_CORE_H_
#define NODE_SRC_CHAIN_CORE_H_

#include <node_api.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "node/src/chain_window.h"
#include "node/src/subscription_owner.h"
#include "shmio/chain_writer.h"

namespace shmio_node {

struct EnvState;
class ChainReaderCore;

class ChainCore : public SubscriptionOwner {
 public:
  // With `writable`, opens (options.create: creates) the chain as its one
  // writer (ChainWriter::Open's errors: a second writer names its pid).
  // Read-only, checks that options.directory holds a chain (NotFound, or
  // FailedPrecondition for a directory that is not one).
  static absl::StatusOr<std::shared_ptr<ChainCore>> Open(EnvState* env,
                                                         shmio::ChainOptions options,
                                                         bool writable);
  ~ChainCore() override;
  ChainCore(const ChainCore&) = delete;
  ChainCore& operator=(const ChainCore&) = delete;

  bool closed() const { return closed_; }
  const std::string& directory() const { return directory_; }
  bool debug_checks() const { return debug_checks_; }
  // Null when read-only or closed.
  shmio::ChainWriter* writer() const { return writer_.get(); }

  // A window Buffer over the writer's current file; a new view after each
  // roll (the previous one's descriptor is released). Writable only.
  absl::StatusOr<napi_value> WriterWindow(napi_env env);
  // True when the writer rolled since the last WriterWindow().
  bool WriterMoved() const;

  // See the class comment. Idempotent.
  void Close();

  EnvState* env() const override { return env_; }
  void AddSubscription(SubscriptionCore* sub) override { subscriptions_.insert(sub); }
  void SubscriptionClosed(SubscriptionCore* sub) override { subscriptions_.erase(sub); }
  void AddReader(ChainReaderCore* reader) { readers_.insert(reader); }
  void ReaderGone(ChainReaderCore* reader) { readers_.erase(reader); }
  // Called when the env's state goes (see LogCore::DetachEnv).
  void DetachEnv() { env_ = nullptr; }

 private:
  ChainCore(EnvState* env, std::string directory, bool debug_checks,
            std::unique_ptr<shmio::ChainWriter> writer);

  EnvState* env_;  // null once the env's state is gone
  const std::string directory_;
  const bool debug_checks_;
  std::unique_ptr<shmio::ChainWriter> writer_;
  std::shared_ptr<WriterView> view_;  // of the writer's current file, once asked for
  uint64_t view_rolls_ = 0;           // writer_->rolls() when view_ was made
  std::set<SubscriptionCore*> subscriptions_;  // open or closing; not owned
  std::set<ChainReaderCore*> readers_;         // not owned
  bool closed_ = false;
};

}  // namespace shmio_node

#endif  // NODE_SRC_CHAIN_CORE_H_
