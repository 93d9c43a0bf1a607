#pragma once
// WATCH: optimistic locking for MULTI/EXEC across threads.
//
// A client's watched keys live on the shards that own them. Each shard keeps a
// registry from (db, key) to the watchers of that key, touched only on the
// shard's own thread. A write to a watched key marks every watcher's shared
// flag; EXEC checks the flag once it holds locks on the watched keys, so no
// write can slip in between the check and the transaction (see multi_exec.h).
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/keyspace.h"

namespace distcache::server {

// One client's WATCH state, shared with the registries of the shards that
// hold its keys (they set `touched` from their threads).
struct WatchState {
  struct Key {
    unsigned shard;
    int db;
    std::string name;
    // The key's expiry when it was watched (kNoExpiry if absent or without
    // TTL): a watched key that expires before EXEC aborts it, as in Redis 7.
    int64_t expire_at;
  };
  std::atomic<bool> touched{false};
  std::vector<Key> keys;  // only the client's thread reads or writes this

  bool watching(int db, std::string_view name) const;
  bool expired_since_watch(int64_t now_ms) const;
};

class WatchRegistry {
 public:
  bool empty() const { return watchers_.empty(); }

  void add(int db, std::string_view key, const std::shared_ptr<WatchState>& who);
  void remove(int db, std::string_view key, const WatchState* who);

  // A command modified `key`: every client watching it fails its EXEC.
  void touch(int db, std::string_view key);
  template <typename KeyRange>
  void touch_all(int db, const KeyRange& keys) {
    if (empty()) return;
    for (const auto& k : keys) touch(db, k);
  }
  // FLUSHDB / FLUSHALL / SWAPDB: watched keys of `db` that exist (or existed
  // in `other`, for SWAPDB) are modified.
  void touch_existing(int db, const storage::Db& contents, int64_t now_ms);

 private:
  static std::string slot_name(int db, std::string_view key);
  std::unordered_map<std::string, std::vector<std::shared_ptr<WatchState>>> watchers_;
};

}  // namespace distcache::server
