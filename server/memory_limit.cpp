#include "server/memory_limit.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "server/aof.h"
#include "server/cluster/slot.h"
#include "server/command_table.h"
#include "server/command.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/keyspace_events.h"
#include "server/multi_exec.h"
#include "server/ops.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/snapshot.h"
#include "server/tracking.h"
#include "storage/access_meta.h"
#include "storage/eviction.h"
#include "storage/mapped_bytes.h"

// ---------------------------------------------------------------------------
// Per-thread allocation counting: malloc & co. forward to glibc's allocator
// (glibc documents replacing malloc this way) and add the usable size of
// each block to the calling thread's slot.

#if defined(__has_feature)  // clang spells "built with a sanitizer" this way, GCC with __SANITIZE_*__
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define DC_SANITIZER_BUILD 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(__SANITIZE_MEMORY__) || \
    defined(DC_SANITIZER_BUILD)
#define DC_COUNT_MALLOC 0
#else
#define DC_COUNT_MALLOC 1
#endif

namespace {

struct alignas(64) Slot {
  std::atomic<int64_t> bytes{0};
};
constexpr int kSlots = 128;  // the last one is shared by any further threads
Slot g_slots[kSlots];
std::atomic<int> g_slots_used{0};
thread_local Slot* t_slot = nullptr;  // constant-initialised: no TLS constructor, no allocation

inline Slot* my_slot() {
  Slot* s = t_slot;
  if (__builtin_expect(s == nullptr, 0)) {
    int i = g_slots_used.fetch_add(1, std::memory_order_relaxed);
    if (i >= kSlots - 1) {
      i = kSlots - 1;
      g_slots_used.store(kSlots, std::memory_order_relaxed);
    }
    s = t_slot = &g_slots[i];
  }
  return s;
}

inline void count(int64_t delta) {
  Slot* s = my_slot();
  if (__builtin_expect(s == &g_slots[kSlots - 1], 0))
    s->bytes.fetch_add(delta, std::memory_order_relaxed);
  else
    s->bytes.store(s->bytes.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

inline int64_t my_bytes() { return my_slot()->bytes.load(std::memory_order_relaxed); }

std::atomic<uint64_t> g_sampled_heap{0};  // fallback (sanitizer builds)
std::atomic<uint64_t> g_not_counted{0};    // mem_not_counted_for_evict, sampled by the cron

// Redis leaves the AOF buffer (and replication buffers) out of the memory
// that eviction looks at: a stalled AOF must not empty the dataset.
inline uint64_t counted_for_evict(uint64_t used) {
  const uint64_t excluded = g_not_counted.load(std::memory_order_relaxed);
  return used > excluded ? used - excluded : 0;
}

}  // namespace

namespace distcache::server {
uint64_t used_memory();
}

namespace {
// used_memory() for the per-command limit check: the other threads' slots
// (cache lines they keep writing) are summed only every 32nd call on this
// thread; in between, their last sum plus this thread's own slot.
uint64_t used_memory_cheap() {
#if DC_COUNT_MALLOC
  thread_local uint32_t calls = 0;
  thread_local int64_t others = 0;
  if ((calls++ & 31) == 0) others = static_cast<int64_t>(distcache::server::used_memory()) - my_bytes();
  const int64_t total = others + my_bytes();
  return total > 0 ? static_cast<uint64_t>(total) : 0;
#else
  return distcache::server::used_memory();
#endif
}
}  // namespace

#if DC_COUNT_MALLOC
extern "C" {
void* __libc_malloc(size_t);
void __libc_free(void*);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void* __libc_valloc(size_t);
void* __libc_pvalloc(size_t);

void* malloc(size_t n) {
  void* p = __libc_malloc(n);
  if (p) count(static_cast<int64_t>(malloc_usable_size(p)));
  return p;
}
void free(void* p) {
  if (!p) return;
  count(-static_cast<int64_t>(malloc_usable_size(p)));
  __libc_free(p);
}
void* calloc(size_t n, size_t size) {
  void* p = __libc_calloc(n, size);
  if (p) count(static_cast<int64_t>(malloc_usable_size(p)));
  return p;
}
void* realloc(void* old, size_t n) {
  const int64_t before = old ? static_cast<int64_t>(malloc_usable_size(old)) : 0;
  void* p = __libc_realloc(old, n);
  if (p) {
    count(static_cast<int64_t>(malloc_usable_size(p)) - before);
  } else if (old && n == 0) {
    count(-before);  // realloc(p, 0) freed it
  }
  return p;
}
void* reallocarray(void* old, size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(old, total);
}
void* memalign(size_t align, size_t n) {
  void* p = __libc_memalign(align, n);
  if (p) count(static_cast<int64_t>(malloc_usable_size(p)));
  return p;
}
void* aligned_alloc(size_t align, size_t n) { return memalign(align, n); }
int posix_memalign(void** out, size_t align, size_t n) {
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
  void* p = memalign(align, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
void* valloc(size_t n) {
  void* p = __libc_valloc(n);
  if (p) count(static_cast<int64_t>(malloc_usable_size(p)));
  return p;
}
void* pvalloc(size_t n) {
  void* p = __libc_pvalloc(n);
  if (p) count(static_cast<int64_t>(malloc_usable_size(p)));
  return p;
}
}  // extern "C"
#endif

namespace distcache::server {

namespace {

struct Settings {
  std::atomic<bool> reload{true};
  std::atomic<int> policy{static_cast<int>(storage::EvictPolicy::kNoEviction)};
  std::atomic<int> samples{5};
  std::atomic<int> tenacity{10};
};
Settings g_settings;
std::atomic<uint64_t> g_evicted{0};

int64_t config_int(const Config& config, const char* name, int64_t fallback) {
  auto kv = config_get(config, name);
  if (kv.empty()) return fallback;
  char* end = nullptr;
  const long long v = std::strtoll(kv.front().second.c_str(), &end, 10);
  return end && *end == '\0' ? v : fallback;
}

void reload_settings(const Config& config) {
  if (!g_settings.reload.load(std::memory_order_relaxed)) return;
  g_settings.reload.store(false, std::memory_order_relaxed);
  storage::EvictPolicy policy = storage::EvictPolicy::kNoEviction;
  auto kv = config_get(config, "maxmemory-policy");
  if (!kv.empty())
    if (auto p = storage::parse_evict_policy(kv.front().second)) policy = *p;
  g_settings.policy.store(static_cast<int>(policy), std::memory_order_relaxed);
  g_settings.samples.store(static_cast<int>(config_int(config, "maxmemory-samples", 5)), std::memory_order_relaxed);
  g_settings.tenacity.store(static_cast<int>(config_int(config, "maxmemory-eviction-tenacity", 10)),
                            std::memory_order_relaxed);
  storage::access::g_lfu_log_factor.store(static_cast<int>(config_int(config, "lfu-log-factor", 10)),
                                          std::memory_order_relaxed);
  storage::access::g_lfu_decay_time.store(static_cast<int>(config_int(config, "lfu-decay-time", 1)),
                                          std::memory_order_relaxed);
  storage::access::g_lfu_mode.store(storage::is_lfu(policy), std::memory_order_relaxed);
}

storage::EvictPolicy current_policy() {
  return static_cast<storage::EvictPolicy>(g_settings.policy.load(std::memory_order_relaxed));
}

// Redis's evictionTimeLimitUs.
uint64_t eviction_time_limit_us() {
  const int tenacity = g_settings.tenacity.load(std::memory_order_relaxed);
  if (tenacity <= 10) return 50u * static_cast<uint64_t>(std::max(tenacity, 0));
  if (tenacity < 100) return static_cast<uint64_t>(500.0 * std::pow(1.15, tenacity - 10));
  return UINT64_MAX;
}

// Deletes an evicted key as Redis does: the snapshot keeps its copy, the AOF
// gets a DEL, caching clients and WATCHers learn of it, "evicted" is notified.
void evict_key(ShardThread& shard, int db, const std::string& key) {
  storage::Db& d = shard.keyspace().db(static_cast<size_t>(db));
  if (ShardSnapshot* snapshot = shard.snapshot()) snapshot->take(db, key);
  aof_key_expired(d, key);
  if (tracking_wants_changes(shard)) tracking_key_changed(shard, key, 0);
  if (!shard.watches().empty()) shard.watches().touch(db, key);
  d.erase(key, INT64_MIN);
  g_evicted.fetch_add(1, std::memory_order_relaxed);
  notify_keyspace_event(notify::kEvicted, "evicted", key, db);
}

thread_local storage::EvictionPool t_pool;

enum class EvictResult { kOk, kRunning, kFail };

// Per shard: did its last eviction attempt fail to get under the limit (set
// and cleared by the shard itself, read by dispatchers on other threads)?
constexpr unsigned kMaxShards = 1024;
std::atomic<bool> g_shard_failing[kMaxShards];

void set_failing(ShardThread& shard, bool failing) {
  if (shard.index() < kMaxShards && g_shard_failing[shard.index()].load(std::memory_order_relaxed) != failing)
    g_shard_failing[shard.index()].store(failing, std::memory_order_relaxed);
}
bool shard_failing(unsigned index) {
  return index < kMaxShards && g_shard_failing[index].load(std::memory_order_relaxed);
}

// Per shard: its evictable keys (all keys, or those with a TTL under the
// volatile policies) as of its last eviction attempt or cron tick.
std::atomic<uint64_t> g_shard_keys[kMaxShards];

uint64_t evictable_keys(ShardThread& shard, storage::EvictPolicy policy) {
  uint64_t n = 0;
  storage::Keyspace& ks = shard.keyspace();
  for (size_t i = 0; i < ks.size(); ++i) n += storage::is_volatile(policy) ? ks.db(i).expires_size() : ks.db(i).size();
  if (shard.index() < kMaxShards) g_shard_keys[shard.index()].store(n, std::memory_order_relaxed);
  return n;
}

// Whether a shard holding `own` of `total` evictable keys holds at least
// about its share: only such shards evict, so that shards evict in turn
// and keep similar parts of the data (memory a client's connection thread
// holds for a moment, e.g. a large pipeline, must not drain another shard).
bool holds_its_share(uint64_t own, uint64_t total, unsigned shards) {
  return shards <= 1 || own * shards * 10 >= total * 9;
}

EvictResult evict_on(ShardThread& shard);

// Redis's performEvictions, on this shard's keyspace.
EvictResult perform_evictions(ShardThread& shard) {
  const EvictResult r = evict_on(shard);
  set_failing(shard, r == EvictResult::kFail);
  return r;
}

EvictResult evict_on(ShardThread& shard) {
  const Config& config = shard.server().config();
  const int64_t limit = config.maxmemory.load(std::memory_order_relaxed);
  if (limit <= 0) return EvictResult::kOk;
  reload_settings(config);
  if (counted_for_evict(used_memory_cheap()) <= static_cast<uint64_t>(limit)) return EvictResult::kOk;
  const uint64_t used = counted_for_evict(used_memory());
  if (used <= static_cast<uint64_t>(limit)) return EvictResult::kOk;
  const storage::EvictPolicy policy = current_policy();
  if (policy == storage::EvictPolicy::kNoEviction) return EvictResult::kFail;
  if (!shard.locks().empty()) return EvictResult::kRunning;  // a transaction holds keys here
  // Other shards holding more keys evict first (each shard's cron runs this).
  const unsigned shards = std::min(shard.server().shard_count(), kMaxShards);
  uint64_t own = evictable_keys(shard, policy);
  uint64_t total_keys = 0;
  for (unsigned i = 0; i < shards; ++i) total_keys += g_shard_keys[i].load(std::memory_order_relaxed);
  if (!holds_its_share(own, total_keys, shards)) return EvictResult::kRunning;
  const int64_t to_free = static_cast<int64_t>(used - static_cast<uint64_t>(limit));
  const size_t samples = static_cast<size_t>(std::max(1, g_settings.samples.load(std::memory_order_relaxed)));
  const uint64_t budget_us = eviction_time_limit_us();
  const int64_t start_us = monotonic_us();
  const int64_t start_bytes = DC_COUNT_MALLOC ? my_bytes() : 0;
  int64_t freed = 0;
  size_t evicted = 0;
  while (freed < to_free) {
    auto victim = t_pool.next(shard.keyspace(), policy, samples);
    if (!victim) return EvictResult::kFail;  // nothing left to evict here
    evict_key(shard, victim->db, victim->key);
    ++evicted;
    if (own > 0) --own;
    if (total_keys > 0) --total_keys;
    freed = DC_COUNT_MALLOC ? start_bytes - my_bytes() : static_cast<int64_t>(evicted) * 64;
    if (evicted % 16 == 0 && static_cast<uint64_t>(monotonic_us() - start_us) > budget_us)
      return freed >= to_free ? EvictResult::kOk : EvictResult::kRunning;
    if (freed < to_free && !holds_its_share(own, total_keys, shards)) {
      evictable_keys(shard, policy);  // publish the new count
      return EvictResult::kRunning;  // the others' turn
    }
  }
  evictable_keys(shard, policy);
  return EvictResult::kOk;
}

}  // namespace

uint64_t used_memory() {
#if DC_COUNT_MALLOC
  const int n = std::min(g_slots_used.load(std::memory_order_relaxed), kSlots);
  int64_t total = 0;
  for (int i = 0; i < n; ++i) total += g_slots[i].bytes.load(std::memory_order_relaxed);
  total += storage::g_mapped_bytes.load(std::memory_order_relaxed);  // large bucket arrays (mmap)
  return total > 0 ? static_cast<uint64_t>(total) : 0;
#else
  return g_sampled_heap.load(std::memory_order_relaxed);
#endif
}

bool malloc_counting_active() { return DC_COUNT_MALLOC != 0; }

uint64_t memory_not_counted_for_evict() { return g_not_counted.load(std::memory_order_relaxed); }

std::string_view maxmemory_policy_name() { return storage::evict_policy_name(current_policy()); }

uint64_t evicted_keys_total() { return g_evicted.load(std::memory_order_relaxed); }
void reset_evicted_keys() { g_evicted.store(0, std::memory_order_relaxed); }

void memory_limit_config_changed(std::string_view name) {
  if (name.starts_with("maxmemory") || name.starts_with("lfu-"))
    g_settings.reload.store(true, std::memory_order_relaxed);
  if (name == "maxmemory" || name == "maxmemory-clients") ops::client_eviction_config_changed();
}

bool memory_limit_refuses(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args) {
  ShardThread& shard = conn.thread();
  const Config& config = shard.server().config();
  reload_settings(config);
  const int64_t limit = config.maxmemory.load(std::memory_order_relaxed);
  if (limit <= 0 || counted_for_evict(used_memory_cheap()) <= static_cast<uint64_t>(limit)) return false;
  // Over the limit. The shard owning the command's (first) key evicts its own
  // keys before running a write (evict_before_write): here, evict now if that
  // is this shard, else go by the owner's last attempt.
  EvictResult result;
  if (current_policy() == storage::EvictPolicy::kNoEviction) {
    result = EvictResult::kFail;
  } else {
    unsigned owner = shard.index();
    const unsigned shards = shard.server().shard_count();
    if (shards > 1) {
      thread_local std::vector<int> keys;
      keys.clear();
      if (extract_keys(spec, args, keys) && !keys.empty())
        owner = shard_of_key(args[keys.front()], shards);
    }
    if (owner == shard.index())
      result = perform_evictions(shard);
    else
      result = shard_failing(owner) ? EvictResult::kFail : EvictResult::kRunning;
  }
  if (result != EvictResult::kFail) return false;
  // Redis: deny-oom commands are refused; inside MULTI so is anything queued
  // (except EXEC, DISCARD, QUIT, RESET); EXEC when it holds a deny-oom command.
  const ClientSession& session = conn.session();
  bool refuse = (spec.flags & kCmdDenyOom) != 0;
  if (session.multi) {
    if (spec.name == "exec") {
      for (const auto& q : session.multi->queued)
        if (q.spec->flags & kCmdDenyOom) refuse = true;
    } else if (spec.name != "discard" && spec.name != "quit" && spec.name != "reset") {
      refuse = true;
    }
  }
  if (!refuse) return false;
  if (session.multi && spec.name != "exec") session.multi->aborted = true;
  conn.reply().error(kOomError);
  return true;
}

bool memory_limit_refuses_script_call(const Config& config) {
  const int64_t limit = config.maxmemory.load(std::memory_order_relaxed);
  if (limit <= 0 || counted_for_evict(used_memory()) <= static_cast<uint64_t>(limit)) return false;
  if (current_policy() == storage::EvictPolicy::kNoEviction) return true;
  if (ShardThread* shard = ShardThread::current()) return shard_failing(shard->index());
  for (unsigned i = 0; i < kMaxShards; ++i)  // a script thread: any shard unable to evict
    if (shard_failing(i)) return true;
  return false;
}

void evict_before_write(ShardThread& shard) {
  if (shard.server().config().maxmemory.load(std::memory_order_relaxed) <= 0) return;
  perform_evictions(shard);
}

void memory_limit_cron(ShardThread& shard, int64_t now_ms) {
  storage::access::update_clock(now_ms);
#if !DC_COUNT_MALLOC
  if (shard.index() == 0) {
    struct mallinfo2 mi = mallinfo2();
    g_sampled_heap.store(mi.uordblks + mi.hblkhd, std::memory_order_relaxed);
  }
#endif
  if (shard.index() == 0) g_not_counted.store(shard.server().aof().buffered_bytes(), std::memory_order_relaxed);
  reload_settings(shard.server().config());
  ops::client_eviction_cron(shard);  // maxmemory-clients (server/ops.h)
  if (shard.server().config().maxmemory.load(std::memory_order_relaxed) > 0)
    perform_evictions(shard);
}

}  // namespace distcache::server
