#pragma once
// Cache prefetch for a member lookup inside a collection value (a hash
// field, a set member, a sorted-set member) that comes soon: the pipeline
// prefetcher (server/commands/member_prefetch.h) runs the stages for every
// command of a batch before running them, so that the cache misses of the
// members' lookups overlap instead of queueing one behind the other.
#include <cstdint>

#include "storage/value.h"

namespace distcache::storage {

// Stages 1, 2, 3 in that order, each over the whole batch; h is
// hash_bytes(member). Values of other types (strings, lists, streams) and
// compact encodings are left alone.
void prefetch_member(const Value& v, uint64_t h, int stage);

}  // namespace distcache::storage
