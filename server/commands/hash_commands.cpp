// Hash commands: HSET family, reads, counters, HRANDFIELD and HSCAN.
// The data type itself (listpack / hashtable encodings) is storage/hash_value.h.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/commands/expire_util.h"
#include "server/config.h"
#include "storage/glob.h"
#include "storage/hash_value.h"
#include "storage/numbers.h"

namespace distcache::server {
namespace {

using storage::Db;
using storage::HashValue;
using storage::Value;
using storage::ValueType;

constexpr std::string_view kHashNotInteger = "ERR hash value is not an integer";
constexpr std::string_view kHashNotFloat = "ERR hash value is not a float";

storage::HashLimits hash_limits(const CommandContext& ctx) {
  const int64_t entries = ctx.config.hash_max_listpack_entries.load(std::memory_order_relaxed);
  const int64_t value = ctx.config.hash_max_listpack_value.load(std::memory_order_relaxed);
  return {static_cast<size_t>(std::max<int64_t>(entries, 0)), static_cast<size_t>(std::max<int64_t>(value, 0))};
}

// Looks the key up for reading or updating. Returns false (after replying
// WRONGTYPE) if it holds another type; `out` is null when the key is absent.
bool lookup_hash(CommandContext& ctx, std::string_view key, HashValue*& out) {
  Value* v = ctx.db().find(key, ctx.now_ms);
  out = nullptr;
  if (v == nullptr) return true;
  if (v->type() != ValueType::kHash) {
    ctx.reply.error(errors::kWrongType);
    return false;
  }
  out = &v->as<HashValue>();
  return true;
}

HashValue& create_hash(CommandContext& ctx, std::string_view key) {
  return ctx.db().set(key, Value::make<HashValue>(ValueType::kHash)).as<HashValue>();
}

// Per-thread random source for HRANDFIELD.
uint64_t& rng_state() {
  thread_local uint64_t state = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }();
  return state;
}

// ---------------------------------------------------------------------------
// Writes

void hset_generic(CommandContext& ctx, bool reply_ok) {
  if (ctx.args.size() % 2 == 1) {
    ctx.reply.error("ERR wrong number of arguments for '" + lower_command_name(ctx) + "' command");
    return;
  }
  std::string_view key = ctx.args[1];
  HashValue* h;
  if (!lookup_hash(ctx, key, h)) return;
  if (h == nullptr) h = &create_hash(ctx, key);
  const storage::HashLimits limits = hash_limits(ctx);
  size_t longest = 0, total = 0;
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    longest = std::max(longest, ctx.args[i].size());
    total += ctx.args[i].size();
  }
  h->convert_if_args_exceed(longest, total, limits);
  int64_t created = 0;
  for (size_t i = 2; i + 1 < ctx.args.size(); i += 2) created += h->set(ctx.args[i], ctx.args[i + 1], limits);
  ctx.notify(notify::kHash, "hset", key);
  if (reply_ok)
    ctx.reply.ok();
  else
    ctx.reply.integer(created);
}

void hset_command(CommandContext& ctx) { hset_generic(ctx, false); }
void hmset_command(CommandContext& ctx) { hset_generic(ctx, true); }

void hsetnx_command(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  HashValue* h;
  if (!lookup_hash(ctx, key, h)) return;
  if (h != nullptr && h->contains(ctx.args[2])) {
    ctx.reply.integer(0);
    return;
  }
  if (h == nullptr) h = &create_hash(ctx, key);
  const storage::HashLimits limits = hash_limits(ctx);
  h->convert_if_args_exceed(std::max(ctx.args[2].size(), ctx.args[3].size()),
                            ctx.args[2].size() + ctx.args[3].size(), limits);
  h->set(ctx.args[2], ctx.args[3], limits);
  ctx.notify(notify::kHash, "hset", key);
  ctx.reply.integer(1);
}

void hdel_command(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  HashValue* h;
  if (!lookup_hash(ctx, key, h)) return;
  if (h == nullptr) {
    ctx.reply.integer(0);
    return;
  }
  int64_t deleted = 0;
  bool removed = false;
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    if (!h->erase(ctx.args[i])) continue;
    ++deleted;
    if (h->length() == 0) {
      ctx.db().erase(key, ctx.now_ms);
      removed = true;
      break;
    }
  }
  if (deleted) ctx.notify(notify::kHash, "hdel", key);
  if (removed) ctx.notify(notify::kGeneric, "del", key);
  ctx.reply.integer(deleted);
}

