// Typed events for the examples, in the shape bendec's C++ generator emits
// for a schema: a type-tag enum, a common header, and packed structs with
// fixed-width fields (alignof 1, so Pool::Wrap<T>() can build them in
// place in the log, where payloads are unaligned).
#ifndef EXAMPLES_EVENTS_H_
#define EXAMPLES_EVENTS_H_

#include <cstdint>

namespace examples {

enum class MsgType : uint16_t {
  kAccountOpened = 1,
  kDeposited = 2,
  kWithdrawn = 3,
  kLogEntry = 4,
  kOrder = 5,
  kEndOfStream = 6,  // the writer is done; readers close
  kAck = 7,
};

struct Header {
  MsgType msg_type;
  uint64_t timestamp_ns;
} __attribute__((packed));

// event_sourcing: a bank ledger.
struct AccountOpened {
  Header header;
  uint32_t account;
  char owner[16];
} __attribute__((packed));

struct Deposited {
  Header header;
  uint32_t account;
  int64_t amount_cents;
} __attribute__((packed));

struct Withdrawn {
  Header header;
  uint32_t account;
  int64_t amount_cents;
} __attribute__((packed));

// system_monitoring: a log line; the text follows the struct in the frame.
enum class Level : uint8_t { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

struct LogEntry {
  Header header;
  Level level;
  uint16_t text_length;  // bytes of text after this struct
} __attribute__((packed));

// batched_ipc: a request sent in batches.
struct Order {
  Header header;
  uint64_t order_id;
  uint32_t instrument;
  int32_t quantity;
  int64_t price_ticks;
} __attribute__((packed));

// busy_poll_ipc: the reply to an Order.
struct Ack {
  Header header;
  uint64_t order_id;
} __attribute__((packed));

struct EndOfStream {
  Header header;
  uint64_t frames_sent;  // not counting this one
} __attribute__((packed));

static_assert(alignof(AccountOpened) == 1 && alignof(Deposited) == 1 &&
              alignof(Withdrawn) == 1 && alignof(LogEntry) == 1 &&
              alignof(Order) == 1 && alignof(Ack) == 1 &&
              alignof(EndOfStream) == 1);

// The tag of a payload (every event starts with a Header).
inline MsgType TypeOf(const uint8_t* payload) {
  return reinterpret_cast<const Header*>(payload)->msg_type;
}

}  // namespace examples

#endif  // EXAMPLES_EVENTS_H_
