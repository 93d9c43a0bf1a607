#pragma once
// One database (SELECT index) of one shard: keys -> values, plus expiry times.
// Single-threaded by design: only the owning shard thread ever touches it.
//
// Expired keys are invisible: every lookup checks the key's expiry against the
// `now_ms` passed in and deletes the key lazily; active_expire() reclaims keys
// that are never looked up again.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/value.h"

namespace distcache::storage {

// Lookups made by read commands, Redis's keyspace_hits / keyspace_misses:
// Db::find() counts into these (per thread, no atomics) while the thread's
// current command is a read (the server sets lookup_counting around it and
// collects the counts afterwards).
namespace lookup_stats {
inline thread_local bool counting = false;
inline thread_local uint64_t hits = 0;
inline thread_local uint64_t misses = 0;
}  // namespace lookup_stats

class KeyTable;  // the hash table, see key_table.h

inline constexpr int64_t kNoExpiry = -1;

class Db {
 public:
  Db();
  ~Db();
  Db(Db&&) noexcept;
  Db& operator=(Db&&) noexcept;

  // Live value of `key`, or nullptr if absent or expired (an expired key is deleted).
  Value* find(std::string_view key, int64_t now_ms);
  // Like find() but never deletes (for read paths that must not mutate, e.g. a
  // consistent snapshot); an expired key still reads as absent.
  const Value* peek(std::string_view key, int64_t now_ms) const;

  // Returns the live value for `key`, creating an empty string value if absent.
  // `created` tells which happened. The TTL of an existing key is kept.
  Value& find_or_create(std::string_view key, int64_t now_ms, bool& created);

  // Inserts or overwrites. An existing TTL is removed unless keep_ttl. set()
  // has no clock: with keep_ttl, look the key up with find() first so that an
  // already-expired key is reclaimed instead of lending its old TTL.
  // Value pointers/references stay valid until their key is deleted (erase,
  // expiry, clear): rehashing never moves a key, and set() on an existing key
  // moves the new value into the same slot.
  Value& set(std::string_view key, Value&& v, bool keep_ttl = false);

  // Deletes the key; true if it existed (expired keys count as absent).
  bool erase(std::string_view key, int64_t now_ms);

  // Absolute expiry in unix ms, or kNoExpiry. The key must be live.
  int64_t expire_at(std::string_view key) const;
  // Sets the absolute expiry of an existing key (no effect if absent).
  void set_expire(std::string_view key, int64_t when_ms);
  // Removes the TTL; true if there was one.
  bool persist(std::string_view key);

  size_t size() const;            // keys, including not-yet-reclaimed expired ones (as Redis's DBSIZE)
  size_t expires_size() const;    // keys with a TTL

  // Redis-style SCAN over this table: returns the next cursor (0 when done).
  // Guarantees every key present for the whole scan is visited at least once,
  // also when the table grows or shrinks between calls. Visits about `count`
  // buckets' worth of keys. Expired keys are skipped (and may be reclaimed).
  using KeyVisitor = std::function<void(std::string_view key, const Value& v)>;
  // `reap`, when given, decides which expired keys met on the way are deleted
  // (Redis's SCAN deletes only those that pass its MATCH and TYPE filters);
  // without it every expired key met is deleted.
  using ReapFilter = std::function<bool(std::string_view key, const Value& v)>;
  uint64_t scan(uint64_t cursor, size_t count, int64_t now_ms, const KeyVisitor& visit,
                const ReapFilter* reap = nullptr);

  // Visits every key (expired ones skipped). Must not modify the Db inside.
  void for_each(int64_t now_ms, const KeyVisitor& visit) const;

  // A uniformly random live key, or nullopt when empty. Expired keys drawn are
  // deleted and another is drawn; after 100 expired draws in one call it gives
  // up and returns nullopt (the keyspace is then essentially all expired keys,
  // and each call reclaims 100 of them) -- Redis also bounds this loop.
  std::optional<std::string> random_key(int64_t now_ms);

  // Deletes everything.
  void clear();

