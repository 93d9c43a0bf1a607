#pragma once
// The process: configuration, the shard threads, the listening socket, and
// server-wide counters. Heavy networking headers stay in server.cpp.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/config.h"

namespace distcache::server {

class ShardThread;
class Listener;
struct ThreadCounters;

struct ServerStats {
  std::atomic<uint64_t> connections_received{0};
  std::atomic<uint64_t> rejected_connections{0};
  std::atomic<uint64_t> expired_keys{0};
  std::atomic<int64_t> connected_clients{0};
  std::atomic<int64_t> blocked_clients{0};
  std::atomic<uint64_t> dirty{0};  // changes by keyspace-wide commands (keyed writes count per thread)
};

// Snapshot state shown by INFO persistence and LASTSAVE (see snapshot.h).
struct PersistenceState {
  std::atomic<bool> bgsave_in_progress{false};
  std::atomic<bool> snapshot_running{false};  // a BGSAVE or an AOF rewrite holds the shards' snapshot slots
  std::atomic<bool> bgsave_scheduled{false};
  std::atomic<int64_t> lastsave_s{0};
  std::atomic<int64_t> bgsave_started_ms{0};
  std::atomic<bool> last_bgsave_ok{true};
  std::atomic<int64_t> last_bgsave_time_s{-1};
  std::atomic<uint64_t> saves{0};
  std::atomic<uint64_t> dirty_at_last_save{0};
  std::atomic<uint64_t> dirty_at_save_start{0};
  std::atomic<uint64_t> last_load_keys_loaded{0};
  std::atomic<uint64_t> last_load_keys_expired{0};
};

class SnapshotFile;
class Aof;

class Server {
 public:
  explicit Server(Config& config);
  ~Server();

  // Binds, starts the threads, and blocks until shutdown. Returns the exit code.
  int run();
  // Asks every thread to stop (from any thread or a signal handler context via post).
  void request_shutdown();
  // SHUTDOWN SAVE / NOSAVE override the save points for the final snapshot.
  enum class ShutdownSave { kDefault, kSave, kNoSave };
  void set_shutdown_save(ShutdownSave mode) { shutdown_save_.store(mode); }
  bool shutting_down() const { return shutting_down_.load(std::memory_order_relaxed); }

  Config& config() { return config_; }
  unsigned shard_count() const { return static_cast<unsigned>(shards_.size()); }
  ShardThread& shard(unsigned i) { return *shards_[i]; }
  ServerStats& stats() { return stats_; }
  PersistenceState& persistence() { return persistence_; }
  Aof& aof() { return *aof_; }  // the operation log (server/aof.h)
  // Writes since start: keyed writes counted per thread plus keyspace-wide ones.
  uint64_t dirty_count() const;
  // The BGSAVE in progress, if any (cancelled at shutdown).
  void set_running_snapshot(std::shared_ptr<SnapshotFile> file);
  // Sum of one ThreadCounters field over all threads.
  uint64_t sum_counter(std::atomic<uint64_t> ThreadCounters::*field) const;
  uint64_t next_client_id() { return next_client_id_.fetch_add(1, std::memory_order_relaxed); }
  int64_t start_time_ms() const { return start_time_ms_; }
  const std::string& run_id() const { return run_id_; }
  int tcp_port() const { return bound_port_; }
  std::string executable_path;

 private:
  Config& config_;
  std::vector<std::unique_ptr<ShardThread>> shards_;
  std::unique_ptr<Listener> listener_;
  bool load_dataset();
  bool save_on_shutdown() const;

  ServerStats stats_;
  PersistenceState persistence_;
  std::unique_ptr<Aof> aof_;
  std::atomic<ShutdownSave> shutdown_save_{ShutdownSave::kDefault};
  std::mutex snapshot_mutex_;
  std::shared_ptr<SnapshotFile> running_snapshot_;
  std::atomic<uint64_t> next_client_id_{1};
  std::atomic<bool> shutting_down_{false};
  int64_t start_time_ms_ = 0;
  std::string run_id_;
  int bound_port_ = 0;
  std::thread shutdown_watchdog_;
  std::function<void()> cancel_signal_wait_;  // set by run(); keeps Asio out of this header
  std::function<void(std::function<void()>)> post_to_accept_loop_;  // set by run(), same reason
  std::mutex shutdown_mutex_;
  std::condition_variable shutdown_cv_;
  bool threads_exited_ = false;
};

int64_t unix_time_ms();
int64_t monotonic_us();

}  // namespace distcache::server
