// MULTI, EXEC, DISCARD, WATCH, UNWATCH. The machinery is in server/multi_exec.cpp.
#include "server/command_table.h"
#include "server/multi_exec.h"

namespace distcache::server {
namespace {

constexpr uint32_t kTxFlags = kCmdNoscript | kCmdLoading | kCmdStale;
constexpr uint64_t kTxAcl = kAclTransaction;

const CommandSpec kTransactionCommands[] = {
    {.name = "multi", .arity = 1, .flags = kTxFlags | kCmdFast | kCmdAllowBusy, .acl = kTxAcl | kAclFast,
     .connection = multi_command, .group = "transactions", .summary = "Starts a transaction.",
     .since = "1.2.0", .complexity = "O(1)"},
    {.name = "exec", .arity = 1, .flags = kTxFlags | kCmdSkipSlowlog, .acl = kTxAcl | kAclSlow,
     .connection = exec_command, .group = "transactions",
     .summary = "Runs all commands queued since MULTI as one atomic step.", .since = "1.2.0",
     .complexity = "Depends on commands in the transaction"},
    {.name = "discard", .arity = 1, .flags = kTxFlags | kCmdFast | kCmdAllowBusy, .acl = kTxAcl | kAclFast,
     .connection = discard_command, .group = "transactions",
     .summary = "Drops the commands queued since MULTI.", .since = "2.0.0",
     .complexity = "O(N), when N is the number of queued commands"},
    {.name = "watch", .arity = -2, .flags = kTxFlags | kCmdFast | kCmdAllowBusy, .acl = kTxAcl | kAclFast,
     .first_key = 1, .last_key = -1, .key_step = 1, .connection = watch_command, .group = "transactions",
     .summary = "Makes the next EXEC fail if any of these keys changes before it.", .since = "2.2.0",
     .complexity = "O(1) for every key."},
    {.name = "unwatch", .arity = 1, .flags = kTxFlags | kCmdFast | kCmdAllowBusy, .acl = kTxAcl | kAclFast,
     .connection = unwatch_command, .group = "transactions", .summary = "Forgets all watched keys.",
     .since = "2.2.0", .complexity = "O(1)"},
};

}  // namespace

std::span<const CommandSpec> transaction_command_specs() { return kTransactionCommands; }

}  // namespace distcache::server
