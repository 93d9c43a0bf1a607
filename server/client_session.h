#pragma once
// Per-connection state that commands read and change (SELECT, HELLO, CLIENT
// SETNAME ...). Plain data: owned by the Connection, touched only on its thread.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace distcache::server {

struct MultiState;  // multi_exec.h
struct WatchState;  // watch.h
namespace acl {
struct User;  // server/acl/acl.h
}

struct ClientSession {
  uint64_t id = 0;
  int db = 0;
  int resp = 2;
  std::string name;
  std::string lib_name;
  std::string lib_version;
  std::string peer;            // "ip:port"
  std::string local;           // "ip:port"
  int fd = -1;
  int64_t created_ms = 0;
  int64_t last_interaction_ms = 0;
  std::string_view last_command = "NULL";  // points into the static command table
  bool authenticated = true;
  std::string user = "default";
  // The compiled permissions of `user`, refetched when the ACL generation moves (server/acl/acl.h).
  std::shared_ptr<const acl::User> acl_user;
  uint64_t acl_generation = 0;
  bool close_after_reply = false;
  uint64_t commands_processed = 0;
  // Pub/sub subscriptions (the names are kept by server/pubsub.h).
  uint32_t subscribed_channels = 0;
  uint32_t subscribed_patterns = 0;
  uint32_t subscribed_shard_channels = 0;
  bool subscribed() const { return subscribed_channels + subscribed_patterns + subscribed_shard_channels > 0; }
  std::shared_ptr<MultiState> multi;  // set between MULTI and EXEC/DISCARD
  std::shared_ptr<WatchState> watch;  // set while keys are watched
  // CLIENT REPLY / NO-EVICT / NO-TOUCH, MONITOR, output buffer limits (server/ops.h).
  enum ReplyMode : uint8_t { kReplyOn, kReplyOff, kReplySkipNext, kReplySkipThis };
  uint8_t reply_mode = kReplyOn;
  std::string* saved_reply_buffer = nullptr;  // the real output while replies are discarded
  bool no_evict = false;
  bool no_touch = false;
  bool monitor = false;
  int64_t obuf_soft_limit_since_ms = 0;
  int64_t accounted_memory = 0;  // this client's bytes as last counted for maxmemory-clients (server/ops.h)
  // Cluster mode (server/cluster/redirect.h): ASKING for the next command, READONLY,
  // and a command whose redirection check already passed (re-dispatched).
  bool cluster_asking = false;
  bool cluster_readonly = false;
  bool cluster_routed = false;
  bool cluster_asked = false;  // ASKING applies to the command being run (checked again where its keys are)
};

}  // namespace distcache::server