  // Optional index of the keys by group (storage/key_groups.h): cluster mode
  // indexes hash slots. Off by default (then it costs a null test per insert
  // and delete). Group sizes include not-yet-reclaimed expired keys, as size().
  void enable_key_groups(unsigned (*group_of)(std::string_view key), unsigned groups);
  bool key_groups_enabled() const;
  size_t key_group_size(unsigned group) const;
  // Up to `max` names of the group's keys.
  std::vector<std::string> key_group_keys(unsigned group, size_t max) const;

  // Active expiry: samples keys with a TTL and deletes expired ones, doing at
  // most about `max_checks` probes. Returns keys deleted. Like Redis, callers
  // repeat while a large fraction of samples was expired.
  struct ExpireStats { size_t checked = 0; size_t expired = 0; };
  ExpireStats active_expire(int64_t now_ms, size_t max_checks);

  // Cache prefetch for a key looked up soon (stage 1: its bucket, stage 2:
  // the first node of its chain, stage 3: the next node if the first is
  // another key). Hints only: never changes anything. `hash` is key_hash(key),
  // computed once for all stages.
  static uint64_t key_hash(std::string_view key);
  void prefetch(std::string_view key, uint64_t hash, int stage) const;

  // --- point-in-time snapshots (BGSAVE without fork; server/snapshot.h)
  // snapshot_begin() makes every key present "pending"; keys created later
  // are not part of the snapshot. The snapshot writes each pending key exactly
  // once: when its walk reaches it, or earlier, just before a command changes
  // or deletes it (snapshot_take). One bit per key; nothing outside snapshots.
  // Expired keys are visited too (with their expiry): the writer decides.
  using SnapshotVisitor = std::function<void(std::string_view key, const Value& v, int64_t expire_ms)>;
  void snapshot_begin();
  // Visits `key` if it is pending and marks it done; false if it was not pending.
  bool snapshot_take(std::string_view key, const SnapshotVisitor& visit);
  // Visits the pending keys of a few buckets from `cursor`, marking them
  // done. Returns the next cursor; 0 when every pending key was visited.
  uint64_t snapshot_walk(uint64_t cursor, size_t buckets, const SnapshotVisitor& visit);

  // Eviction sampling (storage/eviction.h): visits about `count` keys of
  // consecutive buckets starting at a random place derived from `start`,
  // all keys or only those with a TTL. Expired keys are visited too. Must
  // not modify the Db inside; never touches access metadata.
  using SampleVisitor = std::function<void(std::string_view key, const Value& v, int64_t expire_ms)>;
  void sample(bool volatile_only, size_t count, uint64_t start, const SampleVisitor& visit);
  // One uniformly random key (with a TTL if volatile_only); false if none.
  // (Random eviction: sampling from scan positions would favour keys that
  // follow empty buckets and cluster the survivors.)
  bool sample_random(bool volatile_only, const SampleVisitor& visit);

  // Moves one step of any incremental rehash forward (called from idle time).
  void rehash_step();

  void swap(Db& other) noexcept;

  // Approximate bytes used by keys, values and table overhead. O(n): walks
  // every key (for MEMORY/DEBUG-style introspection, not for INFO's hot path).
  size_t memory_bytes() const;

  // Keys this Db deleted because they had expired (lazily or actively), since
  // it was created: Redis's INFO `expired_keys` is the sum over databases.
  uint64_t expired_keys() const { return expired_keys_; }

  // An optional process-wide observer of keys added to a Db (by set() or
  // find_or_create()) and of keys deleted because they expired, for keyspace
  // notifications. It runs on the Db's thread; the key is present while it
  // runs and the hook must not modify the Db. Null (the default) costs one
  // load and branch per added or expired key.
  enum class KeyEvent { kAdded, kExpired };
  using KeyEventHook = void (*)(const Db& db, std::string_view key, KeyEvent event);
  static void set_key_event_hook(KeyEventHook hook);
  // Keys deleted because they expired, for the operation log (a second
  // observer, independent of the one above). Same rules.
  using ExpireHook = void (*)(const Db& db, std::string_view key);
  static void set_expire_hook(ExpireHook hook);

 private:
  std::unique_ptr<KeyTable> table_;
  uint64_t expired_keys_ = 0;
};

}  // namespace distcache::storage
