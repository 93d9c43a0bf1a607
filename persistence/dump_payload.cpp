#include "persistence/dump_payload.h"

#include <cstdint>

#include "persistence/crc64.h"
#include "persistence/rdb_format.h"
#include "persistence/rdb_writer.h"

namespace distcache::persistence {

namespace {

constexpr size_t kFooterBytes = 10;  // version (2) + CRC-64 (8)

uint64_t load_le(const char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

}  // namespace

std::string dump_value(const storage::Value& value, bool compression) {
  std::string out;
  StringSink sink(out);
  // Small buffer: most values are small, and the sink is memory anyway.
  RdbWriter w(sink, {.compression = compression, .checksum = true, .buffer_bytes = 4096});
  w.write_object_type(value);
  w.write_object(value);
  const char version[2] = {static_cast<char>(rdb::kVersion & 0xFF), static_cast<char>(rdb::kVersion >> 8)};
  w.write_raw(version, 2);
  const uint64_t crc = w.checksum();
  char footer[8];
  for (int i = 0; i < 8; ++i) footer[i] = static_cast<char>(crc >> (8 * i));
  w.write_raw(footer, 8);
  w.flush();
  return out;
}

bool verify_dump_payload(std::string_view payload) {
  if (payload.size() < kFooterBytes) return false;
  const char* footer = payload.data() + payload.size() - kFooterBytes;
  if (load_le(footer, 2) > static_cast<uint64_t>(rdb::kVersion)) return false;
  return crc64(0, payload.data(), payload.size() - 8) == load_le(footer + 2, 8);
}

std::optional<storage::Value> restore_value(std::string_view payload, std::string* error,
                                            const RdbValueLimits& limits, RestoreError* kind) {
  auto fail = [&](RestoreError k, std::string what) -> std::optional<storage::Value> {
    if (kind) *kind = k;
    if (error) *error = std::move(what);
    return std::nullopt;
  };
  if (!verify_dump_payload(payload)) return fail(RestoreError::kBadPayload, "DUMP payload version or checksum are wrong");
  const std::string_view body = payload.substr(0, payload.size() - kFooterBytes);
  if (body.empty()) return fail(RestoreError::kBadData, "empty payload");
  const auto type = static_cast<uint8_t>(body[0]);
  if (!rdb::is_object_type(type)) return fail(RestoreError::kBadData, "unknown object type " + std::to_string(type));
  storage::Value v;
  std::string what;
  switch (decode_rdb_object(type, body.substr(1), limits, v, nullptr, &what)) {
    case RdbValueStatus::kOk:
      if (kind) *kind = RestoreError::kNone;
      return v;
    case RdbValueStatus::kEmpty: return fail(RestoreError::kBadData, "empty collection");
    case RdbValueStatus::kCorrupt: return fail(RestoreError::kBadData, what);
  }
  return fail(RestoreError::kBadData, what);
}

}  // namespace distcache::persistence
