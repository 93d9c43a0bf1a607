#include "server/script_runner.h"

#include <algorithm>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>

#include "server/cluster/redirect.h"
#include "server/cluster/slot.h"
#include "server/acl/no_touch.h"
#include "server/aof.h"
#include "server/command_table.h"
#include "server/connection.h"
#include "server/dispatcher.h"
#include "server/pubsub.h"
#include "server/routing.h"
#include "server/scripting/scripting.h"
#include "server/scripting/sha1.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/snapshot.h"
#include "server/stats.h"
#include "server/transaction.h"

namespace distcache::server {
namespace {

using scripting::KeyspaceScriptHost;

bool is_fcall(const CommandSpec& spec) { return spec.name == "fcall" || spec.name == "fcall_ro"; }
bool by_sha(const CommandSpec& spec) { return spec.name == "evalsha" || spec.name == "evalsha_ro"; }

void run_with_host(const CommandSpec& spec, CommandContext& ctx, KeyspaceScriptHost& host) {
  const bool read_only = (spec.flags & kCmdReadonly) != 0;
  if (is_fcall(spec))
    scripting::run_fcall(ctx, host, read_only);
  else
    scripting::run_eval(ctx, host, by_sha(spec), read_only);
}

// --- what each script was seen to do, process-wide.
// A script is named by its SHA1 (EVAL: of the body) or "f:" + function name.
std::string script_identity(const CommandSpec& spec, const protocol::ArgList& args) {
  if (args.size() < 2) return {};
  if (is_fcall(spec)) return "f:" + std::string(args[1]);
  std::string id;
  if (by_sha(spec)) {
    id.assign(args[1]);
    for (auto& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return id;
  }
  scripting::Sha1 sha;
  sha.update(args[1].data(), args[1].size());
  static constexpr char kHex[] = "0123456789abcdef";
  for (uint8_t b : sha.finish()) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 15]);
  }
  return id;
}

class ScriptKnowledge {
 public:
  bool keeps_to_declared_keys(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it = declared_only_.find(id);
    return it != declared_only_.end() && it->second;
  }
  void learn(const std::string& id, bool declared_only) {
    if (id.empty()) return;
    std::lock_guard lock(mutex_);
    if (declared_only_.size() > 100000) declared_only_.clear();  // SCRIPT FLUSH-like bound
    auto [it, inserted] = declared_only_.emplace(id, declared_only);
    if (!inserted) it->second = it->second && declared_only;  // one stray makes it global for good
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, bool> declared_only_;
};

ScriptKnowledge& knowledge() {
  static ScriptKnowledge k;
  return k;
}

std::set<std::pair<int, std::string>> declared_keys(const CommandSpec& spec, const protocol::ArgList& args, int db) {
  std::set<std::pair<int, std::string>> keys;
  std::vector<int> indexes;
  if (extract_keys(spec, args, indexes))
    for (int i : indexes) keys.emplace(db, std::string(args[i]));
  return keys;
}

// Runs `fn` on `shard`'s thread and waits for it. Only a global script does
// this, while it holds every shard's lock: the other threads never wait for
// this one, so the wait always ends.
template <typename Fn>
void run_on_and_wait(ShardThread& shard, Fn&& fn) {
  std::promise<void> done;
  auto finished = done.get_future();
  shard.post([&fn, &done, no_touch = storage::access::t_no_touch] {
    acl::ClientNoTouchScope scope(no_touch);  // the caller's CLIENT NO-TOUCH (server/acl/no_touch.h)
    fn();
    done.set_value();
  });
  finished.wait();
}

// Runs commands on the shard's own keyspace (the shard of the declared keys).
class ShardScriptHost final : public KeyspaceScriptHost {
 public:
  ShardScriptHost(CommandContext& ctx, ShardThread& shard, std::set<std::pair<int, std::string>> declared)
      : KeyspaceScriptHost(ctx), shard_(shard), declared_(std::move(declared)) {
    record_written_keys(true);
  }

