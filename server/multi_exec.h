#pragma once
// MULTI/EXEC/DISCARD and WATCH/UNWATCH.
//
// Between MULTI and EXEC the dispatcher queues commands here instead of
// running them. EXEC then runs the queue as one indivisible step: when every
// key is on the client's own shard and nothing else holds them, inline and
// synchronously; otherwise as one shard transaction (transaction.h) that
// locks every key of every queued and watched command - or every whole shard
// when a queued command works on the whole keyspace (FLUSHALL, DBSIZE, KEYS) -
// and runs the commands one by one, each on the thread owning its keys.
// Watched keys are checked once those locks are held (watch.h).
#include <vector>

#include "protocol/arg_list.h"

namespace distcache::server {

struct CommandSpec;
struct ClientSession;
class Connection;
class ConnectionContext;
class Server;

struct QueuedCommand {
  const CommandSpec* spec;
  protocol::ArgList args;
};

struct MultiState {
  std::vector<QueuedCommand> queued;
  bool aborted = false;  // a command was rejected while queueing: EXEC answers EXECABORT
};

// For a client in MULTI: queues the command and replies QUEUED, unless it is
// one that acts at once (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET). Returns
// true when it was queued.
bool queue_in_multi(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args);

// Whether the client's queued transaction holds a command that may write.
bool transaction_may_write(const ClientSession& session);

// A command rejected before it could be queued (unknown, wrong arity, NOAUTH)
// makes the client's EXEC fail, as in Redis.
void flag_multi_error(ClientSession& session);

// The command handlers (commands/transaction_commands.cpp declares the specs).
void multi_command(ConnectionContext& ctx);
void exec_command(ConnectionContext& ctx);
void discard_command(ConnectionContext& ctx);
void watch_command(ConnectionContext& ctx);
void unwatch_command(ConnectionContext& ctx);

// Drops the client's transaction and watched keys (UNWATCH, RESET, disconnect).
void forget_transaction_state(Server& server, ClientSession& session);

}  // namespace distcache::server
