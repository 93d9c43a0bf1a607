#include "server/shard_thread.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <mutex>
#include <pthread.h>

#include "server/aof.h"
#include "server/cluster/commands.h"
#include "server/commands/ops_commands.h"
#include "server/tracking.h"
#include "server/connection.h"
#include "server/event_loop.h"
#include "server/log.h"
#include "server/memory_limit.h"
#include "server/memory_release.h"
#include "server/scripting/scripting.h"
#include "server/snapshot.h"
#include "server/server.h"

namespace distcache::server {

namespace {
thread_local ShardThread* tls_current = nullptr;
}

namespace {
// A key expired (lazily or by active expiry): it is logged as DEL, and
// clients caching it are told.
void on_key_expired(const storage::Db& db, std::string_view key) {
  aof_key_expired(db, key);
  if (ShardThread* shard = ShardThread::current(); shard && tracking_wants_changes(*shard))
    tracking_key_changed(*shard, key, 0);
}
}  // namespace

ShardThread::ShardThread(Server& server, unsigned index, size_t databases)
    : server_(server),
      index_(index),
      loop_(std::make_unique<EventLoop>()),
      keyspace_(databases) {
  storage::Db::set_expire_hook(&on_key_expired);
}

ShardThread::~ShardThread() {
  stop();
  join();
}

void ShardThread::post(std::function<void()> fn) {
  // What this thread logged must reach the AOF before anything it hands over.
  if (ShardThread* self = current()) aof_flush_thread(*self);
  loop_->post(std::move(fn));
}

bool ShardThread::is_current() const { return tls_current == this; }
ShardThread* ShardThread::current() { return tls_current; }

void ShardThread::run_when(std::function<bool()> ready, std::function<void()> step) {
  // Keep FIFO order: nothing overtakes a waiter that is already queued.
  if (waiters_.empty() && ready()) {
    step();
    return;
  }
  waiters_.push_back({std::move(ready), std::move(step)});
}

void ShardThread::wake_waiters() {
  if (waking_) return;  // a step run below may release locks again; the outer loop continues
  waking_ = true;
  bool progressed = true;
  while (progressed && !waiters_.empty()) {
    progressed = false;
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->ready()) {
        auto step = std::move(it->step);
        it = waiters_.erase(it);
        step();
        progressed = true;
        break;  // the queue may have changed; rescan from the front
      }
      ++it;
    }
  }
  waking_ = false;
}

namespace {
// A script's reply conversion (lua_engine.cpp write_reply/write_table) recurses
// once per level of a nested table, up to Lua's own limit of about 8000 levels
// as in Redis (`local t = {} t[1] = t return t`); sanitizer builds' frames make
// that overflow the 8 MB default stack. Threads created from here on (shard
// threads, background savers) reserve 64 MB of address space; only the pages
// they touch use memory.
void raise_default_thread_stack() {
  static std::once_flag once;
  std::call_once(once, [] {
    constexpr size_t kStackBytes = size_t{64} << 20;
    pthread_attr_t attr;
    if (pthread_getattr_default_np(&attr) != 0) return;
    size_t size = 0;
    if (pthread_attr_getstacksize(&attr, &size) == 0 && size < kStackBytes &&
        pthread_attr_setstacksize(&attr, kStackBytes) == 0)
      pthread_setattr_default_np(&attr);
    pthread_attr_destroy(&attr);
  });
}
}  // namespace

void ShardThread::start() {
  raise_default_thread_stack();
  thread_ = std::thread([this] {
    tls_current = this;
    schedule_cron();
    loop_->run();
    tls_current = nullptr;
  });
}

void ShardThread::drain() {
  draining_ = true;
  loop_->cancel(cron_timer_);
  for (auto& c : connections()) c->close_when_flushed();
  loop_->drain();
}

void ShardThread::stop() { loop_->stop(); }

void ShardThread::join() {
  if (thread_.joinable()) thread_.join();
}

void ShardThread::add_connection(const std::shared_ptr<Connection>& c) { connections_.push_back(c); }

void ShardThread::remove_connection(Connection* c) {
  connections_.erase(std::remove_if(connections_.begin(), connections_.end(),
                                    [c](const std::weak_ptr<Connection>& w) {
                                      auto p = w.lock();
                                      return !p || p.get() == c;
                                    }),
                     connections_.end());
}

std::vector<std::shared_ptr<Connection>> ShardThread::connections() const {
  std::vector<std::shared_ptr<Connection>> out;
  out.reserve(connections_.size());
  for (const auto& w : connections_)
    if (auto p = w.lock()) out.push_back(std::move(p));
  return out;
}