  bool key_available(int db, std::string_view key) override {
    const unsigned shards = shard_.server().shard_count();
    if (shards > 1 && shard_of_key(key, shards) != shard_.index()) {
      strayed_ = true;
      if (!has_written()) abandoned_ = true;  // nothing happened yet: run again globally
      return false;
    }
    ++keys_seen_;
    if (!declared_.count({db, std::string(key)})) undeclared_ = true;
    if (ShardSnapshot* snapshot = shard_.snapshot()) snapshot->take(db, key);
    return true;
  }

  std::string unavailable_key_error(int, std::string_view key) override {
    return "ERR Script accessed the undeclared key '" + std::string(key) +
           "' of another thread after keeping to its declared keys before; it will run as a global "
           "transaction from now on, run it again";
  }

  // After the script: watchers of what it wrote fail, blocked clients are served.
  void finish() {
    if (written_keys().empty()) return;
    ThreadCounters::add(shard_.counters().dirty, written_keys().size());
    for (const auto& [db, key] : written_keys()) shard_.watches().touch(db, key);
    if (shard_.blocking().empty()) return;
    for (const auto& [db, key] : written_keys()) shard_.blocking().keys_written(shard_, db, {std::string_view(key)});
  }

  bool used_undeclared_keys() const { return undeclared_ || strayed_; }
  bool abandoned() const { return abandoned_; }
  size_t keys_seen() const { return keys_seen_; }

 private:
  ShardThread& shard_;
  std::set<std::pair<int, std::string>> declared_;
  bool undeclared_ = false;
  bool strayed_ = false;
  bool abandoned_ = false;
  size_t keys_seen_ = 0;
};

// Runs each command on the thread that owns its keys while the script holds
// every shard (see the header).
class GlobalScriptHost final : public KeyspaceScriptHost {
 public:
  GlobalScriptHost(CommandContext& ctx, ShardThread& home, std::set<std::pair<int, std::string>> declared,
                   std::vector<WrittenKey>& written)
      : KeyspaceScriptHost(ctx), home_(home), server_(home.server()), declared_(std::move(declared)),
        written_(written) {}

  bool key_available(int db, std::string_view key) override {
    if (!declared_.count({db, std::string(key)})) undeclared_ = true;
    ++keys_seen_;
    return true;
  }
  size_t keys_seen() const { return keys_seen_; }

  void execute_keyed(const CommandSpec& spec, const protocol::ArgList& args, protocol::ReplyBuilder& out) override {
    const int db = this->db();
    const int64_t now_ms = ctx_.now_ms;
    const Config& config = ctx_.config;
    auto keys = route_keys(spec, args, server_.shard_count());
    if (spec.flags & kCmdWrite)
      for (const auto& k : keys)
        written_.push_back({k.shard, key_database(spec, args, k.index, db), std::string(args[k.index])});

    const unsigned owner = keys.empty() ? home_.index() : keys.front().shard;
    const bool single = std::all_of(keys.begin(), keys.end(), [owner](const KeyRef& k) { return k.shard == owner; });
    auto run_on = [&](ShardThread& shard, protocol::ReplyBuilder& reply) {
      prepare_keys_for_write(shard, spec, args, db, {});
      ChangedKeys* changed = changed_keys_buffer(shard);
      {
        AofBatchScope aof_scope(*aof_batch);
        run_keyed(spec, args, reply, shard.keyspace(), db, now_ms, config, /*may_block=*/false, changed);
      }
      touch_watched_keys(shard, changed);
    };
    if (single) {
      ShardThread& shard = server_.shard(owner);
      if (&shard == &home_) {
        run_on(home_, out);
        return;
      }
      std::string bytes;
      run_on_and_wait(shard, [&] {
        protocol::ReplyBuilder reply(&bytes, out.resp());
        run_on(shard, reply);
      });
      out.raw(bytes);
      return;
    }
    // Keys on several shards: copies come here, the command runs on them, results go back.
    std::map<unsigned, std::vector<GatheredKey>> parts;
    std::set<std::pair<int, std::string>> seen;
    for (const auto& k : keys) {
      const int key_db = key_database(spec, args, k.index, db);
      if (seen.emplace(key_db, std::string(args[k.index])).second)
        parts[k.shard].push_back(GatheredKey{key_db, std::string(args[k.index])});
    }
    for (auto& [index, part] : parts) {
      ShardThread& shard = server_.shard(index);
      if (&shard == &home_)
        gather_keys(shard.keyspace(), part, now_ms);
      else
        run_on_and_wait(shard, [&, &p = part] { gather_keys(shard.keyspace(), p, now_ms); });
    }
    storage::Keyspace scratch(home_.keyspace().size());
    for (auto& [index, part] : parts) load_gathered(scratch, part);
    ScratchKeyspaceEvents scratch_events(scratch);
    ChangedKeys changed;
    {
      AofBatchScope aof_scope(*aof_batch);
      run_keyed(spec, args, out, scratch, db, now_ms, config, /*may_block=*/false, &changed);
    }
    if (!(spec.flags & kCmdWrite)) return;
    for (auto& [index, part] : parts) {
      collect_gathered(scratch, part, now_ms, changed);
      ShardThread& shard = server_.shard(index);
      if (&shard == &home_)
        apply_gathered(shard, part, now_ms);
      else
        run_on_and_wait(shard, [&, &p = part] { apply_gathered(shard, p, now_ms); });
    }
  }

