#pragma once
// Clients blocked in BLPOP, BZPOPMIN, XREAD BLOCK and friends.
//
// A blocking command runs like any keyed command; when its handler finds
// nothing to serve it calls CommandContext::block() instead of replying. The
// client is then registered, on each shard owning one of its keys, under
// those keys. After any write command touches a key that has waiters, the
// shard re-runs the waiters' commands in FIFO order; the first that can be
// served gets its reply. A timer on the client's own thread sends the nil
// reply when the timeout expires. Registration happens in the same step (or
// under the same transaction locks) as the attempt that found nothing, so no
// write can slip in between and be missed.
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/command.h"

namespace distcache::server {

class Connection;
class ShardThread;

struct BlockedClient {
  enum State : int { kWaiting = 0, kRetrying = 1, kDone = 2 };
  std::atomic<int> state{kWaiting};
  std::atomic<bool> timed_out{false};     // timeout fired or client gone while a retry ran
  std::atomic<bool> wake_pending{false};  // woken while a multi-shard retry ran

  Connection* conn = nullptr;              // suspended while blocked
  std::function<void()> resume;            // owns the connection; run and dropped on `home`
  ShardThread* home = nullptr;
  const CommandSpec* spec = nullptr;
  const protocol::ArgList* args = nullptr; // = &owned_args
  // A copy of the command: retries run it on the keys' threads, and the
  // connection (and its own argument list) may go away meanwhile.
  protocol::ArgList owned_args;
  int db = 0;
  int resp = 2;
  bool no_touch = false;                   // CLIENT NO-TOUCH applies to its retries too
  CommandContext::TimeoutReply timeout_reply = CommandContext::TimeoutReply::kNullArray;
  int64_t timeout_ms = 0;                  // 0 = forever
  bool multi_shard = false;
  std::vector<std::pair<unsigned, std::string>> keys;  // (shard, key) registrations
  std::string reply;                       // reply produced by a retry on a shard thread
  bool counted = false;                    // included in INFO blocked_clients (home thread only)
  uint64_t timer = 0;                      // EventLoop::TimerId on `home`'s loop; 0: none
};

// Per-shard index of blocked clients by key. Touched only by its shard's thread.
class BlockingRegistry {
 public:
  bool empty() const { return waiting_.empty(); }
  void add(int db, std::string_view key, const std::shared_ptr<BlockedClient>& client);
  void remove(const BlockedClient* client, int db, std::string_view key);
  // After a write touched `keys` of database `db`: retries the waiters on them.
  void keys_written(ShardThread& shard, int db, const std::vector<std::string_view>& keys);

 private:
  static std::string slot_name(int db, std::string_view key);
  void serve_waiters(ShardThread& shard, const std::string& name);

  std::unordered_map<std::string, std::deque<std::shared_ptr<BlockedClient>>> waiting_;
  std::vector<std::pair<int, std::string>> queue_;  // keys to process (writes made while serving)
  bool serving_ = false;
};

// Called on the client's thread once the client is registered: arms the
// timeout and links the client to its connection (for disconnects).
void start_blocking(const std::shared_ptr<BlockedClient>& client);
// Completes a blocked client on its home thread with the given reply bytes,
// or the timeout reply when `reply` is null (unless write_reply is false:
// the reply was already written to the connection).
void finish_blocked(const std::shared_ptr<BlockedClient>& client, const std::string* reply,
                    bool write_reply = true);
// The client disconnected: stop waiting, never serve it.
void cancel_blocked(const std::shared_ptr<BlockedClient>& client);
// CLIENT UNBLOCK, on the client's own thread: completes a waiting client
// with its timeout reply, or with `error` when not empty. False if it was
// not waiting (already being served or done).
bool unblock_client(const std::shared_ptr<BlockedClient>& client, std::string_view error);

}  // namespace distcache::server
