#pragma once
// Where a keyed command's keys live, and what follows a write on a shard.
// Shared by the dispatcher and MULTI/EXEC (multi_exec.cpp).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/arg_list.h"
#include "server/command.h"
#include "storage/keyspace.h"

namespace distcache::server {

class ShardThread;

struct KeyRef {
  unsigned shard;
  int index;  // argument index
};

// The keys of a command with the shard that owns each.
std::vector<KeyRef> route_keys(const CommandSpec& spec, const protocol::ArgList& args, unsigned shard_count);

// Database of the key at argument `index`: the client's, except for COPY's destination with DB.
int key_database(const CommandSpec& spec, const protocol::ArgList& args, int index, int client_db);

// After a write command ran on `shard`: clients watching its keys fail their
// EXEC. `names` may be empty, then the keys are extracted from `args`.
void touch_watched_keys(ShardThread& shard, const CommandSpec& spec, const protocol::ArgList& args, int db,
                        const std::vector<std::string_view>& names);

// After a write command ran on `shard`: wake clients blocked on its keys.
void wake_blocked(ShardThread& shard, const CommandSpec& spec, const protocol::ArgList& args, int db,
                  const std::vector<std::string_view>& names);

// A copy of one key taken from its shard, carried to the thread that runs a
// command over keys of several shards (see docs/architecture.md).
struct GatheredKey {
  int db;
  std::string name;
  bool present = false;
  storage::Value value;
  int64_t expire_at = storage::kNoExpiry;
};

// On the owning shard: copy the keys' values and expiries.
void gather_keys(storage::Keyspace& shard, std::vector<GatheredKey>& keys, int64_t now_ms);
// On the coordinator: move the copies into a scratch keyspace, and back out after the command ran.
void load_gathered(storage::Keyspace& scratch, std::vector<GatheredKey>& keys);
void collect_gathered(storage::Keyspace& scratch, std::vector<GatheredKey>& keys, int64_t now_ms);
// On the owning shard: store the results (absent keys are deleted) and fail
// the EXEC of clients watching them.
void apply_gathered(ShardThread& shard, std::vector<GatheredKey>& keys, int64_t now_ms);

}  // namespace distcache::server
