// The option table: every configuration directive distcache understands, with
// its redis.conf name (and alias), value type, default, CONFIG SET mutability
// and the Config field it reads and writes. Everything that depends on an
// option's type lives here: parsing a value (with Redis 7.0's error texts),
// rendering it as CONFIG GET does, CONFIG GET / CONFIG SET themselves, and the
// option list of --help. Reading files and argv is in config.cpp.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "server/acl/acl.h"
#include "server/config.h"
#include "server/config_rewrite.h"
#include "server/keyspace_events.h"
#include "storage/glob.h"

namespace distcache::server {

// Internal interface used by config.cpp (declared there as well).
namespace detail {
void reset_to_defaults(Config& config);
std::optional<std::string> apply_directive(Config& config, bool& save_seen, const std::vector<std::string>& argv);
std::string options_help();
}  // namespace detail

namespace {

// ---------------------------------------------------------------------------
// Option description

// A parsed value. bool: kBool; int64_t: kInt, kMemory, kEnum (index into
// choices); vector: kBind; string: everything else, in the canonical form
// CONFIG GET shows.
using Value = std::variant<bool, int64_t, std::string, std::vector<std::string>>;

enum class Kind {
  kBool,                     // yes / no
  kInt,                      // integer in [min, max]
  kMemory,                   // byte count with optional unit, in [min, max]
  kEnum,                     // one of `choices`, case-insensitive
  kString,                   // free text, optionally checked by `validate`
  kDir,                      // an existing directory; CONFIG GET shows it absolute
  kSave,                     // "<seconds> <changes> ..." pairs, or "" (disabled)
  kBind,                     // up to 16 addresses
  kKeyspaceEvents,           // notify-keyspace-events class letters
  kClientOutputBufferLimit,  // "<class> <hard> <soft> <seconds>" groups
  kOomScoreAdjValues,        // three integers in [-2000, 2000]
  kMemoryOrPercent,          // bytes (with units) or "<n>%" (stored as -n), as maxmemory-clients
};

enum Flag : unsigned {
  kImmutable = 1u << 0,  // start-up only: CONFIG SET says "can't set immutable config"
  kProtected = 1u << 1,  // CONFIG SET only with enable-protected-configs yes
  kMultiArg = 1u << 2,   // several arguments in the file / on the command line
};

enum class Group { kNetwork, kGeneral, kLimits, kEncodings, kPersistence, kSecurity, kCluster, kCompat };

// Where the value lives: a Config member, or (std::monostate) the store of
// compatibility options that have no Config field (accepted, no effect yet).
using Field = std::variant<std::monostate, bool Config::*, int Config::*, int64_t Config::*,
                           std::atomic<int> Config::*, std::atomic<int64_t> Config::*, std::string Config::*,
                           std::vector<std::string> Config::*>;

using Validator = std::optional<std::string> (*)(std::string_view value);

struct Option {
  const char* name;
  const char* alias = nullptr;  // older Redis name, also shown by CONFIG GET
  Group group = Group::kCompat;
  Kind kind = Kind::kString;
  unsigned flags = 0;
  Field field{};
  const char* default_value = "";  // redis.conf syntax; parsed like any other value
  int64_t min = 0;                 // kInt / kMemory bounds (inclusive)
  int64_t max = 0;
  std::span<const char* const> choices{};  // kEnum; the index is stored
  std::span<const int> choice_ids{};       // kEnum: equal ids are synonyms (shown as the first)
  Validator validate = nullptr;            // kString extra checks
  int64_t (*normalize)(int64_t) = nullptr; // kInt: applied after the range check (hz clamps)
  const char* help = "";
};

constexpr int64_t kIntMin = INT_MIN;
constexpr int64_t kIntMax = INT_MAX;
constexpr int64_t kUIntMax = UINT_MAX;
constexpr int64_t kLLMax = LLONG_MAX;
constexpr int64_t kMB = 1024 * 1024;

constexpr const char* kLogLevels[] = {"debug", "verbose", "notice", "warning"};
constexpr const char* kAppendFsync[] = {"everysec", "always", "no"};
constexpr const char* kProtectedConfigs[] = {"no", "yes", "local"};
constexpr const char* kSupervised[] = {"upstart", "systemd", "auto", "no"};
constexpr const char* kOomScoreAdj[] = {"no", "yes", "relative", "absolute"};
constexpr int kOomScoreAdjIds[] = {0, 1, 1, 2};  // Redis shows "relative" as "yes"
constexpr const char* kMaxmemoryPolicy[] = {"volatile-lru",   "volatile-lfu", "volatile-random",
                                            "volatile-ttl",   "allkeys-lru",  "allkeys-lfu",
                                            "allkeys-random", "noeviction"};
constexpr const char* kReplDisklessLoad[] = {"disabled", "on-empty-db", "swapdb"};
constexpr const char* kAclPubsubDefault[] = {"allchannels", "resetchannels"};

std::optional<std::string> validate_dbfilename(std::string_view v);
std::optional<std::string> validate_appendfilename(std::string_view v);
std::optional<std::string> validate_appenddirname(std::string_view v);
std::optional<std::string> validate_proc_title_template(std::string_view v);
int64_t clamp_hz(int64_t hz) { return hz < 1 ? 1 : (hz > 500 ? 500 : hz); }

// The table. Mutability, ranges, defaults and error texts mirror Redis 7.0.15
// (checked against a real redis-server), except where noted.
const std::vector<Option>& options() {
  static const std::vector<Option> table = {
      // --- network
      {.name = "bind", .group = Group::kNetwork, .kind = Kind::kBind, .flags = kMultiArg, .field = &Config::bind,
       .default_value = "127.0.0.1",
       .help = "Addresses to listen on (up to 16); a '-' prefix makes an address optional. "
               "\"\" listens on none"},
      {.name = "port", .group = Group::kNetwork, .kind = Kind::kInt, .field = &Config::port,
       .default_value = "6379", .min = 0, .max = 65535, .help = "TCP port to listen on"},
      {.name = "protected-mode", .group = Group::kNetwork, .kind = Kind::kBool, .field = &Config::protected_mode,
       .default_value = "yes",
       .help = "While the default user has no password, accept clients from loopback addresses only"},
      {.name = "tcp-backlog", .group = Group::kNetwork, .kind = Kind::kInt, .flags = kImmutable,
       .field = &Config::tcp_backlog, .default_value = "511", .min = 0, .max = kIntMax,
       .help = "listen(2) backlog"},
      {.name = "timeout", .group = Group::kNetwork, .kind = Kind::kInt, .field = &Config::timeout,
       .default_value = "0", .min = 0, .max = kIntMax, .help = "Close idle clients after this many seconds (0 = never)"},
      {.name = "tcp-keepalive", .group = Group::kNetwork, .kind = Kind::kInt, .field = &Config::tcp_keepalive,
       .default_value = "300", .min = 0, .max = kIntMax, .help = "TCP keepalive interval in seconds (0 = off)"},

      // --- general
      {.name = "threads", .group = Group::kGeneral, .kind = Kind::kInt, .flags = kImmutable,
       .field = &Config::threads, .default_value = "0", .min = 0, .max = 1024,
       .help = "Shard threads (distcache only; 0 = one per CPU core)"},
      {.name = "daemonize", .group = Group::kGeneral, .kind = Kind::kBool, .flags = kImmutable,
       .field = &Config::daemonize, .default_value = "no", .help = "Run in the background"},
      {.name = "pidfile", .group = Group::kGeneral, .kind = Kind::kString, .flags = kImmutable,
       .field = &Config::pidfile, .default_value = "", .help = "Write the process id to this file"},
      {.name = "logfile", .group = Group::kGeneral, .kind = Kind::kString, .flags = kImmutable,
       .field = &Config::logfile, .default_value = "", .help = "Log file (\"\" = standard output)"},
      {.name = "loglevel", .group = Group::kGeneral, .kind = Kind::kEnum, .field = &Config::loglevel,
       .default_value = "notice", .choices = kLogLevels, .help = "Log verbosity"},
      {.name = "databases", .group = Group::kGeneral, .kind = Kind::kInt, .flags = kImmutable,
       .field = &Config::databases, .default_value = "16", .min = 1, .max = kIntMax,
       .help = "Number of logical databases"},
      {.name = "hz", .group = Group::kGeneral, .kind = Kind::kInt, .field = &Config::hz, .default_value = "10",
       .min = 0, .max = kIntMax, .normalize = clamp_hz,
       .help = "Background task frequency per second (clamped to 1..500)"},
      {.name = "enable-protected-configs", .group = Group::kGeneral, .kind = Kind::kEnum, .flags = kImmutable,
       .default_value = "no", .choices = kProtectedConfigs,
       .help = "Allow CONFIG SET of protected options (dir, dbfilename); 'local' is treated as 'no'"},
      {.name = "enable-debug-command", .group = Group::kGeneral, .kind = Kind::kEnum, .flags = kImmutable,
       .default_value = "no", .choices = kProtectedConfigs,
       .help = "Allow DEBUG (SLEEP, OBJECT, SET-ACTIVE-EXPIRE): yes, local (loopback clients) or no"},

      // --- limits
      {.name = "maxclients", .group = Group::kLimits, .kind = Kind::kInt, .field = &Config::maxclients,
       .default_value = "10000", .min = 1, .max = kUIntMax, .help = "Maximum number of connected clients"},
      {.name = "maxmemory", .group = Group::kLimits, .kind = Kind::kMemory, .field = &Config::maxmemory,
       .default_value = "0", .min = 0, .max = kLLMax, .help = "Memory limit in bytes (0 = none)"},
      {.name = "proto-max-bulk-len", .group = Group::kLimits, .kind = Kind::kMemory,
       .field = &Config::proto_max_bulk_len, .default_value = "512mb", .min = kMB, .max = kLLMax,
       .help = "Largest bulk string a client may send"},
      {.name = "client-query-buffer-limit", .group = Group::kLimits, .kind = Kind::kMemory,
       .field = &Config::client_query_buffer_limit, .default_value = "1gb", .min = kMB, .max = kLLMax,
       .help = "Largest query buffer of one client"},

      // --- compact encodings of small collections
      {.name = "hash-max-listpack-entries", .alias = "hash-max-ziplist-entries", .group = Group::kEncodings,
       .kind = Kind::kInt, .field = &Config::hash_max_listpack_entries, .default_value = "512", .min = 0,
       .max = kLLMax, .help = "Hashes with more fields leave the compact encoding"},
      {.name = "hash-max-listpack-value", .alias = "hash-max-ziplist-value", .group = Group::kEncodings,
       .kind = Kind::kMemory, .field = &Config::hash_max_listpack_value, .default_value = "64", .min = 0,
       .max = kLLMax, .help = "Hashes with a longer field or value leave the compact encoding"},
      {.name = "list-max-listpack-size", .alias = "list-max-ziplist-size", .group = Group::kEncodings,
       .kind = Kind::kInt, .field = &Config::list_max_listpack_size, .default_value = "-2", .min = kIntMin,
       .max = kIntMax, .help = "List node size: >0 entries per node, -1..-5 for 4..64 KiB per node"},
      {.name = "list-compress-depth", .group = Group::kEncodings, .kind = Kind::kInt,
       .field = &Config::list_compress_depth, .default_value = "0", .min = 0, .max = kIntMax,
       .help = "List nodes left uncompressed at each end (0 = no compression)"},
      {.name = "set-max-intset-entries", .group = Group::kEncodings, .kind = Kind::kInt,
       .field = &Config::set_max_intset_entries, .default_value = "512", .min = 0, .max = kLLMax,
       .help = "Integer-only sets with more members leave the compact encoding"},
      {.name = "zset-max-listpack-entries", .alias = "zset-max-ziplist-entries", .group = Group::kEncodings,
       .kind = Kind::kInt, .field = &Config::zset_max_listpack_entries, .default_value = "128", .min = 0,
       .max = kLLMax, .help = "Sorted sets with more members leave the compact encoding"},
      {.name = "zset-max-listpack-value", .alias = "zset-max-ziplist-value", .group = Group::kEncodings,
       .kind = Kind::kMemory, .field = &Config::zset_max_listpack_value, .default_value = "64", .min = 0,
       .max = kLLMax, .help = "Sorted sets with a longer member leave the compact encoding"},
      {.name = "stream-node-max-bytes", .group = Group::kEncodings, .kind = Kind::kMemory,
       .field = &Config::stream_node_max_bytes, .default_value = "4096", .min = 0, .max = kLLMax,
       .help = "Maximum bytes of one stream node (0 = unlimited)"},
      {.name = "stream-node-max-entries", .group = Group::kEncodings, .kind = Kind::kInt,
       .field = &Config::stream_node_max_entries, .default_value = "100", .min = 0, .max = kLLMax,
       .help = "Maximum entries of one stream node (0 = unlimited)"},

      // --- persistence
      {.name = "dir", .group = Group::kPersistence, .kind = Kind::kDir, .flags = kProtected, .field = &Config::dir,
       .default_value = ".", .help = "Working directory for the RDB and AOF files"},
      {.name = "dbfilename", .group = Group::kPersistence, .kind = Kind::kString, .flags = kProtected,
       .field = &Config::dbfilename, .default_value = "dump.rdb", .validate = validate_dbfilename,
       .help = "RDB snapshot file name (inside dir)"},
      {.name = "save", .group = Group::kPersistence, .kind = Kind::kSave, .flags = kMultiArg, .field = &Config::save,
       .default_value = "3600 1 300 100 60 10000",
       .help = "Snapshot after <seconds> if at least <changes> writes; several save lines add up; "
               "save \"\" disables"},
      {.name = "appendonly", .group = Group::kPersistence, .kind = Kind::kBool, .field = &Config::appendonly,
       .default_value = "no", .help = "Enable the append-only file"},
      {.name = "appendfilename", .group = Group::kPersistence, .kind = Kind::kString, .flags = kImmutable,
       .field = &Config::appendfilename, .default_value = "appendonly.aof", .validate = validate_appendfilename,
       .help = "Base name of the append-only files"},
      {.name = "appenddirname", .group = Group::kPersistence, .kind = Kind::kString, .flags = kImmutable,
       .field = &Config::appenddirname, .default_value = "appendonlydir", .validate = validate_appenddirname,
       .help = "Directory (inside dir) of the append-only files"},
      {.name = "appendfsync", .group = Group::kPersistence, .kind = Kind::kEnum, .field = &Config::appendfsync,
       .default_value = "everysec", .choices = kAppendFsync, .help = "When to fsync the append-only file"},

      // --- security
      {.name = "requirepass", .group = Group::kSecurity, .kind = Kind::kString, .field = &Config::requirepass,
       .default_value = "", .help = "Password clients must AUTH with (\"\" = none)"},
      {.name = "aclfile", .group = Group::kSecurity, .kind = Kind::kString, .flags = kImmutable,
       .default_value = "", .help = "ACL users file for ACL LOAD / ACL SAVE (\"\" = users from `user` lines)"},
      {.name = "acl-pubsub-default", .group = Group::kSecurity, .kind = Kind::kEnum, .default_value = "resetchannels",
       .choices = kAclPubsubDefault,
       .help = "Channel rule of new ACL users and selectors: resetchannels (none) or allchannels (&*)"},

      // --- cluster
      {.name = "cluster-enabled", .group = Group::kCluster, .kind = Kind::kBool, .flags = kImmutable,
       .field = &Config::cluster_enabled, .default_value = "no", .help = "Run as a cluster node"},
      {.name = "cluster-config-file", .group = Group::kCluster, .kind = Kind::kString, .flags = kImmutable,
       .field = &Config::cluster_config_file, .default_value = "nodes.conf",
       .help = "Cluster state file, written by the node"},
      {.name = "cluster-node-timeout", .group = Group::kCluster, .kind = Kind::kInt,
       .field = &Config::cluster_node_timeout, .default_value = "15000", .min = 0, .max = kLLMax,
       .help = "Milliseconds before an unreachable node is considered failing"},
      {.name = "cluster-port", .group = Group::kCluster, .kind = Kind::kInt, .flags = kImmutable,
       .field = &Config::cluster_port, .default_value = "0", .min = 0, .max = 65535,
       .help = "Cluster bus port (0 = port + 10000)"},
      {.name = "cluster-require-full-coverage", .group = Group::kCluster, .kind = Kind::kBool,
       .field = &Config::cluster_require_full_coverage, .default_value = "yes",
       .help = "Refuse queries while some slot is not served"},
      {.name = "cluster-allow-reads-when-down", .group = Group::kCluster, .kind = Kind::kBool,
       .field = &Config::cluster_allow_reads_when_down, .default_value = "no",
       .help = "Serve reads while the cluster is down"},
      {.name = "cluster-announce-ip", .group = Group::kCluster, .kind = Kind::kString,
       .field = &Config::cluster_announce_ip, .default_value = "", .help = "Address announced to other nodes"},
      {.name = "cluster-announce-port", .group = Group::kCluster, .kind = Kind::kInt,
       .field = &Config::cluster_announce_port, .default_value = "0", .min = 0, .max = 65535,
       .help = "Client port announced to other nodes (0 = port)"},
      {.name = "cluster-announce-bus-port", .group = Group::kCluster, .kind = Kind::kInt,
       .field = &Config::cluster_announce_bus_port, .default_value = "0", .min = 0, .max = 65535,
       .help = "Bus port announced to other nodes (0 = cluster-port)"},

      // --- accepted for redis.conf compatibility: stored and shown by CONFIG
      // GET, no effect yet. Names, defaults, ranges and mutability as Redis.
      {.name = "always-show-logo", .kind = Kind::kBool, .flags = kImmutable, .default_value = "no"},
      {.name = "set-proc-title", .kind = Kind::kBool, .flags = kImmutable, .default_value = "yes"},
      {.name = "proc-title-template", .kind = Kind::kString, .default_value = "{title} {listen-addr} {server-mode}",
       .validate = validate_proc_title_template},
      {.name = "supervised", .kind = Kind::kEnum, .flags = kImmutable, .default_value = "no",
       .choices = kSupervised},
      {.name = "disable-thp", .kind = Kind::kBool, .flags = kImmutable, .default_value = "yes"},
      {.name = "jemalloc-bg-thread", .kind = Kind::kBool, .default_value = "yes"},
      {.name = "dynamic-hz", .kind = Kind::kBool, .default_value = "yes"},
      {.name = "activerehashing", .kind = Kind::kBool, .default_value = "yes"},
      {.name = "active-expire-effort", .kind = Kind::kInt, .default_value = "1", .min = 1, .max = 10},
      {.name = "oom-score-adj", .kind = Kind::kEnum, .default_value = "no", .choices = kOomScoreAdj,
       .choice_ids = kOomScoreAdjIds},
      {.name = "oom-score-adj-values", .kind = Kind::kOomScoreAdjValues, .flags = kMultiArg,
       .default_value = "0 200 800"},
      // Eviction (read by server/memory_limit.cpp, re-read after CONFIG SET).
      {.name = "maxmemory-policy", .group = Group::kLimits, .kind = Kind::kEnum, .default_value = "noeviction",
       .choices = kMaxmemoryPolicy, .help = "What to evict at maxmemory (noeviction: writes get OOM errors)"},
      {.name = "maxmemory-samples", .group = Group::kLimits, .kind = Kind::kInt, .default_value = "5", .min = 1,
       .max = kIntMax, .help = "Keys sampled per database per eviction round (LRU/LFU/TTL)"},
      {.name = "maxmemory-eviction-tenacity", .group = Group::kLimits, .kind = Kind::kInt, .default_value = "10",
       .min = 0, .max = 100, .help = "Eviction time budget per command (10: 500 us; 100: unlimited)"},
      {.name = "lfu-log-factor", .group = Group::kLimits, .kind = Kind::kInt, .default_value = "10", .min = 0,
       .max = kIntMax, .help = "LFU counter growth: higher = more hits per step"},
      {.name = "lfu-decay-time", .group = Group::kLimits, .kind = Kind::kInt, .default_value = "1", .min = 0,
       .max = kIntMax, .help = "Minutes per LFU counter decrement (0 = never decays)"},
      {.name = "maxmemory-clients", .group = Group::kLimits, .kind = Kind::kMemoryOrPercent, .default_value = "0",
       .min = 0, .max = kLLMax,
       .help = "Client eviction: when all clients' buffers (CLIENT LIST tot-mem) exceed this, the biggest "
               "clients are disconnected, except CLIENT NO-EVICT ones (0 = off; n% = share of maxmemory; "
               "at least 128kb)"},
      // lazyfree-*: with "yes" Redis frees large values in a background thread. distcache frees
      // every value on the shard thread that owns it (only that shard waits), whatever these say.
      {.name = "lazyfree-lazy-eviction", .group = Group::kLimits, .kind = Kind::kBool, .default_value = "no",
       .help = "Accepted (Redis: free evicted values in the background); values are freed by their shard thread"},
      {.name = "lazyfree-lazy-expire", .group = Group::kLimits, .kind = Kind::kBool, .default_value = "no",
       .help = "Accepted (Redis: free expired values in the background); values are freed by their shard thread"},
      {.name = "lazyfree-lazy-server-del", .group = Group::kLimits, .kind = Kind::kBool, .default_value = "no",
       .help = "Accepted (Redis: background freeing for implicit deletes); values are freed by their shard thread"},
      {.name = "lazyfree-lazy-user-del", .group = Group::kLimits, .kind = Kind::kBool, .default_value = "no",
       .help = "Accepted (Redis: DEL acts as UNLINK); DEL and UNLINK both free on the key's shard thread"},
      {.name = "lazyfree-lazy-user-flush", .group = Group::kLimits, .kind = Kind::kBool, .default_value = "no",
       .help = "Accepted (Redis: FLUSHALL/FLUSHDB default to ASYNC); flushes free on the shard threads"},
      {.name = "client-output-buffer-limit", .group = Group::kLimits, .kind = Kind::kClientOutputBufferLimit,
       .flags = kMultiArg, .default_value = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
       .help = "Per client class: a client whose pending replies pass the hard limit, or stay over the soft one "
               "for that many seconds, is disconnected (normal and pubsub are enforced; there are no replicas)"},
      {.name = "notify-keyspace-events", .group = Group::kGeneral, .kind = Kind::kKeyspaceEvents,
       .field = &Config::notify_keyspace_events, .default_value = "",
       .help = "Keyspace notification classes published through pub/sub (e.g. KEA)"},
      {.name = "slowlog-log-slower-than", .group = Group::kGeneral, .kind = Kind::kInt,
       .field = &Config::slowlog_log_slower_than, .default_value = "10000", .min = -1, .max = kLLMax,
       .help = "Log commands slower than this many microseconds in the SLOWLOG (-1 = never, 0 = all)"},
      {.name = "slowlog-max-len", .group = Group::kGeneral, .kind = Kind::kInt, .field = &Config::slowlog_max_len,
       .default_value = "128", .min = 0, .max = kLLMax, .help = "Entries kept by the SLOWLOG"},
      {.name = "latency-monitor-threshold", .group = Group::kGeneral, .kind = Kind::kInt,
       .field = &Config::latency_monitor_threshold, .default_value = "0", .min = 0, .max = kLLMax,
       .help = "LATENCY monitor: record events of at least this many milliseconds (0 = off)"},
      {.name = "syslog-enabled", .group = Group::kGeneral, .kind = Kind::kBool, .flags = kImmutable,
       .field = &Config::syslog_enabled, .default_value = "no", .help = "Also send log lines to syslog"},
      {.name = "syslog-ident", .group = Group::kGeneral, .kind = Kind::kString, .flags = kImmutable,
       .field = &Config::syslog_ident, .default_value = "redis", .help = "syslog identity"},
      {.name = "syslog-facility", .group = Group::kGeneral, .kind = Kind::kString, .flags = kImmutable,
       .field = &Config::syslog_facility, .default_value = "local0",
       .help = "syslog facility: user or local0..local7"},
      {.name = "acllog-max-len", .group = Group::kSecurity, .kind = Kind::kInt, .default_value = "128", .min = 0,
       .max = kLLMax, .help = "Entries kept by ACL LOG"},
      {.name = "busy-reply-threshold", .alias = "lua-time-limit", .group = Group::kLimits, .kind = Kind::kInt,
       .default_value = "5000", .min = 0, .max = kLLMax,
       .help = "Milliseconds a script or function may run before other clients get BUSY and SCRIPT KILL / "
               "FUNCTION KILL / SHUTDOWN NOSAVE may end it"},
      {.name = "hll-sparse-max-bytes", .kind = Kind::kMemory, .default_value = "3000", .min = 0, .max = kLLMax},
      {.name = "stop-writes-on-bgsave-error", .group = Group::kPersistence, .kind = Kind::kBool,
       .field = &Config::stop_writes_on_bgsave_error, .default_value = "yes",
       .help = "Refuse writes (MISCONF) while the last background save failed"},
      {.name = "rdbcompression", .group = Group::kPersistence, .kind = Kind::kBool, .field = &Config::rdbcompression,
       .default_value = "yes", .help = "LZF-compress strings longer than 20 bytes in snapshots"},
      {.name = "rdbchecksum", .group = Group::kPersistence, .kind = Kind::kBool, .flags = kImmutable,
       .field = &Config::rdbchecksum, .default_value = "yes", .help = "End snapshots with a CRC-64 checksum"},
      {.name = "rdb-del-sync-files", .kind = Kind::kBool, .default_value = "no"},
      {.name = "rdb-save-incremental-fsync", .kind = Kind::kBool, .default_value = "yes"},
      {.name = "no-appendfsync-on-rewrite", .kind = Kind::kBool, .default_value = "no"},
      {.name = "auto-aof-rewrite-percentage", .group = Group::kPersistence, .kind = Kind::kInt,
       .field = &Config::auto_aof_rewrite_percentage, .default_value = "100", .min = 0, .max = kIntMax,
       .help = "Rewrite the AOF when it grew by this percentage over its size after the last rewrite (0 = never)"},
      {.name = "auto-aof-rewrite-min-size", .group = Group::kPersistence, .kind = Kind::kMemory,
       .field = &Config::auto_aof_rewrite_min_size, .default_value = "64mb", .min = 0, .max = kLLMax,
       .help = "No automatic AOF rewrite below this size"},
      {.name = "aof-load-truncated", .group = Group::kPersistence, .kind = Kind::kBool,
       .field = &Config::aof_load_truncated, .default_value = "yes",
       .help = "Load an AOF whose last command is cut (and truncate it) instead of refusing to start"},
      {.name = "aof-use-rdb-preamble", .group = Group::kPersistence, .kind = Kind::kBool,
       .field = &Config::aof_use_rdb_preamble, .default_value = "yes",
       .help = "Write AOF base files as RDB (no: as commands)"},
      {.name = "aof-timestamp-enabled", .group = Group::kPersistence, .kind = Kind::kBool,
       .field = &Config::aof_timestamp_enabled, .default_value = "no",
       .help = "Write #TS:<unix time> annotations into the AOF"},
      {.name = "aof-rewrite-incremental-fsync", .kind = Kind::kBool, .default_value = "yes"},
      {.name = "replica-serve-stale-data", .alias = "slave-serve-stale-data", .kind = Kind::kBool,
       .default_value = "yes"},
      {.name = "replica-read-only", .alias = "slave-read-only", .kind = Kind::kBool, .default_value = "yes"},
      {.name = "replica-lazy-flush", .alias = "slave-lazy-flush", .kind = Kind::kBool, .default_value = "no"},
      {.name = "replica-priority", .alias = "slave-priority", .kind = Kind::kInt, .default_value = "100", .min = 0,
       .max = kIntMax},
      {.name = "repl-diskless-sync", .kind = Kind::kBool, .default_value = "yes"},
      {.name = "repl-diskless-sync-delay", .kind = Kind::kInt, .default_value = "5", .min = 0, .max = kIntMax},
      {.name = "repl-diskless-sync-max-replicas", .kind = Kind::kInt, .default_value = "0", .min = 0,
       .max = kIntMax},
      {.name = "repl-diskless-load", .kind = Kind::kEnum, .default_value = "disabled", .choices = kReplDisklessLoad},
      {.name = "repl-disable-tcp-nodelay", .kind = Kind::kBool, .default_value = "no"},
      // More of Redis 7.0's directives (replication, TLS, defragmentation, I/O threads...), accepted and
      // shown with Redis's defaults so that redis.conf files and CONFIG GET * match; no effect.
      {.name = "active-defrag-cycle-max", .kind = Kind::kInt, .default_value = "25", .min = 0, .max = kLLMax,},
      {.name = "active-defrag-cycle-min", .kind = Kind::kInt, .default_value = "1", .min = 0, .max = kLLMax,},
      {.name = "active-defrag-ignore-bytes", .kind = Kind::kInt, .default_value = "104857600", .min = 0, .max = kLLMax,},
      {.name = "active-defrag-max-scan-fields", .kind = Kind::kInt, .default_value = "1000", .min = 0, .max = kLLMax,},
      {.name = "active-defrag-threshold-lower", .kind = Kind::kInt, .default_value = "10", .min = 0, .max = kLLMax,},
      {.name = "active-defrag-threshold-upper", .kind = Kind::kInt, .default_value = "100", .min = 0, .max = kLLMax,},
      {.name = "activedefrag", .kind = Kind::kBool, .default_value = "no",},
      {.name = "aof-disable-auto-gc", .kind = Kind::kBool, .default_value = "no",},
      {.name = "aof_rewrite_cpulist", .kind = Kind::kString, .flags = kImmutable, .default_value = "",},
      {.name = "bgsave_cpulist", .kind = Kind::kString, .flags = kImmutable, .default_value = "",},
      {.name = "bind-source-addr", .kind = Kind::kString, .default_value = "",},
      {.name = "bio_cpulist", .kind = Kind::kString, .flags = kImmutable, .default_value = "",},
      {.name = "crash-log-enabled", .kind = Kind::kBool, .default_value = "yes",},
      {.name = "crash-memcheck-enabled", .kind = Kind::kBool, .default_value = "yes",},
      {.name = "enable-module-command", .kind = Kind::kString, .flags = kImmutable, .default_value = "no",},
      {.name = "ignore-warnings", .kind = Kind::kString, .default_value = "",},
      {.name = "io-threads", .kind = Kind::kInt, .flags = kImmutable, .default_value = "1", .min = 0, .max = kLLMax,},
      {.name = "io-threads-do-reads", .kind = Kind::kBool, .flags = kImmutable, .default_value = "no",},
      {.name = "latency-tracking", .kind = Kind::kBool, .default_value = "yes",},
      {.name = "latency-tracking-info-percentiles", .kind = Kind::kString, .flags = kMultiArg, .default_value = "50 99 99.9",},
      {.name = "min-replicas-max-lag", .alias = "min-slaves-max-lag", .kind = Kind::kInt, .default_value = "10", .min = 0, .max = kLLMax,},
      {.name = "min-replicas-to-write", .alias = "min-slaves-to-write", .kind = Kind::kInt, .default_value = "0", .min = 0, .max = kLLMax,},
      {.name = "propagation-error-behavior", .kind = Kind::kString, .default_value = "ignore",},
      {.name = "repl-backlog-size", .kind = Kind::kInt, .default_value = "1048576", .min = 0, .max = kLLMax,},
      {.name = "repl-backlog-ttl", .kind = Kind::kInt, .default_value = "3600", .min = 0, .max = kLLMax,},
      {.name = "repl-ping-replica-period", .alias = "repl-ping-slave-period", .kind = Kind::kInt, .default_value = "10", .min = 0, .max = kLLMax,},
      {.name = "repl-timeout", .kind = Kind::kInt, .default_value = "60", .min = 0, .max = kLLMax,},
      {.name = "replica-announce-ip", .alias = "slave-announce-ip", .kind = Kind::kString, .default_value = "",},
      {.name = "replica-announce-port", .alias = "slave-announce-port", .kind = Kind::kInt, .default_value = "0", .min = 0, .max = kLLMax,},
      {.name = "replica-announced", .kind = Kind::kBool, .default_value = "yes",},
      {.name = "replica-ignore-disk-write-errors", .kind = Kind::kBool, .default_value = "no",},
      {.name = "replica-ignore-maxmemory", .alias = "slave-ignore-maxmemory", .kind = Kind::kBool, .default_value = "yes",},
      {.name = "sanitize-dump-payload", .kind = Kind::kString, .default_value = "no",},
      {.name = "server_cpulist", .kind = Kind::kString, .flags = kImmutable, .default_value = "",},
      {.name = "shutdown-on-sigint", .kind = Kind::kString, .default_value = "default",},
      {.name = "shutdown-on-sigterm", .kind = Kind::kString, .default_value = "default",},
      {.name = "shutdown-timeout", .kind = Kind::kInt, .default_value = "10", .min = 0, .max = kLLMax,},
      {.name = "socket-mark-id", .kind = Kind::kInt, .flags = kImmutable, .default_value = "0", .min = 0, .max = kLLMax,},
      {.name = "tls-auth-clients", .kind = Kind::kBool, .default_value = "yes",},
      {.name = "tls-ca-cert-dir", .kind = Kind::kString, .default_value = "",},
      {.name = "tls-ca-cert-file", .kind = Kind::kString, .default_value = "",},
      {.name = "tls-cert-file", .kind = Kind::kString, .default_value = "",},
      {.name = "tls-ciphers", .kind = Kind::kString, .default_value = "",},
      {.name = "tls-ciphersuites", .kind = Kind::kString, .default_value = "",},
      {.name = "tls-client-cert-file", .kind = Kind::kString, .default_value = "",},
      {.name = "tls-client-key-file", .kind = Kind::kString, .default_value = "",},
      {.name = "tls-client-key-file-pass", .kind = Kind::kString, .default_value = "",},
      {.name = "tls-cluster", .kind = Kind::kBool, .default_value = "no",},
      {.name = "tls-dh-params-file", .kind = Kind::kString, .default_value = "",},
      {.name = "tls-key-file", .kind = Kind::kString, .default_value = "",},
      {.name = "tls-key-file-pass", .kind = Kind::kString, .default_value = "",},
      {.name = "tls-port", .kind = Kind::kInt, .default_value = "0", .min = 0, .max = kLLMax,},
      {.name = "tls-prefer-server-ciphers", .kind = Kind::kBool, .default_value = "no",},
      {.name = "tls-protocols", .kind = Kind::kString, .default_value = "",},
      {.name = "tls-replication", .kind = Kind::kBool, .default_value = "no",},
      {.name = "tls-session-cache-size", .kind = Kind::kInt, .default_value = "20480", .min = 0, .max = kLLMax,},
      {.name = "tls-session-cache-timeout", .kind = Kind::kInt, .default_value = "300", .min = 0, .max = kLLMax,},
      {.name = "tls-session-caching", .kind = Kind::kBool, .default_value = "yes",},
      {.name = "tracking-table-max-keys", .kind = Kind::kInt, .default_value = "1000000", .min = 0, .max = kLLMax,},
      {.name = "unixsocket", .kind = Kind::kString, .flags = kImmutable, .default_value = "",},
      {.name = "unixsocketperm", .kind = Kind::kString, .flags = kImmutable, .default_value = "0",},
  };
  return table;
}

// ---------------------------------------------------------------------------
// Small parsers

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

// Redis's string2ll: "0", or an optional '-' and digits without a leading
// zero; no spaces, no '+', no "-0", must fit in int64.
std::optional<int64_t> parse_ll(std::string_view s) {
  if (s.empty()) return std::nullopt;
  if (s == "0") return 0;
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    i = 1;
  }
  if (i >= s.size() || s[i] < '1' || s[i] > '9') return std::nullopt;
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  if (negative) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return std::nullopt;
    return static_cast<int64_t>(0 - v);
  }
  if (v > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(v);
}

// strtoll(s, &end, 10) followed by Redis's usual `*end == '\0'` check:
// leading white space and a sign are allowed, leading zeros too; a string with
// no digits at all is accepted (as 0) only when it is empty. Values that do
// not fit in int64 are rejected (strtoll would saturate).
std::optional<int64_t> parse_strtoll(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  size_t digits = i;
  uint64_t v = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  if (i == digits) return s.empty() ? std::optional<int64_t>(0) : std::nullopt;
  if (i != s.size()) return std::nullopt;
  if (negative) {
    if (v > static_cast<uint64_t>(INT64_MAX) + 1) return std::nullopt;
    return static_cast<int64_t>(0 - v);
  }
  if (v > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(v);
}

// Splits on every single space, as Redis does for multi-argument options in
// CONFIG SET: "" gives no tokens, "a  b" gives "a", "", "b".
std::vector<std::string_view> split_spaces(std::string_view s) {
  std::vector<std::string_view> out;
  if (s.empty()) return out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(' ', start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// ---------------------------------------------------------------------------
// Validators and special types

std::optional<std::string> validate_dbfilename(std::string_view v) {
  if (v.find('/') != std::string_view::npos) return "dbfilename can't be a path, just a filename";
  return std::nullopt;
}

std::optional<std::string> validate_appendfilename(std::string_view v) {
  if (v.empty()) return "appendfilename can't be empty";
  if (v.find('/') != std::string_view::npos) return "appendfilename can't be a path, just a filename";
  return std::nullopt;
}

std::optional<std::string> validate_appenddirname(std::string_view v) {
  if (v.empty()) return "appenddirname can't be empty";
  if (v.find('/') != std::string_view::npos) return "appenddirname can't be a path, just a dirname";
  return std::nullopt;
}

// Variables {title} {listen-addr} {server-mode} {port} {tls-port} {unixsocket}
// {config-file}, "{{" and "}}" for literal braces; the template must not
// expand to blank text ({title}, {server-mode} and {unixsocket} count as
// possibly empty, as Redis's check finds them).
std::optional<std::string> validate_proc_title_template(std::string_view v) {
  static const std::string kError = "template format is invalid or contains unknown variables";
  bool has_text = false;
  for (size_t i = 0; i < v.size();) {
    if (v.compare(i, 2, "{{") == 0 || v.compare(i, 2, "}}") == 0) {
      has_text = true;
      i += 2;
    } else if (v[i] == '{') {
      size_t end = v.find('}', i + 1);
      if (end == std::string_view::npos) return kError;
      std::string_view var = v.substr(i + 1, end - i - 1);
      if (var == "listen-addr" || var == "port" || var == "tls-port" || var == "config-file")
        has_text = true;
      else if (var != "title" && var != "server-mode" && var != "unixsocket")
        return kError;
      i = end + 1;
    } else {
      if (v[i] != ' ') has_text = true;
      ++i;
    }
  }
  if (!has_text) return kError;
  return std::nullopt;
}

std::optional<std::string> validate_dir(std::string_view v) {
  std::string path(v);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return std::string(std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return std::string(std::strerror(ENOTDIR));
  if (::access(path.c_str(), X_OK) != 0) return std::string(std::strerror(errno));
  return std::nullopt;
}

std::optional<std::string> parse_save(std::string_view text, std::string& out) {
  static const std::string kError = "Invalid save parameters";
  auto tokens = split_spaces(text);
  if (tokens.size() % 2 != 0) return kError;
  out.clear();
  for (size_t i = 0; i < tokens.size(); i += 2) {
    auto seconds = parse_strtoll(tokens[i]);
    auto changes = parse_strtoll(tokens[i + 1]);
    if (!seconds || !changes || *seconds < 1 || *changes < 0 || *changes > kIntMax) return kError;
    if (!out.empty()) out += ' ';
    out += fmt::format("{} {}", *seconds, *changes);
  }
  return std::nullopt;
}

std::optional<std::string> parse_bind(std::string_view text, std::vector<std::string>& out) {
  auto tokens = split_spaces(text);
  if (tokens.size() > 16) return "Too many bind addresses specified.";
  out.clear();
  for (auto t : tokens) {
    if (t.empty()) return "Failed to bind to specified addresses.";
    out.emplace_back(t);
  }
  return std::nullopt;
}

// notify-keyspace-events: class letters, stored as notify:: bits and
// rendered in Redis's canonical order.
constexpr std::pair<char, uint32_t> kKeyspaceEventClasses[] = {
    {'g', notify::kGeneric}, {'$', notify::kString}, {'l', notify::kList},    {'s', notify::kSet},
    {'h', notify::kHash},    {'z', notify::kZset},   {'x', notify::kExpired}, {'e', notify::kEvicted},
    {'t', notify::kStream},  {'d', notify::kModule}, {'n', notify::kNew}};

std::optional<std::string> parse_keyspace_events(std::string_view text, int64_t& out) {
  uint32_t flags = 0;
  for (char c : text) {
    uint32_t bit = 0;
    for (auto [letter, b] : kKeyspaceEventClasses)
      if (c == letter) bit = b;
    if (c == 'A') bit = notify::kAll;
    if (c == 'K') bit = notify::kKeyspace;
    if (c == 'E') bit = notify::kKeyevent;
    if (c == 'm') bit = notify::kKeyMiss;
    if (bit == 0) return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
    flags |= bit;
  }
  out = flags;
  return std::nullopt;
}

// As Redis: 'A' when every class of it is set (then 'n' is not shown), else
// the class letters; then K, E and m.
std::string render_keyspace_events(int64_t value) {
  const auto flags = static_cast<uint32_t>(value);
  std::string out;
  if ((flags & notify::kAll) == notify::kAll) {
    out += 'A';
  } else {
    for (auto [letter, bit] : kKeyspaceEventClasses)
      if (flags & bit) out += letter;
  }
  if (flags & notify::kKeyspace) out += 'K';
  if (flags & notify::kKeyevent) out += 'E';
  if (flags & notify::kKeyMiss) out += 'm';
  return out;
}

constexpr const char* kDefaultOutputBufferLimits = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60";

// client-output-buffer-limit: "<class> <hard> <soft> <soft-seconds>" groups
// that replace the limits of the classes they name; the others keep `current`.
std::optional<std::string> parse_output_buffer_limits(std::string_view text, std::string_view current,
                                                      std::string& out) {
  struct Limit {
    int64_t hard = 0, soft = 0, seconds = 0;
  } limits[3];
  auto decode = [&](std::string_view s) {
    auto t = split_spaces(s);
    if (t.size() != 12) return false;
    for (size_t i = 0; i < 3; ++i) {
      auto h = parse_ll(t[i * 4 + 1]), so = parse_ll(t[i * 4 + 2]), se = parse_ll(t[i * 4 + 3]);
      if (!h || !so || !se) return false;
      limits[i] = {*h, *so, *se};
    }
    return true;
  };
  if (!decode(current)) decode(kDefaultOutputBufferLimits);

  auto tokens = split_spaces(text);
  if (tokens.size() % 4 != 0) return "Wrong number of arguments in buffer limit configuration.";
  std::vector<std::pair<int, Limit>> updates;
  for (size_t i = 0; i < tokens.size(); i += 4) {
    int cls;
    if (iequals(tokens[i], "normal"))
      cls = 0;
    else if (iequals(tokens[i], "replica") || iequals(tokens[i], "slave"))
      cls = 1;
    else if (iequals(tokens[i], "pubsub"))
      cls = 2;
    else
      return "Invalid client class specified in buffer limit configuration.";
    auto hard = parse_memory(tokens[i + 1]);
    auto soft = parse_memory(tokens[i + 2]);
    auto seconds = parse_strtoll(tokens[i + 3]);
    if (!hard || !soft || !seconds || *hard < 0 || *soft < 0 || *seconds < 0)
      return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
    updates.push_back({cls, Limit{*hard, *soft, *seconds}});
  }
  for (auto& [cls, limit] : updates) limits[cls] = limit;
  static constexpr const char* kNames[] = {"normal", "slave", "pubsub"};
  out.clear();
  for (int i = 0; i < 3; ++i) {
    if (i) out += ' ';
    out += fmt::format("{} {} {} {}", kNames[i], limits[i].hard, limits[i].soft, limits[i].seconds);
  }
  return std::nullopt;
}

std::optional<std::string> parse_oom_score_adj_values(std::string_view text, std::string& out) {
  auto tokens = split_spaces(text);
  if (tokens.size() != 3) return "wrong number of arguments";
  out.clear();
  for (auto t : tokens) {
    auto v = parse_strtoll(t);
    if (!v || *v < -2000 || *v > 2000)
      return "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
    if (!out.empty()) out += ' ';
    out += std::to_string(*v);
  }
  return std::nullopt;
}

std::string range_error(const Option& o) {
  return fmt::format("argument must be between {} and {} inclusive", o.min, o.max);
}

// Parses `text` as a value of `o`. `current` is the option's present value
// (client-output-buffer-limit changes only the classes it names). Returns
// Redis's error text on failure.
std::optional<std::string> parse_value(const Option& o, std::string_view text, const Value* current, Value& out) {
  switch (o.kind) {
    case Kind::kBool:
      if (iequals(text, "yes")) {
        out = true;
      } else if (iequals(text, "no")) {
        out = false;
      } else {
        return "argument must be 'yes' or 'no'";
      }
      return std::nullopt;
    case Kind::kInt: {
      auto v = parse_ll(text);
      if (!v) return "argument couldn't be parsed into an integer";
      if (*v < o.min || *v > o.max) return range_error(o);
      out = o.normalize ? o.normalize(*v) : *v;
      return std::nullopt;
    }
    case Kind::kMemory: {
      // Redis parses memory options as unsigned: no sign at all.
      auto v = (!text.empty() && text[0] == '-') ? std::nullopt : parse_memory(text);
      if (!v) return "argument must be a memory value";
      if (*v < o.min || *v > o.max) return range_error(o);
      out = *v;
      return std::nullopt;
    }
    case Kind::kEnum:
      for (size_t i = 0; i < o.choices.size(); ++i) {
        if (iequals(text, o.choices[i])) {
          size_t first = i;  // a synonym is stored as its first spelling
          if (!o.choice_ids.empty())
            for (first = 0; o.choice_ids[first] != o.choice_ids[i];) ++first;
          out = static_cast<int64_t>(first);
          return std::nullopt;
        }
      }
      {
        std::string list;
        for (const char* c : o.choices) {
          if (!list.empty()) list += ", ";
          list += c;
        }
        return "argument(s) must be one of the following: " + list;
      }
    case Kind::kString:
      if (o.validate) {
        if (auto err = o.validate(text)) return err;
      }
      out = std::string(text);
      return std::nullopt;
    case Kind::kDir:
      if (auto err = validate_dir(text)) return err;
      out = std::string(text);
      return std::nullopt;
    case Kind::kSave: {
      std::string s;
      if (auto err = parse_save(text, s)) return err;
      out = std::move(s);
      return std::nullopt;
    }
    case Kind::kBind: {
      std::vector<std::string> v;
      if (auto err = parse_bind(text, v)) return err;
      out = std::move(v);
      return std::nullopt;
    }
    case Kind::kKeyspaceEvents: {
      int64_t flags = 0;
      if (auto err = parse_keyspace_events(text, flags)) return err;
      out = flags;
      return std::nullopt;
    }
    case Kind::kClientOutputBufferLimit: {
      std::string s;
      const std::string* cur = current ? std::get_if<std::string>(current) : nullptr;
      if (auto err = parse_output_buffer_limits(text, cur ? *cur : std::string_view(), s)) return err;
      out = std::move(s);
      return std::nullopt;
    }
    case Kind::kOomScoreAdjValues: {
      std::string s;
      if (auto err = parse_oom_score_adj_values(text, s)) return err;
      out = std::move(s);
      return std::nullopt;
    }
    case Kind::kMemoryOrPercent: {
      if (!text.empty() && text.back() == '%') {
        std::string_view digits = text.substr(0, text.size() - 1);
        auto v = (!digits.empty() && digits[0] != '-' && digits[0] != '+') ? parse_ll(digits) : std::nullopt;
        if (!v) return "argument must be a memory or percent value";
        if (*v > 100) return "percentage argument must be less or equal to 100";
        out = -*v;  // "0%" is 0: off
        return std::nullopt;
      }
      auto v = (!text.empty() && text[0] == '-') ? std::nullopt : parse_memory(text);
      if (!v) return "argument must be a memory or percent value";
      if (*v < o.min || *v > o.max) return range_error(o);
      out = *v;
      return std::nullopt;
    }
  }
  return "unsupported option type";
}

std::string render(const Option& o, const Value& v) {
  switch (o.kind) {
    case Kind::kBool:
      return std::get<bool>(v) ? "yes" : "no";
    case Kind::kInt:
    case Kind::kMemory:
      return std::to_string(std::get<int64_t>(v));
    case Kind::kKeyspaceEvents:
      return render_keyspace_events(std::get<int64_t>(v));
    case Kind::kMemoryOrPercent: {
      const int64_t n = std::get<int64_t>(v);
      return n < 0 ? std::to_string(-n) + "%" : std::to_string(n);
    }
    case Kind::kEnum: {
      auto i = std::get<int64_t>(v);
      return (i >= 0 && static_cast<size_t>(i) < o.choices.size()) ? o.choices[static_cast<size_t>(i)] : "";
    }
    case Kind::kBind: {
      std::string out;
      for (const auto& a : std::get<std::vector<std::string>>(v)) {
        if (!out.empty()) out += ' ';
        out += a;
      }
      return out;
    }
    case Kind::kDir: {
      // Redis shows its working directory, i.e. an absolute path.
      namespace fs = std::filesystem;
      std::error_code ec;
      fs::path p = fs::weakly_canonical(fs::absolute(fs::path(std::get<std::string>(v)), ec), ec);
      return ec ? std::get<std::string>(v) : p.string();
    }
    default:
      return std::get<std::string>(v);
  }
}

// ---------------------------------------------------------------------------
// Reading and writing values

size_t index_of(const Option& o) { return static_cast<size_t>(&o - options().data()); }

// Defaults, parsed once from the table's default strings.
const std::vector<Value>& default_values() {
  static const std::vector<Value> values = [] {
    std::vector<Value> out;
    for (const Option& o : options()) {
      Value v;
      if (parse_value(o, o.default_value, nullptr, v))
        v = std::string(o.default_value);  // cannot happen for the table's defaults
      out.push_back(std::move(v));
    }
    return out;
  }();
  return values;
}

// Compatibility options have no Config field; their values live here, per
// Config object, keyed by option index. load_config() resets a Config's
// entry. (A Config member would be simpler; config.h has none for them.)
std::mutex extras_mutex;
std::unordered_map<const Config*, std::unordered_map<size_t, Value>>& extras() {
  static std::unordered_map<const Config*, std::unordered_map<size_t, Value>> map;
  return map;
}

void reset_extras(const Config& config) {
  std::lock_guard lock(extras_mutex);
  extras().erase(&config);
}

Value read_extra(const Config& config, size_t index) {
  std::lock_guard lock(extras_mutex);
  auto it = extras().find(&config);
  if (it != extras().end()) {
    auto jt = it->second.find(index);
    if (jt != it->second.end()) return jt->second;
  }
  return default_values()[index];
}

void write_extra(const Config& config, size_t index, const Value& v) {
  std::lock_guard lock(extras_mutex);
  extras()[&config][index] = v;
}

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// Callers hold config.string_mutex.
Value read_value(const Option& o, const Config& c) {
  return std::visit(
      Overloaded{
          [&](std::monostate) -> Value { return read_extra(c, index_of(o)); },
          [&](bool Config::*m) -> Value { return c.*m; },
          [&](int Config::*m) -> Value { return static_cast<int64_t>(c.*m); },
          [&](int64_t Config::*m) -> Value { return c.*m; },
          [&](std::atomic<int> Config::*m) -> Value {
            return static_cast<int64_t>((c.*m).load(std::memory_order_relaxed));
          },
          [&](std::atomic<int64_t> Config::*m) -> Value { return (c.*m).load(std::memory_order_relaxed); },
          [&](std::string Config::*m) -> Value {
            if (o.kind != Kind::kEnum) return c.*m;
            for (size_t i = 0; i < o.choices.size(); ++i)
              if (iequals(c.*m, o.choices[i])) return static_cast<int64_t>(i);
            return int64_t{0};
          },
          [&](std::vector<std::string> Config::*m) -> Value { return c.*m; },
      },
      o.field);
}

// The pubsub class of client-output-buffer-limit, which the server enforces,
// mirrored into Config atomics from the option's canonical text.
void apply_pubsub_output_limits(Config& c, const std::string& text) {
  auto t = split_spaces(text);
  for (size_t i = 0; i + 3 < t.size(); i += 4) {
    auto hard = parse_ll(t[i + 1]), soft = parse_ll(t[i + 2]), seconds = parse_ll(t[i + 3]);
    if (!hard || !soft || !seconds) return;
    if (iequals(t[i], "normal")) {  // the normal class (server/stats.cpp enforces it)
      c.normal_obuf_hard.store(*hard, std::memory_order_relaxed);
      c.normal_obuf_soft.store(*soft, std::memory_order_relaxed);
      c.normal_obuf_soft_seconds.store(*seconds, std::memory_order_relaxed);
    }
    if (!iequals(t[i], "pubsub")) continue;
    c.pubsub_obuf_hard.store(*hard, std::memory_order_relaxed);
    c.pubsub_obuf_soft.store(*soft, std::memory_order_relaxed);
    c.pubsub_obuf_soft_seconds.store(*seconds, std::memory_order_relaxed);
  }
}

void write_value(const Option& o, Config& c, const Value& v) {
  std::visit(Overloaded{
                 [&](std::monostate) {
                   write_extra(c, index_of(o), v);
                   if (o.kind == Kind::kClientOutputBufferLimit) apply_pubsub_output_limits(c, std::get<std::string>(v));
                 },
                 [&](bool Config::*m) { c.*m = std::get<bool>(v); },
                 [&](int Config::*m) { c.*m = static_cast<int>(std::get<int64_t>(v)); },
                 [&](int64_t Config::*m) { c.*m = std::get<int64_t>(v); },
                 [&](std::atomic<int> Config::*m) {
                   (c.*m).store(static_cast<int>(std::get<int64_t>(v)), std::memory_order_relaxed);
                 },
                 [&](std::atomic<int64_t> Config::*m) {
                   (c.*m).store(std::get<int64_t>(v), std::memory_order_relaxed);
                 },
                 [&](std::string Config::*m) {
                   if (o.kind == Kind::kEnum)
                     c.*m = o.choices[static_cast<size_t>(std::get<int64_t>(v))];
                   else
                     c.*m = std::get<std::string>(v);
                 },
                 [&](std::vector<std::string> Config::*m) { c.*m = std::get<std::vector<std::string>>(v); },
             },
             o.field);
}

// Looks an option up by its name or alias, case-insensitively.
const Option* find_option(std::string_view name) {
  for (const Option& o : options())
    if (iequals(name, o.name) || (o.alias && iequals(name, o.alias))) return &o;
  return nullptr;
}

bool protected_configs_allowed(const Config& c) {
  const Option* o = find_option("enable-protected-configs");
  // "yes" only: CONFIG SET does not know whether the client is local.
  return std::get<int64_t>(read_value(*o, c)) == 1;
}

const char* group_title(Group g) {
  switch (g) {
    case Group::kNetwork: return "Network";
    case Group::kGeneral: return "General";
    case Group::kLimits: return "Limits";
    case Group::kEncodings: return "Encodings of small collections";
    case Group::kPersistence: return "Persistence";
    case Group::kSecurity: return "Security";
    case Group::kCluster: return "Cluster";
    case Group::kCompat: return "Accepted for redis.conf compatibility (stored and shown by CONFIG GET; no effect yet)";
  }
  return "";
}

std::string value_syntax(const Option& o) {
  switch (o.kind) {
    case Kind::kBool: return "yes|no";
    case Kind::kInt:
      if (o.max == kLLMax) return fmt::format("integer >= {}", o.min);
      return fmt::format("integer {}..{}", o.min, o.max);
    case Kind::kMemory: return o.min > 0 ? fmt::format("bytes >= {} (units: k kb m mb g gb)", o.min)
                                         : "bytes (units: k kb m mb g gb)";
    case Kind::kEnum: {
      std::string s;
      for (const char* c : o.choices) {
        if (!s.empty()) s += '|';
        s += c;
      }
      return s;
    }
    case Kind::kString: return "string";
    case Kind::kDir: return "directory";
    case Kind::kSave: return "seconds changes [seconds changes ...] | \"\"";
    case Kind::kBind: return "address [address ...]";
    case Kind::kKeyspaceEvents: return "classes from Ag$lshzxeKEtmdn";
    case Kind::kClientOutputBufferLimit: return "class hard soft seconds [...]";
    case Kind::kOomScoreAdjValues: return "int int int";
    case Kind::kMemoryOrPercent: return "bytes (units: k kb m mb g gb) or <n>% of maxmemory";
  }
  return "";
}

std::string quote_default(const char* d) {
  std::string s(d);
  if (s.empty() || s.find(' ') != std::string::npos) return "\"" + s + "\"";
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------
// Public API

std::optional<int64_t> parse_memory(std::string_view s) {
  // Redis's memtoll(): an optional '-', digits, then an optional unit among
  // b, k, kb, m, mb, g, gb (any case); k/m/g are powers of 1000, kb/mb/gb of
  // 1024. As in Redis, no digits at all means 0 ("" and "kb" are 0). Values
  // beyond int64 are rejected.
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && s[i] == '-') {
    negative = true;
    ++i;
  }
  size_t digits_begin = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  std::string_view digits = s.substr(digits_begin, i - digits_begin);
  std::string unit = to_lower(s.substr(i));
  int64_t mul;
  if (unit.empty() || unit == "b")
    mul = 1;
  else if (unit == "k")
    mul = 1000;
  else if (unit == "kb")
    mul = 1024;
  else if (unit == "m")
    mul = 1000LL * 1000;
  else if (unit == "mb")
    mul = 1024LL * 1024;
  else if (unit == "g")
    mul = 1000LL * 1000 * 1000;
  else if (unit == "gb")
    mul = 1024LL * 1024 * 1024;
  else
    return std::nullopt;
  if (negative && digits.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  if (v > static_cast<uint64_t>(INT64_MAX) / static_cast<uint64_t>(mul)) return std::nullopt;
  int64_t r = static_cast<int64_t>(v) * mul;
  return negative ? -r : r;
}

std::vector<std::pair<std::string, std::string>> config_get(const Config& config, std::string_view pattern) {
  std::vector<std::pair<std::string, std::string>> out;
  std::lock_guard lock(config.string_mutex);
  // As Redis 7.0: a pattern without glob characters is a plain lookup and the
  // reply uses the name as the client spelled it.
  if (pattern.find_first_of("*?[") == std::string_view::npos) {
    if (const Option* o = find_option(pattern)) out.emplace_back(std::string(pattern), render(*o, read_value(*o, config)));
    return out;
  }
  for (const Option& o : options()) {
    bool name_matches = storage::glob_match(pattern, o.name, true);
    bool alias_matches = o.alias && storage::glob_match(pattern, o.alias, true);
    if (!name_matches && !alias_matches) continue;
    std::string value = render(o, read_value(o, config));
    if (name_matches) out.emplace_back(o.name, value);
    if (alias_matches) out.emplace_back(o.alias, value);
  }
  return out;
}

std::optional<std::string> config_set(Config& config, const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::lock_guard lock(config.string_mutex);
  auto failed = [](std::string_view name, std::string_view why) {
    return fmt::format("ERR CONFIG SET failed (possibly related to argument '{}') - {}", name, why);
  };
  // 1. Names: unknown, not settable, or repeated (as Redis, in that order, per pair).
  std::vector<const Option*> targets;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const std::string& name = pairs[i].first;
    const Option* o = find_option(name);
    if (!o) return fmt::format("ERR Unknown option or number of arguments for CONFIG SET - '{}'", name);
    if (o->flags & kImmutable) return failed(name, "can't set immutable config");
    if ((o->flags & kProtected) && !protected_configs_allowed(config)) return failed(name, "can't set protected config");
    for (size_t j = 0; j < i; ++j)
      if (iequals(pairs[j].first, name)) return failed(name, "duplicate parameter");
    targets.push_back(o);
  }
  // 2. Values: parse them all before changing anything.
  std::vector<Value> values(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    Value current = read_value(*targets[i], config);
    if (auto err = parse_value(*targets[i], pairs[i].second, &current, values[i]))
      return failed(to_lower(pairs[i].first), *err);
  }
  // 3. Apply.
  for (size_t i = 0; i < pairs.size(); ++i) write_value(*targets[i], config, values[i]);
  if (config.on_set)
    for (const Option* o : targets) config.on_set(o->name);
  return std::nullopt;
}

namespace detail {

void reset_to_defaults(Config& config) {
  reset_extras(config);
  std::lock_guard lock(config.string_mutex);
  const auto& defaults = default_values();
  for (const Option& o : options()) {
    if (std::holds_alternative<std::monostate>(o.field)) continue;
    write_value(o, config, defaults[index_of(o)]);
  }
  apply_pubsub_output_limits(config, kDefaultOutputBufferLimits);
  config.config_file.clear();
}

// One directive of a config file (or of the command line), already split into
// arguments; argv[0] is the name. Returns the message Redis prints below the
// offending line.
std::optional<std::string> apply_directive(Config& config, bool& save_seen, const std::vector<std::string>& argv) {
  if (auto acl_result = acl::config_directive(argv))  // user, rename-command (server/acl/acl.h)
    return acl_result->empty() ? std::nullopt : std::optional<std::string>(*acl_result);
  const Option* o = argv.empty() ? nullptr : find_option(argv[0]);
  if (!o) return "Bad directive or wrong number of arguments";
  std::string text;
  if (o->flags & kMultiArg) {
    for (size_t i = 1; i < argv.size(); ++i) {
      if (i > 1) text += ' ';
      text += argv[i];
    }
  } else {
    if (argv.size() != 2) return "wrong number of arguments";
    text = argv[1];
  }
  std::lock_guard lock(config.string_mutex);
  Value current = read_value(*o, config);
  Value value;
  if (auto err = parse_value(*o, text, &current, value)) return err;
  if (o->kind == Kind::kSave) {
    // The first save line replaces the default; later ones add to it.
    auto& s = std::get<std::string>(value);
    const auto& cur = std::get<std::string>(current);
    if (save_seen && !s.empty() && !cur.empty()) s = cur + " " + s;
    save_seen = true;
  }
  write_value(*o, config, value);
  return std::nullopt;
}

std::string options_help() {
  std::string out;
  for (Group g : {Group::kNetwork, Group::kGeneral, Group::kLimits, Group::kEncodings, Group::kPersistence,
                  Group::kSecurity, Group::kCluster, Group::kCompat}) {
    out += fmt::format("\n{}:\n", group_title(g));
    for (const Option& o : options()) {
      if (o.group != g) continue;
      std::string notes;
      if (o.alias) notes += fmt::format(" (alias --{})", o.alias);
      if (o.flags & kImmutable) notes += " [start-up only]";
      if (o.flags & kProtected) notes += " [CONFIG SET needs enable-protected-configs yes]";
      out += fmt::format("  --{} <{}>  default: {}{}\n", o.name, value_syntax(o), quote_default(o.default_value),
                         notes);
      if (*o.help) out += fmt::format("      {}\n", o.help);
    }
  }
  return out;
}

}  // namespace detail
}  // namespace distcache::server

// ---------------------------------------------------------------------------
// CONFIG REWRITE's view of the table (server/config_rewrite.h).

namespace distcache::server {

std::vector<RewriteOption> rewrite_options(const Config& config) {
  std::vector<RewriteOption> out;
  std::lock_guard lock(config.string_mutex);
  const auto& defaults = default_values();
  for (const Option& o : options()) {
    RewriteOption r;
    r.name = o.name;
    r.alias = o.alias ? o.alias : "";
    r.value = render(o, read_value(o, config));
    r.default_value = render(o, defaults[index_of(o)]);
    r.multi_arg = (o.flags & kMultiArg) != 0;
    r.quoted = o.kind == Kind::kString || o.kind == Kind::kDir || o.kind == Kind::kKeyspaceEvents;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace distcache::server
