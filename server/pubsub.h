#pragma once
// Pub/sub across threads, and keyspace notifications.
//
// Subscribers are connections, and every connection lives on one shard
// thread. Each thread keeps its own maps channel -> subscribers and
// pattern -> subscribers, touched only on that thread. A process-wide summary
// (sharded maps under mutexes, updated on SUBSCRIBE/UNSUBSCRIBE only when a
// thread gains its first or loses its last subscriber of a name) tells a
// publisher which threads have subscribers of a channel and which threads
// have pattern subscriptions at all, so publishing to a channel nobody
// listens to posts nothing. A message is delivered on the subscriber's own
// thread: directly when the publisher is on it, else posted there; PUBLISH
// suspends its client until every thread it posted to reported how many
// subscribers received the message, then replies the exact sum.
//
// Ordering: posts between two threads run in FIFO order and a publishing
// client waits for its reply, so one client's messages reach each subscriber
// in publish order. Keyspace events raised while a command runs are queued on
// the raising thread and sent after the command (also to subscribers of the
// same thread), in the order they were raised; any message delivered later
// on that thread (a PUBLISH there, or a message posted from elsewhere) first
// sends the queued events. (A self-post alone would not do: Asio runs posts a
// thread makes to its own loop after posts other threads made meanwhile.)
//
// Pending output of subscribers is bounded by client-output-buffer-limit's
// pubsub class: over the hard limit, or over the soft limit for longer than
// its seconds, the subscriber is disconnected.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "protocol/reply_builder.h"
#include "server/client_session.h"
#include "server/command.h"

namespace distcache::storage {
class Keyspace;
}

namespace distcache::server {

class Connection;
class ShardThread;

// The subscriptions of one connection (owned by the Connection, touched only
// on its thread). The counts are mirrored in its ClientSession.
struct ClientSubscriptions {
  std::unordered_set<std::string> channels;
  std::unordered_set<std::string> shard_channels;
  std::vector<std::string> patterns;  // in subscription order (PUNSUBSCRIBE lists them so)
  int64_t soft_limit_since_ms = 0;    // output over the soft limit since (0 = not over)
};

// --- hooks for the dispatcher, RESET and connection close

// RESP2 clients with subscriptions may run only (P|S)SUBSCRIBE,
// (P|S)UNSUBSCRIBE, PING, QUIT and RESET. Returns false, having replied
// Redis's error, for any other command.
bool pubsub_command_allowed(const ClientSession& session, const CommandSpec& spec, protocol::ReplyBuilder& reply);

// PING of a subscribed RESP2 client replies ["pong", <arg> or ""]. Returns
// true when it wrote that reply (the PING handler then does nothing else).
bool pubsub_ping(const ClientSession& session, const protocol::ArgList& args, protocol::ReplyBuilder& reply);

// Drops every subscription of the connection without replying (RESET, and
// the connection closing). Runs on the connection's thread.
void pubsub_unsubscribe_all(Connection& conn);

// --- keyspace events raised by storage ("new", "expired") around copies
// Multi-shard commands run their handler over a scratch keyspace of copies.
// While a ScratchKeyspaceEvents lives on a thread, storage events of
// `scratch` are reported (create it after the copies were loaded, just
// before the handler runs); while a QuietKeyspaceEvents lives, storage
// events are not reported (writing the results back to the owning shards,
// which would otherwise report "new" keys a second time).
class ScratchKeyspaceEvents {
 public:
  explicit ScratchKeyspaceEvents(const storage::Keyspace& scratch);
  ~ScratchKeyspaceEvents();
  ScratchKeyspaceEvents(const ScratchKeyspaceEvents&) = delete;
  ScratchKeyspaceEvents& operator=(const ScratchKeyspaceEvents&) = delete;

 private:
  const storage::Keyspace* previous_;
};
class QuietKeyspaceEvents {
 public:
  QuietKeyspaceEvents();
  ~QuietKeyspaceEvents();
  QuietKeyspaceEvents(const QuietKeyspaceEvents&) = delete;
  QuietKeyspaceEvents& operator=(const QuietKeyspaceEvents&) = delete;
};

// --- publishing from C++ (keyspace notifications use this)

// Publishes `message` on `channel` from the current shard thread, to
// subscribers of every thread, without waiting for a receiver count.
// Subscribers on the current thread receive it after the running command.
// Does nothing outside shard threads.
void publish_message(std::string_view channel, std::string_view message);
// The same for callers that cannot wait for the other threads (PUBLISH and
// SPUBLISH inside scripts): also returns the number of subscribers (patterns
// included) as the process-wide summary counts them at this moment.
int64_t publish_message_counted(std::string_view channel, std::string_view message, bool shard_channel = false);

// Test hook: without shard threads (unit tests), keyspace events are handed
// to `sink` instead, filtered by `flags` (notify:: bits, as the option would
// set them). `keyspace` maps storage Dbs to database numbers for the "new"
// and "expired" events raised by storage. Pass a null sink to remove it.
using KeyspaceEventSink = std::function<void(int db, std::string_view event, std::string_view key)>;
void set_keyspace_event_sink(uint32_t flags, const storage::Keyspace* keyspace, KeyspaceEventSink sink);

}  // namespace distcache::server
