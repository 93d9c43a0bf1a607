// Set commands: SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP,
// SRANDMEMBER, SMOVE, SINTER/SUNION/SDIFF and their STORE forms, SINTERCARD,
// SSCAN. The value type and its two representations are in storage/set_value.h.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/config.h"
#include "storage/glob.h"
#include "storage/numbers.h"
#include "storage/set_value.h"

namespace distcache::server {
namespace {

using storage::Db;
using storage::SetValue;
using storage::Value;
using storage::ValueType;

constexpr std::string_view kMustBePositive = "ERR value is out of range, must be positive";
constexpr std::string_view kSrandCountRange =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
constexpr std::string_view kNumkeysPositive = "ERR numkeys should be greater than 0";
constexpr std::string_view kTooManyKeys = "ERR Number of keys can't be greater than number of args";
constexpr std::string_view kLimitNegative = "ERR LIMIT can't be negative";
constexpr std::string_view kInvalidCursor = "ERR invalid cursor";

// Redis's SPOP switches to "rebuild the rest" when the elements left would be
// at most count / 5, and SRANDMEMBER to "copy and thin out" when count * 3 >
// size; the strategies only change the cost, but the rebuild also re-encodes
// the remaining set (it may become an intset again), which OBJECT ENCODING shows.
constexpr size_t kSpopMoveStrategyMul = 5;
constexpr size_t kSrandSubStrategyMul = 3;

// Per-thread random source for SPOP / SRANDMEMBER.
uint64_t& rng() {
  thread_local uint64_t state = [] {
    std::random_device rd;
    const uint64_t t = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    return (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ t;
  }();
  return state;
}

size_t max_intset_entries(const CommandContext& ctx) {
  const int64_t v = ctx.config.set_max_intset_entries.load(std::memory_order_relaxed);
  return v < 0 ? 0 : static_cast<size_t>(v);
}

Value new_set() { return Value::make<SetValue>(ValueType::kSet); }

// The set stored at `key`, or nullptr when the key does not exist. Sets
// `wrong_type` (and returns nullptr) when the key holds another type.
SetValue* find_set(CommandContext& ctx, std::string_view key, bool& wrong_type) {
  wrong_type = false;
  Value* v = ctx.db().find(key, ctx.now_ms);
  if (v == nullptr) return nullptr;
  if (v->type() != ValueType::kSet) {
    wrong_type = true;
    return nullptr;
  }
  return &v->as<SetValue>();
}

// The set under `key` (nullptr when absent). Returns false after replying
// WRONGTYPE when the key holds another type.
template <typename SetPtr>
bool lookup_set(CommandContext& ctx, std::string_view key, SetPtr& out) {
  bool wrong_type;
  out = find_set(ctx, key, wrong_type);
  if (wrong_type) ctx.reply.error(errors::kWrongType);
  return !wrong_type;
}

// Emits every member of `s` as bulk strings (the caller wrote the header).
void emit_members(CommandContext& ctx, const SetValue& s) {
  s.for_each([&ctx](std::string_view m) { ctx.reply.bulk(m); });
}

// Uniformly picks `k` distinct occupied positions of `s` (k < s.size()).
std::vector<size_t> sample_positions(const SetValue& s, size_t k) {
  std::vector<size_t> picked;
  picked.reserve(k);
  if (k * kSrandSubStrategyMul > s.size()) {
    // Many of them: partial Fisher-Yates over all positions.
    std::vector<size_t> all;
    all.reserve(s.size());
    for (size_t p = 0; p < s.position_end(); ++p)
      if (s.position_used(p)) all.push_back(p);
    for (size_t i = 0; i < k; ++i) {
      const size_t j = i + static_cast<size_t>(storage::next_random(rng()) % (all.size() - i));
      std::swap(all[i], all[j]);
      picked.push_back(all[i]);
    }
    return picked;
  }
  // Few of them: draw until enough distinct ones came up.
  std::unordered_set<size_t> seen;
  seen.reserve(k * 2);
  while (picked.size() < k) {
    const size_t p = s.random_position(rng());
    if (seen.insert(p).second) picked.push_back(p);
  }
  return picked;
}

// ---------------------------------------------------------------------------
// Single-key commands

void sadd_command(CommandContext& ctx) {
  Db& db = ctx.db();
  std::string_view key = ctx.args[1];
  Value* v = db.find(key, ctx.now_ms);
  if (v != nullptr && v->type() != ValueType::kSet) {
    ctx.reply.error(errors::kWrongType);
    return;
  }
  if (v == nullptr) v = &db.set(key, new_set());
  SetValue& s = v->as<SetValue>();
  const size_t max_intset = max_intset_entries(ctx);
  int64_t added = 0;
  if (s.is_intset() && ctx.args.size() > 3) {
    // A batch goes into an intset in one merge.
    std::vector<std::string_view> members;
    members.reserve(ctx.args.size() - 2);
    for (size_t i = 2; i < ctx.args.size(); ++i) members.push_back(ctx.args[i]);
    added = static_cast<int64_t>(s.add_many(members, max_intset));
  } else {
    for (size_t i = 2; i < ctx.args.size(); ++i)
      if (s.add(ctx.args[i], max_intset)) ++added;
  }
  if (added) ctx.notify(notify::kSet, "sadd", key);
  ctx.reply.integer(added);
}

void srem_command(CommandContext& ctx) {
  SetValue* s;
  if (!lookup_set(ctx, ctx.args[1], s)) return;
  int64_t removed = 0;
  if (s != nullptr) {
    for (size_t i = 2; i < ctx.args.size() && !s->empty(); ++i)
      if (s->remove(ctx.args[i])) ++removed;
    if (removed) ctx.notify(notify::kSet, "srem", ctx.args[1]);
    if (s->empty()) {
      ctx.db().erase(ctx.args[1], ctx.now_ms);
      ctx.notify(notify::kGeneric, "del", ctx.args[1]);
    }
  }
  ctx.reply.integer(removed);
}

void smembers_command(CommandContext& ctx) {
  const SetValue* s;
  if (!lookup_set(ctx, ctx.args[1], s)) return;
  if (s == nullptr) {
    ctx.reply.set(0);
    return;
  }
  ctx.reply.set(s->size());
  emit_members(ctx, *s);
}

void sismember_command(CommandContext& ctx) {
  const SetValue* s;
  if (!lookup_set(ctx, ctx.args[1], s)) return;
  ctx.reply.integer(s != nullptr && s->contains(ctx.args[2]) ? 1 : 0);
}

void smismember_command(CommandContext& ctx) {
  const SetValue* s;
  if (!lookup_set(ctx, ctx.args[1], s)) return;
  ctx.reply.array(ctx.args.size() - 2);
  for (size_t i = 2; i < ctx.args.size(); ++i) ctx.reply.integer(s != nullptr && s->contains(ctx.args[i]) ? 1 : 0);
}

void scard_command(CommandContext& ctx) {
  const SetValue* s;
  if (!lookup_set(ctx, ctx.args[1], s)) return;
  ctx.reply.integer(s == nullptr ? 0 : static_cast<int64_t>(s->size()));
}

// ---------------------------------------------------------------------------
// SPOP / SRANDMEMBER

void spop_with_count(CommandContext& ctx) {
  int64_t n;
  if (!storage::parse_int64(ctx.args[2], n) || n < 0) {  // one message for both
    ctx.reply.error(kMustBePositive);
    return;
  }
  std::string_view key = ctx.args[1];
  SetValue* s;
  if (!lookup_set(ctx, key, s)) return;
  if (s == nullptr || n == 0) {
    ctx.reply.set(0);
    return;
  }
  const size_t count = static_cast<size_t>(n);
  const size_t size = s->size();
  if (count >= size) {
    // The whole set goes.
    ctx.reply.set(size);
    emit_members(ctx, *s);
    ctx.db().erase(key, ctx.now_ms);
    ctx.notify(notify::kSet, "spop", key);
    ctx.notify(notify::kGeneric, "del", key);
    return;
  }
  const size_t remaining = size - count;
  ctx.notify(notify::kSet, "spop", key);
  ctx.reply.set(count);
  SetValue::NumBuf buf;
  if (remaining * kSpopMoveStrategyMul > count) {
    // Pop members one at a time.
    for (size_t i = 0; i < count; ++i) {
      const size_t pos = s->random_position(rng());
      ctx.reply.bulk(s->member_at(pos, buf));
      s->erase_position(pos);
    }
    return;
  }
  // Most of the set goes: pick the members that stay, return the others, and
  // rebuild the set from the ones that stay (Redis 7.0 creates a new set the
  // same way, so it is re-encoded from scratch: it may become an intset).
  std::vector<size_t> keep = sample_positions(*s, remaining);
  std::sort(keep.begin(), keep.end());
  SetValue rebuilt;
  const size_t max_intset = max_intset_entries(ctx);
  size_t k = 0;
  for (size_t pos = 0; pos < s->position_end(); ++pos) {
    if (!s->position_used(pos)) continue;
    const std::string_view m = s->member_at(pos, buf);
    if (k < keep.size() && keep[k] == pos) {
      rebuilt.add(m, max_intset);
      ++k;
    } else {
      ctx.reply.bulk(m);
    }
  }
  s->swap(rebuilt);  // the key keeps its TTL
}

void spop_command(CommandContext& ctx) {
  if (ctx.args.size() == 3) {
    spop_with_count(ctx);
    return;
  }
  if (ctx.args.size() > 3) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  SetValue* s;
  if (!lookup_set(ctx, ctx.args[1], s)) return;
  if (s == nullptr) {
    ctx.reply.null_bulk();
    return;
  }
  SetValue::NumBuf buf;
  const size_t pos = s->random_position(rng());
  ctx.reply.bulk(s->member_at(pos, buf));
  s->erase_position(pos);
  ctx.notify(notify::kSet, "spop", ctx.args[1]);
  if (s->empty()) {
    ctx.db().erase(ctx.args[1], ctx.now_ms);
    ctx.notify(notify::kGeneric, "del", ctx.args[1]);
  }
}

void srandmember_with_count(CommandContext& ctx) {
  int64_t n;
  if (!storage::parse_int64(ctx.args[2], n)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  if (n == INT64_MIN) {
    ctx.reply.error(kSrandCountRange);
    return;
  }
  const bool distinct = n >= 0;
  const size_t count = static_cast<size_t>(n >= 0 ? n : -n);
  const SetValue* s;
  if (!lookup_set(ctx, ctx.args[1], s)) return;
  if (s == nullptr || count == 0) {
    ctx.reply.empty_array();
    return;
  }
  SetValue::NumBuf buf;
  if (!distinct || count == 1) {
    // Independent draws, repetitions allowed.
    ctx.reply.array(count);
    for (size_t i = 0; i < count; ++i) ctx.reply.bulk(s->member_at(s->random_position(rng()), buf));
    return;
  }
  if (count >= s->size()) {
    ctx.reply.array(s->size());
    emit_members(ctx, *s);
    return;
  }
  const std::vector<size_t> picked = sample_positions(*s, count);
  ctx.reply.array(count);
  for (size_t pos : picked) ctx.reply.bulk(s->member_at(pos, buf));
}

void srandmember_command(CommandContext& ctx) {
  if (ctx.args.size() == 3) {
    srandmember_with_count(ctx);
    return;
  }
  if (ctx.args.size() > 3) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  const SetValue* s;
  if (!lookup_set(ctx, ctx.args[1], s)) return;
  if (s == nullptr) {
    ctx.reply.null_bulk();
    return;
  }
  SetValue::NumBuf buf;
  ctx.reply.bulk(s->member_at(s->random_position(rng()), buf));
}

// ---------------------------------------------------------------------------
// SMOVE

void smove_command(CommandContext& ctx) {
  Db& db = ctx.db();
  std::string_view src = ctx.args[1];
  std::string_view dst = ctx.args[2];
  std::string_view member = ctx.args[3];
  Value* dv = db.find(dst, ctx.now_ms);
  Value* sv = db.find(src, ctx.now_ms);
  if (sv == nullptr) {
    ctx.reply.integer(0);
    return;
  }
  if (sv->type() != ValueType::kSet || (dv != nullptr && dv->type() != ValueType::kSet)) {
    ctx.reply.error(errors::kWrongType);
    return;
  }
  SetValue& from = sv->as<SetValue>();
  if (src == dst) {
    ctx.reply.integer(from.contains(member) ? 1 : 0);
    return;
  }
  if (!from.remove(member)) {
    ctx.reply.integer(0);
    return;
  }
  ctx.notify(notify::kSet, "srem", src);
  if (from.empty()) {
    db.erase(src, ctx.now_ms);
    ctx.notify(notify::kGeneric, "del", src);
  }
  if (dv == nullptr) dv = &db.set(dst, new_set());
  if (dv->as<SetValue>().add(member, max_intset_entries(ctx))) ctx.notify(notify::kSet, "sadd", dst);
  ctx.reply.integer(1);
}

// ---------------------------------------------------------------------------
// SINTER / SUNION / SDIFF and the STORE forms, SINTERCARD

// Looks up the sets named by args[first, end): nullptr for a missing key.
// Every key is checked; on a key of another type replies WRONGTYPE and
// returns false.
bool collect_sets(CommandContext& ctx, size_t first, size_t end, std::vector<const SetValue*>& out) {
  out.reserve(end - first);
  for (size_t i = first; i < end; ++i) {
    bool wrong_type;
    const SetValue* s = find_set(ctx, ctx.args[i], wrong_type);
    if (wrong_type) {
      ctx.reply.error(errors::kWrongType);
      return false;
    }
    out.push_back(s);
  }
  return true;
}

// Stores `result` under `dst` (replacing any value and TTL), or deletes `dst`
// when the result is empty; replies the result's size.
// `event` is the keyspace event of a stored result ("sinterstore", ...).
void store_result(CommandContext& ctx, std::string_view dst, SetValue&& result, std::string_view event) {
  const size_t n = result.size();
  if (n == 0) {
    if (ctx.db().erase(dst, ctx.now_ms)) ctx.notify(notify::kGeneric, "del", dst);
  } else {
    if (ctx.notify_flags) ctx.db().find(dst, ctx.now_ms);  // reports an expired key first
    ctx.db().set(dst, Value::make<SetValue>(ValueType::kSet, std::move(result)));
    ctx.notify(notify::kSet, event, dst);
  }
  ctx.reply.integer(static_cast<int64_t>(n));
}

enum class InterMode { kReply, kStore, kCardinality };

// SINTER (keys args[first, end)), SINTERSTORE (dst), SINTERCARD (limit; 0 = none).
void sinter_generic(CommandContext& ctx, size_t first, size_t end, InterMode mode, std::string_view dst = {},
                    size_t limit = 0) {
  std::vector<const SetValue*> sets;
  if (!collect_sets(ctx, first, end, sets)) return;
  const bool any_missing = std::find(sets.begin(), sets.end(), nullptr) != sets.end();
  if (any_missing) {
    // The intersection with an empty set is empty.
    switch (mode) {
      case InterMode::kStore:
        if (ctx.db().erase(dst, ctx.now_ms)) ctx.notify(notify::kGeneric, "del", dst);
        ctx.reply.integer(0);
        break;
      case InterMode::kCardinality: ctx.reply.integer(0); break;
      case InterMode::kReply: ctx.reply.set(0); break;
    }
    return;
  }
  // Walk the smallest set, probe the others.
  std::stable_sort(sets.begin(), sets.end(),
                   [](const SetValue* a, const SetValue* b) { return a->size() < b->size(); });
  const SetValue& smallest = *sets[0];
  SetValue result;
  const size_t max_intset = max_intset_entries(ctx);
  size_t found = 0;
  size_t token = 0;
  if (mode == InterMode::kReply) token = ctx.reply.begin_deferred();
  SetValue::NumBuf buf;
  for (size_t pos = 0; pos < smallest.position_end(); ++pos) {
    if (!smallest.position_used(pos)) continue;
    bool in_all = true;
    std::string_view m;
    if (smallest.is_intset()) {
      const int64_t v = smallest.int_at(pos);
      for (size_t j = 1; j < sets.size() && in_all; ++j) in_all = sets[j]->contains_int(v);
      if (in_all) m = smallest.member_at(pos, buf);
    } else {
      m = smallest.member_at(pos, buf);
      for (size_t j = 1; j < sets.size() && in_all; ++j) in_all = sets[j] == sets[0] || sets[j]->contains(m);
    }
    if (!in_all) continue;
    ++found;
    if (mode == InterMode::kReply) {
      ctx.reply.bulk(m);
    } else if (mode == InterMode::kStore) {
      result.add(m, max_intset);
    } else if (limit != 0 && found >= limit) {
      break;
    }
  }
  switch (mode) {
    case InterMode::kReply: ctx.reply.end_deferred_set(token, found); break;
    case InterMode::kStore: store_result(ctx, dst, std::move(result), "sinterstore"); break;
    case InterMode::kCardinality: ctx.reply.integer(static_cast<int64_t>(found)); break;
  }
}

enum class SetOp { kUnion, kDiff };

// SUNION / SDIFF (keys args[first, end)), and their STORE forms when `store`.
void sunion_diff_generic(CommandContext& ctx, size_t first, size_t end, SetOp op, bool store,
                         std::string_view dst = {}) {
  std::vector<const SetValue*> sets;
  if (!collect_sets(ctx, first, end, sets)) return;
  const size_t max_intset = max_intset_entries(ctx);
  SetValue result;
  if (op == SetOp::kUnion) {
    for (const SetValue* s : sets)
      if (s != nullptr) s->for_each([&](std::string_view m) { result.add(m, max_intset); });
  } else if (sets[0] != nullptr) {
    size_t token = 0;
    size_t found = 0;
    if (!store) token = ctx.reply.begin_deferred();
    sets[0]->for_each([&](std::string_view m) {
      for (size_t j = 1; j < sets.size(); ++j)
        if (sets[j] != nullptr && sets[j]->contains(m)) return;
      ++found;
      if (store) {
        result.add(m, max_intset);
      } else {
        ctx.reply.bulk(m);
      }
    });
    if (!store) {
      ctx.reply.end_deferred_set(token, found);
      return;
    }
  }
  if (store) {
    store_result(ctx, dst, std::move(result), op == SetOp::kUnion ? "sunionstore" : "sdiffstore");
    return;
  }
  ctx.reply.set(result.size());
  emit_members(ctx, result);
}

void sinter_command(CommandContext& ctx) { sinter_generic(ctx, 1, ctx.args.size(), InterMode::kReply); }
void sinterstore_command(CommandContext& ctx) {
  sinter_generic(ctx, 2, ctx.args.size(), InterMode::kStore, ctx.args[1]);
}
void sunion_command(CommandContext& ctx) { sunion_diff_generic(ctx, 1, ctx.args.size(), SetOp::kUnion, false); }
void sunionstore_command(CommandContext& ctx) {
  sunion_diff_generic(ctx, 2, ctx.args.size(), SetOp::kUnion, true, ctx.args[1]);
}
void sdiff_command(CommandContext& ctx) { sunion_diff_generic(ctx, 1, ctx.args.size(), SetOp::kDiff, false); }
void sdiffstore_command(CommandContext& ctx) {
  sunion_diff_generic(ctx, 2, ctx.args.size(), SetOp::kDiff, true, ctx.args[1]);
}

// numkeys of SINTERCARD when valid (1 <= numkeys <= arguments left).
std::optional<size_t> sintercard_numkeys(const protocol::ArgList& args, std::string_view* error) {
  int64_t n;
  if (!storage::parse_int64(args[1], n) || n < 1) {
    if (error) *error = kNumkeysPositive;
    return std::nullopt;
  }
  if (static_cast<uint64_t>(n) > args.size() - 2) {
    if (error) *error = kTooManyKeys;
    return std::nullopt;
  }
  return static_cast<size_t>(n);
}

void sintercard_command(CommandContext& ctx) {
  std::string_view error;
  const std::optional<size_t> numkeys = sintercard_numkeys(ctx.args, &error);
  if (!numkeys) {
    ctx.reply.error(error);
    return;
  }
  size_t limit = 0;
  for (size_t j = 2 + *numkeys; j < ctx.args.size(); ++j) {
    if (is_option(ctx.args[j], "limit") && j + 1 < ctx.args.size()) {
      int64_t v;
      if (!storage::parse_int64(ctx.args[j + 1], v) || v < 0) {
        ctx.reply.error(kLimitNegative);
        return;
      }
      limit = static_cast<size_t>(v);
      ++j;
    } else {
      ctx.reply.error(errors::kSyntax);
      return;
    }
  }
  sinter_generic(ctx, 2, 2 + *numkeys, InterMode::kCardinality, {}, limit);
}

bool sintercard_keys(const protocol::ArgList& args, std::vector<int>& out) {
  if (args.size() < 3) return false;
  const std::optional<size_t> numkeys = sintercard_numkeys(args, nullptr);
  if (!numkeys) return false;
  for (size_t i = 0; i < *numkeys; ++i) out.push_back(static_cast<int>(2 + i));
  return true;
}

// ---------------------------------------------------------------------------
// SSCAN

// Redis parses SCAN cursors with strtoul: no leading space, optional sign
// (a negative value wraps), decimal digits, nothing after them (the argument
// is read as a C string, so it ends at a NUL byte), no overflow.
bool parse_scan_cursor(std::string_view arg, uint64_t& out) {
  const std::string s(arg);
  if (!s.empty() && std::isspace(static_cast<unsigned char>(s[0]))) return false;
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) return false;
  out = static_cast<uint64_t>(v);
  return true;
}

void sscan_command(CommandContext& ctx) {
  uint64_t cursor;
  if (!parse_scan_cursor(ctx.args[2], cursor)) {
    ctx.reply.error(kInvalidCursor);
    return;
  }
  const SetValue* s;
  if (!lookup_set(ctx, ctx.args[1], s)) return;
  if (s == nullptr) {
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
  std::vector<std::string> found;
  auto collect = [&](std::string_view m) {
    if (!use_pattern || storage::glob_match(pattern, m)) found.emplace_back(m);
  };
  if (s->is_intset()) {
    s->for_each(collect);
    cursor = 0;
  } else {
    // Like Redis: stop after `count` members were gathered or after visiting
    // 10 * count buckets, whichever comes first (MATCH filters afterwards in
    // Redis, so we count visited members, not matching ones).
    const uint64_t max_steps = static_cast<uint64_t>(count) > UINT64_MAX / 10 ? UINT64_MAX : static_cast<uint64_t>(count) * 10;
    uint64_t steps = 0;
    size_t visited = 0;
    auto visit = [&](std::string_view m) {
      ++visited;
      collect(m);
    };
    do {
      cursor = s->scan(cursor, visit);
    } while (cursor != 0 && steps++ < max_steps && visited < static_cast<uint64_t>(count));
  }
  ctx.reply.array(2);
  ctx.reply.bulk(std::to_string(cursor));
  ctx.reply.array(found.size());
  for (const std::string& m : found) ctx.reply.bulk(m);
}

// ---------------------------------------------------------------------------
// The table

constexpr CommandSpec make(std::string_view name, int arity, uint32_t flags, uint64_t acl, int first, int last,
                           int step, KeyedHandler handler, std::string_view summary, std::string_view since,
                           std::string_view complexity, KeyFinder finder = nullptr) {
  return keyed_command("set", name, arity, flags, acl, first, last, step, handler, summary, since, complexity,
                       finder);
}

constexpr uint64_t kReadSet = kAclRead | kAclSet;
constexpr uint64_t kWriteSet = kAclWrite | kAclSet;
constexpr std::string_view kInterComplexity =
    "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.";
constexpr std::string_view kUnionComplexity = "O(N) where N is the total number of elements in all given sets.";

const CommandSpec kSetSpecs[] = {
    looks_up_member(
        make("sadd", -3, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteSet | kAclFast, 1, 1, 1, sadd_command,
             "Adds members to a set, creating it if needed; returns how many were new.", "1.0.0",
             "O(1) for each element added, so O(N) to add N elements when the command is called with multiple "
             "arguments."),
        2),
    looks_up_member(make("srem", -3, kCmdWrite | kCmdFast, kWriteSet | kAclFast, 1, 1, 1, srem_command,
                         "Removes members from a set; returns how many were there.", "1.0.0",
                         "O(N) where N is the number of members to be removed."),
                    2),
    make("smembers", 2, kCmdReadonly, kReadSet | kAclSlow, 1, 1, 1, smembers_command, "Returns all members of a set.",
         "1.0.0", "O(N) where N is the set cardinality."),
    looks_up_member(make("sismember", 3, kCmdReadonly | kCmdFast, kReadSet | kAclFast, 1, 1, 1, sismember_command,
                         "Tells whether a value is a member of a set.", "1.0.0", "O(1)"),
                    2),
    looks_up_member(make("smismember", -3, kCmdReadonly | kCmdFast, kReadSet | kAclFast, 1, 1, 1, smismember_command,
                         "Tells, for each of several values, whether it is a member of a set.", "6.2.0",
                         "O(N) where N is the number of elements being checked for membership"),
                    2),
    make("scard", 2, kCmdReadonly | kCmdFast, kReadSet | kAclFast, 1, 1, 1, scard_command,
         "Returns the number of members of a set.", "1.0.0", "O(1)"),
    make("spop", -2, kCmdWrite | kCmdFast, kWriteSet | kAclFast, 1, 1, 1, spop_command,
         "Removes and returns one or several random members of a set.", "1.0.0",
         "Without the count argument O(1), otherwise O(N) where N is the value of the passed count."),
    make("srandmember", -2, kCmdReadonly, kReadSet | kAclSlow, 1, 1, 1, srandmember_command,
         "Returns random members of a set: distinct ones for a positive count, possibly repeated ones for a "
         "negative count.",
         "1.0.0", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count."),
    make("smove", 4, kCmdWrite | kCmdFast, kWriteSet | kAclFast, 1, 2, 1, smove_command,
         "Moves a member from one set to another.", "1.0.0", "O(1)"),
    make("sinter", -2, kCmdReadonly, kReadSet | kAclSlow, 1, -1, 1, sinter_command, "Returns the intersection of sets.",
         "1.0.0", kInterComplexity),
    make("sintercard", -3, kCmdReadonly, kReadSet | kAclSlow, 0, 0, 0, sintercard_command,
         "Returns the size of the intersection of sets, counting at most LIMIT members.", "7.0.0", kInterComplexity,
         sintercard_keys),
    make("sunion", -2, kCmdReadonly, kReadSet | kAclSlow, 1, -1, 1, sunion_command, "Returns the union of sets.",
         "1.0.0", kUnionComplexity),
    make("sdiff", -2, kCmdReadonly, kReadSet | kAclSlow, 1, -1, 1, sdiff_command,
         "Returns the members of the first set that are in none of the other sets.", "1.0.0", kUnionComplexity),
    make("sinterstore", -3, kCmdWrite | kCmdDenyOom, kWriteSet | kAclSlow, 1, -1, 1, sinterstore_command,
         "Stores the intersection of sets in a key (deleting it when empty); returns its size.", "1.0.0",
         kInterComplexity),
    make("sunionstore", -3, kCmdWrite | kCmdDenyOom, kWriteSet | kAclSlow, 1, -1, 1, sunionstore_command,
         "Stores the union of sets in a key (deleting it when empty); returns its size.", "1.0.0", kUnionComplexity),
    make("sdiffstore", -3, kCmdWrite | kCmdDenyOom, kWriteSet | kAclSlow, 1, -1, 1, sdiffstore_command,
         "Stores the difference of sets in a key (deleting it when empty); returns its size.", "1.0.0",
         kUnionComplexity),
    make("sscan", -3, kCmdReadonly, kReadSet | kAclSlow, 1, 1, 1, sscan_command,
         "Iterates over the members of a set with a cursor.", "2.8.0",
         "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to "
         "return back to 0. N is the number of elements inside the collection."),
};

}  // namespace

std::span<const CommandSpec> set_command_specs() { return kSetSpecs; }

}  // namespace distcache::server
