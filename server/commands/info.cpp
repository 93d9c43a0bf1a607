// INFO: Redis 7.0's sections, in Redis's order and with its field names, so
// that monitoring tools (redis_exporter, redis-cli --stat, ...) parse it.
// Fields about features distcache has not (replication, modules, active
// defragmentation) carry the values an idle Redis shows.
#include "server/commands/info.h"

#include <malloc.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>

#include <fmt/format.h>

#include "server/aof.h"
#include "server/commands/arg_util.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/connection_context.h"
#include "server/memory_limit.h"
#include "server/ops.h"
#include "server/pubsub_registry.h"
#include "server/scripting/scripting.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/stats.h"
#include "server/tracking.h"
#include "server/version.h"

namespace distcache::server {
namespace {

std::string human_bytes(uint64_t n) {
  double d = static_cast<double>(n);
  if (n < 1024) return fmt::format("{}B", n);
  if (n < 1024ull * 1024) return fmt::format("{:.2f}K", d / 1024);
  if (n < 1024ull * 1024 * 1024) return fmt::format("{:.2f}M", d / (1024 * 1024));
  if (n < 1024ull * 1024 * 1024 * 1024) return fmt::format("{:.2f}G", d / (1024.0 * 1024 * 1024));
  return fmt::format("{:.2f}T", d / (1024.0 * 1024 * 1024 * 1024));
}

uint64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

uint64_t system_memory() {
  return static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// Bytes the process allocated: the maxmemory accounting when it runs
// (server/memory_limit.h), else malloc's own statistics.
uint64_t used_bytes() {
  if (malloc_counting_active()) return used_memory();
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

std::atomic<uint64_t> peak_used{0};
uint64_t update_peak(uint64_t used) {
  uint64_t peak = peak_used.load();
  while (used > peak && !peak_used.compare_exchange_weak(peak, used)) {
  }
  return std::max(peak, used);
}

// Operations per second over the last cron-free sample window, computed at
// INFO time from the previous INFO call (as good as Redis's 1.6 s window for
// monitoring that polls).
struct RateSample {
  int64_t ms = 0;
  uint64_t commands = 0, in = 0, out = 0;
};
std::mutex rate_mutex;
RateSample last_sample, rate_base;

struct Rates {
  double ops = 0, in_kbps = 0, out_kbps = 0;
};

Rates rates(int64_t now_ms, uint64_t commands, uint64_t in, uint64_t out) {
  std::lock_guard lock(rate_mutex);
  RateSample now{now_ms, commands, in, out};
  // Keep a base at least 1 s old so that two INFOs in a row still give a rate.
  if (now_ms - last_sample.ms >= 1000) {
    rate_base = last_sample;
    last_sample = now;
  }
  Rates r;
  const int64_t dt = now_ms - rate_base.ms;
  if (rate_base.ms == 0 || dt <= 0 || commands < rate_base.commands) return r;
  r.ops = static_cast<double>(commands - rate_base.commands) * 1000.0 / static_cast<double>(dt);
  r.in_kbps = static_cast<double>(in - rate_base.in) / 1024.0 * 1000.0 / static_cast<double>(dt);
  r.out_kbps = static_cast<double>(out - rate_base.out) / 1024.0 * 1000.0 / static_cast<double>(dt);
  return r;
}

struct DbCounts {
  std::vector<size_t> keys, expires;
};

struct Snapshot {
  DbCounts dbs;
  int64_t clients = 0;
  uint64_t max_input_buffer = 0, max_output_buffer = 0;
  uint64_t clients_memory = 0;
  int64_t pubsub_clients = 0;
};

std::string config_value(Server& server, std::string_view name) {
  auto v = config_get(server.config(), name);
  return v.empty() ? std::string() : v.front().second;
}

void write_server(std::string& out, Server& server, int64_t now_ms) {
  utsname u{};
  uname(&u);
  const Config& cfg = server.config();
  auto uptime = (now_ms - server.start_time_ms()) / 1000;
  std::string supervised = config_value(server, "supervised");
  if (supervised == "auto") supervised = std::getenv("NOTIFY_SOCKET") ? "systemd" : "no";
  fmt::format_to(std::back_inserter(out),
                 "# Server\r\nredis_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n"
                 "redis_build_id:0\r\nredis_mode:{}\r\nos:{} {} {}\r\narch_bits:64\r\nmonotonic_clock:POSIX "
                 "clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:{}.{}.{}\r\n"
                 "process_id:{}\r\nprocess_supervised:{}\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\n"
                 "uptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\n"
                 "executable:{}\r\nconfig_file:{}\r\nio_threads_active:0\r\ndistcache_version:{}\r\n"
                 "distcache_threads:{}\r\n",
                 kRedisCompatVersion, cfg.cluster_enabled ? "cluster" : "standalone", u.sysname, u.release,
                 u.machine, __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__, getpid(), supervised, server.run_id(),
                 server.tcp_port(), now_ms * 1000, uptime, uptime / 86400, cfg.hz.load(), cfg.hz.load(),
                 (now_ms / 1000) & ((1 << 24) - 1), server.executable_path, cfg.get_string(cfg.config_file),
                 kDistcacheVersion, server.shard_count());
}

void write_clients(std::string& out, Server& server, const Snapshot& snap) {
  fmt::format_to(std::back_inserter(out),
                 "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\n"
                 "client_recent_max_input_buffer:{}\r\nclient_recent_max_output_buffer:{}\r\nblocked_clients:{}\r\n"
                 "tracking_clients:{}\r\nclients_in_timeout_table:{}\r\n",
                 server.stats().connected_clients.load(), server.config().maxclients.load(), snap.max_input_buffer,
                 snap.max_output_buffer, server.stats().blocked_clients.load(), tracking_client_states(),
                 server.stats().blocked_clients.load());
}

void write_memory(std::string& out, Server& server, const Snapshot& snap) {
  const uint64_t used = used_bytes(), rss = rss_bytes(), peak = update_peak(used);
  const uint64_t maxmemory = static_cast<uint64_t>(server.config().maxmemory.load());
  const uint64_t lua = scripting::lua_memory_bytes();
  const uint64_t sysmem = system_memory();
  const uint64_t startup = 0;
  uint64_t keys = 0, expires = 0;
  for (size_t d = 0; d < snap.dbs.keys.size(); ++d) {
    keys += snap.dbs.keys[d];
    expires += snap.dbs.expires[d];
  }
  // Overhead: client buffers and the key tables' own structures (about 16
  // bytes per slot, as Redis counts its dict entries' pointers).
  const uint64_t overhead = startup + snap.clients_memory + keys * 16 + expires * 16;
  const uint64_t dataset = used > overhead ? used - overhead : 0;
  const double frag = used ? static_cast<double>(rss) / static_cast<double>(used) : 0.0;
  fmt::format_to(
      std::back_inserter(out),
      "# Memory\r\nused_memory:{used}\r\nused_memory_human:{used_h}\r\nused_memory_rss:{rss}\r\n"
      "used_memory_rss_human:{rss_h}\r\nused_memory_peak:{peak}\r\nused_memory_peak_human:{peak_h}\r\n"
      "used_memory_peak_perc:{peak_perc:.2f}%\r\nused_memory_overhead:{overhead}\r\nused_memory_startup:{startup}\r\n"
      "used_memory_dataset:{dataset}\r\nused_memory_dataset_perc:{dataset_perc:.2f}%\r\n"
      "allocator_allocated:{used}\r\nallocator_active:{used}\r\nallocator_resident:{rss}\r\n"
      "total_system_memory:{sysmem}\r\ntotal_system_memory_human:{sysmem_h}\r\nused_memory_lua:{lua}\r\n"
      "used_memory_vm_eval:{lua}\r\nused_memory_lua_human:{lua_h}\r\nused_memory_scripts_eval:0\r\n"
      "number_of_cached_scripts:0\r\nnumber_of_functions:0\r\nnumber_of_libraries:0\r\n"
      "used_memory_vm_functions:0\r\nused_memory_vm_total:{lua}\r\nused_memory_vm_total_human:{lua_h}\r\n"
      "used_memory_functions:0\r\nused_memory_scripts:0\r\nused_memory_scripts_human:0B\r\n"
      "maxmemory:{maxmemory}\r\nmaxmemory_human:{maxmemory_h}\r\nmaxmemory_policy:{policy}\r\n"
      "allocator_frag_ratio:1.00\r\nallocator_frag_bytes:0\r\nallocator_rss_ratio:{frag:.2f}\r\n"
      "allocator_rss_bytes:{rss_extra}\r\nrss_overhead_ratio:1.00\r\nrss_overhead_bytes:0\r\n"
      "mem_fragmentation_ratio:{frag:.2f}\r\nmem_fragmentation_bytes:{frag_bytes}\r\n"
      "mem_not_counted_for_evict:{not_counted}\r\nmem_replication_backlog:0\r\nmem_total_replication_buffers:0\r\n"
      "mem_clients_slaves:0\r\nmem_clients_normal:{clients}\r\nmem_cluster_links:0\r\nmem_aof_buffer:{not_counted}\r\n"
      "mem_allocator:libc\r\nactive_defrag_running:0\r\nlazyfree_pending_objects:0\r\nlazyfreed_objects:0\r\n",
      fmt::arg("used", used), fmt::arg("used_h", human_bytes(used)), fmt::arg("rss", rss),
      fmt::arg("rss_h", human_bytes(rss)), fmt::arg("peak", peak), fmt::arg("peak_h", human_bytes(peak)),
      fmt::arg("peak_perc", peak ? 100.0 * static_cast<double>(used) / static_cast<double>(peak) : 0.0),
      fmt::arg("overhead", overhead), fmt::arg("startup", startup), fmt::arg("dataset", dataset),
      fmt::arg("dataset_perc", used ? 100.0 * static_cast<double>(dataset) / static_cast<double>(used) : 0.0),
      fmt::arg("sysmem", sysmem), fmt::arg("sysmem_h", human_bytes(sysmem)), fmt::arg("lua", lua),
      fmt::arg("lua_h", human_bytes(lua)), fmt::arg("maxmemory", maxmemory),
      fmt::arg("maxmemory_h", human_bytes(maxmemory)), fmt::arg("policy", maxmemory_policy_name()),
      fmt::arg("frag", frag), fmt::arg("rss_extra", rss > used ? rss - used : 0),
      fmt::arg("frag_bytes", static_cast<int64_t>(rss) - static_cast<int64_t>(used)),
      fmt::arg("clients", snap.clients_memory),
      fmt::arg("not_counted", memory_not_counted_for_evict()));  // the AOF's buffer (memory_limit.h)
}

void write_persistence(std::string& out, Server& server) {
  const PersistenceState& p = server.persistence();
  const bool saving = p.bgsave_in_progress.load();
  const int64_t now_s = unix_time_ms() / 1000;
  const int64_t lastsave = p.lastsave_s.load();
  fmt::format_to(std::back_inserter(out),
                 "# Persistence\r\nloading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\n"
                 "current_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\n"
                 "current_save_keys_total:0\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\n"
                 "rdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\n"
                 "rdb_current_bgsave_time_sec:{}\r\nrdb_saves:{}\r\nrdb_last_cow_size:0\r\n"
                 "rdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\n",
                 server.dirty_count() - p.dirty_at_last_save.load(), saving ? 1 : 0, lastsave,
                 p.last_bgsave_ok.load() ? "ok" : "err", p.last_bgsave_time_s.load(),
                 saving ? now_s - p.bgsave_started_ms.load() / 1000 : -1, p.saves.load(),
                 p.last_load_keys_expired.load(), p.last_load_keys_loaded.load());
  server.aof().info(out);  // aof_* and module_fork_* fields (server/aof.h)
}

void write_stats(std::string& out, Server& server, int64_t now_ms, const Snapshot& snap) {
  auto& st = server.stats();
  const uint64_t commands = server.sum_counter(&ThreadCounters::commands_processed);
  const uint64_t in = server.sum_counter(&ThreadCounters::net_input_bytes);
  const uint64_t net_out = server.sum_counter(&ThreadCounters::net_output_bytes);
  const Rates r = rates(now_ms, commands, in, net_out);
  fmt::format_to(
      std::back_inserter(out),
      "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:{}\r\n"
      "total_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ntotal_net_repl_input_bytes:0\r\n"
      "total_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:{:.2f}\r\ninstantaneous_output_kbps:{:.2f}\r\n"
      "instantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:{}\r\n"
      "sync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\nexpired_keys:{}\r\nexpired_stale_perc:0.00\r\n"
      "expired_time_cap_reached_count:0\r\nexpire_cycle_cpu_milliseconds:0\r\nevicted_keys:{}\r\n"
      "evicted_clients:{}\r\ntotal_eviction_exceeded_time:0\r\ncurrent_eviction_exceeded_time:0\r\n"
      "keyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\n"
      "pubsubshard_channels:{}\r\nlatest_fork_usec:0\r\ntotal_forks:0\r\nmigrate_cached_sockets:0\r\n"
      "slave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\n"
      "active_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\n"
      "current_active_defrag_time:0\r\ntracking_total_keys:{}\r\ntracking_total_items:{}\r\n"
      "tracking_total_prefixes:0\r\nunexpected_error_replies:0\r\ntotal_error_replies:{}\r\n"
      "dump_payload_sanitizations:0\r\ntotal_reads_processed:{}\r\ntotal_writes_processed:{}\r\n"
      "io_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\n"
      "reply_buffer_expands:0\r\n",
      st.connections_received.load(), commands, static_cast<int64_t>(r.ops), in, net_out, r.in_kbps, r.out_kbps,
      st.rejected_connections.load(), st.expired_keys.load(), evicted_keys_total(), ops::evicted_clients(),
      server.sum_counter(&ThreadCounters::keyspace_hits), server.sum_counter(&ThreadCounters::keyspace_misses),
      PubSub::of(server).distinct_names(PubSub::kChannel), PubSub::of(server).distinct_names(PubSub::kPattern),
      PubSub::of(server).distinct_names(PubSub::kShardChannel), tracking_table_keys(), tracking_table_keys(),
      stats::total_error_replies(), commands, commands);
}

void write_replication(std::string& out, Server& server) {
  fmt::format_to(std::back_inserter(out),
                 "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n"
                 "master_replid:{}\r\nmaster_replid2:0000000000000000000000000000000000000000\r\n"
                 "master_repl_offset:0\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:0\r\n"
                 "repl_backlog_size:1048576\r\nrepl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n",
                 server.run_id());
}

void write_cpu(std::string& out) {
  rusage self{}, children{}, thread{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  getrusage(RUSAGE_THREAD, &thread);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  fmt::format_to(std::back_inserter(out),
                 "# CPU\r\nused_cpu_sys:{:.6f}\r\nused_cpu_user:{:.6f}\r\nused_cpu_sys_children:{:.6f}\r\n"
                 "used_cpu_user_children:{:.6f}\r\nused_cpu_sys_main_thread:{:.6f}\r\n"
                 "used_cpu_user_main_thread:{:.6f}\r\n",
                 secs(self.ru_stime), secs(self.ru_utime), secs(children.ru_stime), secs(children.ru_utime),
                 secs(thread.ru_stime), secs(thread.ru_utime));
}

void write_cluster(std::string& out, Server& server) {
  fmt::format_to(std::back_inserter(out), "# Cluster\r\ncluster_enabled:{}\r\n",
                 server.config().cluster_enabled ? 1 : 0);
}

void write_keyspace(std::string& out, const DbCounts& counts) {
  out += "# Keyspace\r\n";
  for (size_t db = 0; db < counts.keys.size(); ++db)
    if (counts.keys[db])
      fmt::format_to(std::back_inserter(out), "db{}:keys={},expires={},avg_ttl=0\r\n", db, counts.keys[db],
                     counts.expires[db]);
}

// Section names in output order; `in_default` as Redis's INFO / INFO default.
struct SectionName {
  std::string_view name;
  bool in_default;
};
constexpr SectionName kSections[] = {
    {"server", true},       {"clients", true},      {"memory", true},       {"persistence", true},
    {"stats", true},        {"replication", true},  {"cpu", true},          {"modules", true},
    {"commandstats", false}, {"errorstats", true},  {"latencystats", false}, {"cluster", true},
    {"keyspace", true},
};

}  // namespace

void info_command(ConnectionContext& ctx) {
  std::set<std::string> wanted;
  auto add_default = [&](bool all) {
    for (const auto& s : kSections)
      if (all || s.in_default) wanted.insert(std::string(s.name));
  };
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    std::string s(ctx.args[i]);
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "default")
      add_default(false);
    else if (s == "all" || s == "everything")
      add_default(true);
    else
      wanted.insert(s);
  }
  if (ctx.args.size() == 1) add_default(false);

  Server& server = ctx.server;
  auto& reply = ctx.reply;
  int64_t now = ctx.now_ms;
  size_t databases = static_cast<size_t>(server.config().databases);
  auto per_shard = std::make_shared<std::vector<Snapshot>>(server.shard_count());
  ctx.for_each_shard_reading(
      [per_shard, databases](ShardThread& s) {
        auto& c = (*per_shard)[s.index()];
        for (size_t d = 0; d < databases; ++d) {
          c.dbs.keys.push_back(s.keyspace().db(d).size());
          c.dbs.expires.push_back(s.keyspace().db(d).expires_size());
        }
        for (auto& conn : s.connections()) {
          const uint64_t out = conn->pending_output();
          c.max_output_buffer = std::max(c.max_output_buffer, out);
          c.clients_memory += out + 16 * 1024 + 1024;
        }
      },
      [per_shard, wanted, &server, &reply, now, databases] {
        Snapshot total;
        total.dbs = DbCounts{std::vector<size_t>(databases), std::vector<size_t>(databases)};
        for (auto& c : *per_shard) {
          for (size_t d = 0; d < databases; ++d) {
            total.dbs.keys[d] += c.dbs.keys[d];
            total.dbs.expires[d] += c.dbs.expires[d];
          }
          total.max_output_buffer = std::max(total.max_output_buffer, c.max_output_buffer);
          total.clients_memory += c.clients_memory;
        }
        std::string out;
        auto section = [&](std::string_view name, auto&& write) {
          if (!wanted.count(std::string(name))) return;
          if (!out.empty()) out += "\r\n";
          write();
        };
        section("server", [&] { write_server(out, server, now); });
        section("clients", [&] { write_clients(out, server, total); });
        section("memory", [&] { write_memory(out, server, total); });
        section("persistence", [&] { write_persistence(out, server); });
        section("stats", [&] { write_stats(out, server, now, total); });
        section("replication", [&] { write_replication(out, server); });
        section("cpu", [&] { write_cpu(out); });
        section("modules", [&] { out += "# Modules\r\n"; });
        section("commandstats", [&] { stats::info_commandstats(out); });
        section("errorstats", [&] { stats::info_errorstats(out); });
        section("latencystats", [&] { stats::info_latencystats(out); });
        section("cluster", [&] { write_cluster(out, server); });
        section("keyspace", [&] { write_keyspace(out, total.dbs); });
        reply.verbatim(out);
      });
}

}  // namespace distcache::server
