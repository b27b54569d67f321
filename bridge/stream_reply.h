// Reading Redis replies about streams: the entry arrays of XRANGE,
// XREVRANGE and XREAD, decoded into shmio entries (bridge/stream_id.h), and
// the replies that say what a key holds.
//
// Thread safety: pure functions; the entries view the reply, which must
// outlive them.
#ifndef BRIDGE_STREAM_REPLY_H_
#define BRIDGE_STREAM_REPLY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bridge/redis_address.h"
#include "bridge/stream_id.h"

struct redisReply;

namespace bridge {

// Decodes an array of [id, [field, value, ...]] (what XRANGE returns).
// FailedPrecondition for an entry shmio did not write (see DecodeEntry);
// DataLoss for a reply that is not shaped like a stream's entries.
absl::StatusOr<std::vector<StreamEntry>> DecodeEntries(absl::string_view stream,
                                                       const redisReply* entries);

// Decodes an XREAD reply for one stream: nil (the block timed out) is no
// entries; otherwise [[key, entries]].
absl::StatusOr<std::vector<StreamEntry>> DecodeXreadReply(absl::string_view stream,
                                                          const redisReply* reply);

// Checks a TYPE reply: OK for "stream" and "none" (no key yet);
// FailedPrecondition naming the key and its type otherwise.
absl::Status CheckStreamType(absl::string_view stream, const redisReply* reply);

// "stream KEY at redis HOST:PORT", how messages name a stream.
std::string StreamAt(absl::string_view stream, const RedisAddress& address);

// `status` with "redis HOST:PORT: " before its message.
absl::Status AtRedis(const RedisAddress& address, const absl::Status& status);

// An error reply (or an unexpected one) as a Status naming `what` ("XADD
// to stream KEY at redis HOST:PORT"); WRONGTYPE becomes FailedPrecondition.
absl::Status ReplyError(absl::string_view what, const redisReply* reply);

}  // namespace bridge

#endif  // BRIDGE_STREAM_REPLY_H_
