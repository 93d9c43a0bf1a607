#include "storage/hyperloglog.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace distcache::storage::hll {
namespace {

constexpr size_t kDenseRegisterBytes = kDenseSize - kHeaderSize;  // 12288

inline unsigned char* udata(CompactString& s) { return reinterpret_cast<unsigned char*>(s.mutable_data()); }
inline const unsigned char* udata(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

// Byte i of a buffer of n bytes; 0 past the end (where Redis reads the
// string's terminating NUL, e.g. the second byte of a truncated XZERO).
inline unsigned byte_at(const unsigned char* d, size_t n, size_t i) { return i < n ? d[i] : 0u; }

// --- dense registers (`regs` points at the 12288 register bytes)

inline unsigned dense_get(const unsigned char* regs, size_t i) {
  const size_t bit = i * kBits;
  const size_t byte = bit >> 3;
  const unsigned fb = static_cast<unsigned>(bit & 7);
  const unsigned b0 = regs[byte];
  const unsigned b1 = byte + 1 < kDenseRegisterBytes ? regs[byte + 1] : 0u;
  return ((b0 >> fb) | (b1 << (8 - fb))) & kRegisterMax;
}

inline void dense_put(unsigned char* regs, size_t i, unsigned v) {
  const size_t bit = i * kBits;
  const size_t byte = bit >> 3;
  const unsigned fb = static_cast<unsigned>(bit & 7);
  regs[byte] = static_cast<unsigned char>((regs[byte] & ~(kRegisterMax << fb)) | (v << fb));
  if (byte + 1 < kDenseRegisterBytes)
    regs[byte + 1] =
        static_cast<unsigned char>((regs[byte + 1] & ~(kRegisterMax >> (8 - fb))) | (v >> (8 - fb)));
}

// Calls f(index, value) for every register of dense data, 4 registers (24
// bits) at a time.
template <typename F>
inline void dense_for_each(const unsigned char* regs, F&& f) {
  for (size_t i = 0; i < kRegisters; i += 4) {
    const unsigned char* p = regs + (i / 4) * 3;
    const uint32_t w = p[0] | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16);
    f(i, w & 63u);
    f(i + 1, (w >> 6) & 63u);
    f(i + 2, (w >> 12) & 63u);
    f(i + 3, (w >> 18) & 63u);
  }
}

// Resizes a sparse value to n bytes. Sparse values grow a few bytes at a
// time up to hll-sparse-max-bytes (a few KB), so instead of the string's
// doubling growth they get about 1/8 of slack: less memory per HLL, and the
// occasional copy is small next to the opcode scan every update does anyway.
void resize_sparse(CompactString& s, size_t n) {
  const size_t capacity = s.heap_bytes() ? s.heap_bytes() : CompactString::kInlineCapacity;
  if (n > capacity) {
    const size_t size = s.size();
    std::string grown;
    grown.reserve(n + std::max<size_t>(16, n / 8));
    grown.assign(s.view());
    grown.resize(grown.capacity());
    s.assign(grown);  // an exact allocation of that capacity
    s.resize(size);
  }
  s.resize(n);
}

// --- sparse opcodes

inline bool is_zero_op(unsigned b) { return (b & 0xc0) == 0; }
inline bool is_xzero_op(unsigned b) { return (b & 0xc0) == 0x40; }
inline bool is_val_op(unsigned b) { return (b & 0x80) != 0; }
inline unsigned zero_len(unsigned b) { return (b & 0x3f) + 1; }
inline unsigned xzero_len(unsigned b0, unsigned b1) { return (((b0 & 0x3f) << 8) | b1) + 1; }
inline unsigned val_value(unsigned b) { return ((b >> 2) & 0x1f) + 1; }
inline unsigned val_len(unsigned b) { return (b & 0x3) + 1; }
inline unsigned char val_op(unsigned value, unsigned len) {
  return static_cast<unsigned char>(0x80 | ((value - 1) << 2) | (len - 1));
}
constexpr unsigned kZeroMaxLen = 64;

// Appends a ZERO (len <= 64) or XZERO opcode for `len` zero registers.
inline void put_zero_run(unsigned char* seq, size_t& n, uint64_t len) {
  if (len > kZeroMaxLen) {
    const uint64_t l = len - 1;
    seq[n++] = static_cast<unsigned char>(((l >> 8) & 0x3f) | 0x40);
    seq[n++] = static_cast<unsigned char>(l & 0xff);
  } else {
    seq[n++] = static_cast<unsigned char>(len - 1);
  }
}

// Walks the sparse opcodes of s, calling f(first_index, run_length, value)
// for each VAL run. Returns false unless the runs cover exactly kRegisters
// registers; a VAL run that would pass the last register stops the walk and
// makes the value corrupted (Redis 7.0 rejects it too, even when the runs
// before it add up to exactly kRegisters).
template <typename F>
bool sparse_walk(std::string_view s, F&& f) {
  const unsigned char* d = udata(s);
  const size_t n = s.size();
  size_t p = kHeaderSize;
  uint64_t idx = 0;
  while (p < n) {
    const unsigned b = d[p];
    if (is_zero_op(b)) {
      idx += zero_len(b);
      p += 1;
    } else if (is_xzero_op(b)) {
      idx += xzero_len(b, byte_at(d, n, p + 1));
      p += 2;
    } else {
      const unsigned run = val_len(b);
      if (idx + run > kRegisters) return false;
      f(idx, run, val_value(b));
      idx += run;
      p += 1;
    }
  }
  return idx == kRegisters;
}

int dense_set(CompactString& s, uint32_t index, uint8_t count) {
  unsigned char* regs = udata(s) + kHeaderSize;
  if (count > dense_get(regs, index)) {
    dense_put(regs, index, count);
    return 1;
  }
  return 0;
}

int promote_and_set(CompactString& s, uint32_t index, uint8_t count) {
  if (!to_dense(s)) return -1;
  // The register was not representable or did not fit: it always changes.
  return dense_set(s, index, count);
}

int sparse_set(CompactString& s, uint32_t index, uint8_t count, size_t sparse_max_bytes) {
  if (count > kSparseValMaxValue) return promote_and_set(s, index, count);

  // 1. Find the opcode covering register `index`.
  const size_t len = s.size();
  unsigned char* d = udata(s);
  const size_t npos = static_cast<size_t>(-1);
  size_t p = kHeaderSize, end = len, prev = npos;
  uint64_t first = 0, span = 0;
  while (p < end) {
    const unsigned b = d[p];
    size_t oplen = 1;
    if (is_zero_op(b)) {
      span = zero_len(b);
    } else if (is_val_op(b)) {
      span = val_len(b);
    } else {
      span = xzero_len(b, byte_at(d, len, p + 1));
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span == 0 || p >= end) return -1;

  const unsigned op = d[p];
  const bool is_zero = is_zero_op(op), is_xzero = is_xzero_op(op), is_val = is_val_op(op);
  const size_t next = is_xzero ? p + 2 : p + 1;
  const bool has_next = next < end;

  // 2. Cheap cases: the register is already large enough, or the opcode
  // covers only this register and can be rewritten in place.
  bool rewrite_needed = true;
  if (is_val) {
    if (val_value(op) >= count) return 0;
    if (span == 1) {
      d[p] = val_op(count, 1);
      rewrite_needed = false;
    }
  }
  if (rewrite_needed && is_zero && span == 1) {
    d[p] = val_op(count, 1);
    rewrite_needed = false;
  }

  if (rewrite_needed) {
    // 3. Split the run: [left part] VAL(count,1) [right part].
    unsigned char seq[5];
    size_t n = 0;
    const uint64_t last = first + span - 1;
    if (is_zero || is_xzero) {
      if (index != first) put_zero_run(seq, n, index - first);
      seq[n++] = val_op(count, 1);
      if (index != last) put_zero_run(seq, n, last - index);
    } else {
      const unsigned curval = val_value(op);
      if (index != first) seq[n++] = val_op(curval, static_cast<unsigned>(index - first));
      seq[n++] = val_op(count, 1);
      if (index != last) seq[n++] = val_op(curval, static_cast<unsigned>(last - index));
    }
    const ptrdiff_t oldlen = is_xzero ? 2 : 1;
    const ptrdiff_t delta = static_cast<ptrdiff_t>(n) - oldlen;
    if (delta > 0 && len + static_cast<size_t>(delta) > sparse_max_bytes) return promote_and_set(s, index, count);
    const size_t newlen = static_cast<size_t>(static_cast<ptrdiff_t>(len) + delta);
    if (delta > 0) {
      resize_sparse(s, newlen);
      d = udata(s);
      if (has_next) std::memmove(d + next + delta, d + next, end - next);
    } else if (delta < 0) {
      if (has_next) std::memmove(d + next + delta, d + next, end - next);
      s.resize(newlen);
      d = udata(s);
    }
    // (Only a truncated trailing XZERO makes the sequence reach past the end.)
    std::memcpy(d + p, seq, std::min(n, newlen - p));
    end = newlen;
  }

  // 4. Merge adjacent VAL opcodes of equal value around the change (Redis
  // scans at most 5 opcodes from the one before the change).
  size_t q = prev != npos ? prev : kHeaderSize;
  int scanlen = 5;
  while (q < end && scanlen-- > 0) {
    const unsigned b = d[q];
    if (is_xzero_op(b)) {
      q += 2;
      continue;
    }
    if (is_zero_op(b)) {
      q += 1;
      continue;
    }
    if (q + 1 < end && is_val_op(d[q + 1])) {
      const unsigned v1 = val_value(b), v2 = val_value(d[q + 1]);
      if (v1 == v2) {
        const unsigned merged = val_len(b) + val_len(d[q + 1]);
        if (merged <= 4) {
          d[q + 1] = val_op(v1, merged);
          std::memmove(d + q, d + q + 1, end - q - 1);
          --end;
          s.resize(end);
          d = udata(s);
          continue;
        }
      }
    }
    q += 1;
  }
  invalidate_cache(s);
  return 1;
}

double tau(double x) {
  if (x == 0. || x == 1.) return 0.;
  double z_prev;
  double y = 1.0;
  double z = 1 - x;
  do {
    x = std::sqrt(x);
    z_prev = z;
    y *= 0.5;
    z -= std::pow(1 - x, 2) * y;
  } while (z_prev != z);
  return z / 3;
}

double sigma(double x) {
  if (x == 1.) return INFINITY;
  double z_prev;
  double y = 1;
  double z = x;
  do {
    x *= x;
    z_prev = z;
    z += x * y;
    y += y;
  } while (z_prev != z);
  return z;
}

// Ertl's estimator over the register histogram (histo[v] = registers at v).
// Values above kQ+1 cannot come from hashing and are ignored, as in Redis.
uint64_t estimate(const int64_t* histo) {
  const double m = static_cast<double>(kRegisters);
  double z = m * tau((m - static_cast<double>(histo[kQ + 1])) / m);
  for (int j = kQ; j >= 1; --j) {
    z += static_cast<double>(histo[j]);
    z *= 0.5;
  }
  z += m * sigma(static_cast<double>(histo[0]) / m);
  constexpr double kAlphaInf = 0.721347520444481703680;  // 0.5 / ln(2)
  const double e = static_cast<double>(std::llround(static_cast<long double>(kAlphaInf * m * m / z)));
  return static_cast<uint64_t>(e);
}

}  // namespace

uint64_t murmur_hash64a(const void* key, size_t len, uint64_t seed) {
  constexpr uint64_t m = 0xc6a4a7935bd1e995ULL;
  constexpr int r = 47;
  uint64_t h = seed ^ (static_cast<uint64_t>(len) * m);
  const auto* data = static_cast<const unsigned char*>(key);
  const unsigned char* end = data + (len - (len & 7));
  while (data != end) {
    uint64_t k = 0;
    for (int i = 7; i >= 0; --i) k = (k << 8) | data[i];  // little endian
    k *= m;
    k ^= k >> r;
    k *= m;
    h ^= k;
    h *= m;
    data += 8;
  }
  const size_t rest = len & 7;
  if (rest) {
    for (size_t i = rest; i-- > 0;) h ^= static_cast<uint64_t>(data[i]) << (8 * i);
    h *= m;
  }
  h ^= h >> r;
  h *= m;
  h ^= h >> r;
  return h;
}

void hash_element(std::string_view element, uint32_t& index, uint8_t& count) {
  uint64_t hash = murmur_hash64a(element.data(), element.size(), kHashSeed);
  index = static_cast<uint32_t>(hash & (kRegisters - 1));
  hash >>= kP;
  hash |= uint64_t{1} << kQ;  // bounds the run length at kQ+1
  count = static_cast<uint8_t>(__builtin_ctzll(hash) + 1);
}

bool is_valid(std::string_view s) {
  if (s.size() < kHeaderSize) return false;
  if (s.substr(0, 4) != "HYLL") return false;
  const uint8_t enc = encoding(s);
  if (enc > kEncodingSparse) return false;
  if (enc == kEncodingDense && s.size() != kDenseSize) return false;
  return true;
}

std::string empty() {
  std::string s(kHeaderSize + 2, '\0');
  std::memcpy(s.data(), "HYLL", 4);
  s[4] = static_cast<char>(kEncodingSparse);
  // One XZERO opcode covering all 16384 registers.
  const uint64_t l = kRegisters - 1;
  s[kHeaderSize] = static_cast<char>(((l >> 8) & 0x3f) | 0x40);
  s[kHeaderSize + 1] = static_cast<char>(l & 0xff);
  return s;
}

uint64_t cached_cardinality(std::string_view s) {
  uint64_t card = 0;
  for (int i = 7; i >= 0; --i) card = (card << 8) | static_cast<uint8_t>(s[8 + i]);
  return card;
}

void set_cached_cardinality(CompactString& s, uint64_t card) {
  unsigned char* d = udata(s);
  for (int i = 0; i < 8; ++i) d[8 + i] = static_cast<unsigned char>((card >> (8 * i)) & 0xff);
}

void invalidate_cache(CompactString& s) { udata(s)[15] |= 0x80; }

int set_register(CompactString& s, uint32_t index, uint8_t count, size_t sparse_max_bytes) {
  switch (encoding(s.view())) {
    case kEncodingDense: return dense_set(s, index, count);
    case kEncodingSparse: return sparse_set(s, index, count, sparse_max_bytes);
    default: return -1;
  }
}

int add(CompactString& s, std::string_view element, size_t sparse_max_bytes) {
  uint32_t index;
  uint8_t count;
  hash_element(element, index, count);
  return set_register(s, index, count, sparse_max_bytes);
}

bool to_dense(CompactString& s) {
  const std::string_view sv = s.view();
  if (encoding(sv) == kEncodingDense) return true;
  std::string dense(kDenseSize, '\0');
  std::memcpy(dense.data(), sv.data(), kHeaderSize);  // magic and cached cardinality
  dense[4] = static_cast<char>(kEncodingDense);
  auto* regs = reinterpret_cast<unsigned char*>(dense.data()) + kHeaderSize;
  const bool ok = sparse_walk(sv, [&](uint64_t first, unsigned run, unsigned value) {
    for (unsigned i = 0; i < run; ++i) dense_put(regs, first + i, value);
  });
  if (!ok) return false;
  s.assign(dense);
  return true;
}

bool merge_into(std::string_view s, uint8_t* max) {
  if (encoding(s) == kEncodingDense) {
    dense_for_each(udata(s) + kHeaderSize, [&](size_t i, unsigned v) {
      if (v > max[i]) max[i] = static_cast<uint8_t>(v);
    });
    return true;
  }
  return sparse_walk(s, [&](uint64_t first, unsigned run, unsigned value) {
    for (unsigned i = 0; i < run; ++i)
      if (value > max[first + i]) max[first + i] = static_cast<uint8_t>(value);
  });
}

bool count(std::string_view s, uint64_t& out) {
  int64_t histo[64] = {};
  if (encoding(s) == kEncodingDense) {
    dense_for_each(udata(s) + kHeaderSize, [&](size_t, unsigned v) { ++histo[v]; });
  } else {
    uint64_t nonzero = 0;
    const bool ok = sparse_walk(s, [&](uint64_t, unsigned run, unsigned value) {
      histo[value] += run;
      nonzero += run;
    });
    if (!ok) return false;
    histo[0] = static_cast<int64_t>(kRegisters - nonzero);
  }
  out = estimate(histo);
  return true;
}

uint64_t count_registers(const uint8_t* registers) {
  int64_t histo[64] = {};
  for (size_t i = 0; i < kRegisters; ++i) ++histo[registers[i] & 63];
  return estimate(histo);
}

}  // namespace distcache::storage::hll
