#pragma once
// The cluster command family (server/commands/cluster_commands.cpp): CLUSTER *,
// ASKING, READONLY, READWRITE, MIGRATE.
#include <cstddef>
#include <cstdint>
#include <span>

#include "server/command.h"

namespace distcache::server {
std::span<const CommandSpec> cluster_command_specs();
// MIGRATE's cached connections of the calling shard thread: those unused for
// 10 s are closed (called by ShardThread::cron), and how many are open.
void migrate_close_idle_sockets(int64_t now_ms);
size_t migrate_cached_sockets();
}  // namespace distcache::server