  bool used_undeclared_keys() const { return undeclared_; }
  AofBatch* aof_batch = nullptr;  // the script's commands, one AOF unit

 private:
  ShardThread& home_;
  Server& server_;
  std::set<std::pair<int, std::string>> declared_;
  std::vector<WrittenKey>& written_;
  bool undeclared_ = false;
  size_t keys_seen_ = 0;
};

}  // namespace

bool runs_script(const CommandSpec& spec) {
  return spec.name == "eval" || spec.name == "evalsha" || spec.name == "eval_ro" || spec.name == "evalsha_ro" ||
         spec.name == "fcall" || spec.name == "fcall_ro";
}

bool script_may_run_on_one_shard(const CommandSpec& spec, const protocol::ArgList& args, bool keys_on_one_shard) {
  return keys_on_one_shard && knowledge().keeps_to_declared_keys(script_identity(spec, args));
}

void run_script_holding_all_shards(ShardThread& home, const CommandSpec& spec, const protocol::ArgList& args,
                                   protocol::ReplyBuilder& reply, int db, int64_t now_ms,
                                   std::vector<WrittenKey>& written, bool* read_something) {
  CommandContext ctx{args, reply, home.keyspace(), db, now_ms, home.server().config()};
  ctx.may_block = false;
  GlobalScriptHost host(ctx, home, declared_keys(spec, args, db), written);
  AofBatch own_batch;  // inside EXEC: EXEC's unit
  host.aof_batch = aof_current_batch() ? aof_current_batch() : &own_batch;
  {
    AofBatchScope aof_scope(*host.aof_batch);
    stats::CallTimer timer(spec, args, reply.buffer());  // commandstats, slowlog (server/stats.h)
    run_with_host(spec, ctx, host);
    timer.finish(ctx.config);
  }
  // Ended by SHUTDOWN before completing: nothing of it is logged (inside
  // EXEC, nothing of the transaction either).
  if (host.stopped_by_shutdown()) host.aof_batch->discard();
  own_batch.write();  // before the caller releases the locks
  if (read_something) *read_something = host.has_read();
  // Only a run that reached keys teaches anything (not, say, a NOSCRIPT error).
  if (host.keys_seen() > 0 || host.used_undeclared_keys())
    knowledge().learn(script_identity(spec, args), !host.used_undeclared_keys());
}

