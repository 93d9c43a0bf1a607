#pragma once
// Pipeline prefetch of collection members: for the commands of a batch that
// look up one member of a hash, set or sorted set (HSET myhash field ...,
// SADD myset member, ZADD myzset score member, ...), asks the memory system
// for the member's bucket, then its entry, then its bytes, before any of the
// commands runs. Companion of Connection::prefetch_keys (which does the same
// for the keys themselves); it must run after that, when the keys' nodes are
// cached, since it looks every key up to find its value.
#include <cstddef>

#include "storage/db.h"

namespace distcache::server {

// Looks at up to 32 complete multibulk requests at the start of data[0, len)
// (anything unusual ends the scan: the real parser deals with it). Only keys
// owned by shard `home` of `shards` are looked up.
void prefetch_pipeline_members(const storage::Db& db, const char* data, size_t len, unsigned shards,
                               unsigned home);

}  // namespace distcache::server
