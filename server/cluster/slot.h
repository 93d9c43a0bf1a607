#pragma once
// Redis Cluster's key -> hash slot mapping: CRC16 (XMODEM) of the key, or of
// the first non-empty {hash tag} inside it, modulo 16384. Shards inside one
// server are derived from the slot, so a slot always lives on exactly one shard.
#include <cstdint>
#include <string_view>

namespace distcache::server {

inline constexpr unsigned kClusterSlots = 16384;

uint16_t crc16(const char* data, size_t len);
unsigned key_hash_slot(std::string_view key);

inline unsigned shard_of_slot(unsigned slot, unsigned shard_count) { return slot % shard_count; }
inline unsigned shard_of_key(std::string_view key, unsigned shard_count) {
  return shard_count == 1 ? 0 : shard_of_slot(key_hash_slot(key), shard_count);
}

}  // namespace distcache::server
