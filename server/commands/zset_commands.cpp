// Sorted-set commands (Redis group "sorted-set"): ZADD and friends, range
// queries by rank / score / lex, pops (including the blocking ones), the set
// algebra commands (ZUNION/ZINTER/ZDIFF and their STORE forms, which also take
// plain sets as inputs with score 1), ZRANDMEMBER and ZSCAN.
//
// Argument validation follows Redis 7.0's order (which error wins when several
// apply), checked against redis-server.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "server/commands/zset_access.h"
#include "server/commands/arg_util.h"
#include "server/config.h"
#include "storage/glob.h"
#include "storage/numbers.h"
#include "storage/set_value.h"
#include "storage/zset_value.h"

namespace distcache::server {
namespace {

using storage::Db;
using storage::SetValue;
using storage::Value;
using storage::ValueType;
using storage::ZLexBound;
using storage::ZLexRange;
using storage::ZScoreRange;
using storage::ZSetLimits;
using storage::ZSetValue;
using Entry = ZSetValue::Entry;

constexpr std::string_view kMinMaxNotFloat = "ERR min or max is not a float";
constexpr std::string_view kNotLexRange = "ERR min or max not valid string range item";
constexpr std::string_view kNaNResult = "ERR resulting score is not a number (NaN)";
constexpr std::string_view kNotPositive = "ERR value is out of range, must be positive";

// ---------------------------------------------------------------------------
// Helpers

// Replies one element of a member list: with scores, RESP3 nests each pair.
void reply_entry(protocol::ReplyBuilder& r, std::string_view member, double score, bool withscores) {
  if (withscores && r.resp() > 2) r.array(2);
  r.bulk(member);
  if (withscores) r.double_value(score);
}

// Header of a list of n elements (RESP2 flattens member/score pairs).
void reply_list_header(protocol::ReplyBuilder& r, size_t n, bool withscores) {
  r.array(withscores && r.resp() == 2 ? n * 2 : n);
}

// strtod over the argument as a C string (Redis parses ranges that way: bytes
// after a NUL are ignored, leading spaces and "" are accepted).
bool strtod_cstring(std::string_view s, double& out) {
  s = c_string_prefix(s);
  char small[64];
  std::string big;
  const char* p;
  if (s.size() < sizeof(small)) {
    std::memcpy(small, s.data(), s.size());
    small[s.size()] = '\0';
    p = small;
  } else {
    big.assign(s);
    p = big.c_str();
  }
  char* end = nullptr;
  out = std::strtod(p, &end);
  return *end == '\0' && !std::isnan(out);
}

bool parse_score_bound(std::string_view arg, double& v, bool& ex) {
  ex = false;
  if (!arg.empty() && arg[0] == '(') {
    ex = true;
    arg.remove_prefix(1);
  }
  return strtod_cstring(arg, v);
}

bool parse_score_range(std::string_view min, std::string_view max, ZScoreRange& r) {
  return parse_score_bound(min, r.min, r.minex) && parse_score_bound(max, r.max, r.maxex);
}

bool parse_lex_bound(std::string_view arg, ZLexBound& b) {
  if (arg.empty()) return false;
  switch (arg[0]) {
    case '+':
    case '-':
      if (arg.size() > 1 && arg[1] != '\0') return false;
      b.kind = arg[0] == '+' ? ZLexBound::kPlusInf : ZLexBound::kMinusInf;
      b.ex = true;
      return true;
    case '(':
    case '[':
      b.kind = ZLexBound::kValue;
      b.ex = arg[0] == '(';
      b.value = arg.substr(1);
      return true;
    default:
      return false;
  }
}

bool parse_lex_range(std::string_view min, std::string_view max, ZLexRange& r) {
  return parse_lex_bound(min, r.min) && parse_lex_bound(max, r.max);
}

// Redis's rank sanitizing; false when the range is empty.
bool clamp_rank_range(int64_t start, int64_t end, size_t size, size_t& first, size_t& last) {
  const int64_t len = static_cast<int64_t>(size);
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return false;
  if (end >= len) end = len - 1;
  first = static_cast<size_t>(start);
  last = static_cast<size_t>(end);
  return true;
}

// A new sorted set holding `sorted` (ascending, distinct members) in the
// encoding Redis ends up with for a freshly built destination.
std::unique_ptr<ZSetValue> build_zset(const std::vector<Entry>& sorted, const ZSetLimits& limits) {
  size_t maxlen = 0, total = 0;
  for (const Entry& e : sorted) {
    maxlen = std::max(maxlen, e.member.size());
    total += e.member.size();
  }
  const bool listpack =
      sorted.size() <= limits.max_listpack_entries && maxlen <= limits.max_listpack_value && total <= (size_t{1} << 30);
  return ZSetValue::from_sorted(sorted, listpack ? ZSetValue::Encoding::kListpack : ZSetValue::Encoding::kSkiplist);
}

// `event` is the keyspace event of a stored result ("zunionstore", ...).
void store_result(CommandContext& ctx, std::string_view dst, const std::vector<Entry>& sorted,
                  std::string_view event) {
  Db& db = ctx.db();
  if (sorted.empty()) {
    if (db.erase(dst, ctx.now_ms)) ctx.notify(notify::kGeneric, "del", dst);
    ctx.reply.integer(0);
    return;
  }
  std::unique_ptr<ZSetValue> z = build_zset(sorted, zset_limits(ctx));
  if (ctx.notify_flags) db.find(dst, ctx.now_ms);  // reports an expired key first
  db.set(dst, Value::collection(ValueType::kZSet, std::move(z)));
  ctx.notify(notify::kZset, event, dst);
  ctx.signal_key_ready(dst);
  ctx.reply.integer(static_cast<int64_t>(sorted.size()));
}

bool entry_less(const Entry& a, const Entry& b) {
  return a.score < b.score || (a.score == b.score && a.member < b.member);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

uint64_t& rng_state() {
  thread_local uint64_t state = std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32);
  return state;
}
uint64_t random_u64() { return storage::next_random(rng_state()); }

// ---------------------------------------------------------------------------
// ZADD / ZINCRBY

void zadd_generic(CommandContext& ctx, unsigned flags) {
  const auto& a = ctx.args;
  size_t scoreidx = 2;
  bool ch = false;
  while (scoreidx < a.size()) {
    std::string_view opt = a[scoreidx];
    if (is_option(opt, "nx"))
      flags |= ZSetValue::kAddNx;
    else if (is_option(opt, "xx"))
      flags |= ZSetValue::kAddXx;
    else if (is_option(opt, "ch"))
      ch = true;
    else if (is_option(opt, "incr"))
      flags |= ZSetValue::kAddIncr;
    else if (is_option(opt, "gt"))
      flags |= ZSetValue::kAddGt;
    else if (is_option(opt, "lt"))
      flags |= ZSetValue::kAddLt;
    else
      break;
    ++scoreidx;
  }
  const bool incr = flags & ZSetValue::kAddIncr, nx = flags & ZSetValue::kAddNx, xx = flags & ZSetValue::kAddXx;
  const bool gt = flags & ZSetValue::kAddGt, lt = flags & ZSetValue::kAddLt;

  size_t elements = a.size() - scoreidx;
  if (elements % 2 != 0 || elements == 0) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  elements /= 2;
  if (nx && xx) {
    ctx.reply.error("ERR XX and NX options at the same time are not compatible");
    return;
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    ctx.reply.error("ERR GT, LT, and/or NX options at the same time are not compatible");
    return;
  }
  if (incr && elements > 1) {
    ctx.reply.error("ERR INCR option supports a single increment-element pair");
    return;
  }
  // All scores are checked before anything changes.
  double small[16];
  std::vector<double> big;
  double* scores = small;
  if (elements > std::size(small)) {
    big.resize(elements);
    scores = big.data();
  }
  for (size_t j = 0; j < elements; ++j) {
    if (!storage::parse_double(a[scoreidx + j * 2], scores[j])) {
      ctx.reply.error(errors::kNotFloat);
      return;
    }
  }

  std::string_view key = a[1];
  ZSetValue* z;
  if (!get_zset(ctx, key, z)) return;
  int64_t added = 0, updated = 0, processed = 0;
  double score = 0;
  if (!z) {
    if (xx) {
      if (incr)
        ctx.reply.null_bulk();
      else
        ctx.reply.integer(0);
      return;
    }
    Value& v = ctx.db().set(key, Value::make<ZSetValue>(ValueType::kZSet));
    z = &v.as<ZSetValue>();
  }
  const ZSetLimits limits = zset_limits(ctx);
  for (size_t j = 0; j < elements; ++j) {
    double newscore = 0;
    const auto r = z->add(scores[j], a[scoreidx + 1 + j * 2], flags, limits, &newscore);
    if (r == ZSetValue::AddResult::kNaN) {
      ctx.reply.error(kNaNResult);
      if (z->size() == 0) ctx.db().erase(key, ctx.now_ms);
      if (added) ctx.signal_key_ready(key);
      return;
    }
    if (r == ZSetValue::AddResult::kAdded) ++added;
    if (r == ZSetValue::AddResult::kUpdated) ++updated;
    if (r != ZSetValue::AddResult::kNop) ++processed;
    score = newscore;
  }
  if (added || updated) ctx.notify(notify::kZset, incr ? "zincr" : "zadd", key);
  if (added) ctx.signal_key_ready(key);
  if (incr) {
    if (processed)
      ctx.reply.double_value(score);
    else
      ctx.reply.null_bulk();
  } else {
    ctx.reply.integer(ch ? added + updated : added);
  }
}

void zadd_command(CommandContext& ctx) { zadd_generic(ctx, 0); }
void zincrby_command(CommandContext& ctx) { zadd_generic(ctx, ZSetValue::kAddIncr); }

// ---------------------------------------------------------------------------
// Single-element reads

void zscore_command(CommandContext& ctx) {
  ZSetValue* z;
  if (!get_zset(ctx, ctx.args[1], z)) return;
  double s;
  if (!z || !z->score(ctx.args[2], s)) {
    ctx.reply.null_bulk();
    return;
  }
  ctx.reply.double_value(s);
}

void zmscore_command(CommandContext& ctx) {
  ZSetValue* z;
  if (!get_zset(ctx, ctx.args[1], z)) return;
  ctx.reply.array(ctx.args.size() - 2);
  for (size_t j = 2; j < ctx.args.size(); ++j) {
    double s;
    if (z && z->score(ctx.args[j], s))
      ctx.reply.double_value(s);
    else
      ctx.reply.null_bulk();
  }
}

void zcard_command(CommandContext& ctx) {
  ZSetValue* z;
  if (!get_zset(ctx, ctx.args[1], z)) return;
  ctx.reply.integer(z ? static_cast<int64_t>(z->size()) : 0);
}

void zrank_generic(CommandContext& ctx, bool reverse) {
  ZSetValue* z;
  if (!get_zset(ctx, ctx.args[1], z)) return;
  size_t r;
  if (!z || !z->rank(ctx.args[2], reverse, r)) {
    ctx.reply.null_bulk();
    return;
  }
  ctx.reply.integer(static_cast<int64_t>(r));
}
void zrank_command(CommandContext& ctx) { zrank_generic(ctx, false); }
void zrevrank_command(CommandContext& ctx) { zrank_generic(ctx, true); }

// ---------------------------------------------------------------------------
// Counting

void zcount_command(CommandContext& ctx) {
  ZScoreRange range;
  if (!parse_score_range(ctx.args[2], ctx.args[3], range)) {
    ctx.reply.error(kMinMaxNotFloat);
    return;
  }
  ZSetValue* z;
  if (!get_zset(ctx, ctx.args[1], z)) return;
  size_t first, last;
  if (!z || !z->first_in_range(range, first) || !z->last_in_range(range, last) || last < first) {
    ctx.reply.integer(0);
    return;
  }
  ctx.reply.integer(static_cast<int64_t>(last - first + 1));
}

void zlexcount_command(CommandContext& ctx) {
  ZLexRange range;
  if (!parse_lex_range(ctx.args[2], ctx.args[3], range)) {
    ctx.reply.error(kNotLexRange);
    return;
  }
  ZSetValue* z;
  if (!get_zset(ctx, ctx.args[1], z)) return;
  size_t first;
  if (!z || !z->first_in_range(range, first)) {
    ctx.reply.integer(0);
    return;
  }
  int64_t count = 0;
  if (z->is_listpack()) {
    // From the first element in range while members stay <= max.
    z->walk(first, false, [&](std::string_view m, double) {
      if (!range.lte_max(m)) return false;
      ++count;
      return true;
    });
  } else {
    // Rank arithmetic between the first and the last element in range.
    const int64_t len = static_cast<int64_t>(z->size());
    count = len - static_cast<int64_t>(first);
    size_t last;
    if (z->last_in_range(range, last)) count -= len - static_cast<int64_t>(last) - 1;
  }
  ctx.reply.integer(count);
}

// ---------------------------------------------------------------------------
// ZRANGE and its variants

enum class RangeType { kAuto, kRank, kScore, kLex };
enum class Direction { kAuto, kForward, kReverse };

void zrange_generic(CommandContext& ctx, size_t argc_start, bool store, RangeType type, Direction dir) {
  const auto& a = ctx.args;
  size_t minidx = argc_start + 1, maxidx = argc_start + 2;
  bool withscores = false;
  int64_t offset = 0, limit = -1;
  for (size_t j = argc_start + 3; j < a.size(); ++j) {
    const size_t left = a.size() - j - 1;
    if (!store && is_option(a[j], "withscores")) {
      withscores = true;
    } else if (is_option(a[j], "limit") && left >= 2) {
      if (!parse_int64(a[j + 1], offset) || !parse_int64(a[j + 2], limit)) {
        ctx.reply.error(errors::kNotInteger);
        return;
      }
      j += 2;
    } else if (dir == Direction::kAuto && is_option(a[j], "rev")) {
      dir = Direction::kReverse;
    } else if (type == RangeType::kAuto && is_option(a[j], "bylex")) {
      type = RangeType::kLex;
    } else if (type == RangeType::kAuto && is_option(a[j], "byscore")) {
      type = RangeType::kScore;
    } else {
      ctx.reply.error(errors::kSyntax);
      return;
    }
  }
  if (dir == Direction::kAuto) dir = Direction::kForward;
  if (type == RangeType::kAuto) type = RangeType::kRank;
  const bool reverse = dir == Direction::kReverse;

  if (limit != -1 && type == RangeType::kRank) {
    ctx.reply.error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    return;
  }
  if (withscores && type == RangeType::kLex) {
    ctx.reply.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    return;
  }
  if (reverse && type != RangeType::kRank) std::swap(minidx, maxidx);

  int64_t start = 0, end = 0;
  ZScoreRange srange;
  ZLexRange lrange;
  switch (type) {
    case RangeType::kScore:
      if (!parse_score_range(a[minidx], a[maxidx], srange)) {
        ctx.reply.error(kMinMaxNotFloat);
        return;
      }
      break;
    case RangeType::kLex:
      if (!parse_lex_range(a[minidx], a[maxidx], lrange)) {
        ctx.reply.error(kNotLexRange);
        return;
      }
      break;
    default:
      if (!parse_int64(a[minidx], start) || !parse_int64(a[maxidx], end)) {
        ctx.reply.error(errors::kNotInteger);
        return;
      }
      break;
  }

  std::string_view key = a[argc_start];
  ZSetValue* z;
  if (!get_zset(ctx, key, z)) return;

  std::vector<Entry> out;
  if (z) {
    const size_t len = z->size();
    auto collect_all = [&](size_t from, size_t n) {
      out.reserve(n);
      z->walk(from, reverse, [&](std::string_view m, double s) {
        out.push_back(Entry{m, s});
        return out.size() < n;
      });
    };
    if (type == RangeType::kRank) {
      size_t first, last;
      if (clamp_rank_range(start, end, len, first, last))
        collect_all(reverse ? len - 1 - first : first, last - first + 1);
    } else if (!(offset > 0 && offset >= static_cast<int64_t>(len)) && offset >= 0) {
      size_t from;
      bool found;
      if (type == RangeType::kScore)
        found = reverse ? z->last_in_range(srange, from) : z->first_in_range(srange, from);
      else
        found = reverse ? z->last_in_range(lrange, from) : z->first_in_range(lrange, from);
      if (found) {
        int64_t skip = offset;
        int64_t remaining = limit;
        z->walk(from, reverse, [&](std::string_view m, double s) {
          if (skip > 0) {
            --skip;
            return true;
          }
          if (remaining == 0) return false;
          bool in;
          if (type == RangeType::kScore)
            in = reverse ? srange.gte_min(s) : srange.lte_max(s);
          else
            in = reverse ? lrange.gte_min(m) : lrange.lte_max(m);
          if (!in) return false;
          out.push_back(Entry{m, s});
          if (remaining > 0) --remaining;
          return true;
        });
      }
    }
  }

  if (store) {
    if (reverse) std::reverse(out.begin(), out.end());
    store_result(ctx, a[1], out, "zrangestore");
    return;
  }
  reply_list_header(ctx.reply, out.size(), withscores);
  for (const Entry& e : out) reply_entry(ctx.reply, e.member, e.score, withscores);
}

void zrange_command(CommandContext& ctx) { zrange_generic(ctx, 1, false, RangeType::kAuto, Direction::kAuto); }
void zrangestore_command(CommandContext& ctx) {
  zrange_generic(ctx, 2, true, RangeType::kAuto, Direction::kAuto);
}
void zrevrange_command(CommandContext& ctx) { zrange_generic(ctx, 1, false, RangeType::kRank, Direction::kReverse); }
void zrangebyscore_command(CommandContext& ctx) {
  zrange_generic(ctx, 1, false, RangeType::kScore, Direction::kForward);
}
void zrevrangebyscore_command(CommandContext& ctx) {
  zrange_generic(ctx, 1, false, RangeType::kScore, Direction::kReverse);
}
void zrangebylex_command(CommandContext& ctx) { zrange_generic(ctx, 1, false, RangeType::kLex, Direction::kForward); }
void zrevrangebylex_command(CommandContext& ctx) {
  zrange_generic(ctx, 1, false, RangeType::kLex, Direction::kReverse);
}

// ---------------------------------------------------------------------------
// Removal

void zrem_command(CommandContext& ctx) {
  std::string_view key = ctx.args[1];
  ZSetValue* z;
  if (!get_zset(ctx, key, z)) return;
  if (!z) {
    ctx.reply.integer(0);
    return;
  }
  int64_t deleted = 0;
  bool removed = false;
  for (size_t j = 2; j < ctx.args.size(); ++j) {
    if (z->erase(ctx.args[j])) ++deleted;
    if (z->size() == 0) {
      ctx.db().erase(key, ctx.now_ms);
      removed = true;
      break;
    }
  }
  if (deleted) ctx.notify(notify::kZset, "zrem", key);
  if (removed) ctx.notify(notify::kGeneric, "del", key);
  ctx.reply.integer(deleted);
}

void zremrange_generic(CommandContext& ctx, RangeType type) {
  const auto& a = ctx.args;
  int64_t start = 0, end = 0;
  ZScoreRange srange;
  ZLexRange lrange;
  if (type == RangeType::kRank) {
    if (!parse_int64(a[2], start) || !parse_int64(a[3], end)) {
      ctx.reply.error(errors::kNotInteger);
      return;
    }
  } else if (type == RangeType::kScore) {
    if (!parse_score_range(a[2], a[3], srange)) {
      ctx.reply.error(kMinMaxNotFloat);
      return;
    }
  } else if (!parse_lex_range(a[2], a[3], lrange)) {
    ctx.reply.error(kNotLexRange);
    return;
  }
  std::string_view key = a[1];
  ZSetValue* z;
  if (!get_zset(ctx, key, z)) return;
  if (!z) {
    ctx.reply.integer(0);
    return;
  }
  size_t first = 0, count = 0;
  if (type == RangeType::kRank) {
    size_t last;
    if (clamp_rank_range(start, end, z->size(), first, last)) count = last - first + 1;
  } else if (type == RangeType::kScore) {
    // Scores are sorted: the range is the ranks between its two ends.
    size_t last;
    if (z->first_in_range(srange, first) && z->last_in_range(srange, last) && last >= first)
      count = last - first + 1;
  } else {
    // From the first member in range while members stay <= max.
    if (z->first_to_delete(lrange, first)) {
      z->walk(first, false, [&](std::string_view m, double) {
        if (!lrange.lte_max(m)) return false;
        ++count;
        return true;
      });
    }
  }
  size_t deleted = count ? z->erase_ranks(first, first + count - 1) : 0;
  if (deleted) {
    ctx.notify(notify::kZset,
               type == RangeType::kRank ? "zremrangebyrank"
                                        : (type == RangeType::kScore ? "zremrangebyscore" : "zremrangebylex"),
               key);
  }
  if (z->size() == 0) {
    ctx.db().erase(key, ctx.now_ms);
    ctx.notify(notify::kGeneric, "del", key);
  }
  ctx.reply.integer(static_cast<int64_t>(deleted));
}

void zremrangebyrank_command(CommandContext& ctx) { zremrange_generic(ctx, RangeType::kRank); }
void zremrangebyscore_command(CommandContext& ctx) { zremrange_generic(ctx, RangeType::kScore); }
void zremrangebylex_command(CommandContext& ctx) { zremrange_generic(ctx, RangeType::kLex); }

// ---------------------------------------------------------------------------
// Pops

// Redis's genericZpopCommand. `count` -1 means "not given" (one element).
void zpop_generic(CommandContext& ctx, const std::vector<size_t>& key_idx, bool max, bool emitkey, int64_t count,
                  bool nested, bool nil_when_empty) {
  ZSetValue* z = nullptr;
  std::string_view key;
  for (size_t idx : key_idx) {
    key = ctx.args[idx];
    if (!get_zset(ctx, key, z)) return;
    if (z) break;
  }
  if (!z) {
    if (nil_when_empty)
      ctx.reply.null_array();
    else
      ctx.reply.empty_array();
    return;
  }
  if (count == 0) {
    ctx.reply.empty_array();
    return;
  }
  if (count == -1) count = 1;
  const size_t len = z->size();
  const size_t n = static_cast<uint64_t>(count) > len ? len : static_cast<size_t>(count);
  auto& r = ctx.reply;
  if (!nested && !emitkey) {
    r.array(n * 2);
  } else if (nested && !emitkey) {
    r.array(n);
  } else if (!nested && emitkey) {
    r.array(n * 2 + 1);
    r.bulk(key);
  } else {
    r.array(2);
    r.bulk(key);
    r.array(n);
  }
  size_t emitted = 0;
  z->walk(max ? len - 1 : 0, max, [&](std::string_view m, double s) {
    if (nested) r.array(2);
    r.bulk(m);
    r.double_value(s);
    return ++emitted < n;
  });
  if (max)
    z->erase_ranks(len - n, len - 1);
  else
    z->erase_ranks(0, n - 1);
  ctx.notify(notify::kZset, max ? "zpopmax" : "zpopmin", key);
  if (z->size() == 0) {
    ctx.db().erase(key, ctx.now_ms);
    ctx.notify(notify::kGeneric, "del", key);
  }
}

void zpop_command(CommandContext& ctx, bool max) {
  if (ctx.args.size() > 3) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  int64_t count = -1;
  if (ctx.args.size() == 3) {
    if (!parse_int64(ctx.args[2], count) || count < 0) {
      ctx.reply.error(kNotPositive);
      return;
    }
  }
  const bool nested = ctx.reply.resp() > 2 && count != -1;
  zpop_generic(ctx, {1}, max, false, count, nested, false);
}
void zpopmin_command(CommandContext& ctx) { zpop_command(ctx, false); }
void zpopmax_command(CommandContext& ctx) { zpop_command(ctx, true); }

// Redis's getTimeoutFromObjectOrReply for seconds: a long double, in ms.
bool parse_timeout(CommandContext& ctx, std::string_view arg, int64_t& out_ms) {
  long double v;
  if (!storage::parse_long_double(arg, v)) {
    ctx.reply.error("ERR timeout is not a float or out of range");
    return false;
  }
  const long double ms = v * 1000.0L;
  // A conversion out of range yields INT64_MIN on x86 (Redis then reports
  // "negative").
  int64_t t;
  if (!(ms > -9223372036854775808.0L && ms < 9223372036854775808.0L))
    t = INT64_MIN;
  else
    t = static_cast<int64_t>(ms);
  if (t < 0) {
    ctx.reply.error("ERR timeout is negative");
    return false;
  }
  out_ms = t;
  return true;
}

void blocking_zpop(CommandContext& ctx, const std::vector<size_t>& key_idx, bool max, size_t timeout_idx,
                   int64_t count, bool nested, bool nil_when_empty) {
  int64_t timeout;
  if (!parse_timeout(ctx, ctx.args[timeout_idx], timeout)) return;
  for (size_t idx : key_idx) {
    ZSetValue* z;
    if (!get_zset(ctx, ctx.args[idx], z)) return;
    if (!z || z->size() == 0) continue;
    zpop_generic(ctx, {idx}, max, true, count, nested, nil_when_empty);
    return;
  }
  if (!ctx.may_block) {
    ctx.reply.null_array();
    return;
  }
  ctx.block(timeout, CommandContext::TimeoutReply::kNullArray);
}

void bzpop_command(CommandContext& ctx, bool max) {
  std::vector<size_t> keys;
  for (size_t j = 1; j + 1 < ctx.args.size(); ++j) keys.push_back(j);
  blocking_zpop(ctx, keys, max, ctx.args.size() - 1, -1, false, false);
}
void bzpopmin_command(CommandContext& ctx) { bzpop_command(ctx, false); }
void bzpopmax_command(CommandContext& ctx) { bzpop_command(ctx, true); }

void zmpop_generic(CommandContext& ctx, size_t numkeys_idx, bool blocking) {
  const auto& a = ctx.args;
  int64_t numkeys;
  if (!parse_int64(a[numkeys_idx], numkeys) || numkeys < 1) {
    ctx.reply.error("ERR numkeys should be greater than 0");
    return;
  }
  // The MIN|MAX word follows the keys.
  if (static_cast<uint64_t>(numkeys) + numkeys_idx + 1 >= a.size()) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  const size_t where_idx = numkeys_idx + static_cast<size_t>(numkeys) + 1;
  bool max;
  if (is_option(a[where_idx], "min")) {
    max = false;
  } else if (is_option(a[where_idx], "max")) {
    max = true;
  } else {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  int64_t count = -1;
  for (size_t j = where_idx + 1; j < a.size(); ++j) {
    const bool more = j + 1 < a.size();
    if (count == -1 && is_option(a[j], "count") && more) {
      ++j;
      if (!parse_int64(a[j], count) || count < 1) {
        ctx.reply.error("ERR count should be greater than 0");
        return;
      }
    } else {
      ctx.reply.error(errors::kSyntax);
      return;
    }
  }
  if (count == -1) count = 1;
  std::vector<size_t> keys;
  for (size_t j = 0; j < static_cast<size_t>(numkeys); ++j) keys.push_back(numkeys_idx + 1 + j);
  if (blocking)
    blocking_zpop(ctx, keys, max, 1, count, true, true);
  else
    zpop_generic(ctx, keys, max, true, count, true, true);
}
void zmpop_command(CommandContext& ctx) { zmpop_generic(ctx, 1, false); }
void bzmpop_command(CommandContext& ctx) { zmpop_generic(ctx, 2, true); }

// ---------------------------------------------------------------------------
// ZUNION / ZINTER / ZDIFF (+STORE), ZINTERCARD

enum class SetOp { kUnion, kInter, kDiff };
enum class Aggregate { kSum, kMin, kMax };

// One input: a sorted set, or a plain set whose members all score 1.
struct OpSource {
  const ZSetValue* zset = nullptr;
  const SetValue* set = nullptr;
  const void* identity = nullptr;
  double weight = 1.0;
  size_t size() const { return zset ? zset->size() : (set ? set->size() : 0); }
  bool find(std::string_view member, double& score) const {
    if (zset) return zset->score(member, score);
    if (set && set->contains(member)) {
      score = 1.0;
      return true;
    }
    return false;
  }
  // fn(std::string_view member, double score); set members are rendered
  // into temporary buffers (copy them to keep them).
  template <class F>
  void for_each(F&& fn) const {
    if (zset)
      zset->walk(0, false, [&](std::string_view m, double s) { fn(m, s); });
    else if (set)
      set->for_each([&](std::string_view m) { fn(m, 1.0); });
  }
};

void aggregate_into(double& target, double val, Aggregate agg) {
  switch (agg) {
    case Aggregate::kSum:
      target = target + val;
      if (std::isnan(target)) target = 0.0;  // inf + -inf
      break;
    case Aggregate::kMin:
      target = val < target ? val : target;
      break;
    case Aggregate::kMax:
      target = val > target ? val : target;
      break;
  }
}

void zsetop_generic(CommandContext& ctx, bool has_dst, size_t numkeys_idx, SetOp op, bool card_only) {
  const auto& a = ctx.args;
  int64_t setnum;
  if (!parse_int64(a[numkeys_idx], setnum)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  if (setnum < 1) {
    std::string msg = "ERR at least 1 input key is needed for '";
    msg.append(lower(a[0]));
    msg.append("' command");
    ctx.reply.error(msg);
    return;
  }
  if (static_cast<uint64_t>(setnum) > a.size() - (numkeys_idx + 1)) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  std::vector<OpSource> src(static_cast<size_t>(setnum));
  size_t j = numkeys_idx + 1;
  for (size_t i = 0; i < src.size(); ++i, ++j) {
    const Value* v = ctx.db().find(a[j], ctx.now_ms);
    if (!v) continue;
    if (v->type() == ValueType::kZSet) {
      src[i].zset = &v->as<ZSetValue>();
    } else if (v->type() == ValueType::kSet) {
      src[i].set = &v->as<SetValue>();
    } else {
      ctx.reply.error(errors::kWrongType);
      return;
    }
    src[i].identity = v;
  }

  Aggregate agg = Aggregate::kSum;
  bool withscores = false;
  int64_t limit = 0;
  while (j < a.size()) {
    const size_t remaining = a.size() - j;
    if (op != SetOp::kDiff && !card_only && remaining >= src.size() + 1 && is_option(a[j], "weights")) {
      ++j;
      for (size_t i = 0; i < src.size(); ++i, ++j) {
        if (!storage::parse_double(a[j], src[i].weight)) {
          ctx.reply.error("ERR weight value is not a float");
          return;
        }
      }
    } else if (op != SetOp::kDiff && !card_only && remaining >= 2 && is_option(a[j], "aggregate")) {
      ++j;
      if (is_option(a[j], "sum")) {
        agg = Aggregate::kSum;
      } else if (is_option(a[j], "min")) {
        agg = Aggregate::kMin;
      } else if (is_option(a[j], "max")) {
        agg = Aggregate::kMax;
      } else {
        ctx.reply.error(errors::kSyntax);
        return;
      }
      ++j;
    } else if (!has_dst && !card_only && is_option(a[j], "withscores")) {
      ++j;
      withscores = true;
    } else if (card_only && remaining >= 2 && is_option(a[j], "limit")) {
      ++j;
      if (!parse_int64(a[j], limit) || limit < 0) {
        ctx.reply.error("ERR LIMIT can't be negative");
        return;
      }
      ++j;
    } else {
      ctx.reply.error(errors::kSyntax);
      return;
    }
  }

  if (op != SetOp::kDiff)
    std::stable_sort(src.begin(), src.end(),
                     [](const OpSource& x, const OpSource& y) { return x.size() < y.size(); });

  // Members of plain sets may be rendered into temporary buffers: results
  // keep their own copies here.
  std::vector<std::unique_ptr<std::string>> owned;
  auto keep = [&](std::string_view m) -> std::string_view {
    owned.push_back(std::make_unique<std::string>(m));
    return *owned.back();
  };

  std::vector<Entry> result;
  uint64_t cardinality = 0;
  if (op == SetOp::kInter) {
    if (src[0].size() > 0) {
      bool stop = false;
      src[0].for_each([&](std::string_view m, double s0) {
        if (stop) return;
        double score = src[0].weight * s0;
        if (std::isnan(score)) score = 0;
        size_t k = 1;
        for (; k < src.size(); ++k) {
          double value;
          if (src[k].identity == src[0].identity) {
            aggregate_into(score, s0 * src[k].weight, agg);
          } else if (src[k].find(m, value)) {
            aggregate_into(score, value * src[k].weight, agg);
          } else {
            break;
          }
        }
        if (k != src.size()) return;
        if (card_only) {
          ++cardinality;
          if (limit && cardinality >= static_cast<uint64_t>(limit)) stop = true;
        } else {
          result.push_back(Entry{src[0].zset ? m : keep(m), score});
        }
      });
    }
  } else if (op == SetOp::kUnion) {
    std::unordered_map<std::string_view, double> acc;
    for (const OpSource& s : src) {
      if (s.size() == 0) continue;
      s.for_each([&](std::string_view m, double sc) {
        double score = s.weight * sc;
        if (std::isnan(score)) score = 0;
        auto it = acc.find(m);
        if (it == acc.end()) {
          std::string_view stable = s.zset ? m : keep(m);
          acc.emplace(stable, score);
        } else {
          aggregate_into(it->second, score, agg);
        }
      });
    }
    result.reserve(acc.size());
    for (const auto& [m, sc] : acc) result.push_back(Entry{m, sc});
  } else {
    if (src[0].size() > 0) {
      src[0].for_each([&](std::string_view m, double s0) {
        for (size_t k = 1; k < src.size(); ++k) {
          double ignored;
          if (src[k].identity == src[0].identity || src[k].find(m, ignored)) return;
        }
        result.push_back(Entry{src[0].zset ? m : keep(m), s0});
      });
    }
  }

  if (card_only) {
    ctx.reply.integer(static_cast<int64_t>(cardinality));
    return;
  }
  std::sort(result.begin(), result.end(), entry_less);
  if (has_dst) {
    store_result(ctx, a[1], result,
                 op == SetOp::kUnion ? "zunionstore" : (op == SetOp::kInter ? "zinterstore" : "zdiffstore"));
    return;
  }
  reply_list_header(ctx.reply, result.size(), withscores);
  for (const Entry& e : result) reply_entry(ctx.reply, e.member, e.score, withscores);
}

void zunionstore_command(CommandContext& ctx) { zsetop_generic(ctx, true, 2, SetOp::kUnion, false); }
void zinterstore_command(CommandContext& ctx) { zsetop_generic(ctx, true, 2, SetOp::kInter, false); }
void zdiffstore_command(CommandContext& ctx) { zsetop_generic(ctx, true, 2, SetOp::kDiff, false); }
void zunion_command(CommandContext& ctx) { zsetop_generic(ctx, false, 1, SetOp::kUnion, false); }
void zinter_command(CommandContext& ctx) { zsetop_generic(ctx, false, 1, SetOp::kInter, false); }
void zdiff_command(CommandContext& ctx) { zsetop_generic(ctx, false, 1, SetOp::kDiff, false); }
void zintercard_command(CommandContext& ctx) { zsetop_generic(ctx, false, 1, SetOp::kInter, true); }

// ---------------------------------------------------------------------------
// ZRANDMEMBER

void zrandmember_with_count(CommandContext& ctx, int64_t l, bool withscores) {
  ZSetValue* z;
  Value* v = ctx.db().find(ctx.args[1], ctx.now_ms);
  if (!v) {
    ctx.reply.empty_array();
    return;
  }
  if (v->type() != ValueType::kZSet) {
    ctx.reply.error(errors::kWrongType);
    return;
  }
  z = &v->as<ZSetValue>();
  const size_t size = z->size();
  const bool uniq = l >= 0;
  const uint64_t count = uniq ? static_cast<uint64_t>(l) : static_cast<uint64_t>(-l);
  auto& r = ctx.reply;
  if (count == 0) {
    r.empty_array();
    return;
  }
  // Random access to the elements: a listpack is decoded once.
  std::vector<Entry> all;
  if (z->is_listpack()) {
    all.reserve(size);
    z->walk(0, false, [&](std::string_view m, double s) { all.push_back(Entry{m, s}); });
  }
  auto at = [&](size_t i) { return z->is_listpack() ? all[i] : z->at(i); };

  if (!uniq || count == 1) {
    reply_list_header(r, count, withscores);
    for (uint64_t i = 0; i < count; ++i) {
      const Entry e = at(static_cast<size_t>(random_u64() % size));
      reply_entry(r, e.member, e.score, withscores);
    }
    return;
  }
  if (count >= size) {
    // The whole set, highest rank first (as Redis walks it).
    reply_list_header(r, size, withscores);
    z->walk(size - 1, true, [&](std::string_view m, double s) { reply_entry(r, m, s, withscores); });
    return;
  }
  // Distinct random ranks, in random order.
  std::vector<size_t> picks;
  if (count * 3 > size) {
    std::vector<size_t> idx(size);
    for (size_t i = 0; i < size; ++i) idx[i] = i;
    for (size_t i = 0; i < count; ++i) {
      const size_t k = i + static_cast<size_t>(random_u64() % (size - i));
      std::swap(idx[i], idx[k]);
    }
    picks.assign(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(count));
  } else {
    std::unordered_set<size_t> seen;
    while (picks.size() < count) {
      const size_t k = static_cast<size_t>(random_u64() % size);
      if (seen.insert(k).second) picks.push_back(k);
    }
  }
  reply_list_header(r, picks.size(), withscores);
  for (size_t k : picks) {
    const Entry e = at(k);
    reply_entry(r, e.member, e.score, withscores);
  }
}

void zrandmember_command(CommandContext& ctx) {
  const auto& a = ctx.args;
  if (a.size() >= 3) {
    int64_t l;
    if (!parse_int64(a[2], l)) {
      ctx.reply.error(errors::kNotInteger);
      return;
    }
    if (l == INT64_MIN) {
      ctx.reply.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
      return;
    }
    bool withscores = false;
    if (a.size() > 4 || (a.size() == 4 && !is_option(a[3], "withscores"))) {
      ctx.reply.error(errors::kSyntax);
      return;
    }
    if (a.size() == 4) {
      withscores = true;
      if (l < -INT64_MAX / 2 || l > INT64_MAX / 2) {
        ctx.reply.error("ERR value is out of range");
        return;
      }
    }
    zrandmember_with_count(ctx, l, withscores);
    return;
  }
  ZSetValue* z;
  if (!get_zset(ctx, a[1], z)) return;
  if (!z) {
    ctx.reply.null_bulk();
    return;
  }
  ctx.reply.bulk(z->at(static_cast<size_t>(random_u64() % z->size())).member);
}

// ---------------------------------------------------------------------------
// ZSCAN

// Redis parses cursors with strtoul over the C string: optional sign, digits,
// no leading space, no overflow ("" reads as 0, "-1" wraps).
bool parse_scan_cursor(std::string_view arg, uint64_t& out) {
  std::string_view s = c_string_prefix(arg);
  if (!s.empty() && std::isspace(static_cast<unsigned char>(s[0]))) return false;
  std::string buf(s);
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(buf.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) return false;
  out = v;
  return true;
}

void zscan_command(CommandContext& ctx) {
  const auto& a = ctx.args;
  uint64_t cursor;
  if (!parse_scan_cursor(a[2], cursor)) {
    ctx.reply.error("ERR invalid cursor");
    return;
  }
  ZSetValue* z;
  if (!get_zset(ctx, a[1], z)) return;
  if (!z) {
    ctx.reply.array(2);
    ctx.reply.bulk("0");
    ctx.reply.empty_array();
    return;
  }
  int64_t count = 10;
  std::string_view pattern;
  bool use_pattern = false;
  for (size_t i = 3; i < a.size(); i += 2) {
    const bool has_value = i + 1 < a.size();
    if (is_option(a[i], "count") && has_value) {
      if (!parse_int64(a[i + 1], count)) {
        ctx.reply.error(errors::kNotInteger);
        return;
      }
      if (count < 1) {
        ctx.reply.error(errors::kSyntax);
        return;
      }
    } else if (is_option(a[i], "match") && has_value) {
      pattern = a[i + 1];
      use_pattern = !(pattern.size() == 1 && pattern[0] == '*');
    } else {
      ctx.reply.error(errors::kSyntax);
      return;
    }
  }
  std::vector<std::pair<std::string_view, double>> items;
  if (z->is_listpack()) {
    cursor = z->scan(0, [&](std::string_view m, double s) { items.emplace_back(m, s); });
  } else {
    int64_t max_iterations = count * 10;
    do {
      cursor = z->scan(cursor, [&](std::string_view m, double s) { items.emplace_back(m, s); });
    } while (cursor != 0 && max_iterations-- > 0 && static_cast<int64_t>(items.size() * 2) < count);
  }
  auto& r = ctx.reply;
  size_t kept = 0;
  for (const auto& it : items)
    if (!use_pattern || storage::glob_match(pattern, it.first)) ++kept;
  r.array(2);
  r.bulk(std::to_string(cursor));
  r.array(kept * 2);
  char buf[64];
  for (const auto& [m, s] : items) {
    if (use_pattern && !storage::glob_match(pattern, m)) continue;
    r.bulk(m);
    const size_t n = protocol::format_double(s, buf, sizeof(buf));
    r.bulk(std::string_view(buf, n));
  }
}

// ---------------------------------------------------------------------------
// Key finders for the movable-key commands

// numkeys at `numkeys_idx`, then that many keys; `dst` (if > 0) is a key too.
bool numkeys_keys(const protocol::ArgList& a, size_t numkeys_idx, int dst, std::vector<int>& out) {
  int64_t n;
  if (numkeys_idx >= a.size() || !parse_int64(a[numkeys_idx], n) || n < 1 ||
      static_cast<uint64_t>(n) > a.size() - numkeys_idx - 1)
    return false;
  if (dst > 0) out.push_back(dst);
  for (int64_t i = 1; i <= n; ++i) out.push_back(static_cast<int>(numkeys_idx + static_cast<size_t>(i)));
  return true;
}

bool keys_numkeys_at_1(const protocol::ArgList& a, std::vector<int>& out) { return numkeys_keys(a, 1, 0, out); }
bool keys_numkeys_at_2(const protocol::ArgList& a, std::vector<int>& out) { return numkeys_keys(a, 2, 0, out); }
bool keys_store_numkeys(const protocol::ArgList& a, std::vector<int>& out) { return numkeys_keys(a, 2, 1, out); }

// ---------------------------------------------------------------------------
// The table

constexpr uint64_t kRead = kAclRead | kAclSortedSet;
constexpr uint64_t kWrite = kAclWrite | kAclSortedSet;

constexpr CommandSpec make(std::string_view name, int arity, uint32_t flags, uint64_t acl, int first, int last,
                           int step, KeyedHandler handler, std::string_view summary, std::string_view since,
                           std::string_view complexity, KeyFinder finder = nullptr) {
  return keyed_command("sorted-set", name, arity, flags, acl, first, last, step, handler, summary, since, complexity,
                       finder);
}

constexpr std::string_view kRangeComplexity =
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.";
constexpr std::string_view kRangeByComplexity =
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being "
    "returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it "
    "O(log(N)).";
constexpr std::string_view kRemRangeComplexity =
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by "
    "the operation.";
constexpr std::string_view kPopComplexity =
    "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements "
    "popped.";
constexpr std::string_view kMPopComplexity =
    "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted "
    "set, and M being the number of elements popped.";
constexpr std::string_view kUnionComplexity =
    "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of "
    "elements in the resulting sorted set.";
constexpr std::string_view kUnionStoreComplexity =
    "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of "
    "elements in the resulting sorted set.";
constexpr std::string_view kInterComplexity =
    "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input "
    "sorted sets and M being the number of elements in the resulting sorted set.";
constexpr std::string_view kDiffComplexity =
    "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of "
    "the first set, and K is the size of the result set.";

const CommandSpec kZSetSpecs[] = {
    looks_up_member(make("zadd", -4, kCmdWrite | kCmdDenyOom | kCmdFast, kWrite | kAclFast, 1, 1, 1, zadd_command,
                         "Adds members with scores, or updates scores (NX/XX/GT/LT/CH/INCR).", "1.2.0",
                         "O(log(N)) for each item added, where N is the number of elements in the sorted set."),
                    3),
    looks_up_member(make("zincrby", 4, kCmdWrite | kCmdDenyOom | kCmdFast, kWrite | kAclFast, 1, 1, 1, zincrby_command,
                         "Adds an increment to a member's score, adding the member if needed.", "1.2.0",
                         "O(log(N)) where N is the number of elements in the sorted set."),
                    3),
    looks_up_member(make("zscore", 3, kCmdReadonly | kCmdFast, kRead | kAclFast, 1, 1, 1, zscore_command,
                         "Returns a member's score.", "1.2.0", "O(1)"),
                    2),
    looks_up_member(make("zmscore", -3, kCmdReadonly | kCmdFast, kRead | kAclFast, 1, 1, 1, zmscore_command,
                         "Returns the scores of several members.", "6.2.0",
                         "O(N) where N is the number of members being requested."),
                    2),
    make("zcard", 2, kCmdReadonly | kCmdFast, kRead | kAclFast, 1, 1, 1, zcard_command,
         "Returns the number of members.", "1.2.0", "O(1)"),
    make("zcount", 4, kCmdReadonly | kCmdFast, kRead | kAclFast, 1, 1, 1, zcount_command,
         "Counts the members whose score lies in a range.", "2.0.0",
         "O(log(N)) with N being the number of elements in the sorted set."),
    make("zlexcount", 4, kCmdReadonly | kCmdFast, kRead | kAclFast, 1, 1, 1, zlexcount_command,
         "Counts the members in a lexicographical range.", "2.8.9",
         "O(log(N)) with N being the number of elements in the sorted set."),
    make("zrange", -4, kCmdReadonly, kRead | kAclSlow, 1, 1, 1, zrange_command,
         "Returns members in a range of ranks, scores (BYSCORE) or members (BYLEX), optionally reversed.", "1.2.0",
         kRangeComplexity),
    make("zrangestore", -5, kCmdWrite | kCmdDenyOom, kWrite | kAclSlow, 1, 2, 1, zrangestore_command,
         "Stores a range of a sorted set (as ZRANGE selects it) under another key.", "6.2.0",
         "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored "
         "into the destination key."),
    make("zrangebyscore", -4, kCmdReadonly, kRead | kAclSlow, 1, 1, 1, zrangebyscore_command,
         "Returns members with scores in a range (old form of ZRANGE BYSCORE).", "1.0.5", kRangeByComplexity),
    make("zrevrangebyscore", -4, kCmdReadonly, kRead | kAclSlow, 1, 1, 1, zrevrangebyscore_command,
         "Returns members with scores in a range, highest first.", "2.2.0", kRangeByComplexity),
    make("zrangebylex", -4, kCmdReadonly, kRead | kAclSlow, 1, 1, 1, zrangebylex_command,
         "Returns members in a lexicographical range.", "2.8.9", kRangeByComplexity),
    make("zrevrangebylex", -4, kCmdReadonly, kRead | kAclSlow, 1, 1, 1, zrevrangebylex_command,
         "Returns members in a lexicographical range, highest first.", "2.8.9", kRangeByComplexity),
    make("zrevrange", -4, kCmdReadonly, kRead | kAclSlow, 1, 1, 1, zrevrange_command,
         "Returns members in a range of ranks, highest score first.", "1.2.0", kRangeComplexity),
    looks_up_member(make("zrank", 3, kCmdReadonly | kCmdFast, kRead | kAclFast, 1, 1, 1, zrank_command,
                         "Returns a member's rank by ascending score.", "2.0.0", "O(log(N))"),
                    2),
    looks_up_member(make("zrevrank", 3, kCmdReadonly | kCmdFast, kRead | kAclFast, 1, 1, 1, zrevrank_command,
                         "Returns a member's rank by descending score.", "2.0.0", "O(log(N))"),
                    2),
    looks_up_member(
        make("zrem", -3, kCmdWrite | kCmdFast, kWrite | kAclFast, 1, 1, 1, zrem_command,
             "Removes members; the key goes when it empties.", "1.2.0",
             "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be "
             "removed."),
        2),
    make("zremrangebyrank", 4, kCmdWrite, kWrite | kAclSlow, 1, 1, 1, zremrangebyrank_command,
         "Removes the members in a range of ranks.", "2.0.0", kRemRangeComplexity),
    make("zremrangebyscore", 4, kCmdWrite, kWrite | kAclSlow, 1, 1, 1, zremrangebyscore_command,
         "Removes the members with scores in a range.", "1.2.0", kRemRangeComplexity),
    make("zremrangebylex", 4, kCmdWrite, kWrite | kAclSlow, 1, 1, 1, zremrangebylex_command,
         "Removes the members in a lexicographical range.", "2.8.9", kRemRangeComplexity),
    make("zpopmin", -2, kCmdWrite | kCmdFast, kWrite | kAclFast, 1, 1, 1, zpopmin_command,
         "Removes and returns the members with the lowest scores.", "5.0.0", kPopComplexity),
    make("zpopmax", -2, kCmdWrite | kCmdFast, kWrite | kAclFast, 1, 1, 1, zpopmax_command,
         "Removes and returns the members with the highest scores.", "5.0.0", kPopComplexity),
    make("bzpopmin", -3, kCmdWrite | kCmdNoscript | kCmdBlocking | kCmdFast, kWrite | kAclFast | kAclBlocking, 1, -2, 1,
         bzpopmin_command,
         "Pops the lowest-scored member of the first non-empty sorted set, waiting for one if needed.", "5.0.0",
         "O(log(N)) with N being the number of elements in the sorted set."),
    make("bzpopmax", -3, kCmdWrite | kCmdNoscript | kCmdBlocking | kCmdFast, kWrite | kAclFast | kAclBlocking, 1, -2, 1,
         bzpopmax_command,
         "Pops the highest-scored member of the first non-empty sorted set, waiting for one if needed.", "5.0.0",
         "O(log(N)) with N being the number of elements in the sorted set."),
    make("zmpop", -4, kCmdWrite | kCmdMovableKeys, kWrite | kAclSlow, 0, 0, 0, zmpop_command,
         "Pops members from the first non-empty sorted set of several.", "7.0.0", kMPopComplexity, keys_numkeys_at_1),
    make("bzmpop", -5, kCmdWrite | kCmdBlocking | kCmdMovableKeys, kWrite | kAclSlow | kAclBlocking, 0, 0, 0,
         bzmpop_command, "Pops members from the first non-empty sorted set of several, waiting for one if needed.",
         "7.0.0", kMPopComplexity, keys_numkeys_at_2),
    make("zrandmember", -2, kCmdReadonly, kRead | kAclSlow, 1, 1, 1, zrandmember_command,
         "Returns random members (distinct for a positive count), optionally with scores.", "6.2.0",
         "O(N) where N is the number of elements returned"),
    make("zunion", -3, kCmdReadonly | kCmdMovableKeys, kRead | kAclSlow, 0, 0, 0, zunion_command,
         "Returns the union of sorted sets (and sets).", "6.2.0", kUnionComplexity, keys_numkeys_at_1),
    make("zinter", -3, kCmdReadonly | kCmdMovableKeys, kRead | kAclSlow, 0, 0, 0, zinter_command,
         "Returns the intersection of sorted sets (and sets).", "6.2.0", kInterComplexity, keys_numkeys_at_1),
    make("zdiff", -3, kCmdReadonly | kCmdMovableKeys, kRead | kAclSlow, 0, 0, 0, zdiff_command,
         "Returns the members of the first sorted set that are in none of the others.", "6.2.0", kDiffComplexity,
         keys_numkeys_at_1),
    make("zunionstore", -4, kCmdWrite | kCmdDenyOom | kCmdMovableKeys, kWrite | kAclSlow, 1, 1, 1, zunionstore_command,
         "Stores the union of sorted sets (and sets) under a key.", "2.0.0", kUnionStoreComplexity, keys_store_numkeys),
    make("zinterstore", -4, kCmdWrite | kCmdDenyOom | kCmdMovableKeys, kWrite | kAclSlow, 1, 1, 1, zinterstore_command,
         "Stores the intersection of sorted sets (and sets) under a key.", "2.0.0", kInterComplexity,
         keys_store_numkeys),
    make("zdiffstore", -4, kCmdWrite | kCmdDenyOom | kCmdMovableKeys, kWrite | kAclSlow, 1, 1, 1, zdiffstore_command,
         "Stores the difference of sorted sets under a key.", "6.2.0", kDiffComplexity, keys_store_numkeys),
    make("zintercard", -3, kCmdReadonly | kCmdMovableKeys, kRead | kAclSlow, 0, 0, 0, zintercard_command,
         "Counts the members of the intersection of sorted sets (and sets), up to an optional limit.", "7.0.0",
         "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
         keys_numkeys_at_1),
    make("zscan", -3, kCmdReadonly, kRead | kAclSlow, 1, 1, 1, zscan_command,
         "Iterates over members and scores with a cursor.", "2.8.0",
         "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to "
         "return back to 0. N is the number of elements inside the collection.."),
};

}  // namespace

std::span<const CommandSpec> zset_command_specs() { return kZSetSpecs; }

}  // namespace distcache::server
