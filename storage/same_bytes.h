#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace distcache::storage {

// a[0, n) == b[0, n). Keys are mostly short: word loads inline beat a call
// to memcmp, which a chain walk would make per node.
inline bool same_bytes(const char* a, const char* b, size_t n) noexcept {
  auto load8 = [](const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  };
  auto load4 = [](const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  };
  if (n > 64) return std::memcmp(a, b, n) == 0;
  if (n >= 8) {
    for (size_t i = 0; i + 8 < n; i += 8)
      if (load8(a + i) != load8(b + i)) return false;
    return load8(a + n - 8) == load8(b + n - 8);  // the last word (may overlap)
  }
  if (n >= 4) return load4(a) == load4(b) && load4(a + n - 4) == load4(b + n - 4);
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

}  // namespace distcache::storage
