#include "server/multi_exec.h"
#include "server/ops.h"
#include "server/stats.h"
#include "server/tracking.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <set>

#include "server/acl/acl.h"
#include "server/acl/no_touch.h"
#include "server/aof.h"
#include "server/cluster/redirect.h"
#include "server/cluster/slot.h"
#include "server/command.h"
#include "server/commands/arg_util.h"
#include "server/connection.h"
#include "server/connection_context.h"
#include "server/dispatcher.h"
#include "server/pubsub.h"
#include "server/routing.h"
#include "server/script_runner.h"
#include "server/scripting/scripting.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/transaction.h"
#include "server/watch.h"

namespace distcache::server {
namespace {

bool acts_at_once_in_multi(const CommandSpec& spec) {
  return spec.name == "exec" || spec.name == "discard" || spec.name == "multi" || spec.name == "watch" ||
         spec.name == "quit" || spec.name == "reset";
}

// Connection-level commands that finish synchronously and touch no key: they
// may run inside EXEC's lock-free fast path.
bool is_simple_connection_command(const CommandSpec& spec) {
  return spec.name == "select" || spec.name == "ping" || spec.name == "echo" || spec.name == "time";
}

// Commands over the whole keyspace (FLUSHALL, DBSIZE, KEYS, SWAPDB...) need
// every shard; so does SORT, whose BY/GET patterns may name any key.
bool is_keyspace_wide(const CommandSpec& spec) {
  return spec.connection && ((spec.acl & kAclKeyspace) || spec.name == "sort" || spec.name == "sort_ro");
}

// The database SELECT switches to, or -1 if it will fail.
int selected_database(const protocol::ArgList& args, int databases) {
  int64_t index;
  if (!parse_int64(args[1], index) || index < 0 || index >= databases) return -1;
  return static_cast<int>(index);
}

void unregister_watch(Server& server, std::shared_ptr<WatchState> watch) {
  if (!watch) return;
  std::set<unsigned> shards;
  for (const auto& k : watch->keys) shards.insert(k.shard);
  for (unsigned s : shards) {
    ShardThread& shard = server.shard(s);
    auto drop = [&shard, watch, s] {
      for (const auto& k : watch->keys)
        if (k.shard == s) shard.watches().remove(k.db, k.name, watch.get());
    };
    if (shard.is_current())
      drop();
    else
      shard.post(std::move(drop));
  }
}

// One EXEC in progress. Commands run one after another; each may finish
// inline or later (on another thread), and then the next one starts.
// The CLIENT TRACKING reader of a queued command: a script tracks its
// declared keys as Redis does (server/script_runner.h), others when read-only.
TrackingReader queued_tracking_reader(Connection& conn, const CommandSpec& spec) {
  if (!tracking_active()) return {};
  return runs_script(spec) ? script_tracking_reader(conn) : tracking_reader_for(conn, spec);
}

class ExecRun : public std::enable_shared_from_this<ExecRun> {
 public:
  ExecRun(ConnectionContext& ctx, std::shared_ptr<MultiState> multi, std::shared_ptr<WatchState> watch)
      : conn_(std::static_pointer_cast<Connection>(ctx.connection().shared_from_this())),
        server_(ctx.server),
        home_(ctx.thread),
        multi_(std::move(multi)),
        watch_(std::move(watch)),
        now_ms_(ctx.now_ms) {}

  void start(ConnectionContext& ctx) {
    std::vector<ShardStep> steps;
    const bool runs_inline = plan(steps);
    if (cluster::state())  // MOVED/ASK decided under the locks (server/cluster/redirect.h)
      cluster::guard_exec(home_, steps, multi_->queued, conn_->session(), runs_inline, cluster_error_);
    if (runs_inline) {  // inline: nothing else can run on this thread meanwhile
      run_body();
      return;
    }
    resume_ = ctx.suspend();
    holds_all_shards_ = whole_keyspace_;
    auto self = shared_from_this();
    // `done` holds this run weakly: the run holds `release_`, which holds the
    // transaction, which holds `done`. The run is alive whenever `done` is
    // called (from inside finish()); if the body never ends (SHUTDOWN stopped
    // the threads mid-EXEC) nothing is left owning itself at exit.
    run_shard_transaction_async(
        server_, home_, std::move(steps),
        [self](ReleaseFn release) {
          self->release_ = std::move(release);
          self->run_body();
        },
        [weak = weak_from_this()] {
          if (auto run = weak.lock()) run->after_release();
        },
        scripting::busy_answerable(*conn_, [self] { self->after_busy_answer(); }));  // BUSY while waiting
  }

