#pragma once
// What a connection-level command handler (PING, CONFIG, DBSIZE, SCAN...) gets.
// It runs on the client's thread. A handler that needs other shards calls
// suspend(): the connection then processes nothing else until the returned
// completion is invoked on the client's thread, after the reply was written.
#include <cstdint>
#include <functional>
#include <memory>

#include "protocol/arg_list.h"
#include "protocol/reply_builder.h"
#include "server/client_session.h"

namespace distcache::server {

struct CommandSpec;
class Server;
class ShardThread;
class Connection;

class ConnectionContext {
 public:
  ConnectionContext(const protocol::ArgList& args, protocol::ReplyBuilder& reply, ClientSession& session,
                    Server& server, ShardThread& thread, const CommandSpec& spec, int64_t now_ms,
                    Connection& connection)
      : args(args), reply(reply), session(session), server(server), thread(thread), spec(spec),
        now_ms(now_ms), connection_(connection) {}

  const protocol::ArgList& args;
  protocol::ReplyBuilder& reply;
  ClientSession& session;
  Server& server;
  ShardThread& thread;  // the client's thread
  const CommandSpec& spec;
  int64_t now_ms;

  // Makes the command asynchronous; call the returned function on the
  // client's thread once the reply has been written to `reply`.
  std::function<void()> suspend();

  // Runs `on_shard` on every shard's thread concurrently, then `then` on the
  // client's thread. Suspends the command; `then` writes the reply.
  // `on_shard` must touch only the shard it is given (and its own result slot).
  // If a shard's thread runs a script past busy-reply-threshold meanwhile, the
  // client is answered BUSY (server/scripting/busy_clients.cpp), as Redis
  // answers a command sent during a busy script, and the command has no
  // effect: every shard is first reached without running anything, and
  // `on_shard` runs only once the client is known not to have been answered.
  void for_each_shard(std::function<void(ShardThread&)> on_shard, std::function<void()> then);
  // The same for a command whose `on_shard` only reads (DBSIZE, KEYS, INFO...):
  // one visit of the shards, whose results are dropped if the client was
  // answered BUSY meanwhile (then `then` never runs).
  void for_each_shard_reading(std::function<void(ShardThread&)> on_shard, std::function<void()> then);

  // Like for_each_shard, but under an exclusive lock of every whole shard
  // held at once (FLUSHALL, SWAPDB): no multi-key command straddles it.
  // `then` runs on the client's thread once every lock is held, before
  // `on_shard` runs on each shard (still under the locks); neither runs if
  // the client was answered BUSY while waiting.
  void for_each_shard_exclusive(std::function<void(ShardThread&)> on_shard, std::function<void()> then);

  // Set by EXEC for the commands it runs: it already holds every shard's
  // lock, and it continues with the next command when one finishes.
  bool holds_all_shards = false;
  std::function<std::function<void()>()> suspend_override;

  Connection& connection() { return connection_; }

  // For a suspended command that waits for other shards: the claim to check
  // before it replies; false when the client was answered BUSY meanwhile (a
  // script ran past busy-reply-threshold, server/scripting/busy_clients.cpp).
  // Empty inside EXEC or a script, which hold the shards: nothing waits; and
  // for the commands Redis runs during a busy script (WATCH, MULTI...).
  std::function<bool()> busy_claim();

 private:
  void fan_out(std::function<void(ShardThread&)> on_shard, std::function<void()> then, bool changes);

  Connection& connection_;
};

}  // namespace distcache::server
