#include "server/dispatcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "server/acl/acl.h"
#include "server/acl/no_touch.h"
#include "server/aof.h"
#include "server/blocking.h"
#include "server/cluster/cluster_state.h"
#include "server/cluster/redirect.h"
#include "server/cluster/slot.h"
#include "server/disk_errors.h"
#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/connection.h"
#include "server/connection_context.h"
#include "server/memory_limit.h"
#include "server/multi_exec.h"
#include "server/ops.h"
#include "server/stats.h"
#include "server/pubsub.h"
#include "server/routing.h"
#include "server/script_runner.h"
#include "server/scripting/scripting.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/snapshot.h"
#include "server/tracking.h"
#include "server/transaction.h"

namespace distcache::server {
namespace {

// Redis prints names and arguments of rejected commands as C strings, truncated.
std::string_view truncated_c_string(std::string_view s, size_t max) {
  s = c_string_prefix(s);
  return s.substr(0, std::min(s.size(), max));
}

void reply_unknown_command(protocol::ReplyBuilder& reply, const protocol::ArgList& args) {
  std::string listed;
  for (size_t i = 1; i < args.size() && listed.size() < 128; ++i)
    fmt::format_to(std::back_inserter(listed), "'{}' ", truncated_c_string(args[i], 128 - listed.size()));
  reply.error(fmt::format("ERR unknown command '{}', with args beginning with: {}", truncated_c_string(args[0], 128),
                          listed));
}

void reply_wrong_arity(protocol::ReplyBuilder& reply, const CommandSpec& spec) {
  reply.error(fmt::format("ERR wrong number of arguments for '{}' command", spec.name));
}

void reply_unknown_subcommand(protocol::ReplyBuilder& reply, const CommandSpec& parent, std::string_view sub) {
  std::string upper(parent.name);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  reply.error(fmt::format("ERR unknown subcommand '{}'. Try {} HELP.", truncated_c_string(sub, 128), upper));
}

std::vector<std::string_view> key_names(const protocol::ArgList& args, const std::vector<KeyRef>& keys) {
  std::vector<std::string_view> names;
  names.reserve(keys.size());
  for (const auto& k : keys) names.push_back(args[k.index]);
  return names;
}

std::shared_ptr<BlockedClient> new_blocked_client(Connection& conn, const CommandSpec& spec,
                                                  const protocol::ArgList& args, int db,
                                                  const KeyedOutcome& outcome) {
  auto w = std::make_shared<BlockedClient>();
  w->conn = &conn;
  w->home = &conn.thread();
  w->spec = &spec;
  for (size_t i = 0; i < args.size(); ++i) w->owned_args.add(args[i]);
  w->args = &w->owned_args;
  w->db = db;
  w->resp = conn.session().resp;
  w->no_touch = acl::no_touch_for(conn.session(), spec);
  w->timeout_ms = outcome.timeout_ms;
  w->timeout_reply = outcome.timeout_reply;
  return w;
}

// Registers a single-shard blocked client on `owner` (its thread) under the command's keys.
void register_blocked(ShardThread& owner, const std::shared_ptr<BlockedClient>& w,
                      const std::vector<std::string_view>& names) {
  std::vector<int> indexes;
  if (names.empty() && extract_keys(*w->spec, *w->args, indexes))
    for (int i : indexes) w->keys.emplace_back(owner.index(), std::string((*w->args)[i]));
  for (auto n : names) w->keys.emplace_back(owner.index(), std::string(n));
  for (auto& [s, key] : w->keys) owner.blocking().add(w->db, key, w);
}

void run_multi_shard(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args,
                     const std::vector<KeyRef>& keys, int64_t now_ms,
                     std::shared_ptr<BlockedClient> retrying = nullptr, TrackingReader reader = {}) {
  Server& server = conn.thread().server();
  const uint64_t writer = conn.session().id;
  const bool write = (spec.flags & kCmdWrite) != 0;
  const int client_db = conn.session().db;
  const size_t databases = conn.thread().keyspace().size();

  std::vector<unsigned> shards;
  for (const auto& k : keys) shards.push_back(k.shard);
  std::sort(shards.begin(), shards.end());
  shards.erase(std::unique(shards.begin(), shards.end()), shards.end());

  // Shared between the steps: the copies per shard, and a blocked client if the command blocks.
  struct State {
    std::vector<std::vector<GatheredKey>> parts;
    std::shared_ptr<BlockedClient> blocked;
  };
  auto state = std::make_shared<State>();
  state->parts.resize(shards.size());
  std::vector<ShardStep> steps(shards.size());
  for (size_t s = 0; s < shards.size(); ++s) {
    steps[s].shard = shards[s];
    steps[s].lock.exclusive = write;
    for (const auto& k : keys) {
      if (k.shard != shards[s]) continue;
      int db = key_database(spec, args, k.index, client_db);
      if (db < 0 || static_cast<size_t>(db) >= databases) db = client_db;
      std::string name(args[k.index]);
      bool duplicate = std::any_of(steps[s].lock.keys.begin(), steps[s].lock.keys.end(),
                                   [&](const LockRequest::Key& lk) { return lk.db == db && lk.name == name; });
      if (duplicate) continue;
      steps[s].lock.keys.push_back({db, name});
      state->parts[s].push_back(GatheredKey{db, std::move(name), false, {}, storage::kNoExpiry});
    }
    steps[s].on_locked = [state, s, now_ms, no_touch = acl::no_touch_for(conn.session(), spec)](ShardThread& shard) {
      acl::ClientNoTouchScope scope(no_touch);  // CLIENT NO-TOUCH (server/acl/no_touch.h)
      gather_keys(shard.keyspace(), state->parts[s], now_ms);
    };
    steps[s].on_release = [state, s, now_ms, write, &spec, &args, client_db, reader, writer](ShardThread& shard) {
      std::vector<std::string_view> names;
      for (auto& g : state->parts[s]) names.push_back(g.name);
      if (state->blocked) {  // still under the locks: no write can come between attempt and registration
        for (auto n : names) shard.blocking().add(client_db, n, state->blocked);
        return;
      }
      if (!write) {
        if (reader) tracking_remember(shard, reader, names);
        return;
      }
      apply_gathered(shard, state->parts[s], now_ms, writer);
      // Waking blocked clients must wait until the locks are gone; post it behind the release.
      if (!shard.blocking().empty()) {
        std::vector<std::string> owned(names.begin(), names.end());
        shard.post([&shard, &spec, &args, client_db, owned = std::move(owned)] {
          std::vector<std::string_view> views(owned.begin(), owned.end());
          wake_blocked(shard, spec, args, client_db, views);
        });
      }
    };
  }

  Connection* c = &conn;
  auto body = [c, &spec, &args, state, shards, client_db, now_ms, databases, write, retrying] {
    // Run the ordinary handler over a scratch keyspace holding the copies.
    storage::Keyspace scratch(databases);
    for (auto& part : state->parts) load_gathered(scratch, part);
    ScratchKeyspaceEvents scratch_events(scratch);
    ChangedKeys changed;  // the owners' watchers are unknown here: always record
    AofBatch aof_batch;  // written to the AOF before the locks are released
    KeyedOutcome outcome;
    {
      AofBatchScope scope(aof_batch);
      outcome = run_keyed(spec, args, c->reply(), scratch, client_db, now_ms, c->thread().server().config(), true,
                          &changed);
    }
    aof_batch.write();
    if (outcome.blocked) {
      state->blocked = retrying ? retrying : new_blocked_client(*c, spec, args, client_db, outcome);
      state->blocked->multi_shard = true;
      // Its registrations, listed here on one thread: each shard's on_release
      // then only registers it there (they run concurrently). A retry keeps its list.
      if (!retrying) {
        state->blocked->keys.clear();
        for (size_t s = 0; s < state->parts.size(); ++s)
          for (const auto& g : state->parts[s]) state->blocked->keys.emplace_back(shards[s], g.name);
      }
      return;
    }
    if (!write) return;
    // Hand the results back to the owning shards (applied in on_release).
    for (auto& part : state->parts) collect_gathered(scratch, part, now_ms, changed);
  };

  std::function<void()> resume = retrying ? std::function<void()>() : conn.suspend();
  auto done = [state, retrying, resume = std::move(resume)]() mutable {
    if (!retrying) {
      if (state->blocked) {
        state->blocked->resume = std::move(resume);
        start_blocking(state->blocked);
      } else {
        resume();
      }
      return;
    }
    // A retry of a blocked client: served, or back to waiting.
    if (!state->blocked) {
      retrying->state = BlockedClient::kDone;  // its other registrations are dropped lazily
      finish_blocked(retrying, nullptr /* reply already written */, /*write_reply=*/false);
      return;
    }
    retrying->state = BlockedClient::kWaiting;
    if (retrying->timed_out) {
      int waiting = BlockedClient::kWaiting;
      if (retrying->state.compare_exchange_strong(waiting, BlockedClient::kDone)) finish_blocked(retrying, nullptr);
    } else if (retrying->wake_pending.exchange(false)) {
      int waiting = BlockedClient::kWaiting;
      if (retrying->state.compare_exchange_strong(waiting, BlockedClient::kRetrying))
        retry_multi_shard_blocked(retrying);
    }
  };
  run_shard_transaction(server, conn.thread(), std::move(steps), std::move(body), std::move(done),
                        retrying ? ClientClaim{} : scripting::busy_answerable(conn));  // BUSY while waiting
}

// Runs a command whose keys are on the connection's own shard. `names` may be
// empty (then keys are extracted only if a blocked client needs them);
// `resume` is set when the connection was suspended while waiting for locks.
void execute_on_home_shard(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args, int db,
                           int64_t now_ms, const std::vector<std::string_view>& names, std::function<void()> resume,
                           TrackingReader reader) {
  acl::ClientNoTouchScope no_touch(conn.session(), spec);  // CLIENT NO-TOUCH (server/acl/no_touch.h)
  ShardThread& home = conn.thread();
  if (cluster::state() && !cluster::check_on_shard(conn.session(), home.keyspace(), spec, args, db, conn.reply())) {
    if (resume) resume();  // MOVED/ASK decided where the keys are, as the command runs (cluster/redirect.h)
    return;
  }
  prepare_keys_for_write(home, spec, args, db, names);
  ChangedKeys* changed = changed_keys_buffer(home);
  auto outcome =
      run_keyed(spec, args, conn.reply(), home.keyspace(), db, now_ms, home.server().config(), true, changed);
  if (outcome.rerun_globally) {
    if (resume) resume();
    dispatch_global_script(conn, spec, args, now_ms);
    return;
  }
  touch_watched_keys(home, changed, conn.session().id, /*reply_done=*/!outcome.blocked);
  if (reader && !outcome.blocked && script_tracking_allowed(spec)) {
    if (names.empty())
      tracking_remember_args(home, reader, spec, args);
    else
      tracking_remember(home, reader, names);
  }
  wake_blocked(home, spec, args, db, names);
  if (outcome.blocked) {
    auto w = new_blocked_client(conn, spec, args, db, outcome);
    w->resume = resume ? std::move(resume) : conn.suspend();
    register_blocked(home, w, names);
    start_blocking(w);
  } else if (resume) {
    resume();
  }
}

void run_single_shard(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args,
                      unsigned shard_index, const std::vector<KeyRef>& keys, int64_t now_ms,
                      TrackingReader reader = {}) {
  ShardThread& home = conn.thread();
  Server& server = home.server();
  const int db = conn.session().db;
  const bool write = (spec.flags & kCmdWrite) != 0;

  if (shard_index == home.index()) {
    // The common case: no transaction holds locks here, run inline. Commands
    // without any key (SCRIPT KILL, FUNCTION STATS, ... HELP) never wait
    // either: they do not touch the keyspace, and must answer even while a
    // script holds every shard.
    if (home.locks().empty() || (spec.first_key == 0 && !spec.find_keys)) {
      execute_on_home_shard(conn, spec, args, db, now_ms, {}, nullptr, reader);
      return;
    }
    // With one thread the dispatcher skipped key extraction; locks need the keys.
    std::vector<KeyRef> extracted;
    if (keys.empty()) extracted = route_keys(spec, args, server.shard_count());
    auto names = key_names(args, keys.empty() ? extracted : keys);
    if (!home.locks().blocks(db, names, write)) {
      execute_on_home_shard(conn, spec, args, db, now_ms, names, nullptr, reader);
      return;
    }
    auto resume = conn.suspend();
    Connection* c = &conn;
    const uint64_t ticket = conn.take_wait_ticket();  // BUSY meanwhile (server/scripting/busy_clients.cpp)
    home.run_when([&home, names, db, write] { return !home.locks().blocks(db, names, write); },
                  [c, &spec, &args, db, now_ms, names, resume, reader, ticket] {
                    if (!c->claim_wait_ticket(ticket)) return;  // answered BUSY while it waited
                    execute_on_home_shard(*c, spec, args, db, now_ms, names, resume, reader);
                  });
    return;
  }

  // The keys live on another thread: run there, bring the reply bytes back.
  // The connection is suspended, so `args` stays untouched until we resume.
  // `resume` keeps the connection alive; it travels with the work and is only
  // run and destroyed on the connection's own thread.
  auto resume = conn.suspend();
  Connection* c = &conn;
  ShardThread& owner = server.shard(shard_index);
  const uint64_t ticket = conn.take_wait_ticket();  // BUSY meanwhile (server/scripting/busy_clients.cpp)
  owner.post([c, &owner, &spec, &args, db, now_ms, write, names = key_names(args, keys), resume = std::move(resume),
              &home, reader, ticket]() mutable {
    auto execute = [c, &owner, &spec, &args, db, now_ms, names, resume = std::move(resume), &home,
                    reader, ticket]() mutable {
      if (!c->claim_wait_ticket(ticket)) {  // answered BUSY while it waited: never runs
        home.post([resume = std::move(resume)] {});  // released on the connection's thread
        return;
      }
      acl::ClientNoTouchScope no_touch(c->session(), spec);  // CLIENT NO-TOUCH (server/acl/no_touch.h)
      std::string& out = c->remote_reply();
      out.clear();
      protocol::ReplyBuilder reply(&out, c->session().resp);
      if (cluster::state() && !cluster::check_on_shard(c->session(), owner.keyspace(), spec, args, db, reply)) {
        home.post([c, resume = std::move(resume)] { c->reply().raw(c->remote_reply()); resume(); });  // MOVED/ASK
        return;
      }
      prepare_keys_for_write(owner, spec, args, db, names);
      ChangedKeys* changed = changed_keys_buffer(owner);
      stats::set_current_client(&c->session());  // SLOWLOG names the client (it is suspended meanwhile)
      auto outcome =
          run_keyed(spec, args, reply, owner.keyspace(), db, now_ms, owner.server().config(), true, changed);
      stats::set_current_client(nullptr);
      if (outcome.rerun_globally) {
        home.post([c, &spec, &args, now_ms, resume = std::move(resume)] {
          resume();
          dispatch_global_script(*c, spec, args, now_ms);
        });
        return;
      }
      touch_watched_keys(owner, changed, c->session().id);
      if (reader && !outcome.blocked && script_tracking_allowed(spec)) tracking_remember(owner, reader, names);
      wake_blocked(owner, spec, args, db, names);
      if (outcome.blocked) {
        auto w = new_blocked_client(*c, spec, args, db, outcome);
        w->resume = std::move(resume);
        register_blocked(owner, w, names);
        home.post([w] { start_blocking(w); });
        return;
      }
      home.post([c, resume = std::move(resume)] {
        c->reply().raw(c->remote_reply());
        resume();
      });
    };
    owner.run_when([&owner, names, db, write] { return !owner.locks().blocks(db, names, write); },
                   std::move(execute));
  });
}

// MISCONF (server/disk_errors.h): after a failed save or log write, commands
// that may change the dataset are refused, PING too (as Redis does), and an
// EXEC whose transaction writes is discarded.
bool refuse_write_for_disk_error(Connection& conn, const CommandSpec& spec) {
  ClientSession& session = conn.session();
  const bool exec = spec.name == "exec";
  if (!(spec.flags & kCmdWrite) && spec.name != "ping" && !(exec && transaction_may_write(session))) return false;
  std::string message;
  if (!writes_refused_for_disk_error(conn.thread().server().config(), &message)) return false;
  if (exec) {
    conn.reply().error(fmt::format("EXECABORT Transaction discarded because of: {}", message));
    forget_transaction_state(conn.thread().server(), session);
  } else {
    flag_multi_error(session);
    conn.reply().error(message);
  }
  return true;
}

}  // namespace

// Database of the key at argument `index`: the client's, except for COPY's destination with DB.
int key_database(const CommandSpec& spec, const protocol::ArgList& args, int index, int client_db) {
  if (spec.name == "copy" && index == 2) {
    for (size_t i = 3; i + 1 < args.size(); ++i) {
      std::string_view a = args[i];
      if (a.size() == 2 && (a[0] == 'd' || a[0] == 'D') && (a[1] == 'b' || a[1] == 'B')) {
        int v = 0;
        std::string_view n = args[i + 1];
        if (n.empty() || n.size() > 9 || !std::all_of(n.begin(), n.end(), ::isdigit)) return client_db;
        for (char c : n) v = v * 10 + (c - '0');
        return v;
      }
    }
  }
  return client_db;
}

// After a write command ran on `shard`: wake clients blocked on its keys.
void wake_blocked(ShardThread& shard, const CommandSpec& spec, const protocol::ArgList& args, int db,
                  const std::vector<std::string_view>& names) {
  if (!(spec.flags & kCmdWrite) || shard.blocking().empty()) return;
  if (!names.empty()) {
    shard.blocking().keys_written(shard, db, names);
    return;
  }
  std::vector<int> indexes;  // the fast path did not extract keys
  if (!extract_keys(spec, args, indexes)) return;
  std::vector<std::string_view> all;
  for (int i : indexes) all.push_back(args[i]);
  shard.blocking().keys_written(shard, db, all);
}

void prepare_keys_for_write(ShardThread& shard, const CommandSpec& spec, const protocol::ArgList& args, int db,
                            const std::vector<std::string_view>& names) {
  if (spec.flags & kCmdWrite) ThreadCounters::add(shard.counters().dirty);
  if (spec.flags & kCmdWrite) evict_before_write(shard);  // maxmemory (memory_limit.h)
  ShardSnapshot* snapshot = shard.snapshot();
  if (snapshot == nullptr) return;
  // Reads count too: a read may reclaim an expired key the snapshot still needs.
  if (!names.empty()) {
    for (auto n : names) snapshot->take(db, n);
  } else {
    std::vector<int> indexes;
    if (extract_keys(spec, args, indexes))
      for (int i : indexes) snapshot->take(key_database(spec, args, i, db), args[i]);
  }
  if (spec.name == "move" && args.size() > 2) {  // the key's copy in the target database
    int64_t target;
    if (parse_int64(args[2], target) && target >= 0 && target < INT32_MAX) snapshot->take(static_cast<int>(target), args[1]);
  }
}

ChangedKeys* changed_keys_buffer(ShardThread& shard) {
  if (shard.watches().empty() && !(tracking_active() && tracking_wants_changes(shard))) return nullptr;
  thread_local ChangedKeys buffer;
  buffer.clear();
  return &buffer;
}

void touch_watched_keys(ShardThread& shard, const ChangedKeys* changed, uint64_t writer, bool reply_done) {
  if (changed == nullptr) return;
  if (!shard.watches().empty())
    for (const auto& [db, key] : *changed) shard.watches().touch(db, key);
  if (tracking_active()) tracking_keys_changed(shard, *changed, writer, reply_done);
}

void gather_keys(storage::Keyspace& shard, std::vector<GatheredKey>& keys, int64_t now_ms) {
  for (auto& g : keys) {
    storage::Db& db = shard.db(g.db);
    if (storage::Value* v = db.find(g.name, now_ms)) {
      g.present = true;
      g.value = v->clone();
      g.expire_at = db.expire_at(g.name);
    }
  }
}

void load_gathered(storage::Keyspace& scratch, std::vector<GatheredKey>& keys) {
  for (auto& g : keys) {
    if (!g.present) continue;
    scratch.db(g.db).set(g.name, std::move(g.value));
    if (g.expire_at != storage::kNoExpiry) scratch.db(g.db).set_expire(g.name, g.expire_at);
  }
}

void collect_gathered(storage::Keyspace& scratch, std::vector<GatheredKey>& keys, int64_t now_ms,
                      const ChangedKeys& changed) {
  for (auto& g : keys) {
    g.changed = std::any_of(changed.begin(), changed.end(),
                            [&g](const auto& c) { return c.first == g.db && c.second == g.name; });
    storage::Db& db = scratch.db(g.db);
    storage::Value* v = db.find(g.name, now_ms);
    g.present = v != nullptr;
    if (v) {
      g.expire_at = db.expire_at(g.name);
      g.value = std::move(*v);
    }
  }
}

void apply_gathered(ShardThread& shard, std::vector<GatheredKey>& keys, int64_t now_ms, uint64_t writer) {
  QuietKeyspaceEvents quiet;  // the command already reported its events where it ran
  ThreadCounters::add(shard.counters().dirty);
  for (auto& g : keys) {
    if (ShardSnapshot* snapshot = shard.snapshot()) snapshot->take(g.db, g.name);
    if (g.changed && !shard.watches().empty()) shard.watches().touch(g.db, g.name);
    if (g.changed && tracking_active()) tracking_key_changed(shard, g.name, writer);
    storage::Db& db = shard.keyspace().db(g.db);
    if (g.present) {
      db.set(g.name, std::move(g.value));
      if (g.expire_at != storage::kNoExpiry) db.set_expire(g.name, g.expire_at);
    } else {
      db.erase(g.name, now_ms);
    }
  }
}

void wake_blocked_after_release(Server& server, std::vector<WrittenKey> written) {
  std::map<unsigned, std::vector<WrittenKey>> by_shard;
  for (auto& w : written) by_shard[w.shard].push_back(std::move(w));
  for (auto& [index, keys] : by_shard) {
    ShardThread& shard = server.shard(index);
    auto wake = [&shard, keys = std::move(keys)] {
      if (shard.blocking().empty()) return;
      for (const auto& k : keys) shard.blocking().keys_written(shard, k.db, {std::string_view(k.name)});
    };
    if (shard.is_current())
      wake();
    else
      shard.post(std::move(wake));
  }
}

std::vector<KeyRef> route_keys(const CommandSpec& spec, const protocol::ArgList& args, unsigned shard_count) {
  thread_local std::vector<int> key_indexes;
  key_indexes.clear();
  std::vector<KeyRef> keys;
  if (extract_keys(spec, args, key_indexes)) {
    keys.reserve(key_indexes.size());
    for (int i : key_indexes) keys.push_back({shard_of_key(args[i], shard_count), i});
  }
  return keys;
}


KeyedOutcome run_keyed(const CommandSpec& spec, const protocol::ArgList& args, protocol::ReplyBuilder& reply,
                       storage::Keyspace& keyspace, int db, int64_t now_ms, const Config& config, bool may_block,
                       ChangedKeys* changed) {
  CommandContext ctx{args, reply, keyspace, db, now_ms, config};
  ctx.may_block = may_block;
  ctx.changed_keys = changed;
  AofCommand aof(spec, args, keyspace, db, reply);
  stats::CallTimer timer(spec, args, reply.buffer());  // commandstats, slowlog, latency (server/stats.h)
  const bool counting = std::exchange(storage::lookup_stats::counting, !(spec.flags & kCmdWrite));
  spec.keyed(ctx);
  storage::lookup_stats::counting = counting;  // (a script's redis.call runs nested in here)
  if (!ctx.rerun_globally) timer.finish(config);  // (an abandoned script run is counted when it reruns)
  if ((storage::lookup_stats::hits | storage::lookup_stats::misses) != 0) {
    if (ShardThread* thread = ShardThread::current()) {
      ThreadCounters::add(thread->counters().keyspace_hits, std::exchange(storage::lookup_stats::hits, 0));
      ThreadCounters::add(thread->counters().keyspace_misses, std::exchange(storage::lookup_stats::misses, 0));
    }
  }
  aof.done(ctx);
  KeyedOutcome outcome;
  outcome.rerun_globally = ctx.rerun_globally;
  if (ctx.blocked) {
    outcome.blocked = true;
    outcome.timeout_ms = ctx.block_timeout_ms;
    outcome.timeout_reply = ctx.timeout_reply;
  }
  return outcome;
}

void retry_multi_shard_blocked(const std::shared_ptr<BlockedClient>& client) {
  Connection& conn = *client->conn;
  if (conn.closed()) {
    client->state = BlockedClient::kDone;
    return;
  }
  auto keys = route_keys(*client->spec, *client->args, conn.thread().server().shard_count());
  run_multi_shard(conn, *client->spec, *client->args, keys, unix_time_ms(), client);
}

void dispatch_command(Connection& conn, const protocol::ArgList& args) {
  protocol::ReplyBuilder& reply = conn.reply();
  ClientSession& session = conn.session();
  const CommandSpec* spec = acl::lookup_command(args[0]);  // CommandTable::find, with rename-command
  if (!spec) {
    flag_multi_error(session);
    reply_unknown_command(reply, args);
    return;
  }
  // Container commands (CONFIG, CLIENT...) dispatch on their subcommand; one
  // that also works alone (COMMAND) has a handler of its own.
  if (!spec->subcommands.empty() && (args.size() >= 2 || !spec->connection)) {
    if (args.size() < 2) {
      flag_multi_error(session);
      reply_wrong_arity(reply, *spec);
      return;
    }
    const CommandSpec* sub = CommandTable::find_subcommand(*spec, args[1]);
    if (!sub) {
      flag_multi_error(session);
      reply_unknown_subcommand(reply, *spec, args[1]);
      return;
    }
    spec = sub;
  }
  if (!arity_ok(*spec, args.size())) {
    if (spec->name == "exec") {  // Redis: a rejected EXEC is reported (and discards) as EXECABORT
      reply.error(fmt::format("EXECABORT Transaction discarded because of: wrong number of arguments for '{}' command",
                              spec->name));
      forget_transaction_state(conn.thread().server(), session);
      return;
    }
    flag_multi_error(session);
    reply_wrong_arity(reply, *spec);
    return;
  }
  if (!session.authenticated && !(spec->flags & kCmdNoAuth) && !acl::default_user_nopass()) {
    flag_multi_error(session);
    reply.error("NOAUTH Authentication required.");
    return;
  }
  if (!acl::permit(conn, session, *spec, args)) {  // NOPERM + ACL LOG (server/acl/acl.h)
    flag_multi_error(session);
    return;
  }
  // Cluster mode: MOVED/ASK/CROSSSLOT/CLUSTERDOWN (server/cluster/redirect.h).
  if (cluster::state() && !cluster::route_command(conn, *spec, args)) return;
  if (memory_limit_refuses(conn, *spec, args)) return;  // OOM under maxmemory (memory_limit.h)
  if (disk_errors_seen() && refuse_write_for_disk_error(conn, *spec)) return;
  // A script running longer than busy-reply-threshold: other clients get BUSY
  // (those on the script's own thread too: server/scripting/busy_clients.cpp).
  if (scripting::busy_refuses(*spec, args, conn.thread().server().config())) {
    if (spec->name == "exec") {  // Redis: a rejected EXEC discards the transaction
      reply.error(fmt::format("EXECABORT Transaction discarded because of: {}", scripting::busy_error()));
      forget_transaction_state(conn.thread().server(), session);
      return;
    }
    flag_multi_error(session);
    reply.error(scripting::busy_error());
    return;
  }
  if (!pubsub_command_allowed(session, *spec, reply)) return;
  if (session.multi && queue_in_multi(conn, *spec, args)) return;
  ops::feed_monitors(conn, *spec, args);

  Server& server = conn.thread().server();
  session.last_command = spec->name;
  ++session.commands_processed;
  ThreadCounters::add(conn.thread().counters().commands_processed);
  const int64_t now_ms = stats::command_time_ms();
  TrackingReader reader;
  if (tracking_active()) reader = tracking_before_command(conn, *spec);
  if (tracking_active() && runs_script(*spec)) reader = script_tracking_reader(conn);  // script_runner.h

  if (spec->connection) {
    ConnectionContext ctx(args, reply, session, server, conn.thread(), *spec, now_ms, conn);
    if (tracking_active() && (spec->name == "flushall" || spec->name == "flushdb")) {
      // Tracking clients learn of the flush once it is done (before the client resumes).
      Connection* c = &conn;
      ctx.suspend_override = [c] {
        return std::function<void()>([c, resume = c->suspend()]() mutable {
          tracking_flush(c->thread().server(), c->thread(), c->session().id, std::move(resume));
        });
      };
    }
    stats::CallTimer timer(*spec, args, reply.buffer());
    acl::ClientNoTouchScope no_touch(session, *spec);  // CLIENT NO-TOUCH (server/acl/no_touch.h)
    spec->connection(ctx);
    timer.finish(server.config());
    return;
  }

  // A keyed command: find the shards of its keys.
  const unsigned shard_count = server.shard_count();
  if (shard_count == 1) {
    run_single_shard(conn, *spec, args, 0, {}, now_ms, reader);
    return;
  }
  std::vector<KeyRef> keys = route_keys(*spec, args, shard_count);
  if (runs_script(*spec)) {
    const unsigned owner = keys.empty() ? conn.thread().index() : keys.front().shard;
    const bool one_shard =
        std::all_of(keys.begin(), keys.end(), [owner](const KeyRef& k) { return k.shard == owner; });
    if (!script_may_run_on_one_shard(*spec, args, one_shard)) {
      dispatch_global_script(conn, *spec, args, now_ms);
      return;
    }
  }
  if (keys.empty()) {
    run_single_shard(conn, *spec, args, conn.thread().index(), keys, now_ms, reader);
    return;
  }
  unsigned first = keys.front().shard;
  bool single = std::all_of(keys.begin(), keys.end(), [first](const KeyRef& k) { return k.shard == first; });
  if (single)
    run_single_shard(conn, *spec, args, first, keys, now_ms, reader);
  else
    run_multi_shard(conn, *spec, args, keys, now_ms, nullptr, reader);
}

}  // namespace distcache::server
