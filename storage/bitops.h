#pragma once
// Bit-level helpers over string values for the bitmap commands (SETBIT,
// GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD).
//
// Bit numbering follows Redis: bit 0 is the most significant bit of byte 0,
// bit 7 its least significant bit, bit 8 the most significant bit of byte 1...
// Bits past the end of a string read as 0.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace distcache::storage {

// Number of set bits in the n bytes at p.
uint64_t popcount(const unsigned char* p, size_t n);

// Set bits among the bits [first, last] (inclusive) of s. Requires
// first <= last < 8 * s.size().
uint64_t count_bits(std::string_view s, uint64_t first, uint64_t last);

// Position of the first bit equal to `bit` (0 or 1) among the bits
// [first, last] (inclusive) of s, or -1 if there is none. Requires
// first <= last < 8 * s.size().
int64_t find_bit(std::string_view s, uint64_t first, uint64_t last, int bit);

// The bit at `offset` (0 past the end of s).
inline int get_bit(std::string_view s, uint64_t offset) {
  const uint64_t byte = offset >> 3;
  if (byte >= s.size()) return 0;
  return (static_cast<unsigned char>(s[byte]) >> (7 - (offset & 7))) & 1;
}

// Sets the bit at `offset` of `data` (which must hold it) to `value` (0 or
// 1) and returns its previous value.
inline int set_bit(char* data, uint64_t offset, int value) {
  unsigned char& b = reinterpret_cast<unsigned char&>(data[offset >> 3]);
  const unsigned shift = 7 - static_cast<unsigned>(offset & 7);
  const int old = (b >> shift) & 1;
  b = static_cast<unsigned char>((b & ~(1u << shift)) | (static_cast<unsigned>(value & 1) << shift));
  return old;
}

// BITFIELD integers: `bits` (1..64) bits starting at bit `offset`, most
// significant bit first. Reads treat bits past the end of s as 0.
uint64_t get_unsigned_field(std::string_view s, uint64_t offset, unsigned bits);
// The same bits read as a two's complement signed integer of width `bits`.
int64_t get_signed_field(std::string_view s, uint64_t offset, unsigned bits);
// Writes the low `bits` bits of value at bit `offset` of `data`, which must
// hold all of them.
void set_field(char* data, uint64_t offset, unsigned bits, uint64_t value);

// BITOP: the result is as long as the longest source; shorter (and missing)
// sources count as zero bytes. kNot takes exactly one source.
enum class BitOp { kAnd, kOr, kXor, kNot };
std::string bit_operation(BitOp op, const std::vector<std::string_view>& sources);

}  // namespace distcache::storage
