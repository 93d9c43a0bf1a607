// The Lua engine: per-thread sandboxed interpreters for EVAL and for FUNCTION
// libraries, the `redis` API, the conversions between Lua values and RESP, and
// running scripts with Redis 7.0's error reporting and SCRIPT KILL support.
//
// The sandbox (as redis-server 7.0 sets it up, checked against 7.0.15):
//  - libraries: base (without dofile, loadfile, print, getfenv, setfenv,
//    newproxy), table, string, math, coroutine, cjson, bit, struct, cmsgpack;
//    no os, io, package or debug;
//  - the globals and every library table are read only. Redis patches Lua
//    for that; with Debian's stock Lua 5.1 each protected table is an empty
//    proxy whose metatable reads through to the real table and rejects writes
//    ("Attempt to modify a readonly table"). next / pairs / ipairs / rawget /
//    rawset / getmetatable / setmetatable see through the proxies; reading an
//    undefined global raises "Script attempted to access nonexistent global
//    variable 'x'";
//  - bytecode is never loaded (EVAL bodies, library code, load/loadstring
//    chunks starting with "\27" fail to parse as text, as in redis-server);
//  - pcall turns error tables into their message; math.random is Redis's
//    process-wide rand48 generator.
// Lua errors are longjmps: every place that may raise one keeps only
// trivially destructible C++ locals, and everything that may raise outside a
// script runs under lua_cpcall.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <strings.h>

#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>

#include "server/command.h"
#include "server/commands/arg_util.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/log.h"
#include "server/scripting/engine_internal.h"
#include "server/scripting/lua_libs.h"
#include "server/scripting/sha1.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/version.h"

extern "C" {
int luaopen_cjson(lua_State* L);
int luaopen_bit(lua_State* L);
}

namespace distcache::server::scripting {
namespace {

using namespace detail;

constexpr int kHookInstructions = 100000;  // instructions between SCRIPT KILL checks
constexpr int64_t kLoadTimeoutMs = 500;    // FUNCTION LOAD
constexpr int kGcPeriod = 50;              // a GC step every this many scripts

// Addresses used as light userdata keys in proxy metatables.
char kRealKey;     // the table a read-only proxy stands for
char kExposedKey;  // what getmetatable() returns for the proxy (absent: nil)

constexpr std::string_view kReadonlyError = "Attempt to modify a readonly table";

struct RunContext {
  ScriptHost* host = nullptr;
  RunningEntry* running = nullptr;
  int resp = 2;  // redis.setresp
  const Config* config = nullptr;
  int64_t busy_threshold_ms = -1;  // read at the first hook call (long scripts only)
  int64_t last_busy_pass_ms = -1;  // serve_busy_clients()
  bool slow_logged = false;
};

struct LoadContext {
  std::vector<FunctionInfo>* functions = nullptr;
  int64_t deadline_ms = 0;
};

class Interpreter {
 public:
  enum class Kind { kEval, kFunction };
  explicit Interpreter(Kind k) : kind(k) {}
  ~Interpreter() {
    if (L) lua_close(L);
  }
  bool init();

  lua_State* L = nullptr;
  Kind kind;
  int globals_ref = LUA_NOREF;     // the real globals table
  int globals_mt_ref = LUA_NOREF;  // metatable of the globals proxy
  int lib_api_ref = LUA_NOREF;     // functions: the globals while a library loads
  int functions_ref = LUA_NOREF;   // sha (EVAL) or lower-cased name (FUNCTION) -> function
  int handler_ref = LUA_NOREF;     // the error handler
};

struct TransparentHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

struct ThreadEngine {
  std::unique_ptr<Interpreter> eval;
  uint64_t eval_generation = 0;
  std::unordered_map<std::string, std::shared_ptr<const CachedScript>, TransparentHash, std::equal_to<>> compiled;
  std::unique_ptr<Interpreter> functions;
  uint64_t functions_generation = 0;
  RunContext* run = nullptr;
  LoadContext* load = nullptr;
  protocol::ArgList call_args;
  std::string call_reply;
  int gc_count = 0;

