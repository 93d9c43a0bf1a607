#include "storage/bitops.h"

#include <algorithm>
#include <cstring>

namespace distcache::storage {
namespace {

inline unsigned popcount8(unsigned b) { return static_cast<unsigned>(__builtin_popcount(b & 0xffu)); }

// Leading zero bits of a non-zero byte value.
inline unsigned clz8(unsigned b) { return static_cast<unsigned>(__builtin_clz(b)) - 24u; }

inline uint64_t low_mask(unsigned bits) { return bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1; }

// Byte masks selecting the bits of a byte at or after bit (n & 7), and at or
// before bit (n & 7), in Redis's most-significant-first numbering.
inline unsigned from_bit_mask(uint64_t n) { return 0xffu >> (n & 7); }
inline unsigned to_bit_mask(uint64_t n) { return (0xffu << (7 - (n & 7))) & 0xffu; }

}  // namespace

// The word loop is compiled twice: with the POPCNT instruction for CPUs that
// have it (chosen at load time), and a portable version. Not under
// ThreadSanitizer: the ifunc resolver runs during relocation, before TSan's
// runtime is initialised, and the instrumented resolver crashes at start-up.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
__attribute__((target_clones("popcnt", "default")))
#endif
uint64_t popcount(const unsigned char* p, size_t n) {
  uint64_t total = 0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    uint64_t w[4];
    std::memcpy(w, p + i, sizeof(w));
    total += static_cast<uint64_t>(__builtin_popcountll(w[0])) + static_cast<uint64_t>(__builtin_popcountll(w[1])) +
             static_cast<uint64_t>(__builtin_popcountll(w[2])) + static_cast<uint64_t>(__builtin_popcountll(w[3]));
  }
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, sizeof(w));
    total += static_cast<uint64_t>(__builtin_popcountll(w));
  }
  for (; i < n; ++i) total += popcount8(p[i]);
  return total;
}

uint64_t count_bits(std::string_view s, uint64_t first, uint64_t last) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const uint64_t fb = first >> 3, lb = last >> 3;
  if (fb == lb) return popcount8(p[fb] & from_bit_mask(first) & to_bit_mask(last));
  return popcount8(p[fb] & from_bit_mask(first)) + popcount(p + fb + 1, static_cast<size_t>(lb - fb - 1)) +
         popcount8(p[lb] & to_bit_mask(last));
}

int64_t find_bit(std::string_view s, uint64_t first, uint64_t last, int bit) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const uint64_t fb = first >> 3, lb = last >> 3;
  // After the flip, the bits we look for are the set ones.
  const unsigned flip = bit ? 0u : 0xffu;
  auto found = [](uint64_t byte, unsigned b) { return static_cast<int64_t>(byte * 8 + clz8(b)); };

  unsigned b = (p[fb] ^ flip) & from_bit_mask(first);
  if (fb == lb) {
    b &= to_bit_mask(last);
    return b ? found(fb, b) : -1;
  }
  if (b) return found(fb, b);
  uint64_t i = fb + 1;
  const uint64_t word_flip = bit ? 0 : ~uint64_t{0};
  while (i + 8 <= lb) {
    uint64_t w;
    std::memcpy(&w, p + i, sizeof(w));
    if ((w ^ word_flip) != 0) break;
    i += 8;
  }
  for (; i < lb; ++i) {
    b = p[i] ^ flip;
    if (b) return found(i, b);
  }
  b = (p[lb] ^ flip) & to_bit_mask(last);
  return b ? found(lb, b) : -1;
}

uint64_t get_unsigned_field(std::string_view s, uint64_t offset, unsigned bits) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const uint64_t byte = offset >> 3;
  const unsigned shift = static_cast<unsigned>(offset & 7);
  // The 9 bytes starting at `byte` hold every bit of the field (7 + 64 <= 72).
  unsigned __int128 acc = 0;
  for (uint64_t i = 0; i < 9; ++i) {
    acc <<= 8;
    if (byte + i < s.size()) acc |= p[byte + i];
  }
  acc >>= (72 - shift - bits);
  return static_cast<uint64_t>(acc) & low_mask(bits);
}

int64_t get_signed_field(std::string_view s, uint64_t offset, unsigned bits) {
  uint64_t v = get_unsigned_field(s, offset, bits);
  if (bits < 64 && (v & (uint64_t{1} << (bits - 1)))) v |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(v);
}

void set_field(char* data, uint64_t offset, unsigned bits, uint64_t value) {
  auto* p = reinterpret_cast<unsigned char*>(data) + (offset >> 3);
  const unsigned shift = static_cast<unsigned>(offset & 7);
  const unsigned n = (shift + bits + 7) / 8;
  unsigned __int128 acc = 0;
  for (unsigned i = 0; i < n; ++i) acc = (acc << 8) | p[i];
  const unsigned low = n * 8 - shift - bits;
  const unsigned __int128 m = static_cast<unsigned __int128>(low_mask(bits)) << low;
  acc = (acc & ~m) | (static_cast<unsigned __int128>(value & low_mask(bits)) << low);
  for (unsigned i = n; i-- > 0;) {
    p[i] = static_cast<unsigned char>(acc & 0xff);
    acc >>= 8;
  }
}

std::string bit_operation(BitOp op, const std::vector<std::string_view>& sources) {
  size_t maxlen = 0;
  for (std::string_view s : sources) maxlen = std::max(maxlen, s.size());
  std::string out(maxlen, '\0');
  if (maxlen == 0 || sources.empty()) return out;
  auto* r = reinterpret_cast<unsigned char*>(out.data());
  auto bytes = [](std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); };
  switch (op) {
    case BitOp::kNot: {
      const unsigned char* s = bytes(sources[0]);
      for (size_t i = 0; i < maxlen; ++i) r[i] = static_cast<unsigned char>(~s[i]);
      break;
    }
    case BitOp::kAnd: {
      // The rest stays zero. A missing key is an empty view whose data() may be
      // null, which memcpy must not get even for 0 bytes.
      if (!sources[0].empty()) std::memcpy(r, sources[0].data(), sources[0].size());
      for (size_t j = 1; j < sources.size(); ++j) {
        const unsigned char* s = bytes(sources[j]);
        const size_t n = sources[j].size();
        for (size_t i = 0; i < n; ++i) r[i] &= s[i];
        if (n < maxlen) std::memset(r + n, 0, maxlen - n);
      }
      break;
    }
    case BitOp::kOr:
      for (std::string_view src : sources) {
        const unsigned char* s = bytes(src);
        for (size_t i = 0; i < src.size(); ++i) r[i] |= s[i];
      }
      break;
    case BitOp::kXor:
      for (std::string_view src : sources) {
        const unsigned char* s = bytes(src);
        for (size_t i = 0; i < src.size(); ++i) r[i] ^= s[i];
      }
      break;
  }
  return out;
}

}  // namespace distcache::storage
