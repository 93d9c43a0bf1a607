#pragma once
namespace distcache::server {
class ConnectionContext;
// INFO [section ...]: Redis 7.0's sections and field names.
void info_command(ConnectionContext& ctx);
}  // namespace distcache::server