  Interpreter* eval_interpreter();
  Interpreter* function_interpreter();
};

ThreadEngine& engine() {
  thread_local ThreadEngine e;
  return e;
}

// Runs fn(L) in protected mode: a Lua error inside (out of memory, a failing
// metamethod) returns false instead of panicking. fn must not leave C++
// objects with destructors on any frame a Lua error can jump over. The
// trampoline is created once per interpreter (lua_cpcall would allocate a
// closure on every call).
char kTrampolineKey;

struct ProtectedCall {
  void (*fn)(lua_State*, void*);
  void* ctx;
};

int protected_trampoline(lua_State* L) {
  auto* call = static_cast<ProtectedCall*>(lua_touserdata(L, 1));
  lua_settop(L, 0);
  call->fn(L, call->ctx);
  return 0;
}

template <typename Fn>
bool protected_run(lua_State* L, Fn& fn) {
  ProtectedCall call{[](lua_State* L, void* ctx) { (*static_cast<Fn*>(ctx))(L); }, &fn};
  lua_settop(L, 0);
  lua_pushlightuserdata(L, &kTrampolineKey);
  lua_rawget(L, LUA_REGISTRYINDEX);
  lua_pushlightuserdata(L, &call);
  if (lua_pcall(L, 1, 0, 0) != 0) {
    const char* msg = lua_tostring(L, -1);
    server::log(LogLevel::kWarning, "Lua error outside of a script: {}", msg ? msg : "(not a string)");
    lua_settop(L, 0);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Error tables: {err = "CODE message"}, as redis-server builds them.

// `raw` is "-CODE message" (the code is the first word) or a plain message
// (code ERR). Leading and trailing CR/LF of the message are dropped.
void push_error_table(lua_State* L, std::string_view raw) {
  raw = raw.substr(0, raw.find('\0'));
  std::string_view code = "ERR", msg = raw;
  if (!raw.empty() && raw[0] == '-') {
    std::string_view rest = raw.substr(1);
    size_t space = rest.find(' ');
    if (space == std::string_view::npos) {
      msg = rest;
    } else {
      code = rest.substr(0, space);
      msg = rest.substr(space + 1);
    }
  }
  while (!msg.empty() && (msg.front() == '\r' || msg.front() == '\n')) msg.remove_prefix(1);
  while (!msg.empty() && (msg.back() == '\r' || msg.back() == '\n')) msg.remove_suffix(1);
  lua_newtable(L);
  lua_pushlstring(L, code.data(), code.size());
  lua_pushliteral(L, " ");
  lua_pushlstring(L, msg.data(), msg.size());
  lua_concat(L, 3);
  lua_setfield(L, -2, "err");
}

[[noreturn]] void raise_error_table(lua_State* L, std::string_view msg) {
  push_error_table(L, msg);
  lua_error(L);
  __builtin_unreachable();
}

// ---------------------------------------------------------------------------
// RESP reply -> Lua value (redis.call's result).

struct ReplyCursor {
  const char* p;
  const char* end;

  std::string_view line() {
    const char* start = p;
    while (p + 1 < end && !(p[0] == '\r' && p[1] == '\n')) ++p;
    std::string_view l(start, static_cast<size_t>(p - start));
    p += 2;
    return l;
  }
  int64_t number() {
    std::string_view l = line();
    int64_t v = 0;
    std::from_chars(l.data(), l.data() + l.size(), v);
    return v;
  }
  std::string_view bytes(int64_t n) {
    std::string_view s(p, static_cast<size_t>(n));
    p += n + 2;
    return s;
  }
};

void push_reply(lua_State* L, ReplyCursor& c);

void push_reply_error(lua_State* L, std::string_view text) {
  // The reply's error text with its '-' is handed over as is.
  lua_pushliteral(L, "-");
  lua_pushlstring(L, text.data(), text.size());
  lua_concat(L, 2);
  size_t len;
  const char* s = lua_tolstring(L, -1, &len);
  push_error_table(L, std::string_view(s, len));
  lua_remove(L, -2);
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, "ignore_error_stats_update");
}

void push_reply(lua_State* L, ReplyCursor& c) {
  luaL_checkstack(L, 5, "reached lua stack limit");
  const char type = *c.p++;
  switch (type) {
    case '+': {
      std::string_view s = c.line();
      lua_newtable(L);
      lua_pushlstring(L, s.data(), s.size());
      lua_setfield(L, -2, "ok");
      return;
    }
    case '-':
      push_reply_error(L, c.line());
      return;
    case ':':
      lua_pushnumber(L, static_cast<lua_Number>(c.number()));
      return;
    case '$': {
      int64_t n = c.number();
      if (n < 0) {
        lua_pushboolean(L, 0);
        return;
      }
      std::string_view s = c.bytes(n);
      lua_pushlstring(L, s.data(), s.size());
      return;
    }
    case '!': {
      int64_t n = c.number();
      push_reply_error(L, c.bytes(n));
      return;
    }
    case '*':
    case '>': {
      int64_t n = c.number();
      if (n < 0) {
        lua_pushboolean(L, 0);
        return;
      }
      lua_createtable(L, static_cast<int>(std::min<int64_t>(n, 1 << 20)), 0);
      for (int64_t i = 0; i < n; ++i) {
        lua_pushnumber(L, static_cast<lua_Number>(i + 1));
        push_reply(L, c);
        lua_settable(L, -3);
      }
      return;
    }
    case '%': {
      int64_t n = c.number();
      lua_newtable(L);
      lua_newtable(L);
      for (int64_t i = 0; i < n; ++i) {
        push_reply(L, c);
        push_reply(L, c);
        lua_settable(L, -3);
      }
      lua_setfield(L, -2, "map");
      return;
    }
    case '~': {
      int64_t n = c.number();
      lua_newtable(L);
      lua_newtable(L);
      for (int64_t i = 0; i < n; ++i) {
        push_reply(L, c);
        lua_pushboolean(L, 1);
        lua_settable(L, -3);
      }
      lua_setfield(L, -2, "set");
      return;
    }
    case '|': {  // attribute: parsed and dropped, the reply follows
      int64_t n = c.number();
      for (int64_t i = 0; i < 2 * n; ++i) {
        push_reply(L, c);
        lua_pop(L, 1);
      }
      push_reply(L, c);
      return;
    }
    case '_':
      c.line();
      lua_pushnil(L);
      return;
    case '#': {
      std::string_view s = c.line();
      lua_pushboolean(L, !s.empty() && s[0] == 't');
      return;
    }
    case ',': {
      std::string_view s = c.line();
      char buf[128];
      size_t n = std::min(s.size(), sizeof(buf) - 1);
      std::memcpy(buf, s.data(), n);
      buf[n] = '\0';
      lua_newtable(L);
      lua_pushnumber(L, std::strtod(buf, nullptr));
      lua_setfield(L, -2, "double");
      return;
    }
    case '(': {
      std::string_view s = c.line();
      lua_newtable(L);
      lua_pushlstring(L, s.data(), s.size());
      lua_setfield(L, -2, "big_number");
      return;
    }
    case '=': {
      int64_t n = c.number();
      std::string_view s = c.bytes(n);
      std::string_view format = s.substr(0, std::min<size_t>(3, s.size()));
      std::string_view text = s.size() > 4 ? s.substr(4) : std::string_view();
      lua_newtable(L);
      lua_newtable(L);
      lua_pushlstring(L, format.data(), format.size());
      lua_setfield(L, -2, "format");
      lua_pushlstring(L, text.data(), text.size());
      lua_setfield(L, -2, "string");
      lua_setfield(L, -2, "verbatim_string");
      return;
    }
    default:  // not produced by our reply builder
      c.line();
      lua_pushnil(L);
      return;
  }
}

// ---------------------------------------------------------------------------
// Lua value -> RESP reply (the script's result). `script_resp` is the
// script's redis.setresp (booleans), the client's RESP is out.resp().

void write_double(protocol::ReplyBuilder& out, double d) {
  if (std::isnan(d)) {  // printf("%.17g") as redis-server formats it keeps the sign of a NaN
    std::string_view text = std::signbit(d) ? "-nan" : "nan";
    if (out.resp() >= 3) {
      out.raw(",");
      out.raw(text);
      out.raw("\r\n");
    } else {
      out.bulk(text);
    }
    return;
  }
  out.double_value(d);
}

void write_crlf_mapped(protocol::ReplyBuilder& out, std::string_view s) {
  size_t start = out.buffer()->size();
  out.raw(s);
  std::string& b = *out.buffer();
  for (size_t i = start; i < b.size(); ++i)
    if (b[i] == '\r' || b[i] == '\n') b[i] = ' ';
}

void write_reply(lua_State* L, protocol::ReplyBuilder& out, int script_resp);

// Counts the entries of the table on top (map / set replies).
size_t table_size(lua_State* L) {
  size_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    ++n;
  }
  return n;
}

void write_table(lua_State* L, protocol::ReplyBuilder& out, int script_resp) {
  // {err = "..."}: an error reply (trailing CR/LF dropped, others become spaces).
  lua_pushliteral(L, "err");
  lua_rawget(L, -2);
  if (lua_type(L, -1) == LUA_TSTRING) {
    std::string_view msg(lua_tostring(L, -1));
    while (!msg.empty() && (msg.back() == '\r' || msg.back() == '\n')) msg.remove_suffix(1);
    out.error(msg);
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  lua_pushliteral(L, "ok");
  lua_rawget(L, -2);
  if (lua_type(L, -1) == LUA_TSTRING) {
    out.simple(std::string_view(lua_tostring(L, -1)));
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  lua_pushliteral(L, "double");
  lua_rawget(L, -2);
  if (lua_type(L, -1) == LUA_TNUMBER) {
    write_double(out, lua_tonumber(L, -1));
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  lua_pushliteral(L, "big_number");
  lua_rawget(L, -2);
  if (lua_type(L, -1) == LUA_TSTRING) {
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    if (out.resp() >= 3) {
      out.raw("(");
      write_crlf_mapped(out, std::string_view(s, len));
      out.raw("\r\n");
    } else {
      char header[32];
      int n = std::snprintf(header, sizeof(header), "$%zu\r\n", len);
      out.raw(std::string_view(header, static_cast<size_t>(n)));
      write_crlf_mapped(out, std::string_view(s, len));
      out.raw("\r\n");
    }
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  lua_pushliteral(L, "verbatim_string");
  lua_rawget(L, -2);
  if (lua_type(L, -1) == LUA_TTABLE) {
    lua_pushliteral(L, "format");
    lua_rawget(L, -2);
    if (lua_type(L, -1) == LUA_TSTRING) {
      const char* format = lua_tostring(L, -1);
      lua_pushliteral(L, "string");
      lua_rawget(L, -3);
      if (lua_type(L, -1) == LUA_TSTRING) {
        size_t len;
        const char* s = lua_tolstring(L, -1, &len);
        if (out.resp() >= 3) {
          char header[48];
          int n = std::snprintf(header, sizeof(header), "=%zu\r\n", len + 4);
          out.raw(std::string_view(header, static_cast<size_t>(n)));
          char ext[4] = {' ', ' ', ' ', ':'};  // the format, padded with spaces to 3 characters
          for (int i = 0; i < 3 && *format != '\0'; ++i) ext[i] = *format++;
          out.raw(std::string_view(ext, 4));
          out.raw(std::string_view(s, len));
          out.raw("\r\n");
        } else {
          out.bulk(std::string_view(s, len));
        }
        lua_pop(L, 3);
        return;
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_pushliteral(L, "map");
  lua_rawget(L, -2);
  if (lua_type(L, -1) == LUA_TTABLE) {
    out.map(table_size(L));
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pushvalue(L, -2);
      write_reply(L, out, script_resp);  // key (the copy)
      write_reply(L, out, script_resp);  // value
    }
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  lua_pushliteral(L, "set");
  lua_rawget(L, -2);
  if (lua_type(L, -1) == LUA_TTABLE) {
    out.set(table_size(L));
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      write_reply(L, out, script_resp);
    }
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  // An array: elements 1, 2, ... up to the first nil.
  size_t n = 0;
  while (true) {
    lua_rawgeti(L, -1, static_cast<int>(n + 1));
    bool nil = lua_isnil(L, -1);
    lua_pop(L, 1);
    if (nil) break;
    ++n;
  }
  out.array(n);
  for (size_t j = 1; j <= n; ++j) {
    lua_rawgeti(L, -1, static_cast<int>(j));
    write_reply(L, out, script_resp);
  }
}

// Writes the value on top of the stack and pops it.
void write_reply(lua_State* L, protocol::ReplyBuilder& out, int script_resp) {
  if (!lua_checkstack(L, 4)) {
    out.error("ERR reached lua stack limit");
    lua_pop(L, 1);
    return;
  }
  switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
      size_t len;
      const char* s = lua_tolstring(L, -1, &len);
      out.bulk(std::string_view(s, len));
      break;
    }
    case LUA_TBOOLEAN:
      if (script_resp == 2) {
        if (lua_toboolean(L, -1))
          out.integer(1);
        else
          out.null_bulk();
      } else {
        out.boolean(lua_toboolean(L, -1) != 0);
      }
      break;
    case LUA_TNUMBER:
      out.integer(x86_double_to_int64(lua_tonumber(L, -1)));
      break;
    case LUA_TTABLE:
      write_table(L, out, script_resp);
      break;
    default:
      out.null_bulk();
      break;
  }
  lua_pop(L, 1);
}

// The reply for a failed script: the error object is on top (a table made
// by the error handler, or a message).
void write_script_error(lua_State* L, protocol::ReplyBuilder& out, std::string_view name) {
  int top = lua_gettop(L);
  if (!lua_istable(L, -1)) {
    const char* msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : "execution failure";
    lua_pushliteral(L, "ERR Error running script ");
    lua_pushlstring(L, name.data(), name.size());
    lua_pushliteral(L, ", ");
    lua_pushlstring(L, msg, strnlen(msg, 100));
    lua_concat(L, 4);
    out.error(std::string_view(lua_tostring(L, -1)));
    lua_settop(L, top - 1);
    return;
  }
  lua_getfield(L, top, "err");
  const bool has_msg = lua_isstring(L, -1) != 0;
  lua_getfield(L, top, "source");
  const bool has_source = lua_isstring(L, -1) != 0;
  lua_getfield(L, top, "line");
  const bool has_line = lua_isstring(L, -1) != 0;
  if (!has_msg) {
    out.error("ERR unknown error");
    lua_settop(L, top - 1);
    return;
  }
  // C strings, as redis-server formats them.
  lua_pushstring(L, lua_tostring(L, top + 1));
  if (has_source && has_line) {
    lua_pushliteral(L, " script: ");
    lua_pushlstring(L, name.data(), name.size());
    lua_pushliteral(L, ", on ");
    lua_pushstring(L, lua_tostring(L, top + 2));
    lua_pushliteral(L, ":");
    lua_pushstring(L, lua_tostring(L, top + 3));
    lua_pushliteral(L, ".");
    lua_concat(L, 8);
  }
  size_t len;
  const char* s = lua_tolstring(L, -1, &len);
  out.error(std::string_view(s, len));
  lua_settop(L, top - 1);
}

// ---------------------------------------------------------------------------
// The sandbox: read-only proxies and the base functions that see through them.

// If the value at `idx` is a read-only proxy, pushes the real table and returns true.
bool push_real_table(lua_State* L, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return false;
  lua_pushlightuserdata(L, &kRealKey);
  lua_rawget(L, -2);
  if (lua_istable(L, -1)) {
    lua_remove(L, -2);
    return true;
  }
  lua_pop(L, 2);
  return false;
}

bool is_proxy(lua_State* L, int idx) {
  if (!push_real_table(L, idx)) return false;
  lua_pop(L, 1);
  return true;
}

[[noreturn]] void raise_readonly_without_position(lua_State* L) {
  lua_pushlstring(L, kReadonlyError.data(), kReadonlyError.size());
  lua_error(L);
  __builtin_unreachable();
}

int readonly_newindex(lua_State* L) { return luaL_error(L, "%s", kReadonlyError.data()); }

int nonexistent_global(lua_State* L) {
  if (lua_gettop(L) != 2) return luaL_error(L, "Wrong number of arguments to luaProtectedTableError");
  if (!lua_isstring(L, -1) && !lua_isnumber(L, -1))
    return luaL_error(L, "Second argument to luaProtectedTableError must be a string or number");
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'", lua_tostring(L, -1));
}

// Replaces the table at `idx` (absolute) by a read-only proxy of it; the proxy is pushed.
// `exposed_idx`: what getmetatable(proxy) returns (0: nil).
void push_proxy(lua_State* L, int real_idx, int exposed_idx) {
  lua_newtable(L);  // the proxy
  lua_newtable(L);  // its metatable
  lua_pushvalue(L, real_idx);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, readonly_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushlightuserdata(L, &kRealKey);
  lua_pushvalue(L, real_idx);
  lua_rawset(L, -3);
  if (exposed_idx != 0) {
    lua_pushlightuserdata(L, &kExposedKey);
    lua_pushvalue(L, exposed_idx);
    lua_rawset(L, -3);
  }
  lua_setmetatable(L, -2);
}

int sandbox_next(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  if (push_real_table(L, 1)) lua_replace(L, 1);
  if (lua_next(L, 1)) return 2;
  lua_pushnil(L);
  return 1;
}

int sandbox_pairs(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushvalue(L, lua_upvalueindex(1));  // next
  if (!push_real_table(L, 1)) lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

int ipairs_step(lua_State* L) {
  int i = luaL_checkint(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  ++i;
  lua_pushinteger(L, i);
  lua_rawgeti(L, 1, i);
  return lua_isnil(L, -1) ? 0 : 2;
}

int sandbox_ipairs(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushvalue(L, lua_upvalueindex(1));  // the step function
  if (!push_real_table(L, 1)) lua_pushvalue(L, 1);
  lua_pushinteger(L, 0);
  return 3;
}

int sandbox_rawget(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  lua_settop(L, 2);
  if (push_real_table(L, 1)) lua_replace(L, 1);
  lua_rawget(L, 1);
  return 1;
}

int sandbox_rawset(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  lua_settop(L, 3);
  if (is_proxy(L, 1)) raise_readonly_without_position(L);
  lua_rawset(L, 1);
  return 1;
}

int sandbox_setmetatable(lua_State* L) {
  int t = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argcheck(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table expected");
  if (is_proxy(L, 1)) raise_readonly_without_position(L);
  if (luaL_getmetafield(L, 1, "__metatable")) luaL_error(L, "cannot change a protected metatable");
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

int sandbox_getmetatable(lua_State* L) {
  luaL_checkany(L, 1);
  if (!lua_getmetatable(L, 1)) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushlightuserdata(L, &kRealKey);
  lua_rawget(L, -2);
  const bool proxy = !lua_isnil(L, -1);
  lua_pop(L, 1);
  if (proxy) {  // the metatable a proxy exposes, if any
    lua_pushlightuserdata(L, &kExposedKey);
    lua_rawget(L, -2);
    return 1;
  }
  luaL_getmetafield(L, 1, "__metatable");
  return 1;  // the __metatable field, or the metatable itself
}

// pcall that hands back error tables as their message (redis-server 7.0).
int sandbox_pcall(lua_State* L) {
  luaL_checkany(L, 1);
  int argc = lua_gettop(L);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  if (lua_pcall(L, argc - 1, LUA_MULTRET, 0) != 0) {
    lua_remove(L, 1);
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      if (lua_isstring(L, -1))
        lua_replace(L, -2);
      else
        lua_pop(L, 1);
    }
    lua_pushboolean(L, 0);
    lua_insert(L, 1);
  }
  return lua_gettop(L);
}

// Chunks are read as text only: one starting with the bytecode signature gets
// a leading space, so the parser reports it as redis-server's parser does.
struct TextReader {
  const char* data;
  size_t len;
  bool prefix_done = false;
};

const char* text_reader(lua_State*, void* ud, size_t* size) {
  auto* r = static_cast<TextReader*>(ud);
  if (!r->prefix_done) {
    r->prefix_done = true;
    if (r->len > 0 && r->data[0] == LUA_SIGNATURE[0]) {
      *size = 1;
      return " ";
    }
  }
  if (r->len == 0) {
    *size = 0;
    return nullptr;
  }
  *size = r->len;
  r->len = 0;
  return r->data;
}

int load_text(lua_State* L, const char* data, size_t len, const char* chunkname) {
  TextReader r{data, len};
  return lua_load(L, text_reader, &r, chunkname);
}

int load_result(lua_State* L, int status) {
  if (status == 0) return 1;
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

int sandbox_loadstring(lua_State* L) {
  size_t len;
  const char* s = luaL_checklstring(L, 1, &len);
  const char* chunkname = luaL_optstring(L, 2, s);
  return load_result(L, load_text(L, s, len, chunkname));
}

struct FunctionReader {
  bool first = true;
  bool pending = false;  // the first piece, held back after the inserted space
};

const char* function_reader(lua_State* L, void* ud, size_t* size) {
  auto* r = static_cast<FunctionReader*>(ud);
  if (r->pending) {
    r->pending = false;
    return lua_tolstring(L, 3, size);
  }
  luaL_checkstack(L, 2, "too many nested functions");
  lua_pushvalue(L, 1);
  lua_call(L, 0, 1);
  if (lua_isnil(L, -1)) {
    *size = 0;
    return nullptr;
  }
  if (!lua_isstring(L, -1)) luaL_error(L, "reader function must return a string");
  lua_replace(L, 3);
  const char* piece = lua_tolstring(L, 3, size);
  if (r->first) {
    r->first = false;
    if (*size > 0 && piece[0] == LUA_SIGNATURE[0]) {
      r->pending = true;
      *size = 1;
      return " ";
    }
  }
  return piece;
}

int sandbox_load(lua_State* L) {
  const char* chunkname = luaL_optstring(L, 2, "=(load)");
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 3);
  FunctionReader r;
  return load_result(L, lua_load(L, function_reader, &r, chunkname));
}

int sandbox_math_random(lua_State* L) {
  lua_Number r = random_fraction();
  switch (lua_gettop(L)) {
    case 0:
      lua_pushnumber(L, r);
      break;
    case 1: {
      int upper = luaL_checkint(L, 1);
      luaL_argcheck(L, 1 <= upper, 1, "interval is empty");
      lua_pushnumber(L, std::floor(r * upper) + 1);
      break;
    }
    case 2: {
      int lower = luaL_checkint(L, 1);
      int upper = luaL_checkint(L, 2);
      luaL_argcheck(L, lower <= upper, 2, "interval is empty");
      lua_pushnumber(L, std::floor(r * (upper - lower + 1)) + lower);
      break;
    }
    default:
      return luaL_error(L, "wrong number of arguments");
  }
  return 1;
}

int sandbox_math_randomseed(lua_State* L) {
  random_seed(static_cast<int32_t>(luaL_checkint(L, 1)));
  return 0;
}

// The pcall error handler: turns the error into a table and adds where it
// happened (the Lua function that raised it, or its caller for C functions).
int error_handler(lua_State* L) {
  lua_Debug ar;
  bool where = false;
  if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "nSl", &ar)) {
    where = true;
    if (std::strcmp(ar.what, "C") == 0) where = lua_getstack(L, 2, &ar) && lua_getinfo(L, "nSl", &ar);
  }
  lua_settop(L, 1);
  if (!lua_istable(L, 1)) {
    lua_newtable(L);
    lua_pushliteral(L, "ERR ");
    if (!luaL_callmeta(L, 1, "__tostring")) {  // tostring(err)
      switch (lua_type(L, 1)) {
        case LUA_TNUMBER:
        case LUA_TSTRING:
          lua_pushvalue(L, 1);
          break;
        case LUA_TBOOLEAN:
          lua_pushstring(L, lua_toboolean(L, 1) ? "true" : "false");
          break;
        case LUA_TNIL:
          lua_pushliteral(L, "nil");
          break;
        default:
          lua_pushfstring(L, "%s: %p", luaL_typename(L, 1), lua_topointer(L, 1));
          break;
      }
    }
    lua_concat(L, 2);
    lua_setfield(L, -2, "err");
    lua_replace(L, 1);
  }
  if (where) {
    lua_pushstring(L, ar.source);
    lua_setfield(L, 1, "source");
    lua_pushinteger(L, ar.currentline);
    lua_setfield(L, 1, "line");
  }
  return 1;
}

// SCRIPT KILL / FUNCTION LOAD timeout checks, every kHookInstructions; the
// "slow script" warning once a script runs longer than busy-reply-threshold.
void count_hook(lua_State* L, lua_Debug*) {
  ThreadEngine& e = engine();
  if (e.run && e.run->running && e.run->config) {
    RunContext& run = *e.run;
    if (run.busy_threshold_ms < 0) run.busy_threshold_ms = busy_reply_threshold_ms(*run.config);
    const int64_t now = steady_ms();
    const int64_t elapsed = now - run.running->start_ms;
    if (elapsed >= run.busy_threshold_ms) {
      if (!run.slow_logged) {
        run.slow_logged = true;
        server::log(LogLevel::kWarning,
                    "Slow script detected: still in execution after {} milliseconds. You can try killing the "
                    "script using the {} command. Script name is: {}.",
                    elapsed, run.running->is_function ? "FUNCTION KILL" : "SCRIPT KILL", run.running->name);
      }
      // Other clients of this thread get BUSY (or their SCRIPT KILL runs),
      // at most once per millisecond (busy_clients.cpp).
      if (now != run.last_busy_pass_ms) {
        run.last_busy_pass_ms = now;
        serve_busy_clients();
      }
      // SHUTDOWN NOSAVE (or a signal) while the script runs: it must end,
      // written or not, or the thread could never stop.
      ShardThread* thread = ShardThread::current();
      if (thread && thread->server().shutting_down()) {
        if (run.host) run.host->mark_stopped_by_shutdown();
        lua_sethook(L, count_hook, LUA_MASKLINE, 0);
        raise_error_table(L, "Script killed by user with SCRIPT KILL...");
      }
    }
  }
  if (e.run && e.run->running && e.run->running->kill.load(std::memory_order_relaxed)) {
    server::log(LogLevel::kNotice, "Lua script killed by user with SCRIPT KILL.");
    // From now on at every line, so that pcall cannot swallow the kill.
    lua_sethook(L, count_hook, LUA_MASKLINE, 0);
    raise_error_table(L, "Script killed by user with SCRIPT KILL...");
  }
  if (!e.run && e.load && steady_ms() > e.load->deadline_ms) {
    lua_sethook(L, count_hook, LUA_MASKLINE, 0);
    raise_error_table(L, "FUNCTION LOAD timeout");
  }
}

// ---------------------------------------------------------------------------
// The redis API

// Lua arguments -> call_args. Raises (or, pcall, returns false with an error
// table pushed) on a bad argument.
bool collect_command_args(lua_State* L, ThreadEngine& e) {
  int argc = lua_gettop(L);
  if (argc == 0) {
    push_error_table(L, "Please specify at least one argument for this redis lib call");
    return false;
  }
  e.call_args.clear();
  for (int i = 1; i <= argc; ++i) {
    int t = lua_type(L, i);
    if (t == LUA_TNUMBER) {
      // Not lua_tolstring: Lua's "%.14g" would lose precision.
      char buf[64];
      int n = std::snprintf(buf, sizeof(buf), "%.17g", static_cast<double>(lua_tonumber(L, i)));
      e.call_args.add(std::string_view(buf, static_cast<size_t>(n)));
    } else if (t == LUA_TSTRING) {
      size_t len;
      const char* s = lua_tolstring(L, i, &len);
      e.call_args.add(std::string_view(s, len));
    } else {
      push_error_table(L, "Lua redis lib command arguments must be strings or integers");
      return false;
    }
  }
  return true;
}

// Runs the command on the host; C++ exceptions end here.
bool host_call(RunContext& run, const protocol::ArgList& args, std::string& reply) {
  protocol::ReplyBuilder out(&reply, run.resp);
  try {
    run.host->call(args, out);
  } catch (const std::exception& ex) {
    reply.clear();
    out.error(std::string("ERR ") + ex.what());
  }
  if (run.host->has_written() && run.running) run.running->wrote.store(true, std::memory_order_relaxed);
  return !reply.empty() && (reply[0] == '-' || reply[0] == '!');
}

int redis_call_generic(lua_State* L, bool raise) {
  ThreadEngine& e = engine();
  if (!e.run) raise_error_table(L, "redis.call/pcall can only be called inside a script invocation");
  if (!collect_command_args(L, e)) {
    if (raise) lua_error(L);
    return 1;
  }
  e.call_reply.clear();
  const bool is_error = host_call(*e.run, e.call_args, e.call_reply);
  ReplyCursor c{e.call_reply.data(), e.call_reply.data() + e.call_reply.size()};
  if (e.call_reply.empty()) {
    lua_pushnil(L);
  } else {
    push_reply(L, c);
  }
  if (raise && is_error) lua_error(L);
  return 1;
}

int redis_call(lua_State* L) { return redis_call_generic(L, true); }
int redis_pcall(lua_State* L) { return redis_call_generic(L, false); }

int redis_sha1hex(lua_State* L) {
  if (lua_gettop(L) != 1) raise_error_table(L, "wrong number of arguments");
  size_t len = 0;
  const char* s = lua_tolstring(L, 1, &len);
  char hex[41];
  sha1_hex(std::string_view(s ? s : "", s ? len : 0), hex);
  lua_pushstring(L, hex);
  return 1;
}

int redis_error_reply(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    push_error_table(L, "wrong number or type of arguments");
    return 1;
  }
  const char* err = lua_tostring(L, -1);
  if (err[0] != '-') {
    lua_pushliteral(L, "-");
    lua_pushvalue(L, 1);
    lua_concat(L, 2);
    err = lua_tostring(L, -1);
  }
  push_error_table(L, std::string_view(err));
  return 1;
}

int redis_status_reply(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    push_error_table(L, "wrong number or type of arguments");
    return 1;
  }
  lua_newtable(L);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "ok");
  return 1;
}

int redis_log(lua_State* L) {
  int argc = lua_gettop(L);
  if (argc < 2) raise_error_table(L, "redis.log() requires two arguments or more.");
  if (!lua_isnumber(L, 1)) raise_error_table(L, "First argument must be a number (log level).");
  int level = static_cast<int>(lua_tonumber(L, 1));
  if (level < 0 || level > 3) raise_error_table(L, "Invalid debug level.");
  if (!log_enabled(static_cast<LogLevel>(level))) return 0;
  // The arguments glued with spaces, on the Lua stack (no C++ buffer to leak).
  int pieces = 0;
  for (int j = 2; j <= argc; ++j) {
    if (!lua_isstring(L, j)) continue;
    if (pieces > 0) {
      lua_pushliteral(L, " ");
      ++pieces;
    }
    lua_pushvalue(L, j);
    lua_tostring(L, -1);
    ++pieces;
  }
  if (pieces == 0) lua_pushliteral(L, "");
  else lua_concat(L, pieces);
  size_t len;
  const char* msg = lua_tolstring(L, -1, &len);
  log_write(static_cast<LogLevel>(level), std::string_view(msg, len));
  return 0;
}

int redis_setresp(lua_State* L) {
  ThreadEngine& e = engine();
  if (!e.run) raise_error_table(L, "redis.setresp can only be called inside a script invocation");
  if (lua_gettop(L) != 1) raise_error_table(L, "redis.setresp() requires one argument.");
  int resp = static_cast<int>(x86_double_to_int64(lua_tonumber(L, -1)));
  if (resp != 2 && resp != 3) raise_error_table(L, "RESP version must be 2 or 3.");
  e.run->resp = resp;
  return 0;
}

int redis_set_repl(lua_State* L) {
  ThreadEngine& e = engine();
  if (!e.run) raise_error_table(L, "redis.set_repl can only be called inside a script invocation");
  if (lua_gettop(L) != 1) raise_error_table(L, "redis.set_repl() requires two arguments.");
  int64_t flags = x86_double_to_int64(lua_tonumber(L, -1));
  if ((flags & ~int64_t{3}) != 0)
    raise_error_table(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
  return 0;  // no replication yet: accepted and ignored
}

int redis_replicate_commands(lua_State* L) {
  lua_pushboolean(L, 1);
  return 1;
}

int redis_breakpoint(lua_State* L) {
  lua_pushboolean(L, 0);
  return 1;
}

int redis_debug(lua_State*) { return 0; }

int redis_acl_check_cmd(lua_State* L) {
  ThreadEngine& e = engine();
  if (!e.run) raise_error_table(L, "redis.acl_check_cmd can only be called inside a script invocation");
  if (!collect_command_args(L, e)) lua_error(L);
  const CommandSpec* spec = CommandTable::instance().find(e.call_args[0]);
  if (spec && !spec->subcommands.empty() && e.call_args.size() >= 2)
    spec = CommandTable::find_subcommand(*spec, e.call_args[1]);
  if (!spec) raise_error_table(L, "Invalid command passed to redis.acl_check_cmd()");
  lua_pushboolean(L, 1);  // one user with every permission
  return 1;
}

// redis.register_function(name, callback) / redis.register_function{...}
// while a library loads.
int redis_register_function(lua_State* L) {
  ThreadEngine& e = engine();
  if (!e.load) raise_error_table(L, "redis.register_function can only be called on FUNCTION LOAD command");
  int argc = lua_gettop(L);
  if (argc < 1 || argc > 2) raise_error_table(L, "wrong number of arguments to redis.register_function");
  uint32_t flags = 0;
  bool has_description = false;
  if (argc == 1) {
    if (!lua_istable(L, 1))
      raise_error_table(L,
                        "calling redis.register_function with a single argument is only applicable to Lua table "
                        "(representing named arguments).");
    bool has_name = false, has_callback = false;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
      // stack: table, key, value
      if (!lua_isstring(L, -2))
        raise_error_table(L, "named argument key given to redis.register_function is not a string");
      // (a number key is not converted: that would break lua_next; it is no known name anyway)
      std::string_view key(lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "");
      if (key == "function_name") {
        if (!lua_isstring(L, -1))
          raise_error_table(L, "function_name argument given to redis.register_function must be a string");
        has_name = true;
      } else if (key == "description") {
        if (!lua_isstring(L, -1))
          raise_error_table(L, "description argument given to redis.register_function must be a string");
        has_description = true;
      } else if (key == "callback") {
        if (!lua_isfunction(L, -1))
          raise_error_table(L, "callback argument given to redis.register_function must be a function");
        has_callback = true;
      } else if (key == "flags") {
        if (!lua_istable(L, -1))
          raise_error_table(L, "flags argument to redis.register_function must be a table representing function "
                               "flags");
        for (int j = 1;; ++j) {
          lua_pushnumber(L, j);
          lua_gettable(L, -2);
          if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
          }
          uint32_t f;
          if (!lua_isstring(L, -1) || !parse_flag(std::string_view(lua_tostring(L, -1)), f))
            raise_error_table(L, "unknown flag given");
          flags |= f;
          lua_pop(L, 1);
        }
      } else {
        raise_error_table(L, "unknown argument given to redis.register_function");
      }
      lua_pop(L, 1);  // the value; the key stays for lua_next
    }
    if (!has_name) raise_error_table(L, "redis.register_function must get a function name argument");
    if (!has_callback) raise_error_table(L, "redis.register_function must get a callback argument");
    lua_settop(L, 1);
    lua_pushliteral(L, "function_name");
    lua_rawget(L, 1);  // 2
    lua_pushliteral(L, "callback");
    lua_rawget(L, 1);  // 3
    lua_pushliteral(L, "description");
    lua_rawget(L, 1);  // 4
    lua_remove(L, 1);  // now: name, callback, description
  } else {
    if (!lua_isstring(L, 1)) raise_error_table(L, "first argument to redis.register_function must be a string");
    if (!lua_isfunction(L, 2)) raise_error_table(L, "second argument to redis.register_function must be a function");
    lua_pushnil(L);  // no description
  }
  // stack: 1 name, 2 callback, 3 description (or nil)
  size_t name_len;
  const char* name_c = lua_tolstring(L, 1, &name_len);
  std::string_view name(name_c, strnlen(name_c, name_len));
  if (!valid_library_name(name))
    raise_error_table(L,
                      "Library names can only contain letters, numbers, or underscores(_) and must be at least one "
                      "character long");
  for (const FunctionInfo& f : *e.load->functions) {
    if (f.name.size() == name.size() && strncasecmp(f.name.data(), name.data(), name.size()) == 0)
      raise_error_table(L, "Function already exists in the library");
  }
  // The interpreter's function table: lower-cased name -> callback.
  lua_getfield(L, LUA_REGISTRYINDEX, "distcache.functions");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (char c : name) luaL_addchar(&b, static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  luaL_pushresult(&b);
  lua_pushvalue(L, 2);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  const char* description = nullptr;
  size_t description_len = 0;
  if (has_description) {
    description = lua_tolstring(L, 3, &description_len);
    description_len = strnlen(description, description_len);
  }
  // Only C++ code from here on: no Lua error can skip these destructors.
  FunctionInfo info;
  info.name = std::string(name);
  info.flags = flags;
  if (description) {
    info.has_description = true;
    info.description.assign(description, description_len);
  }
  e.load->functions->push_back(std::move(info));
  return 0;
}

void set_function(lua_State* L, const char* name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_setfield(L, -2, name);
}

void set_number(lua_State* L, const char* name, lua_Number v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, name);
}

void set_log_constants(lua_State* L) {
  set_number(L, "LOG_DEBUG", 0);
  set_number(L, "LOG_VERBOSE", 1);
  set_number(L, "LOG_NOTICE", 2);
  set_number(L, "LOG_WARNING", 3);
}

void set_version_constants(lua_State* L) {
  lua_pushstring(L, kRedisCompatVersion);
  lua_setfield(L, -2, "REDIS_VERSION");
  int major = 0, minor = 0, patch = 0;
  std::sscanf(kRedisCompatVersion, "%d.%d.%d", &major, &minor, &patch);
  set_number(L, "REDIS_VERSION_NUM", (major << 16) | (minor << 8) | patch);
}

// Pushes the runtime `redis` table.
void push_redis_api(lua_State* L, bool eval) {
  lua_newtable(L);
  set_function(L, "call", redis_call);
  set_function(L, "pcall", redis_pcall);
  set_function(L, "log", redis_log);
  set_function(L, "setresp", redis_setresp);
  set_function(L, "set_repl", redis_set_repl);
  set_function(L, "sha1hex", redis_sha1hex);
  set_function(L, "error_reply", redis_error_reply);
  set_function(L, "status_reply", redis_status_reply);
  set_function(L, "acl_check_cmd", redis_acl_check_cmd);
  if (eval) {
    set_function(L, "replicate_commands", redis_replicate_commands);
    set_function(L, "breakpoint", redis_breakpoint);
    set_function(L, "debug", redis_debug);
  }
  set_log_constants(L);
  set_number(L, "REPL_NONE", 0);
  set_number(L, "REPL_AOF", 1);
  set_number(L, "REPL_SLAVE", 2);
  set_number(L, "REPL_REPLICA", 2);
  set_number(L, "REPL_ALL", 3);
  set_version_constants(L);
}

void open_library(lua_State* L, const char* name, lua_CFunction open) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 0);
}

// Builds the sandbox of `in` (runs under lua_cpcall).
int setup_interpreter(lua_State* L) {
  Interpreter* in = static_cast<Interpreter*>(lua_touserdata(L, 1));
  lua_settop(L, 0);
  open_library(L, "", luaopen_base);
  open_library(L, LUA_TABLIBNAME, luaopen_table);
  open_library(L, LUA_STRLIBNAME, luaopen_string);
  open_library(L, LUA_MATHLIBNAME, luaopen_math);
  lua_pushcfunction(L, luaopen_cjson);
  lua_call(L, 0, 1);
  lua_setfield(L, LUA_GLOBALSINDEX, "cjson");
  lua_pushcfunction(L, luaopen_struct);
  lua_call(L, 0, 0);
  lua_pushcfunction(L, luaopen_cmsgpack);
  lua_call(L, 0, 0);
  lua_pushcfunction(L, luaopen_bit);
  lua_call(L, 0, 0);

  const int G = 1;
  lua_pushvalue(L, LUA_GLOBALSINDEX);  // 1: the real globals
  for (const char* name : {"dofile", "loadfile", "print", "getfenv", "setfenv", "newproxy"}) {
    lua_pushnil(L);
    lua_setfield(L, G, name);
  }
  lua_getfield(L, G, "math");
  set_function(L, "random", sandbox_math_random);
  set_function(L, "randomseed", sandbox_math_randomseed);
  lua_pop(L, 1);
  lua_pushcfunction(L, sandbox_next);
  lua_pushvalue(L, -1);
  lua_setfield(L, G, "next");
  lua_pushcclosure(L, sandbox_pairs, 1);
  lua_setfield(L, G, "pairs");
  lua_pushcfunction(L, ipairs_step);
  lua_pushcclosure(L, sandbox_ipairs, 1);
  lua_setfield(L, G, "ipairs");
  lua_pushcfunction(L, sandbox_rawget);
  lua_setfield(L, G, "rawget");
  lua_pushcfunction(L, sandbox_rawset);
  lua_setfield(L, G, "rawset");
  lua_pushcfunction(L, sandbox_setmetatable);
  lua_setfield(L, G, "setmetatable");
  lua_pushcfunction(L, sandbox_getmetatable);
  lua_setfield(L, G, "getmetatable");
  lua_pushcfunction(L, sandbox_pcall);
  lua_setfield(L, G, "pcall");
  lua_pushcfunction(L, sandbox_loadstring);
  lua_setfield(L, G, "loadstring");
  lua_pushcfunction(L, sandbox_load);
  lua_setfield(L, G, "load");

  const bool eval = in->kind == Interpreter::Kind::kEval;
  push_redis_api(L, eval);
  lua_setfield(L, G, "redis");

  lua_pushcfunction(L, error_handler);
  if (eval) {
    lua_pushvalue(L, -1);
    lua_setfield(L, G, "__redis__err__handler");
  }
  in->handler_ref = luaL_ref(L, LUA_REGISTRYINDEX);

  lua_pushlightuserdata(L, &kTrampolineKey);
  lua_pushcfunction(L, protected_trampoline);
  lua_rawset(L, LUA_REGISTRYINDEX);

  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "distcache.functions");
  in->functions_ref = luaL_ref(L, LUA_REGISTRYINDEX);