 private:
  // Builds the lock steps; returns true when EXEC can run inline instead.
  bool plan(std::vector<ShardStep>& steps) {
    const unsigned shard_count = server_.shard_count();
    const int databases = static_cast<int>(home_.keyspace().size());
    std::map<unsigned, LockRequest> locks;
    std::map<unsigned, std::set<std::pair<int, std::string>>> seen;
    auto lock_key = [&](unsigned shard, int db, std::string_view name, bool write) {
      LockRequest& req = locks[shard];
      req.exclusive |= write;
      if (seen[shard].emplace(db, std::string(name)).second) req.keys.push_back({db, std::string(name)});
    };

    bool inline_ok = true;
    int db = conn_->session().db;
    for (const auto& q : multi_->queued) {
      const CommandSpec& spec = *q.spec;
      if (spec.connection) {
        if (spec.name == "select") {
          int next = selected_database(q.args, databases);
          if (next >= 0) db = next;
        }
        if (is_keyspace_wide(spec)) whole_keyspace_ = true;
        if (!is_simple_connection_command(spec)) inline_ok = false;
        continue;
      }
      if (shard_count > 1 && runs_script(spec)) {  // may touch any key: see script_runner.h
        whole_keyspace_ = true;
        continue;
      }
      const bool write = (spec.flags & kCmdWrite) != 0;
      for (const auto& k : route_keys(spec, q.args, shard_count))
        lock_key(k.shard, key_database(spec, q.args, k.index, db), q.args[k.index], write);
    }
    if (watch_)
      for (const auto& k : watch_->keys) lock_key(k.shard, k.db, k.name, false);

    if (whole_keyspace_) {
      for (unsigned s = 0; s < shard_count; ++s) {
        ShardStep step;
        step.shard = s;
        step.lock.whole_shard = true;
        step.lock.exclusive = true;
        steps.push_back(std::move(step));
      }
      return false;
    }
    for (auto& [shard, req] : locks) {
      if (shard != home_.index()) inline_ok = false;
      ShardStep step;
      step.shard = shard;
      step.lock = std::move(req);
      steps.push_back(std::move(step));
    }
    return inline_ok && home_.locks().empty();
  }

  void run_body() {
    protocol::ReplyBuilder& reply = conn_->reply();
    if (!cluster_error_.empty()) {  // the transaction's keys left (or are leaving) this node
      reply.error(cluster_error_);
      finish();
      return;
    }
    if (watch_ && (watch_->touched.load(std::memory_order_relaxed) || watch_->expired_since_watch(now_ms_))) {
      reply.null_array();
      finish();
      return;
    }
    reply.array(multi_->queued.size());
    advance();
  }

  // Runs queued commands until one has to wait for another thread.
  void advance() {
    while (next_ < multi_->queued.size()) {
      completed_inline_ = false;
      in_command_ = true;
      run_command(multi_->queued[next_++]);
      in_command_ = false;
      if (!completed_inline_) return;  // command_done() continues later
    }
    finish();
  }

  void command_done() {
    if (in_command_) {
      completed_inline_ = true;
      return;
    }
    advance();
  }

