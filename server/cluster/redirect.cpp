#include "server/cluster/redirect.h"

#include <fmt/format.h>

#include <memory>

#include "server/cluster/cluster_state.h"
#include "server/cluster/slot.h"
#include "server/command.h"
#include "server/command_table.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/dispatcher.h"
#include "server/multi_exec.h"
#include "server/routing.h"
#include "server/script_runner.h"
#include "server/tracking.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/blocking.h"
#include "server/transaction.h"

namespace distcache::server::cluster {

Decision decide(const RouteInput& in, std::string& error) {
  ClusterState* st = state();
  if (!st || !in.has_keys) return Decision::kRun;
  std::lock_guard lock(st->mutex());
  Node* owner = st->owner(in.slot);
  if (!owner) {
    error = "CLUSTERDOWN Hash slot not served";
    return Decision::kError;
  }
  if (in.cross_slot) {
    error = "CROSSSLOT Keys in request don't hash to the same slot";
    return Decision::kError;
  }
  Node* me = st->myself();
  Node* migrating = owner == me ? st->migrating_to(in.slot) : nullptr;
  Node* importing = st->importing_from(in.slot);
  if (!st->ok()) {
    if (!st->config().cluster_allow_reads_when_down) {
      error = "CLUSTERDOWN The cluster is down";
      return Decision::kError;
    }
    if (in.is_write) {
      error = "CLUSTERDOWN The cluster is down and only accepts read commands";
      return Decision::kError;
    }
  }
  if ((migrating || importing) && in.is_migrate) return Decision::kRun;
  if (migrating) {
    if (in.missing < 0) return Decision::kNeedKeyLookup;
    if (in.missing > 0) {
      if (in.key_count > 1 && in.missing < in.key_count) {
        error = "TRYAGAIN Multiple keys request during rehashing of slot";
        return Decision::kError;
      }
      error = fmt::format("ASK {} {}", in.slot, st->address(*migrating));
      return Decision::kError;
    }
    return Decision::kRun;
  }
  if (importing && in.asking) {
    if (in.key_count > 1) {
      if (in.missing < 0) return Decision::kNeedKeyLookup;
      if (in.missing > 0) {
        error = "TRYAGAIN Multiple keys request during rehashing of slot";
        return Decision::kError;
      }
    }
    return Decision::kRun;
  }
  if (owner != me) {
    error = fmt::format("MOVED {} {}", in.slot, st->address(*owner));
    return Decision::kError;
  }
  return Decision::kRun;
}

namespace {

// EXEC: every key of every queued command must be in one slot served here
// (each was checked alone when queued). A refused EXEC discards the transaction.
bool route_exec(Connection& conn, bool asking) {
  ClientSession& session = conn.session();
  RouteInput in;
  thread_local std::vector<int> indexes;
  for (const QueuedCommand& q : session.multi->queued) {
    indexes.clear();
    extract_keys(*q.spec, q.args, indexes);
    for (int i : indexes) {
      in.add_key_slot(key_hash_slot(q.args[i]));
      if (q.spec->flags & kCmdWrite) in.is_write = true;
    }
  }
  if (!in.has_keys) return true;
  in.asking = asking;
  in.missing = 0;  // keys were looked up (ASK) when their commands were queued
  std::string error;
  if (decide(in, error) != Decision::kError) return true;
  forget_transaction_state(conn.thread().server(), session);
  conn.reply().error(error);
  return false;
}

}  // namespace

bool route_command(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args) {
  ClusterState* st = state();
  ClientSession& session = conn.session();
  if (!st) return true;
  if (session.cluster_routed) {  // re-dispatched after a key lookup
    session.cluster_routed = false;
    return true;
  }
  const bool asking = session.cluster_asking || (spec.flags & kCmdAsking);
  session.cluster_asked = asking;  // for check_on_shard, where the command runs
  // ASKING lasts for one command, or until the EXEC of a transaction it started.
  if (spec.name != "asking" && (!session.multi || spec.name == "exec" || spec.name == "discard"))
    session.cluster_asking = false;
  if (spec.name == "exec" && session.multi && !session.multi->aborted) return route_exec(conn, asking);
  if (spec.first_key <= 0 && !spec.find_keys) return true;

  thread_local std::vector<int> indexes;
  indexes.clear();
  extract_keys(spec, args, indexes);
  if (indexes.empty()) return true;
  RouteInput in;
  in.has_keys = true;
  in.slot = key_hash_slot(args[indexes[0]]);
  for (size_t i = 1; i < indexes.size(); ++i)
    if (key_hash_slot(args[indexes[i]]) != in.slot) {
      in.cross_slot = true;
      break;
    }
  // The fast path: a slot of ours, not moving, cluster up.
  if (!in.cross_slot && st->route(in.slot) == kMine && st->ok()) return true;

  in.is_write = (spec.flags & kCmdWrite) != 0;
  in.is_migrate = spec.name == "migrate";
  in.asking = asking;
  in.key_count = static_cast<int>(indexes.size());
  std::string error;
  Decision d = decide(in, error);
  if (d == Decision::kRun) return true;
  if (d == Decision::kError) {
    flag_multi_error(session);
    conn.reply().error(error);
    return false;
  }
  // Which of the keys exist? Ask the shard that owns the slot, then decide again.
  std::vector<std::string> keys;
  for (int i : indexes) keys.emplace_back(args[i]);
  Server& server = conn.thread().server();
  ShardThread& owner = server.shard(shard_of_slot(in.slot, server.shard_count()));
  ShardThread& home = conn.thread();
  if (&owner == &home) {  // our own shard: look now, and run inline with no window for a MIGRATE between
    in.missing = 0;
    const int64_t now = unix_time_ms();
    for (auto& k : keys)
      if (!home.keyspace().db(static_cast<size_t>(session.db)).find(k, now)) ++in.missing;
    d = decide(in, error);
    if (d == Decision::kRun) return true;
    flag_multi_error(session);
    conn.reply().error(d == Decision::kError ? error : "TRYAGAIN Multiple keys request during rehashing of slot");
    return false;
  }
  // A plain command whose keys all exist runs right there, in the same step as
  // the lookup, so that no MIGRATE of its keys can come in between.
  const bool direct =
      spec.keyed && !session.multi && !(spec.flags & kCmdBlocking) && !runs_script(spec) && !tracking_active();
  const CommandSpec* sp = &spec;
  const int resp = session.resp;
  auto resume = conn.suspend();
  Connection* c = &conn;
  const int db = session.db;
  owner.post([c, &owner, &home, keys = std::move(keys), db, in, sp, direct, resp,
              resume = std::move(resume)]() mutable {
    int missing = 0;
    const int64_t now = unix_time_ms();
    for (auto& k : keys)
      if (!owner.keyspace().db(static_cast<size_t>(db)).find(k, now)) ++missing;
    if (direct && missing == 0) {
      RouteInput again = in;
      again.missing = 0;
      std::string err;
      std::vector<std::string_view> names(keys.begin(), keys.end());
      const bool write = (sp->flags & kCmdWrite) != 0;
      if (decide(again, err) == Decision::kRun && !owner.locks().blocks(db, names, write)) {
        const protocol::ArgList& args = c->args();  // untouched while the connection is suspended
        std::string& out = c->remote_reply();
        out.clear();
        protocol::ReplyBuilder reply(&out, resp);
        prepare_keys_for_write(owner, *sp, args, db, names);
        ChangedKeys* changed = changed_keys_buffer(owner);
        run_keyed(*sp, args, reply, owner.keyspace(), db, unix_time_ms(), owner.server().config(), false, changed);
        touch_watched_keys(owner, changed, c->session().id);
        wake_blocked(owner, *sp, args, db, names);
        home.post([c, sp, resume = std::move(resume)]() mutable {
          ClientSession& s = c->session();
          s.last_command = sp->name;
          ++s.commands_processed;
          ThreadCounters::add(c->thread().counters().commands_processed);
          c->reply().raw(c->remote_reply());
          resume();
        });
        return;
      }
    }
    home.post([c, in, missing, resume = std::move(resume)]() mutable {
      if (c->closed()) {
        resume();
        return;
      }
      RouteInput again = in;
      again.missing = missing;
      std::string err;
      Decision d2 = decide(again, err);
      if (d2 != Decision::kRun) {
        flag_multi_error(c->session());
        c->reply().error(d2 == Decision::kError ? err : "TRYAGAIN Multiple keys request during rehashing of slot");
        resume();
        return;
      }
      c->session().cluster_routed = true;
      const uint64_t before = c->suspend_count();
      dispatch_command(*c, c->args());
      c->session().cluster_routed = false;
      if (c->suspend_count() == before) resume();
      // Otherwise the command suspended the connection again and resumes it itself;
      // our suspension is superseded (the connection stays suspended until then).
    });
  });
  return false;
}


// ---- the check where the keys are (see redirect.h)

namespace {

// The keys of one or more commands, for a decision on the owning shard.
struct KeySet {
  RouteInput in;
  std::vector<std::string> names;