void hincrby_command(CommandContext& ctx) {
  int64_t incr;
  if (!storage::parse_int64(ctx.args[3], incr)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  std::string_view key = ctx.args[1];
  HashValue* h;
  if (!lookup_hash(ctx, key, h)) return;
  int64_t value = 0;
  if (h != nullptr) {
    if (auto cur = h->get(ctx.args[2])) {
      if (!storage::parse_int64(*cur, value)) {
        ctx.reply.error(kHashNotInteger);
        return;
      }
    }
  }
  int64_t result;
  if (__builtin_add_overflow(value, incr, &result)) {
    ctx.reply.error(errors::kOverflow);
    return;
  }
  char buf[storage::kInt64StrSize];
  std::string_view text(buf, storage::format_int64(result, buf));
  if (h == nullptr) h = &create_hash(ctx, key);
  h->set(ctx.args[2], text, hash_limits(ctx));
  ctx.notify(notify::kHash, "hincrby", key);
  ctx.reply.integer(result);
}

void hincrbyfloat_command(CommandContext& ctx) {
  long double incr;
  if (!storage::parse_long_double(ctx.args[3], incr)) {
    ctx.reply.error(errors::kNotFloat);
    return;
  }
  if (std::isnan(incr) || std::isinf(incr)) {
    ctx.reply.error("ERR value is NaN or Infinity");
    return;
  }
  std::string_view key = ctx.args[1];
  HashValue* h;
  if (!lookup_hash(ctx, key, h)) return;
  long double value = 0;
  if (h != nullptr) {
    if (auto cur = h->get(ctx.args[2])) {
      if (!storage::parse_long_double(*cur, value)) {
        ctx.reply.error(kHashNotFloat);
        return;
      }
    }
  }
  value += incr;
  if (std::isnan(value) || std::isinf(value)) {
    ctx.reply.error("ERR increment would produce NaN or Infinity");
    return;
  }
  const std::string text = storage::format_long_double_human(value);
  if (h == nullptr) h = &create_hash(ctx, key);
  h->set(ctx.args[2], text, hash_limits(ctx));
  ctx.notify(notify::kHash, "hincrbyfloat", key);
  ctx.reply.bulk(text);
}

// ---------------------------------------------------------------------------
// Reads

void hget_command(CommandContext& ctx) {
  HashValue* h;
  if (!lookup_hash(ctx, ctx.args[1], h)) return;
  std::optional<std::string_view> v;
  if (h != nullptr) v = h->get(ctx.args[2]);
  if (v)
    ctx.reply.bulk(*v);
  else
    ctx.reply.null_bulk();
}

void hmget_command(CommandContext& ctx) {
  HashValue* h;
  if (!lookup_hash(ctx, ctx.args[1], h)) return;
  ctx.reply.array(ctx.args.size() - 2);
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    std::optional<std::string_view> v;
    if (h != nullptr) v = h->get(ctx.args[i]);
    if (v)
      ctx.reply.bulk(*v);
    else
      ctx.reply.null_bulk();
  }
}

void hlen_command(CommandContext& ctx) {
  HashValue* h;
  if (!lookup_hash(ctx, ctx.args[1], h)) return;
  ctx.reply.integer(h ? static_cast<int64_t>(h->length()) : 0);
}

void hstrlen_command(CommandContext& ctx) {
  HashValue* h;
  if (!lookup_hash(ctx, ctx.args[1], h)) return;
  std::optional<std::string_view> v;
  if (h != nullptr) v = h->get(ctx.args[2]);
  ctx.reply.integer(v ? static_cast<int64_t>(v->size()) : 0);
}

void hexists_command(CommandContext& ctx) {
  HashValue* h;
  if (!lookup_hash(ctx, ctx.args[1], h)) return;
  ctx.reply.integer(h != nullptr && h->contains(ctx.args[2]) ? 1 : 0);
}

enum GetAllParts : unsigned { kFields = 1, kValues = 2 };

void getall_generic(CommandContext& ctx, unsigned parts) {
  HashValue* h;
  if (!lookup_hash(ctx, ctx.args[1], h)) return;
  const size_t n = h ? h->length() : 0;
  if (parts == (kFields | kValues))
    ctx.reply.map(n);
  else
    ctx.reply.array(n);
  if (h == nullptr) return;
  h->for_each([&](std::string_view f, std::string_view v) {
    if (parts & kFields) ctx.reply.bulk(f);
    if (parts & kValues) ctx.reply.bulk(v);
  });
}

void hkeys_command(CommandContext& ctx) { getall_generic(ctx, kFields); }
void hvals_command(CommandContext& ctx) { getall_generic(ctx, kValues); }
void hgetall_command(CommandContext& ctx) { getall_generic(ctx, kFields | kValues); }

