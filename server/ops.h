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

// MONITOR: feed one command to the monitoring clients.
extern std::atomic<int> monitor_count;
void feed_monitors_slow(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args);
inline void feed_monitors(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args) {
  if (monitor_count.load(std::memory_order_relaxed) != 0) feed_monitors_slow(conn, spec, args);
}
void add_monitor(Connection& conn);

// client-output-buffer-limit for normal clients: true when `conn` went over
// its limits and was closed.
bool enforce_output_limits(Connection& conn);

// supervised systemd (or auto under systemd): READY=1 to $NOTIFY_SOCKET.
void notify_supervisor_ready(const Config& config);
void notify_supervisor_stopping(const Config& config);

// tcp-keepalive: SO_KEEPALIVE with Redis's probe timings (0 = off).
void apply_tcp_keepalive(int fd, int64_t interval_s);

// CLIENT REPLY ON|OFF|SKIP applied to the connection's reply builder.
void apply_reply_mode(Connection& conn);

}  // namespace ops
}  // namespace distcache::server