  // Library tables become read-only proxies.
  for (const char* name : {"string", "math", "table", "coroutine", "bit", "cjson", "struct", "cmsgpack", "redis"}) {
    lua_getfield(L, G, name);
    int real = lua_gettop(L);
    push_proxy(L, real, 0);
    lua_setfield(L, G, name);
    lua_pop(L, 1);
  }
  // The string metatable: its __index is the string proxy, and getmetatable("")
  // shows a read-only proxy of it.
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  int string_mt = lua_gettop(L);
  lua_getfield(L, G, "string");
  lua_setfield(L, string_mt, "__index");
  push_proxy(L, string_mt, 0);
  lua_setfield(L, string_mt, "__metatable");
  lua_pop(L, 2);

  // Undefined globals raise an error.
  lua_newtable(L);
  lua_pushcfunction(L, nonexistent_global);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, G);

  if (!eval) {
    // The API a library sees while it loads: redis.register_function, log and constants only.
    lua_newtable(L);  // LIB_API
    int lib_api = lua_gettop(L);
    lua_newtable(L);  // its redis table
    int lib_redis = lua_gettop(L);
    set_function(L, "register_function", redis_register_function);
    set_function(L, "log", redis_log);
    set_log_constants(L);
    set_version_constants(L);
    lua_newtable(L);
    lua_pushcfunction(L, nonexistent_global);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, -1);
    lua_setmetatable(L, lib_redis);
    lua_setmetatable(L, lib_api);
    push_proxy(L, lib_redis, 0);
    lua_setfield(L, lib_api, "redis");
    lua_pop(L, 1);  // lib_redis
    in->lib_api_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }

  // The globals proxy replaces the globals table; getmetatable(_G) shows a
  // read-only table whose __index reports undefined globals.
  lua_newtable(L);
  lua_pushcfunction(L, nonexistent_global);
  lua_setfield(L, -2, "__index");
  int exposed_plain = lua_gettop(L);
  push_proxy(L, exposed_plain, 0);
  int exposed = lua_gettop(L);
  push_proxy(L, G, exposed);
  int proxy = lua_gettop(L);
  lua_pushvalue(L, proxy);
  lua_setfield(L, G, "_G");
  lua_getmetatable(L, proxy);
  in->globals_mt_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, G);
  in->globals_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, proxy);
  lua_replace(L, LUA_GLOBALSINDEX);
  lua_settop(L, 0);
  return 0;
}

