#pragma once
// DUMP / RESTORE payloads, as Redis 7.0 makes them:
//
//   <object type byte> <value in RDB encoding> <RDB version: 2 bytes LE> <CRC-64: 8 bytes LE>
//
// where the CRC covers every byte before it. RESTORE accepts any payload
// whose RDB version is at most ours (10) and whose checksum is right, and
// decodes every object type Redis 7.0 loads (see rdb_reader.h), so payloads
// from older Redis versions restore too. Bytes between the value and the
// footer are ignored, as Redis ignores them.
#include <optional>
#include <string>
#include <string_view>

#include "persistence/rdb_reader.h"
#include "storage/value.h"

namespace distcache::persistence {

// DUMP's payload for a value (LZF compression on, as Redis's default
// rdbcompression yes).
std::string dump_value(const storage::Value& value, bool compression = true);

// Whether the footer is valid: length >= 10, version <= 10, checksum right.
bool verify_dump_payload(std::string_view payload);

enum class RestoreError {
  kNone,
  kBadPayload,  // "ERR DUMP payload version or checksum are wrong"
  kBadData,     // "ERR Bad data format" (corrupt or empty value)
};

// Decodes a payload. On failure returns nullopt; *error (if given) then
// describes the problem and *kind (if given) says which RESTORE error applies.
std::optional<storage::Value> restore_value(std::string_view payload, std::string* error = nullptr,
                                            const RdbValueLimits& limits = {}, RestoreError* kind = nullptr);

}  // namespace distcache::persistence
