#include "node/src/chain_core.h"

#include <utility>
#include <vector>

#include "node/src/chain_reader_core.h"
#include "node/src/env_state.h"
#include "node/src/subscription_core.h"
#include "shmio/chain_files.h"

namespace shmio_node {

absl::StatusOr<std::shared_ptr<ChainCore>> ChainCore::Open(EnvState* env,
                                                           shmio::ChainOptions options,
                                                           bool writable) {
  std::string directory = options.directory;
  const bool debug = options.debug_checks;
  std::unique_ptr<shmio::ChainWriter> writer;
  if (writable) {
    absl::StatusOr<std::unique_ptr<shmio::ChainWriter>> opened =
        shmio::ChainWriter::Open(std::move(options));
    if (!opened.ok()) return opened.status();
    writer = *std::move(opened);
  } else {
    // Only to refuse a directory that is not a chain now, with the core's
    // words; each reader opens the files itself.
    absl::StatusOr<std::shared_ptr<shmio::ChainFiles>> files =
        shmio::ChainFiles::Open(directory, debug);
    if (!files.ok()) return files.status();
  }
  return std::shared_ptr<ChainCore>(
      new ChainCore(env, std::move(directory), debug, std::move(writer)));
}

ChainCore::ChainCore(EnvState* env, std::string directory, bool debug_checks,
                     std::unique_ptr<shmio::ChainWriter> writer)
    : env_(env),
      directory_(std::move(directory)),
      debug_checks_(debug_checks),
      writer_(std::move(writer)) {
  env_->chains.insert(this);
}

ChainCore::~ChainCore() {
  Close();
  if (env_ != nullptr) env_->chains.erase(this);
}

bool ChainCore::WriterMoved() const {
  return writer_ != nullptr && (view_ == nullptr || writer_->rolls() != view_rolls_);
}

absl::StatusOr<napi_value> ChainCore::WriterWindow(napi_env env) {
  if (writer_ == nullptr) return absl::FailedPreconditionError(directory_ + " has no writer here");
  if (WriterMoved()) {
    absl::StatusOr<std::shared_ptr<WriterView>> view = WriterView::Map(writer_->current_file());
    if (!view.ok()) return view.status();
    // The writer has left the previous view's file: its descriptor may go
    // (its Buffers keep the mapping).
    if (view_ != nullptr) view_->ReleaseDescriptor();
    view_ = *std::move(view);
    view_rolls_ = writer_->rolls();
  }
  return shmio_node::WriterWindow(env, view_);
}

void ChainCore::Close() {
  if (closed_) return;
  closed_ = true;
  // Frames appended but not committed are lost, as in C++. The writer goes
  // first: its descriptors hold the locks; the view's goes after it.
  writer_.reset();
  if (view_ != nullptr) view_->ReleaseDescriptor();
  view_.reset();
  std::vector<ChainReaderCore*> readers(readers_.begin(), readers_.end());
  for (ChainReaderCore* reader : readers) reader->Close();
  std::vector<SubscriptionCore*> subscriptions(subscriptions_.begin(), subscriptions_.end());
  for (SubscriptionCore* sub : subscriptions) sub->Close();
}

}  // namespace shmio_node
