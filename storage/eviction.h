#pragma once
// Choosing keys to evict under maxmemory, as Redis's approximated LRU / LFU /
// TTL and random policies do (see server/memory_limit.h for when and how
// much). One EvictionPool per shard: it samples `maxmemory-samples` keys of
// each database of the shard's keyspace per round into a pool of the 16 best
// candidates seen so far (sorted by "idleness"), and hands out the best one
// that still exists. Scores (larger = evicted first):
//   LRU: milliseconds since the last access (the 24-bit seconds clock);
//   LFU: 255 - the decayed logarithmic access counter;
//   TTL: UINT64_MAX - the expiry time (the soonest to expire goes first).
// Random policies pick a random key (with a TTL for volatile-random) from
// the shard's databases in turn.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/keyspace.h"

namespace distcache::storage {

enum class EvictPolicy : uint8_t {
  kNoEviction,
  kAllkeysLru,
  kVolatileLru,
  kAllkeysLfu,
  kVolatileLfu,
  kAllkeysRandom,
  kVolatileRandom,
  kVolatileTtl,
};

// Redis's maxmemory-policy names (nullopt if unknown) and back.
std::optional<EvictPolicy> parse_evict_policy(std::string_view name);
std::string_view evict_policy_name(EvictPolicy p);
inline bool is_volatile(EvictPolicy p) {
  return p == EvictPolicy::kVolatileLru || p == EvictPolicy::kVolatileLfu || p == EvictPolicy::kVolatileRandom ||
         p == EvictPolicy::kVolatileTtl;
}
inline bool is_lfu(EvictPolicy p) { return p == EvictPolicy::kAllkeysLfu || p == EvictPolicy::kVolatileLfu; }

class EvictionPool {
 public:
  static constexpr size_t kPoolSize = 16;

  explicit EvictionPool(uint64_t seed = 0x2545F4914F6CDD1Dull) : rng_(seed | 1) {}

  struct Victim {
    int db;
    std::string key;
  };
  // The next key to evict from `keyspace` under `policy`, or nullopt when no
  // key qualifies (empty keyspace; no key with a TTL under volatile-*; or
  // noeviction). Never modifies the keyspace; the caller deletes the key.
  std::optional<Victim> next(Keyspace& keyspace, EvictPolicy policy, size_t samples);

  // Drops every candidate (after FLUSHALL, a policy change...).
  void clear() { pool_.clear(); }
  size_t pooled() const { return pool_.size(); }

 private:
  struct Entry {
    uint64_t score;
    int db;
    std::string key;
  };
  void populate(Db& db, int index, EvictPolicy policy, size_t samples);
  uint64_t rand();

  std::vector<Entry> pool_;  // ascending by score: the best candidate is last
  uint64_t rng_;
  size_t next_db_ = 0;  // random policies: databases in turn
};

}  // namespace distcache::storage
