#pragma once
// Handlers of administration subcommands that live in other families' tables
// (CLIENT in connection_commands.cpp, MEMORY in memory_commands.cpp), written
// in ops_commands.cpp.
#include <span>

#include "server/command.h"

namespace distcache::server {

class ConnectionContext;

// The SLOWLOG, LATENCY, MONITOR, LOLWUT and DEBUG commands.
std::span<const CommandSpec> ops_command_specs();

// CLIENT subcommands.
void client_list_command(ConnectionContext& ctx);
void client_kill_command(ConnectionContext& ctx);
void client_pause_command(ConnectionContext& ctx);
void client_unpause_command(ConnectionContext& ctx);
void client_reply_command(ConnectionContext& ctx);
void client_no_evict_command(ConnectionContext& ctx);
void client_no_touch_command(ConnectionContext& ctx);
void client_setinfo_command(ConnectionContext& ctx);
void client_help_command(ConnectionContext& ctx);

// MEMORY subcommands.
void memory_stats_command(ConnectionContext& ctx);
void memory_doctor_command(ConnectionContext& ctx);
void memory_purge_command(ConnectionContext& ctx);
void memory_malloc_stats_command(ConnectionContext& ctx);

// DEBUG SET-ACTIVE-EXPIRE: the shards' cron skips active expiry when false.
bool active_expire_enabled();

}  // namespace distcache::server
