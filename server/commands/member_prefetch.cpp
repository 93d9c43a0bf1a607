#include "server/commands/member_prefetch.h"

#include <strings.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "protocol/resp_peek.h"
#include "server/cluster/slot.h"
#include "storage/hash.h"
#include "storage/member_prefetch.h"

namespace distcache::server {

namespace {

constexpr size_t kMaxCommands = 32;

// Commands whose argument `member_arg` is the one member they look up first.
// ZADD's member is argument 3 only without options (ZADD key NX 1 m makes it
// the score "1": a wasted prefetch, never a wrong result).
struct MemberCommand {
  std::string_view name;
  int member_arg;
};
constexpr MemberCommand kMemberCommands[] = {
    {"hset", 2},      {"hget", 2},      {"hsetnx", 2},       {"hdel", 2},      {"hexists", 2},
    {"hincrby", 2},   {"hmget", 2},     {"hmset", 2},        {"hstrlen", 2},   {"hincrbyfloat", 2},
    {"sadd", 2},      {"srem", 2},      {"sismember", 2},    {"smismember", 2}, {"zadd", 3},
    {"zincrby", 3},   {"zscore", 2},    {"zrem", 2},         {"zrank", 2},     {"zrevrank", 2},
    {"zmscore", 2},
};

int member_arg_of(std::string_view name) {
  if (name.empty()) return -1;
  // Every request of a pipeline comes here (GET, INCR...): size and first
  // letter rule out most names before a full comparison.
  const char first = static_cast<char>(name[0] | 0x20);
  for (const MemberCommand& c : kMemberCommands) {
    if (c.name.size() == name.size() && c.name[0] == first &&
        strncasecmp(c.name.data(), name.data(), name.size()) == 0)
      return c.member_arg;
  }
  return -1;
}

struct MemberLookup {
  const storage::Value* value;
  uint64_t hash;
};

}  // namespace

void prefetch_pipeline_members(const storage::Db& db, const char* data, size_t len, unsigned shards,
                               unsigned home) {
  std::array<MemberLookup, kMaxCommands> lookups;
  size_t n = 0;
  protocol::peek_requests<4>(data, len, kMaxCommands, [&](const std::array<std::string_view, 4>& args, int64_t argc) {
    const int member_arg = member_arg_of(args[0]);
    if (member_arg < 0 || argc <= member_arg) return;
    if (shards != 1 && shard_of_key(args[1], shards) != home) return;
    // The clock does not matter here: an expired key only costs a wasted prefetch.
    const storage::Value* v = db.peek(args[1], 0);
    if (v == nullptr || v->is_string()) return;
    lookups[n++] = {v, storage::hash_bytes(args[static_cast<size_t>(member_arg)])};
  });
  if (n < 2) return;
  for (int stage = 1; stage <= 3; ++stage) {
    for (size_t i = 0; i < n; ++i) storage::prefetch_member(*lookups[i].value, lookups[i].hash, stage);
  }
}

}  // namespace distcache::server
