#pragma once
// Constants of Redis's RDB format, version 10 (Redis 7.0), shared by the
// writer (rdb_writer.h), the reader (rdb_reader.h) and DUMP / RESTORE
// (dump_payload.h).
//
// File layout:
//   "REDIS0010"
//   AUX field value ...                  (redis-ver, redis-bits, ctime, ...)
//   FUNCTION2 library-code ...           (one per function library)
//   SELECTDB n  RESIZEDB keys expires    (per non-empty database)
//     [EXPIRETIME_MS ms] [IDLE s | FREQ f] type key value ...
//   EOF  crc64 (8 bytes little endian; all zero when checksums are off)
//
// Lengths ("len" below) are encoded by their top two bits:
//   00xxxxxx                       6-bit length
//   01xxxxxx xxxxxxxx              14-bit length (big endian)
//   10000000 + 4 bytes             32-bit length (big endian)
//   10000001 + 8 bytes             64-bit length (big endian)
//   11xxxxxx                       a specially encoded string follows:
//                                  0 = int8, 1 = int16, 2 = int32 (little
//                                  endian), 3 = LZF (len compressed, len
//                                  original, compressed bytes)
// Strings are a length followed by their bytes, or one of the special forms.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace distcache::persistence::rdb {

inline constexpr int kVersion = 10;
inline constexpr std::string_view kMagic = "REDIS";
inline constexpr std::string_view kRedisVersion = "7.0.15";  // the redis-ver aux field we write

// --- object types (the byte before a key, or the first byte of a DUMP payload)
enum Type : uint8_t {
  kTypeString = 0,
  kTypeList = 1,              // linked list of strings (read only)
  kTypeSet = 2,
  kTypeZSet = 3,              // scores as strings (read only)
  kTypeHash = 4,
  kTypeZSet2 = 5,             // scores as binary doubles
  kTypeModulePreGA = 6,       // not supported
  kTypeModule2 = 7,           // not supported (no modules)
  kTypeHashZipmap = 9,        // read only
  kTypeListZiplist = 10,      // read only
  kTypeSetIntset = 11,
  kTypeZSetZiplist = 12,      // read only
  kTypeHashZiplist = 13,      // read only
  kTypeListQuicklist = 14,    // ziplist nodes (read only)
  kTypeStreamListpacks = 15,  // read only
  kTypeHashListpack = 16,
  kTypeZSetListpack = 17,
  kTypeListQuicklist2 = 18,   // listpack (or plain) nodes
  kTypeStreamListpacks2 = 19,
};

// Whether t is an object type Redis 7.0 can load (modules aside).
inline constexpr bool is_object_type(int t) { return (t >= 0 && t <= 5) || (t >= 9 && t <= 19); }

// --- opcodes
enum Opcode : uint8_t {
  kOpFunction2 = 245,
  kOpFunctionPreGA = 246,  // rejected, as Redis 7.0 does
  kOpModuleAux = 247,
  kOpIdle = 248,           // LRU idle time in seconds (len) of the next key
  kOpFreq = 249,           // LFU counter (1 byte) of the next key
  kOpAux = 250,
  kOpResizeDb = 251,
  kOpExpireTimeMs = 252,   // 8 bytes little endian, unix ms
  kOpExpireTime = 253,     // 4 bytes little endian, unix s (old files)
  kOpSelectDb = 254,
  kOpEof = 255,
};

// --- length encoding
inline constexpr uint8_t kLen6Bit = 0;
inline constexpr uint8_t kLen14Bit = 1;
inline constexpr uint8_t kLen32Bit = 0x80;
inline constexpr uint8_t kLen64Bit = 0x81;
inline constexpr uint8_t kLenEncoded = 3;  // top bits 11: special string encoding
inline constexpr uint8_t kEncInt8 = 0;
inline constexpr uint8_t kEncInt16 = 1;
inline constexpr uint8_t kEncInt32 = 2;
inline constexpr uint8_t kEncLzf = 3;

// Strings longer than this are LZF-compressed when that saves space.
inline constexpr size_t kLzfMinLength = 20;
// Strings of at most this length are tried as int8/16/32.
inline constexpr size_t kIntEncodeMaxLength = 11;

// --- quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2)
inline constexpr uint64_t kQuicklistNodePlain = 1;
inline constexpr uint64_t kQuicklistNodePacked = 2;

// --- stream listpack entry flags
inline constexpr int64_t kStreamFlagDeleted = 1;
inline constexpr int64_t kStreamFlagSameFields = 2;
// Bytes of a stream ID as a radix-tree key / PEL entry (two big-endian u64).
inline constexpr size_t kStreamIdBytes = 16;

// --- listpack (Redis 7.0 listpack.c format)
//   header: total bytes (u32 LE), element count (u16 LE; 65535 = unknown)
//   entries: encoding + data + back-length; terminator 0xFF.
namespace listpack {
inline constexpr size_t kHeaderSize = 6;
inline constexpr uint8_t kEof = 0xFF;
inline constexpr uint16_t kUnknownCount = 65535;
// encodings
inline constexpr uint8_t k7BitUint = 0x00;      // 0xxxxxxx
inline constexpr uint8_t k6BitStr = 0x80;       // 10xxxxxx
inline constexpr uint8_t k13BitInt = 0xC0;      // 110xxxxx + 1 byte
inline constexpr uint8_t k12BitStr = 0xE0;      // 1110xxxx + 1 byte
inline constexpr uint8_t k32BitStr = 0xF0;      // + 4 bytes LE length
inline constexpr uint8_t k16BitInt = 0xF1;
inline constexpr uint8_t k24BitInt = 0xF2;
inline constexpr uint8_t k32BitInt = 0xF3;
inline constexpr uint8_t k64BitInt = 0xF4;

// Bytes taken by the back-length of an entry whose encoding+data is l bytes.
inline constexpr size_t backlen_size(uint64_t l) {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}
}  // namespace listpack

// --- ziplist (read only; Redis <= 6.2)
//   header: zlbytes (u32 LE), zltail (u32 LE), zllen (u16 LE; 65535 = unknown)
//   entries: prevlen (1 byte < 254, else 0xFE + u32 LE), encoding, data
//   terminator 0xFF
namespace ziplist {
inline constexpr size_t kHeaderSize = 10;
inline constexpr uint8_t kEnd = 0xFF;
inline constexpr uint8_t kBigPrevLen = 0xFE;
inline constexpr uint16_t kUnknownCount = 65535;
}  // namespace ziplist

// --- zipmap (read only; Redis <= 2.4 hashes)
//   zmlen (1 byte; 254 = unknown), then per pair:
//   len(field) field len(value) free value <free bytes>, terminator 0xFF;
//   len = 1 byte < 254, else 0xFE + u32 (little endian)
namespace zipmap {
inline constexpr uint8_t kBigLen = 0xFE;
inline constexpr uint8_t kEnd = 0xFF;
}  // namespace zipmap

// --- intset: encoding (u32 LE: 2, 4 or 8), length (u32 LE), sorted
// little-endian integers of that width.
namespace intset {
inline constexpr size_t kHeaderSize = 8;
}

}  // namespace distcache::persistence::rdb
