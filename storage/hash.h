#pragma once
// A fast seeded 64-bit hash for short byte strings (keys), built on the
// "multiply 64x64 -> 128 and fold" mixing step. The seed is chosen randomly
// once per process (see process_hash_seed()), so bucket placement cannot be
// predicted from outside, which blunts hash-flooding attacks.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace distcache::storage {

namespace hash_detail {

inline uint64_t load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t load32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
// Full 128-bit product folded back to 64 bits.
inline uint64_t fold_mul(uint64_t a, uint64_t b) {
  const __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

}  // namespace hash_detail

// Secret per-process keys derived from one random seed.
struct HashKeys {
  uint64_t k0, k1, k2;
};

// Random once per process (std::random_device mixed with the clock).
const HashKeys& process_hash_keys();

inline uint64_t hash_bytes(const void* data, size_t n, const HashKeys& k) {
  using namespace hash_detail;
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t a, b;
  uint64_t s = k.k0;
  if (n <= 16) {
    if (n >= 8) {
      a = load64(p);
      b = load64(p + n - 8);
    } else if (n >= 4) {
      a = load32(p);
      b = load32(p + n - 4);
    } else if (n > 0) {
      a = (uint64_t{p[0]} << 16) | (uint64_t{p[n >> 1]} << 8) | p[n - 1];
      b = 0;
    } else {
      a = b = 0;
    }
  } else {
    size_t left = n;
    // Two independent lanes per 32 bytes keep the multiplier busy.
    uint64_t s2 = k.k2;
    while (left > 32) {
      s = fold_mul(load64(p) ^ k.k1, load64(p + 8) ^ s);
      s2 = fold_mul(load64(p + 16) ^ k.k2, load64(p + 24) ^ s2);
      p += 32;
      left -= 32;
    }
    s ^= s2;
    if (left > 16) {
      s = fold_mul(load64(p) ^ k.k1, load64(p + 8) ^ s);
      p += 16;
      left -= 16;
    }
    // Last 16 bytes (may overlap bytes already mixed; n > 16 so they exist).
    a = load64(p + left - 16);
    b = load64(p + left - 8);
  }
  return fold_mul(k.k1 ^ static_cast<uint64_t>(n), fold_mul(a ^ k.k1, b ^ s) ^ k.k2);
}

inline uint64_t hash_bytes(std::string_view s) {
  return hash_bytes(s.data(), s.size(), process_hash_keys());
}

}  // namespace distcache::storage