// ---------------------------------------------------------------------------
// HRANDFIELD key [count [WITHVALUES]]

void reply_pair(CommandContext& ctx, const HashValue::Pair& p, bool withvalues) {
  if (withvalues && ctx.reply.resp() > 2) ctx.reply.array(2);
  ctx.reply.bulk(p.first);
  if (withvalues) ctx.reply.bulk(p.second);
}

void hrandfield_command(CommandContext& ctx) {
  const size_t argc = ctx.args.size();
  if (argc == 2) {
    HashValue* h;
    if (!lookup_hash(ctx, ctx.args[1], h)) return;
    if (h == nullptr) {
      ctx.reply.null_bulk();
      return;
    }
    ctx.reply.bulk(h->random_pair(rng_state()).first);
    return;
  }
  int64_t l;
  if (!storage::parse_int64(ctx.args[2], l)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  if (l == std::numeric_limits<int64_t>::min()) {
    ctx.reply.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
    return;
  }
  bool withvalues = false;
  if (argc > 4 || (argc == 4 && !is_option(ctx.args[3], "withvalues"))) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  if (argc == 4) {
    withvalues = true;
    constexpr int64_t kHalf = std::numeric_limits<int64_t>::max() / 2;
    if (l < -kHalf || l > kHalf) {
      ctx.reply.error("ERR value is out of range");
      return;
    }
  }
  HashValue* h;
  if (!lookup_hash(ctx, ctx.args[1], h)) return;
  if (h == nullptr || l == 0) {
    ctx.reply.empty_array();
    return;
  }
  const bool distinct = l > 0;
  size_t count = static_cast<size_t>(l > 0 ? l : -l);
  const size_t size = h->length();
  if (distinct && count > size) count = size;
  const bool flat = withvalues && ctx.reply.resp() == 2;
  ctx.reply.array(flat ? count * 2 : count);

  uint64_t& rng = rng_state();
  std::vector<HashValue::Pair> picks;
  if (!distinct) {
    // Independent draws, in bounded batches so a huge count needs no huge buffer.
    constexpr size_t kBatch = 1024;
    while (count > 0) {
      const size_t n = std::min(count, kBatch);
      picks.clear();
      h->random_pairs(n, false, rng, picks);
      for (const auto& p : picks) reply_pair(ctx, p, withvalues);
      count -= n;
    }
    return;
  }
  if (count == size) {
    h->for_each([&](std::string_view f, std::string_view v) { reply_pair(ctx, {f, v}, withvalues); });
    return;
  }
  h->random_pairs(count, true, rng, picks);
  for (const auto& p : picks) reply_pair(ctx, p, withvalues);
}

// ---------------------------------------------------------------------------
// HSCAN key cursor [MATCH pattern] [COUNT count]

// The cursor as Redis reads it with strtoul(): optional sign, decimal digits,
// read up to the first NUL; "" is 0; a leading space, other trailing bytes or
// overflow are errors; "-n" wraps modulo 2^64.
bool parse_scan_cursor(std::string_view arg, uint64_t& out) {
  std::string_view s = c_string_prefix(arg);
  if (s.empty()) {
    out = 0;
    return true;
  }
  size_t i = 0;
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    ++i;
  }
  if (i == s.size()) return false;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return false;
    v = v * 10 + d;
  }
  out = negative ? 0 - v : v;
  return true;
}

void hscan_command(CommandContext& ctx) {
  uint64_t cursor;
  if (!parse_scan_cursor(ctx.args[2], cursor)) {
    ctx.reply.error("ERR invalid cursor");
    return;
  }
  HashValue* h;
  if (!lookup_hash(ctx, ctx.args[1], h)) return;
  if (h == nullptr) {
    ctx.reply.array(2);
    ctx.reply.bulk("0");
    ctx.reply.empty_array();
    return;
  }
  ScanOptions opts;
  if (auto error = parse_scan_options(ctx.args, 3, opts); !error.empty()) {
    ctx.reply.error(error);
    return;
  }
  const int64_t count = opts.count;
  const std::string_view pattern = opts.pattern;
  const bool use_pattern = opts.use_pattern;
  std::vector<HashValue::Pair> found;
  const uint64_t next = h->scan(cursor, static_cast<size_t>(count), [&](std::string_view f, std::string_view v) {
    if (!use_pattern || storage::glob_match(pattern, f)) found.emplace_back(f, v);
  });
  ctx.reply.array(2);
  ctx.reply.bulk(std::to_string(next));
  ctx.reply.array(found.size() * 2);
  for (const auto& [f, v] : found) {
    ctx.reply.bulk(f);
    ctx.reply.bulk(v);
  }
}