bool Interpreter::init() {
  L = luaL_newstate();
  if (!L) return false;
  if (lua_cpcall(L, setup_interpreter, this) != 0) {
    server::log(LogLevel::kWarning, "Failed to create the Lua interpreter: {}", lua_tostring(L, -1));
    return false;
  }
  lua_sethook(L, count_hook, LUA_MASKCOUNT, kHookInstructions);
  return true;
}

// The globals that code sees: the runtime API, or the library API while a library loads.
void switch_globals(Interpreter& in, bool library_api) {
  lua_State* L = in.L;
  lua_rawgeti(L, LUA_REGISTRYINDEX, in.globals_mt_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, library_api ? in.lib_api_ref : in.globals_ref);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "__index");
  lua_pushlightuserdata(L, &kRealKey);
  lua_insert(L, -2);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

// ---------------------------------------------------------------------------
// Loading library code into a function interpreter.

// Runs the library code (after its shebang line) with the load-time API.
// Functions it registers go to the interpreter's function table and their
// descriptions to `functions`. Returns false with the error text.
bool load_library_code(Interpreter& in, std::string_view code, std::vector<FunctionInfo>& functions,
                       std::string& error) {
  ThreadEngine& e = engine();
  lua_State* L = in.L;
  LoadContext lc{&functions, steady_ms() + kLoadTimeoutMs};
  int status = 0;
  bool compiled = false;
  std::string message;  // owned out here: the protected code below may be jumped out of
  auto body = [&](lua_State* L) {
    switch_globals(in, true);
    status = load_text(L, code.data(), code.size(), "@user_function");
    if (status == 0) {
      compiled = true;
      status = lua_pcall(L, 0, 0, 0);
    }
    switch_globals(in, false);
    if (status == 0) return;
    // A compile error or a Lua error is a message; redis.register_function's errors are tables.
    if (lua_isstring(L, -1)) {
      message = lua_tostring(L, -1);
      if (compiled) message.insert(0, "ERR ");
    } else if (lua_istable(L, -1)) {
      lua_pushliteral(L, "err");
      lua_rawget(L, -2);
      if (lua_isstring(L, -1)) message = lua_tostring(L, -1);
    }
  };
  LoadContext* saved_load = e.load;
  RunContext* saved_run = e.run;
  e.load = &lc;
  e.run = nullptr;
  lua_sethook(L, count_hook, LUA_MASKCOUNT, kHookInstructions);
  lua_settop(L, 0);
  bool ok = protected_run(L, body);
  e.load = saved_load;
  e.run = saved_run;
  lua_sethook(L, count_hook, LUA_MASKCOUNT, kHookInstructions);
  if (!ok) {
    auto restore = [&](lua_State*) { switch_globals(in, false); };
    protected_run(L, restore);
    error = "ERR Failed loading the library";
    status = -1;
  } else if (status != 0) {
    error = compiled ? "ERR Error registering functions: " + message : "ERR Error compiling function: " + message;
  }
  if (status == 0) return true;
  // Drop whatever the failed library registered (keys are lower-cased names).
  auto drop = [&](lua_State* L) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, in.functions_ref);
    for (const FunctionInfo& f : functions) {
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      for (char ch : f.name) luaL_addchar(&b, static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
      luaL_pushresult(&b);
      lua_pushnil(L);
      lua_rawset(L, -3);
    }
    lua_pop(L, 1);
  };
  protected_run(L, drop);
  functions.clear();
  return false;
}

