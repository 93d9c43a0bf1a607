// Cross-shard atomicity of run_shard_transaction, with real shard threads:
// writers set ten keys spread over all shards to one generation value while
// readers read all ten; no reader may ever see two generations at once.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <set>
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

using test::RunningShards;

std::vector<ShardStep> steps_for(Server& server, const std::vector<std::string>& keys, bool exclusive) {
  std::vector<ShardStep> steps;
  for (unsigned s = 0; s < server.shard_count(); ++s) {
    ShardStep step;
    step.shard = s;
    step.lock.exclusive = exclusive;
    for (auto& k : keys)
      if (shard_of_key(k, server.shard_count()) == s) step.lock.keys.push_back({0, k});
    if (!step.lock.keys.empty()) steps.push_back(std::move(step));
  }
  return steps;
}

}  // namespace

TEST_CASE("multi-shard writes are atomic and isolated for readers", "[transaction]") {
  // Declared before the shards so that the threads are joined before the closures die.
  std::vector<std::unique_ptr<std::function<void(int)>>> rounds;
  RunningShards shards(4);
  Server& server = *shards.server;
  std::vector<std::string> keys;
  for (int i = 0; i < 10; ++i) keys.push_back("k" + std::to_string(i));
  {  // the keys really are spread over several shards
    std::set<unsigned> used;
    for (auto& k : keys) used.insert(shard_of_key(k, 4));
    REQUIRE(used.size() >= 3);
  }

  constexpr int kRounds = 300;
  std::atomic<int> torn_reads{0};
  std::atomic<int> reads_done{0};
  std::vector<std::future<void>> clients;
  for (unsigned home_index = 0; home_index < server.shard_count(); ++home_index) {
    // One writer and one reader per thread, each running its rounds back to back.
    for (bool writer : {true, false}) {
      auto done = std::make_shared<std::promise<void>>();
      clients.push_back(done->get_future());
      ShardThread& home = server.shard(home_index);
      auto* round = rounds.emplace_back(std::make_unique<std::function<void(int)>>()).get();
      *round = [&, writer, done, round, home_ptr = &home, home_index](int n) {
        if (n == kRounds) {
          done->set_value();
          return;
        }
        auto steps = steps_for(server, keys, writer);
        auto seen = std::make_shared<std::vector<std::string>>();
        std::string value = std::to_string(home_index) + ":" + std::to_string(n);
        for (auto& step : steps) {
          if (writer) {
            step.on_locked = [value, lock_keys = step.lock.keys](ShardThread& s) {
              for (auto& k : lock_keys) s.keyspace().db(0).set(k.name, storage::Value::string(value));
            };
          } else {
            step.on_locked = [seen, lock_keys = step.lock.keys](ShardThread& s) {
              for (auto& k : lock_keys) {
                auto* v = s.keyspace().db(0).find(k.name, 0);
                seen->push_back(v ? std::string(v->str()) : std::string());
              }
            };
          }
        }
        run_shard_transaction(
            server, *home_ptr, std::move(steps),
            [&, seen, writer] {
              if (writer) return;
              reads_done.fetch_add(1);
              for (auto& v : *seen)
                if (v != seen->front()) {
                  torn_reads.fetch_add(1);
                  break;
                }
            },
            [round, n] { (*round)(n + 1); });
      };
      home.post([round] { (*round)(0); });
    }
  }
  for (auto& f : clients) f.get();
  REQUIRE(reads_done.load() == kRounds * 4);
  REQUIRE(torn_reads.load() == 0);
}
