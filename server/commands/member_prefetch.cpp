#include "server/commands/member_prefetch.h"

#include <array>
#include <cstdint>

#include "storage/hash.h"
#include "storage/member_prefetch.h"

namespace distcache::server {

void prefetch_members(const storage::Db& db, const MemberLookup* lookups, size_t n) {
  struct Target {
    const storage::Value* value;
    uint64_t hash;
  };
  constexpr size_t kMax = 32;
  std::array<Target, kMax> targets;
  size_t found = 0;
  for (size_t i = 0; i < n && found < kMax; ++i) {
    // The clock does not matter here: an expired key only costs a wasted prefetch.
    const storage::Value* v = db.peek(lookups[i].key, 0);
    if (v == nullptr || v->is_string()) continue;
    targets[found++] = {v, storage::hash_bytes(lookups[i].member)};
  }
  if (found < 2) return;
  for (int stage = 1; stage <= 3; ++stage) {
    for (size_t i = 0; i < found; ++i) storage::prefetch_member(*targets[i].value, targets[i].hash, stage);
  }
}

}  // namespace distcache::server
