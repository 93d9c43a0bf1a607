// Generic key commands: deletion and existence, TYPE, RENAME, COPY, MOVE,
// OBJECT, and the expiry commands (EXPIRE family, TTL family, PERSIST).
// Whole-database commands (KEYS, SCAN, DBSIZE, FLUSHDB, ...) live elsewhere.
#include <climits>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/command.h"
#include "server/command_table.h"
#include "server/commands/expire_util.h"
#include "server/config.h"
#include "storage/access_meta.h"
#include "storage/numbers.h"

namespace distcache::server {
namespace {

using storage::Db;
using storage::Value;

constexpr std::string_view kSameObject = "ERR source and destination objects are the same";
constexpr std::string_view kDbOutOfRange = "ERR DB index is out of range";

// Parses a database index the way Redis parses int arguments: not an integer
// -> kNotInteger; outside int32 -> its own error. Replies on failure.
bool parse_db_index(CommandContext& ctx, std::string_view arg, int& out) {
  int64_t v;
  if (!storage::parse_int64(arg, v)) {
    ctx.reply.error(errors::kNotInteger);
    return false;
  }
  if (v < INT_MIN || v > INT_MAX) {
    ctx.reply.error("ERR value is out of range, value must between -2147483648 and 2147483647");
    return false;
  }
  out = static_cast<int>(v);
  return true;
}

bool db_index_valid(const CommandContext& ctx, int index) {
  return index >= 0 && index < ctx.config.databases && static_cast<size_t>(index) < ctx.dbs.size();
}

// ---------------------------------------------------------------------------
// Existence and deletion

void del_command(CommandContext& ctx) {
  Db& db = ctx.db();
  int64_t deleted = 0;
  for (size_t i = 1; i < ctx.args.size(); ++i)
    if (db.erase(ctx.args[i], ctx.now_ms)) {
      ++deleted;
      ctx.notify(notify::kGeneric, "del", ctx.args[i]);
    }
  ctx.reply.integer(deleted);
}

// TOUCH: counts the keys that exist, repeated keys every time, and counts
// as an access of each (LRU/LFU).
void touch_command(CommandContext& ctx) {
  Db& db = ctx.db();
  int64_t found = 0;
  for (size_t i = 1; i < ctx.args.size(); ++i)
    if (db.find(ctx.args[i], ctx.now_ms)) ++found;
  ctx.reply.integer(found);
}

// EXISTS: the same without counting as an access (Redis's LOOKUP_NOTOUCH, as
// TYPE, the TTL family and OBJECT).
void exists_command(CommandContext& ctx) {
  storage::access::NoTouchScope no_touch;
  touch_command(ctx);
}

void type_command(CommandContext& ctx) {
  storage::access::NoTouchScope no_touch;
  const Value* v = ctx.db().find(ctx.args[1], ctx.now_ms);
  ctx.reply.simple(v ? storage::type_name(v->type()) : std::string_view("none"));
}

// ---------------------------------------------------------------------------
// RENAME / RENAMENX / COPY / MOVE

void rename_generic(CommandContext& ctx, bool nx) {
  Db& db = ctx.db();
  std::string_view src = ctx.args[1];
  std::string_view dst = ctx.args[2];
  if (!db.find(src, ctx.now_ms)) {
    ctx.reply.error(errors::kNoSuchKey);
    return;
  }
  if (src == dst) {
    if (nx)
      ctx.reply.integer(0);
    else
      ctx.reply.ok();
    return;
  }
  const int64_t expire = db.expire_at(src);
  if (db.find(dst, ctx.now_ms) && nx) {
    ctx.reply.integer(0);
    return;
  }
  // Looking up dst may have reclaimed an expired key; fetch src again.
  Value moved = std::move(*db.find(src, ctx.now_ms));
  db.erase(src, ctx.now_ms);
  db.erase(dst, ctx.now_ms);  // as Redis: the old destination goes, a new key is added
  db.set(dst, std::move(moved));
  if (expire != storage::kNoExpiry) db.set_expire(dst, expire);
  ctx.notify(notify::kGeneric, "rename_from", src);
  ctx.notify(notify::kGeneric, "rename_to", dst);
  if (nx)
    ctx.reply.integer(1);
  else
    ctx.reply.ok();
}

void rename_command(CommandContext& ctx) { rename_generic(ctx, false); }
void renamenx_command(CommandContext& ctx) { rename_generic(ctx, true); }

void copy_command(CommandContext& ctx) {
  int dst_index = ctx.db_index;
  bool replace = false;
  for (size_t j = 3; j < ctx.args.size(); ++j) {
    const bool has_next = j + 1 < ctx.args.size();
    if (is_option(ctx.args[j], "replace")) {
      replace = true;
    } else if (is_option(ctx.args[j], "db") && has_next) {
      if (!parse_db_index(ctx, ctx.args[j + 1], dst_index)) return;
      if (!db_index_valid(ctx, dst_index)) {
        ctx.reply.error(kDbOutOfRange);
        return;
      }
      ++j;
    } else {
      ctx.reply.error(errors::kSyntax);
      return;
    }
  }
  if (ctx.config.cluster_enabled && (ctx.db_index != 0 || dst_index != 0)) {
    ctx.reply.error("ERR Copying to another database is not allowed in cluster mode");
    return;
  }
  std::string_view src = ctx.args[1];
  std::string_view dst = ctx.args[2];
  if (dst_index == ctx.db_index && src == dst) {
    ctx.reply.error(kSameObject);
    return;
  }
  Db& db = ctx.db();
  const Value* v = db.find(src, ctx.now_ms);
  if (!v) {
    ctx.reply.integer(0);
    return;
  }
  Value copy = v->clone();
  const int64_t expire = db.expire_at(src);
  Db& target = ctx.dbs.db(static_cast<size_t>(dst_index));
  if (target.find(dst, ctx.now_ms) && !replace) {
    ctx.reply.integer(0);
    return;
  }
  target.erase(dst, ctx.now_ms);  // as Redis: a replaced destination is deleted, then added anew
  target.set(dst, std::move(copy));
  if (expire != storage::kNoExpiry) target.set_expire(dst, expire);
  ctx.notify(notify::kGeneric, "copy_to", dst, dst_index);
  ctx.reply.integer(1);
}

void move_command(CommandContext& ctx) {
  if (ctx.config.cluster_enabled) {
    ctx.reply.error("ERR MOVE is not allowed in cluster mode");
    return;
  }
  int dst_index;
  if (!parse_db_index(ctx, ctx.args[2], dst_index)) return;
  if (!db_index_valid(ctx, dst_index)) {
    ctx.reply.error(kDbOutOfRange);
    return;
  }
  if (dst_index == ctx.db_index) {
    ctx.reply.error(kSameObject);
    return;
  }
  std::string_view key = ctx.args[1];
  Db& db = ctx.db();
  Value* v = db.find(key, ctx.now_ms);
  if (!v) {
    ctx.reply.integer(0);
    return;
  }
  const int64_t expire = db.expire_at(key);
  Db& target = ctx.dbs.db(static_cast<size_t>(dst_index));
  if (target.find(key, ctx.now_ms)) {
    ctx.reply.integer(0);
    return;
  }
  target.set(key, std::move(*v));  // `target` is another Db: `v` is still valid
  if (expire != storage::kNoExpiry) target.set_expire(key, expire);
  db.erase(key, ctx.now_ms);
  ctx.notify(notify::kGeneric, "move_from", key);
  ctx.notify(notify::kGeneric, "move_to", key, dst_index);
  ctx.reply.integer(1);
}

// ---------------------------------------------------------------------------
// OBJECT

// The value of OBJECT <sub> <key>, or a null reply (and nullptr) if absent.
// Not an access of the key.
const Value* object_lookup(CommandContext& ctx) {
  storage::access::NoTouchScope no_touch;
  const Value* v = ctx.db().find(ctx.args[2], ctx.now_ms);
  if (!v) ctx.reply.null_bulk();
  return v;
}

void object_encoding_command(CommandContext& ctx) {
  if (const Value* v = object_lookup(ctx)) ctx.reply.bulk(v->encoding_name());
}

void object_refcount_command(CommandContext& ctx) {
  const Value* v = object_lookup(ctx);
  if (!v) return;
  // Redis stores small integers (0..9999) as shared objects whose refcount
  // reads as INT_MAX; every other value here has a single owner.
  int64_t n;
  if (v->is_string() && v->encoding_name() == "int" && storage::parse_int64(v->str(), n) && n >= 0 &&
      n < 10000) {
    ctx.reply.integer(INT_MAX);
    return;
  }
  ctx.reply.integer(1);
}

// Seconds since the last access (the LRU clock); not under an LFU policy.
void object_idletime_command(CommandContext& ctx) {
  const Value* v = object_lookup(ctx);
  if (!v) return;
  if (storage::access::lfu_mode()) {
    ctx.reply.error(
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching "
        "between policies at runtime LRU and LFU data will take some time to adjust.");
    return;
  }
  ctx.reply.integer(static_cast<int64_t>(storage::access::lru_idle_ms(v->lru()) / 1000));
}

// The logarithmic access counter after decay; only under an LFU policy.
void object_freq_command(CommandContext& ctx) {
  const Value* v = object_lookup(ctx);
  if (!v) return;
  if (!storage::access::lfu_mode()) {
    ctx.reply.error(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
        "switching between policies at runtime LRU and LFU data will take some time to adjust.");
    return;
  }
  ctx.reply.integer(storage::access::lfu_decayed(v->lfu_time(), v->lfu_counter()));
}

void object_help_command(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned integer is",
      "    proportional to the logarithm of the recent access frequency of the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the specified",
      "    <key>.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.array(std::size(kLines));
  for (std::string_view line : kLines) ctx.reply.simple(line);
}

// ---------------------------------------------------------------------------
// Expiry

enum : unsigned { kExpNx = 1, kExpXx = 2, kExpGt = 4, kExpLt = 8 };

void expire_generic(CommandContext& ctx, TimeUnit unit, bool absolute) {
  unsigned flags = 0;
  for (size_t j = 3; j < ctx.args.size(); ++j) {
    std::string_view opt = ctx.args[j];
    if (is_option(opt, "nx")) {
      flags |= kExpNx;
    } else if (is_option(opt, "xx")) {
      flags |= kExpXx;
    } else if (is_option(opt, "gt")) {
      flags |= kExpGt;
    } else if (is_option(opt, "lt")) {
      flags |= kExpLt;
    } else {
      ctx.reply.error("ERR Unsupported option " + std::string(c_string_prefix(opt)));
      return;
    }
  }
  if ((flags & kExpNx) && (flags & (kExpXx | kExpGt | kExpLt))) {
    ctx.reply.error("ERR NX and XX, GT or LT options at the same time are not compatible");
    return;
  }
  if ((flags & kExpGt) && (flags & kExpLt)) {
    ctx.reply.error("ERR GT and LT options at the same time are not compatible");
    return;
  }
  int64_t when;
  ExpireParse r = parse_expire_command_time(ctx.args[2], unit, absolute ? 0 : ctx.now_ms, when);
  if (r != ExpireParse::kOk) {
    reply_expire_parse_error(ctx, r);
    return;
  }
  Db& db = ctx.db();
  std::string_view key = ctx.args[1];
  if (!db.find(key, ctx.now_ms)) {
    ctx.reply.integer(0);
    return;
  }
  if (flags) {
    const int64_t current = db.expire_at(key);
    const bool has_ttl = current != storage::kNoExpiry;
    // A key without TTL counts as expiring never: GT always fails, LT passes.
    if (((flags & kExpNx) && has_ttl) || ((flags & kExpXx) && !has_ttl) ||
        ((flags & kExpGt) && (!has_ttl || when <= current)) || ((flags & kExpLt) && has_ttl && when >= current)) {
      ctx.reply.integer(0);
      return;
    }
  }
  const bool deleted = apply_expire_or_delete(db, key, when, ctx.now_ms);
  ctx.notify(notify::kGeneric, deleted ? "del" : "expire", key);
  ctx.reply.integer(1);
}

void expire_command(CommandContext& ctx) { expire_generic(ctx, TimeUnit::kSeconds, false); }
void pexpire_command(CommandContext& ctx) { expire_generic(ctx, TimeUnit::kMilliseconds, false); }
void expireat_command(CommandContext& ctx) { expire_generic(ctx, TimeUnit::kSeconds, true); }
void pexpireat_command(CommandContext& ctx) { expire_generic(ctx, TimeUnit::kMilliseconds, true); }

// TTL / PTTL / EXPIRETIME / PEXPIRETIME: -2 for a missing key, -1 without TTL.
void ttl_generic(CommandContext& ctx, TimeUnit unit, bool absolute) {
  storage::access::NoTouchScope no_touch;
  Db& db = ctx.db();
  std::string_view key = ctx.args[1];
  if (!db.find(key, ctx.now_ms)) {
    ctx.reply.integer(-2);
    return;
  }
  const int64_t expire = db.expire_at(key);
  if (expire == storage::kNoExpiry) {
    ctx.reply.integer(-1);
    return;
  }
  int64_t t = absolute ? expire : expire - ctx.now_ms;
  if (t < 0) t = 0;
  if (unit == TimeUnit::kSeconds) t = static_cast<int64_t>((static_cast<uint64_t>(t) + 500) / 1000);  // rounded
  ctx.reply.integer(t);
}

void ttl_command(CommandContext& ctx) { ttl_generic(ctx, TimeUnit::kSeconds, false); }
void pttl_command(CommandContext& ctx) { ttl_generic(ctx, TimeUnit::kMilliseconds, false); }
void expiretime_command(CommandContext& ctx) { ttl_generic(ctx, TimeUnit::kSeconds, true); }
void pexpiretime_command(CommandContext& ctx) { ttl_generic(ctx, TimeUnit::kMilliseconds, true); }

void persist_command(CommandContext& ctx) {
  Db& db = ctx.db();
  std::string_view key = ctx.args[1];
  const bool persisted = db.find(key, ctx.now_ms) && db.persist(key);
  if (persisted) ctx.notify(notify::kGeneric, "persist", key);
  ctx.reply.integer(persisted ? 1 : 0);
}

// ---------------------------------------------------------------------------
// The table

constexpr CommandSpec make(std::string_view name, int arity, uint32_t flags, uint64_t acl, int first, int last,
                           int step, KeyedHandler handler, std::string_view summary, std::string_view since,
                           std::string_view complexity, KeyFinder finder = nullptr) {
  return keyed_command("generic", name, arity, flags, acl, first, last, step, handler, summary, since, complexity,
                       finder);
}

constexpr uint64_t kKeyRead = kAclKeyspace | kAclRead;
constexpr uint64_t kKeyWrite = kAclKeyspace | kAclWrite;

const CommandSpec kObjectSubcommands[] = {
    make("object|encoding", 3, kCmdReadonly, kKeyRead | kAclSlow, 2, 2, 1, object_encoding_command,
         "Returns the internal encoding of a key's value.", "2.2.3", "O(1)"),
    make("object|freq", 3, kCmdReadonly, kKeyRead | kAclSlow, 2, 2, 1, object_freq_command,
         "Returns the logarithmic access frequency of a key (LFU policies only).", "4.0.0", "O(1)"),
    make("object|help", 2, kCmdLoading | kCmdStale, kAclKeyspace | kAclSlow, 0, 0, 0, object_help_command,
         "Lists the OBJECT subcommands.", "6.2.0", "O(1)"),
    make("object|idletime", 3, kCmdReadonly, kKeyRead | kAclSlow, 2, 2, 1, object_idletime_command,
         "Returns the seconds since a key was last accessed.", "2.2.3", "O(1)"),
    make("object|refcount", 3, kCmdReadonly, kKeyRead | kAclSlow, 2, 2, 1, object_refcount_command,
         "Returns the reference count of a key's value.", "2.2.3", "O(1)"),
};

const CommandSpec kKeySpecs[] = {
    make("del", -2, kCmdWrite, kKeyWrite | kAclSlow, 1, -1, 1, del_command,
         "Deletes keys and returns how many existed.", "1.0.0",
         "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other "
         "than a string, the individual complexity for this key is O(M) where M is the number of elements in "
         "the list, set, sorted set or hash. Removing a single key that holds a string value is O(1)."),
    make("unlink", -2, kCmdWrite | kCmdFast, kKeyWrite | kAclFast, 1, -1, 1, del_command,
         "Deletes keys (memory may be reclaimed later) and returns how many existed.", "4.0.0",
         "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different "
         "thread in order to reclaim memory, where N is the number of allocations the deleted objects where "
         "composed of."),
    make("exists", -2, kCmdReadonly | kCmdFast, kKeyRead | kAclFast, 1, -1, 1, exists_command,
         "Counts how many of the given keys exist, repeated keys counting each time.", "1.0.0",
         "O(N) where N is the number of keys to check."),
    make("type", 2, kCmdReadonly | kCmdFast, kKeyRead | kAclFast, 1, 1, 1, type_command,
         "Returns the type name of a key's value, or none.", "1.0.0", "O(1)"),
    make("rename", 3, kCmdWrite, kKeyWrite | kAclSlow, 1, 2, 1, rename_command,
         "Renames a key, replacing any existing destination; the TTL moves along.", "1.0.0", "O(1)"),
    make("renamenx", 3, kCmdWrite | kCmdFast, kKeyWrite | kAclFast, 1, 2, 1, renamenx_command,
         "Renames a key only if the new name is free.", "1.0.0", "O(1)"),
    make("copy", -3, kCmdWrite | kCmdDenyOom, kKeyWrite | kAclSlow, 1, 2, 1, copy_command,
         "Copies a key's value and TTL to another key, possibly in another database.", "6.2.0",
         "O(N) worst case for collections, where N is the number of nested items. O(1) for string values."),
    make("move", 3, kCmdWrite | kCmdFast, kKeyWrite | kAclFast, 1, 1, 1, move_command,
         "Moves a key to another database if it is not there already.", "1.0.0", "O(1)"),
    make("touch", -2, kCmdReadonly | kCmdFast, kKeyRead | kAclFast, 1, -1, 1, touch_command,
         "Marks keys as accessed and returns how many exist.", "3.2.1",
         "O(N) where N is the number of keys that will be touched."),
    CommandSpec{.name = "object",
                .arity = -2,
                .flags = 0,
                .acl = kAclSlow,
                .group = "generic",
                .summary = "Container for commands that inspect how keys are stored.",
                .since = "2.2.3",
                .complexity = "Depends on subcommand.",
                .subcommands = kObjectSubcommands},
    make("expire", -3, kCmdWrite | kCmdFast, kKeyWrite | kAclFast, 1, 1, 1, expire_command,
         "Sets a key's TTL in seconds (NX/XX/GT/LT conditions).", "1.0.0", "O(1)"),
    make("pexpire", -3, kCmdWrite | kCmdFast, kKeyWrite | kAclFast, 1, 1, 1, pexpire_command,
         "Sets a key's TTL in milliseconds (NX/XX/GT/LT conditions).", "2.6.0", "O(1)"),
    make("expireat", -3, kCmdWrite | kCmdFast, kKeyWrite | kAclFast, 1, 1, 1, expireat_command,
         "Sets when a key expires, as a unix time in seconds.", "1.2.0", "O(1)"),
    make("pexpireat", -3, kCmdWrite | kCmdFast, kKeyWrite | kAclFast, 1, 1, 1, pexpireat_command,
         "Sets when a key expires, as a unix time in milliseconds.", "2.6.0", "O(1)"),
    make("ttl", 2, kCmdReadonly | kCmdFast, kKeyRead | kAclFast, 1, 1, 1, ttl_command,
         "Returns a key's remaining time to live in seconds.", "1.0.0", "O(1)"),
    make("pttl", 2, kCmdReadonly | kCmdFast, kKeyRead | kAclFast, 1, 1, 1, pttl_command,
         "Returns a key's remaining time to live in milliseconds.", "2.6.0", "O(1)"),
    make("expiretime", 2, kCmdReadonly | kCmdFast, kKeyRead | kAclFast, 1, 1, 1, expiretime_command,
         "Returns the unix time in seconds at which a key expires.", "7.0.0", "O(1)"),
    make("pexpiretime", 2, kCmdReadonly | kCmdFast, kKeyRead | kAclFast, 1, 1, 1, pexpiretime_command,
         "Returns the unix time in milliseconds at which a key expires.", "7.0.0", "O(1)"),
    make("persist", 2, kCmdWrite | kCmdFast, kKeyWrite | kAclFast, 1, 1, 1, persist_command,
         "Removes a key's TTL.", "2.2.0", "O(1)"),
};

}  // namespace

std::span<const CommandSpec> key_command_specs() { return kKeySpecs; }

}  // namespace distcache::server
