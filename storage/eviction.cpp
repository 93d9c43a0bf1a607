#include "storage/eviction.h"

#include <algorithm>
#include <climits>

#include "storage/access_meta.h"

namespace distcache::storage {

namespace {

constexpr std::string_view kNames[] = {"noeviction",  "allkeys-lru",    "volatile-lru",    "allkeys-lfu",
                                       "volatile-lfu", "allkeys-random", "volatile-random", "volatile-ttl"};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// A lookup that neither touches the key nor treats it as expired: does the
// candidate still exist (and still have a TTL, for volatile policies)?
bool still_there(Db& db, std::string_view key, bool volatile_only) {
  if (volatile_only) return db.expire_at(key) != kNoExpiry;
  return db.peek(key, INT64_MIN) != nullptr;
}

}  // namespace

std::optional<EvictPolicy> parse_evict_policy(std::string_view name) {
  for (size_t i = 0; i < std::size(kNames); ++i)
    if (iequals(name, kNames[i])) return static_cast<EvictPolicy>(i);
  return std::nullopt;
}

std::string_view evict_policy_name(EvictPolicy p) { return kNames[static_cast<size_t>(p)]; }

uint64_t EvictionPool::rand() {
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return rng_;
}

void EvictionPool::populate(Db& db, int index, EvictPolicy policy, size_t samples) {
  const bool volatile_only = is_volatile(policy);
  db.sample(volatile_only, samples, rand(), [&](std::string_view key, const Value& v, int64_t expire_ms) {
    uint64_t score;
    switch (policy) {
      case EvictPolicy::kAllkeysLfu:
      case EvictPolicy::kVolatileLfu:
        score = 255 - access::lfu_decayed(v.lfu_time(), v.lfu_counter());
        break;
      case EvictPolicy::kVolatileTtl:
        score = UINT64_MAX - static_cast<uint64_t>(expire_ms);
        break;
      default:
        score = access::lru_idle_ms(v.lru());
        break;
    }
    for (Entry& e : pool_)
      if (e.db == index && e.key == key) {  // already pooled: refresh its score
        e.score = score;
        std::sort(pool_.begin(), pool_.end(), [](const Entry& a, const Entry& b) { return a.score < b.score; });
        return;
      }
    if (pool_.size() == kPoolSize) {
      if (score <= pool_.front().score) return;  // worse than every candidate held
      pool_.erase(pool_.begin());
    }
    auto pos = std::upper_bound(pool_.begin(), pool_.end(), score,
                                [](uint64_t s, const Entry& e) { return s < e.score; });
    pool_.insert(pos, Entry{score, index, std::string(key)});
  });
}

std::optional<EvictionPool::Victim> EvictionPool::next(Keyspace& keyspace, EvictPolicy policy, size_t samples) {
  if (policy == EvictPolicy::kNoEviction) return std::nullopt;
  const bool volatile_only = is_volatile(policy);
  const size_t n = keyspace.size();
  if (policy == EvictPolicy::kAllkeysRandom || policy == EvictPolicy::kVolatileRandom) {
    for (size_t i = 0; i < 4 * n; ++i) {  // each database with keys gets a few draws
      const size_t index = next_db_++ % n;
      Db& db = keyspace.db(index);
      if ((volatile_only ? db.expires_size() : db.size()) == 0) continue;
      std::optional<Victim> found;
      db.sample_random(volatile_only, [&](std::string_view key, const Value&, int64_t) {
        found = Victim{static_cast<int>(index), std::string(key)};
      });
      if (found) return found;
    }
    return std::nullopt;
  }
  if (samples == 0) samples = 1;
  // Rounds of sampling until a pooled candidate still exists (bounded: the
  // pool refills with live keys each round).
  for (int round = 0; round < 16; ++round) {
    size_t total = 0;
    for (size_t i = 0; i < n; ++i) {
      Db& db = keyspace.db(i);
      const size_t keys = volatile_only ? db.expires_size() : db.size();
      if (keys == 0) continue;
      populate(db, static_cast<int>(i), policy, samples);
      total += keys;
    }
    if (total == 0) {
      pool_.clear();
      return std::nullopt;
    }
    while (!pool_.empty()) {
      Entry e = std::move(pool_.back());
      pool_.pop_back();
      if (static_cast<size_t>(e.db) < n && still_there(keyspace.db(static_cast<size_t>(e.db)), e.key, volatile_only))
        return Victim{e.db, std::move(e.key)};
    }
  }
  return std::nullopt;
}

}  // namespace distcache::storage