// ---------------------------------------------------------------------------
// The table

constexpr uint64_t kWriteHash = kAclWrite | kAclHash;
constexpr uint64_t kReadHash = kAclRead | kAclHash;

constexpr CommandSpec make(std::string_view name, int arity, uint32_t flags, uint64_t acl, KeyedHandler handler,
                           std::string_view summary, std::string_view since, std::string_view complexity) {
  return CommandSpec{.name = name,
                     .arity = arity,
                     .flags = flags,
                     .acl = acl,
                     .first_key = 1,
                     .last_key = 1,
                     .key_step = 1,
                     .keyed = handler,
                     .group = "hash",
                     .summary = summary,
                     .since = since,
                     .complexity = complexity};
}

constexpr std::string_view kWholeHash = "O(N) where N is the size of the hash.";

const CommandSpec kHashSpecs[] = {
    looks_up_member(
        make("hset", -4, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteHash | kAclFast, hset_command,
             "Sets one or more fields of a hash; returns how many fields were added.", "2.0.0",
             "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called "
             "with multiple field/value pairs."),
        2),
    looks_up_member(make("hsetnx", 4, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteHash | kAclFast, hsetnx_command,
                         "Sets a hash field only if it does not exist yet.", "2.0.0", "O(1)"),
                    2),
    looks_up_member(make("hmset", -4, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteHash | kAclFast, hmset_command,
                         "Sets one or more fields of a hash (old form of HSET that replies OK).", "2.0.0",
                         "O(N) where N is the number of fields being set."),
                    2),
    looks_up_member(make("hget", 3, kCmdReadonly | kCmdFast, kReadHash | kAclFast, hget_command,
                         "Returns the value of a hash field, or nil.", "2.0.0", "O(1)"),
                    2),
    looks_up_member(make("hmget", -3, kCmdReadonly | kCmdFast, kReadHash | kAclFast, hmget_command,
                         "Returns the values of several hash fields (nil for missing ones).", "2.0.0",
                         "O(N) where N is the number of fields being requested."),
                    2),
    looks_up_member(
        make("hdel", -3, kCmdWrite | kCmdFast, kWriteHash | kAclFast, hdel_command,
             "Removes fields from a hash (the key goes when the last one does); returns how many were removed.",
             "2.0.0", "O(N) where N is the number of fields to be removed."),
        2),
    make("hlen", 2, kCmdReadonly | kCmdFast, kReadHash | kAclFast, hlen_command,
         "Returns the number of fields in a hash.", "2.0.0", "O(1)"),
    looks_up_member(make("hstrlen", 3, kCmdReadonly | kCmdFast, kReadHash | kAclFast, hstrlen_command,
                         "Returns the length in bytes of a hash field's value.", "3.2.0", "O(1)"),
                    2),
    looks_up_member(make("hexists", 3, kCmdReadonly | kCmdFast, kReadHash | kAclFast, hexists_command,
                         "Tells whether a hash field exists.", "2.0.0", "O(1)"),
                    2),
    make("hkeys", 2, kCmdReadonly, kReadHash | kAclSlow, hkeys_command, "Returns every field of a hash.", "2.0.0",
         kWholeHash),
    make("hvals", 2, kCmdReadonly, kReadHash | kAclSlow, hvals_command, "Returns every value of a hash.", "2.0.0",
         kWholeHash),
    make("hgetall", 2, kCmdReadonly, kReadHash | kAclSlow, hgetall_command,
         "Returns every field and value of a hash (a map in RESP3).", "2.0.0", kWholeHash),
    looks_up_member(make("hincrby", 4, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteHash | kAclFast, hincrby_command,
                         "Adds an integer to the integer stored in a hash field.", "2.0.0", "O(1)"),
                    2),
    looks_up_member(
        make("hincrbyfloat", 4, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteHash | kAclFast, hincrbyfloat_command,
             "Adds a floating-point number to the number stored in a hash field.", "2.6.0", "O(1)"),
        2),
    make("hrandfield", -2, kCmdReadonly, kReadHash | kAclSlow, hrandfield_command,
         "Returns random fields of a hash (distinct for a positive count, optionally with values).", "6.2.0",
         "O(N) where N is the number of fields returned"),
    make("hscan", -3, kCmdReadonly, kReadHash | kAclSlow, hscan_command,
         "Iterates over the fields and values of a hash with a cursor.", "2.8.0",
         "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to "
         "return back to 0. N is the number of elements inside the collection.."),
};

}  // namespace

std::span<const CommandSpec> hash_command_specs() { return kHashSpecs; }

}  // namespace distcache::server
