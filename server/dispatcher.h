#pragma once
// From a parsed command to its reply: table lookup, arity checks, routing to
// the shard(s) owning the keys, and execution (see docs/architecture.md).
#include "protocol/arg_list.h"
#include "protocol/reply_builder.h"
#include "storage/keyspace.h"

namespace distcache::server {

class Connection;
struct CommandSpec;
struct Config;

// Runs one command for `conn`. The reply is written to conn.reply(), either
// before returning or, if the command had to suspend the connection, later.
void dispatch_command(Connection& conn, const protocol::ArgList& args);

// Runs a keyed command's handler against `keyspace`.
void run_keyed(const CommandSpec& spec, const protocol::ArgList& args, protocol::ReplyBuilder& reply,
               storage::Keyspace& keyspace, int db, int64_t now_ms, const Config& config);

}  // namespace distcache::server
