#include "server/connection_context.h"

#include <atomic>

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
  if (suspend_override || holds_all_shards) return {};
  return scripting::busy_answerable(connection_).claim;
}

void ConnectionContext::for_each_shard(std::function<void(ShardThread&)> on_shard, std::function<void()> then) {
  fan_out(std::move(on_shard), std::move(then), false);
}

void ConnectionContext::for_each_shard_reading(std::function<void(ShardThread&)> on_shard,
                                               std::function<void()> then) {
  fan_out(std::move(on_shard), std::move(then), true);
}

void ConnectionContext::fan_out(std::function<void(ShardThread&)> on_shard, std::function<void()> then,
                                bool busy_answerable) {
  struct FanOut {
    std::atomic<unsigned> remaining;
    std::function<void(ShardThread&)> on_shard;
    std::function<void()> then;
    std::function<void()> resume;
    std::function<bool()> claim;  // false: the client was answered BUSY meanwhile
  };
  auto state = std::make_shared<FanOut>();
  state->remaining = server.shard_count();
  state->on_shard = std::move(on_shard);
  state->then = std::move(then);
  state->resume = suspend();
  if (busy_answerable) state->claim = busy_claim();
  ShardThread* home = &thread;
  for (unsigned i = 0; i < server.shard_count(); ++i) {
    ShardThread& shard = server.shard(i);
    auto work = [state, &shard, home] {
      state->on_shard(shard);
      if (state->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        auto finish = [state] {
          if (state->claim && !state->claim()) {  // answered BUSY, and resumed, by busy mode
            std::function<void()>().swap(state->resume);  // dropped uncalled, on the client's thread
            return;
          }
          state->then();
          auto resume = std::move(state->resume);  // release the connection on its own thread
          resume();
        };
        if (&shard == home)
          finish();
        else
          home->post(std::move(finish));
      }
    };
    if (&shard == home)
      work();
    else
      shard.post(std::move(work));
  }
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
    steps[i].on_locked = on_shard;
  }
  run_shard_transaction(server, thread, std::move(steps), std::move(then), suspend());
}

}  // namespace distcache::server