  void add(const CommandSpec& spec, const protocol::ArgList& args) {
    thread_local std::vector<int> indexes;
    indexes.clear();
    if (spec.first_key <= 0 && !spec.find_keys) return;
    extract_keys(spec, args, indexes);
    for (int i : indexes) {
      in.add_key_slot(key_hash_slot(args[i]));
      names.emplace_back(args[i]);
    }
    if (spec.flags & kCmdWrite) in.is_write = true;
    if (spec.name == "migrate") in.is_migrate = true;
  }

  // On the thread owning the keys (or under locks that keep it still):
  // empty when the command may run, else the redirection.
  std::string evaluate(storage::Keyspace& keyspace, int db) const {
    ClusterState* st = state();
    if (!st || !in.has_keys) return {};
    if (!in.cross_slot && st->route(in.slot) == kMine && st->ok()) return {};
    RouteInput again = in;
    again.missing = 0;
    if (db >= 0 && static_cast<size_t>(db) < keyspace.size()) {
      const int64_t now = unix_time_ms();
      const storage::Db& d = keyspace.db(static_cast<size_t>(db));
      for (const auto& k : names)  // peek: no expired key reclaimed (this may be another thread's shard, locked)
        if (!d.peek(k, now)) ++again.missing;
    }
    std::string error;
    if (decide(again, error) == Decision::kRun) return {};
    if (error.empty()) error = "TRYAGAIN Multiple keys request during rehashing of slot";
    return error;
  }
};

}  // namespace

bool check_on_shard(const ClientSession& session, storage::Keyspace& keyspace, const CommandSpec& spec,
                    const protocol::ArgList& args, int db, protocol::ReplyBuilder& reply) {
  ClusterState* st = state();
  if (!st || (spec.first_key <= 0 && !spec.find_keys)) return true;
  {
    // The common case without building anything: a slot of ours, not moving.
    thread_local std::vector<int> indexes;
    indexes.clear();
    extract_keys(spec, args, indexes);
    if (indexes.empty()) return true;
    const unsigned slot = key_hash_slot(args[indexes[0]]);
    bool one_slot = true;
    for (size_t i = 1; i < indexes.size() && one_slot; ++i) one_slot = key_hash_slot(args[indexes[i]]) == slot;
    if (one_slot && st->route(slot) == kMine && st->ok()) return true;
  }
  KeySet keys;
  keys.add(spec, args);
  keys.in.asking = session.cluster_asked || (spec.flags & kCmdAsking);
  std::string error = keys.evaluate(keyspace, db);
  if (error.empty()) return true;
  reply.error(error);
  return false;
}

bool check_holding_all_shards(Server& server, const ClientSession& session, const CommandSpec& spec,
                              const protocol::ArgList& args, int db, protocol::ReplyBuilder& reply) {
  if (!state()) return true;
  thread_local std::vector<int> indexes;
  indexes.clear();
  if (spec.first_key <= 0 && !spec.find_keys) return true;
  extract_keys(spec, args, indexes);
  if (indexes.empty()) return true;
  const unsigned slot = key_hash_slot(args[indexes[0]]);
  ShardThread& owner = server.shard(shard_of_slot(slot, server.shard_count()));
  return check_on_shard(session, owner.keyspace(), spec, args, db, reply);
}

void guard_exec(ShardThread& home, std::vector<ShardStep>& steps, const std::vector<QueuedCommand>& queued,
                const ClientSession& session, bool runs_inline, std::string& error) {
  if (!state()) return;
  auto keys = std::make_shared<KeySet>();
  for (const QueuedCommand& q : queued)
    if (!q.spec->connection) keys->add(*q.spec, q.args);
  if (!keys->in.has_keys) return;
  keys->in.asking = session.cluster_asked;
  const int db = session.db;
  if (runs_inline) {  // on the keys' own thread, nothing else runs meanwhile
    error = keys->evaluate(home.keyspace(), db);
    return;
  }
  const unsigned owner = shard_of_slot(keys->in.slot, home.server().shard_count());
  for (ShardStep& step : steps) {
    if (step.shard != owner) continue;
    step.on_locked = [before = std::move(step.on_locked), keys, db, &error](ShardThread& shard) {
      if (before) before(shard);
      error = keys->evaluate(shard.keyspace(), db);
    };
    return;
  }
}

void redirect_blocked_clients(Server& server) {
  for (unsigned i = 0; i < server.shard_count(); ++i) {
    ShardThread& shard = server.shard(i);
    shard.post([&shard] {
      ClusterState* st = state();
      if (!st) return;
      for (auto& c : shard.connections()) {
        if (!c->is_blocked()) continue;
        std::shared_ptr<BlockedClient> blocked = c->blocked_client();  // completing it clears the connection's
        if (!blocked || blocked->keys.empty()) continue;
        const unsigned slot = key_hash_slot(blocked->keys.front().second);
        std::string error;
        {
          std::lock_guard lock(st->mutex());
          Node* owner = st->owner(slot);
          if (!st->ok())
            error = "CLUSTERDOWN The cluster is down";
          else if (!owner)
            error = "CLUSTERDOWN Hash slot not served";
          else if (owner != st->myself() && !st->importing_from(slot))
            error = fmt::format("MOVED {} {}", slot, st->address(*owner));
        }
        if (!error.empty()) unblock_client(blocked, error);
      }
    });
  }
}

}  // namespace distcache::server::cluster
