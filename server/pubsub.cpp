#include "server/pubsub.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "server/config.h"
#include "server/connection.h"
#include "server/log.h"
#include "server/pubsub_registry.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "storage/db.h"
#include "storage/glob.h"
#include "storage/keyspace.h"

namespace distcache::server {

// A message as it travels to the subscribers' threads.
struct PubSub::Message {
  Kind kind;  // kChannel or kShardChannel
  std::string channel;
  std::string payload;
};

// One thread's subscribers. Only that thread touches it.
struct PubSub::Local {
  NameMap<std::vector<Connection*>> names[3];
  // Keyspace events raised on this thread, delivered here after the command.
  std::deque<Message> queue;
  bool drain_posted = false;
};

namespace {

uint32_t& session_count(ClientSession& s, PubSub::Kind kind) {
  switch (kind) {
    case PubSub::kChannel: return s.subscribed_channels;
    case PubSub::kShardChannel: return s.subscribed_shard_channels;
    case PubSub::kPattern: break;
  }
  return s.subscribed_patterns;
}

// Encodes one message for a RESP2 (array) or RESP3 (push) subscriber.
void encode_message(std::string& out, int resp, const PubSub::Message& m, const std::string* pattern) {
  protocol::ReplyBuilder b(&out, resp);
  if (pattern) {
    b.push(4);
    b.bulk("pmessage");
    b.bulk(*pattern);
  } else {
    b.push(3);
    b.bulk(m.kind == PubSub::kShardChannel ? "smessage" : "message");
  }
  b.bulk(m.channel);
  b.bulk(m.payload);
}

// Where keyspace events go when no shard thread runs (unit tests), and the
// keyspace whose Dbs the storage events ("new", "expired") are reported for.
struct TestSink {
  uint32_t flags = 0;
  const storage::Keyspace* keyspace = nullptr;
  KeyspaceEventSink sink;
};
TestSink& test_sink() {
  static TestSink s;
  return s;
}

std::atomic<bool> storage_hook_installed{false};
thread_local const storage::Keyspace* tls_scratch_keyspace = nullptr;
thread_local int tls_quiet = 0;
void install_storage_hook();

}  // namespace

// ---------------------------------------------------------------------------
// Registry

PubSub& PubSub::of(Server& server) {
  thread_local Server* cached_server = nullptr;
  thread_local PubSub* cached = nullptr;
  if (cached_server == &server) return *cached;
  static std::mutex mutex;
  static std::unordered_map<Server*, std::unique_ptr<PubSub>> registries;  // never freed: threads may outlive a lookup
  std::lock_guard lock(mutex);
  auto& slot = registries[&server];
  if (!slot) slot = std::make_unique<PubSub>(server);
  cached_server = &server;
  cached = slot.get();
  return *cached;
}

PubSub::PubSub(Server& server) : server_(server) {
  const unsigned n = std::max(1u, server.shard_count());
  for (unsigned i = 0; i < n; ++i) locals_.push_back(std::make_unique<Local>());
  thread_patterns_ = std::make_unique<std::atomic<uint32_t>[]>(n);
  for (unsigned i = 0; i < n; ++i) thread_patterns_[i].store(0, std::memory_order_relaxed);
}

PubSub::~PubSub() = default;

PubSub::Bucket& PubSub::bucket(Kind kind, std::string_view name) {
  return summaries_[kind][std::hash<std::string_view>{}(name) % kBuckets];
}
const PubSub::Bucket& PubSub::bucket(Kind kind, std::string_view name) const {
  return summaries_[kind][std::hash<std::string_view>{}(name) % kBuckets];
}

void PubSub::summary_add(Kind kind, std::string_view name, unsigned thread) {
  Bucket& b = bucket(kind, name);
  std::lock_guard lock(b.mutex);
  auto [it, inserted] = b.names.try_emplace(std::string(name));
  if (inserted) names_[kind].fetch_add(1, std::memory_order_relaxed);
  NameEntry& e = it->second;
  ++e.subscribers;
  for (auto& [t, n] : e.threads)
    if (t == thread) {
      ++n;
      return;
    }
  e.threads.emplace_back(thread, 1);
}

void PubSub::summary_remove(Kind kind, std::string_view name, unsigned thread) {
  Bucket& b = bucket(kind, name);
  std::lock_guard lock(b.mutex);
  auto it = b.names.find(name);
  if (it == b.names.end()) return;
  NameEntry& e = it->second;
  --e.subscribers;
  for (size_t i = 0; i < e.threads.size(); ++i)
    if (e.threads[i].first == thread && --e.threads[i].second == 0) {
      e.threads.erase(e.threads.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  if (e.subscribers == 0) {
    b.names.erase(it);
    names_[kind].fetch_sub(1, std::memory_order_relaxed);
  }
}

bool PubSub::subscribe(Connection& conn, Kind kind, std::string_view name) {
  ClientSubscriptions& subs = conn.ensure_subscriptions();
  if (kind == kPattern) {
    if (std::find(subs.patterns.begin(), subs.patterns.end(), name) != subs.patterns.end()) return false;
    subs.patterns.emplace_back(name);
  } else {
    auto& set = kind == kChannel ? subs.channels : subs.shard_channels;
    if (!set.emplace(name).second) return false;
  }
  const unsigned t = conn.thread().index();
  local(t).names[kind][std::string(name)].push_back(&conn);
  summary_add(kind, name, t);
  if (kind == kPattern) thread_patterns_[t].fetch_add(1, std::memory_order_relaxed);
  subscriptions_[kind].fetch_add(1, std::memory_order_relaxed);
  ++session_count(conn.session(), kind);
  return true;
}

bool PubSub::unsubscribe(Connection& conn, Kind kind, std::string_view name) {
  ClientSubscriptions* subs = conn.subscriptions();
  if (!subs) return false;
  if (kind == kPattern) {
    auto it = std::find(subs->patterns.begin(), subs->patterns.end(), name);
    if (it == subs->patterns.end()) return false;
    subs->patterns.erase(it);
  } else {
    auto& set = kind == kChannel ? subs->channels : subs->shard_channels;
    auto it = set.find(std::string(name));
    if (it == set.end()) return false;
    set.erase(it);
  }
  const unsigned t = conn.thread().index();
  auto& map = local(t).names[kind];
  auto it = map.find(name);
  if (it != map.end()) {
    auto& v = it->second;
    v.erase(std::remove(v.begin(), v.end(), &conn), v.end());
    if (v.empty()) map.erase(it);
  }
  summary_remove(kind, name, t);
  if (kind == kPattern) thread_patterns_[t].fetch_sub(1, std::memory_order_relaxed);
  subscriptions_[kind].fetch_sub(1, std::memory_order_relaxed);
  --session_count(conn.session(), kind);
  return true;
}

std::vector<std::string> PubSub::subscriptions(Connection& conn, Kind kind) const {
  ClientSubscriptions* subs = conn.subscriptions();
  if (!subs) return {};
  if (kind == kPattern) return subs->patterns;
  const auto& set = kind == kChannel ? subs->channels : subs->shard_channels;
  return std::vector<std::string>(set.begin(), set.end());
}

void PubSub::targets(Kind kind, std::string_view channel, unsigned self, bool& self_included,
                     std::vector<unsigned>& out) const {
  self_included = false;
  out.clear();
  auto add = [&](unsigned t) {
    if (t == self) {
      self_included = true;
    } else if (std::find(out.begin(), out.end(), t) == out.end()) {
      out.push_back(t);
    }
  };
  if (subscriptions_[kind].load(std::memory_order_relaxed) != 0) {
    const Bucket& b = bucket(kind, channel);
    std::lock_guard lock(b.mutex);
    auto it = b.names.find(channel);
    if (it != b.names.end())
      for (auto& [t, n] : it->second.threads) add(t);
  }
  if (kind == kChannel && subscriptions_[kPattern].load(std::memory_order_relaxed) != 0)
    for (unsigned t = 0; t < locals_.size(); ++t)
      if (thread_patterns_[t].load(std::memory_order_relaxed) != 0) add(t);
}

// Writes `m` to the subscribers on `thread` (the current thread) and returns
// how many received it. Subscribers whose output went over the pubsub
// output buffer limits are disconnected afterwards.
size_t PubSub::deliver(unsigned thread, const Message& m) {
  Local& l = local(thread);
  std::vector<Connection*> over_limit;
  const Config& config = server_.config();
  const int64_t hard = config.pubsub_obuf_hard.load(std::memory_order_relaxed);
  const int64_t soft = config.pubsub_obuf_soft.load(std::memory_order_relaxed);
  const int64_t soft_seconds = config.pubsub_obuf_soft_seconds.load(std::memory_order_relaxed);
  int64_t now_ms = 0;
  std::string encoded[2];  // RESP2, RESP3
  size_t receivers = 0;

  auto send = [&](Connection* c, const std::string* pattern, std::string* cache) {
    const int resp = c->session().resp == 3 ? 3 : 2;
    std::string& bytes = cache[resp - 2];
    if (bytes.empty()) encode_message(bytes, resp, m, pattern);
    c->push_message(bytes);
    ++receivers;
    // Redis's checkClientOutputBufferLimits for the pubsub class.
    const auto used = static_cast<int64_t>(c->pending_output());
    ClientSubscriptions* subs = c->subscriptions();
    bool over = hard > 0 && used >= hard;
    if (soft > 0 && used >= soft) {
      if (now_ms == 0) now_ms = unix_time_ms();
      if (subs->soft_limit_since_ms == 0)
        subs->soft_limit_since_ms = now_ms;
      else if ((now_ms - subs->soft_limit_since_ms) / 1000 > soft_seconds)
        over = true;
    } else {
      subs->soft_limit_since_ms = 0;
    }
    if (over && std::find(over_limit.begin(), over_limit.end(), c) == over_limit.end()) over_limit.push_back(c);
  };

  const Kind kind = m.kind;
  auto it = l.names[kind].find(m.channel);
  if (it != l.names[kind].end())
    for (Connection* c : it->second) send(c, nullptr, encoded);
  if (kind == kChannel && !l.names[kPattern].empty()) {
    for (auto& [pattern, conns] : l.names[kPattern]) {
      if (!storage::glob_match(pattern, m.channel)) continue;
      std::string pencoded[2];
      for (Connection* c : conns) send(c, &pattern, pencoded);
    }
  }
  for (Connection* c : over_limit) {
    log(LogLevel::kWarning, "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
        c->client_info(unix_time_ms()));
    c->close();
  }
  return receivers;
}

void PubSub::drain_queue(unsigned thread) {
  Local& l = local(thread);
  while (!l.queue.empty()) {
    Message m = std::move(l.queue.front());
    l.queue.pop_front();
    deliver(thread, m);
  }
}

PubSub::Publication PubSub::publish_local(ShardThread& from, Kind kind, std::string_view channel,
                                          std::string_view payload) {
  Publication p;
  const unsigned self = from.index();
  bool self_included = false;
  targets(kind, channel, self, self_included, p.remote);
  drain_queue(self);  // events raised here before this message go first
  if (!self_included && p.remote.empty()) return p;
  Message m{kind, std::string(channel), std::string(payload)};
  if (self_included) p.receivers = static_cast<int64_t>(deliver(self, m));
  if (!p.remote.empty()) p.message = std::make_shared<const Message>(std::move(m));
  return p;
}

void PubSub::publish_remote(ShardThread& from, Publication p, std::function<void(int64_t)> done) {
  struct State {
    std::atomic<size_t> remaining;
    std::atomic<int64_t> receivers;
    std::function<void(int64_t)> done;
  };
  auto state = std::make_shared<State>();
  state->remaining = p.remote.size();
  state->receivers = p.receivers;
  state->done = std::move(done);
  ShardThread* home = &from;
  for (unsigned t : p.remote) {
    server_.shard(t).post([this, t, msg = p.message, state, home] {
      state->receivers.fetch_add(static_cast<int64_t>(deliver_posted(t, *msg)), std::memory_order_relaxed);
      if (state->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1)
        home->post([state] { state->done(state->receivers.load(std::memory_order_relaxed)); });
    });
  }
}

void PubSub::publish_async(ShardThread& from, std::string_view channel, std::string_view payload, Kind kind) {
  const unsigned self = from.index();
  bool self_included = false;
  std::vector<unsigned> remote;
  targets(kind, channel, self, self_included, remote);
  if (!self_included && remote.empty()) return;
  Message m{kind, std::string(channel), std::string(payload)};
  if (!remote.empty()) {
    auto msg = std::make_shared<const Message>(m);
    for (unsigned t : remote) server_.shard(t).post([this, t, msg] { deliver_posted(t, *msg); });
  }
  if (self_included) {
    Local& l = local(self);
    l.queue.push_back(std::move(m));
    if (!l.drain_posted) {
      l.drain_posted = true;
      from.post([this, self] {
        local(self).drain_posted = false;
        drain_queue(self);
      });
    }
  }
}

std::vector<std::string> PubSub::active(Kind kind, std::string_view pattern, bool use_pattern) const {
  std::vector<std::string> out;
  for (const Bucket& b : summaries_[kind]) {
    std::lock_guard lock(b.mutex);
    for (auto& [name, entry] : b.names)
      if (!use_pattern || storage::glob_match(pattern, name)) out.push_back(name);
  }
  return out;
}

int64_t PubSub::receivers_now(Kind kind, std::string_view channel) const {
  int64_t n = subscriber_count(kind, channel);
  if (kind != kChannel || subscriptions_[kPattern].load(std::memory_order_relaxed) == 0) return n;
  for (const Bucket& b : summaries_[kPattern]) {
    std::lock_guard lock(b.mutex);
    for (auto& [pattern, entry] : b.names)
      if (storage::glob_match(pattern, channel)) n += entry.subscribers;
  }
  return n;
}

int64_t PubSub::subscriber_count(Kind kind, std::string_view name) const {
  const Bucket& b = bucket(kind, name);
  std::lock_guard lock(b.mutex);
  auto it = b.names.find(name);
  return it == b.names.end() ? 0 : it->second.subscribers;
}

// ---------------------------------------------------------------------------
// Hooks

bool pubsub_command_allowed(const ClientSession& session, const CommandSpec& spec, protocol::ReplyBuilder& reply) {
  if (session.resp != 2 || !session.subscribed()) return true;
  static constexpr std::string_view kAllowed[] = {"ping",         "subscribe",    "ssubscribe", "unsubscribe",
                                                  "sunsubscribe", "psubscribe",   "punsubscribe",
                                                  "quit",         "reset"};
  for (auto name : kAllowed)
    if (spec.name == name) return true;
  reply.error(fmt::format("ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
                          "are allowed in this context",
                          spec.name));
  return false;
}

bool pubsub_ping(const ClientSession& session, const protocol::ArgList& args, protocol::ReplyBuilder& reply) {
  if (session.resp != 2 || !session.subscribed() || args.size() > 2) return false;
  reply.array(2);
  reply.bulk("pong");
  reply.bulk(args.size() == 2 ? args[1] : std::string_view());
  return true;
}

void pubsub_unsubscribe_all(Connection& conn) {
  ClientSubscriptions* subs = conn.subscriptions();
  if (!subs) return;
  PubSub& ps = PubSub::of(conn.thread().server());
  for (auto kind : {PubSub::kChannel, PubSub::kShardChannel, PubSub::kPattern})
    for (const std::string& name : ps.subscriptions(conn, kind)) ps.unsubscribe(conn, kind, name);
  subs->soft_limit_since_ms = 0;
}

void publish_message(std::string_view channel, std::string_view message) {
  ShardThread* t = ShardThread::current();
  if (!t) return;
  PubSub::of(t->server()).publish_async(*t, channel, message);
}

int64_t publish_message_counted(std::string_view channel, std::string_view message, bool shard_channel) {
  ShardThread* t = ShardThread::current();
  if (!t) return 0;
  PubSub& ps = PubSub::of(t->server());
  const PubSub::Kind kind = shard_channel ? PubSub::kShardChannel : PubSub::kChannel;
  const int64_t receivers = ps.receivers_now(kind, channel);
  ps.publish_async(*t, channel, message, kind);
  return receivers;
}

// ---------------------------------------------------------------------------
// Keyspace notifications

uint32_t keyspace_notify_flags(const Config& config) {
  auto flags = static_cast<uint32_t>(config.notify_keyspace_events.load(std::memory_order_relaxed));
  if (!(flags & (notify::kKeyspace | notify::kKeyevent))) return 0;
  if (!storage_hook_installed.load(std::memory_order_relaxed)) install_storage_hook();
  return flags;
}

void notify_keyspace_event(uint32_t type, std::string_view event, std::string_view key, int db) {
  ShardThread* t = ShardThread::current();
  if (!t) {
    TestSink& s = test_sink();
    if (s.sink && (s.flags & type)) s.sink(db, event, key);
    return;
  }
  const uint32_t flags = keyspace_notify_flags(t->server().config());
  if (!(flags & type)) return;
  PubSub& ps = PubSub::of(t->server());
  if (ps.idle()) return;
  std::string channel;
  if (flags & notify::kKeyspace) {
    channel = fmt::format("__keyspace@{}__:", db);
    channel.append(key);
    ps.publish_async(*t, channel, event);
  }
  if (flags & notify::kKeyevent) {
    channel = fmt::format("__keyevent@{}__:", db);
    channel.append(event);
    ps.publish_async(*t, channel, key);
  }
}

ScratchKeyspaceEvents::ScratchKeyspaceEvents(const storage::Keyspace& scratch) : previous_(tls_scratch_keyspace) {
  tls_scratch_keyspace = &scratch;
}
ScratchKeyspaceEvents::~ScratchKeyspaceEvents() { tls_scratch_keyspace = previous_; }
QuietKeyspaceEvents::QuietKeyspaceEvents() { ++tls_quiet; }
QuietKeyspaceEvents::~QuietKeyspaceEvents() { --tls_quiet; }

void set_keyspace_event_sink(uint32_t flags, const storage::Keyspace* keyspace, KeyspaceEventSink sink) {
  TestSink& s = test_sink();
  s.flags = flags;
  s.keyspace = keyspace;
  s.sink = std::move(sink);
  if (s.sink) install_storage_hook();
}

namespace {

// "new" and "expired" come from storage, which knows its Db but not its number.
void on_storage_key_event(const storage::Db& db, std::string_view key, storage::Db::KeyEvent event) {
  if (tls_quiet) return;
  const bool added = event == storage::Db::KeyEvent::kAdded;
  const uint32_t type = added ? notify::kNew : notify::kExpired;
  const storage::Keyspace* keyspace;
  if (ShardThread* t = ShardThread::current()) {
    if (!(keyspace_notify_flags(t->server().config()) & type)) return;
    // Other scratch keyspaces (copies being loaded) are not reported.
    keyspace = tls_scratch_keyspace ? tls_scratch_keyspace : &t->keyspace();
  } else {
    TestSink& s = test_sink();
    if (!s.sink || !(s.flags & type)) return;
    keyspace = s.keyspace;
  }
  if (!keyspace) return;
  for (size_t i = 0; i < keyspace->size(); ++i)
    if (&keyspace->db(i) == &db) {
      notify_keyspace_event(type, added ? "new" : "expired", key, static_cast<int>(i));
      return;
    }
}

void install_storage_hook() {
  storage::Db::set_key_event_hook(&on_storage_key_event);
  storage_hook_installed.store(true, std::memory_order_relaxed);
}

}  // namespace

}  // namespace distcache::server
