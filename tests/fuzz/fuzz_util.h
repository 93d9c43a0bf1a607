#pragma once
// Helpers shared by the libFuzzer targets in tests/fuzz (see README.md there):
// a structural check of RESP replies, and an in-process command runner that
// executes keyed commands through the real command table against a keyspace
// (like tests/unit/command_test_util.h's CommandRunner, without Catch2).
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/arg_list.h"
#include "tests/fuzz/fuzz_check.h"
#include "protocol/reply_builder.h"
#include "server/command.h"
#include "server/command_table.h"
#include "server/config.h"
#include "persistence/dump_payload.h"
#include "storage/keyspace.h"
#include "storage/value.h"

namespace distcache::fuzz {

// Checks that `s` starting at `pos` holds one complete, well-formed RESP2/RESP3
// reply; advances pos past it. Returns false if malformed or incomplete.
inline bool check_reply(std::string_view s, size_t& pos, int depth = 0) {
  if (depth > 1000 || pos >= s.size()) return false;
  auto line = [&](std::string_view& out) -> bool {
    size_t e = s.find("\r\n", pos + 1);
    if (e == std::string_view::npos) return false;
    out = s.substr(pos + 1, e - pos - 1);
    pos = e + 2;
    return true;
  };
  auto to_int = [](std::string_view v, int64_t& n) -> bool {
    if (v.empty() || v.size() > 20) return false;
    size_t i = 0;
    bool neg = false;
    if (v[0] == '-') {
      neg = true;
      i = 1;
      if (v.size() == 1) return false;
    }
    int64_t r = 0;
    for (; i < v.size(); ++i) {
      if (v[i] < '0' || v[i] > '9') return false;
      r = r * 10 + (v[i] - '0');
    }
    n = neg ? -r : r;
    return true;
  };
  const char type = s[pos];
  std::string_view l;
  int64_t n = 0;
  switch (type) {
    case '+':
    case '-':
    case ',':
    case '(':
      if (!line(l)) return false;
      return l.find('\r') == std::string_view::npos && l.find('\n') == std::string_view::npos;
    case ':':
      return line(l) && to_int(l, n);
    case '_':
      return line(l) && l.empty();
    case '#':
      return line(l) && (l == "t" || l == "f");
    case '$':
    case '=':
    case '!':
      if (!line(l) || !to_int(l, n)) return false;
      if (n == -1 && type == '$') return true;
      if (n < 0 || s.size() - pos < static_cast<size_t>(n) + 2) return false;
      if (s.substr(pos + n, 2) != "\r\n") return false;
      pos += n + 2;
      return true;
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      if (!line(l) || !to_int(l, n)) return false;
      if (n == -1 && type == '*') return true;
      if (n < 0) return false;
      const int64_t items = (type == '%' || type == '|') ? n * 2 : n;
      for (int64_t i = 0; i < items; ++i)
        if (!check_reply(s, pos, depth + 1)) return false;
      if (type == '|') return check_reply(s, pos, depth + 1);  // the attributed reply follows
      return true;
    }
    default:
      return false;
  }
}

// Executes keyed commands (the ones that run on a shard) in-process.
class CommandExecutor {
 public:
  storage::Keyspace dbs{16};
  server::Config config;
  int db_index = 0;
  int64_t now_ms = 1'700'000'000'000;
  int resp_version = 2;

  CommandExecutor() {
    // Keep single commands from legitimately allocating gigabytes
    // (SETRANGE / SETBIT offsets are bounded by proto-max-bulk-len).
    config.proto_max_bulk_len.store(1 << 20, std::memory_order_relaxed);
  }

  // Commands that are skipped: scripts (a Lua loop would hang the fuzzer and
  // they need the scripting engine's per-thread state).
  static bool skipped(const server::CommandSpec& spec) { return spec.group == "scripting"; }

  // Runs one command; returns its reply bytes (empty if it was skipped).
  // Aborts if the reply is not exactly one well-formed RESP reply.
  std::string run(const protocol::ArgList& args) {
    std::string out;
    if (args.empty()) return out;
    const server::CommandSpec* spec = server::CommandTable::instance().find(args[0]);
    if (!spec) return out;
    if (!spec->subcommands.empty()) {
      if (args.size() < 2) return out;
      spec = server::CommandTable::find_subcommand(*spec, args[1]);
      if (!spec) return out;
    }
    if (!server::arity_ok(*spec, args.size()) || !spec->keyed || skipped(*spec)) return out;
    std::vector<int> keys;
    if (server::extract_keys(*spec, args, keys)) {
      for (int k : keys)
        if (k < 0 || static_cast<size_t>(k) >= args.size()) fail("key index out of range", args[0]);
    }
    protocol::ReplyBuilder reply(&out, resp_version);
    server::CommandContext ctx{args, reply, dbs, db_index, now_ms, config};
    ctx.may_block = false;
    spec->keyed(ctx);
    if (ctx.rerun_globally) return std::string();
    size_t pos = 0;
    if (!check_reply(out, pos) || pos != out.size()) fail("malformed reply", out);
    return out;
  }
};

