#pragma once
// maxmemory: process-wide memory accounting and eviction.
//
// Accounting. Every thread counts the bytes it allocates and frees (malloc's
// usable size, through a thin malloc/free wrapper over glibc's allocator in
// memory_limit.cpp) in a cache-line-sized slot of its own: plain load+store,
// no locked instruction, no cache line shared with another writer. A shard's
// slot is its own used bytes (keys, values, its clients' buffers; memory one
// thread frees that another allocated moves between slots, the sum stays
// exact). used_memory() is the sum of all slots: what INFO reports, and what
// the limit is checked against, for the whole process (as Redis's
// used_memory counts everything zmalloc allocated), plus the large bucket
// arrays the key tables map with mmap (storage/mapped_bytes.h). Builds with a sanitizer
// (which owns malloc) fall back to mallinfo2() sampled by the shards' cron.
//
// Eviction. maxmemory holds for the whole process: whenever used_memory()
// exceeds it, the shard about to run a write (on the keys' thread; also at
// dispatch when the key is the client's own shard's) evicts keys of its OWN
// keyspace (each shard's EvictionPool, storage/eviction.h) until the total
// is back under the limit, within Redis's time budget
// (maxmemory-eviction-tenacity); each shard's cron continues an unfinished
// eviction. Shares: a shard evicts only while it holds at least ~90% of its
// share (1/shards) of the evictable keys (counts each shard publishes), so
// that memory held for a moment by another thread (a client's large
// pipeline) cannot drain one shard; the shards holding more evict first.
// If a shard finds nothing to evict (noeviction, no volatile key...) while
// still over the limit, its deny-oom commands get Redis's OOM error (the
// dispatcher of another thread reads that shard's last outcome). Shards skip
// eviction while a transaction holds locks on them (the next command or cron
// tick does it).
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/arg_list.h"

namespace distcache::server {

class Connection;
class ShardThread;
struct CommandSpec;

inline constexpr std::string_view kOomError = "OOM command not allowed when used memory > 'maxmemory'.";

// Bytes allocated by the process (see above).
uint64_t used_memory();
// True when used_memory() is exact malloc accounting (false: sanitizer builds).
bool malloc_counting_active();
// INFO mem_not_counted_for_evict: the AOF's unwritten buffer (Aof::buffered_bytes,
// sampled by shard 0's cron); eviction compares used_memory() minus this with maxmemory.
uint64_t memory_not_counted_for_evict();

// The eviction settings, as last read from the configuration.
std::string_view maxmemory_policy_name();
uint64_t evicted_keys_total();
void reset_evicted_keys();  // CONFIG RESETSTAT

// Config::on_set hook: re-read the maxmemory-* / lfu-* settings.
void memory_limit_config_changed(std::string_view option_name);

// dispatch_command's OOM check (after ACL/cluster checks, before MULTI
// queueing). Over the limit, a command whose (first) key lives on the
// client's own shard makes that shard evict now; for a key on another shard
// the answer follows that shard's last eviction attempt (it evicts itself
// before running the write). Returns true (having replied the OOM error and
// flagged a MULTI as failed) when the command must be refused. One relaxed
// load when maxmemory is 0.
bool memory_limit_refuses(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args);

// redis.call of a deny-oom command in a script that has not written yet:
// refused (with kOomError) when memory is over the limit and this shard
// cannot evict (noeviction, or its last eviction attempt failed), as Redis
// refuses it when the script started out of memory.
struct Config;
bool memory_limit_refuses_script_call(const Config& config);

// Before a write runs on `shard` (its thread): evict toward the limit.
void evict_before_write(ShardThread& shard);

// From each shard's cron: the access clock (storage/access_meta.h),
// sanitizer-build sampling, unfinished eviction.
void memory_limit_cron(ShardThread& shard, int64_t now_ms);

}  // namespace distcache::server
