#include "storage/member_prefetch.h"

#include "storage/hash_value.h"
#include "storage/set_value.h"
#include "storage/zset_value.h"

namespace distcache::storage {

void prefetch_member(const Value& v, uint64_t h, int stage) {
  switch (v.type()) {
    case ValueType::kHash:
      v.as<HashValue>().prefetch_field(h, stage);
      break;
    case ValueType::kSet:
      v.as<SetValue>().prefetch_member(h, stage);
      break;
    case ValueType::kZSet:
      v.as<ZSetValue>().prefetch_member(h, stage);
      break;
    default:
      break;
  }
}

}  // namespace distcache::storage