// Commands run against a decoded value (key "k") by exercise_value().
inline std::vector<std::vector<std::string>> value_commands(storage::ValueType t) {
  using storage::ValueType;
  std::vector<std::vector<std::string>> c = {{"TYPE", "k"}, {"OBJECT", "ENCODING", "k"}, {"MEMORY", "USAGE", "k"},
                                             {"DUMP", "k"}, {"COPY", "k", "k2"}};
  switch (t) {
    case ValueType::kString:
      c.insert(c.end(), {{"GET", "k"}, {"STRLEN", "k"}, {"GETRANGE", "k", "-5", "-1"}, {"BITCOUNT", "k"},
                         {"APPEND", "k", "x"}, {"INCR", "k"}, {"PFCOUNT", "k"}, {"PFADD", "k", "a"}});
      break;
    case ValueType::kList:
      c.insert(c.end(), {{"LRANGE", "k", "0", "-1"}, {"LLEN", "k"}, {"LINDEX", "k", "-1"}, {"LPOS", "k", "1"},
                         {"RPUSH", "k", "x"}, {"LINSERT", "k", "BEFORE", "x", "y"}, {"LPOP", "k"},
                         {"LREM", "k", "0", "1"}, {"LTRIM", "k", "1", "-2"}, {"LRANGE", "k", "0", "-1"}});
      break;
    case ValueType::kSet:
      c.insert(c.end(), {{"SMEMBERS", "k"}, {"SCARD", "k"}, {"SISMEMBER", "k", "1"}, {"SRANDMEMBER", "k", "-5"},
                         {"SADD", "k", "x"}, {"SREM", "k", "1"}, {"SPOP", "k"}, {"SINTER", "k", "k2"},
                         {"SMEMBERS", "k"}});
      break;
    case ValueType::kZSet:
      c.insert(c.end(), {{"ZRANGE", "k", "0", "-1", "WITHSCORES"}, {"ZCARD", "k"},
                         {"ZRANGEBYSCORE", "k", "-inf", "+inf"}, {"ZRANGEBYLEX", "k", "-", "+"},
                         {"ZRANK", "k", "a"}, {"ZADD", "k", "1", "x"}, {"ZINCRBY", "k", "2", "x"},
                         {"ZREM", "k", "a"}, {"ZPOPMIN", "k"}, {"ZRANDMEMBER", "k", "-5", "WITHSCORES"},
                         {"ZUNIONSTORE", "k3", "2", "k", "k2"}, {"ZRANGE", "k", "0", "-1", "WITHSCORES"}});
      break;
    case ValueType::kHash:
      c.insert(c.end(), {{"HGETALL", "k"}, {"HLEN", "k"}, {"HGET", "k", "a"}, {"HSTRLEN", "k", "a"},
                         {"HRANDFIELD", "k", "-5", "WITHVALUES"}, {"HSET", "k", "f", "v"},
                         {"HINCRBY", "k", "n", "1"}, {"HDEL", "k", "a"}, {"HSCAN", "k", "0"}, {"HGETALL", "k"}});
      break;
    case ValueType::kStream:
      c.insert(c.end(), {{"XRANGE", "k", "-", "+"}, {"XREVRANGE", "k", "+", "-", "COUNT", "3"}, {"XLEN", "k"},
                         {"XINFO", "STREAM", "k"}, {"XINFO", "STREAM", "k", "FULL"}, {"XINFO", "GROUPS", "k"},
                         {"XADD", "k", "*", "f", "v"}, {"XGROUP", "CREATE", "k", "fz", "0"},
                         {"XREADGROUP", "GROUP", "fz", "c", "COUNT", "5", "STREAMS", "k", ">"},
                         {"XPENDING", "k", "fz"}, {"XAUTOCLAIM", "k", "fz", "c2", "0", "0"},
                         {"XTRIM", "k", "MAXLEN", "2"}, {"XDEL", "k", "0-1"}, {"XINFO", "STREAM", "k", "FULL"}});
      break;
  }
  return c;
}

// Stores `v` under "k" in a fresh keyspace and runs commands of its type on
// it (both RESP versions); the value must also survive DUMP + RESTORE.
inline void exercise_value(const storage::Value& v) {
  {
    const std::string payload = persistence::dump_value(v);
    std::string err;
    if (!persistence::restore_value(payload, &err)) fail("a value we dumped does not restore", err);
  }
  for (int resp : {2, 3}) {
    CommandExecutor ex;
    ex.resp_version = resp;
    ex.dbs.db(0).set("k", v.clone());
    protocol::ArgList args;
    for (const auto& cmd : value_commands(v.type())) {
      args.clear();
      for (const auto& a : cmd) args.add(a);
      ex.run(args);
    }
  }
}

}  // namespace distcache::fuzz