  void run_command(QueuedCommand& q) {
    if (!acl_checks_.permit(*conn_, *q.spec, q.args)) {  // ACL rules may have changed since MULTI (server/acl/acl.h)
      command_done();
      return;
    }
    ops::feed_monitors(*conn_, *q.spec, q.args);  // MONITOR (server/ops.h)
    acl::ClientNoTouchScope no_touch(conn_->session(), *q.spec);  // CLIENT NO-TOUCH (server/acl/no_touch.h)
    if (q.spec->connection) {
      run_connection_command(q);
      return;
    }
    const CommandSpec& spec = *q.spec;
    const int db = conn_->session().db;
    if (server_.shard_count() > 1 && runs_script(spec)) {  // EXEC holds every shard (see plan())
      bool read_something = false;
      {
        AofBatchScope aof_scope(aof_batch_);
        run_script_holding_all_shards(home_, spec, q.args, conn_->reply(), db, now_ms_, written_, &read_something);
      }
      if (read_something && tracking_active())
        remember_script_keys(server_, queued_tracking_reader(*conn_, spec), spec, q.args);
      command_done();
      return;
    }
    auto keys = route_keys(spec, q.args, server_.shard_count());
    if (spec.flags & kCmdWrite)
      for (const auto& k : keys)
        written_.push_back({k.shard, key_database(spec, q.args, k.index, db), std::string(q.args[k.index])});

    const unsigned owner = keys.empty() ? home_.index() : keys.front().shard;
    const bool single = std::all_of(keys.begin(), keys.end(), [owner](const KeyRef& k) { return k.shard == owner; });
    if (!single) {
      run_over_shards(q, keys, db);
      return;
    }
    ShardThread& shard = server_.shard(owner);
    if (&shard == &home_) {
      prepare_keys_for_write(home_, spec, q.args, db, {});
      ChangedKeys* changed = changed_keys_buffer(home_);
      {
        AofBatchScope aof_scope(aof_batch_);
        run_keyed(spec, q.args, conn_->reply(), home_.keyspace(), db, now_ms_, server_.config(), /*may_block=*/false,
                changed);
      }
      touch_watched_keys(home_, changed, conn_->session().id);
      if (tracking_active() && script_tracking_allowed(spec))
        tracking_remember_args(home_, queued_tracking_reader(*conn_, spec), spec, q.args);
      command_done();
      return;
    }
    auto self = shared_from_this();
    const int resp = conn_->session().resp;
    const TrackingReader reader = queued_tracking_reader(*conn_, spec);
    const uint64_t writer = conn_->session().id;
    shard.post([self, &shard, &q, db, resp, reader, writer] {
      acl::ClientNoTouchScope no_touch(self->conn_->session(), *q.spec);  // CLIENT NO-TOUCH (server/acl/no_touch.h)
      self->remote_out_.clear();
      protocol::ReplyBuilder reply(&self->remote_out_, resp);
      prepare_keys_for_write(shard, *q.spec, q.args, db, {});
      ChangedKeys* changed = changed_keys_buffer(shard);
      {
        AofBatchScope aof_scope(self->aof_batch_);
        run_keyed(*q.spec, q.args, reply, shard.keyspace(), db, self->now_ms_, self->server_.config(), false, changed);
      }
      touch_watched_keys(shard, changed, writer);
      if (script_tracking_allowed(*q.spec)) tracking_remember_args(shard, reader, *q.spec, q.args);
      self->home_.post([self] {
        self->conn_->reply().raw(self->remote_out_);
        self->command_done();
      });
    });
  }

