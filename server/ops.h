#pragma once
// Operational hooks around command processing: MONITOR, CLIENT PAUSE,
// CLIENT REPLY, output buffer limits of normal clients, rejected-command
// accounting, and the supervisor's readiness notification. The connection
// and the dispatcher call these through one-line hooks; everything else
// lives in ops.cpp.
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/arg_list.h"

namespace distcache::server {

class Connection;
class ConnectionContext;
struct CommandSpec;
struct Config;
class Server;
class ShardThread;

namespace ops {

// Runs one parsed command of `conn` (wraps dispatch_command): applies CLIENT
// REPLY, records refused commands (rejected_calls, errorstats).
void dispatch(Connection& conn, const protocol::ArgList& args);

// CLIENT PAUSE: called by the connection at a command boundary with the
// unparsed input. When the next command must wait, suspends the connection
// (it resumes by itself when the pause ends) and returns true.
extern std::atomic<int> pause_mode;  // 0 none, 1 WRITE, 2 ALL
bool pause_hold_slow(Connection& conn, std::string_view input);
inline bool pause_hold(Connection& conn, std::string_view input) {
  return pause_mode.load(std::memory_order_relaxed) != 0 && pause_hold_slow(conn, input);
}
void pause_clients(int64_t until_ms, int mode);
void unpause_clients();

// MONITOR: feed one command to the monitoring clients, as Redis 7.0 shows
// them: a client's commands as they run (also those EXEC runs, in order, and
// then EXEC itself), scripts' redis.call commands as "[<db> lua]" after the
// EVAL / FCALL line. The dispatcher and EXEC call feed_monitors for each
// command; EXEC's own line waits for feed_monitors_exec_done (EXEC's end).
extern std::atomic<int> monitor_count;
void feed_monitors_slow(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args);
inline void feed_monitors(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args) {
  if (monitor_count.load(std::memory_order_relaxed) != 0) feed_monitors_slow(conn, spec, args);
}
void feed_monitors_exec_done_slow(Connection& conn);
inline void feed_monitors_exec_done(Connection& conn) {
  if (monitor_count.load(std::memory_order_relaxed) != 0) feed_monitors_exec_done_slow(conn);
}
// A command a script runs (redis.call / redis.pcall) in database `db`.
void feed_monitors_script_slow(const CommandSpec& spec, const protocol::ArgList& args, int db);
inline void feed_monitors_script(const CommandSpec& spec, const protocol::ArgList& args, int db) {
  if (monitor_count.load(std::memory_order_relaxed) != 0) feed_monitors_script_slow(spec, args, db);
}
void add_monitor(Connection& conn);

// client-output-buffer-limit for normal clients, and maxmemory-clients (see
// below), after the connection read and ran commands: true when `conn` was
// closed.
bool enforce_output_limits(Connection& conn);

// maxmemory-clients (Redis 7.0 client eviction). A client's memory is
// Connection::memory_usage() (CLIENT LIST tot-mem: query buffer, argv,
// queued MULTI commands, output buffers, fixed overhead). Every shard thread
// keeps the total of its own clients in an atomic (its clients' last counted
// sizes: updated after each read, recounted by its cron); the limit holds
// for the sum over all threads. Over it, the thread holding the biggest
// evictable client (not CLIENT NO-EVICT) disconnects it, biggest first,
// until the total is back under the limit; a thread whose biggest client is
// smaller than another thread's asks that thread to run the check. Each
// eviction counts in INFO stats evicted_clients. The limit: the option's
// bytes, or its percentage of maxmemory (0 when maxmemory is 0); at least
// 128 KiB when set (as Redis).
void client_eviction_config_changed();  // maxmemory / maxmemory-clients changed (Config::on_set)
uint64_t evicted_clients();
void reset_evicted_clients();  // CONFIG RESETSTAT
void client_eviction_cron(ShardThread& thread);

// supervised systemd (or auto under systemd): READY=1 to $NOTIFY_SOCKET.
void notify_supervisor_ready(const Config& config);
void notify_supervisor_stopping(const Config& config);

// tcp-keepalive: SO_KEEPALIVE with Redis's probe timings (0 = off).
void apply_tcp_keepalive(int fd, int64_t interval_s);

// CLIENT REPLY ON|OFF|SKIP applied to the connection's reply builder.
void apply_reply_mode(Connection& conn);

}  // namespace ops
}  // namespace distcache::server
