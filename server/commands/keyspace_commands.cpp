// Commands over whole databases rather than named keys: DBSIZE, KEYS, SCAN,
// RANDOMKEY, FLUSHDB, FLUSHALL, SWAPDB. They fan out to every shard.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <random>

#include "server/aof.h"
#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/connection_context.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/snapshot.h"
#include "server/transaction.h"
#include "storage/glob.h"

namespace distcache::server {
namespace {

void dbsize(ConnectionContext& ctx) {
  auto counts = std::make_shared<std::vector<size_t>>(ctx.server.shard_count());
  int db = ctx.session.db;
  auto& reply = ctx.reply;
  ctx.for_each_shard_reading(
      [counts, db](ShardThread& s) { (*counts)[s.index()] = s.keyspace().db(db).size(); },
      [counts, &reply] {
        size_t total = 0;
        for (size_t c : *counts) total += c;
        reply.integer(static_cast<int64_t>(total));
      });
}

void keys(ConnectionContext& ctx) {
  auto found = std::make_shared<std::vector<std::vector<std::string>>>(ctx.server.shard_count());
  int db = ctx.session.db;
  std::string pattern(ctx.args[1]);
  int64_t now = ctx.now_ms;
  auto& reply = ctx.reply;
  ctx.for_each_shard_reading(
      [found, db, pattern, now](ShardThread& s) {
        auto& out = (*found)[s.index()];
        const bool all = pattern == "*";
        s.keyspace().db(db).for_each(now, [&](std::string_view key, const storage::Value&) {
          if (all || storage::glob_match(pattern, key)) out.emplace_back(key);
        });
      },
      [found, &reply] {
        size_t n = 0;
        for (auto& v : *found) n += v.size();
        reply.array(n);
        for (auto& v : *found)
          for (auto& k : v) reply.bulk(k);
      });
}

// SCAN's options; unlike HSCAN's (arg_util.h) they add TYPE and own their strings,
// because the scan continues on other threads after the arguments are reused.
struct KeyScanOptions {
  std::string pattern;
  bool has_pattern = false;
  size_t count = 10;
  std::string type;
  bool has_type = false;
};

// Parses [MATCH pattern] [COUNT n] [TYPE t] starting at `first` into owned
// strings; writes the error reply on failure.
bool parse_key_scan_options(ConnectionContext& ctx, size_t first, KeyScanOptions& opts) {
  ScanOptions parsed;
  if (auto error = parse_scan_options(ctx.args, first, parsed, /*accept_type=*/true); !error.empty()) {
    ctx.reply.error(error);
    return false;
  }
  opts.count = static_cast<size_t>(parsed.count);
  opts.pattern = std::string(parsed.pattern);
  opts.has_pattern = parsed.use_pattern;
  opts.type = std::string(parsed.type);
  for (auto& c : opts.type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  opts.has_type = parsed.has_type;
  return true;
}

// A SCAN cursor names a shard and a position in that shard's table:
// cursor = table_cursor * shard_count + shard.
struct ScanState {
  KeyScanOptions opts;
  int db = 0;
  int64_t now = 0;
  unsigned shard_count = 1;
  unsigned shard = 0;
  uint64_t table_cursor = 0;
  std::vector<std::string> keys;
  std::function<void()> resume;
  std::function<bool()> claim;  // false: answered BUSY while a shard ran a script (busy_clients.cpp)
};

void scan_step(Server& server, ShardThread& home, protocol::ReplyBuilder& reply, std::shared_ptr<ScanState> st) {
  ShardThread& shard = server.shard(st->shard);
  shard.post([&server, &home, &reply, st, &shard] {
    storage::Db& db = shard.keyspace().db(st->db);
    // Like Redis: visit buckets until COUNT keys were seen or ten times as many buckets were visited.
    // Redis filters by MATCH, then TYPE, then expiry: an expired key is
    // deleted only when it passed the first two.
    auto wanted = [&st](std::string_view key, const storage::Value& v) {
      if (st->opts.has_pattern && !storage::glob_match(st->opts.pattern, key)) return false;
      return !st->opts.has_type || storage::type_name(v.type()) == st->opts.type;
    };
    storage::Db::ReapFilter reap = wanted;
    size_t iterations = st->opts.count * 10;
    do {
      st->table_cursor = db.scan(
          st->table_cursor, 1, st->now,
          [&](std::string_view key, const storage::Value& v) {
            if (wanted(key, v)) st->keys.emplace_back(key);
          },
          &reap);
    } while (st->table_cursor != 0 && --iterations > 0 && st->keys.size() < st->opts.count);
    home.post([&server, &home, &reply, st] {
      uint64_t cursor;
      if (st->table_cursor != 0) {
        cursor = st->table_cursor * st->shard_count + st->shard;
      } else if (st->shard + 1 < st->shard_count) {
        ++st->shard;
        if (st->keys.size() < st->opts.count) {  // keep going on the next shard within this call
          scan_step(server, home, reply, st);
          return;
        }
        cursor = st->shard;  // the next shard, from its beginning
      } else {
        cursor = 0;  // every shard done
      }
      if (st->claim && !st->claim()) {  // answered BUSY, and resumed, meanwhile
        std::function<void()>().swap(st->resume);
        return;
      }
      reply.array(2);
      reply.bulk(std::to_string(cursor));
      reply.array(st->keys.size());
      for (auto& k : st->keys) reply.bulk(k);
      auto resume = std::move(st->resume);
      resume();
    });
  });
}

void scan(ConnectionContext& ctx) {
  uint64_t cursor = 0;
  std::string_view c = ctx.args[1];
  if (c.empty() || c.size() > 20 || !std::all_of(c.begin(), c.end(), ::isdigit)) {
    ctx.reply.error("ERR invalid cursor");
    return;
  }
  for (char ch : c) {
    uint64_t digit = static_cast<uint64_t>(ch - '0');
    if (cursor > (UINT64_MAX - digit) / 10) {
      ctx.reply.error("ERR invalid cursor");
      return;
    }
    cursor = cursor * 10 + digit;
  }
  auto st = std::make_shared<ScanState>();
  if (!parse_key_scan_options(ctx, 2, st->opts)) return;
  st->db = ctx.session.db;
  st->now = ctx.now_ms;
  st->shard_count = ctx.server.shard_count();
  st->shard = static_cast<unsigned>(cursor % st->shard_count);
  st->table_cursor = cursor / st->shard_count;
  st->resume = ctx.suspend();
  st->claim = ctx.busy_claim();
  scan_step(ctx.server, ctx.thread, ctx.reply, st);
}

void randomkey(ConnectionContext& ctx) {
  struct Pick {
    size_t size = 0;
    std::optional<std::string> key;
  };
  auto picks = std::make_shared<std::vector<Pick>>(ctx.server.shard_count());
  int db = ctx.session.db;
  int64_t now = ctx.now_ms;
  auto& reply = ctx.reply;
  ctx.for_each_shard_reading(
      [picks, db, now](ShardThread& s) {
        auto& p = (*picks)[s.index()];
        p.key = s.keyspace().db(db).random_key(now);
        p.size = p.key ? s.keyspace().db(db).size() : 0;
      },
      [picks, &reply] {
        // Pick a shard with probability proportional to its size, so keys are about equally likely.
        size_t total = 0;
        for (auto& p : *picks) total += p.size;
        if (total == 0) {
          reply.null_bulk();
          return;
        }
        thread_local std::mt19937_64 rng{std::random_device{}()};
        size_t r = rng() % total;
        for (auto& p : *picks) {
          if (r < p.size) {
            reply.bulk(*p.key);
            return;
          }
          r -= p.size;
        }
      });
}

// FLUSHDB / FLUSHALL [ASYNC|SYNC]
bool parse_flush_mode(ConnectionContext& ctx) {
  if (ctx.args.size() > 2) {
    ctx.reply.error(errors::kSyntax);
    return false;
  }
  if (ctx.args.size() == 2 && !is_option(ctx.args[1], "async") && !is_option(ctx.args[1], "sync")) {
    ctx.reply.error(errors::kSyntax);
    return false;
  }
  return true;
}

void flushdb(ConnectionContext& ctx) {
  if (!parse_flush_mode(ctx)) return;
  int db = ctx.session.db;
  auto& reply = ctx.reply;
  Server& server = ctx.server;
  const int64_t now_ms = ctx.now_ms;
  ctx.for_each_shard_exclusive(
      [db, now_ms](ShardThread& s) {
        if (ShardSnapshot* snapshot = s.snapshot()) snapshot->take_all();
        if (!s.watches().empty()) s.watches().touch_existing(db, s.keyspace().db(db), now_ms);
        s.keyspace().db(db).clear();
      },
      [&reply, &server, db, args = &ctx.args, in_exec = ctx.holds_all_shards] {
        server.stats().dirty.fetch_add(1, std::memory_order_relaxed);
        if (!in_exec) aof_log_keyspace_command(db, *args);
        reply.ok();
      });
}

void flushall(ConnectionContext& ctx) {
  if (!parse_flush_mode(ctx)) return;
  auto& reply = ctx.reply;
  Server& server = ctx.server;
  const int64_t now_ms = ctx.now_ms;
  ctx.for_each_shard_exclusive(
      [now_ms](ShardThread& s) { s.empty_all_databases(now_ms); },
      [&reply, &server, db = ctx.session.db, args = &ctx.args, in_exec = ctx.holds_all_shards] {
        server.stats().dirty.fetch_add(1, std::memory_order_relaxed);
        if (!in_exec) aof_log_keyspace_command(db, *args);
        reply.ok();
      });
}

void swapdb(ConnectionContext& ctx) {
  int64_t a, b;
  if (!parse_int64(ctx.args[1], a) || a < INT32_MIN || a > INT32_MAX) {
    ctx.reply.error("ERR invalid first DB index");
    return;
  }
  if (!parse_int64(ctx.args[2], b) || b < INT32_MIN || b > INT32_MAX) {
    ctx.reply.error("ERR invalid second DB index");
    return;
  }
  const int64_t n = ctx.server.config().databases;
  if (a < 0 || a >= n || b < 0 || b >= n) {
    ctx.reply.error("ERR DB index is out of range");
    return;
  }
  auto& reply = ctx.reply;
  const int64_t now_ms = ctx.now_ms;
  ctx.for_each_shard_exclusive(
      [a, b, now_ms](ShardThread& s) {
        if (!s.watches().empty()) {  // a watched key that exists in either database changes
          for (auto [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
            s.watches().touch_existing(static_cast<int>(x), s.keyspace().db(x), now_ms);
            s.watches().touch_existing(static_cast<int>(x), s.keyspace().db(y), now_ms);
          }
        }
        if (ShardSnapshot* snapshot = s.snapshot()) snapshot->take_all();
        s.keyspace().swap_dbs(static_cast<size_t>(a), static_cast<size_t>(b));
      },
      [&reply, db = ctx.session.db, args = &ctx.args, in_exec = ctx.holds_all_shards] {
        if (!in_exec) aof_log_keyspace_command(db, *args);
        reply.ok();
      });
}

constexpr uint64_t kKeyspaceRead = kAclKeyspace | kAclRead;
constexpr uint64_t kKeyspaceWrite = kAclKeyspace | kAclWrite;

const CommandSpec kKeyspaceCommands[] = {
    {.name = "dbsize", .arity = 1, .flags = kCmdReadonly | kCmdFast, .acl = kKeyspaceRead | kAclFast,
     .connection = dbsize, .group = "server", .summary = "Returns the number of keys in the selected database.",
     .since = "1.0.0", .complexity = "O(1)"},
    {.name = "keys", .arity = 2, .flags = kCmdReadonly, .acl = kKeyspaceRead | kAclSlow | kAclDangerous,
     .connection = keys, .group = "generic", .summary = "Returns all key names that match a glob pattern.",
     .since = "1.0.0", .complexity = "O(N) with N being the number of keys in the database"},
    {.name = "scan", .arity = -2, .flags = kCmdReadonly, .acl = kKeyspaceRead | kAclSlow, .connection = scan,
     .group = "generic", .summary = "Iterates over the key names in the database, a few at a time.",
     .since = "2.8.0",
     .complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the "
                   "cursor to return back to 0. N is the number of elements inside the collection."},
    {.name = "randomkey", .arity = 1, .flags = kCmdReadonly, .acl = kKeyspaceRead | kAclSlow,
     .connection = randomkey, .group = "generic", .summary = "Returns a random key name from the database.",
     .since = "1.0.0", .complexity = "O(1)"},
    {.name = "flushdb", .arity = -1, .flags = kCmdWrite, .acl = kKeyspaceWrite | kAclSlow | kAclDangerous,
     .connection = flushdb, .group = "server", .summary = "Deletes every key of the selected database.",
     .since = "1.0.0", .complexity = "O(N) where N is the number of keys in the selected database"},
    {.name = "flushall", .arity = -1, .flags = kCmdWrite, .acl = kKeyspaceWrite | kAclSlow | kAclDangerous,
     .connection = flushall, .group = "server", .summary = "Deletes every key of every database.",
     .since = "1.0.0", .complexity = "O(N) where N is the total number of keys in all databases"},
    {.name = "swapdb", .arity = 3, .flags = kCmdWrite | kCmdFast,
     .acl = kKeyspaceWrite | kAclFast | kAclDangerous, .connection = swapdb, .group = "server",
     .summary = "Swaps the contents of two databases.", .since = "4.0.0",
     .complexity = "O(N) where N is the count of clients watching or blocking on keys from both databases."},
};

}  // namespace

std::span<const CommandSpec> keyspace_command_specs() { return kKeyspaceCommands; }

}  // namespace distcache::server
