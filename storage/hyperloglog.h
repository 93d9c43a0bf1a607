#pragma once
// HyperLogLog in Redis's exact string format, so that a value written by
// redis-server (GET there, SET here) is read, updated and counted here the
// same way, byte for byte, and vice versa.
//
// A HyperLogLog is an ordinary string value:
//   bytes 0..3   "HYLL"
//   byte  4      encoding: 0 = dense, 1 = sparse
//   bytes 5..7   zero
//   bytes 8..15  cached cardinality, little endian; the top bit of byte 15 set
//                means "cache invalid, recompute"
//   bytes 16..   the registers
// There are 16384 registers of 6 bits. An element is hashed with
// MurmurHash64A (seed 0xadc83b19); the low 14 bits pick the register, and
// the register keeps the maximum "position of the first 1 bit" (1..51) of the
// remaining 50 bits.
//
// Dense: 12288 bytes of packed registers, register i at bit 6*i, least
// significant bit first.
// Sparse: run-length opcodes covering all 16384 registers in order:
//   00xxxxxx           ZERO:  xxxxxx+1 (1..64) registers at 0
//   01xxxxxx yyyyyyyy  XZERO: 14-bit length+1 (1..16384) registers at 0
//   1vvvvvxx           VAL:   xx+1 (1..4) registers at value vvvvv+1 (1..32)
// A sparse HLL becomes dense when a register needs a value above 32, or when
// an update would make the string longer than hll-sparse-max-bytes.
//
// Cardinality: Otmar Ertl's improved estimator (register histogram with the
// tau/sigma corrections), as Redis 5 and later compute it.
//
// Corrupted values follow Redis too (same INVALIDOBJ cases, same edits), with
// one known exception: a value whose last opcode is an XZERO cut after its
// first byte. Redis then reads the byte after the string, which is normally
// the terminating NUL (we read 0 as well) but which its own edit of such a
// value can overwrite and keep in memory (not in the value: GET, COPY or a
// restart lose it). We never keep bytes past the end, so later edits of such
// a value can differ from that Redis process (and agree with Redis after a
// reload).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/compact_string.h"

namespace distcache::storage::hll {

inline constexpr size_t kHeaderSize = 16;
inline constexpr int kP = 14;                            // register index bits
inline constexpr int kQ = 64 - kP;                       // bits left for the run length
inline constexpr size_t kRegisters = size_t{1} << kP;    // 16384
inline constexpr unsigned kBits = 6;                     // bits per dense register
inline constexpr unsigned kRegisterMax = (1u << kBits) - 1;
inline constexpr size_t kDenseSize = kHeaderSize + (kRegisters * kBits + 7) / 8;  // 12304
inline constexpr uint8_t kEncodingDense = 0;
inline constexpr uint8_t kEncodingSparse = 1;
inline constexpr unsigned kSparseValMaxValue = 32;
inline constexpr uint64_t kHashSeed = 0xadc83b19ULL;
// Redis's hll-sparse-max-bytes default: a sparse HLL may grow to this many
// bytes (header included) before it is converted to the dense encoding.
inline constexpr size_t kSparseMaxBytes = 3000;

// Austin Appleby's MurmurHash64A (64-bit little-endian reading of the input).
uint64_t murmur_hash64a(const void* key, size_t len, uint64_t seed);

// Register index and run length ("pattern length", 1..kQ+1) of an element.
void hash_element(std::string_view element, uint32_t& index, uint8_t& count);

// Whether a string passes Redis's check for a HyperLogLog value: at least a
// header, "HYLL" magic, a known encoding, and the exact size if dense. (The
// sparse opcodes are only checked when they are used.)
bool is_valid(std::string_view s);

// The value of a fresh, empty HyperLogLog: sparse, all registers zero.
std::string empty();

inline uint8_t encoding(std::string_view s) { return static_cast<uint8_t>(s[4]); }
inline bool cache_valid(std::string_view s) { return (static_cast<uint8_t>(s[15]) & 0x80) == 0; }
uint64_t cached_cardinality(std::string_view s);
void set_cached_cardinality(CompactString& s, uint64_t card);
void invalidate_cache(CompactString& s);

// Sets register `index` to `count` if that is larger than its value. Returns
// 1 when the register changed, 0 when not, -1 when the sparse data is
// corrupted. May convert a sparse value to dense (see above). Does not touch
// the cached cardinality beyond what Redis does (callers invalidate it).
int set_register(CompactString& s, uint32_t index, uint8_t count, size_t sparse_max_bytes = kSparseMaxBytes);

// PFADD of one element: 1 changed, 0 unchanged, -1 corrupted.
int add(CompactString& s, std::string_view element, size_t sparse_max_bytes = kSparseMaxBytes);

// Converts a sparse value to dense (no-op if dense). False if the sparse data
// is corrupted (the value is then left unchanged).
bool to_dense(CompactString& s);

// Folds the registers of a valid HLL into max[kRegisters] (max[i] = MAX(...)).
// False if the sparse data is corrupted.
bool merge_into(std::string_view s, uint8_t* max);

// Cardinality estimate from the registers (ignores the cache). False if the
// sparse data is corrupted.
bool count(std::string_view s, uint64_t& out);

// Cardinality estimate of an array of kRegisters plain register values.
uint64_t count_registers(const uint8_t* registers);

}  // namespace distcache::storage::hll
