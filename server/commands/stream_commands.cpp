// Stream commands: XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM, XREAD,
// XSETID, the consumer-group commands (XGROUP, XREADGROUP, XACK, XPENDING,
// XCLAIM, XAUTOCLAIM) and XINFO, with Redis 7.0's replies, error texts and
// validation order. The data structure is storage/stream_value.h.
#include <fmt/format.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/config.h"
#include "storage/numbers.h"
#include "storage/stream_value.h"

namespace distcache::server {
namespace {

using storage::Db;
using storage::StreamConsumer;
using storage::StreamField;
using storage::StreamGroup;
using storage::StreamID;
using storage::StreamNack;
using storage::StreamValue;
using storage::Value;
using storage::ValueType;

constexpr std::string_view kInvalidId = "ERR Invalid stream ID specified as stream command argument";
constexpr std::string_view kXaddIdTooSmall =
    "ERR The ID specified in XADD is equal or smaller than the target stream top item";

// ---------------------------------------------------------------------------
// Argument helpers

// Redis's string2ull on a C string: a strict int64 that is not negative, or
// whatever strtoull accepts in full (leading spaces, '+', leading zeros, and
// even a '-' that negates modulo 2^64).
bool string_to_ull(const char* s, uint64_t& out) {
  int64_t ll;
  if (storage::parse_int64(std::string_view(s, std::strlen(s)), ll)) {
    if (ll < 0) return false;
    out = static_cast<uint64_t>(ll);
    return true;
  }
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (errno == EINVAL || errno == ERANGE || !(*s != '\0' && *end == '\0')) return false;
  out = v;
  return true;
}

// Redis's streamGenericParseIDOrReply without the reply. "ms-seq", or "ms"
// (seq = missing_seq); "-" and "+" are the smallest and largest IDs unless
// strict. With seq_given non-null, "ms-*" is accepted (seq_given = false).
bool parse_id_raw(std::string_view arg, StreamID& id, uint64_t missing_seq, bool strict, bool* seq_given) {
  if (seq_given) *seq_given = true;
  char buf[128];
  if (arg.size() > sizeof(buf) - 1) return false;
  std::memcpy(buf, arg.data(), arg.size());
  buf[arg.size()] = '\0';
  if (strict && (buf[0] == '-' || buf[0] == '+') && buf[1] == '\0') return false;
  if (buf[0] == '-' && buf[1] == '\0') {
    id = StreamID::min();
    return true;
  }
  if (buf[0] == '+' && buf[1] == '\0') {
    id = StreamID::max();
    return true;
  }
  char* dash = std::strchr(buf, '-');
  if (dash) *dash = '\0';
  uint64_t ms, seq;
  if (!string_to_ull(buf, ms)) return false;
  if (dash) {
    if (seq_given && dash[1] == '*' && dash[2] == '\0') {
      seq = 0;
      *seq_given = false;
    } else if (!string_to_ull(dash + 1, seq)) {
      return false;
    }
  } else {
    seq = missing_seq;
  }
  id = StreamID{ms, seq};
  return true;
}

bool parse_id(CommandContext& ctx, std::string_view arg, StreamID& id, uint64_t missing_seq, bool strict,
              bool* seq_given = nullptr) {
  if (parse_id_raw(arg, id, missing_seq, strict, seq_given)) return true;
  ctx.reply.error(kInvalidId);
  return false;
}

bool parse_strict_id(CommandContext& ctx, std::string_view arg, StreamID& id) {
  return parse_id(ctx, arg, id, 0, true);
}

// An interval bound: "(" + ID excludes it (Redis's streamParseIntervalIDOrReply).
bool parse_interval_id(CommandContext& ctx, std::string_view arg, StreamID& id, bool& exclude,
                       uint64_t missing_seq) {
  exclude = arg.size() > 1 && arg[0] == '(';
  const bool ok = exclude ? parse_id_raw(arg.substr(1), id, missing_seq, true, nullptr)
                          : parse_id_raw(arg, id, missing_seq, false, nullptr);
  if (!ok) ctx.reply.error(kInvalidId);
  return ok;
}

// getLongLongFromObjectOrReply.
bool get_ll(CommandContext& ctx, std::string_view arg, int64_t& out,
            std::string_view error = errors::kNotInteger) {
  if (storage::parse_int64(arg, out)) return true;
  ctx.reply.error(error);
  return false;
}

void reply_subcommand_syntax_error(CommandContext& ctx) {
  std::string cmd(c_string_prefix(ctx.args[0]));
  for (char& c : cmd) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view sub = c_string_prefix(ctx.args[1]);
  ctx.reply.error(fmt::format("ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
                              sub.substr(0, 128), cmd));
}

void reply_wrong_arity(CommandContext& ctx, std::string_view name) {
  ctx.reply.error(fmt::format("ERR wrong number of arguments for '{}' command", name));
}

// ---------------------------------------------------------------------------
// Lookup and reply helpers

// The stream under `key`: true with `out` null when absent; false (after
// replying WRONGTYPE) when the key holds another type.
bool lookup_stream(CommandContext& ctx, std::string_view key, StreamValue*& out) {
  out = nullptr;
  Value* v = ctx.db().find(key, ctx.now_ms);
  if (!v) return true;
  if (v->type() != ValueType::kStream) {
    ctx.reply.error(errors::kWrongType);
    return false;
  }
  out = &v->as<StreamValue>();
  return true;
}

void reply_id(protocol::ReplyBuilder& r, StreamID id) {
  char buf[StreamID::kMaxChars];
  r.bulk(std::string_view(buf, id.format(buf)));
}

void reply_entry(protocol::ReplyBuilder& r, StreamID id, const std::vector<StreamField>& fields) {
  r.array(2);
  reply_id(r, id);
  r.array(fields.size() * 2);
  for (const auto& [f, v] : fields) {
    r.bulk(f);
    r.bulk(v);
  }
}

StreamValue::NodeLimits node_limits(const CommandContext& ctx) {
  return {ctx.config.stream_node_max_bytes.load(std::memory_order_relaxed),
          ctx.config.stream_node_max_entries.load(std::memory_order_relaxed)};
}

uint64_t now_u64(const CommandContext& ctx) { return ctx.now_ms < 0 ? 0 : static_cast<uint64_t>(ctx.now_ms); }

// Redis's streamReplyWithRange: entries from start to end (count 0 = all).
// With a group, also advances the group's last ID / read counter and records
// the delivered entries in the PEL (unless noack). `raw` writes the entries
// without the enclosing array. Returns how many entries were emitted.
size_t reply_range(CommandContext& ctx, StreamValue& s, StreamID start, StreamID end, uint64_t count, bool rev,
                   StreamGroup* group = nullptr, StreamConsumer* consumer = nullptr, bool noack = false,
                   bool raw = false) {
  const size_t token = raw ? 0 : ctx.reply.begin_deferred();
  size_t n = 0;
  StreamValue::Iterator it(s, start, end, rev);
  StreamID id;
  while (it.next(id)) {
    if (group && id > group->last_id) {
      if (group->entries_read != StreamGroup::kInvalidEntriesRead && !s.range_has_tombstones(id, StreamID::max()))
        ++group->entries_read;
      else if (s.entries_added())
        group->entries_read = s.estimate_distance_from_first_ever_entry(id);
      group->last_id = id;
    }
    reply_entry(ctx.reply, id, it.fields());
    if (group && !noack) {
      auto [pit, inserted] = group->pel.try_emplace(id);
      StreamNack& nack = pit->second;
      if (inserted) {
        nack.consumer = consumer;
        consumer->pel.insert(id);
      } else {
        StreamGroup::move_nack(id, nack, consumer);
      }
      nack.delivery_time = ctx.now_ms;
      nack.delivery_count = 1;
    }
    ++n;
    if (count && n == count) break;
  }
  if (!raw) ctx.reply.end_deferred_array(token, n);
  return n;
}

// XREADGROUP with an explicit ID: the consumer's own pending entries from
// `start` (Redis's streamReplyWithRangeFromConsumerPEL). Entries deleted
// since delivery are reported as [id, nil].
void reply_consumer_history(CommandContext& ctx, StreamValue& s, StreamGroup& g, StreamConsumer& c,
                            StreamID start, uint64_t count) {
  const size_t token = ctx.reply.begin_deferred();
  size_t n = 0;
  std::vector<StreamField> fields;
  for (auto it = c.pel.lower_bound(start); it != c.pel.end() && (!count || n < count); ++it) {
    const StreamID id = *it;
    if (s.find(id, &fields)) {
      reply_entry(ctx.reply, id, fields);
      auto nit = g.pel.find(id);
      if (nit != g.pel.end()) {
        nit->second.delivery_time = ctx.now_ms;
        ++nit->second.delivery_count;
      }
    } else {
      ctx.reply.array(2);
      reply_id(ctx.reply, id);
      ctx.reply.null_array();
    }
    ++n;
  }
  ctx.reply.end_deferred_array(token, n);
}

// ---------------------------------------------------------------------------
// XADD / XTRIM

struct AddTrimArgs {
  StreamValue::TrimArgs trim;
  bool nomkstream = false;
  bool id_given = false;
  bool seq_given = false;
  StreamID id;
};

// Redis's streamParseAddOrTrimArgsOrReply: returns the index where parsing
// stopped (XADD: the ID), or -1 after replying an error.
int64_t parse_add_trim(CommandContext& ctx, AddTrimArgs& a, bool xadd) {
  using Strategy = StreamValue::TrimStrategy;
  const auto& args = ctx.args;
  const size_t argc = args.size();
  StreamValue::TrimArgs& t = a.trim;
  bool limit_given = false;
  int64_t limit = 0;
  size_t i = 2;
  for (; i < argc; ++i) {
    const size_t moreargs = argc - 1 - i;
    const std::string_view opt = args[i];
    if (xadd && c_string_prefix(opt) == "*") break;  // the common auto-ID case
    if (is_option(opt, "maxlen") && moreargs) {
      if (t.strategy != Strategy::kNone) {
        ctx.reply.error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
        return -1;
      }
      t.approx = false;
      const std::string_view next = c_string_prefix(args[i + 1]);
      if (moreargs >= 2 && next == "~") {
        t.approx = true;
        ++i;
      } else if (moreargs >= 2 && next == "=") {
        ++i;
      }
      int64_t maxlen;
      if (!get_ll(ctx, args[i + 1], maxlen)) return -1;
      if (maxlen < 0) {
        ctx.reply.error("ERR The MAXLEN argument must be >= 0.");
        return -1;
      }
      ++i;
      t.strategy = Strategy::kMaxLen;
      t.maxlen = static_cast<uint64_t>(maxlen);
    } else if (is_option(opt, "minid") && moreargs) {
      if (t.strategy != Strategy::kNone) {
        ctx.reply.error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
        return -1;
      }
      t.approx = false;
      const std::string_view next = c_string_prefix(args[i + 1]);
      if (moreargs >= 2 && next == "~") {
        t.approx = true;
        ++i;
      } else if (moreargs >= 2 && next == "=") {
        ++i;
      }
      if (!parse_strict_id(ctx, args[i + 1], t.minid)) return -1;
      ++i;
      t.strategy = Strategy::kMinId;
    } else if (is_option(opt, "limit") && moreargs) {
      if (!get_ll(ctx, args[i + 1], limit)) return -1;
      if (limit < 0) {
        ctx.reply.error("ERR The LIMIT argument must be >= 0.");
        return -1;
      }
      limit_given = true;
      ++i;
    } else if (xadd && is_option(opt, "nomkstream")) {
      a.nomkstream = true;
    } else if (xadd) {
      // Anything else is the ID (or a syntax error reported as a bad ID).
      if (!parse_id(ctx, opt, a.id, 0, true, &a.seq_given)) return -1;
      a.id_given = true;
      break;
    } else {
      ctx.reply.error(errors::kSyntax);
      return -1;
    }
  }
  if (limit && t.strategy == Strategy::kNone) {
    ctx.reply.error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return -1;
  }
  if (!xadd && t.strategy == Strategy::kNone) {
    ctx.reply.error("ERR syntax error, XTRIM must be called with a trimming strategy");
    return -1;
  }
  if (limit_given) {
    if (!t.approx) {
      ctx.reply.error("ERR syntax error, LIMIT cannot be used without the special ~ option");
      return -1;
    }
  } else if (t.approx) {
    // Default work bound of approximate trimming: 100 nodes' worth of entries.
    const int64_t per_node = ctx.config.stream_node_max_entries.load(std::memory_order_relaxed);
    if (__builtin_mul_overflow(per_node, int64_t{100}, &limit) || limit <= 0 ||
        limit > static_cast<int64_t>(StreamValue::kListpackMaxSize))
      limit = 10000;
  } else {
    limit = 0;  // exact trimming is never bounded
  }
  t.limit = limit;
  return static_cast<int64_t>(i);
}

void xadd_command(CommandContext& ctx) {
  AddTrimArgs a;
  const int64_t idpos = parse_add_trim(ctx, a, true);
  if (idpos < 0) return;
  const int64_t field_pos = idpos + 1;
  const int64_t nargs = static_cast<int64_t>(ctx.args.size()) - field_pos;
  if (nargs < 2 || nargs % 2 == 1) {
    reply_wrong_arity(ctx, "xadd");
    return;
  }
  if (a.id_given && a.seq_given && a.id.is_zero()) {
    ctx.reply.error("ERR The ID specified in XADD must be greater than 0-0");
    return;
  }
  const std::string_view key = ctx.args[1];
  StreamValue* s;
  if (!lookup_stream(ctx, key, s)) return;
  if (!s) {
    if (a.nomkstream) {
      ctx.reply.null_bulk();
      return;
    }
    s = &ctx.db().set(key, Value::make<StreamValue>(ValueType::kStream)).as<StreamValue>();
  }
  const StreamID last = s->last_id();
  if (last == StreamID::max()) {
    ctx.reply.error("ERR The stream has exhausted the last possible ID, unable to add more items");
    return;
  }
  StreamID id;
  if (a.id_given) {
    if (a.seq_given) {
      id = a.id;
    } else if (last.ms == a.id.ms) {
      if (last.seq == UINT64_MAX) {
        // Redis reports this one through a stale errno: normally this text.
        ctx.reply.error("ERR Elements are too large to be stored");
        return;
      }
      id = StreamID{last.ms, last.seq + 1};
    } else {
      id = a.id;
    }
  } else {
    const uint64_t ms = now_u64(ctx);
    if (ms > last.ms) {
      id = StreamID{ms, 0};
    } else {
      id = last;
      id.incr();
    }
  }
  if (id <= last) {
    ctx.reply.error(kXaddIdTooSmall);
    return;
  }
  const size_t numfields = static_cast<size_t>(nargs / 2);
  thread_local std::vector<std::string_view> fv;
  fv.clear();
  uint64_t total = 0;
  for (size_t j = static_cast<size_t>(field_pos); j < ctx.args.size(); ++j) {
    fv.push_back(ctx.args[j]);
    total += ctx.args[j].size();
  }
  if (total > StreamValue::kListpackMaxSize) {
    ctx.reply.error("ERR Elements are too large to be stored");
    return;
  }
  s->append(id, fv.data(), numfields, node_limits(ctx));
  reply_id(ctx.reply, id);
  ctx.notify(notify::kStream, "xadd", key);
  if (a.trim.strategy != StreamValue::TrimStrategy::kNone && s->trim(a.trim) > 0)
    ctx.notify(notify::kStream, "xtrim", key);
  ctx.signal_key_ready(key);
}

void xtrim_command(CommandContext& ctx) {
  AddTrimArgs a;
  if (parse_add_trim(ctx, a, false) < 0) return;
  StreamValue* s;
  if (!lookup_stream(ctx, ctx.args[1], s)) return;
  if (!s) {
    ctx.reply.integer(0);
    return;
  }
  const auto trimmed = s->trim(a.trim);
  if (trimmed > 0) ctx.notify(notify::kStream, "xtrim", ctx.args[1]);
  ctx.reply.integer(trimmed);
}

// ---------------------------------------------------------------------------
// XLEN / XRANGE / XREVRANGE / XDEL / XSETID

void xlen_command(CommandContext& ctx) {
  StreamValue* s;
  if (!lookup_stream(ctx, ctx.args[1], s)) return;
  ctx.reply.integer(s ? static_cast<int64_t>(s->length()) : 0);
}

void xrange_generic(CommandContext& ctx, bool rev) {
  const std::string_view start_arg = rev ? ctx.args[3] : ctx.args[2];
  const std::string_view end_arg = rev ? ctx.args[2] : ctx.args[3];
  StreamID start, end;
  bool startex, endex;
  if (!parse_interval_id(ctx, start_arg, start, startex, 0)) return;
  if (startex && !start.incr()) {
    ctx.reply.error("ERR invalid start ID for the interval");
    return;
  }
  if (!parse_interval_id(ctx, end_arg, end, endex, UINT64_MAX)) return;
  if (endex && !end.decr()) {
    ctx.reply.error("ERR invalid end ID for the interval");
    return;
  }
  int64_t count = -1;
  for (size_t j = 4; j < ctx.args.size(); ++j) {
    const size_t additional = ctx.args.size() - j - 1;
    if (is_option(ctx.args[j], "count") && additional >= 1) {
      if (!get_ll(ctx, ctx.args[j + 1], count)) return;
      if (count < 0) count = 0;
      ++j;
    } else {
      ctx.reply.error(errors::kSyntax);
      return;
    }
  }
  StreamValue* s;
  if (!lookup_stream(ctx, ctx.args[1], s)) return;
  if (!s) {
    ctx.reply.empty_array();
    return;
  }
  if (count == 0) {
    ctx.reply.null_array();
    return;
  }
  reply_range(ctx, *s, start, end, count == -1 ? 0 : static_cast<uint64_t>(count), rev);
}

void xrange_command(CommandContext& ctx) { xrange_generic(ctx, false); }
void xrevrange_command(CommandContext& ctx) { xrange_generic(ctx, true); }

void xdel_command(CommandContext& ctx) {
  StreamValue* s;
  if (!lookup_stream(ctx, ctx.args[1], s)) return;
  if (!s) {
    ctx.reply.integer(0);
    return;
  }
  // All IDs are validated before anything is deleted.
  std::vector<StreamID> ids(ctx.args.size() - 2);
  for (size_t j = 2; j < ctx.args.size(); ++j)
    if (!parse_strict_id(ctx, ctx.args[j], ids[j - 2])) return;
  int64_t deleted = 0;
  bool first_entry = false;
  for (const StreamID& id : ids) {
    if (!s->remove(id)) continue;
    if (id == s->first_id()) first_entry = true;
    if (id > s->max_deleted_id()) s->set_max_deleted_id(id);
    ++deleted;
  }
  if (deleted && (s->length() == 0 || first_entry)) s->refresh_first_id();
  if (deleted) ctx.notify(notify::kStream, "xdel", ctx.args[1]);
  ctx.reply.integer(deleted);
}

void xsetid_command(CommandContext& ctx) {
  StreamID id, max_xdel;
  int64_t entries_added = -1;
  if (!parse_strict_id(ctx, ctx.args[2], id)) return;
  for (size_t i = 3; i < ctx.args.size();) {
    const size_t moreargs = ctx.args.size() - 1 - i;
    const std::string_view opt = ctx.args[i];
    if (is_option(opt, "entriesadded") && moreargs) {
      if (!get_ll(ctx, ctx.args[i + 1], entries_added)) return;
      if (entries_added < 0) {
        ctx.reply.error("ERR entries_added must be positive");
        return;
      }
      i += 2;
    } else if (is_option(opt, "maxdeletedid") && moreargs) {
      if (!parse_strict_id(ctx, ctx.args[i + 1], max_xdel)) return;
      if (id < max_xdel) {
        ctx.reply.error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
        return;
      }
      i += 2;
    } else {
      ctx.reply.error(errors::kSyntax);
      return;
    }
  }
  StreamValue* s;
  if (!lookup_stream(ctx, ctx.args[1], s)) return;
  if (!s) {
    ctx.reply.error(errors::kNoSuchKey);
    return;
  }
  if (s->length() > 0) {
    if (id < s->last_valid_id()) {
      ctx.reply.error("ERR The ID specified in XSETID is smaller than the target stream top item");
      return;
    }
    if (entries_added != -1 && s->length() > static_cast<uint64_t>(entries_added)) {
      ctx.reply.error("ERR The entries_added specified in XSETID is smaller than the target stream length");
      return;
    }
  }
  s->set_last_id(id);
  if (entries_added != -1) s->set_entries_added(static_cast<uint64_t>(entries_added));
  if (!max_xdel.is_zero()) s->set_max_deleted_id(max_xdel);
  ctx.notify(notify::kStream, "xsetid", ctx.args[1]);
  ctx.reply.ok();
}

// ---------------------------------------------------------------------------
// XREAD / XREADGROUP

// Key positions: the first half of the arguments after STREAMS (Redis's
// xreadGetKeys, following the same option walk as the command itself).
bool xread_keys(const protocol::ArgList& args, std::vector<int>& out) {
  const size_t argc = args.size();
  for (size_t i = 1; i < argc; ++i) {
    const size_t moreargs = argc - i - 1;
    const std::string_view o = args[i];
    if ((is_option(o, "block") || is_option(o, "count")) && moreargs) {
      ++i;
    } else if (is_option(o, "group") && moreargs >= 2) {
      i += 2;
    } else if (is_option(o, "noack")) {
    } else if (is_option(o, "streams") && moreargs) {
      // An odd count is an error when run; like Redis's key specs, the
      // first half (rounded down) is still reported as keys.
      const size_t n = argc - i - 1;
      for (size_t k = 0; k < n / 2; ++k) out.push_back(static_cast<int>(i + 1 + k));
      return true;
    } else {
      return false;
    }
  }
  return false;
}

void xread_generic(CommandContext& ctx, bool xreadgroup) {
  const auto& args = ctx.args;
  const size_t argc = args.size();
  int64_t timeout = -1;  // -1: no BLOCK
  int64_t count = 0;
  size_t streams_arg = 0, streams_count = 0;
  bool noack = false;
  bool has_group = false;
  std::string_view groupname, consumername;

  for (size_t i = 1; i < argc; ++i) {
    const size_t moreargs = argc - i - 1;
    const std::string_view o = args[i];
    if (is_option(o, "block") && moreargs) {
      ++i;
      int64_t t;
      if (!storage::parse_int64(args[i], t)) {
        ctx.reply.error("ERR timeout is not an integer or out of range");
        return;
      }
      if (t < 0) {
        ctx.reply.error("ERR timeout is negative");
        return;
      }
      // Redis 7.0 takes any non-negative millisecond count here (a sum with
      // "now" that overflows just blocks for good); beyond a century is forever.
      constexpr int64_t kCentury = int64_t{100} * 365 * 24 * 3600 * 1000;
      timeout = t > kCentury ? 0 : t;
    } else if (is_option(o, "count") && moreargs) {
      ++i;
      if (!get_ll(ctx, args[i], count)) return;
      if (count < 0) count = 0;
    } else if (is_option(o, "streams") && moreargs) {
      streams_arg = i + 1;
      streams_count = argc - streams_arg;
      if (streams_count % 2 != 0) {
        ctx.reply.error(  // the same text for XREADGROUP
            "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
        return;
      }
      streams_count /= 2;
      break;
    } else if (is_option(o, "group") && moreargs >= 2) {
      if (!xreadgroup) {
        ctx.reply.error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
        return;
      }
      has_group = true;
      groupname = args[i + 1];
      consumername = args[i + 2];
      i += 2;
    } else if (is_option(o, "noack")) {
      if (!xreadgroup) {
        ctx.reply.error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
        return;
      }
      noack = true;
    } else {
      ctx.reply.error(errors::kSyntax);
      return;
    }
  }
  if (streams_arg == 0) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  if (xreadgroup && !has_group) {
    ctx.reply.error("ERR Missing GROUP option for XREADGROUP");
    return;
  }

  // Resolve the IDs (and groups), in stream order.
  Db& db = ctx.db();
  std::vector<StreamID> ids(streams_count);
  std::vector<StreamGroup*> groups(streams_count, nullptr);
  std::vector<bool> dollar(streams_count, false);
  for (size_t k = 0; k < streams_count; ++k) {
    const std::string_view key = args[streams_arg + k];
    const std::string_view idarg = args[streams_arg + streams_count + k];
    StreamValue* s;
    if (!lookup_stream(ctx, key, s)) return;
    if (xreadgroup) {
      StreamGroup* g = s ? s->find_group(groupname) : nullptr;
      if (!g) {
        ctx.reply.error(fmt::format("NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                                    c_string_prefix(key), c_string_prefix(groupname)));
        return;
      }
      groups[k] = g;
    }
    const std::string_view cid = c_string_prefix(idarg);
    if (cid == "$") {
      if (xreadgroup) {
        ctx.reply.error(
            "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this "
            "consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return "
            "an empty result set.");
        return;
      }
      ids[k] = s ? s->last_id() : StreamID{};
      dollar[k] = true;
      continue;
    }
    if (cid == ">") {
      if (!xreadgroup) {
        ctx.reply.error(
            "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> "
            "option.");
        return;
      }
      ids[k] = StreamID::max();  // resolved against the group below
      continue;
    }
    if (!parse_strict_id(ctx, idarg, ids[k])) return;
  }

  // Serve what can be served now.
  size_t token = 0;
  size_t served = 0;
  const uint64_t ucount = static_cast<uint64_t>(count);
  for (size_t k = 0; k < streams_count; ++k) {
    const std::string_view key = args[streams_arg + k];
    Value* v = db.find(key, ctx.now_ms);
    if (!v) continue;
    StreamValue& s = v->as<StreamValue>();
    StreamID gt = ids[k];  // serve IDs greater than this
    bool serve = false, history = false;
    if (xreadgroup) {
      if (gt != StreamID::max()) {
        serve = history = true;
      } else if (s.length() && s.last_valid_id() > groups[k]->last_id) {
        serve = true;
        gt = groups[k]->last_id;
      }
    } else if (s.length() && s.last_valid_id() > gt) {
      serve = true;
    }
    if (!serve) continue;
    if (++served == 1) token = ctx.reply.begin_deferred();
    StreamID start = gt;
    start.incr();
    if (ctx.reply.resp() == 2) ctx.reply.array(2);
    ctx.reply.bulk(key);
    if (xreadgroup) {
      StreamGroup& g = *groups[k];
      StreamConsumer* c = g.find_consumer(consumername);
      if (c) {
        c->seen_time = ctx.now_ms;
      } else {
        c = g.create_consumer(consumername, ctx.now_ms);
        ctx.notify(notify::kStream, "xgroup-createconsumer", key);
      }
      if (history)
        reply_consumer_history(ctx, s, g, *c, start, ucount);
      else
        reply_range(ctx, s, start, StreamID::max(), ucount, false, &g, c, noack);
    } else {
      reply_range(ctx, s, start, StreamID::max(), ucount, false);
    }
  }
  if (served) {
    if (ctx.reply.resp() == 2)
      ctx.reply.end_deferred_array(token, served);
    else
      ctx.reply.end_deferred_map(token, served);
    return;
  }

  if (timeout != -1 && ctx.may_block) {
    // "$" means "after the last ID at the time of the call": pin it, since
    // the server re-runs this handler with the same arguments when woken.
    // The arguments are the blocked connection's own, untouched while it waits.
    for (size_t k = 0; k < streams_count; ++k)
      if (dollar[k])
        ctx.rewrite_arg(streams_arg + streams_count + k, ids[k].to_string());
    ctx.block(timeout, CommandContext::TimeoutReply::kNullArray);
    return;
  }
  ctx.reply.null_array();
}

void xread_command(CommandContext& ctx) { xread_generic(ctx, false); }
void xreadgroup_command(CommandContext& ctx) { xread_generic(ctx, true); }

// ---------------------------------------------------------------------------
// XGROUP

void xgroup_command(CommandContext& ctx) {
  const auto& args = ctx.args;
  const size_t argc = args.size();
  const std::string_view opt = args[1];
  const bool create = is_option(opt, "create");
  const bool setid = is_option(opt, "setid");
  bool mkstream = false;
  int64_t entries_read = StreamGroup::kInvalidEntriesRead;

  if (create || setid) {
    for (size_t i = 5; i < argc;) {
      if (create && is_option(args[i], "mkstream")) {
        mkstream = true;
        ++i;
      } else if (is_option(args[i], "entriesread") && i + 1 < argc) {
        if (!get_ll(ctx, args[i + 1], entries_read)) return;
        if (entries_read < 0 && entries_read != StreamGroup::kInvalidEntriesRead) {
          ctx.reply.error("ERR value for ENTRIESREAD must be positive or -1");
          return;
        }
        i += 2;
      } else {
        reply_subcommand_syntax_error(ctx);
        return;
      }
    }
  }
  const std::string_view key = args[2];
  const std::string_view grpname = args[3];
  StreamValue* s;
  if (!lookup_stream(ctx, key, s)) return;
  StreamGroup* cg = nullptr;
  if (!mkstream) {
    if (!s) {
      ctx.reply.error(
          "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the "
          "MKSTREAM option to create an empty stream automatically.");
      return;
    }
    cg = s->find_group(grpname);
    if (!cg && (setid || is_option(opt, "createconsumer") || is_option(opt, "delconsumer"))) {
      ctx.reply.error(fmt::format("NOGROUP No such consumer group '{}' for key name '{}'",
                                  c_string_prefix(grpname), c_string_prefix(key)));
      return;
    }
  }

  if (create && argc >= 5 && argc <= 8) {
    StreamID id;
    if (c_string_prefix(args[4]) == "$") {
      id = s ? s->last_id() : StreamID{};
    } else if (!parse_strict_id(ctx, args[4], id)) {
      return;
    }
    if (!s) s = &ctx.db().set(key, Value::make<StreamValue>(ValueType::kStream)).as<StreamValue>();
    if (s->create_group(grpname, id, entries_read)) {
      ctx.notify(notify::kStream, "xgroup-create", key);
      ctx.reply.ok();
    } else
      ctx.reply.error("BUSYGROUP Consumer Group name already exists");
  } else if (setid && (argc == 5 || argc == 7)) {
    StreamID id;
    if (c_string_prefix(args[4]) == "$") {
      id = s->last_id();
    } else if (!parse_id(ctx, args[4], id, 0, false)) {
      return;
    }
    cg->last_id = id;
    cg->entries_read = entries_read;
    ctx.notify(notify::kStream, "xgroup-setid", key);
    ctx.reply.ok();
  } else if (is_option(opt, "destroy") && argc == 4) {
    if (cg) {
      s->destroy_group(grpname);
      ctx.notify(notify::kStream, "xgroup-destroy", key);
      ctx.reply.integer(1);
      ctx.signal_key_ready(key);  // blocked XREADGROUP clients of the group get their error
    } else {
      ctx.reply.integer(0);
    }
  } else if (is_option(opt, "createconsumer") && argc == 5) {
    const bool created = cg->create_consumer(args[4], ctx.now_ms) != nullptr;
    if (created) ctx.notify(notify::kStream, "xgroup-createconsumer", key);
    ctx.reply.integer(created ? 1 : 0);
  } else if (is_option(opt, "delconsumer") && argc == 5) {
    const bool existed = cg->find_consumer(args[4]) != nullptr;
    const auto pending = cg->delete_consumer(args[4]);
    if (existed) ctx.notify(notify::kStream, "xgroup-delconsumer", key);
    ctx.reply.integer(static_cast<int64_t>(pending));
  } else {
    reply_subcommand_syntax_error(ctx);
  }
}

void reply_help(CommandContext& ctx, std::span<const std::string_view> lines) {
  ctx.reply.array(lines.size());
  for (std::string_view line : lines) ctx.reply.simple(line);
}

void xgroup_help_command(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CREATE <key> <groupname> <id|$> [option]",
      "    Create a new consumer group. Options are:",
      "    * MKSTREAM",
      "      Create the empty stream if it does not exist.",
      "    * ENTRIESREAD entries_read",
      "      Set the group's entries_read counter (internal use).",
      "CREATECONSUMER <key> <groupname> <consumer>",
      "    Create a new consumer in the specified group.",
      "DELCONSUMER <key> <groupname> <consumer>",
      "    Remove the specified consumer.",
      "DESTROY <key> <groupname>",
      "    Remove the specified group.",
      "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
      "    Set the current group ID and entries_read counter.",
      "HELP",
      "    Prints this help.",
  };
  reply_help(ctx, kLines);
}

// ---------------------------------------------------------------------------
// XACK / XPENDING / XCLAIM / XAUTOCLAIM

void xack_command(CommandContext& ctx) {
  StreamValue* s;
  if (!lookup_stream(ctx, ctx.args[1], s)) return;
  StreamGroup* g = s ? s->find_group(ctx.args[2]) : nullptr;
  if (!g) {
    ctx.reply.integer(0);
    return;
  }
  std::vector<StreamID> ids(ctx.args.size() - 3);
  for (size_t j = 3; j < ctx.args.size(); ++j)
    if (!parse_strict_id(ctx, ctx.args[j], ids[j - 3])) return;
  int64_t acked = 0;
  for (const StreamID& id : ids)
    if (g->remove_pending(id)) ++acked;
  ctx.reply.integer(acked);
}

void reply_nogroup(CommandContext& ctx) {
  ctx.reply.error(fmt::format("NOGROUP No such key '{}' or consumer group '{}'", c_string_prefix(ctx.args[1]),
                              c_string_prefix(ctx.args[2])));
}

void xpending_command(CommandContext& ctx) {
  const auto& args = ctx.args;
  const size_t argc = args.size();
  const bool justinfo = argc == 3;
  if (argc != 3 && (argc < 6 || argc > 9)) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  StreamID start, end;
  int64_t count = 0, minidle = 0;
  std::optional<std::string_view> consumername;
  if (argc >= 6) {
    size_t startidx = 3;
    if (is_option(args[3], "idle")) {
      if (!get_ll(ctx, args[4], minidle)) return;
      if (argc < 8) {
        ctx.reply.error(errors::kSyntax);
        return;
      }
      startidx += 2;
    }
    if (!get_ll(ctx, args[startidx + 2], count)) return;
    if (count < 0) count = 0;
    bool startex, endex;
    if (!parse_interval_id(ctx, args[startidx], start, startex, 0)) return;
    if (startex && !start.incr()) {
      ctx.reply.error("ERR invalid start ID for the interval");
      return;
    }
    if (!parse_interval_id(ctx, args[startidx + 1], end, endex, UINT64_MAX)) return;
    if (endex && !end.decr()) {
      ctx.reply.error("ERR invalid end ID for the interval");
      return;
    }
    if (startidx + 3 < argc) consumername = args[startidx + 3];
  }
  StreamValue* s;
  if (!lookup_stream(ctx, args[1], s)) return;
  StreamGroup* g = s ? s->find_group(args[2]) : nullptr;
  if (!g) {
    reply_nogroup(ctx);
    return;
  }

  if (justinfo) {
    ctx.reply.array(4);
    ctx.reply.integer(static_cast<int64_t>(g->pel.size()));
    if (g->pel.empty()) {
      ctx.reply.null_bulk();
      ctx.reply.null_bulk();
      ctx.reply.null_array();
      return;
    }
    reply_id(ctx.reply, g->pel.begin()->first);
    reply_id(ctx.reply, g->pel.rbegin()->first);
    size_t n = 0;
    for (const auto& [name, c] : g->consumers)
      if (!c.pel.empty()) ++n;
    ctx.reply.array(n);
    for (const auto& [name, c] : g->consumers) {
      if (c.pel.empty()) continue;
      ctx.reply.array(2);
      ctx.reply.bulk(name);
      ctx.reply.bulk(storage::int64_to_string(static_cast<int64_t>(c.pel.size())));
    }
    return;
  }

  StreamConsumer* consumer = nullptr;
  if (consumername) {
    consumer = g->find_consumer(*consumername);
    if (!consumer) {
      ctx.reply.empty_array();
      return;
    }
  }
  const size_t token = ctx.reply.begin_deferred();
  size_t n = 0;
  auto emit = [&](StreamID id, const StreamNack& nack) -> bool {  // false: stop
    if (!count) return false;
    if (minidle && ctx.now_ms - nack.delivery_time < minidle) return true;
    ++n;
    --count;
    ctx.reply.array(4);
    reply_id(ctx.reply, id);
    ctx.reply.bulk(nack.consumer->name);
    int64_t elapsed = ctx.now_ms - nack.delivery_time;
    ctx.reply.integer(elapsed < 0 ? 0 : elapsed);
    ctx.reply.integer(static_cast<int64_t>(nack.delivery_count));
    return true;
  };
  if (consumer) {
    for (auto it = consumer->pel.lower_bound(start); it != consumer->pel.end() && *it <= end; ++it)
      if (!emit(*it, g->pel.find(*it)->second)) break;
  } else {
    for (auto it = g->pel.lower_bound(start); it != g->pel.end() && it->first <= end; ++it)
      if (!emit(it->first, it->second)) break;
  }
  ctx.reply.end_deferred_array(token, n);
}

// The consumer `name` of `g`, created if needed (streamLookupConsumer with
// refresh, then streamCreateConsumer).
StreamConsumer* touch_consumer(CommandContext& ctx, StreamGroup& g, std::string_view name) {
  if (StreamConsumer* c = g.find_consumer(name)) {
    c->seen_time = ctx.now_ms;
    return c;
  }
  StreamConsumer* created = g.create_consumer(name, ctx.now_ms);
  ctx.notify(notify::kStream, "xgroup-createconsumer", ctx.args[1]);
  return created;
}

void xclaim_command(CommandContext& ctx) {
  const auto& args = ctx.args;
  const size_t argc = args.size();
  StreamValue* s;
  if (!lookup_stream(ctx, args[1], s)) return;
  StreamGroup* g = s ? s->find_group(args[2]) : nullptr;
  if (!g) {
    reply_nogroup(ctx);
    return;
  }
  int64_t minidle;
  if (!get_ll(ctx, args[4], minidle, "ERR Invalid min-idle-time argument for XCLAIM")) return;
  if (minidle < 0) minidle = 0;

  // The IDs run up to the first argument that is not one; options follow.
  size_t j = 5;
  std::vector<StreamID> ids;
  for (; j < argc; ++j) {
    StreamID id;
    if (!parse_id_raw(args[j], id, 0, true, nullptr)) break;
    ids.push_back(id);
  }
  const int64_t now = ctx.now_ms;
  int64_t retrycount = -1;
  int64_t deliverytime = -1;
  bool force = false, justid = false;
  StreamID last_id;
  for (; j < argc; ++j) {
    const size_t moreargs = argc - 1 - j;
    const std::string_view opt = args[j];
    if (is_option(opt, "force")) {
      force = true;
    } else if (is_option(opt, "justid")) {
      justid = true;
    } else if (is_option(opt, "idle") && moreargs) {
      ++j;
      if (!get_ll(ctx, args[j], deliverytime, "ERR Invalid IDLE option argument for XCLAIM")) return;
      deliverytime = static_cast<int64_t>(static_cast<uint64_t>(now) - static_cast<uint64_t>(deliverytime));
    } else if (is_option(opt, "time") && moreargs) {
      ++j;
      if (!get_ll(ctx, args[j], deliverytime, "ERR Invalid TIME option argument for XCLAIM")) return;
    } else if (is_option(opt, "retrycount") && moreargs) {
      ++j;
      if (!get_ll(ctx, args[j], retrycount, "ERR Invalid RETRYCOUNT option argument for XCLAIM")) return;
    } else if (is_option(opt, "lastid") && moreargs) {
      ++j;
      if (!parse_strict_id(ctx, args[j], last_id)) return;
    } else {
      ctx.reply.error(fmt::format("ERR Unrecognized XCLAIM option '{}'", c_string_prefix(opt)));
      return;
    }
  }
  if (last_id > g->last_id) g->last_id = last_id;
  if (deliverytime != -1) {
    // A bogus time (negative or in the future) becomes "now", without an error.
    if (deliverytime < 0 || deliverytime > now) deliverytime = now;
  } else {
    deliverytime = now;
  }

  StreamConsumer* consumer = nullptr;
  const size_t token = ctx.reply.begin_deferred();
  size_t n = 0;
  std::vector<StreamField> fields;
  for (const StreamID& id : ids) {
    auto nit = g->pel.find(id);
    if (!s->find(id, &fields)) {
      // The entry is gone: drop it from the PEL.
      if (nit != g->pel.end()) g->remove_pending(id);
      continue;
    }
    if (force && nit == g->pel.end()) {
      nit = g->pel.try_emplace(id).first;
      nit->second.delivery_time = now;
      nit->second.delivery_count = 1;
      nit->second.consumer = nullptr;
    }
    if (nit == g->pel.end()) continue;
    StreamNack& nack = nit->second;
    if (nack.consumer && minidle && now - nack.delivery_time < minidle) continue;
    if (!consumer) consumer = touch_consumer(ctx, *g, args[3]);
    nack.delivery_time = deliverytime;
    if (retrycount >= 0)
      nack.delivery_count = static_cast<uint64_t>(retrycount);
    else if (!justid)
      ++nack.delivery_count;
    StreamGroup::move_nack(id, nack, consumer);
    if (justid)
      reply_id(ctx.reply, id);
    else
      reply_entry(ctx.reply, id, fields);
    ++n;
  }
  ctx.reply.end_deferred_array(token, n);
}

void xautoclaim_command(CommandContext& ctx) {
  const auto& args = ctx.args;
  const size_t argc = args.size();
  int64_t minidle;
  if (!get_ll(ctx, args[4], minidle, "ERR Invalid min-idle-time argument for XAUTOCLAIM")) return;
  if (minidle < 0) minidle = 0;
  StreamID start;
  bool startex;
  if (!parse_interval_id(ctx, args[5], start, startex, 0)) return;
  if (startex && !start.incr()) {
    ctx.reply.error("ERR invalid start ID for the interval");
    return;
  }
  int64_t count = 100;
  bool justid = false;
  constexpr int64_t kAttemptsFactor = 10;
  for (size_t j = 6; j < argc; ++j) {
    const size_t moreargs = argc - 1 - j;
    if (is_option(args[j], "count") && moreargs) {
      constexpr int64_t kMaxCount = LONG_MAX / 16;  // LONG_MAX / max(sizeof(streamID), attempts factor)
      int64_t v;
      if (!storage::parse_int64(args[j + 1], v) || v < 1 || v > kMaxCount) {
        ctx.reply.error("ERR COUNT must be > 0");
        return;
      }
      count = v;
      ++j;
    } else if (is_option(args[j], "justid")) {
      justid = true;
    } else {
      ctx.reply.error(errors::kSyntax);
      return;
    }
  }
  StreamValue* s;
  if (!lookup_stream(ctx, args[1], s)) return;
  StreamGroup* g = s ? s->find_group(args[2]) : nullptr;
  if (!g) {
    reply_nogroup(ctx);
    return;
  }

  int64_t attempts = count * kAttemptsFactor;
  const int64_t now = ctx.now_ms;
  StreamConsumer* consumer = nullptr;
  std::vector<StreamID> deleted;
  std::vector<StreamField> fields;
  // The claimed entries go to a side buffer: the cursor precedes them.
  std::string claimed;
  protocol::ReplyBuilder sub(&claimed, ctx.reply.resp());
  size_t n = 0;
  auto it = g->pel.lower_bound(start);
  while (attempts-- != 0 && count != 0 && it != g->pel.end()) {
    const StreamID id = it->first;
    StreamNack& nack = it->second;
    if (!s->find(id, &fields)) {
      if (nack.consumer) nack.consumer->pel.erase(id);
      it = g->pel.erase(it);
      deleted.push_back(id);
      --count;
      continue;
    }
    if (minidle && now - nack.delivery_time < minidle) {
      ++it;
      continue;
    }
    if (!consumer) consumer = touch_consumer(ctx, *g, args[3]);
    StreamGroup::move_nack(id, nack, consumer);
    nack.delivery_time = now;
    if (!justid) ++nack.delivery_count;
    if (justid)
      reply_id(sub, id);
    else
      reply_entry(sub, id, fields);
    ++n;
    --count;
    ++it;
  }
  const StreamID cursor = it == g->pel.end() ? StreamID{} : it->first;
  ctx.reply.array(3);
  reply_id(ctx.reply, cursor);
  ctx.reply.array(n);
  ctx.reply.raw(claimed);
  ctx.reply.array(deleted.size());
  for (const StreamID& id : deleted) reply_id(ctx.reply, id);
}

// ---------------------------------------------------------------------------
// XINFO

void reply_lag(CommandContext& ctx, const StreamValue& s, const StreamGroup& g) {
  if (auto lag = s.group_lag(g))
    ctx.reply.integer(*lag);
  else
    ctx.reply.null_bulk();
}

void reply_entries_read(CommandContext& ctx, const StreamGroup& g) {
  if (g.entries_read != StreamGroup::kInvalidEntriesRead)
    ctx.reply.integer(g.entries_read);
  else
    ctx.reply.null_bulk();
}

void xinfo_stream(CommandContext& ctx, StreamValue& s) {
  const auto& args = ctx.args;
  const size_t nopts = args.size() - 3;
  bool full = true;
  int64_t count = 10;
  if (nopts == 0) {
    full = false;
  } else {
    if (nopts != 1 && nopts != 3) {
      reply_subcommand_syntax_error(ctx);
      return;
    }
    if (!is_option(args[3], "full")) {
      reply_subcommand_syntax_error(ctx);
      return;
    }
    if (nopts == 3) {
      if (!is_option(args[4], "count")) {
        reply_subcommand_syntax_error(ctx);
        return;
      }
      if (!get_ll(ctx, args[5], count)) return;
      if (count < 0) count = 10;
    }
  }
  auto& r = ctx.reply;
  r.map(full ? 9 : 10);
  r.bulk("length");
  r.integer(static_cast<int64_t>(s.length()));
  r.bulk("radix-tree-keys");
  r.integer(static_cast<int64_t>(s.node_count()));
  r.bulk("radix-tree-nodes");
  r.integer(static_cast<int64_t>(s.radix_tree_nodes()));
  r.bulk("last-generated-id");
  reply_id(r, s.last_id());
  r.bulk("max-deleted-entry-id");
  reply_id(r, s.max_deleted_id());
  r.bulk("entries-added");
  r.integer(static_cast<int64_t>(s.entries_added()));
  r.bulk("recorded-first-entry-id");
  reply_id(r, s.first_id());
  if (!full) {
    r.bulk("groups");
    r.integer(static_cast<int64_t>(s.group_count()));
    r.bulk("first-entry");
    if (!reply_range(ctx, s, StreamID::min(), StreamID::max(), 1, false, nullptr, nullptr, false, true))
      r.null_bulk();
    r.bulk("last-entry");
    if (!reply_range(ctx, s, StreamID::min(), StreamID::max(), 1, true, nullptr, nullptr, false, true))
      r.null_bulk();
    return;
  }
  const uint64_t ucount = static_cast<uint64_t>(count);
  r.bulk("entries");
  reply_range(ctx, s, StreamID::min(), StreamID::max(), ucount, false);
  r.bulk("groups");
  const StreamValue::GroupMap* groups = s.groups();
  r.array(groups ? groups->size() : 0);
  if (!groups) return;
  for (const auto& [name, g] : *groups) {
    r.map(7);
    r.bulk("name");
    r.bulk(name);
    r.bulk("last-delivered-id");
    reply_id(r, g.last_id);
    r.bulk("entries-read");
    reply_entries_read(ctx, g);
    r.bulk("lag");
    reply_lag(ctx, s, g);
    r.bulk("pel-count");
    r.integer(static_cast<int64_t>(g.pel.size()));
    r.bulk("pending");
    {
      const size_t token = r.begin_deferred();
      size_t n = 0;
      for (auto it = g.pel.begin(); it != g.pel.end() && (!ucount || n < ucount); ++it, ++n) {
        r.array(4);
        reply_id(r, it->first);
        r.bulk(it->second.consumer->name);
        r.integer(it->second.delivery_time);
        r.integer(static_cast<int64_t>(it->second.delivery_count));
      }
      r.end_deferred_array(token, n);
    }
    r.bulk("consumers");
    r.array(g.consumers.size());
    for (const auto& [cname, c] : g.consumers) {
      r.map(4);
      r.bulk("name");
      r.bulk(cname);
      r.bulk("seen-time");
      r.integer(c.seen_time);
      r.bulk("pel-count");
      r.integer(static_cast<int64_t>(c.pel.size()));
      r.bulk("pending");
      const size_t token = r.begin_deferred();
      size_t n = 0;
      for (auto it = c.pel.begin(); it != c.pel.end() && (!ucount || n < ucount); ++it, ++n) {
        const StreamNack& nack = g.pel.find(*it)->second;
        r.array(3);
        reply_id(r, *it);
        r.integer(nack.delivery_time);
        r.integer(static_cast<int64_t>(nack.delivery_count));
      }
      r.end_deferred_array(token, n);
    }
  }
}

void xinfo_command(CommandContext& ctx) {
  const auto& args = ctx.args;
  const size_t argc = args.size();
  const std::string_view opt = args[1];
  StreamValue* s;
  if (!lookup_stream(ctx, args[2], s)) return;
  if (!s) {
    ctx.reply.error(errors::kNoSuchKey);
    return;
  }
  auto& r = ctx.reply;
  if (is_option(opt, "consumers") && argc == 4) {
    StreamGroup* g = s->find_group(args[3]);
    if (!g) {
      r.error(fmt::format("NOGROUP No such consumer group '{}' for key name '{}'", c_string_prefix(args[3]),
                          c_string_prefix(args[2])));
      return;
    }
    r.array(g->consumers.size());
    for (const auto& [name, c] : g->consumers) {
      int64_t idle = ctx.now_ms - c.seen_time;
      if (idle < 0) idle = 0;
      r.map(3);
      r.bulk("name");
      r.bulk(name);
      r.bulk("pending");
      r.integer(static_cast<int64_t>(c.pel.size()));
      r.bulk("idle");
      r.integer(idle);
    }
  } else if (is_option(opt, "groups") && argc == 3) {
    const StreamValue::GroupMap* groups = s->groups();
    r.array(groups ? groups->size() : 0);
    if (!groups) return;
    for (const auto& [name, g] : *groups) {
      r.map(6);
      r.bulk("name");
      r.bulk(name);
      r.bulk("consumers");
      r.integer(static_cast<int64_t>(g.consumers.size()));
      r.bulk("pending");
      r.integer(static_cast<int64_t>(g.pel.size()));
      r.bulk("last-delivered-id");
      reply_id(r, g.last_id);
      r.bulk("entries-read");
      reply_entries_read(ctx, g);
      r.bulk("lag");
      reply_lag(ctx, *s, g);
    }
  } else if (is_option(opt, "stream")) {
    xinfo_stream(ctx, *s);
  } else {
    reply_subcommand_syntax_error(ctx);
  }
}

void xinfo_help_command(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CONSUMERS <key> <groupname>",
      "    Show consumers of <groupname>.",
      "GROUPS <key>",
      "    Show the stream consumer groups.",
      "STREAM <key> [FULL [COUNT <count>]",
      "    Show information about the stream.",
      "HELP",
      "    Prints this help.",
  };
  reply_help(ctx, kLines);
}

// ---------------------------------------------------------------------------
// The table

constexpr uint64_t kRead = kAclRead | kAclStream;
constexpr uint64_t kWrite = kAclWrite | kAclStream;

constexpr CommandSpec make(std::string_view name, int arity, uint32_t flags, uint64_t acl, int first, int last,
                           int step, KeyedHandler handler, std::string_view summary, std::string_view since,
                           std::string_view complexity, KeyFinder finder = nullptr) {
  return keyed_command("stream", name, arity, flags, acl, first, last, step, handler, summary, since, complexity,
                       finder);
}

const CommandSpec kXgroupSubcommands[] = {
    make("xgroup|create", -5, kCmdWrite | kCmdDenyOom, kWrite | kAclSlow, 2, 2, 1, xgroup_command,
         "Creates a consumer group (MKSTREAM creates the stream too).", "5.0.0", "O(1)"),
    make("xgroup|createconsumer", 5, kCmdWrite | kCmdDenyOom, kWrite | kAclSlow, 2, 2, 1, xgroup_command,
         "Creates a consumer in a consumer group.", "6.2.0", "O(1)"),
    make("xgroup|delconsumer", 5, kCmdWrite, kWrite | kAclSlow, 2, 2, 1, xgroup_command,
         "Deletes a consumer and its pending entries; returns how many it had.", "5.0.0", "O(1)"),
    make("xgroup|destroy", 4, kCmdWrite, kWrite | kAclSlow, 2, 2, 1, xgroup_command,
         "Destroys a consumer group.", "5.0.0",
         "O(N) where N is the number of entries in the group's pending entries list (PEL)."),
    make("xgroup|help", 2, kCmdLoading | kCmdStale, kAclStream | kAclSlow, 0, 0, 0, xgroup_help_command,
         "Lists the XGROUP subcommands.", "5.0.0", "O(1)"),
    make("xgroup|setid", -5, kCmdWrite, kWrite | kAclSlow, 2, 2, 1, xgroup_command,
         "Sets the last-delivered ID (and read counter) of a consumer group.", "5.0.0", "O(1)"),
};

const CommandSpec kXinfoSubcommands[] = {
    make("xinfo|consumers", 4, kCmdReadonly, kRead | kAclSlow, 2, 2, 1, xinfo_command,
         "Lists the consumers of a consumer group.", "5.0.0", "O(1)"),
    make("xinfo|groups", 3, kCmdReadonly, kRead | kAclSlow, 2, 2, 1, xinfo_command,
         "Lists the consumer groups of a stream.", "5.0.0", "O(1)"),
    make("xinfo|help", 2, kCmdLoading | kCmdStale, kAclStream | kAclSlow, 0, 0, 0, xinfo_help_command,
         "Lists the XINFO subcommands.", "5.0.0", "O(1)"),
    make("xinfo|stream", -3, kCmdReadonly, kRead | kAclSlow, 2, 2, 1, xinfo_command,
         "Describes a stream (FULL: entries, groups, PELs and consumers too).", "5.0.0",
         "O(1) for the default mode, O(N) for FULL, where N is the number of entries returned."),
};

const CommandSpec kStreamSpecs[] = {
    make("xadd", -5, kCmdWrite | kCmdDenyOom | kCmdFast, kWrite | kAclFast, 1, 1, 1, xadd_command,
         "Appends an entry to a stream (optionally trimming it); returns its ID.", "5.0.0",
         "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted."),
    make("xlen", 2, kCmdReadonly | kCmdFast, kRead | kAclFast, 1, 1, 1, xlen_command,
         "Returns the number of entries of a stream.", "5.0.0", "O(1)"),
    make("xrange", -4, kCmdReadonly, kRead | kAclSlow, 1, 1, 1, xrange_command,
         "Returns the entries between two IDs.", "5.0.0",
         "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the "
         "first 10 elements with COUNT), you can consider it O(1)."),
    make("xrevrange", -4, kCmdReadonly, kRead | kAclSlow, 1, 1, 1, xrevrange_command,
         "Returns the entries between two IDs, newest first.", "5.0.0",
         "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first "
         "10 elements with COUNT), you can consider it O(1)."),
    make("xdel", -3, kCmdWrite | kCmdFast, kWrite | kAclFast, 1, 1, 1, xdel_command,
         "Deletes entries by ID; returns how many existed.", "5.0.0",
         "O(1) for each single item to delete in the stream, regardless of the stream size."),
    make("xtrim", -4, kCmdWrite, kWrite | kAclSlow, 1, 1, 1, xtrim_command,
         "Trims a stream by length (MAXLEN) or lowest ID (MINID); returns the entries removed.", "5.0.0",
         "O(N), with N being the number of evicted entries. Constant times are very small however, since "
         "entries are organized in macro nodes containing multiple entries that can be released with a single "
         "deallocation."),
    make("xread", -4, kCmdReadonly | kCmdBlocking, kRead | kAclSlow | kAclBlocking, 0, 0, 0, xread_command,
         "Reads entries after given IDs from one or more streams, optionally blocking.", "5.0.0",
         "For each stream mentioned: O(N) with N being the number of elements being returned, it means that "
         "XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) "
         "time in order to serve the M clients blocked on the stream getting new data.",
         xread_keys),
    make("xreadgroup", -7, kCmdWrite | kCmdBlocking, kWrite | kAclSlow | kAclBlocking, 0, 0, 0,
         xreadgroup_command,
         "Reads entries for a consumer of a consumer group (new ones with >, or its pending history).",
         "5.0.0",
         "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. "
         "always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when "
         "XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream "
         "getting new data.",
         xread_keys),
    make("xsetid", -3, kCmdWrite | kCmdDenyOom | kCmdFast, kWrite | kAclFast, 1, 1, 1, xsetid_command,
         "Sets the last-generated ID (and counters) of a stream.", "5.0.0", "O(1)"),
    CommandSpec{.name = "xgroup",
                .arity = -2,
                .flags = 0,
                .acl = kAclSlow,
                .group = "stream",
                .summary = "Container for consumer-group commands.",
                .since = "5.0.0",
                .complexity = "Depends on subcommand.",
                .subcommands = kXgroupSubcommands},
    make("xack", -4, kCmdWrite | kCmdFast, kWrite | kAclFast, 1, 1, 1, xack_command,
         "Acknowledges pending entries of a consumer group; returns how many were pending.", "5.0.0",
         "O(1) for each message ID processed."),
    make("xpending", -3, kCmdReadonly, kRead | kAclSlow, 1, 1, 1, xpending_command,
         "Summarizes or lists the pending entries of a consumer group.", "5.0.0",
         "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per "
         "call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. "
         "When the command returns just the summary and the list of consumers is small, it runs in O(1) time; "
         "otherwise, an additional O(N) time for iterating every consumer."),
    make("xclaim", -6, kCmdWrite | kCmdFast, kWrite | kAclFast, 1, 1, 1, xclaim_command,
         "Transfers pending entries idle long enough to another consumer.", "5.0.0", "O(log N) with N being the "
         "number of messages in the PEL of the consumer group."),
    make("xautoclaim", -6, kCmdWrite | kCmdFast, kWrite | kAclFast, 1, 1, 1, xautoclaim_command,
         "Scans a group's pending entries and transfers those idle long enough to a consumer.", "6.2.0",
         "O(1) if COUNT is small."),
    CommandSpec{.name = "xinfo",
                .arity = -2,
                .flags = 0,
                .acl = kAclSlow,
                .group = "stream",
                .summary = "Container for stream introspection commands.",
                .since = "5.0.0",
                .complexity = "Depends on subcommand.",
                .subcommands = kXinfoSubcommands},
};

}  // namespace

std::span<const CommandSpec> stream_command_specs() { return kStreamSpecs; }

}  // namespace distcache::server
