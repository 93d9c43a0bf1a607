// Bitmap commands over string values: SETBIT, GETBIT, BITCOUNT, BITPOS,
// BITOP, BITFIELD, BITFIELD_RO. The bit helpers live in storage/bitops.h.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/config.h"
#include "storage/bitops.h"
#include "storage/numbers.h"

namespace distcache::server {
namespace {

using storage::Db;
using storage::Value;

constexpr std::string_view kBadBitOffset = "ERR bit offset is not an integer or out of range";
constexpr std::string_view kBadBitValue = "ERR bit is not an integer or out of range";
constexpr std::string_view kBadBitArgument = "ERR The bit argument must be 1 or 0.";
constexpr std::string_view kBadFieldType =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
constexpr std::string_view kBadOverflowType = "ERR Invalid OVERFLOW type specified";
constexpr std::string_view kBitopNotArity = "ERR BITOP NOT must be called with a single source key.";
constexpr std::string_view kBitfieldRoOnlyGet = "ERR BITFIELD_RO only supports the GET subcommand";

void reply_wrong_type(CommandContext& ctx) { ctx.reply.error(errors::kWrongType); }

// A bit offset argument as Redis reads it: a strict integer, or "#N" (N
// fields of `bits` bits, BITFIELD only; the multiplication wraps as in Redis),
// not negative, and addressing a byte below proto-max-bulk-len. Replies the
// error and returns false otherwise.
bool parse_bit_offset(CommandContext& ctx, std::string_view arg, bool allow_hash, unsigned bits, uint64_t& out) {
  const bool use_hash = allow_hash && bits > 0 && !arg.empty() && arg[0] == '#';
  int64_t v;
  if (!storage::parse_int64(use_hash ? arg.substr(1) : arg, v)) {
    ctx.reply.error(kBadBitOffset);
    return false;
  }
  if (use_hash) v = static_cast<int64_t>(static_cast<uint64_t>(v) * bits);
  const int64_t limit = ctx.config.proto_max_bulk_len.load(std::memory_order_relaxed);
  if (v < 0 || (v >> 3) >= limit) {
    ctx.reply.error(kBadBitOffset);
    return false;
  }
  out = static_cast<uint64_t>(v);
  return true;
}

// The string under args[1] for a command that writes bits up to `max_bit`:
// created (zero-filled) if missing, grown with zero bytes if shorter, marked
// as modified in place. Replies WRONGTYPE and returns nullptr for other types.
// `grown` (if given) tells whether the string was created or lengthened.
Value* string_for_bit_write(CommandContext& ctx, uint64_t max_bit, bool* grown = nullptr) {
  Db& db = ctx.db();
  std::string_view key = ctx.args[1];
  const size_t needed = static_cast<size_t>(max_bit >> 3) + 1;
  Value* v = db.find(key, ctx.now_ms);
  if (grown) *grown = false;
  if (!v) {
    v = &db.set(key, Value::string(std::string(needed, '\0')));
    if (grown) *grown = true;
  } else if (!v->is_string()) {
    reply_wrong_type(ctx);
    return nullptr;
  } else if (v->str().size() < needed) {
    v->mutable_str().resize(needed, '\0');
    if (grown) *grown = true;
  }
  v->set_raw_flag();
  return v;
}

// ---------------------------------------------------------------------------
// SETBIT / GETBIT

void setbit_command(CommandContext& ctx) {
  uint64_t offset;
  if (!parse_bit_offset(ctx, ctx.args[2], false, 0, offset)) return;
  int64_t on;
  if (!storage::parse_int64(ctx.args[3], on) || (on & ~int64_t{1}) != 0) {
    ctx.reply.error(kBadBitValue);
    return;
  }
  bool grown;
  Value* v = string_for_bit_write(ctx, offset, &grown);
  if (!v) return;
  const int old = storage::set_bit(v->mutable_str().mutable_data(), offset, static_cast<int>(on));
  if (grown || old != on) ctx.notify(notify::kString, "setbit", ctx.args[1]);
  ctx.reply.integer(old);
}

void getbit_command(CommandContext& ctx) {
  uint64_t offset;
  if (!parse_bit_offset(ctx, ctx.args[2], false, 0, offset)) return;
  const Value* v = ctx.db().find(ctx.args[1], ctx.now_ms);
  if (!v) {
    ctx.reply.integer(0);
    return;
  }
  if (!v->is_string()) {
    reply_wrong_type(ctx);
    return;
  }
  ctx.reply.integer(storage::get_bit(v->str(), offset));
}

// ---------------------------------------------------------------------------
// BITCOUNT / BITPOS

// Applies Redis's range rules to [start, end] over `total` units (bytes or
// bits): negative values count from the end, then both are clamped.
void normalize_range(int64_t total, int64_t& start, int64_t& end) {
  if (start < 0) start += total;
  if (end < 0) end += total;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= total) end = total - 1;
}

// BYTE | BIT. Returns false (after replying) on anything else.
bool parse_range_unit(CommandContext& ctx, std::string_view arg, bool& is_bit) {
  if (is_option(arg, "bit")) {
    is_bit = true;
  } else if (is_option(arg, "byte")) {
    is_bit = false;
  } else {
    ctx.reply.error(errors::kSyntax);
    return false;
  }
  return true;
}

void bitcount_command(CommandContext& ctx) {
  const Value* v = ctx.db().find(ctx.args[1], ctx.now_ms);
  if (!v) {
    ctx.reply.integer(0);
    return;
  }
  if (!v->is_string()) {
    reply_wrong_type(ctx);
    return;
  }
  std::string_view s = v->str();
  const size_t argc = ctx.args.size();
  int64_t start, end;
  bool is_bit = false;
  if (argc == 4 || argc == 5) {
    if (!storage::parse_int64(ctx.args[2], start) || !storage::parse_int64(ctx.args[3], end)) {
      ctx.reply.error(errors::kNotInteger);
      return;
    }
    if (start < 0 && end < 0 && start > end) {
      ctx.reply.integer(0);
      return;
    }
    if (argc == 5 && !parse_range_unit(ctx, ctx.args[4], is_bit)) return;
    const int64_t total = static_cast<int64_t>(s.size()) * (is_bit ? 8 : 1);
    normalize_range(total, start, end);
  } else if (argc == 2) {
    start = 0;
    end = static_cast<int64_t>(s.size()) - 1;
  } else {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  if (start > end) {
    ctx.reply.integer(0);
    return;
  }
  const uint64_t first = is_bit ? static_cast<uint64_t>(start) : static_cast<uint64_t>(start) * 8;
  const uint64_t last = is_bit ? static_cast<uint64_t>(end) : static_cast<uint64_t>(end) * 8 + 7;
  ctx.reply.integer(static_cast<int64_t>(storage::count_bits(s, first, last)));
}

void bitpos_command(CommandContext& ctx) {
  int64_t bit;
  if (!storage::parse_int64(ctx.args[2], bit)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  if (bit != 0 && bit != 1) {
    ctx.reply.error(kBadBitArgument);
    return;
  }
  const Value* v = ctx.db().find(ctx.args[1], ctx.now_ms);
  if (!v) {
    // A missing key is an endless run of zero bits.
    ctx.reply.integer(bit ? -1 : 0);
    return;
  }
  if (!v->is_string()) {
    reply_wrong_type(ctx);
    return;
  }
  std::string_view s = v->str();
  const size_t argc = ctx.args.size();
  int64_t start, end;
  bool is_bit = false, end_given = false;
  if (argc >= 4 && argc <= 6) {
    if (!storage::parse_int64(ctx.args[3], start)) {
      ctx.reply.error(errors::kNotInteger);
      return;
    }
    if (argc == 6 && !parse_range_unit(ctx, ctx.args[5], is_bit)) return;
    const int64_t total = static_cast<int64_t>(s.size()) * (is_bit ? 8 : 1);
    if (argc >= 5) {
      if (!storage::parse_int64(ctx.args[4], end)) {
        ctx.reply.error(errors::kNotInteger);
        return;
      }
      end_given = true;
    } else {
      end = total - 1;
    }
    normalize_range(total, start, end);
  } else if (argc == 3) {
    start = 0;
    end = static_cast<int64_t>(s.size()) - 1;
  } else {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  // An empty range holds neither a 0 nor a 1.
  if (start > end) {
    ctx.reply.integer(-1);
    return;
  }
  const uint64_t first = is_bit ? static_cast<uint64_t>(start) : static_cast<uint64_t>(start) * 8;
  const uint64_t last = is_bit ? static_cast<uint64_t>(end) : static_cast<uint64_t>(end) * 8 + 7;
  int64_t pos = storage::find_bit(s, first, last, static_cast<int>(bit));
  // Looking for a 0 without an explicit end: the string continues with zero
  // bits, so the answer is the first bit after the range.
  if (pos < 0 && bit == 0 && !end_given) pos = static_cast<int64_t>(last + 1);
  ctx.reply.integer(pos);
}

// ---------------------------------------------------------------------------
// BITOP

void bitop_command(CommandContext& ctx) {
  std::string_view opname = ctx.args[1];
  storage::BitOp op;
  if (is_option(opname, "and")) {
    op = storage::BitOp::kAnd;
  } else if (is_option(opname, "or")) {
    op = storage::BitOp::kOr;
  } else if (is_option(opname, "xor")) {
    op = storage::BitOp::kXor;
  } else if (is_option(opname, "not")) {
    op = storage::BitOp::kNot;
  } else {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  if (op == storage::BitOp::kNot && ctx.args.size() != 4) {
    ctx.reply.error(kBitopNotArity);
    return;
  }
  Db& db = ctx.db();
  // find() may reclaim expired keys; once every source was looked up nothing
  // changes, so the strings read through peek() stay put.
  for (size_t j = 3; j < ctx.args.size(); ++j) {
    const Value* v = db.find(ctx.args[j], ctx.now_ms);
    if (v && !v->is_string()) {
      reply_wrong_type(ctx);
      return;
    }
  }
  std::vector<std::string_view> sources;
  sources.reserve(ctx.args.size() - 3);
  for (size_t j = 3; j < ctx.args.size(); ++j) {
    const Value* v = db.peek(ctx.args[j], ctx.now_ms);
    sources.push_back(v ? v->str() : std::string_view());
  }
  std::string result = storage::bit_operation(op, sources);
  std::string_view dest = ctx.args[2];
  if (!result.empty()) {
    if (ctx.notify_flags) db.find(dest, ctx.now_ms);  // reports an expired key first
    db.set(dest, Value::string(result)).set_raw_flag();
    ctx.notify(notify::kString, "set", dest);
  } else if (db.erase(dest, ctx.now_ms)) {
    ctx.notify(notify::kGeneric, "del", dest);
  }
  ctx.reply.integer(static_cast<int64_t>(result.size()));
}

// ---------------------------------------------------------------------------
// BITFIELD

enum class FieldOpcode : uint8_t { kGet, kSet, kIncrBy };
enum class Overflow : uint8_t { kWrap, kSat, kFail };

struct FieldOp {
  uint64_t offset;
  int64_t value;  // SET / INCRBY argument
  FieldOpcode opcode;
  Overflow overflow;
  unsigned bits;
  bool is_signed;
};

// "i1".."i64" or "u1".."u63" (the type letter is case-sensitive; the
// argument counts only up to a NUL byte, as Redis reads it).
bool parse_field_type(std::string_view arg, bool& is_signed, unsigned& bits) {
  std::string_view t = c_string_prefix(arg);
  if (t.empty()) return false;
  if (t[0] == 'i')
    is_signed = true;
  else if (t[0] == 'u')
    is_signed = false;
  else
    return false;
  int64_t n;
  if (!storage::parse_int64(t.substr(1), n) || n < 1 || (is_signed && n > 64) || (!is_signed && n > 63)) return false;
  bits = static_cast<unsigned>(n);
  return true;
}

// Whether value + incr leaves the range of a signed `bits`-bit integer. On
// overflow, `limit` receives the WRAP or SAT result.
//
// The direction of the overflow follows Redis's exact tests, including a
// quirk: for widths below 64 the headroom max - value is computed with 64-bit
// wrap-around, so SET of a value near INT64_MIN (below INT64_MIN + max + 1,
// e.g. SET i8 -9223372036854775808) counts as overflowing UPWARDS and SAT
// stores the maximum. Real Redis 7.0 answers 127 for
// "BITFIELD k OVERFLOW SAT SET i8 0 -9223372036854775808 GET i8 0".
bool signed_overflow(int64_t value, int64_t incr, unsigned bits, Overflow mode, int64_t& limit) {
  const int64_t max = bits == 64 ? std::numeric_limits<int64_t>::max() : (int64_t{1} << (bits - 1)) - 1;
  const int64_t min = -max - 1;
  const auto wrapping_sub = [](int64_t a, int64_t b) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
  };
  const int64_t max_incr = wrapping_sub(max, value);
  const int64_t min_incr = wrapping_sub(min, value);
  bool up;
  if (value > max || (bits != 64 && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr))
    up = true;
  else if (value < min || (bits != 64 && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr))
    up = false;
  else
    return false;
  if (mode == Overflow::kSat) {
    limit = up ? max : min;
  } else if (mode == Overflow::kWrap) {
    uint64_t c = static_cast<uint64_t>(value) + static_cast<uint64_t>(incr);
    if (bits < 64) {
      const uint64_t high = ~uint64_t{0} << bits;
      if (c & (uint64_t{1} << (bits - 1)))
        c |= high;
      else
        c &= ~high;
    }
    limit = static_cast<int64_t>(c);
  }
  return true;
}

// The same for an unsigned `bits`-bit integer (bits <= 63). `value` may be
// out of range (SET of a negative or too large number): that overflows up.
bool unsigned_overflow(uint64_t value, int64_t incr, unsigned bits, Overflow mode, uint64_t& limit) {
  const uint64_t max = (uint64_t{1} << bits) - 1;
  const __int128 sum = static_cast<__int128>(value) + incr;
  bool up;
  if (value > max || (incr > 0 && sum > static_cast<__int128>(max)))
    up = true;
  else if (incr < 0 && sum < 0)
    up = false;
  else
    return false;
  if (mode == Overflow::kSat)
    limit = up ? max : 0;
  else if (mode == Overflow::kWrap)
    limit = (value + static_cast<uint64_t>(incr)) & max;
  return true;
}

void bitfield_generic(CommandContext& ctx, bool read_only_command) {
  std::vector<FieldOp> ops;
  Overflow overflow = Overflow::kWrap;
  bool read_only = true;
  uint64_t highest_write_bit = 0;
  const size_t argc = ctx.args.size();
  for (size_t j = 2; j < argc; ++j) {
    const size_t remaining = argc - j - 1;
    std::string_view sub = ctx.args[j];
    FieldOpcode opcode;
    if (is_option(sub, "get") && remaining >= 2) {
      opcode = FieldOpcode::kGet;
    } else if (is_option(sub, "set") && remaining >= 3) {
      opcode = FieldOpcode::kSet;
    } else if (is_option(sub, "incrby") && remaining >= 3) {
      opcode = FieldOpcode::kIncrBy;
    } else if (is_option(sub, "overflow") && remaining >= 1) {
      std::string_view mode = ctx.args[++j];
      if (is_option(mode, "wrap")) {
        overflow = Overflow::kWrap;
      } else if (is_option(mode, "sat")) {
        overflow = Overflow::kSat;
      } else if (is_option(mode, "fail")) {
        overflow = Overflow::kFail;
      } else {
        ctx.reply.error(kBadOverflowType);
        return;
      }
      continue;
    } else {
      ctx.reply.error(errors::kSyntax);
      return;
    }
    FieldOp op{};
    op.opcode = opcode;
    op.overflow = overflow;
    if (!parse_field_type(ctx.args[j + 1], op.is_signed, op.bits)) {
      ctx.reply.error(kBadFieldType);
      return;
    }
    if (!parse_bit_offset(ctx, ctx.args[j + 2], true, op.bits, op.offset)) return;
    if (opcode != FieldOpcode::kGet) {
      read_only = false;
      highest_write_bit = std::max(highest_write_bit, op.offset + op.bits - 1);
      if (!storage::parse_int64(ctx.args[j + 3], op.value)) {
        ctx.reply.error(errors::kNotInteger);
        return;
      }
    }
    ops.push_back(op);
    j += opcode == FieldOpcode::kGet ? 2 : 3;
  }

  Value* v = nullptr;
  bool grown = false;
  if (read_only) {
    v = ctx.db().find(ctx.args[1], ctx.now_ms);
    if (v && !v->is_string()) {
      reply_wrong_type(ctx);
      return;
    }
  } else {
    if (read_only_command) {
      ctx.reply.error(kBitfieldRoOnlyGet);
      return;
    }
    v = string_for_bit_write(ctx, highest_write_bit, &grown);
    if (!v) return;
  }

  ctx.reply.array(ops.size());
  size_t changes = 0;
  for (const FieldOp& op : ops) {
    if (op.opcode == FieldOpcode::kGet) {
      std::string_view s = v ? v->str() : std::string_view();
      if (op.is_signed)
        ctx.reply.integer(storage::get_signed_field(s, op.offset, op.bits));
      else
        ctx.reply.integer(static_cast<int64_t>(storage::get_unsigned_field(s, op.offset, op.bits)));
      continue;
    }
    // SET and INCRBY: the string already holds every bit written.
    char* data = v->mutable_str().mutable_data();
    std::string_view s = v->str();
    bool overflowed;
    int64_t reply_value;
    uint64_t new_bits;
    if (op.is_signed) {
      const int64_t old = storage::get_signed_field(s, op.offset, op.bits);
      int64_t wrapped = 0, next;
      if (op.opcode == FieldOpcode::kIncrBy) {
        overflowed = signed_overflow(old, op.value, op.bits, op.overflow, wrapped);
        next = overflowed ? wrapped : static_cast<int64_t>(static_cast<uint64_t>(old) + static_cast<uint64_t>(op.value));
        reply_value = next;
      } else {
        overflowed = signed_overflow(op.value, 0, op.bits, op.overflow, wrapped);
        next = overflowed ? wrapped : op.value;
        reply_value = old;
      }
      new_bits = static_cast<uint64_t>(next);
    } else {
      const uint64_t old = storage::get_unsigned_field(s, op.offset, op.bits);
      uint64_t wrapped = 0, next;
      if (op.opcode == FieldOpcode::kIncrBy) {
        overflowed = unsigned_overflow(old, op.value, op.bits, op.overflow, wrapped);
        next = overflowed ? wrapped : old + static_cast<uint64_t>(op.value);
        reply_value = static_cast<int64_t>(next);
      } else {
        overflowed = unsigned_overflow(static_cast<uint64_t>(op.value), 0, op.bits, op.overflow, wrapped);
        next = overflowed ? wrapped : static_cast<uint64_t>(op.value);
        reply_value = static_cast<int64_t>(old);
      }
      new_bits = next;
    }
    if (overflowed && op.overflow == Overflow::kFail) {
      ctx.reply.null_bulk();
      continue;
    }
    ctx.reply.integer(reply_value);
    // As Redis 7.0: a write counts when the string was created or grown, or the field changed.
    const uint64_t mask = op.bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << op.bits) - 1;
    const uint64_t old_bits = op.is_signed ? static_cast<uint64_t>(storage::get_signed_field(s, op.offset, op.bits))
                                           : storage::get_unsigned_field(s, op.offset, op.bits);
    if (grown || ((old_bits ^ new_bits) & mask) != 0) ++changes;
    storage::set_field(data, op.offset, op.bits, new_bits);
  }
  if (changes) ctx.notify(notify::kString, "setbit", ctx.args[1]);
}

void bitfield_command(CommandContext& ctx) { bitfield_generic(ctx, false); }
void bitfield_ro_command(CommandContext& ctx) { bitfield_generic(ctx, true); }

// ---------------------------------------------------------------------------
// The table

constexpr CommandSpec make(std::string_view name, int arity, uint32_t flags, uint64_t acl, int first, int last,
                           KeyedHandler handler, std::string_view summary, std::string_view since,
                           std::string_view complexity) {
  return CommandSpec{.name = name,
                     .arity = arity,
                     .flags = flags,
                     .acl = acl | kAclBitmap,
                     .first_key = first,
                     .last_key = last,
                     .key_step = 1,
                     .keyed = handler,
                     .group = "bitmap",
                     .summary = summary,
                     .since = since,
                     .complexity = complexity};
}

const CommandSpec kBitmapSpecs[] = {
    make("setbit", 4, kCmdWrite | kCmdDenyOom, kAclWrite | kAclSlow, 1, 1, setbit_command,
         "Sets or clears one bit of a string, growing it with zero bytes as needed; returns the old bit.",
         "2.2.0", "O(1)"),
    make("getbit", 3, kCmdReadonly | kCmdFast, kAclRead | kAclFast, 1, 1, getbit_command,
         "Returns one bit of a string (0 past its end or for a missing key).", "2.2.0", "O(1)"),
    make("bitcount", -2, kCmdReadonly, kAclRead | kAclSlow, 1, 1, bitcount_command,
         "Counts the set bits of a string, optionally within a BYTE or BIT range.", "2.6.0", "O(N)"),
    make("bitpos", -3, kCmdReadonly, kAclRead | kAclSlow, 1, 1, bitpos_command,
         "Finds the first 0 or 1 bit of a string, optionally within a BYTE or BIT range.", "2.8.7", "O(N)"),
    make("bitop", -4, kCmdWrite | kCmdDenyOom, kAclWrite | kAclSlow, 2, -1, bitop_command,
         "Stores the AND, OR, XOR of strings, or the NOT of one string, in a destination key.", "2.6.0",
         "O(N)"),
    make("bitfield", -2, kCmdWrite | kCmdDenyOom, kAclWrite | kAclSlow, 1, 1, bitfield_command,
         "Reads, writes and increments integers of any width up to 64 bits at any bit offset of a string.",
         "3.2.0", "O(1) for each subcommand specified"),
    make("bitfield_ro", -2, kCmdReadonly | kCmdFast, kAclRead | kAclFast, 1, 1, bitfield_ro_command,
         "Read-only BITFIELD: only GET operations.", "6.0.0", "O(1) for each subcommand specified"),
};

}  // namespace

std::span<const CommandSpec> bitmap_command_specs() { return kBitmapSpecs; }

}  // namespace distcache::server
