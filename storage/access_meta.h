#pragma once
// Per-key access metadata for maxmemory eviction (Redis's LRU clock and LFU
// counter), kept in 6 spare bytes of Value's header (storage/value.h), so it
// costs no memory per key and sits in the node a lookup already reads:
//     lfu_time  (16 bits) LFU: minutes (mod 65536) of the last decay
//     lru       (24 bits) LRU: the access clock in seconds (mod 2^24)
//     lfu_count (8 bits)  LFU: logarithmic access counter (new keys: 5)
// Both are kept: LRU is updated on every access under any non-LFU policy,
// LFU under the LFU policies (as Redis, only the active one changes).
//
// The clock and the LFU parameters are process-wide; the server pushes them
// in (storage knows nothing of the configuration). Lookups made for commands
// that must not count as an access (OBJECT, TYPE, TTL, ..., Redis's
// LOOKUP_NOTOUCH) run inside a NoTouchScope.
#include <atomic>
#include <cstdint>

namespace distcache::storage::access {

inline constexpr uint32_t kLruClockMax = (1u << 24) - 1;
inline constexpr uint8_t kLfuInitVal = 5;

// Seconds since the epoch, refreshed by the server (every command dispatch
// and every cron tick); 0 until then.
inline std::atomic<uint32_t> g_clock_s{0};
// LFU mode (maxmemory-policy *-lfu) and its parameters.
inline std::atomic<bool> g_lfu_mode{false};
inline std::atomic<int> g_lfu_log_factor{10};
inline std::atomic<int> g_lfu_decay_time{1};

inline thread_local bool t_no_touch = false;

inline void update_clock(int64_t unix_ms) {
  const auto s = static_cast<uint32_t>(unix_ms / 1000);
  if (g_clock_s.load(std::memory_order_relaxed) != s) g_clock_s.store(s, std::memory_order_relaxed);
}
inline uint32_t clock_s() { return g_clock_s.load(std::memory_order_relaxed); }
inline uint32_t lru_clock() { return clock_s() & kLruClockMax; }
inline uint16_t lfu_minutes() { return static_cast<uint16_t>((clock_s() / 60) & 0xFFFF); }
inline bool lfu_mode() { return g_lfu_mode.load(std::memory_order_relaxed); }

// Milliseconds since an LRU clock value (Redis's estimateObjectIdleTime).
inline uint64_t lru_idle_ms(uint32_t lru) {
  const uint32_t now = lru_clock();
  const uint32_t d = now >= lru ? now - lru : (kLruClockMax - lru) + now;
  return uint64_t{d} * 1000;
}

// The counter after decay: one step per lfu-decay-time minutes elapsed.
inline uint8_t lfu_decayed(uint16_t ldt, uint8_t counter) {
  const uint16_t now = lfu_minutes();
  const uint32_t elapsed = now >= ldt ? now - ldt : 65535u - ldt + now;
  const int decay = g_lfu_decay_time.load(std::memory_order_relaxed);
  const uint32_t periods = decay > 0 ? elapsed / static_cast<uint32_t>(decay) : 0;
  return periods >= counter ? 0 : static_cast<uint8_t>(counter - periods);
}

// Logarithmic increment: likelier the smaller the counter (Redis's LFULogIncr).
inline uint8_t lfu_log_incr(uint8_t counter) {
  if (counter == 255) return 255;
  thread_local uint64_t rng = 0x9E3779B97F4A7C15ull ^ reinterpret_cast<uintptr_t>(&rng);
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  const double r = static_cast<double>(rng >> 11) * (1.0 / 9007199254740992.0);
  const double base = counter > kLfuInitVal ? counter - kLfuInitVal : 0;
  const double p = 1.0 / (base * g_lfu_log_factor.load(std::memory_order_relaxed) + 1);
  return r < p ? static_cast<uint8_t>(counter + 1) : counter;
}

// Lookups in this scope (on this thread) do not update access metadata.
class NoTouchScope {
 public:
  NoTouchScope() : saved_(t_no_touch) { t_no_touch = true; }
  ~NoTouchScope() { t_no_touch = saved_; }
  NoTouchScope(const NoTouchScope&) = delete;
  NoTouchScope& operator=(const NoTouchScope&) = delete;

 private:
  bool saved_;
};

}  // namespace distcache::storage::access
