// List commands: pushes and pops at both ends, ranges and indexes, LINSERT,
// LREM, LTRIM, LPOS, moves between lists, LMPOP and the blocking forms
// (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP).
//
// Argument checks follow redis-server 7.0's order: where Redis parses a
// number before looking the key up (LRANGE, LTRIM, LREM, LPOS, LMPOP) so do
// we, and where it looks the key up first (LINDEX, LSET) so do we.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/commands/expire_util.h"
#include "server/config.h"
#include "storage/list.h"
#include "storage/numbers.h"

namespace distcache::server {
namespace {

using storage::Db;
using storage::List;
using storage::ListEntry;
using storage::ListNeedle;
using storage::Value;
using storage::ValueType;

constexpr std::string_view kMustBePositive = "ERR value is out of range, must be positive";
constexpr std::string_view kRankZero =
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to "
    "start from the end of the list";
constexpr std::string_view kCountNegative = "ERR COUNT can't be negative";
constexpr std::string_view kMaxlenNegative = "ERR MAXLEN can't be negative";
constexpr std::string_view kNumkeys = "ERR numkeys should be greater than 0";
constexpr std::string_view kCountPositive = "ERR count should be greater than 0";
constexpr std::string_view kTimeoutNotFloat = "ERR timeout is not a float or out of range";
constexpr std::string_view kTimeoutNegative = "ERR timeout is negative";

void reply_wrong_type(CommandContext& ctx) { ctx.reply.error(errors::kWrongType); }

void reply_entry(protocol::ReplyBuilder& r, const ListEntry& e) {
  char buf[storage::kInt64StrSize];
  r.bulk(e.view(buf));
}

int64_t list_fill(const CommandContext& ctx) {
  return ctx.config.list_max_listpack_size.load(std::memory_order_relaxed);
}

// Looks up a key that must hold a list. Returns nullptr when it is missing
// (wrong = false) or holds another type (wrong = true).
List* find_list(CommandContext& ctx, std::string_view key, bool& wrong) {
  wrong = false;
  Value* v = ctx.db().find(key, ctx.now_ms);
  if (!v) return nullptr;
  if (v->type() != ValueType::kList) {
    wrong = true;
    return nullptr;
  }
  return &v->as<List>();
}

List& create_list(CommandContext& ctx, std::string_view key) {
  return ctx.db().set(key, Value::make<List>(ValueType::kList, list_fill(ctx))).as<List>();
}

// Deletes the key when the command emptied its list.
void drop_if_empty(CommandContext& ctx, std::string_view key, const List& l) {
  if (!l.empty()) return;
  ctx.db().erase(key, ctx.now_ms);
  ctx.notify(notify::kGeneric, "del", key);
}

std::string_view pop_event(bool left) { return left ? "lpop" : "rpop"; }
std::string_view push_event(bool left) { return left ? "lpush" : "rpush"; }

bool parse_side(std::string_view arg, bool& left) {
  if (is_option(arg, "left")) {
    left = true;
    return true;
  }
  if (is_option(arg, "right")) {
    left = false;
    return true;
  }
  return false;
}

// Normalises a Redis index (negative counts from the end); false if outside.
bool normalize_index(int64_t index, size_t len, size_t& out) {
  const int64_t n = static_cast<int64_t>(len);
  if (index < 0) index += n;
  if (index < 0 || index >= n) return false;
  out = static_cast<size_t>(index);
  return true;
}

// Pops `n` elements from one end, replying with each in pop order.
void pop_and_reply(protocol::ReplyBuilder& r, List& l, bool left, size_t n) {
  n = std::min(n, l.size());
  r.array(n);
  if (left) {
    List::Cursor c = l.cursor(0);
    for (size_t i = 0; i < n; ++i, c.next()) reply_entry(r, c.entry());
    l.erase(0, n);
  } else {
    List::Cursor c = l.cursor(l.size() - 1);
    for (size_t i = 0; i < n; ++i, c.prev()) reply_entry(r, c.entry());
    l.erase(l.size() - n, n);
  }
}

// Blocking timeouts in seconds, as Redis parses them: a long double, times
// 1000, truncated to an integer as the x86 conversion does (values out of the
// 64-bit range become the most negative integer, so "inf" is "negative").
// A timeout that truncates to 0 ms blocks forever, as in Redis.
bool parse_timeout(CommandContext& ctx, std::string_view arg, int64_t& ms) {
  long double v;
  if (!storage::parse_long_double(arg, v)) {
    ctx.reply.error(kTimeoutNotFloat);
    return false;
  }
  const long double x = v * 1000.0L;
  int64_t t;
  if (!(x > -9223372036854775809.0L && x < 9223372036854775808.0L))
    t = std::numeric_limits<int64_t>::min();
  else
    t = static_cast<int64_t>(x);
  if (t < 0) {
    ctx.reply.error(kTimeoutNegative);
    return false;
  }
  // Redis 7.0 adds the timeout to the current time; a sum that overflows
  // ends up blocking forever. Timeouts of decades are forever too (and keep
  // timers away from clock overflow).
  constexpr int64_t kForeverMs = 1'000'000'000'000LL;  // ~31 years
  if (t > kForeverMs) t = 0;
  ms = t;
  return true;
}

// ---------------------------------------------------------------------------
// Pushes

void push_generic(CommandContext& ctx, bool left, bool only_existing) {
  const std::string_view key = ctx.args[1];
  bool wrong;
  List* l = find_list(ctx, key, wrong);
  if (wrong) return reply_wrong_type(ctx);
  if (!l) {
    if (only_existing) return ctx.reply.integer(0);
    l = &create_list(ctx, key);
  }
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    if (left)
      l->push_front(ctx.args[i]);
    else
      l->push_back(ctx.args[i]);
  }
  ctx.notify(notify::kList, push_event(left), key);
  ctx.reply.integer(static_cast<int64_t>(l->size()));
  ctx.signal_key_ready(key);
}

void lpush_command(CommandContext& ctx) { push_generic(ctx, true, false); }
void rpush_command(CommandContext& ctx) { push_generic(ctx, false, false); }
void lpushx_command(CommandContext& ctx) { push_generic(ctx, true, true); }
void rpushx_command(CommandContext& ctx) { push_generic(ctx, false, true); }

// ---------------------------------------------------------------------------
// Pops

void pop_generic(CommandContext& ctx, bool left) {
  if (ctx.args.size() > 3) {
    ctx.reply.error("ERR wrong number of arguments for '" + lower_command_name(ctx) + "' command");
    return;
  }
  const bool has_count = ctx.args.size() == 3;
  int64_t count = 1;
  if (has_count && (!parse_int64(ctx.args[2], count) || count < 0)) return ctx.reply.error(kMustBePositive);
  const std::string_view key = ctx.args[1];
  bool wrong;
  List* l = find_list(ctx, key, wrong);
  if (wrong) return reply_wrong_type(ctx);
  if (!l) return has_count ? ctx.reply.null_array() : ctx.reply.null_bulk();
  if (!has_count) {
    if (left) {
      reply_entry(ctx.reply, l->front());
      l->pop_front();
    } else {
      reply_entry(ctx.reply, l->back());
      l->pop_back();
    }
  } else {
    if (count == 0) return ctx.reply.empty_array();
    pop_and_reply(ctx.reply, *l, left, static_cast<size_t>(count));
  }
  ctx.notify(notify::kList, pop_event(left), key);
  drop_if_empty(ctx, key, *l);
}

void lpop_command(CommandContext& ctx) { pop_generic(ctx, true); }
void rpop_command(CommandContext& ctx) { pop_generic(ctx, false); }

// ---------------------------------------------------------------------------
// Reads

void llen_command(CommandContext& ctx) {
  bool wrong;
  List* l = find_list(ctx, ctx.args[1], wrong);
  if (wrong) return reply_wrong_type(ctx);
  ctx.reply.integer(l ? static_cast<int64_t>(l->size()) : 0);
}

void lrange_command(CommandContext& ctx) {
  int64_t start, end;
  if (!parse_int64(ctx.args[2], start) || !parse_int64(ctx.args[3], end))
    return ctx.reply.error(errors::kNotInteger);
  bool wrong;
  List* l = find_list(ctx, ctx.args[1], wrong);
  if (wrong) return reply_wrong_type(ctx);
  if (!l) return ctx.reply.empty_array();
  const int64_t len = static_cast<int64_t>(l->size());
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return ctx.reply.empty_array();
  if (end >= len) end = len - 1;
  const size_t n = static_cast<size_t>(end - start + 1);
  ctx.reply.array(n);
  List::Cursor c = l->cursor(static_cast<size_t>(start));
  for (size_t i = 0; i < n; ++i, c.next()) reply_entry(ctx.reply, c.entry());
}

void lindex_command(CommandContext& ctx) {
  bool wrong;
  List* l = find_list(ctx, ctx.args[1], wrong);
  if (wrong) return reply_wrong_type(ctx);
  if (!l) return ctx.reply.null_bulk();
  int64_t index;
  if (!parse_int64(ctx.args[2], index)) return ctx.reply.error(errors::kNotInteger);
  size_t i;
  if (!normalize_index(index, l->size(), i)) return ctx.reply.null_bulk();
  reply_entry(ctx.reply, l->at(i));
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]
void lpos_command(CommandContext& ctx) {
  const auto& args = ctx.args;
  int64_t rank = 1;
  int64_t count = -1;  // -1: not given
  int64_t maxlen = 0;
  for (size_t j = 3; j < args.size(); ++j) {
    const bool more = j + 1 < args.size();
    if (more && is_option(args[j], "rank")) {
      if (!parse_int64(args[++j], rank)) return ctx.reply.error(errors::kNotInteger);
      if (rank == 0) return ctx.reply.error(kRankZero);
    } else if (more && is_option(args[j], "count")) {
      if (!parse_int64(args[++j], count) || count < 0) return ctx.reply.error(kCountNegative);
    } else if (more && is_option(args[j], "maxlen")) {
      if (!parse_int64(args[++j], maxlen) || maxlen < 0) return ctx.reply.error(kMaxlenNegative);
    } else {
      return ctx.reply.error(errors::kSyntax);
    }
  }
  const bool has_count = count >= 0;
  bool wrong;
  List* l = find_list(ctx, args[1], wrong);
  if (wrong) return reply_wrong_type(ctx);
  if (!l) return has_count ? ctx.reply.empty_array() : ctx.reply.null_bulk();

  const bool from_tail = rank < 0;
  // Redis negates a negative rank; the most negative one stays negative
  // there, so every match qualifies and COUNT never stops the scan.
  const bool min_rank = rank == std::numeric_limits<int64_t>::min();
  const uint64_t skip = min_rank ? 0 : (from_tail ? 0 - static_cast<uint64_t>(rank) : static_cast<uint64_t>(rank)) - 1;
  uint64_t want = 1;
  if (has_count) want = (count == 0 || min_rank) ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(count);
  const uint64_t scan_limit = maxlen == 0 ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(maxlen);

  const ListNeedle needle(args[2]);
  const size_t len = l->size();
  size_t token = 0;
  if (has_count) token = ctx.reply.begin_deferred();
  uint64_t matches = 0;
  uint64_t reported = 0;
  List::Cursor c = l->cursor(from_tail ? len - 1 : 0);
  for (uint64_t i = 0; c.valid() && i < scan_limit; ++i) {
    if (needle.matches(c.entry()) && ++matches > skip) {
      const int64_t pos = static_cast<int64_t>(from_tail ? len - 1 - i : i);
      ctx.reply.integer(pos);
      if (++reported >= want) break;
    }
    if (from_tail)
      c.prev();
    else
      c.next();
  }
  if (has_count)
    ctx.reply.end_deferred_array(token, reported);
  else if (reported == 0)
    ctx.reply.null_bulk();
}

// ---------------------------------------------------------------------------
// Updates

void lset_command(CommandContext& ctx) {
  bool wrong;
  List* l = find_list(ctx, ctx.args[1], wrong);
  if (wrong) return reply_wrong_type(ctx);
  if (!l) return ctx.reply.error(errors::kNoSuchKey);
  int64_t index;
  if (!parse_int64(ctx.args[2], index)) return ctx.reply.error(errors::kNotInteger);
  size_t i;
  if (!normalize_index(index, l->size(), i)) return ctx.reply.error(errors::kOutOfRange);
  l->set(i, ctx.args[3]);
  ctx.notify(notify::kList, "lset", ctx.args[1]);
  ctx.reply.ok();
}

// LINSERT key BEFORE|AFTER pivot element
void linsert_command(CommandContext& ctx) {
  bool after;
  if (is_option(ctx.args[2], "after"))
    after = true;
  else if (is_option(ctx.args[2], "before"))
    after = false;
  else
    return ctx.reply.error(errors::kSyntax);
  const std::string_view key = ctx.args[1];
  bool wrong;
  List* l = find_list(ctx, key, wrong);
  if (wrong) return reply_wrong_type(ctx);
  if (!l) return ctx.reply.integer(0);
  const std::optional<size_t> pivot = l->find(ListNeedle(ctx.args[3]));
  if (!pivot) return ctx.reply.integer(-1);
  l->insert(*pivot + (after ? 1 : 0), ctx.args[4]);
  ctx.notify(notify::kList, "linsert", key);
  ctx.reply.integer(static_cast<int64_t>(l->size()));
  ctx.signal_key_ready(key);
}

void lrem_command(CommandContext& ctx) {
  int64_t count;
  if (!parse_int64(ctx.args[2], count)) return ctx.reply.error(errors::kNotInteger);
  const std::string_view key = ctx.args[1];
  bool wrong;
  List* l = find_list(ctx, key, wrong);
  if (wrong) return reply_wrong_type(ctx);
  if (!l) return ctx.reply.integer(0);
  const size_t removed = l->remove(ListNeedle(ctx.args[3]), count);
  if (removed) {
    ctx.notify(notify::kList, "lrem", key);
    drop_if_empty(ctx, key, *l);
  }
  ctx.reply.integer(static_cast<int64_t>(removed));
}

void ltrim_command(CommandContext& ctx) {
  int64_t start, end;
  if (!parse_int64(ctx.args[2], start) || !parse_int64(ctx.args[3], end))
    return ctx.reply.error(errors::kNotInteger);
  const std::string_view key = ctx.args[1];
  bool wrong;
  List* l = find_list(ctx, key, wrong);
  if (wrong) return reply_wrong_type(ctx);
  if (!l) return ctx.reply.ok();
  const int64_t len = static_cast<int64_t>(l->size());
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  int64_t ltrim, rtrim;
  if (start > end || start >= len) {
    ltrim = len;
    rtrim = 0;
  } else {
    if (end >= len) end = len - 1;
    ltrim = start;
    rtrim = len - end - 1;
  }
  if (rtrim > 0) l->erase(static_cast<size_t>(len - rtrim), static_cast<size_t>(rtrim));
  if (ltrim > 0) l->erase(0, static_cast<size_t>(ltrim));
  ctx.notify(notify::kList, "ltrim", key);
  drop_if_empty(ctx, key, *l);
  ctx.reply.ok();
}

// ---------------------------------------------------------------------------
// Moves between lists

// Serves LMOVE and friends when the source has an element: replies with the
// moved element (or WRONGTYPE) and returns true. Returns false, with no reply
// written, when the source does not exist.
bool move_serve(CommandContext& ctx, std::string_view src, std::string_view dst, bool from_left, bool to_left) {
  bool wrong;
  List* sl = find_list(ctx, src, wrong);
  if (wrong) {
    reply_wrong_type(ctx);
    return true;
  }
  if (!sl) return false;
  List* dl = find_list(ctx, dst, wrong);
  if (wrong) {
    reply_wrong_type(ctx);
    return true;
  }
  std::string value = (from_left ? sl->front() : sl->back()).to_string();
  if (from_left)
    sl->pop_front();
  else
    sl->pop_back();
  if (src == dst)
    dl = sl;
  else if (!dl)
    dl = &create_list(ctx, dst);
  if (to_left)
    dl->push_front(value);
  else
    dl->push_back(value);
  // Redis's order: the push to the destination, then the pop from the source.
  ctx.notify(notify::kList, push_event(to_left), dst);
  ctx.notify(notify::kList, pop_event(from_left), src);
  if (src != dst) drop_if_empty(ctx, src, *sl);
  ctx.reply.bulk(value);
  ctx.signal_key_ready(dst);
  return true;
}

// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
void lmove_command(CommandContext& ctx) {
  bool from_left, to_left;
  if (!parse_side(ctx.args[3], from_left) || !parse_side(ctx.args[4], to_left))
    return ctx.reply.error(errors::kSyntax);
  if (!move_serve(ctx, ctx.args[1], ctx.args[2], from_left, to_left)) ctx.reply.null_bulk();
}

void rpoplpush_command(CommandContext& ctx) {
  if (!move_serve(ctx, ctx.args[1], ctx.args[2], false, true)) ctx.reply.null_bulk();
}

void block_move(CommandContext& ctx, bool from_left, bool to_left, std::string_view timeout_arg) {
  int64_t timeout_ms;
  if (!parse_timeout(ctx, timeout_arg, timeout_ms)) return;
  if (move_serve(ctx, ctx.args[1], ctx.args[2], from_left, to_left)) return;
  // Redis answers a null bulk when it may not block (MULTI, scripts) but a
  // null array when the wait times out.
  if (!ctx.may_block) return ctx.reply.null_bulk();
  ctx.block(timeout_ms, CommandContext::TimeoutReply::kNullArray);
}

// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout
void blmove_command(CommandContext& ctx) {
  bool from_left, to_left;
  if (!parse_side(ctx.args[3], from_left) || !parse_side(ctx.args[4], to_left))
    return ctx.reply.error(errors::kSyntax);
  block_move(ctx, from_left, to_left, ctx.args[5]);
}

void brpoplpush_command(CommandContext& ctx) { block_move(ctx, false, true, ctx.args[3]); }

// ---------------------------------------------------------------------------
// BLPOP / BRPOP

void blocking_pop(CommandContext& ctx, bool left) {
  int64_t timeout_ms;
  if (!parse_timeout(ctx, ctx.args[ctx.args.size() - 1], timeout_ms)) return;
  for (size_t i = 1; i + 1 < ctx.args.size(); ++i) {
    const std::string_view key = ctx.args[i];
    bool wrong;
    List* l = find_list(ctx, key, wrong);
    if (wrong) return reply_wrong_type(ctx);
    if (!l) continue;
    ctx.reply.array(2);
    ctx.reply.bulk(key);
    if (left) {
      reply_entry(ctx.reply, l->front());
      l->pop_front();
    } else {
      reply_entry(ctx.reply, l->back());
      l->pop_back();
    }
    ctx.notify(notify::kList, pop_event(left), key);
    drop_if_empty(ctx, key, *l);
    return;
  }
  if (!ctx.may_block) return ctx.reply.null_array();
  ctx.block(timeout_ms, CommandContext::TimeoutReply::kNullArray);
}

void blpop_command(CommandContext& ctx) { blocking_pop(ctx, true); }
void brpop_command(CommandContext& ctx) { blocking_pop(ctx, false); }

// ---------------------------------------------------------------------------
// LMPOP / BLMPOP

struct MpopArgs {
  size_t first_key = 0;
  size_t numkeys = 0;
  bool left = true;
  int64_t count = 1;
};

// numkeys key [key ...] LEFT|RIGHT [COUNT count], numkeys at args[idx].
bool parse_mpop(CommandContext& ctx, size_t idx, MpopArgs& out) {
  const auto& args = ctx.args;
  int64_t numkeys;
  if (!parse_int64(args[idx], numkeys) || numkeys < 1) {
    ctx.reply.error(kNumkeys);
    return false;
  }
  if (static_cast<uint64_t>(numkeys) >= args.size() - idx - 1) {
    ctx.reply.error(errors::kSyntax);
    return false;
  }
  out.first_key = idx + 1;
  out.numkeys = static_cast<size_t>(numkeys);
  const size_t where = idx + 1 + out.numkeys;
  if (!parse_side(args[where], out.left)) {
    ctx.reply.error(errors::kSyntax);
    return false;
  }
  bool has_count = false;
  for (size_t j = where + 1; j < args.size(); ++j) {
    if (!has_count && j + 1 < args.size() && is_option(args[j], "count")) {
      if (!parse_int64(args[++j], out.count) || out.count < 1) {
        ctx.reply.error(kCountPositive);
        return false;
      }
      has_count = true;
    } else {
      ctx.reply.error(errors::kSyntax);
      return false;
    }
  }
  return true;
}

// Pops from the first non-empty list: replies [key, [elements]] (or
// WRONGTYPE) and returns true; false with no reply when all are missing.
bool mpop_serve(CommandContext& ctx, const MpopArgs& m) {
  for (size_t i = 0; i < m.numkeys; ++i) {
    const std::string_view key = ctx.args[m.first_key + i];
    bool wrong;
    List* l = find_list(ctx, key, wrong);
    if (wrong) {
      reply_wrong_type(ctx);
      return true;
    }
    if (!l) continue;
    ctx.reply.array(2);
    ctx.reply.bulk(key);
    pop_and_reply(ctx.reply, *l, m.left, static_cast<size_t>(m.count));
    ctx.notify(notify::kList, pop_event(m.left), key);
    drop_if_empty(ctx, key, *l);
    return true;
  }
  return false;
}

void lmpop_command(CommandContext& ctx) {
  MpopArgs m;
  if (!parse_mpop(ctx, 1, m)) return;
  if (!mpop_serve(ctx, m)) ctx.reply.null_array();
}

// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]
void blmpop_command(CommandContext& ctx) {
  MpopArgs m;
  if (!parse_mpop(ctx, 2, m)) return;
  int64_t timeout_ms;
  if (!parse_timeout(ctx, ctx.args[1], timeout_ms)) return;
  if (mpop_serve(ctx, m)) return;
  if (!ctx.may_block) return ctx.reply.null_array();
  ctx.block(timeout_ms, CommandContext::TimeoutReply::kNullArray);
}

// Key positions of LMPOP / BLMPOP: numkeys at `idx`, then the keys.
bool mpop_keys(const protocol::ArgList& args, size_t idx, std::vector<int>& out) {
  if (args.size() <= idx) return false;
  int64_t numkeys;
  if (!parse_int64(args[idx], numkeys) || numkeys < 1) return false;
  if (static_cast<uint64_t>(numkeys) > args.size() - idx - 1) return false;
  for (int64_t i = 0; i < numkeys; ++i) out.push_back(static_cast<int>(idx + 1 + static_cast<size_t>(i)));
  return true;
}

bool lmpop_keys(const protocol::ArgList& args, std::vector<int>& out) { return mpop_keys(args, 1, out); }
bool blmpop_keys(const protocol::ArgList& args, std::vector<int>& out) { return mpop_keys(args, 2, out); }

// ---------------------------------------------------------------------------
// The table

constexpr CommandSpec make(std::string_view name, int arity, uint32_t flags, uint64_t acl, int first, int last,
                           int step, KeyedHandler handler, std::string_view summary, std::string_view since,
                           std::string_view complexity, KeyFinder finder = nullptr) {
  return keyed_command("list", name, arity, flags, acl, first, last, step, handler, summary, since, complexity,
                       finder);
}

constexpr uint64_t kWriteList = kAclWrite | kAclList;
constexpr uint64_t kReadList = kAclRead | kAclList;
constexpr std::string_view kPushComplexity =
    "O(1) for each element added, so O(N) to add N elements when the command is called with multiple "
    "arguments.";
constexpr std::string_view kPopComplexity = "O(N) where N is the number of elements returned";
constexpr std::string_view kMpopComplexity =
    "O(N+M) where N is the number of provided keys and M is the number of elements returned.";

const CommandSpec kListSpecs[] = {
    make("lpush", -3, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteList | kAclFast, 1, 1, 1, lpush_command,
         "Adds elements at the head of a list, creating it if needed; returns the new length.", "1.0.0",
         kPushComplexity),
    make("rpush", -3, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteList | kAclFast, 1, 1, 1, rpush_command,
         "Adds elements at the tail of a list, creating it if needed; returns the new length.", "1.0.0",
         kPushComplexity),
    make("lpushx", -3, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteList | kAclFast, 1, 1, 1, lpushx_command,
         "Adds elements at the head of a list only if the list exists.", "2.2.0", kPushComplexity),
    make("rpushx", -3, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteList | kAclFast, 1, 1, 1, rpushx_command,
         "Adds elements at the tail of a list only if the list exists.", "2.2.0", kPushComplexity),
    make("lpop", -2, kCmdWrite | kCmdFast, kWriteList | kAclFast, 1, 1, 1, lpop_command,
         "Removes and returns the first element, or the first count elements, of a list.", "1.0.0",
         kPopComplexity),
    make("rpop", -2, kCmdWrite | kCmdFast, kWriteList | kAclFast, 1, 1, 1, rpop_command,
         "Removes and returns the last element, or the last count elements, of a list.", "1.0.0",
         kPopComplexity),
    make("llen", 2, kCmdReadonly | kCmdFast, kReadList | kAclFast, 1, 1, 1, llen_command,
         "Returns the number of elements of a list.", "1.0.0", "O(1)"),
    make("lrange", 4, kCmdReadonly, kReadList | kAclSlow, 1, 1, 1, lrange_command,
         "Returns the elements between two inclusive indexes (negative counts from the tail).", "1.0.0",
         "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or "
         "TAIL) for large lists; and N is the number of elements in the specified range."),
    make("lindex", 3, kCmdReadonly, kReadList | kAclSlow, 1, 1, 1, lindex_command,
         "Returns the element at an index (negative counts from the tail), or nil.", "1.0.0",
         "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking "
         "for the first or the last element of the list O(1)."),
    make("lset", 4, kCmdWrite | kCmdDenyOom, kWriteList | kAclSlow, 1, 1, 1, lset_command,
         "Replaces the element at an index.", "1.0.0",
         "O(N) where N is the length of the list. Setting either the first or the last element of the list is "
         "O(1)."),
    make("linsert", 5, kCmdWrite | kCmdDenyOom, kWriteList | kAclSlow, 1, 1, 1, linsert_command,
         "Inserts an element before or after the first occurrence of a pivot element.", "2.2.0",
         "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that "
         "inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere "
         "on the right end (tail) is O(N)."),
    make("lrem", 4, kCmdWrite, kWriteList | kAclSlow, 1, 1, 1, lrem_command,
         "Removes occurrences of an element, from the head, the tail or everywhere.", "1.0.0",
         "O(N+M) where N is the length of the list and M is the number of elements removed."),
    make("ltrim", 4, kCmdWrite, kWriteList | kAclSlow, 1, 1, 1, ltrim_command,
         "Keeps only the elements between two inclusive indexes.", "1.0.0",
         "O(N) where N is the number of elements to be removed by the operation."),
    make("lpos", -3, kCmdReadonly, kReadList | kAclSlow, 1, 1, 1, lpos_command,
         "Returns the index of matching elements, with RANK, COUNT and MAXLEN options.", "6.0.6",
         "O(N) where N is the number of elements in the list, for the average case. When searching for "
         "elements near the head or the tail of the list, or when the MAXLEN option is provided, the command "
         "may run in constant time."),
    make("lmove", 5, kCmdWrite | kCmdDenyOom, kWriteList | kAclSlow, 1, 2, 1, lmove_command,
         "Pops an element from one end of a list and pushes it at one end of another; returns it.", "6.2.0",
         "O(1)"),
    make("rpoplpush", 3, kCmdWrite | kCmdDenyOom, kWriteList | kAclSlow, 1, 2, 1, rpoplpush_command,
         "Pops the last element of a list and pushes it at the head of another; returns it.", "1.2.0", "O(1)"),
    make("lmpop", -4, kCmdWrite, kWriteList | kAclSlow, 0, 0, 0, lmpop_command,
         "Pops one or more elements from the first non-empty list among several keys.", "7.0.0",
         kMpopComplexity, lmpop_keys),
    make("blpop", -3, kCmdWrite | kCmdNoscript | kCmdBlocking, kWriteList | kAclSlow | kAclBlocking, 1, -2, 1,
         blpop_command,
         "Pops the first element of the first non-empty list, or waits until one is pushed.", "2.0.0",
         "O(N) where N is the number of provided keys."),
    make("brpop", -3, kCmdWrite | kCmdNoscript | kCmdBlocking, kWriteList | kAclSlow | kAclBlocking, 1, -2, 1,
         brpop_command,
         "Pops the last element of the first non-empty list, or waits until one is pushed.", "2.0.0",
         "O(N) where N is the number of provided keys."),
    make("blmove", 6, kCmdWrite | kCmdDenyOom | kCmdNoscript | kCmdBlocking,
         kWriteList | kAclSlow | kAclBlocking, 1, 2, 1, blmove_command,
         "LMOVE that waits until the source list has an element.", "6.2.0", "O(1)"),
    make("brpoplpush", 4, kCmdWrite | kCmdDenyOom | kCmdNoscript | kCmdBlocking,
         kWriteList | kAclSlow | kAclBlocking, 1, 2, 1, brpoplpush_command,
         "RPOPLPUSH that waits until the source list has an element.", "2.2.0", "O(1)"),
    make("blmpop", -5, kCmdWrite | kCmdBlocking, kWriteList | kAclSlow | kAclBlocking, 0, 0, 0, blmpop_command,
         "LMPOP that waits until one of the lists has an element.", "7.0.0", kMpopComplexity, blmpop_keys),
};

}  // namespace

std::span<const CommandSpec> list_command_specs() { return kListSpecs; }

}  // namespace distcache::server
