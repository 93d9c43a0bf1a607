#pragma once
// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: saves dump.rdb, empties the
// dataset and loads the file back, as one step no other client can observe
// halfway (tests use it to check what survives a restart).
namespace distcache::server {

class ConnectionContext;

void debug_reload(ConnectionContext& ctx);

}  // namespace distcache::server
