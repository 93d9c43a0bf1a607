#pragma once
// Intent locks held by multi-shard transactions on one shard's keys. Only the
// shard's own thread touches this table, so it needs no synchronisation: it
// orders work, it does not guard memory.
//
// A transaction locks the keys it will touch (shared for reads, exclusive for
// writes) or the whole shard (for FLUSHALL-like commands). Single-shard
// commands run to completion in one step and never hold locks; they only wait
// while a transaction holds one of their keys.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace distcache::server {

struct LockRequest {
  struct Key {
    int db;
    std::string name;
  };
  std::vector<Key> keys;
  bool exclusive = false;   // write access to the keys
  bool whole_shard = false; // lock every key of the shard
};

class KeyLocks {
 public:
  bool empty() const { return keys_.empty() && shard_shared_ == 0 && !shard_exclusive_; }

  // True if a transaction could take `req` now.
  bool can_acquire(const LockRequest& req) const;
  void acquire(const LockRequest& req);
  void release(const LockRequest& req);

  // True if a single-step command over `keys` (db-qualified) must wait.
  template <typename KeyRange>
  bool blocks(int db, const KeyRange& keys, bool write) const {
    if (empty()) return false;
    if (shard_exclusive_ || (write && shard_shared_ > 0)) return true;
    for (const auto& k : keys)
      if (key_blocked(db, k, write)) return true;
    return false;
  }
  bool blocks_shard(bool write) const {
    return shard_exclusive_ || !keys_.empty() || (write && shard_shared_ > 0);
  }

 private:
  struct State {
    uint32_t shared = 0;
    bool exclusive = false;
  };
  static std::string lock_name(int db, std::string_view key);
  bool key_blocked(int db, std::string_view key, bool write) const;

  std::unordered_map<std::string, State> keys_;
  uint32_t shard_shared_ = 0;
  bool shard_exclusive_ = false;
};

}  // namespace distcache::server
