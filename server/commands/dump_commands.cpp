// DUMP, RESTORE and RESTORE-ASKING: values serialized in Redis 7.0's DUMP
// payload format (persistence/dump_payload.h), so keys move between
// distcache and redis-server in both directions.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "persistence/dump_payload.h"
#include "persistence/rdb_reader.h"
#include "server/command.h"
#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/config.h"
#include "storage/numbers.h"

namespace distcache::server {
namespace {

using storage::Value;
using storage::ValueType;

constexpr std::string_view kBusyKey = "BUSYKEY Target key name already exists.";
constexpr std::string_view kBadPayload = "ERR DUMP payload version or checksum are wrong";
constexpr std::string_view kBadData = "ERR Bad data format";
constexpr std::string_view kBadTtl = "ERR Invalid TTL value, must be >= 0";
constexpr std::string_view kBadIdle = "ERR Invalid IDLETIME value, must be >= 0";
constexpr std::string_view kBadFreq = "ERR Invalid FREQ value, must be >= 0 and <= 255";

size_t non_negative(int64_t v) { return static_cast<size_t>(std::max<int64_t>(v, 0)); }

// The encoding thresholds restored values are built with.
persistence::RdbValueLimits value_limits(const Config& c) {
  constexpr auto relaxed = std::memory_order_relaxed;
  persistence::RdbValueLimits l;
  l.list_fill = c.list_max_listpack_size.load(relaxed);
  l.hash.max_listpack_entries = non_negative(c.hash_max_listpack_entries.load(relaxed));
  l.hash.max_listpack_value = non_negative(c.hash_max_listpack_value.load(relaxed));
  l.set_max_intset_entries = non_negative(c.set_max_intset_entries.load(relaxed));
  l.zset.max_listpack_entries = non_negative(c.zset_max_listpack_entries.load(relaxed));
  l.zset.max_listpack_value = non_negative(c.zset_max_listpack_value.load(relaxed));
  return l;
}

void dump_command(CommandContext& ctx) {
  const Value* v = ctx.db().find(ctx.args[1], ctx.now_ms);
  if (!v) {
    ctx.reply.null_bulk();
    return;
  }
  ctx.reply.bulk(persistence::dump_value(*v));
}

// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]. Checks
// in Redis's order: options, existing key, TTL, payload footer, payload body.
void restore_command(CommandContext& ctx) {
  const auto& args = ctx.args;
  bool replace = false, absttl = false;
  int64_t lru_idle = -1, lfu_freq = -1;
  for (size_t j = 4; j < args.size(); ++j) {
    const bool has_value = j + 1 < args.size();
    if (is_option(args[j], "replace")) {
      replace = true;
    } else if (is_option(args[j], "absttl")) {
      absttl = true;
    } else if (is_option(args[j], "idletime") && has_value && lfu_freq == -1) {
      if (!storage::parse_int64(args[j + 1], lru_idle)) {
        ctx.reply.error(errors::kNotInteger);
        return;
      }
      if (lru_idle < 0) {
        ctx.reply.error(kBadIdle);
        return;
      }
      ++j;
    } else if (is_option(args[j], "freq") && has_value && lru_idle == -1) {
      if (!storage::parse_int64(args[j + 1], lfu_freq)) {
        ctx.reply.error(errors::kNotInteger);
        return;
      }
      if (lfu_freq < 0 || lfu_freq > 255) {
        ctx.reply.error(kBadFreq);
        return;
      }
      ++j;
    } else {
      ctx.reply.error(errors::kSyntax);
      return;
    }
  }

  storage::Db& db = ctx.db();
  const std::string_view key = args[1];
  if (!replace && db.find(key, ctx.now_ms)) {
    ctx.reply.error(kBusyKey);
    return;
  }
  int64_t ttl;
  if (!storage::parse_int64(args[2], ttl)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  if (ttl < 0) {
    ctx.reply.error(kBadTtl);
    return;
  }

  persistence::RestoreError kind = persistence::RestoreError::kNone;
  auto value = persistence::restore_value(args[3], nullptr, value_limits(ctx.config), &kind);
  if (!value) {
    ctx.reply.error(kind == persistence::RestoreError::kBadPayload ? kBadPayload : kBadData);
    return;
  }

  const bool deleted = replace && db.erase(key, ctx.now_ms);
  // Redis adds the relative TTL without an overflow check; a sum that wraps
  // negative reads as already expired.
  if (ttl != 0 && !absttl) ttl = static_cast<int64_t>(static_cast<uint64_t>(ttl) + static_cast<uint64_t>(ctx.now_ms));
  if (ttl != 0 && ttl <= ctx.now_ms) {
    // Already expired: the key is not created (an old one was deleted).
    if (deleted) ctx.notify(notify::kGeneric, "del", key);
    ctx.reply.ok();
    return;
  }
  const ValueType type = value->type();
  storage::Value& stored = db.set(key, std::move(*value));
  if (ttl != 0) db.set_expire(key, ttl);
  // IDLETIME sets the LRU clock back (seconds), FREQ the LFU counter (as
  // Redis's objectSetLRUOrLFU; both are kept, see storage/access_meta.h).
  stored.restore_access(lru_idle, static_cast<int>(lfu_freq));
  if (type == ValueType::kList || type == ValueType::kZSet || type == ValueType::kStream) ctx.signal_key_ready(key);
  ctx.notify(notify::kGeneric, "restore", key);
  ctx.reply.ok();
}

constexpr uint64_t kKeyRead = kAclKeyspace | kAclRead;
constexpr uint64_t kKeyWrite = kAclKeyspace | kAclWrite;

constexpr std::string_view kRestoreComplexity =
    "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the "
    "number of Redis objects composing the value and M their average size. For small string values the time "
    "complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the "
    "complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).";

const CommandSpec kDumpSpecs[] = {
    keyed_command("generic", "dump", 2, kCmdReadonly, kKeyRead | kAclSlow, 1, 1, 1, dump_command,
                  "Returns a serialized representation of the value stored at a key (nil if absent).", "2.6.0",
                  "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis "
                  "objects composing the value and M their average size. For small string values the time "
                  "complexity is thus O(1)+O(1*M) where M is small, so simply O(1)."),
    keyed_command("generic", "restore", -4, kCmdWrite | kCmdDenyOom, kKeyWrite | kAclSlow | kAclDangerous, 1, 1, 1,
                  restore_command, "Creates a key from a DUMP payload, optionally with a TTL.", "2.6.0",
                  kRestoreComplexity),
    keyed_command("server", "restore-asking", -4, kCmdWrite | kCmdDenyOom | kCmdAsking,
                  kKeyWrite | kAclSlow | kAclDangerous, 1, 1, 1, restore_command,
                  "RESTORE as sent by MIGRATE to a cluster node that is importing the key's slot.", "3.0.0",
                  kRestoreComplexity),
};

}  // namespace

std::span<const CommandSpec> dump_command_specs() { return kDumpSpecs; }

}  // namespace distcache::server