Interpreter* ThreadEngine::eval_interpreter() {
  uint64_t generation = cache_generation();
  if (eval && eval_generation == generation) return eval.get();
  compiled.clear();
  eval.reset();
  auto in = std::make_unique<Interpreter>(Interpreter::Kind::kEval);
  if (!in->init()) return nullptr;
  eval = std::move(in);
  eval_generation = generation;
  gc_count = 0;
  return eval.get();
}

Interpreter* ThreadEngine::function_interpreter() {
  if (functions && functions_generation == detail::functions_generation()) return functions.get();
  functions.reset();
  uint64_t generation;
  auto libs = library_snapshot(generation);
  auto in = std::make_unique<Interpreter>(Interpreter::Kind::kFunction);
  if (!in->init()) return nullptr;
  for (const auto& lib : libs) {
    std::string engine_name, name, error;
    size_t offset = 0;
    parse_library_metadata(lib->code, engine_name, name, offset, error);
    std::vector<FunctionInfo> infos;
    if (!load_library_code(*in, std::string_view(lib->code).substr(offset), infos, error))
      server::log(LogLevel::kWarning, "Function library '{}' failed to load: {}", lib->name, error);
  }
  functions = std::move(in);
  functions_generation = generation;
  return functions.get();
}

// ---------------------------------------------------------------------------
// Running