// `timeout` seconds without a command closes a client (blocked clients wait
// for their own timeout instead), as Redis's clients cron does.
void ShardThread::close_idle_clients() {
  const int64_t timeout_s = server_.config().timeout.load(std::memory_order_relaxed);
  if (timeout_s <= 0 || connections_.empty()) return;
  const int64_t now = unix_time_ms();
  for (auto& c : connections())
    if (!c->is_blocked() && now - c->session().last_interaction_ms > timeout_s * 1000) c->close();
}

void ShardThread::schedule_cron() {
  int64_t hz = std::clamp<int64_t>(server_.config().hz.load(std::memory_order_relaxed), 1, 500);
  cron_timer_ = loop_->run_after(1000 / hz, [this] {
    if (draining_) return;
    cron();
    schedule_cron();
  });
}

void ShardThread::cron() {
  close_idle_clients();
  if (scripting::script_running()) scripting::busy_cron(*this);  // BUSY to waiting clients (scripting.h)
  memory_limit_cron(*this, unix_time_ms());  // LRU clock, unfinished eviction (memory_limit.h)
  memory_release_cron(unix_time_ms());  // malloc_trim after big frees (memory_release.h)
  migrate_close_idle_sockets(unix_time_ms());  // MIGRATE's cached connections (cluster/commands.h)
  // Active expiry, as Redis's "slow cycle": sample volatile keys in each
  // database and repeat while many samples were expired, within a time budget
  // of about a quarter of the cron period. Skipped while a transaction holds
  // locks here, so no locked key disappears under it.
  if (index_ == 0) check_save_points();
  // Nor while a snapshot walks this shard: a key it still has to write must
  // not vanish without being written (commands write such keys first).
  if (!locks_.empty() || snapshot_ || !active_expire_enabled()) return;  // DEBUG SET-ACTIVE-EXPIRE 0
  constexpr size_t kSamplesPerLoop = 20;
  int64_t hz = std::clamp<int64_t>(server_.config().hz.load(std::memory_order_relaxed), 1, 500);
  const int64_t budget_us = 250000 / hz;
  const int64_t start = monotonic_us();
  const int64_t now = unix_time_ms();
  uint64_t expired_total = 0;
  for (size_t d = 0; d < keyspace_.size(); ++d) {
    storage::Db& db = keyspace_.db(d);
    db.rehash_step();
    if (db.expires_size() == 0) continue;
    while (true) {
      auto stats = db.active_expire(now, kSamplesPerLoop);
      expired_total += stats.expired;
      if (stats.checked == 0 || stats.expired * 4 <= stats.checked) break;  // under 25% stale: done
      if (monotonic_us() - start > budget_us) break;
    }
    if (monotonic_us() - start > budget_us) break;
  }
  if (expired_total) server_.stats().expired_keys.fetch_add(expired_total, std::memory_order_relaxed);
}

void ShardThread::begin_snapshot(std::unique_ptr<ShardSnapshot> s) { snapshot_ = std::move(s); }

void ShardThread::end_snapshot() { snapshot_.reset(); }

void ShardThread::empty_all_databases(int64_t now_ms) {
  if (snapshot_) snapshot_->take_all();
  if (!watches_.empty())
    for (size_t db = 0; db < keyspace_.size(); ++db)
      watches_.touch_existing(static_cast<int>(db), keyspace_.db(db), now_ms);
  keyspace_.clear();
}

// `save <seconds> <changes> ...`: a BGSAVE once any pair is met, as Redis's
// serverCron; after a failed save, retried no sooner than 5 seconds later.
void ShardThread::check_save_points() {
  PersistenceState& st = server_.persistence();
  if (st.bgsave_in_progress.load()) return;
  const int64_t now_s = unix_time_ms() / 1000;
  bool start = st.bgsave_scheduled.exchange(false);
  if (!start) {
    const uint64_t changes = server_.dirty_count() - st.dirty_at_last_save.load();
    const int64_t since_save = now_s - st.lastsave_s.load();
    const bool may_retry = st.last_bgsave_ok.load() || now_s - st.bgsave_started_ms.load() / 1000 > 5;
    if (changes == 0 || !may_retry) return;
    const std::string save = server_.config().get_string(server_.config().save);
    size_t pos = 0;
    while (!start && pos < save.size()) {
      int64_t seconds = 0, min_changes = 0;
      int used = 0;
      if (std::sscanf(save.c_str() + pos, " %" SCNd64 " %" SCNd64 "%n", &seconds, &min_changes, &used) != 2) break;
      pos += static_cast<size_t>(used);
      start = changes >= static_cast<uint64_t>(min_changes) && since_save >= seconds;
    }
    if (!start) return;
    log(LogLevel::kNotice, "{} changes in {} seconds. Saving...", changes, since_save);
  }
  start_snapshot(server_, *this, [] {}, [](const SnapshotResult&) {});
}

}  // namespace distcache::server
