#pragma once
// The pub/sub registry behind the commands in commands/pubsub_commands.cpp
// (see pubsub.h for the design). One per Server.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace distcache::server {

class Connection;
class Server;
class ShardThread;

// Hashing for maps keyed by std::string that are looked up by string_view.
struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class V>
using NameMap = std::unordered_map<std::string, V, NameHash, std::equal_to<>>;

class PubSub {
 public:
  // Channels and shard channels are separate namespaces (SUBSCRIBE and
  // SSUBSCRIBE); patterns match channels only.
  enum Kind : int { kChannel = 0, kShardChannel = 1, kPattern = 2 };

  static PubSub& of(Server& server);
  explicit PubSub(Server& server);
  ~PubSub();

  // --- on the connection's thread
  // True if `conn` was not yet subscribed to `name`.
  bool subscribe(Connection& conn, Kind kind, std::string_view name);
  // True if `conn` was subscribed to `name`.
  bool unsubscribe(Connection& conn, Kind kind, std::string_view name);
  // The names `conn` is subscribed to, in the order UNSUBSCRIBE without
  // arguments lists them.
  std::vector<std::string> subscriptions(Connection& conn, Kind kind) const;

  // --- publishing (on a shard thread)
  struct Message;
  struct Publication {
    int64_t receivers = 0;                  // subscribers of the publishing thread that got it
    std::vector<unsigned> remote;           // other threads that may have subscribers
    std::shared_ptr<const Message> message; // set when `remote` is not empty
  };
  // Delivers to the subscribers of `from` now (after the keyspace events
  // queued there) and tells which other threads may have subscribers.
  Publication publish_local(ShardThread& from, Kind kind, std::string_view channel, std::string_view payload);
  // Delivers `p` on its remote threads; `done(total receivers)` then runs on `from`.
  void publish_remote(ShardThread& from, Publication p, std::function<void(int64_t)> done);
  // Fire and forget: every thread, the publishing one included, delivers it
  // from its event queue (keyspace events raised inside commands).
  void publish_async(ShardThread& from, std::string_view channel, std::string_view payload,
                     Kind kind = kChannel);
  // Subscribers of `channel` right now, patterns included (for channels),
  // from the process-wide summary: no round trip to the other threads.
  int64_t receivers_now(Kind kind, std::string_view channel) const;

  // True when nobody is subscribed to any channel or pattern.
  bool idle() const { return subscriptions_[kChannel].load(std::memory_order_relaxed) == 0 &&
                             subscriptions_[kPattern].load(std::memory_order_relaxed) == 0; }

  // --- introspection (any thread)
  std::vector<std::string> active(Kind kind, std::string_view pattern, bool use_pattern) const;
  int64_t subscriber_count(Kind kind, std::string_view name) const;
  int64_t distinct_names(Kind kind) const { return names_[kind].load(std::memory_order_relaxed); }

 private:
  struct Local;
  struct NameEntry {
    uint32_t subscribers = 0;
    std::vector<std::pair<unsigned, uint32_t>> threads;  // (thread, subscribers there)
  };
  struct Bucket {
    mutable std::mutex mutex;
    NameMap<NameEntry> names;
  };
  static constexpr size_t kBuckets = 32;
  using Summary = std::array<Bucket, kBuckets>;

  Bucket& bucket(Kind kind, std::string_view name);
  const Bucket& bucket(Kind kind, std::string_view name) const;
  void summary_add(Kind kind, std::string_view name, unsigned thread);
  void summary_remove(Kind kind, std::string_view name, unsigned thread);
  // Threads other than `self` that may have receivers of `channel`.
  void targets(Kind kind, std::string_view channel, unsigned self, bool& self_included,
               std::vector<unsigned>& out) const;
  Local& local(unsigned thread) { return *locals_[thread]; }
  size_t deliver(unsigned thread, const Message& m);
  // A message posted from another thread: the events queued here go first.
  size_t deliver_posted(unsigned thread, const Message& m) {
    drain_queue(thread);
    return deliver(thread, m);
  }
  void drain_queue(unsigned thread);

  Server& server_;
  std::vector<std::unique_ptr<Local>> locals_;        // per thread, touched only there
  Summary summaries_[3];
  std::atomic<int64_t> subscriptions_[3] = {};         // (connection, name) pairs per kind
  std::atomic<int64_t> names_[3] = {};                 // distinct names per kind
  std::unique_ptr<std::atomic<uint32_t>[]> thread_patterns_;  // pattern subscriptions per thread
};

}  // namespace distcache::server
