// String commands: SET and its variants, GET family, counters, ranges, LCS.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "server/commands/expire_util.h"
#include "server/config.h"
#include "storage/numbers.h"

namespace distcache::server {
namespace {

using storage::Db;
using storage::Value;

void reply_wrong_type(CommandContext& ctx) { ctx.reply.error(errors::kWrongType); }

void reply_wrong_arity(CommandContext& ctx) {
  ctx.reply.error("ERR wrong number of arguments for '" + lower_command_name(ctx) + "' command");
}

constexpr std::string_view kStringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

// Whether a string of `size + append` bytes is allowed (Redis checkStringLength).
bool string_length_ok(const CommandContext& ctx, uint64_t size, uint64_t append) {
  uint64_t total;
  if (__builtin_add_overflow(size, append, &total)) return false;
  const int64_t limit = ctx.config.proto_max_bulk_len.load(std::memory_order_relaxed);
  return total <= static_cast<uint64_t>(limit < 0 ? 0 : limit) &&
         total <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

// ---------------------------------------------------------------------------
// SET / GETEX options

enum : unsigned {
  kOptNx = 1u << 0,
  kOptXx = 1u << 1,
  kOptGet = 1u << 2,
  kOptKeepTtl = 1u << 3,
  kOptPersist = 1u << 4,
  kOptEx = 1u << 5,
  kOptPx = 1u << 6,
  kOptExat = 1u << 7,
  kOptPxat = 1u << 8,
};
constexpr unsigned kOptAnyTime = kOptEx | kOptPx | kOptExat | kOptPxat;

struct StringOptions {
  unsigned flags = 0;
  std::string_view expire_arg;  // valid when flags has a time option

  bool has_expire() const { return (flags & kOptAnyTime) != 0; }
  TimeUnit unit() const { return (flags & (kOptEx | kOptExat)) ? TimeUnit::kSeconds : TimeUnit::kMilliseconds; }
  bool absolute() const { return (flags & (kOptExat | kOptPxat)) != 0; }
};

// Parses the options of SET (for_set) or GETEX from args[start..]. Returns
// false on a syntax error. A time option may be repeated (the last wins) but
// not combined with another time option, KEEPTTL or PERSIST.
bool parse_string_options(const protocol::ArgList& args, size_t start, bool for_set, StringOptions& out) {
  for (size_t j = start; j < args.size(); ++j) {
    std::string_view opt = args[j];
    const bool has_next = j + 1 < args.size();
    auto time_option = [&](unsigned self) {
      if ((out.flags & (kOptKeepTtl | kOptPersist)) || (out.flags & kOptAnyTime & ~self) || !has_next) return false;
      out.flags |= self;
      out.expire_arg = args[++j];
      return true;
    };
    if (for_set && is_option(opt, "nx") && !(out.flags & kOptXx)) {
      out.flags |= kOptNx;
    } else if (for_set && is_option(opt, "xx") && !(out.flags & kOptNx)) {
      out.flags |= kOptXx;
    } else if (for_set && is_option(opt, "get")) {
      out.flags |= kOptGet;
    } else if (for_set && is_option(opt, "keepttl") && !(out.flags & (kOptPersist | kOptAnyTime))) {
      out.flags |= kOptKeepTtl;
    } else if (!for_set && is_option(opt, "persist") && !(out.flags & (kOptKeepTtl | kOptAnyTime))) {
      out.flags |= kOptPersist;
    } else if (is_option(opt, "ex")) {
      if (!time_option(kOptEx)) return false;
    } else if (is_option(opt, "px")) {
      if (!time_option(kOptPx)) return false;
    } else if (is_option(opt, "exat")) {
      if (!time_option(kOptExat)) return false;
    } else if (is_option(opt, "pxat")) {
      if (!time_option(kOptPxat)) return false;
    } else {
      return false;
    }
  }
  return true;
}

// Sets key to a fresh string value, dropping any TTL unless keep_ttl, then
// applies `expire_ms` if given (a time in the past leaves the key logically
// expired, as Redis does for SET ... PXAT <past>).
void store_string(Db& db, std::string_view key, std::string_view value, bool keep_ttl, bool has_expire,
                  int64_t expire_ms) {
  db.set(key, Value::string(value), keep_ttl);
  if (has_expire) db.set_expire(key, expire_ms);
}

// ---------------------------------------------------------------------------
// SET family

void set_command(CommandContext& ctx) {
  StringOptions opts;
  if (!parse_string_options(ctx.args, 3, true, opts)) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  int64_t expire_ms = 0;
  if (opts.has_expire()) {
    ExpireParse r = parse_set_expire(opts.expire_arg, opts.unit(), opts.absolute(), ctx.now_ms, expire_ms);
    if (r != ExpireParse::kOk) {
      reply_expire_parse_error(ctx, r);
      return;
    }
  }
  Db& db = ctx.db();
  std::string_view key = ctx.args[1];
  const Value* current = db.find(key, ctx.now_ms);
  const bool get = (opts.flags & kOptGet) != 0;
  if (get) {
    if (current && !current->is_string()) {
      reply_wrong_type(ctx);
      return;
    }
    if (current)
      ctx.reply.bulk(current->str());
    else
      ctx.reply.null_bulk();
  }
  const bool found = current != nullptr;
  if (((opts.flags & kOptNx) && found) || ((opts.flags & kOptXx) && !found)) {
    if (!get) ctx.reply.null_bulk();
    return;
  }
  store_string(db, key, ctx.args[2], (opts.flags & kOptKeepTtl) != 0, opts.has_expire(), expire_ms);
  ctx.notify(notify::kString, "set", key);
  if (opts.has_expire()) ctx.notify(notify::kGeneric, "expire", key);
  if (!get) ctx.reply.ok();
}

void setnx_command(CommandContext& ctx) {
  Db& db = ctx.db();
  if (db.find(ctx.args[1], ctx.now_ms)) {
    ctx.reply.integer(0);
    return;
  }
  db.set(ctx.args[1], Value::string(ctx.args[2]));
  ctx.notify(notify::kString, "set", ctx.args[1]);
  ctx.reply.integer(1);
}

void setex_generic(CommandContext& ctx, TimeUnit unit) {
  int64_t expire_ms;
  ExpireParse r = parse_set_expire(ctx.args[2], unit, false, ctx.now_ms, expire_ms);
  if (r != ExpireParse::kOk) {
    reply_expire_parse_error(ctx, r);
    return;
  }
  // With notifications on, an expired key is reported as such before the new one.
  if (ctx.notify_flags) ctx.db().find(ctx.args[1], ctx.now_ms);
  store_string(ctx.db(), ctx.args[1], ctx.args[3], false, true, expire_ms);
  ctx.notify(notify::kString, "set", ctx.args[1]);
  ctx.notify(notify::kGeneric, "expire", ctx.args[1]);
  ctx.reply.ok();
}

void setex_command(CommandContext& ctx) { setex_generic(ctx, TimeUnit::kSeconds); }
void psetex_command(CommandContext& ctx) { setex_generic(ctx, TimeUnit::kMilliseconds); }

void mset_command(CommandContext& ctx) {
  if (ctx.args.size() % 2 == 0) {
    reply_wrong_arity(ctx);
    return;
  }
  Db& db = ctx.db();
  for (size_t i = 1; i + 1 < ctx.args.size(); i += 2) {
    if (ctx.notify_flags) db.find(ctx.args[i], ctx.now_ms);  // reports an expired key first
    db.set(ctx.args[i], Value::string(ctx.args[i + 1]));
    ctx.notify(notify::kString, "set", ctx.args[i]);
  }
  ctx.reply.ok();
}

void msetnx_command(CommandContext& ctx) {
  if (ctx.args.size() % 2 == 0) {
    reply_wrong_arity(ctx);
    return;
  }
  Db& db = ctx.db();
  for (size_t i = 1; i < ctx.args.size(); i += 2) {
    if (db.find(ctx.args[i], ctx.now_ms)) {
      ctx.reply.integer(0);
      return;
    }
  }
  for (size_t i = 1; i + 1 < ctx.args.size(); i += 2) {
    db.set(ctx.args[i], Value::string(ctx.args[i + 1]));
    ctx.notify(notify::kString, "set", ctx.args[i]);
  }
  ctx.reply.integer(1);
}

// ---------------------------------------------------------------------------
// GET family

void get_command(CommandContext& ctx) {
  const Value* v = ctx.db().find(ctx.args[1], ctx.now_ms);
  if (!v) {
    ctx.reply.null_bulk();
  } else if (!v->is_string()) {
    reply_wrong_type(ctx);
  } else {
    ctx.reply.bulk(v->str());
  }
}

void getset_command(CommandContext& ctx) {
  Db& db = ctx.db();
  const Value* v = db.find(ctx.args[1], ctx.now_ms);
  if (v && !v->is_string()) {
    reply_wrong_type(ctx);
    return;
  }
  if (v)
    ctx.reply.bulk(v->str());
  else
    ctx.reply.null_bulk();
  db.set(ctx.args[1], Value::string(ctx.args[2]));
  ctx.notify(notify::kString, "set", ctx.args[1]);
}

void getdel_command(CommandContext& ctx) {
  Db& db = ctx.db();
  const Value* v = db.find(ctx.args[1], ctx.now_ms);
  if (!v) {
    ctx.reply.null_bulk();
    return;
  }
  if (!v->is_string()) {
    reply_wrong_type(ctx);
    return;
  }
  ctx.reply.bulk(v->str());
  db.erase(ctx.args[1], ctx.now_ms);
  ctx.notify(notify::kGeneric, "del", ctx.args[1]);
}

void getex_command(CommandContext& ctx) {
  StringOptions opts;
  if (!parse_string_options(ctx.args, 2, false, opts)) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  Db& db = ctx.db();
  std::string_view key = ctx.args[1];
  const Value* v = db.find(key, ctx.now_ms);
  if (!v) {
    ctx.reply.null_bulk();
    return;
  }
  if (!v->is_string()) {
    reply_wrong_type(ctx);
    return;
  }
  int64_t expire_ms = 0;
  if (opts.has_expire()) {
    ExpireParse r = parse_set_expire(opts.expire_arg, opts.unit(), opts.absolute(), ctx.now_ms, expire_ms);
    if (r != ExpireParse::kOk) {
      reply_expire_parse_error(ctx, r);
      return;
    }
  }
  ctx.reply.bulk(v->str());
  if (opts.has_expire()) {
    const bool deleted = apply_expire_or_delete(db, key, expire_ms, ctx.now_ms);
    ctx.notify(notify::kGeneric, deleted ? "del" : "expire", key);
  } else if ((opts.flags & kOptPersist) && db.persist(key)) {
    ctx.notify(notify::kGeneric, "persist", key);
  }
}

void mget_command(CommandContext& ctx) {
  Db& db = ctx.db();
  ctx.reply.array(ctx.args.size() - 1);
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    const Value* v = db.find(ctx.args[i], ctx.now_ms);
    if (v && v->is_string())
      ctx.reply.bulk(v->str());
    else
      ctx.reply.null_bulk();
  }
}

void strlen_command(CommandContext& ctx) {
  const Value* v = ctx.db().find(ctx.args[1], ctx.now_ms);
  if (v && !v->is_string()) {
    reply_wrong_type(ctx);
    return;
  }
  ctx.reply.integer(v ? static_cast<int64_t>(v->str().size()) : 0);
}

// ---------------------------------------------------------------------------
// Ranges

void append_command(CommandContext& ctx) {
  Db& db = ctx.db();
  std::string_view key = ctx.args[1];
  std::string_view tail = ctx.args[2];
  Value* v = db.find(key, ctx.now_ms);
  if (!v) {
    db.set(key, Value::string(tail));
    ctx.notify(notify::kString, "append", key);
    ctx.reply.integer(static_cast<int64_t>(tail.size()));
    return;
  }
  if (!v->is_string()) {
    reply_wrong_type(ctx);
    return;
  }
  if (!string_length_ok(ctx, v->str().size(), tail.size())) {
    ctx.reply.error(kStringTooLong);
    return;
  }
  v->mutable_str().append(tail);
  v->set_raw_flag();
  ctx.notify(notify::kString, "append", key);
  ctx.reply.integer(static_cast<int64_t>(v->str().size()));
}

void getrange_command(CommandContext& ctx) {
  int64_t start, end;
  if (!storage::parse_int64(ctx.args[2], start) || !storage::parse_int64(ctx.args[3], end)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  const Value* v = ctx.db().find(ctx.args[1], ctx.now_ms);
  if (!v) {
    ctx.reply.bulk("");
    return;
  }
  if (!v->is_string()) {
    reply_wrong_type(ctx);
    return;
  }
  std::string_view s = v->str();
  const int64_t len = static_cast<int64_t>(s.size());
  if (start < 0 && end < 0 && start > end) {
    ctx.reply.bulk("");
    return;
  }
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (len == 0 || start > end) {
    ctx.reply.bulk("");
    return;
  }
  ctx.reply.bulk(s.substr(static_cast<size_t>(start), static_cast<size_t>(end - start + 1)));
}

void setrange_command(CommandContext& ctx) {
  int64_t offset;
  if (!storage::parse_int64(ctx.args[2], offset)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  if (offset < 0) {
    ctx.reply.error("ERR offset is out of range");
    return;
  }
  Db& db = ctx.db();
  std::string_view key = ctx.args[1];
  std::string_view patch = ctx.args[3];
  const uint64_t off = static_cast<uint64_t>(offset);
  Value* v = db.find(key, ctx.now_ms);
  if (!v) {
    if (patch.empty()) {
      ctx.reply.integer(0);
      return;
    }
    if (!string_length_ok(ctx, off, patch.size())) {
      ctx.reply.error(kStringTooLong);
      return;
    }
    v = &db.set(key, Value());
  } else {
    if (!v->is_string()) {
      reply_wrong_type(ctx);
      return;
    }
    if (patch.empty()) {
      ctx.reply.integer(static_cast<int64_t>(v->str().size()));
      return;
    }
    if (!string_length_ok(ctx, off, patch.size())) {
      ctx.reply.error(kStringTooLong);
      return;
    }
  }
  storage::CompactString& str = v->mutable_str();
  const size_t needed = static_cast<size_t>(off) + patch.size();
  if (str.size() < needed) str.resize(needed, '\0');
  std::memcpy(str.mutable_data() + off, patch.data(), patch.size());
  v->set_raw_flag();
  ctx.notify(notify::kString, "setrange", key);
  ctx.reply.integer(static_cast<int64_t>(str.size()));
}

// ---------------------------------------------------------------------------
// Counters

// INCR* and INCRBYFLOAT's result. An existing counter (`v`) stays a string
// under the same TTL and keeps its access metadata, so that a counter being
// incremented does not look idle to OBJECT IDLETIME / OBJECT FREQ and eviction.
void store_counter(Db& db, std::string_view key, Value* v, std::string_view text) {
  if (v)
    v->replace_keeping_access(Value::string(text));
  else
    db.set(key, Value::string(text));
}

void incr_by(CommandContext& ctx, int64_t incr) {
  Db& db = ctx.db();
  std::string_view key = ctx.args[1];
  Value* v = db.find(key, ctx.now_ms);
  int64_t value = 0;
  if (v) {
    if (!v->is_string()) {
      reply_wrong_type(ctx);
      return;
    }
    if (!storage::parse_int64(v->str(), value)) {
      ctx.reply.error(errors::kNotInteger);
      return;
    }
  }
  int64_t result;
  if (__builtin_add_overflow(value, incr, &result)) {
    ctx.reply.error(errors::kOverflow);
    return;
  }
  char buf[storage::kInt64StrSize];
  std::string_view text(buf, storage::format_int64(result, buf));
  store_counter(db, key, v, text);
  ctx.notify(notify::kString, "incrby", key);
  ctx.reply.integer(result);
}

void incr_command(CommandContext& ctx) { incr_by(ctx, 1); }
void decr_command(CommandContext& ctx) { incr_by(ctx, -1); }

void incrby_command(CommandContext& ctx) {
  int64_t incr;
  if (!storage::parse_int64(ctx.args[2], incr)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  incr_by(ctx, incr);
}

void decrby_command(CommandContext& ctx) {
  int64_t decr;
  if (!storage::parse_int64(ctx.args[2], decr)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  if (decr == std::numeric_limits<int64_t>::min()) {
    ctx.reply.error("ERR decrement would overflow");
    return;
  }
  incr_by(ctx, -decr);
}

void incrbyfloat_command(CommandContext& ctx) {
  Db& db = ctx.db();
  std::string_view key = ctx.args[1];
  Value* v = db.find(key, ctx.now_ms);
  long double value = 0;
  if (v && !v->is_string()) {
    reply_wrong_type(ctx);
    return;
  }
  long double incr;
  if ((v && !storage::parse_long_double(v->str(), value)) || !storage::parse_long_double(ctx.args[2], incr)) {
    ctx.reply.error(errors::kNotFloat);
    return;
  }
  value += incr;
  if (std::isnan(value) || std::isinf(value)) {
    ctx.reply.error("ERR increment would produce NaN or Infinity");
    return;
  }
  std::string text = storage::format_long_double_human(value);
  store_counter(db, key, v, text);
  ctx.notify(notify::kString, "incrbyfloat", key);
  ctx.reply.bulk(text);
}

// ---------------------------------------------------------------------------
// LCS

struct LcsMatch {
  uint32_t a_start, a_end, b_start, b_end;
};

void lcs_command(CommandContext& ctx) {
  Db& db = ctx.db();
  // find() may reclaim expired keys; after both lookups nothing changes, so
  // the values read through peek() stay put.
  db.find(ctx.args[1], ctx.now_ms);
  db.find(ctx.args[2], ctx.now_ms);
  const Value* va = db.peek(ctx.args[1], ctx.now_ms);
  const Value* vb = db.peek(ctx.args[2], ctx.now_ms);
  if ((va && !va->is_string()) || (vb && !vb->is_string())) {
    ctx.reply.error("ERR The specified keys must contain string values");
    return;
  }
  std::string_view a = va ? va->str() : std::string_view();
  std::string_view b = vb ? vb->str() : std::string_view();

  bool want_idx = false, want_len = false, with_match_len = false;
  int64_t min_match_len = 0;
  for (size_t j = 3; j < ctx.args.size(); ++j) {
    std::string_view opt = ctx.args[j];
    const bool has_next = j + 1 < ctx.args.size();
    if (is_option(opt, "idx")) {
      want_idx = true;
    } else if (is_option(opt, "len")) {
      want_len = true;
    } else if (is_option(opt, "withmatchlen")) {
      with_match_len = true;
    } else if (is_option(opt, "minmatchlen") && has_next) {
      if (!storage::parse_int64(ctx.args[++j], min_match_len)) {
        ctx.reply.error(errors::kNotInteger);
        return;
      }
      if (min_match_len < 0) min_match_len = 0;
    } else {
      ctx.reply.error(errors::kSyntax);
      return;
    }
  }
  if (want_idx && want_len) {
    ctx.reply.error("ERR If you want both the length and indexes, please just use IDX.");
    return;
  }
  if (a.size() >= UINT32_MAX - 1 || b.size() >= UINT32_MAX - 1) {
    ctx.reply.error("ERR String too long for LCS");
    return;
  }
  const size_t alen = a.size(), blen = b.size();
  const size_t cols = blen + 1;
  // The table is (alen+1) x (blen+1) uint32 cells, as Redis sizes it.
  const unsigned __int128 cells = static_cast<unsigned __int128>(alen + 1) * cols;
  const unsigned __int128 bytes = cells * sizeof(uint32_t);
  const int64_t limit = ctx.config.proto_max_bulk_len.load(std::memory_order_relaxed);
  if (bytes > static_cast<unsigned __int128>(limit < 0 ? 0 : limit)) {
    ctx.reply.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
    return;
  }

  if (want_len) {
    // Only the length: two rows are enough.
    std::vector<uint32_t> prev(cols, 0), cur(cols, 0);
    for (size_t i = 1; i <= alen; ++i) {
      for (size_t j = 1; j <= blen; ++j)
        cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
      std::swap(prev, cur);
    }
    ctx.reply.integer(prev[blen]);
    return;
  }

  std::vector<uint32_t> table;
  try {
    table.assign(static_cast<size_t>(cells), 0);
  } catch (const std::bad_alloc&) {
    ctx.reply.error("ERR Insufficient memory, failed allocating transient memory for LCS");
    return;
  }
  auto at = [&](size_t i, size_t j) -> uint32_t& { return table[i * cols + j]; };
  for (size_t i = 1; i <= alen; ++i)
    for (size_t j = 1; j <= blen; ++j)
      at(i, j) = a[i - 1] == b[j - 1] ? at(i - 1, j - 1) + 1 : std::max(at(i - 1, j), at(i, j - 1));
  const uint32_t total = at(alen, blen);

  // Walk back from the end. Matched characters fill the result from its end;
  // runs of consecutive matches form ranges, reported from the last one to
  // the first, as Redis does. On a mismatch step towards the larger
  // neighbour, preferring to shorten b on ties.
  std::string result(total, '\0');
  size_t fill = total;
  std::vector<LcsMatch> matches;
  bool in_range = false;
  LcsMatch range{};
  auto close_range = [&] {
    const uint64_t len = range.a_end - range.a_start + 1;
    if (min_match_len == 0 || len >= static_cast<uint64_t>(min_match_len)) matches.push_back(range);
    in_range = false;
  };
  size_t i = alen, j = blen;
  while (i > 0 && j > 0) {
    if (a[i - 1] == b[j - 1]) {
      result[--fill] = a[i - 1];
      if (!in_range) {
        in_range = true;
        range = {static_cast<uint32_t>(i - 1), static_cast<uint32_t>(i - 1), static_cast<uint32_t>(j - 1),
                 static_cast<uint32_t>(j - 1)};
      } else {
        // The previous match was at (i, j): the run simply extends backwards.
        range.a_start = static_cast<uint32_t>(i - 1);
        range.b_start = static_cast<uint32_t>(j - 1);
      }
      --i;
      --j;
      if (range.a_start == 0 || range.b_start == 0) close_range();
    } else {
      if (at(i - 1, j) > at(i, j - 1))
        --i;
      else
        --j;
      if (in_range) close_range();
    }
  }

  if (!want_idx) {
    ctx.reply.bulk(result);
    return;
  }
  ctx.reply.map(2);
  ctx.reply.bulk("matches");
  ctx.reply.array(matches.size());
  for (const LcsMatch& m : matches) {
    ctx.reply.array(with_match_len ? 3 : 2);
    ctx.reply.array(2);
    ctx.reply.integer(m.a_start);
    ctx.reply.integer(m.a_end);
    ctx.reply.array(2);
    ctx.reply.integer(m.b_start);
    ctx.reply.integer(m.b_end);
    if (with_match_len) ctx.reply.integer(static_cast<int64_t>(m.a_end) - m.a_start + 1);
  }
  ctx.reply.bulk("len");
  ctx.reply.integer(total);
}

// ---------------------------------------------------------------------------
// The table

constexpr uint64_t kWriteString = kAclWrite | kAclString;
constexpr uint64_t kReadString = kAclRead | kAclString;

constexpr CommandSpec make(std::string_view name, int arity, uint32_t flags, uint64_t acl, int first, int last,
                           int step, KeyedHandler handler, std::string_view summary, std::string_view since,
                           std::string_view complexity, KeyFinder finder = nullptr) {
  return keyed_command("string", name, arity, flags, acl, first, last, step, handler, summary, since, complexity,
                       finder);
}

constexpr std::string_view kRangeComplexity =
    "O(N) where N is the length of the returned string. The complexity is ultimately determined by the "
    "returned length, but because creating a substring from an existing string is very cheap, it can be "
    "considered O(1) for small strings.";

const CommandSpec kStringSpecs[] = {
    make("set", -3, kCmdWrite | kCmdDenyOom, kWriteString | kAclSlow, 1, 1, 1, set_command,
         "Stores a string under a key, optionally with a TTL and NX/XX conditions; GET returns the old value.",
         "1.0.0", "O(1)"),
    make("get", 2, kCmdReadonly | kCmdFast, kReadString | kAclFast, 1, 1, 1, get_command,
         "Returns the string stored under a key, or nil.", "1.0.0", "O(1)"),
    make("getset", 3, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteString | kAclFast, 1, 1, 1, getset_command,
         "Stores a new string and returns the previous one.", "1.0.0", "O(1)"),
    make("getdel", 2, kCmdWrite | kCmdFast, kWriteString | kAclFast, 1, 1, 1, getdel_command,
         "Returns a string and deletes its key.", "6.2.0", "O(1)"),
    make("getex", -2, kCmdWrite | kCmdFast, kWriteString | kAclFast, 1, 1, 1, getex_command,
         "Returns a string and optionally changes or removes the key's TTL.", "6.2.0", "O(1)"),
    make("mset", -3, kCmdWrite | kCmdDenyOom, kWriteString | kAclSlow, 1, -1, 2, mset_command,
         "Stores several key/value pairs at once.", "1.0.1", "O(N) where N is the number of keys to set."),
    make("msetnx", -3, kCmdWrite | kCmdDenyOom, kWriteString | kAclSlow, 1, -1, 2, msetnx_command,
         "Stores several key/value pairs only if none of the keys exists.", "1.0.1",
         "O(N) where N is the number of keys to set."),
    make("mget", -2, kCmdReadonly | kCmdFast, kReadString | kAclFast, 1, -1, 1, mget_command,
         "Returns the strings stored under several keys (nil for missing or non-string keys).", "1.0.0",
         "O(N) where N is the number of keys to retrieve."),
    make("setnx", 3, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteString | kAclFast, 1, 1, 1, setnx_command,
         "Stores a string only if the key does not exist.", "1.0.0", "O(1)"),
    make("setex", 4, kCmdWrite | kCmdDenyOom, kWriteString | kAclSlow, 1, 1, 1, setex_command,
         "Stores a string with a TTL in seconds.", "2.0.0", "O(1)"),
    make("psetex", 4, kCmdWrite | kCmdDenyOom, kWriteString | kAclSlow, 1, 1, 1, psetex_command,
         "Stores a string with a TTL in milliseconds.", "2.6.0", "O(1)"),
    make("append", 3, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteString | kAclFast, 1, 1, 1, append_command,
         "Appends bytes to a string, creating it if needed; returns the new length.", "2.0.0",
         "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already "
         "present value is of any size, since the dynamic string library used by Redis will double the free "
         "space available on every reallocation."),
    make("strlen", 2, kCmdReadonly | kCmdFast, kReadString | kAclFast, 1, 1, 1, strlen_command,
         "Returns the length in bytes of a string.", "2.2.0", "O(1)"),
    make("getrange", 4, kCmdReadonly, kReadString | kAclSlow, 1, 1, 1, getrange_command,
         "Returns the bytes of a string between two inclusive offsets (negative counts from the end).",
         "2.4.0", kRangeComplexity),
    make("substr", 4, kCmdReadonly, kReadString | kAclSlow, 1, 1, 1, getrange_command,
         "Old name of GETRANGE.", "1.0.0", kRangeComplexity),
    make("setrange", 4, kCmdWrite | kCmdDenyOom, kWriteString | kAclSlow, 1, 1, 1, setrange_command,
         "Overwrites part of a string at an offset, zero-padding as needed; returns the new length.", "2.2.0",
         "O(1), not counting the time taken to copy the new string in place. Usually, this string is very "
         "small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length "
         "of the value argument."),
    make("incr", 2, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteString | kAclFast, 1, 1, 1, incr_command,
         "Adds one to the integer stored in a string.", "1.0.0", "O(1)"),
    make("decr", 2, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteString | kAclFast, 1, 1, 1, decr_command,
         "Subtracts one from the integer stored in a string.", "1.0.0", "O(1)"),
    make("incrby", 3, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteString | kAclFast, 1, 1, 1, incrby_command,
         "Adds an integer to the integer stored in a string.", "1.0.0", "O(1)"),
    make("decrby", 3, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteString | kAclFast, 1, 1, 1, decrby_command,
         "Subtracts an integer from the integer stored in a string.", "1.0.0", "O(1)"),
    make("incrbyfloat", 3, kCmdWrite | kCmdDenyOom | kCmdFast, kWriteString | kAclFast, 1, 1, 1,
         incrbyfloat_command, "Adds a floating-point number to the number stored in a string.", "2.6.0", "O(1)"),
    make("lcs", -3, kCmdReadonly, kReadString | kAclSlow, 1, 2, 1, lcs_command,
         "Finds the longest common subsequence of two strings, its length or the matching ranges.", "7.0.0",
         "O(N*M) where N and M are the lengths of s1 and s2, respectively"),
};

}  // namespace

std::span<const CommandSpec> string_command_specs() { return kStringSpecs; }

}  // namespace distcache::server
