// A multi-shard transaction whose client is answered (BUSY: a script holds one
// of its shards past busy-reply-threshold) while it still waits for a lock:
// run_shard_transaction's ClientClaim. The transaction already holds the
// first shard's lock while the second shard is occupied; once that shard is
// free, the failed claim must release every lock without running any
// on_release step, the body or `done`, and run `abandoned` instead.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <string>
#include <vector>

#include "server/cluster/slot.h"
#include "server/config.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/transaction.h"
#include "tests/unit/running_shards.h"

using namespace distcache;
using namespace distcache::server;

namespace {

std::string key_on(unsigned shard) {
  for (int i = 0;; ++i) {
    std::string key = "k" + std::to_string(i);
    if (shard_of_key(key, 2) == shard) return key;
  }
}

// Runs `fn` on `shard`'s thread and returns its result.
template <typename Fn>
auto on_shard(ShardThread& shard, Fn fn) {
  std::promise<decltype(fn())> result;
  auto future = result.get_future();
  shard.post([&] { result.set_value(fn()); });
  return future.get();
}

struct Trace {
  std::atomic<int> on_locked{0}, on_release{0}, body{0}, done{0}, abandoned{0};
};

std::vector<ShardStep> exclusive_steps(const std::string& k0, const std::string& k1, Trace& trace) {
  std::vector<ShardStep> steps(2);
  for (unsigned s = 0; s < 2; ++s) {
    steps[s].shard = s;
    steps[s].lock.exclusive = true;
    steps[s].lock.keys.push_back({0, s == 0 ? k0 : k1});
    steps[s].on_locked = [&trace](ShardThread&) { trace.on_locked.fetch_add(1); };
    steps[s].on_release = [&trace](ShardThread&) { trace.on_release.fetch_add(1); };
  }
  return steps;
}

}  // namespace

TEST_CASE("a transaction whose client was answered meanwhile releases its locks and runs nothing",
          "[transaction][busy]") {
  for (bool claimed : {false, true}) {
    Trace trace;
    std::promise<void> finished;
    std::promise<void> free_shard1;
    test::RunningShards shards(2);
    Server& server = *shards.server;
    ShardThread& shard0 = server.shard(0);
    ShardThread& shard1 = server.shard(1);
    const std::string k0 = key_on(0), k1 = key_on(1);

    // Shard 1 is occupied (as by a long script) until free_shard1 is set.
    std::shared_future<void> shard1_free = free_shard1.get_future().share();
    shard1.post([shard1_free] { shard1_free.wait(); });

    ClientClaim client{[claimed] { return claimed; }, [&trace, &finished] {
                         trace.abandoned.fetch_add(1);
                         finished.set_value();
                       }};
    shard0.post([&] {
      run_shard_transaction(
          server, shard0, exclusive_steps(k0, k1, trace), [&trace] { trace.body.fetch_add(1); },
          [&trace, &finished] {
            trace.done.fetch_add(1);
            finished.set_value();
          },
          std::move(client));
    });
    // The first shard's lock is taken while the second shard is busy.
    while (on_shard(shard0, [&] { return shard0.locks().empty(); })) {
    }
    CHECK(trace.on_locked.load() == 1);

    free_shard1.set_value();
    finished.get_future().get();
    CHECK(trace.on_locked.load() == 2);
    CHECK(trace.body.load() == (claimed ? 1 : 0));
    CHECK(trace.done.load() == (claimed ? 1 : 0));
    CHECK(trace.abandoned.load() == (claimed ? 0 : 1));
    // Every lock is gone (the releases were posted before `finished`).
    CHECK(on_shard(shard0, [&] { return shard0.locks().empty(); }));
    CHECK(on_shard(shard1, [&] { return shard1.locks().empty(); }));
    CHECK(trace.on_release.load() == (claimed ? 2 : 0));
  }
}
