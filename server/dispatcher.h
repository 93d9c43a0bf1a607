#pragma once
// From a parsed command to its reply: table lookup, arity checks, routing to
// the shard(s) owning the keys, execution, and blocking (see docs/architecture.md).
#include <memory>

#include "protocol/arg_list.h"
#include "protocol/reply_builder.h"
#include "server/command.h"
#include "storage/keyspace.h"

namespace distcache::server {

class Connection;
struct Config;
struct BlockedClient;

// Runs one command for `conn`. The reply is written to conn.reply(), either
// before returning or, if the command had to suspend the connection, later.
void dispatch_command(Connection& conn, const protocol::ArgList& args);

struct KeyedOutcome {
  bool blocked = false;  // the handler called block() and wrote no reply
  bool rerun_globally = false;  // a script asks to run as a global transaction (script_runner.h)
  int64_t timeout_ms = 0;
  CommandContext::TimeoutReply timeout_reply = CommandContext::TimeoutReply::kNullArray;
};

// Runs a keyed command's handler against `keyspace`.
// `changed`, when given, receives the keys the command changed (WATCH).
KeyedOutcome run_keyed(const CommandSpec& spec, const protocol::ArgList& args, protocol::ReplyBuilder& reply,
                       storage::Keyspace& keyspace, int db, int64_t now_ms, const Config& config,
                       bool may_block = true, ChangedKeys* changed = nullptr);

// Re-runs a blocked multi-shard command on its client's thread (it was woken).
void retry_multi_shard_blocked(const std::shared_ptr<BlockedClient>& client);

}  // namespace distcache::server