// Compiles an EVAL body into the interpreter's function table under `sha`.
bool compile_script(Interpreter& in, std::string_view sha, const CachedScript& script, std::string& error) {
  int status = 0;
  std::string message;  // owned out here: the protected code below may be jumped out of
  std::string_view code = std::string_view(script.body).substr(script.shebang_len);
  auto body = [&](lua_State* L) {
    status = load_text(L, code.data(), code.size(), "@user_script");
    if (status != 0) {
      const char* msg = lua_tostring(L, -1);
      if (msg) message = msg;
      return;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, in.functions_ref);
    lua_pushlstring(L, sha.data(), sha.size());
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 2);
  };
  lua_settop(in.L, 0);
  if (!protected_run(in.L, body)) {
    error = "ERR Error compiling script (new function): out of memory";
    return false;
  }
  if (status != 0) {
    error = "ERR Error compiling script (new function): " + message;
    return false;
  }
  return true;
}

struct RunJob {
  Interpreter* in;
  std::string_view function_key;  // in the function table
  const protocol::ArgList* args;
  size_t numkeys;
  bool as_function;  // FCALL: keys and args are parameters; EVAL: the KEYS / ARGV globals
  RunContext* run;
  std::string_view name;  // for error messages: sha or function name
  protocol::ReplyBuilder* out;
  bool found = true;
};

