#pragma once
// Bytes the storage layer maps directly with mmap (large hash-table bucket
// arrays), outside malloc: the server's memory accounting
// (server/memory_limit.h) adds them to what malloc hands out.
#include <atomic>
#include <cstdint>

namespace distcache::storage {

inline std::atomic<int64_t> g_mapped_bytes{0};

}  // namespace distcache::storage
