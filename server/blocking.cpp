#include "server/blocking.h"

#include "server/acl/no_touch.h"
#include "server/command_table.h"
#include "server/connection.h"
#include "server/dispatcher.h"
#include "server/event_loop.h"
#include "server/routing.h"
#include "server/server.h"
#include "server/shard_thread.h"

namespace distcache::server {

std::string BlockingRegistry::slot_name(int db, std::string_view key) {
  std::string name;
  name.reserve(key.size() + 1);
  name.push_back(static_cast<char>(db));
  name.append(key);
  return name;
}

void BlockingRegistry::add(int db, std::string_view key, const std::shared_ptr<BlockedClient>& client) {
  auto& waiters = waiting_[slot_name(db, key)];
  for (auto& w : waiters)
    if (w == client) return;  // a retry re-registers the same client
  waiters.push_back(client);
}

void BlockingRegistry::remove(const BlockedClient* client, int db, std::string_view key) {
  auto it = waiting_.find(slot_name(db, key));
  if (it == waiting_.end()) return;
  auto& waiters = it->second;
  for (auto w = waiters.begin(); w != waiters.end(); ++w)
    if (w->get() == client) {
      waiters.erase(w);
      break;
    }
  if (waiters.empty()) waiting_.erase(it);
}

void BlockingRegistry::keys_written(ShardThread& shard, int db, const std::vector<std::string_view>& keys) {
  for (auto k : keys)
    if (waiting_.count(slot_name(db, k))) queue_.emplace_back(db, std::string(k));
  if (serving_ || queue_.empty()) return;
  // Serving a waiter can write further keys (BLMOVE's destination); those are
  // queued and handled by this loop instead of recursing.
  serving_ = true;
  while (!queue_.empty()) {
    auto [d, key] = std::move(queue_.front());
    queue_.erase(queue_.begin());
    serve_waiters(shard, slot_name(d, key));
  }
  serving_ = false;
}

void BlockingRegistry::serve_waiters(ShardThread& shard, const std::string& name) {
  auto it = waiting_.find(name);
  if (it == waiting_.end()) return;
  // Work on a snapshot: serving may add or remove registrations.
  std::vector<std::shared_ptr<BlockedClient>> waiters(it->second.begin(), it->second.end());
  for (auto& w : waiters) {
    int expected = BlockedClient::kWaiting;
    if (!w->state.compare_exchange_strong(expected, BlockedClient::kRetrying)) {
      if (expected == BlockedClient::kRetrying)
        w->wake_pending = true;
      else  // done: drop the stale registration
        for (auto& [s, key] : w->keys)
          if (s == shard.index()) remove(w.get(), w->db, key);
      continue;
    }
    if (w->multi_shard) {
      w->home->post([w] { retry_multi_shard_blocked(w); });
      continue;
    }
    std::vector<std::string_view> names;
    for (auto& [s, key] : w->keys) names.push_back(key);
    if (shard.locks().blocks(w->db, names, true)) {  // a transaction holds a key: try at the next write
      w->state = BlockedClient::kWaiting;
      continue;
    }
    w->reply.clear();
    protocol::ReplyBuilder reply(&w->reply, w->resp);
    acl::ClientNoTouchScope no_touch(w->no_touch);  // (server/acl/no_touch.h)
    prepare_keys_for_write(shard, *w->spec, *w->args, w->db, {});
    auto outcome = run_keyed(*w->spec, *w->args, reply, shard.keyspace(), w->db, unix_time_ms(),
                             shard.server().config());
    if (!outcome.blocked) {
      w->state = BlockedClient::kDone;
      for (auto& [s, key] : w->keys) remove(w.get(), w->db, key);
      w->home->post([w] { finish_blocked(w, &w->reply); });
      // The served command wrote its keys: watchers fail, and others may wait on them (BLMOVE's destination).
      std::vector<int> indexes;
      if ((w->spec->flags & kCmdWrite) && extract_keys(*w->spec, *w->args, indexes))
        for (int i : indexes) {
          shard.watches().touch(w->db, (*w->args)[i]);
          if (waiting_.count(slot_name(w->db, (*w->args)[i]))) queue_.emplace_back(w->db, std::string((*w->args)[i]));
        }
      continue;
    }
    w->state = BlockedClient::kWaiting;
    if (w->timed_out) {
      int waiting = BlockedClient::kWaiting;
      if (w->state.compare_exchange_strong(waiting, BlockedClient::kDone)) {
        for (auto& [s, key] : w->keys) remove(w.get(), w->db, key);
        w->home->post([w] { finish_blocked(w, nullptr); });
      }
    }
  }
}

namespace {
// INFO's blocked_clients: counted from start_blocking until the client is completed or gone.
void uncount(BlockedClient& client) {
  if (client.counted) {
    client.counted = false;
    client.home->server().stats().blocked_clients.fetch_sub(1, std::memory_order_relaxed);
  }
}
}  // namespace

void start_blocking(const std::shared_ptr<BlockedClient>& client) {
  client->conn->set_blocked_client(client);
  client->counted = true;
  client->home->server().stats().blocked_clients.fetch_add(1, std::memory_order_relaxed);
  if (client->state == BlockedClient::kDone || client->timeout_ms <= 0) return;
  if (client->timer) client->home->loop().cancel(client->timer);
  std::weak_ptr<BlockedClient> weak = client;
  client->timer = client->home->loop().run_after(client->timeout_ms, [weak] {
    auto w = weak.lock();
    if (!w) return;
    w->timer = 0;
    w->timed_out = true;
    int waiting = BlockedClient::kWaiting;
    if (!w->state.compare_exchange_strong(waiting, BlockedClient::kDone)) return;  // a retry will see timed_out
    for (auto& [shard, key] : w->keys) {
      ShardThread& s = w->home->server().shard(shard);
      s.post([w, &s, key = key] { s.blocking().remove(w.get(), w->db, key); });
    }
    finish_blocked(w, nullptr);
  });
}

void finish_blocked(const std::shared_ptr<BlockedClient>& client, const std::string* reply, bool write_reply) {
  if (client->timer) {
    client->home->loop().cancel(client->timer);
    client->timer = 0;
  }
  Connection* conn = client->conn;
  conn->set_blocked_client(nullptr);
  uncount(*client);
  if (!conn->closed() && write_reply) {
    if (reply) {
      conn->reply().raw(*reply);
    } else if (client->timeout_reply == CommandContext::TimeoutReply::kNullBulk) {
      conn->reply().null_bulk();
    } else if (client->timeout_reply == CommandContext::TimeoutReply::kZero) {
      conn->reply().integer(0);
    } else {
      conn->reply().null_array();
    }
  }
  auto resume = std::move(client->resume);
  if (resume) resume();
}

bool unblock_client(const std::shared_ptr<BlockedClient>& client, std::string_view error) {
  int waiting = BlockedClient::kWaiting;
  if (!client->state.compare_exchange_strong(waiting, BlockedClient::kDone)) return false;
  for (auto& [shard, key] : client->keys) {
    ShardThread& s = client->home->server().shard(shard);
    s.post([client, &s, key = key] { s.blocking().remove(client.get(), client->db, key); });
  }
  if (error.empty()) {
    finish_blocked(client, nullptr);
  } else {
    std::string reply;
    protocol::ReplyBuilder(&reply, client->resp).error(error);
    finish_blocked(client, &reply);
  }
  return true;
}

void cancel_blocked(const std::shared_ptr<BlockedClient>& client) {
  client->timed_out = true;
  int waiting = BlockedClient::kWaiting;
  if (!client->state.compare_exchange_strong(waiting, BlockedClient::kDone)) return;
  if (client->timer) {
    client->home->loop().cancel(client->timer);
    client->timer = 0;
  }
  for (auto& [shard, key] : client->keys) {
    ShardThread& s = client->home->server().shard(shard);
    s.post([client, &s, key = key] { s.blocking().remove(client.get(), client->db, key); });
  }
  uncount(*client);
  // Drop the connection's self-reference later, on this thread, outside close().
  client->home->post([client] { client->resume = nullptr; });
}

}  // namespace distcache::server
