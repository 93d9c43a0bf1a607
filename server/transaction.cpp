#include "server/transaction.h"

#include "server/server.h"
#include "server/shard_thread.h"

namespace distcache::server {
namespace {

struct TransactionState : std::enable_shared_from_this<TransactionState> {
  Server& server;
  ShardThread& home;
  std::vector<ShardStep> steps;
  std::function<void(ReleaseFn)> body;
  std::function<void()> done;
  ClientClaim client;

  TransactionState(Server& s, ShardThread& h, std::vector<ShardStep> st, std::function<void(ReleaseFn)> b,
                   std::function<void()> d, ClientClaim c)
      : server(s), home(h), steps(std::move(st)), body(std::move(b)), done(std::move(d)), client(std::move(c)) {}

  // Takes the lock of step i on its shard, then moves on to step i + 1.
  void acquire(size_t i) {
    if (i == steps.size()) {
      finish();
      return;
    }
    ShardThread& shard = server.shard(steps[i].shard);
    auto self = shared_from_this();
    auto take = [self, i, &shard] {
      ShardStep& step = self->steps[i];
      shard.run_when([&shard, &step] { return shard.locks().can_acquire(step.lock); },
                     [self, i, &shard] {
                       ShardStep& s = self->steps[i];
                       shard.locks().acquire(s.lock);
                       if (s.on_locked) s.on_locked(shard);
                       if (&shard == &self->home)
                         self->acquire(i + 1);
                       else
                         self->home.post([self, i] { self->acquire(i + 1); });
                     });
    };
    if (&shard == &home)
      take();
    else
      shard.post(std::move(take));
  }

  void finish() {
    if (client.claim && !client.claim()) {
      abandon();
      return;
    }
    // Claimed: `abandoned` can no longer run. Dropped now, it stops keeping
    // alive what it owns (an EXEC's run, which in turn holds `release`).
    client = {};
    auto run = std::move(body);
    run([self = shared_from_this()] { self->release_all(/*committed=*/true); });
  }

  // The client was answered while its transaction waited: unlock, write nothing.
  void abandon() {
    std::function<void(ReleaseFn)>().swap(body);  // destroyed here, on home: they may own the connection
    std::function<void()>().swap(done);
    release_all(/*committed=*/false);
    auto abandoned = std::move(client.abandoned);
    if (abandoned) abandoned();
  }

  void release_all(bool committed) {
    // Release everywhere. Messages to a shard are processed in order, so any
    // command sent to a shard after this point observes the released state.
    for (size_t i = 0; i < steps.size(); ++i) {
      ShardThread& shard = server.shard(steps[i].shard);
      auto self = shared_from_this();
      auto release = [self, i, &shard, committed] {
        ShardStep& s = self->steps[i];
        if (committed && s.on_release) s.on_release(shard);
        shard.locks().release(s.lock);
        shard.wake_waiters();
      };
      if (&shard == &home)
        release();
      else
        shard.post(std::move(release));
    }
    // Run and drop `done` here, on the home thread: it may own the client connection.
    auto finished = std::move(done);
    if (finished) finished();
  }
};

}  // namespace

void run_shard_transaction(Server& server, ShardThread& home, std::vector<ShardStep> steps,
                           std::function<void()> body, std::function<void()> done, ClientClaim client) {
  auto sync_body = [body = std::move(body)](ReleaseFn release) {
    body();
    release();
  };
  run_shard_transaction_async(server, home, std::move(steps), std::move(sync_body), std::move(done),
                              std::move(client));
}

void run_shard_transaction_async(Server& server, ShardThread& home, std::vector<ShardStep> steps,
                                 std::function<void(ReleaseFn release)> body, std::function<void()> done,
                                 ClientClaim client) {
  auto state = std::make_shared<TransactionState>(server, home, std::move(steps), std::move(body), std::move(done),
                                                  std::move(client));
  state->acquire(0);
}

}  // namespace distcache::server
