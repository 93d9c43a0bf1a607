#pragma once
// One event-loop thread: it owns one shard of the keyspace (its slice of every
// database) and the client connections assigned to it. Other threads reach
// the shard only by posting closures to this thread's queue.
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "server/blocking.h"
#include "server/key_locks.h"
#include "server/watch.h"
#include "storage/keyspace.h"

namespace distcache::server {

class EventLoop;
class Server;
class Connection;
class ShardSnapshot;

// Counters that only their own thread writes: plain load+store, no locked
// instruction on the hot path. INFO reads them from other threads.
struct ThreadCounters {
  std::atomic<uint64_t> commands_processed{0};
  std::atomic<uint64_t> net_input_bytes{0};
  std::atomic<uint64_t> net_output_bytes{0};
  std::atomic<uint64_t> dirty{0};  // write commands run on this thread (save points)
  std::atomic<uint64_t> keyspace_hits{0};    // key lookups of read commands (storage::lookup_stats)
  std::atomic<uint64_t> keyspace_misses{0};
  static void add(std::atomic<uint64_t>& counter, uint64_t n = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void reset() {
    commands_processed.store(0, std::memory_order_relaxed);
    net_input_bytes.store(0, std::memory_order_relaxed);
    net_output_bytes.store(0, std::memory_order_relaxed);
    keyspace_hits.store(0, std::memory_order_relaxed);
    keyspace_misses.store(0, std::memory_order_relaxed);
  }
};

class ShardThread {
 public:
  ShardThread(Server& server, unsigned index, size_t databases);
  ~ShardThread();
  ShardThread(const ShardThread&) = delete;
  ShardThread& operator=(const ShardThread&) = delete;

  unsigned index() const { return index_; }
  Server& server() { return server_; }
  storage::Keyspace& keyspace() { return keyspace_; }
  KeyLocks& locks() { return locks_; }
  BlockingRegistry& blocking() { return blocking_; }
  WatchRegistry& watches() { return watches_; }
  // The running BGSAVE's part on this shard, or null (see snapshot.h).
  ShardSnapshot* snapshot() { return snapshot_.get(); }
  void begin_snapshot(std::unique_ptr<ShardSnapshot> s);
  void end_snapshot();
  // Empties every database of this shard as FLUSHALL does: a running
  // snapshot writes the keys it still owes first, WATCHers see them change.
  void empty_all_databases(int64_t now_ms);
  ThreadCounters& counters() { return counters_; }
  EventLoop& loop() { return *loop_; }

  // Runs `fn` on this thread, in FIFO order with everything else posted here.
  void post(std::function<void()> fn);
  bool is_current() const;
  static ShardThread* current();

  // Runs `step` now if `ready()` holds, else once it does (checked whenever a
  // transaction releases locks on this shard). Steps that wait run in FIFO order.
  void run_when(std::function<bool()> ready, std::function<void()> step);
  // Called after locks were released: runs the waiting steps that became ready.
  void wake_waiters();

  // Starts the thread (the event loop runs until stop()).
  void start();
  // Graceful end: stop the cron, close idle connections, let pending replies
  // finish writing; the loop returns once nothing is left to do.
  void drain();
  // Forced end: the loop returns now.
  void stop();
  void join();

  // Connections living on this thread (for CLIENT LIST/KILL, shutdown).
  void add_connection(const std::shared_ptr<Connection>& c);
  void remove_connection(Connection* c);
  std::vector<std::shared_ptr<Connection>> connections() const;

 private:
  void schedule_cron();
  void cron();
  void check_save_points();
  void close_idle_clients();

  Server& server_;
  unsigned index_;
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
  storage::Keyspace keyspace_;
  KeyLocks locks_;
  BlockingRegistry blocking_;
  WatchRegistry watches_;
  std::unique_ptr<ShardSnapshot> snapshot_;
  ThreadCounters counters_;
  struct Waiter {
    std::function<bool()> ready;
    std::function<void()> step;
  };
  std::deque<Waiter> waiters_;
  bool waking_ = false;
  bool draining_ = false;
  uint64_t cron_timer_ = 0;  // EventLoop::TimerId
  std::vector<std::weak_ptr<Connection>> connections_;
};

}  // namespace distcache::server
