// Where a Redis server listens, as the CLI's --redis=HOST:PORT gives it.
//
// Thread safety: pure functions.
#ifndef BRIDGE_REDIS_ADDRESS_H_
#define BRIDGE_REDIS_ADDRESS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace bridge {

struct RedisAddress {
  std::string host;  // a name or an address; "::1" for [::1]:6379
  int port = 0;

  std::string ToString() const;  // "host:port", "[::1]:6379"
};

// Parses "HOST:PORT" (and "[IPV6]:PORT"); the port is 1..65535.
// InvalidArgument naming the text otherwise.
absl::StatusOr<RedisAddress> ParseRedisAddress(absl::string_view text);

}  // namespace bridge

#endif  // BRIDGE_REDIS_ADDRESS_H_
