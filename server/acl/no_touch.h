#pragma once
// CLIENT NO-TOUCH (Redis 7.2; Redis 7.0.15 does not know it): the commands of
// a client with the flag on do not update the LRU/LFU access information of
// the keys they look up (OBJECT IDLETIME / FREQ and eviction see no access),
// except TOUCH, which still does. A script run by such a client does not touch
// either (as Redis: the flag goes with the calling client's command).
//
// Key lookups skip the update while storage::access::t_no_touch is set on the
// thread doing them (storage/db.cpp). The places that run a client's command
// (on the client's thread or on the thread owning the keys, and the per-key
// steps of cross-shard commands and of EXEC) open a ClientNoTouchScope there;
// for clients without the flag it costs one predictable branch.
#include "server/client_session.h"
#include "server/command.h"
#include "storage/access_meta.h"

namespace distcache::server::acl {

// Whether `spec` run by `session` must leave access information alone.
inline bool no_touch_for(const ClientSession& session, const CommandSpec& spec) {
  return session.no_touch && spec.name != "touch";
}

class ClientNoTouchScope {
 public:
  // The command `spec` of `session`: inside EXEC, set per queued command (a
  // queued TOUCH touches even though EXEC itself does not).
  ClientNoTouchScope(const ClientSession& session, const CommandSpec& spec) : active_(session.no_touch) {
    if (active_) [[unlikely]] {
      saved_ = storage::access::t_no_touch;
      storage::access::t_no_touch = spec.name != "touch";
    }
  }
  // A step of a command already decided with no_touch_for() (e.g. on another thread).
  explicit ClientNoTouchScope(bool no_touch) : active_(no_touch) {
    if (active_) [[unlikely]] {
      saved_ = storage::access::t_no_touch;
      storage::access::t_no_touch = true;
    }
  }
  ~ClientNoTouchScope() {
    if (active_) [[unlikely]]
      storage::access::t_no_touch = saved_;
  }
  ClientNoTouchScope(const ClientNoTouchScope&) = delete;
  ClientNoTouchScope& operator=(const ClientNoTouchScope&) = delete;

 private:
  bool active_;
  bool saved_ = false;
};

}  // namespace distcache::server::acl