  // A command over keys of several shards: copies of its keys come here, it
  // runs over a scratch keyspace, and the results go back (as for a plain
  // multi-shard command, but under the locks EXEC already holds).
  void run_over_shards(QueuedCommand& q, const std::vector<KeyRef>& keys, int db) {
    struct Gather {
      std::map<unsigned, std::vector<GatheredKey>> parts;
      std::atomic<size_t> remaining{0};
    };
    auto gather = std::make_shared<Gather>();
    std::set<std::pair<int, std::string>> seen;
    for (const auto& k : keys) {
      int key_db = key_database(*q.spec, q.args, k.index, db);
      if (key_db < 0 || static_cast<size_t>(key_db) >= home_.keyspace().size()) key_db = db;
      if (!seen.emplace(key_db, std::string(q.args[k.index])).second) continue;
      gather->parts[k.shard].push_back(GatheredKey{key_db, std::string(q.args[k.index])});
    }
    gather->remaining = gather->parts.size();
    auto self = shared_from_this();
    auto run = [self, gather, &q, db] {
      const int64_t now = self->now_ms_;
      storage::Keyspace scratch(self->home_.keyspace().size());
      for (auto& [shard, part] : gather->parts) load_gathered(scratch, part);
      ScratchKeyspaceEvents scratch_events(scratch);
      ChangedKeys changed;
      {
        AofBatchScope aof_scope(self->aof_batch_);
        run_keyed(*q.spec, q.args, self->conn_->reply(), scratch, db, now, self->server_.config(), false, &changed);
      }
      if (q.spec->flags & kCmdWrite) {
        for (auto& [index, part] : gather->parts) {
          collect_gathered(scratch, part, now, changed);
          ShardThread& shard = self->server_.shard(index);
          auto apply = [gather, &shard, index = index, now] { apply_gathered(shard, gather->parts[index], now); };
          if (&shard == &self->home_)
            apply();
          else
            shard.post(std::move(apply));
        }
      }
      self->command_done();
    };
    for (auto& [index, part] : gather->parts) {
      ShardThread& shard = server_.shard(index);
      auto collect = [self, gather, &shard, index = index, run, &q] {  // (a structured binding: clang needs the init-capture)
        acl::ClientNoTouchScope no_touch(self->conn_->session(), *q.spec);  // CLIENT NO-TOUCH (server/acl/no_touch.h)
        gather_keys(shard.keyspace(), gather->parts[index], self->now_ms_);
        if (gather->remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
        if (&shard == &self->home_)
          run();
        else
          self->home_.post(run);
      };
      if (&shard == &home_)
        collect();
      else
        shard.post(std::move(collect));
    }
  }

  void run_connection_command(QueuedCommand& q) {
    auto self = shared_from_this();
    bool suspended = false;
    const size_t mark = conn_->reply().buffer()->size();
    const int db = conn_->session().db;
    ConnectionContext ctx(q.args, conn_->reply(), conn_->session(), server_, home_, *q.spec, now_ms_, *conn_);
    ctx.holds_all_shards = holds_all_shards_;
    ctx.suspend_override = [self, &suspended, &q, mark, db] {
      suspended = true;
      return std::function<void()>([self, &q, mark, db] {
        self->log_connection_command(q, mark, db);
        self->command_done();
      });
    };
    stats::CallTimer timer(*q.spec, q.args, conn_->reply().buffer());  // commandstats (server/stats.h)
    q.spec->connection(ctx);
    timer.finish(server_.config());
    if (!suspended) {
      log_connection_command(q, mark, db);
      command_done();
    }
  }

  // FLUSHALL, FLUSHDB, SWAPDB inside EXEC: into the transaction's AOF unit.
  void log_connection_command(QueuedCommand& q, size_t mark, int db) {
    if (!(q.spec->flags & kCmdWrite) || q.spec->name == "sort") return;  // SORT logs its STORE itself
    const std::string& out = *conn_->reply().buffer();
    if (out.size() > mark && out[mark] == '-') return;
    aof_batch_.add_command(db, q.args);
  }

  void finish() {
    ops::feed_monitors_exec_done(*conn_);  // MONITOR shows EXEC after its commands (server/ops.h)
    aof_batch_.write();  // the transaction's commands, before its locks are released
    if (release_) {
      auto release = std::move(release_);
      release();  // unlocks every shard, then runs after_release()
    } else {
      after_release();
    }
  }

  // Answered EXECABORT (BUSY) while waiting for locks: nothing ran, the connection already resumed.
  void after_busy_answer() {
    unregister_watch(server_, std::move(watch_));
    resume_ = nullptr;
  }

  // Clients blocked on keys the transaction wrote are served now, after it.
  void after_release() {
    wake_blocked_after_release(server_, std::move(written_));
    unregister_watch(server_, std::move(watch_));
    if (resume_) {
      auto resume = std::move(resume_);
      resume();
    }
  }

  std::shared_ptr<Connection> conn_;
  Server& server_;
  ShardThread& home_;
  std::shared_ptr<MultiState> multi_;
  std::shared_ptr<WatchState> watch_;
  const int64_t now_ms_;  // one clock for the whole transaction, as Redis 7
  bool whole_keyspace_ = false;
  bool holds_all_shards_ = false;
  std::string cluster_error_;  // set by cluster::guard_exec: a redirection instead of running
  size_t next_ = 0;
  bool in_command_ = false;
  bool completed_inline_ = false;
  std::string remote_out_;
  AofBatch aof_batch_;
  std::vector<WrittenKey> written_;  // keys the transaction wrote
  ReleaseFn release_;
  std::function<void()> resume_;
  acl::ExecChecks acl_checks_;  // ACL re-checks and redis.call()'s caller (server/acl/acl.h)
};

}  // namespace

bool queue_in_multi(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args) {
  MultiState* multi = conn.session().multi.get();
  if (!multi || acts_at_once_in_multi(spec)) return false;
  if (spec.flags & kCmdNoMulti) {
    multi->aborted = true;
    conn.reply().error("ERR Command not allowed inside a transaction");
    return true;
  }
  QueuedCommand& q = multi->queued.emplace_back(QueuedCommand{&spec, {}});
  q.args.reserve(args.size());
  for (size_t i = 0; i < args.size(); ++i) q.args.add(args[i]);
  conn.reply().simple("QUEUED");
  return true;
}

bool transaction_may_write(const ClientSession& session) {
  if (!session.multi) return false;
  const auto& queued = session.multi->queued;
  return std::any_of(queued.begin(), queued.end(),
                     [](const QueuedCommand& q) { return (q.spec->flags & kCmdWrite) != 0; });
}

void flag_multi_error(ClientSession& session) {
  if (session.multi) session.multi->aborted = true;
}

void forget_transaction_state(Server& server, ClientSession& session) {
  session.multi.reset();
  unregister_watch(server, std::move(session.watch));
  session.watch.reset();
}

void multi_command(ConnectionContext& ctx) {
  if (ctx.session.multi) {
    ctx.reply.error("ERR MULTI calls can not be nested");
    return;
  }
  ctx.session.multi = std::make_shared<MultiState>();
  ctx.reply.ok();
}

void discard_command(ConnectionContext& ctx) {
  if (!ctx.session.multi) {
    ctx.reply.error("ERR DISCARD without MULTI");
    return;
  }
  forget_transaction_state(ctx.server, ctx.session);
  ctx.reply.ok();
}

void exec_command(ConnectionContext& ctx) {
  if (!ctx.session.multi) {
    ctx.reply.error("ERR EXEC without MULTI");
    return;
  }
  auto multi = std::move(ctx.session.multi);
  auto watch = std::move(ctx.session.watch);
  ctx.session.multi.reset();
  ctx.session.watch.reset();
  if (multi->aborted) {
    unregister_watch(ctx.server, std::move(watch));
    ctx.reply.error("EXECABORT Transaction discarded because of previous errors.");
    return;
  }
  std::make_shared<ExecRun>(ctx, std::move(multi), std::move(watch))->start(ctx);
}

void watch_command(ConnectionContext& ctx) {
  if (ctx.session.multi) {
    ctx.reply.error("ERR WATCH inside MULTI is not allowed");
    return;
  }
  if (!ctx.session.watch) ctx.session.watch = std::make_shared<WatchState>();
  auto watch = ctx.session.watch;
  const int db = ctx.session.db;
  const unsigned shard_count = ctx.server.shard_count();

  // Keys not watched yet; each owner registers its own and records their expiry.
  auto fresh = std::make_shared<std::vector<WatchState::Key>>();
  bool all_home = true;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    std::string_view name = ctx.args[i];
    if (watch->watching(db, name) ||
        std::any_of(fresh->begin(), fresh->end(), [&](const WatchState::Key& k) { return k.name == name; }))
      continue;
    unsigned shard = shard_of_key(name, shard_count);
    all_home &= shard == ctx.thread.index();
    fresh->push_back({shard, db, std::string(name), storage::kNoExpiry});
  }
  const int64_t now_ms = ctx.now_ms;
  auto register_on = [fresh, watch, now_ms](ShardThread& shard) {
    for (auto& k : *fresh) {
      if (k.shard != shard.index()) continue;
      shard.watches().add(k.db, k.name, watch);
      const storage::Db& contents = shard.keyspace().db(k.db);
      if (contents.peek(k.name, now_ms)) k.expire_at = contents.expire_at(k.name);
    }
  };
  auto& reply = ctx.reply;
  auto finish = [fresh, watch, &reply] {
    watch->keys.insert(watch->keys.end(), fresh->begin(), fresh->end());
    reply.ok();
  };
  if (all_home) {
    register_on(ctx.thread);
    finish();
  } else {
    ctx.for_each_shard(register_on, finish);
  }
}

void unwatch_command(ConnectionContext& ctx) {
  unregister_watch(ctx.server, std::move(ctx.session.watch));
  ctx.session.watch.reset();
  ctx.reply.ok();
}

}  // namespace distcache::server
