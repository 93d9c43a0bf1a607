#pragma once
// A Server whose shard threads really run (started here, stopped and joined
// when it goes out of scope), for unit tests of cross-thread machinery such
// as run_shard_transaction. No listener: work is posted to the shards.
#include <memory>

#include "server/config.h"
#include "server/server.h"
#include "server/shard_thread.h"

namespace distcache::test {

struct RunningShards {
  explicit RunningShards(int threads) {
    config.threads = threads;
    server = std::make_unique<server::Server>(config);
    for (unsigned i = 0; i < server->shard_count(); ++i) server->shard(i).start();
  }
  ~RunningShards() {
    for (unsigned i = 0; i < server->shard_count(); ++i) server->shard(i).stop();
    for (unsigned i = 0; i < server->shard_count(); ++i) server->shard(i).join();
  }
  RunningShards(const RunningShards&) = delete;
  RunningShards& operator=(const RunningShards&) = delete;

  server::Config config;
  std::unique_ptr<server::Server> server;
};

}  // namespace distcache::test
