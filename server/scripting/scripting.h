#pragma once
// Redis 7.0 scripting: EVAL scripts and FUNCTION libraries on Lua 5.1.
//
// Process-wide state (shared by all threads, behind mutexes): the script
// cache (sha1 -> body, filled by EVAL and SCRIPT LOAD), the function
// libraries, the registry of running scripts (SCRIPT KILL, FUNCTION STATS,
// BUSY) and the math.random generator. Per thread: one sandboxed Lua
// interpreter for EVAL and one for functions, created lazily; each compiles
// cached bodies / library code on first use, and is rebuilt when SCRIPT FLUSH
// or a FUNCTION change happened on any thread.
//
// No Lua header is included here; only server/scripting/*.cpp see Lua.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "server/command.h"
#include "server/scripting/script_host.h"
#include "server/transaction.h"

namespace distcache::server {
class Connection;
class ShardThread;
}

namespace distcache::server::scripting {

// Script flags: "#!lua flags=..." of EVAL scripts and the flags of
// redis.register_function, with Redis's names.
enum ScriptFlag : uint32_t {
  kFlagNoWrites = 1u << 0,            // no-writes
  kFlagAllowOom = 1u << 1,            // allow-oom
  kFlagAllowStale = 1u << 2,          // allow-stale
  kFlagNoCluster = 1u << 3,           // no-cluster
  kFlagAllowCrossSlotKeys = 1u << 4,  // allow-cross-slot-keys
};
// Flag names in Redis's order (FUNCTION LIST).
std::vector<std::string_view> flag_names(uint32_t flags);

// ---------------------------------------------------------------------------
// Running scripts. Both parse the command's arguments (numkeys errors
// included), run the script with `host` for redis.call and write the reply,
// in the RESP version of ctx.reply.

// EVAL / EVAL_RO (by_sha false) and EVALSHA / EVALSHA_RO (by_sha true):
// args: name script-or-sha numkeys key... arg...
void run_eval(CommandContext& ctx, ScriptHost& host, bool by_sha, bool read_only_command);
// FCALL / FCALL_RO: args: name function numkeys key... arg...
void run_fcall(CommandContext& ctx, ScriptHost& host, bool read_only_command);

// ---------------------------------------------------------------------------
// SCRIPT

// SCRIPT LOAD: validates the shebang, compiles and caches the body. Returns
// the sha1 (true) or Redis's error text without '-' (false).
bool script_load(std::string_view body, std::string& sha_or_error);
// SCRIPT EXISTS (case-insensitive hex).
bool script_exists(std::string_view sha);
// SCRIPT FLUSH: empties the cache; every thread recreates its EVAL interpreter.
void script_flush();
size_t cached_script_count();

// ---------------------------------------------------------------------------
// FUNCTION

struct FunctionInfo {
  std::string name;
  bool has_description = false;
  std::string description;
  uint32_t flags = 0;
};
struct LibraryInfo {
  std::string name;
  std::string code;  // as loaded, shebang included
  std::vector<FunctionInfo> functions;
};

// FUNCTION LOAD [REPLACE]: returns the library name (true) or the error text (false).
bool function_load(std::string_view code, bool replace, std::string& name_or_error);
// FUNCTION DELETE: false if there is no such library (case-sensitive name).
bool function_delete(std::string_view library);
// FUNCTION FLUSH.
void function_flush();
// FUNCTION LIST: every library, sorted by name.
std::vector<LibraryInfo> function_list();
size_t function_count();
size_t function_library_count();
// FUNCTION DUMP: Redis's payload (FUNCTION2 opcodes, RDB version 10, CRC64),
// which redis-server can restore and vice versa.
std::string function_dump();
enum class RestorePolicy { kAppend, kReplace, kFlush };
// FUNCTION RESTORE: all or nothing. Returns false with the error text.
bool function_restore(std::string_view payload, RestorePolicy policy, std::string& error);

// For RDB files (persistence): the code of every library, and loading one
// (same rules and errors as FUNCTION LOAD).
std::vector<std::string> function_library_codes();

// ---------------------------------------------------------------------------
// Long-running scripts

// Whether a script or function is running on any thread, and for how long
// (milliseconds, the longest-running one). For the server's BUSY replies:
// Redis answers other clients with busy_error() once a script has run longer
// than busy-reply-threshold (lua-time-limit), until it ends or is killed.
bool script_running();
int64_t running_script_elapsed_ms();
// busy-reply-threshold (alias lua-time-limit) in milliseconds, from CONFIG.
int64_t busy_reply_threshold_ms(const Config& config);
// "BUSY Redis is busy running a script. You can only call SCRIPT KILL or
// SHUTDOWN NOSAVE." (FUNCTION KILL when the running script is a function).
std::string_view busy_error();

// The dispatcher's BUSY hook: true when `spec` must be answered with
// busy_error() because a script has run longer than busy-reply-threshold
// (commands flagged allow_busy pass, SHUTDOWN only with NOSAVE).
bool busy_refuses(const CommandSpec& spec, const protocol::ArgList& args, const Config& config);

// Busy mode (busy_clients.cpp): called from the Lua hook of a script running
// past busy-reply-threshold, serves the other idle clients of the current
// thread (BUSY replies, SCRIPT KILL...) without touching any data;
// end_busy_mode() when the script is over.
void serve_busy_clients();
void script_thread_enter();  // a script starts on this thread
void end_busy_mode();        // ... and ended (busy or not)
// From each thread's cron: a client of that thread still waiting for a
// command dispatched before a script passed busy-reply-threshold gets BUSY.
void busy_cron(ShardThread& thread);
// For a command of `conn` (already suspended) that runs as a multi-shard
// transaction (server/transaction.h): takes the connection's wait ticket so
// that busy_cron() / busy mode can answer it BUSY (EXECABORT for EXEC) while
// the transaction still waits for a lock, and returns the claim that gives
// the transaction up then (`abandoned` runs on the connection's thread).
ClientClaim busy_answerable(Connection& conn, std::function<void()> abandoned = {});
// For the listener: every new client handed to thread `index` is also
// offered here; if that thread runs a script past busy-reply-threshold before
// the ordinary hand-over reached it, its busy-mode pass runs `adopt`
// (creating the connection there). The hand-over withdraws the offer first.
uint64_t offer_new_client(unsigned index, std::function<void()> adopt);
void withdraw_new_client(uint64_t id);
// For the listener: the thread a new client accepted for thread `target`
// should go to (another one while a script runs on `target`, if any).
unsigned new_client_thread(unsigned target, unsigned thread_count);

// SCRIPT KILL (function_kill false) / FUNCTION KILL: stops the longest-running
// script with "ERR Script killed by user with SCRIPT KILL..." unless it has
// written. Returns "" (killed: reply +OK) or the error text to reply.
std::string kill_running_script(bool function_kill);

// FUNCTION STATS' running_script entry.
struct RunningFunction {
  std::string name;
  std::vector<std::string> command;
  int64_t duration_ms = 0;
};
// Returns false when an EVAL script (not a function) is running: FUNCTION
// STATS then replies busy_error(). `out` is left empty when nothing runs.
bool running_function(std::vector<RunningFunction>& out);

// Bytes used by this thread's Lua interpreters (INFO used_memory_lua).
size_t lua_memory_bytes();

}  // namespace distcache::server::scripting
