#include "server/debug_reload.h"

#include <memory>
#include <string>
#include <vector>

#include "server/commands/arg_util.h"
#include "server/connection_context.h"
#include "server/log.h"
#include "server/scripting/scripting.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/snapshot.h"
#include "server/transaction.h"

namespace distcache::server {
namespace {

struct ReloadOptions {
  bool save = true;
  bool flush = true;
  bool merge = false;  // a loaded key replaces one already present
};

// Shared by the steps of the reload transaction. Each field is written by
// one step and read by later ones; the lock handoffs order them.
struct ReloadState {
  ReloadOptions options;
  std::unique_ptr<SequentialSnapshot> snapshot;
  bool saved = true;
  std::vector<SnapshotLoadResult> loads;  // one slot per shard
};

// How one shard is reloaded, on its own thread, before its lock is released:
// emptied (watchers of its keys see them change, a running BGSAVE writes
// them out first) and refilled with its own keys of the file.
void reload_shard(Server& server, ShardThread& shard, ReloadState& state, int64_t now_ms) {
  if (!state.saved) return;
  if (state.options.flush) shard.empty_all_databases(now_ms);
  state.loads[shard.index()] = load_snapshot_into_shard(server, shard, state.options.merge);
}

}  // namespace

void debug_reload(ConnectionContext& ctx) {
  auto state = std::make_shared<ReloadState>();
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    if (is_option(ctx.args[i], "merge")) {
      state->options.merge = true;
    } else if (is_option(ctx.args[i], "noflush")) {
      state->options.flush = false;
    } else if (is_option(ctx.args[i], "nosave")) {
      state->options.save = false;
    } else {
      ctx.reply.error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
      return;
    }
  }
  if (ctx.holds_all_shards) {  // inside EXEC, which already holds every shard
    ctx.reply.error("ERR DEBUG RELOAD is not supported inside MULTI/EXEC");
    return;
  }
  Server& server = ctx.server;
  state->loads.resize(server.shard_count());
  if (state->options.save) state->snapshot = std::make_unique<SequentialSnapshot>(server);

  const int64_t now_ms = ctx.now_ms;
  std::vector<ShardStep> steps(server.shard_count());
  for (unsigned i = 0; i < steps.size(); ++i) {
    steps[i].shard = i;
    steps[i].lock.whole_shard = true;
    steps[i].lock.exclusive = true;
    steps[i].on_locked = [state](ShardThread& shard) {
      if (state->snapshot) state->snapshot->write_shard(shard);
    };
    steps[i].on_release = [&server, state, now_ms](ShardThread& shard) {
      reload_shard(server, shard, *state, now_ms);
    };
  }
  auto body = [state](ReleaseFn release) {
    if (state->snapshot) {
      SnapshotResult r = state->snapshot->finish();
      state->saved = r.ok;
      if (!r.ok) log(LogLevel::kWarning, "DEBUG RELOAD: saving the DB failed: {}", r.error);
    }
    // Function libraries are emptied with the data and come back from the file
    // (loaded by shard 0's loader).
    if (state->saved && state->options.flush) scripting::function_flush();
    release();
  };
  auto& reply = ctx.reply;
  auto done = [&reply, state, resume = ctx.suspend()] {
    if (!state->saved) {
      reply.error("ERR");
    } else {
      bool ok = true;
      for (const SnapshotLoadResult& r : state->loads) {
        if (!r.ok && ok) log(LogLevel::kWarning, "DEBUG RELOAD: loading the DB failed: {}", r.error);
        ok = ok && r.ok;
      }
      if (ok) {
        log(LogLevel::kWarning, "DB reloaded by DEBUG RELOAD");
        reply.ok();
      } else {
        reply.error("ERR Error trying to load the RDB dump, check server logs.");
      }
    }
    resume();
  };
  run_shard_transaction_async(server, ctx.thread, std::move(steps), std::move(body), std::move(done));
}

}  // namespace distcache::server
