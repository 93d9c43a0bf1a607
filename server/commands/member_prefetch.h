#pragma once
// Pipeline prefetch of collection members: for the commands of a batch that
// look up one member of a hash, set or sorted set (HSET myhash field ...,
// SADD myset member, ZADD myzset score member, ...), asks the memory system
// for the member's bucket, then its entry, then its bytes, before any of the
// commands runs. Companion of Connection::prefetch_keys, which finds the
// lookups in the same walk over the batch that finds the keys, and prefetches
// the keys first: this looks every key up to find its value.
#include <cstddef>
#include <string_view>

#include "storage/db.h"

namespace distcache::server {

struct MemberLookup {
  std::string_view key;
  std::string_view member;
};

// Prefetches the members of the keys that hold a collection (string or
// missing keys are skipped).
void prefetch_members(const storage::Db& db, const MemberLookup* lookups, size_t n);

}  // namespace distcache::server
