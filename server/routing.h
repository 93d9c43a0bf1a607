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
class Server;

struct KeyRef {
  unsigned shard;
  int index;  // argument index
};

// The keys of a command with the shard that owns each.
std::vector<KeyRef> route_keys(const CommandSpec& spec, const protocol::ArgList& args, unsigned shard_count);

// Database of the key at argument `index`: the client's, except for COPY's destination with DB.
int key_database(const CommandSpec& spec, const protocol::ArgList& args, int index, int client_db);

// Before a keyed command runs on `shard`: while a snapshot is being written,
// keys it may change are written out first (snapshot.h). Also counts writes
// for the save points. `names` may be empty, then the keys come from `args`.
void prepare_keys_for_write(ShardThread& shard, const CommandSpec& spec, const protocol::ArgList& args, int db,
                            const std::vector<std::string_view>& names);

// WATCH: a buffer for the keys a command run on `shard` changes, or null
// when nobody watches keys there (then nothing is recorded). The buffer is
// this thread's and is reused: pass it to run_keyed, then to touch_watched_keys.
ChangedKeys* changed_keys_buffer(ShardThread& shard);
// Clients watching keys the command changed fail their EXEC.
// Also sends client-side caching invalidations (tracking.h); `writer` is the
// id of the client that ran the command (for NOLOOP and reply ordering).
void touch_watched_keys(ShardThread& shard, const ChangedKeys* changed, uint64_t writer = 0, bool reply_done = false);

// A key written by work that held locks on several shards (EXEC, a global
// script): its blocked clients are served once the locks are gone.
struct WrittenKey {
  unsigned shard;
  int db;
  std::string name;
};
// Call after the releases were posted: each shard's wake-up goes behind its
// release (run at once for the calling thread's own shard, already released).
void wake_blocked_after_release(Server& server, std::vector<WrittenKey> written);

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
  bool changed = false;  // the command changed it (WATCH)
};

// On the owning shard: copy the keys' values and expiries.
void gather_keys(storage::Keyspace& shard, std::vector<GatheredKey>& keys, int64_t now_ms);
// On the coordinator: move the copies into a scratch keyspace, and back out after the command ran.
void load_gathered(storage::Keyspace& scratch, std::vector<GatheredKey>& keys);
// `changed`: the keys the command reported changed (their watchers fail).
void collect_gathered(storage::Keyspace& scratch, std::vector<GatheredKey>& keys, int64_t now_ms,
                      const ChangedKeys& changed = {});
// On the owning shard: store the results (absent keys are deleted) and fail
// the EXEC of clients watching them.
void apply_gathered(ShardThread& shard, std::vector<GatheredKey>& keys, int64_t now_ms, uint64_t writer = 0);

}  // namespace distcache::server
