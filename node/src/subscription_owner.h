// SubscriptionOwner: what a SubscriptionCore is opened on (a LogCore, one
// file, or a ChainCore, a chain's directory). The owner closes its
// subscriptions when it closes, and hears when each has finished closing
// (uvwatch's last close callback), because a LogCore's SharedMemory is
// borrowed by its subscriptions until then.
//
// Thread safety: the env's thread only.
#ifndef NODE_SRC_SUBSCRIPTION_OWNER_H_
#define NODE_SRC_SUBSCRIPTION_OWNER_H_

namespace shmio_node {

struct EnvState;
class SubscriptionCore;

class SubscriptionOwner {
 public:
  virtual ~SubscriptionOwner() = default;
  // Null once the env's state is gone (see LogCore::DetachEnv).
  virtual EnvState* env() const = 0;
  virtual void AddSubscription(SubscriptionCore* sub) = 0;
  // Called from the subscription's last close callback.
  virtual void SubscriptionClosed(SubscriptionCore* sub) = 0;
};

}  // namespace shmio_node

#endif  // NODE_SRC_SUBSCRIPTION_OWNER_H_