void push_string_array(lua_State* L, const protocol::ArgList& args, size_t first, size_t count) {
  lua_createtable(L, static_cast<int>(std::min<size_t>(count, 1u << 20)), 0);
  for (size_t i = 0; i < count; ++i) {
    std::string_view s = args[first + i];
    lua_pushlstring(L, s.data(), s.size());
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
}

void run_job(lua_State* L, RunJob& job) {
  lua_settop(L, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, job.in->handler_ref);  // 1
  lua_rawgeti(L, LUA_REGISTRYINDEX, job.in->functions_ref);
  lua_pushlstring(L, job.function_key.data(), job.function_key.size());
  lua_rawget(L, -2);
  lua_remove(L, -2);  // 2: the function
  if (!lua_isfunction(L, 2)) {
    job.found = false;
    lua_settop(L, 0);
    return;
  }
  const protocol::ArgList& a = *job.args;
  const size_t first_key = 3;
  const size_t first_arg = first_key + job.numkeys;
  push_string_array(L, a, first_key, job.numkeys);
  push_string_array(L, a, first_arg, a.size() - first_arg);
  int nargs = 2;
  if (!job.as_function) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, job.in->globals_ref);
    lua_pushliteral(L, "ARGV");
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pushliteral(L, "KEYS");
    lua_pushvalue(L, -4);
    lua_rawset(L, -3);
    lua_pop(L, 3);
    nargs = 0;
  }
  if (lua_pcall(L, nargs, 1, 1) == 0)
    write_reply(L, *job.out, job.run->resp);
  else
    write_script_error(L, *job.out, job.name);
  lua_settop(L, 0);
}