void dispatch_global_script(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args,
                            int64_t now_ms) {
  Server& server = conn.thread().server();
  std::vector<ShardStep> steps(server.shard_count());
  for (unsigned i = 0; i < steps.size(); ++i) {
    steps[i].shard = i;
    steps[i].lock.whole_shard = true;
    steps[i].lock.exclusive = true;
  }
  Connection* c = &conn;
  const int db = conn.session().db;
  auto written = std::make_shared<std::vector<WrittenKey>>();
  auto read_something = std::make_shared<bool>(false);
  // CLIENT TRACKING: the declared keys, remembered on their shards if the script read anything.
  if (TrackingReader reader = tracking_active() ? script_tracking_reader(conn) : TrackingReader{}) {
    std::vector<int> indexes;
    if (extract_keys(spec, args, indexes)) {
      auto by_shard = std::make_shared<std::vector<std::vector<std::string>>>(steps.size());
      for (int i : indexes) (*by_shard)[shard_of_key(args[i], server.shard_count())].emplace_back(args[i]);
      for (unsigned i = 0; i < steps.size(); ++i) {
        if ((*by_shard)[i].empty()) continue;
        steps[i].on_release = [by_shard, read_something, reader, i](ShardThread& shard) {
          if (!*read_something) return;
          std::vector<std::string_view> names((*by_shard)[i].begin(), (*by_shard)[i].end());
          tracking_remember(shard, reader, names);
        };
      }
    }
  }
  auto body = [c, &spec, &args, db, now_ms, written, read_something] {
    if (cluster::state() &&  // MOVED/ASK decided under the locks (server/cluster/redirect.h)
        !cluster::check_holding_all_shards(c->thread().server(), c->session(), spec, args, db, c->reply()))
      return;
    acl::ClientNoTouchScope no_touch(c->session(), spec);  // CLIENT NO-TOUCH (server/acl/no_touch.h)
    run_script_holding_all_shards(c->thread(), spec, args, c->reply(), db, now_ms, *written, read_something.get());
  };
  auto resume = conn.suspend();
  auto done = [&server, written, resume = std::move(resume)] {
    wake_blocked_after_release(server, std::move(*written));
    resume();
  };
  // Answered BUSY while waiting for the shards (another script runs past
  // busy-reply-threshold): it never runs.
  run_shard_transaction(server, conn.thread(), std::move(steps), std::move(body), std::move(done),
                        scripting::busy_answerable(conn));
}

namespace {
thread_local bool last_script_read = true;  // script_tracking_allowed()
}  // namespace

TrackingReader script_tracking_reader(Connection& conn) {
  // tracking_reader_for() looks only at the command's read-only flag: a
  // script is treated as a read (whether it read anything is known later).
  static const CommandSpec kScriptRead{.name = "eval", .arity = -3, .flags = kCmdReadonly, .acl = 0};
  return tracking_reader_for(conn, kScriptRead);
}

bool script_tracking_allowed(const CommandSpec& spec) { return !runs_script(spec) || last_script_read; }

void remember_script_keys(Server& server, const TrackingReader& reader, const CommandSpec& spec,
                          const protocol::ArgList& args) {
  std::vector<int> indexes;
  if (!reader || !extract_keys(spec, args, indexes)) return;
  std::vector<std::vector<std::string>> by_shard(server.shard_count());
  for (int i : indexes) by_shard[shard_of_key(args[i], server.shard_count())].emplace_back(args[i]);
  for (unsigned i = 0; i < by_shard.size(); ++i) {
    if (by_shard[i].empty()) continue;
    ShardThread& shard = server.shard(i);
    shard.post([&shard, reader, names = std::move(by_shard[i])] {
      std::vector<std::string_view> views(names.begin(), names.end());
      tracking_remember(shard, reader, views);
    });
  }
}

void run_script_command(CommandContext& ctx) {
  const CommandSpec& spec = *CommandTable::instance().find(ctx.args[0]);
  ShardThread* shard = ShardThread::current();
  if (shard == nullptr || &ctx.dbs != &shard->keyspace()) {  // unit tests, or copies gathered for us
    KeyspaceScriptHost host(ctx);
    run_with_host(spec, ctx, host);
    if (host.stopped_by_shutdown()) aof_drop_running_command_effects();  // unfinished: never logged
    last_script_read = host.has_read();
    return;
  }
  ShardScriptHost host(ctx, *shard, declared_keys(spec, ctx.args, ctx.db_index));
  const size_t reply_mark = ctx.reply.buffer()->size();
  run_with_host(spec, ctx, host);
  if (host.stopped_by_shutdown()) aof_drop_running_command_effects();  // unfinished: never logged
  last_script_read = host.has_read();
  if (host.used_undeclared_keys()) knowledge().learn(script_identity(spec, ctx.args), false);
  if (host.abandoned()) {  // it stepped onto another shard's key before writing: no trace, run globally
    ctx.reply.buffer()->resize(reply_mark);
    ctx.rerun_globally = true;
    return;
  }
  host.finish();
}

}  // namespace distcache::server
