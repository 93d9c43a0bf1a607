#include "server/connection_context.h"

#include <atomic>

#include "server/command.h"
#include "server/connection.h"
#include "server/scripting/scripting.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/transaction.h"

namespace distcache::server {

std::function<void()> ConnectionContext::suspend() {
  return suspend_override ? suspend_override() : connection_.suspend();
}

std::function<bool()> ConnectionContext::busy_claim() {
  if (suspend_override || holds_all_shards || (spec.flags & kCmdAllowBusy)) return {};
  return scripting::busy_answerable(connection_).claim;
}

namespace {

// One visit of every shard by a connection command (for_each_shard*). Lives
// on until the last shard's step and the reply on the client's thread are done.
struct FanOut : std::enable_shared_from_this<FanOut> {
  FanOut(Server& s, ShardThread& h) : server(s), home(h) {}

  Server& server;
  ShardThread& home;
  std::atomic<unsigned> remaining{0};
  std::function<void(ShardThread&)> on_shard;
  std::function<void()> then;
  std::function<void()> resume;
  std::function<bool()> claim;  // false: the client was answered BUSY meanwhile

  // Runs on_shard (or, when only `reaching`, nothing) on every shard's
  // thread, then continues on the client's thread once all of them did.
  void visit(bool reaching) {
    remaining = server.shard_count();
    auto self = shared_from_this();
    for (unsigned i = 0; i < server.shard_count(); ++i) {
      ShardThread& shard = server.shard(i);
      auto work = [self, &shard, reaching] {
        if (!reaching) self->on_shard(shard);
        if (self->remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
        auto next = [self, reaching] {
          if (!self->claimed()) return;
          if (reaching)
            self->visit(false);
          else
            self->finish();
        };
        if (&shard == &self->home)
          next();
        else
          self->home.post(std::move(next));
      };
      if (&shard == &home)
        work();
      else
        shard.post(std::move(work));
    }
  }

  // On the client's thread: false when busy mode answered (and resumed) the client.
  bool claimed() {
    if (claim && !claim()) {
      std::function<void()>().swap(resume);  // dropped uncalled, on the client's thread
      return false;
    }
    claim = nullptr;  // a claim is taken once: busy mode can no longer answer
    return true;
  }

  void finish() {
    then();
    auto done = std::move(resume);  // release the connection on its own thread
    done();
  }
};

}  // namespace

void ConnectionContext::for_each_shard(std::function<void(ShardThread&)> on_shard, std::function<void()> then) {
  fan_out(std::move(on_shard), std::move(then), true);
}

void ConnectionContext::for_each_shard_reading(std::function<void(ShardThread&)> on_shard,
                                               std::function<void()> then) {
  fan_out(std::move(on_shard), std::move(then), false);
}

void ConnectionContext::fan_out(std::function<void(ShardThread&)> on_shard, std::function<void()> then,
                                bool changes) {
  auto state = std::make_shared<FanOut>(server, thread);
  state->on_shard = std::move(on_shard);
  state->then = std::move(then);
  state->resume = suspend();
  state->claim = busy_claim();
  // A command that changes shards reaches them all first, so that a BUSY
  // answer meanwhile leaves every shard untouched.
  state->visit(/*reaching=*/changes && state->claim);
}

void ConnectionContext::for_each_shard_exclusive(std::function<void(ShardThread&)> on_shard,
                                                 std::function<void()> then) {
  if (holds_all_shards) {
    for_each_shard(std::move(on_shard), std::move(then));
    return;
  }
  std::vector<ShardStep> steps(server.shard_count());
  for (unsigned i = 0; i < steps.size(); ++i) {
    steps[i].shard = i;
    steps[i].lock.whole_shard = true;
    steps[i].lock.exclusive = true;
    // Not on_locked: while this waits for the locks, the client may be
    // answered BUSY (a script runs past busy-reply-threshold), and then no
    // shard may have changed. The release steps run only once every lock is
    // held and the client was not answered meanwhile.
    steps[i].on_release = on_shard;
  }
  run_shard_transaction(server, thread, std::move(steps), std::move(then), suspend(),
                        ClientClaim{busy_claim(), {}});
}

}  // namespace distcache::server