void execute(RunJob& job, const protocol::ArgList& command, bool is_function) {
  ThreadEngine& e = engine();
  lua_State* L = job.in->L;
  RunningEntry entry;
  entry.is_function = is_function;
  entry.name = job.name;
  entry.args = &command;
  entry.start_ms = steady_ms();
  register_running(&entry);
  script_thread_enter();  // new clients of this thread are served in busy mode (busy_clients.cpp)
  RunContext* saved = e.run;
  e.run = job.run;
  job.run->running = &entry;
  lua_sethook(L, count_hook, LUA_MASKCOUNT, kHookInstructions);
  std::string* buf = job.out->buffer();
  const size_t mark = buf->size();
  auto body = [&job](lua_State* L) { run_job(L, job); };
  if (!protected_run(L, body)) {
    buf->resize(mark);
    job.out->error("ERR Error running script: out of memory");
  }
  lua_sethook(L, count_hook, LUA_MASKCOUNT, kHookInstructions);
  e.run = saved;
  unregister_running(&entry);
  end_busy_mode();
  if (++e.gc_count >= kGcPeriod) {
    lua_gc(L, LUA_GCSTEP, kGcPeriod);
    e.gc_count = 0;
  }
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

// ---------------------------------------------------------------------------
// Public entry points

void run_eval(CommandContext& ctx, ScriptHost& host, bool by_sha, bool read_only_command) {
  const protocol::ArgList& a = ctx.args;
  int64_t numkeys;
  if (!parse_int64(a[2], numkeys)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  if (numkeys > static_cast<int64_t>(a.size()) - 3) {
    ctx.reply.error("ERR Number of keys can't be greater than number of args");
    return;
  }
  if (numkeys < 0) {
    ctx.reply.error("ERR Number of keys can't be negative");
    return;
  }
  ThreadEngine& e = engine();
  Interpreter* in = e.eval_interpreter();
  if (!in) {
    ctx.reply.error("ERR Failed to create the Lua interpreter");
    return;
  }
  char sha[41];
  const CachedScript* script = nullptr;
  if (by_sha) {
    std::string_view given = a[1];
    if (given.size() != 40) {
      ctx.reply.error("NOSCRIPT No matching script. Please use EVAL.");
      return;
    }
    for (size_t i = 0; i < 40; ++i) sha[i] = ascii_lower(given[i]);
    sha[40] = '\0';
    std::string_view key(sha, 40);
    auto it = e.compiled.find(key);
    if (it != e.compiled.end()) {
      script = it->second.get();
    } else {
      auto cached = cache_find(key);
      if (!cached) {
        ctx.reply.error("NOSCRIPT No matching script. Please use EVAL.");
        return;
      }
      std::string error;
      if (!compile_script(*in, key, *cached, error)) {
        ctx.reply.error(error);
        return;
      }
      script = cached.get();
      e.compiled.emplace(std::string(key), std::move(cached));
    }
  } else {
    sha1_hex(a[1], sha);
    std::string_view key(sha, 40);
    auto it = e.compiled.find(key);
    if (it != e.compiled.end()) {
      script = it->second.get();
    } else {
      auto fresh = std::make_shared<CachedScript>();
      std::string error;
      if (!parse_eval_shebang(a[1], *fresh, error)) {
        ctx.reply.error(error);
        return;
      }
      fresh->body = std::string(a[1]);
      if (!compile_script(*in, key, *fresh, error)) {
        ctx.reply.error(error);
        return;
      }
      script = fresh.get();
      cache_add(std::string(key), fresh);
      e.compiled.emplace(std::string(key), std::move(fresh));
    }
  }
  if (read_only_command && script->has_shebang && !(script->flags & kFlagNoWrites)) {
    ctx.reply.error("ERR Can not execute a script with write flag using *_ro command.");
    return;
  }
  host.set_read_only(read_only_command || (script->flags & kFlagNoWrites));
  RunContext run;
  run.host = &host;
  run.config = &ctx.config;
  RunJob job{in, std::string_view(sha, 40), &a, static_cast<size_t>(numkeys), false, &run,
             std::string_view(sha, 40), &ctx.reply};
  execute(job, a, false);
  if (!job.found) ctx.reply.error("NOSCRIPT No matching script. Please use EVAL.");
}

void run_fcall(CommandContext& ctx, ScriptHost& host, bool read_only_command) {
  const protocol::ArgList& a = ctx.args;
  std::shared_ptr<const Library> lib;
  size_t index;
  if (!find_function(a[1], lib, index)) {
    ctx.reply.error("ERR Function not found");
    return;
  }
  int64_t numkeys;
  if (!parse_int64(a[2], numkeys)) {
    ctx.reply.error("ERR Bad number of keys provided");
    return;
  }
  if (numkeys > static_cast<int64_t>(a.size()) - 3) {
    ctx.reply.error("ERR Number of keys can't be greater than number of args");
    return;
  }
  if (numkeys < 0) {
    ctx.reply.error("ERR Number of keys can't be negative");
    return;
  }
  const FunctionInfo& fn = lib->functions[index];
  if (read_only_command && !(fn.flags & kFlagNoWrites)) {
    ctx.reply.error("ERR Can not execute a script with write flag using *_ro command.");
    return;
  }
  ThreadEngine& e = engine();
  Interpreter* in = e.function_interpreter();
  if (!in) {
    ctx.reply.error("ERR Failed to create the Lua interpreter");
    return;
  }
  std::string key(fn.name);
  for (char& c : key) c = ascii_lower(c);
  host.set_read_only(read_only_command || (fn.flags & kFlagNoWrites));
  RunContext run;
  run.host = &host;
  run.config = &ctx.config;
  RunJob job{in, key, &a, static_cast<size_t>(numkeys), true, &run, fn.name, &ctx.reply};
  execute(job, a, true);
  if (!job.found) ctx.reply.error("ERR Function not found");
}

bool script_load(std::string_view body, std::string& sha_or_error) {
  ThreadEngine& e = engine();
  Interpreter* in = e.eval_interpreter();
  if (!in) {
    sha_or_error = "ERR Failed to create the Lua interpreter";
    return false;
  }
  char sha[41];
  sha1_hex(body, sha);
  std::string_view key(sha, 40);
  if (e.compiled.find(key) != e.compiled.end()) {
    sha_or_error.assign(sha, 40);
    return true;
  }
  auto fresh = std::make_shared<CachedScript>();
  if (!parse_eval_shebang(body, *fresh, sha_or_error)) return false;
  fresh->body = std::string(body);
  if (!compile_script(*in, key, *fresh, sha_or_error)) return false;
  cache_add(std::string(key), fresh);
  e.compiled.emplace(std::string(key), std::move(fresh));
  sha_or_error.assign(sha, 40);
  return true;
}

int64_t busy_reply_threshold_ms(const Config& config) {
  for (const auto& [name, value] : config_get(config, "busy-reply-threshold")) {
    int64_t ms;
    if (parse_int64(value, ms)) return ms;
  }
  return 5000;
}

size_t lua_memory_bytes() {
  ThreadEngine& e = engine();
  size_t total = 0;
  for (Interpreter* in : {e.eval.get(), e.functions.get()}) {
    if (!in) continue;
    total += static_cast<size_t>(lua_gc(in->L, LUA_GCCOUNT, 0)) * 1024 +
             static_cast<size_t>(lua_gc(in->L, LUA_GCCOUNTB, 0));
  }
  return total;
}

namespace detail {

bool compile_library(std::string_view code, size_t code_offset, std::vector<FunctionInfo>& functions,
                     std::string& error) {
  Interpreter in(Interpreter::Kind::kFunction);
  if (!in.init()) {
    error = "ERR Failed to create the Lua interpreter";
    return false;
  }
  functions.clear();
  return load_library_code(in, code.substr(code_offset), functions, error);
}

}  // namespace detail

}  // namespace distcache::server::scripting
