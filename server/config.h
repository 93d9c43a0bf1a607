#pragma once
// Server configuration with redis-server's directive names. Sources, in order:
// built-in defaults, an optional redis.conf-style file (first positional
// argument), then `--name value...` command-line options. One declarative
// option table (config_options.cpp) drives parsing, --help, CONFIG GET and
// CONFIG SET.
//
// Thread-safety: options that CONFIG SET may change while shard threads run
// are std::atomic (read them with .load(std::memory_order_relaxed)); string
// options that can change at run time are read through Config::get_string()
// which takes a small mutex (never on a hot path).
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace distcache::server {

struct Config {
  // --- network
  std::vector<std::string> bind{"127.0.0.1"};  // `bind`: addresses; "-" prefix = optional (as Redis)
  int port = 6379;
  bool protected_mode = true;
  int tcp_backlog = 511;
  std::atomic<int64_t> timeout{0};          // idle client timeout, seconds
  std::atomic<int64_t> tcp_keepalive{300};
  // --- general
  int threads = 0;                          // 0 = one per core (std::thread::hardware_concurrency)
  bool daemonize = false;
  std::string pidfile;
  std::string logfile;                      // "" = stdout
  std::atomic<int> loglevel{2};             // 0 debug, 1 verbose, 2 notice, 3 warning (Redis's order)
  int databases = 16;
  std::atomic<int64_t> hz{10};
  // --- limits
  std::atomic<int64_t> maxclients{10000};
  std::atomic<int64_t> proto_max_bulk_len{512LL * 1024 * 1024};
  std::atomic<int64_t> client_query_buffer_limit{1024LL * 1024 * 1024};
  std::atomic<int64_t> maxmemory{0};
  // --- pub/sub
  std::atomic<int64_t> notify_keyspace_events{0};  // notify:: class bits (server/keyspace_events.h)
  // client-output-buffer-limit's pubsub class (the option's other classes are stored with it).
  std::atomic<int64_t> pubsub_obuf_hard{32LL * 1024 * 1024};
  std::atomic<int64_t> pubsub_obuf_soft{8LL * 1024 * 1024};
  std::atomic<int64_t> pubsub_obuf_soft_seconds{60};
  // The normal class of client-output-buffer-limit (0 = no limit), mirrored like the pubsub one.
  std::atomic<int64_t> normal_obuf_hard{0};
  std::atomic<int64_t> normal_obuf_soft{0};
  std::atomic<int64_t> normal_obuf_soft_seconds{0};
  // --- introspection (server/stats.h)
  std::atomic<int64_t> slowlog_log_slower_than{10000};  // microseconds; -1 disables, 0 logs all
  std::atomic<int64_t> slowlog_max_len{128};
  std::atomic<int64_t> latency_monitor_threshold{0};    // milliseconds; 0 = off
  bool syslog_enabled = false;
  std::string syslog_ident = "redis";
  std::string syslog_facility = "local0";
  // --- compact encodings of small collections (Redis 7.0 names and defaults)
  std::atomic<int64_t> hash_max_listpack_entries{512};
  std::atomic<int64_t> hash_max_listpack_value{64};
  std::atomic<int64_t> set_max_intset_entries{512};
  std::atomic<int64_t> zset_max_listpack_entries{128};
  std::atomic<int64_t> zset_max_listpack_value{64};
  std::atomic<int64_t> list_max_listpack_size{-2};   // >0: entries per node; -1..-5: 4..64 KiB per node
  std::atomic<int64_t> list_compress_depth{0};
  std::atomic<int64_t> stream_node_max_bytes{4096};
  std::atomic<int64_t> stream_node_max_entries{100};
  // --- persistence
  std::string dir = ".";
  std::string dbfilename = "dump.rdb";
  std::string save = "3600 1 300 100 60 10000";
  bool rdbcompression = true;
  bool rdbchecksum = true;
  bool stop_writes_on_bgsave_error = true;
  bool appendonly = false;
  std::string appendfilename = "appendonly.aof";
  std::string appenddirname = "appendonlydir";
  std::string appendfsync = "everysec";
  std::atomic<int64_t> auto_aof_rewrite_percentage{100};
  std::atomic<int64_t> auto_aof_rewrite_min_size{64LL * 1024 * 1024};
  bool aof_load_truncated = true;
  bool aof_use_rdb_preamble = true;
  bool aof_timestamp_enabled = false;
  // --- security
  std::string requirepass;
  // --- cluster
  bool cluster_enabled = false;
  std::string cluster_config_file = "nodes.conf";
  int64_t cluster_node_timeout = 15000;
  int64_t cluster_port = 0;  // the cluster bus; 0 = port + 10000
  bool cluster_require_full_coverage = true;
  bool cluster_allow_reads_when_down = false;
  std::string cluster_announce_ip;
  int64_t cluster_announce_port = 0;
  int64_t cluster_announce_bus_port = 0;

  std::string config_file;                  // absolute path of the file loaded, "" if none

  mutable std::mutex string_mutex;          // guards string options changed by CONFIG SET
  // Called by config_set() for each option it changed, with string_mutex
  // held (it must not take it); set by the server (the AOF reacts to
  // appendonly / appendfsync).
  std::function<void(std::string_view name)> on_set;
  std::string get_string(const std::string& field) const {
    std::lock_guard<std::mutex> lock(string_mutex);
    return field;
  }
};

// Result of loading the configuration at start-up.
struct LoadResult {
  bool ok = true;
  bool exit_now = false;      // --help / --version printed; exit with exit_code
  int exit_code = 0;
  std::string error;          // e.g. "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 3\n>>> 'foo bar'\nBad directive or wrong number of arguments"
};

// Fills `config` from argv (redis-server syntax, plus --threads).
LoadResult load_config(Config& config, int argc, const char* const* argv);

// CONFIG GET: (name, value) pairs for every option whose name matches the glob
// pattern (case-insensitive), values rendered as redis-server renders them.
std::vector<std::pair<std::string, std::string>> config_get(const Config& config,
                                                            std::string_view pattern);

// CONFIG SET with one or more name/value pairs, applied atomically: all or none.
// Returns std::nullopt on success, else Redis's error text (without '-'), e.g.
// "ERR Unknown option or number of arguments for CONFIG SET - 'foo'".
std::optional<std::string> config_set(Config& config,
                                      const std::vector<std::pair<std::string, std::string>>& pairs);

// Text printed by --help.
std::string config_help();

// Parses Redis memory units: "1gb", "100mb", "512k", "10" -> bytes. nullopt if invalid.
std::optional<int64_t> parse_memory(std::string_view s);

}  // namespace distcache::server
