// libFuzzer target: RESTORE payloads (persistence/dump_payload.h).
//
// Byte 0 selects the mode: even = the rest is a type byte + value body to
// which a valid footer (RDB version 10, CRC-64) is appended, so mutations
// reach the value decoders; odd = the rest is used as a raw payload (footer
// and checksum checks). Byte 1 picks small or default encoding limits.
// Restored values are used through the command layer (fuzz_util.h).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "persistence/crc64.h"
#include "persistence/dump_payload.h"
#include "persistence/rdb_reader.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t mode = data[0];
  distcache::persistence::RdbValueLimits limits;
  if (data[1] & 1) {
    limits.list_fill = 2;
    limits.hash.max_listpack_entries = 2;
    limits.hash.max_listpack_value = 4;
    limits.set_max_intset_entries = 2;
    limits.zset.max_listpack_entries = 2;
    limits.zset.max_listpack_value = 4;
  }
  std::string payload(reinterpret_cast<const char*>(data) + 2, size - 2);
  if ((mode & 1) == 0) {
    payload += '\x0a';
    payload += '\x00';
    uint64_t crc = distcache::persistence::crc64(0, payload.data(), payload.size());
    for (int i = 0; i < 8; ++i) payload += static_cast<char>((crc >> (8 * i)) & 0xff);
  }
  std::string error;
  distcache::persistence::RestoreError kind = distcache::persistence::RestoreError::kNone;
  auto v = distcache::persistence::restore_value(payload, &error, limits, &kind);
  if (!v) {
    if (kind == distcache::persistence::RestoreError::kNone) distcache::fuzz::fail("failure without a kind");
    return 0;
  }
  // The same bytes through the lower-level decoder must agree.
  if (payload.size() >= 11) {
    distcache::storage::Value out;
    size_t consumed = 0;
    auto st = distcache::persistence::decode_rdb_object(static_cast<uint8_t>(payload[0]),
                                                        std::string_view(payload).substr(1, payload.size() - 11),
                                                        limits, out, &consumed);
    if (st != distcache::persistence::RdbValueStatus::kOk) distcache::fuzz::fail("decode_rdb_object disagrees");
    if (out.type() != v->type()) distcache::fuzz::fail("decoded types differ");
  }
  distcache::fuzz::exercise_value(*v);
  return 0;
}
