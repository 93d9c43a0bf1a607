#pragma once
// Reaching a sorted set from a command: shared by the zset and geo families
// (geo data is stored in sorted sets).
#include <algorithm>
#include <string_view>

#include "server/command.h"
#include "server/config.h"
#include "storage/zset_value.h"

namespace distcache::server {

// The listpack thresholds from the configuration.
inline storage::ZSetLimits zset_limits(const CommandContext& ctx) {
  const int64_t e = ctx.config.zset_max_listpack_entries.load(std::memory_order_relaxed);
  const int64_t v = ctx.config.zset_max_listpack_value.load(std::memory_order_relaxed);
  return storage::ZSetLimits{static_cast<size_t>(std::max<int64_t>(e, 0)),
                             static_cast<size_t>(std::max<int64_t>(v, 0))};
}

// The sorted set under `key` (nullptr when absent). Returns false after
// replying WRONGTYPE when the key holds another type.
inline bool get_zset(CommandContext& ctx, std::string_view key, storage::ZSetValue*& out) {
  storage::Value* v = ctx.db().find(key, ctx.now_ms);
  out = nullptr;
  if (!v) return true;
  if (v->type() != storage::ValueType::kZSet) {
    ctx.reply.error(errors::kWrongType);
    return false;
  }
  out = &v->as<storage::ZSetValue>();
  return true;
}

}  // namespace distcache::server
