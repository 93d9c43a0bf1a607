#pragma once
// Returning freed heap memory to the system (issue 7: "memory returns to its
// baseline"). glibc's malloc keeps memory that was freed inside its heaps and
// per-thread arenas mapped (only the top of the main heap is trimmed on free),
// so after a burst (2000 connections dropped mid-command with 50 KB each) RSS
// stayed ~100 MB above the baseline although used_memory was back to zero;
// malloc_trim(0) (MEMORY PURGE) brings it back to the baseline in ~15 ms.
// jemalloc (Redis's allocator) gives such memory back after a short decay;
// here the shards' cron checks once a second (whichever shard comes first)
// and calls malloc_trim(0) when RSS exceeds used_memory by more than 32 MB and
// by more than half, then waits at least 10 seconds before the next check.
// Header-only (called from server/shard_thread.cpp's cron).
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>

#include "server/memory_limit.h"

namespace distcache::server {

namespace memory_release_detail {
inline constexpr int64_t kCheckIntervalMs = 1000;
inline constexpr int64_t kAfterTrimIntervalMs = 10000;
inline constexpr uint64_t kMinHeldBytes = uint64_t{32} << 20;
inline std::atomic<int64_t> next_check_ms{0};
inline std::atomic<uint64_t> trims{0};

inline uint64_t resident_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<uint64_t>(resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}
}  // namespace memory_release_detail

// Cheap when nothing is due (one relaxed atomic load).
inline void memory_release_cron(int64_t now_ms) {
  namespace d = memory_release_detail;
  int64_t due = d::next_check_ms.load(std::memory_order_relaxed);
  if (now_ms < due) return;
  // Every shard's cron calls this; the one that moves the deadline does the check.
  if (!d::next_check_ms.compare_exchange_strong(due, now_ms + d::kCheckIntervalMs, std::memory_order_relaxed))
    return;
  // Sanitizer builds: the sanitizer's allocator owns the heap, nothing to trim.
  if (!malloc_counting_active()) return;
  const uint64_t rss = d::resident_bytes();
  const uint64_t used = used_memory();
  if (rss <= used + d::kMinHeldBytes || rss <= used + used / 2) return;
  malloc_trim(0);
  d::trims.fetch_add(1, std::memory_order_relaxed);
  d::next_check_ms.store(now_ms + d::kAfterTrimIntervalMs, std::memory_order_relaxed);
}

// How many automatic trims ran (tests, debugging).
inline uint64_t memory_release_trims() { return memory_release_detail::trims.load(std::memory_order_relaxed); }

}  // namespace distcache::server
