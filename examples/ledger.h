// The bank ledger of the event-sourcing examples: recording its events in
// place in a log (through a shmio::Pool or a shmio::ChainWriter, which
// both have Wrap<T>()), and the state a consumer rebuilds from them.
#ifndef EXAMPLES_LEDGER_H_
#define EXAMPLES_LEDGER_H_

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>

#include "absl/types/span.h"
#include "examples/events.h"

namespace examples {

inline uint64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

// Builds a T in place in the log (packed, so no copy and no alignment
// trouble) and stamps its header.
template <typename T, typename Writer>
T* Record(Writer& writer, MsgType type) {
  auto event = writer.template Wrap<T>();
  if (!event.ok()) {
    std::fprintf(stderr, "writer: %s\n", event.status().ToString().c_str());
    _exit(1);
  }
  (*event)->header = {type, NowNs()};
  return *event;
}

// Opens accounts 0, 1 and 2.
template <typename Writer>
void RecordAccounts(Writer& writer) {
  const char* owners[] = {"ada", "grace", "linus"};
  for (uint32_t account = 0; account < 3; ++account) {
    auto* opened = Record<AccountOpened>(writer, MsgType::kAccountOpened);
    opened->account = account;
    std::memcpy(opened->owner, owners[account],
                std::min(sizeof opened->owner, std::strlen(owners[account])));
  }
}

// Moves `first` to `first + count`: two deposits, then a withdrawal.
template <typename Writer>
void RecordMoves(Writer& writer, int first, int count) {
  for (int i = first; i < first + count; ++i) {
    if (i % 3 != 2) {
      auto* deposit = Record<Deposited>(writer, MsgType::kDeposited);
      deposit->account = (i / 3) % 3;
      deposit->amount_cents = 100 * (i % 7 + 1);
    } else {
      auto* withdrawal = Record<Withdrawn>(writer, MsgType::kWithdrawn);
      withdrawal->account = (i / 3) % 3;
      withdrawal->amount_cents = 50 * (i % 5 + 1);
    }
  }
}

// The state a consumer rebuilds from the events.
struct Ledger {
  std::map<uint32_t, std::string> owners;
  std::map<uint32_t, int64_t> balance_cents;
  uint64_t applied = 0;
  uint64_t expected = 0;  // from EndOfStream
  bool ended = false;

  void Apply(absl::Span<const uint8_t> payload) {
    const uint8_t* p = payload.data();
    switch (TypeOf(p)) {
      case MsgType::kAccountOpened: {
        auto* e = reinterpret_cast<const AccountOpened*>(p);
        owners[e->account] = std::string(e->owner, strnlen(e->owner, 16));
        break;
      }
      case MsgType::kDeposited:
        balance_cents[reinterpret_cast<const Deposited*>(p)->account] +=
            reinterpret_cast<const Deposited*>(p)->amount_cents;
        break;
      case MsgType::kWithdrawn:
        balance_cents[reinterpret_cast<const Withdrawn*>(p)->account] -=
            reinterpret_cast<const Withdrawn*>(p)->amount_cents;
        break;
      case MsgType::kEndOfStream:
        expected = reinterpret_cast<const EndOfStream*>(p)->frames_sent;
        ended = true;
        return;
      default:
        return;
    }
    ++applied;
  }

  void Print() const {
    for (const auto& [account, owner] : owners) {
      auto it = balance_cents.find(account);
      std::printf("account %u (%s): %.2f\n", account, owner.c_str(),
                  (it == balance_cents.end() ? 0 : it->second) / 100.0);
    }
  }
};

}  // namespace examples

#endif  // EXAMPLES_LEDGER_H_
