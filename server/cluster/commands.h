#pragma once
// The cluster command family (server/commands/cluster_commands.cpp): CLUSTER *,
// ASKING, READONLY, READWRITE, MIGRATE.
#include <span>

#include "server/command.h"

namespace distcache::server {
std::span<const CommandSpec> cluster_command_specs();
}  // namespace distcache::server
