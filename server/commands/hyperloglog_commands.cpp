// HyperLogLog commands: PFADD, PFCOUNT, PFMERGE. The values are strings in
// Redis's exact HLL format (storage/hyperloglog.h), so they can be copied
// between this server and redis-server with GET/SET.
#include <array>
#include <cstdint>
#include <string_view>

#include "server/command.h"
#include "server/command_table.h"
#include "storage/hyperloglog.h"

namespace distcache::server {
namespace {

namespace hll = storage::hll;
using storage::Db;
using storage::Value;

constexpr std::string_view kNotHll = "WRONGTYPE Key is not a valid HyperLogLog string value.";
constexpr std::string_view kCorruptHll = "INVALIDOBJ Corrupted HLL object detected";

// Checks that `v` holds a HyperLogLog; replies the error and returns false
// otherwise (WRONGTYPE for other types, Redis's HLL WRONGTYPE text for
// strings that are not HLLs).
bool check_hll(CommandContext& ctx, const Value& v) {
  if (!v.is_string()) {
    ctx.reply.error(errors::kWrongType);
    return false;
  }
  if (!hll::is_valid(v.str())) {
    ctx.reply.error(kNotHll);
    return false;
  }
  return true;
}

void pfadd_command(CommandContext& ctx) {
  Db& db = ctx.db();
  std::string_view key = ctx.args[1];
  Value* v = db.find(key, ctx.now_ms);
  bool updated = false;
  if (!v) {
    v = &db.set(key, Value::string(hll::empty()));
    updated = true;
  } else if (!check_hll(ctx, *v)) {
    return;
  }
  v->set_raw_flag();
  storage::CompactString& s = v->mutable_str();
  for (size_t j = 2; j < ctx.args.size(); ++j) {
    const int r = hll::add(s, ctx.args[j], hll::kSparseMaxBytes);
    if (r < 0) {
      ctx.reply.error(kCorruptHll);
      return;
    }
    if (r > 0) updated = true;
  }
  if (updated) {
    hll::invalidate_cache(s);
    ctx.notify(notify::kString, "pfadd", key);
  }
  ctx.reply.integer(updated ? 1 : 0);
}

void pfcount_command(CommandContext& ctx) {
  Db& db = ctx.db();
  if (ctx.args.size() > 2) {
    // Several keys: the cardinality of their union; nothing is written.
    std::array<uint8_t, hll::kRegisters> max{};
    for (size_t j = 1; j < ctx.args.size(); ++j) {
      const Value* v = db.find(ctx.args[j], ctx.now_ms);
      if (!v) continue;  // a missing key is an empty HLL
      if (!check_hll(ctx, *v)) return;
      if (!hll::merge_into(v->str(), max.data())) {
        ctx.reply.error(kCorruptHll);
        return;
      }
    }
    ctx.reply.integer(static_cast<int64_t>(hll::count_registers(max.data())));
    return;
  }
  // One key: answer from the cached cardinality, or compute and cache it.
  Value* v = db.find(ctx.args[1], ctx.now_ms);
  if (!v) {
    ctx.reply.integer(0);
    return;
  }
  if (!check_hll(ctx, *v)) return;
  v->set_raw_flag();
  if (hll::cache_valid(v->str())) {
    ctx.reply.integer(static_cast<int64_t>(hll::cached_cardinality(v->str())));
    return;
  }
  uint64_t card;
  if (!hll::count(v->str(), card)) {
    ctx.reply.error(kCorruptHll);
    return;
  }
  hll::set_cached_cardinality(v->mutable_str(), card);
  ctx.reply.integer(static_cast<int64_t>(card));
}

void pfmerge_command(CommandContext& ctx) {
  Db& db = ctx.db();
  // The destination (args[1]) is one of the inputs too.
  std::array<uint8_t, hll::kRegisters> max{};
  bool use_dense = false;
  for (size_t j = 1; j < ctx.args.size(); ++j) {
    const Value* v = db.find(ctx.args[j], ctx.now_ms);
    if (!v) continue;
    if (!check_hll(ctx, *v)) return;
    if (hll::encoding(v->str()) == hll::kEncodingDense) use_dense = true;
    if (!hll::merge_into(v->str(), max.data())) {
      ctx.reply.error(kCorruptHll);
      return;
    }
  }
  std::string_view dest = ctx.args[1];
  Value* v = db.find(dest, ctx.now_ms);
  if (!v) v = &db.set(dest, Value::string(hll::empty()));
  v->set_raw_flag();
  storage::CompactString& s = v->mutable_str();
  // With a dense input the result is made dense at once, as Redis does.
  if (use_dense && !hll::to_dense(s)) {
    ctx.reply.error(kCorruptHll);
    return;
  }
  for (size_t i = 0; i < hll::kRegisters; ++i)
    if (max[i] != 0) hll::set_register(s, static_cast<uint32_t>(i), max[i], hll::kSparseMaxBytes);
  hll::invalidate_cache(s);
  ctx.notify(notify::kString, "pfadd", dest);
  ctx.reply.ok();
}

constexpr CommandSpec make(std::string_view name, int arity, uint32_t flags, uint64_t acl, int last,
                           KeyedHandler handler, std::string_view summary, std::string_view complexity) {
  return CommandSpec{.name = name,
                     .arity = arity,
                     .flags = flags,
                     .acl = acl | kAclHyperLogLog,
                     .first_key = 1,
                     .last_key = last,
                     .key_step = 1,
                     .keyed = handler,
                     .group = "hyperloglog",
                     .summary = summary,
                     .since = "2.8.9",
                     .complexity = complexity};
}

const CommandSpec kHyperLogLogSpecs[] = {
    make("pfadd", -2, kCmdWrite | kCmdDenyOom | kCmdFast, kAclWrite | kAclFast, 1, pfadd_command,
         "Adds elements to a HyperLogLog, creating it if needed; 1 if its registers changed.",
         "O(1) to add every element."),
    make("pfcount", -2, kCmdReadonly, kAclRead | kAclSlow, -1, pfcount_command,
         "Estimated number of distinct elements added to a HyperLogLog, or to the union of several.",
         "O(1) with a very small average constant time when called with a single key. O(N) with N being the "
         "number of keys, and much bigger constant times, when called with multiple keys."),
    make("pfmerge", -2, kCmdWrite | kCmdDenyOom, kAclWrite | kAclSlow, -1, pfmerge_command,
         "Merges HyperLogLogs into a destination HyperLogLog (the union of their elements).",
         "O(N) to merge N HyperLogLogs, but with high constant times."),
};

}  // namespace

std::span<const CommandSpec> hyperloglog_command_specs() { return kHyperLogLogSpecs; }

}  // namespace distcache::server
