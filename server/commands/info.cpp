#include "server/commands/info.h"

#include <malloc.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "server/commands/arg_util.h"
#include "server/config.h"
#include "server/connection_context.h"
#include "server/aof.h"
#include "server/pubsub_registry.h"
#include "server/server.h"
#include "server/shard_thread.h"
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

uint64_t heap_bytes() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

struct DbCounts {
  std::vector<size_t> keys, expires;
};

void write_server(std::string& out, Server& server, int64_t now_ms) {
  utsname u{};
  uname(&u);
  const Config& cfg = server.config();
  auto uptime = (now_ms - server.start_time_ms()) / 1000;
  fmt::format_to(std::back_inserter(out),
                 "# Server\r\nredis_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n"
                 "redis_build_id:0\r\nredis_mode:{}\r\nos:{} {} {}\r\narch_bits:64\r\nmonotonic_clock:POSIX "
                 "clock_gettime\r\nmultiplexing_api:epoll\r\natomicvar_api:c11-builtin\r\ngcc_version:{}.{}.{}\r\n"
                 "process_id:{}\r\nprocess_supervised:no\r\nrun_id:{}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\n"
                 "uptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\n"
                 "executable:{}\r\nconfig_file:{}\r\nio_threads_active:0\r\ndistcache_version:{}\r\n"
                 "distcache_threads:{}\r\n",
                 kRedisCompatVersion, cfg.cluster_enabled ? "cluster" : "standalone", u.sysname, u.release,
                 u.machine, __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__, getpid(), server.run_id(),
                 server.tcp_port(), now_ms * 1000, uptime, uptime / 86400, cfg.hz.load(), cfg.hz.load(),
                 (now_ms / 1000) & ((1 << 24) - 1), server.executable_path, cfg.config_file, kDistcacheVersion,
                 server.shard_count());
}

void write_clients(std::string& out, Server& server) {
  fmt::format_to(std::back_inserter(out),
                 "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\n"
                 "client_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:{}\r\n"
                 "tracking_clients:0\r\nclients_in_timeout_table:0\r\n",
                 server.stats().connected_clients.load(), server.config().maxclients.load(),
                 server.stats().blocked_clients.load());
}

void write_memory(std::string& out, Server& server) {
  uint64_t used = heap_bytes(), rss = rss_bytes();
  uint64_t maxmemory = static_cast<uint64_t>(server.config().maxmemory.load());
  fmt::format_to(std::back_inserter(out),
                 "# Memory\r\nused_memory:{}\r\nused_memory_human:{}\r\nused_memory_rss:{}\r\n"
                 "used_memory_rss_human:{}\r\nused_memory_peak:{}\r\nused_memory_peak_human:{}\r\n"
                 "maxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:noeviction\r\n"
                 "mem_fragmentation_ratio:{:.2f}\r\nmem_allocator:libc\r\n",
                 used, human_bytes(used), rss, human_bytes(rss), used, human_bytes(used), maxmemory,
                 human_bytes(maxmemory), used ? static_cast<double>(rss) / static_cast<double>(used) : 0.0);
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
                 server.dirty_count() - p.dirty_at_last_save.load(), saving ? 1 : 0,
                 lastsave, p.last_bgsave_ok.load() ? "ok" : "err",
                 p.last_bgsave_time_s.load(), saving ? now_s - p.bgsave_started_ms.load() / 1000 : -1,
                 p.saves.load(), p.last_load_keys_expired.load(), p.last_load_keys_loaded.load());
  server.aof().info(out);  // aof_* fields (server/aof.h)
}

void write_stats(std::string& out, Server& server, int64_t now_ms) {
  auto& st = server.stats();
  fmt::format_to(std::back_inserter(out),
                 "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\n"
                 "total_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\n"
                 "expired_keys:{}\r\nevicted_keys:0\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\n"
                 "pubsubshard_channels:{}\r\n",
                 st.connections_received.load(), server.sum_counter(&ThreadCounters::commands_processed),
                 server.sum_counter(&ThreadCounters::net_input_bytes),
                 server.sum_counter(&ThreadCounters::net_output_bytes), st.rejected_connections.load(),
                 st.expired_keys.load(), PubSub::of(server).distinct_names(PubSub::kChannel),
                 PubSub::of(server).distinct_names(PubSub::kPattern),
                 PubSub::of(server).distinct_names(PubSub::kShardChannel));
}

void write_replication(std::string& out, Server& server) {
  fmt::format_to(std::back_inserter(out),
                 "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n"
                 "master_replid:{}\r\nmaster_repl_offset:0\r\nrepl_backlog_active:0\r\n",
                 server.run_id());
}

void write_cpu(std::string& out) {
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  fmt::format_to(std::back_inserter(out),
                 "# CPU\r\nused_cpu_sys:{:.6f}\r\nused_cpu_user:{:.6f}\r\nused_cpu_sys_children:{:.6f}\r\n"
                 "used_cpu_user_children:{:.6f}\r\n",
                 secs(self.ru_stime), secs(self.ru_utime), secs(children.ru_stime), secs(children.ru_utime));
}

void write_keyspace(std::string& out, const DbCounts& counts) {
  out += "# Keyspace\r\n";
  for (size_t db = 0; db < counts.keys.size(); ++db)
    if (counts.keys[db])
      fmt::format_to(std::back_inserter(out), "db{}:keys={},expires={},avg_ttl=0\r\n", db, counts.keys[db],
                     counts.expires[db]);
}

}  // namespace

void info_command(ConnectionContext& ctx) {
  static const std::vector<std::string> kDefault = {"server",      "clients", "memory", "persistence", "stats",
                                                    "replication", "cpu",     "keyspace"};
  std::set<std::string> wanted;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    std::string s(ctx.args[i]);
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "default" || s == "all" || s == "everything")
      wanted.insert(kDefault.begin(), kDefault.end());
    else
      wanted.insert(s);
  }
  if (ctx.args.size() == 1) wanted.insert(kDefault.begin(), kDefault.end());

  Server& server = ctx.server;
  auto& reply = ctx.reply;
  int64_t now = ctx.now_ms;
  size_t databases = static_cast<size_t>(server.config().databases);
  auto per_shard = std::make_shared<std::vector<DbCounts>>(server.shard_count());
  ctx.for_each_shard(
      [per_shard, databases](ShardThread& s) {
        auto& c = (*per_shard)[s.index()];
        for (size_t d = 0; d < databases; ++d) {
          c.keys.push_back(s.keyspace().db(d).size());
          c.expires.push_back(s.keyspace().db(d).expires_size());
        }
      },
      [per_shard, wanted, &server, &reply, now, databases] {
        DbCounts total{std::vector<size_t>(databases), std::vector<size_t>(databases)};
        for (auto& c : *per_shard)
          for (size_t d = 0; d < databases; ++d) {
            total.keys[d] += c.keys[d];
            total.expires[d] += c.expires[d];
          }
        std::string out;
        auto section = [&](std::string_view name, auto&& write) {
          if (!wanted.count(std::string(name))) return;
          if (!out.empty()) out += "\r\n";
          write();
        };
        section("server", [&] { write_server(out, server, now); });
        section("clients", [&] { write_clients(out, server); });
        section("memory", [&] { write_memory(out, server); });
        section("persistence", [&] { write_persistence(out, server); });
        section("stats", [&] { write_stats(out, server, now); });
        section("replication", [&] { write_replication(out, server); });
        section("cpu", [&] { write_cpu(out); });
        section("keyspace", [&] { write_keyspace(out, total); });
        reply.verbatim(out);
      });
}

}  // namespace distcache::server
