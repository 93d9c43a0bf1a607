#include "server/tracking.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <map>
#include <set>
#include <unordered_map>

#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/connection.h"
#include "server/connection_context.h"
#include "server/server.h"
#include "server/shard_thread.h"

namespace distcache::server {

namespace tracking_detail {
std::atomic<int64_t> clients_on{0};
std::atomic<int64_t> bcast_prefixes{0};
}  // namespace tracking_detail

namespace {

using tracking_detail::bcast_prefixes;
using tracking_detail::clients_on;

constexpr unsigned kMaxThreads = 256;

// One client's tracking mode; only the client's thread touches it.
struct ClientState {
  std::weak_ptr<Connection> conn;
  bool on = false;
  bool bcast = false;
  bool optin = false;
  bool optout = false;
  bool noloop = false;
  bool caching = false;    // CLIENT CACHING YES (OPTIN) / NO (OPTOUT) for the next command
  bool effective = false;  // the caching flag as it held for the running command
  bool broken = false;     // the REDIRECT target went away
  uint64_t redirect = 0;
  unsigned redirect_thread = 0;
  std::set<std::string> prefixes;  // BCAST (sorted, as Redis lists them)
};

struct ThreadClients {
  std::unordered_map<uint64_t, ClientState> states;
  // BCAST keys arriving from the shards, sent as one message per client and
  // prefix (keys sorted) by a task posted behind them, as Redis batches them
  // per event-loop turn.
  std::map<uint64_t, std::map<std::string, std::set<std::string>>> pending;
  bool flush_posted = false;
};

// Default mode: key -> (client id, client thread) of its readers. Only the shard's thread touches it.
struct ShardTable {
  std::unordered_map<std::string, std::vector<std::pair<uint64_t, unsigned>>> keys;
};

ThreadClients g_clients[kMaxThreads];
ShardTable g_tables[kMaxThreads];

struct BcastEntry {
  std::string prefix;
  uint64_t client;
  unsigned thread;
  bool noloop;
};
std::mutex g_bcast_mutex;
std::vector<BcastEntry> g_bcast;

// What one client is told.
struct Invalidation {
  bool flush = false;
  std::vector<std::string> keys;
};

void append_bulk(std::string& out, std::string_view s) {
  fmt::format_to(std::back_inserter(out), "${}\r\n", s.size());
  out.append(s);
  out.append("\r\n");
}

// The "value" part: the array of keys, or the flush null in the tracking client's protocol.
void append_payload(std::string& out, const Invalidation& inv, int tracking_resp) {
  if (inv.flush) {
    out.append(tracking_resp >= 3 ? "_\r\n" : "$-1\r\n");
    return;
  }
  fmt::format_to(std::back_inserter(out), "*{}\r\n", inv.keys.size());
  for (const auto& k : inv.keys) append_bulk(out, k);
}

std::string encode_push(const Invalidation& inv, int tracking_resp) {
  std::string out = ">2\r\n$10\r\ninvalidate\r\n";
  append_payload(out, inv, tracking_resp);
  return out;
}

std::string encode_pubsub(const Invalidation& inv, int tracking_resp) {
  std::string out = "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n";
  append_payload(out, inv, tracking_resp);
  return out;
}

std::shared_ptr<Connection> find_connection(ShardThread& thread, uint64_t id) {
  for (auto& c : thread.connections())
    if (c->session().id == id && !c->closed()) return c;
  return nullptr;
}

void remove_bcast(uint64_t client) {
  std::lock_guard lock(g_bcast_mutex);
  auto before = g_bcast.size();
  g_bcast.erase(std::remove_if(g_bcast.begin(), g_bcast.end(), [client](const BcastEntry& e) { return e.client == client; }),
                g_bcast.end());
  bcast_prefixes.fetch_sub(static_cast<int64_t>(before - g_bcast.size()), std::memory_order_relaxed);
}

void turn_off(ClientState& st, uint64_t id) {
  if (!st.on) return;
  if (st.bcast) remove_bcast(id);
  st = ClientState{.conn = st.conn};
  clients_on.fetch_sub(1, std::memory_order_relaxed);
}

// Drops the states of connections that went away (this thread's).
void sweep(unsigned thread) {
  auto& states = g_clients[thread].states;
  for (auto it = states.begin(); it != states.end();) {
    auto conn = it->second.conn.lock();
    if (!conn || conn->closed()) {
      turn_off(it->second, it->first);
      it = states.erase(it);
    } else {
      ++it;
    }
  }
}

ClientState* find_state(unsigned thread, uint64_t id) {
  auto& states = g_clients[thread].states;
  auto it = states.find(id);
  return it == states.end() ? nullptr : &it->second;
}

void redirect_broken(Server& server, unsigned thread, uint64_t client, uint64_t target);

// On the tracking client's thread: tell it (or its REDIRECT target).
void deliver(Server& server, unsigned thread, uint64_t client, const Invalidation& inv, bool default_mode,
             uint64_t writer) {
  auto& states = g_clients[thread].states;
  auto it = states.find(client);
  if (it == states.end()) return;
  ClientState& st = it->second;
  if (!st.on) return;
  if (default_mode && st.bcast) return;
  if (!inv.flush && st.noloop && client == writer) return;
  auto conn = st.conn.lock();
  if (!conn || conn->closed()) {
    turn_off(st, client);
    states.erase(it);
    return;
  }
  const int resp = conn->session().resp;
  if (st.redirect == 0) {
    if (resp >= 3) conn->push_message(encode_push(inv, resp));
    return;
  }
  const uint64_t target = st.redirect;
  const unsigned tthread = st.redirect_thread;
  auto send = [&server, tthread, target, thread, client, inv, resp] {
    auto t = find_connection(server.shard(tthread), target);
    if (!t) {
      if (thread == tthread)
        redirect_broken(server, thread, client, target);
      else
        server.shard(thread).post([&server, thread, client, target] { redirect_broken(server, thread, client, target); });
      return;
    }
    if (t->session().resp >= 3)
      t->push_message(encode_push(inv, resp));
    else if (t->session().subscribed())
      t->push_message(encode_pubsub(inv, resp));
  };
  if (tthread == thread && target != writer)
    send();
  else
    server.shard(tthread).post(std::move(send));
}

void redirect_broken(Server& server, unsigned thread, uint64_t client, uint64_t target) {
  (void)server;
  ClientState* st = find_state(thread, client);
  if (!st || !st->on || st->redirect != target) return;
  st->broken = true;
  auto conn = st->conn.lock();
  if (conn && !conn->closed() && conn->session().resp >= 3)
    conn->push_message(fmt::format(">2\r\n$21\r\ntracking-redir-broken\r\n:{}\r\n", target));
}

struct Item {
  uint64_t client;
  Invalidation inv;
  bool default_mode;
  std::string prefix;  // BCAST
};

void flush_bcast(Server& server, unsigned thread) {
  auto& tc = g_clients[thread];
  tc.flush_posted = false;
  auto pending = std::move(tc.pending);
  tc.pending.clear();
  for (auto& [client, prefixes] : pending)
    for (auto& [prefix, keys] : prefixes) {
      Invalidation inv{false, std::vector<std::string>(keys.begin(), keys.end())};
      deliver(server, thread, client, inv, false, 0);
    }
}

// On the client's thread: an item for one of its clients.
void receive(Server& server, unsigned thread, Item& it, uint64_t writer) {
  if (it.default_mode) {
    deliver(server, thread, it.client, it.inv, true, writer);
    return;
  }
  auto& tc = g_clients[thread];
  auto& keys = tc.pending[it.client][it.prefix];
  for (auto& k : it.inv.keys) keys.insert(std::move(k));
  if (!tc.flush_posted) {
    tc.flush_posted = true;
    server.shard(thread).post([&server, thread] { flush_bcast(server, thread); });
  }
}



// Hands each item to its client's thread: at once for other clients of this
// thread, posted for the writer itself (its reply first) and other threads.
void dispatch_items(ShardThread& shard, std::vector<std::pair<unsigned, Item>>& items, uint64_t writer,
                    bool reply_done) {
  Server& server = shard.server();
  std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  size_t i = 0;
  while (i < items.size()) {
    const unsigned thread = items[i].first;
    std::vector<Item> batch;
    bool has_writer = false;
    for (; i < items.size() && items[i].first == thread; ++i) {
      has_writer |= items[i].second.client == writer;
      batch.push_back(std::move(items[i].second));
    }
    if (thread == shard.index() && (!has_writer || reply_done)) {
      for (auto& it : batch) receive(server, thread, it, writer);
    } else {
      server.shard(thread).post([&server, thread, writer, batch = std::move(batch)]() mutable {
        for (auto& it : batch) receive(server, thread, it, writer);
      });
    }
  }
}

void collect_changes(ShardThread& shard, std::span<const std::string_view> keys, uint64_t writer, bool reply_done) {
  std::vector<std::pair<unsigned, Item>> items;
  auto& table = g_tables[shard.index()].keys;
  if (!table.empty()) {
    for (auto key : keys) {
      auto it = table.find(std::string(key));
      if (it == table.end()) continue;
      for (auto [client, thread] : it->second)
        items.push_back({thread, Item{client, Invalidation{false, {std::string(key)}}, true, {}}});
      table.erase(it);
    }
  }
  if (bcast_prefixes.load(std::memory_order_relaxed) > 0) {
    std::lock_guard lock(g_bcast_mutex);
    for (const auto& e : g_bcast) {
      if (e.noloop && e.client == writer) continue;
      Invalidation inv;
      for (auto key : keys)
        if (key.starts_with(e.prefix) && std::find(inv.keys.begin(), inv.keys.end(), key) == inv.keys.end())
          inv.keys.emplace_back(key);
      if (!inv.keys.empty()) items.push_back({e.thread, Item{e.client, std::move(inv), false, e.prefix}});
    }
  }
  if (!items.empty()) dispatch_items(shard, items, writer, reply_done);
}

std::string_view flag_name_switch_optin =
    "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it "
    "with a different mode.";

struct TrackingRequest {
  bool on = false;
  bool bcast = false, optin = false, optout = false, noloop = false;
  bool has_redirect = false;
  uint64_t redirect = 0;
  unsigned redirect_thread = 0;
  std::vector<std::string> prefixes;
};

bool overlap(std::string_view a, std::string_view b) { return a.starts_with(b) || b.starts_with(a); }

// Applies CLIENT TRACKING on the client's thread, after any REDIRECT target was found.
void apply_tracking(Connection& conn, protocol::ReplyBuilder& reply, const TrackingRequest& req) {
  const unsigned thread = conn.thread().index();
  const uint64_t id = conn.session().id;
  sweep(thread);
  auto& states = g_clients[thread].states;
  ClientState* st = find_state(thread, id);
  if (!req.on) {
    if (st) {
      turn_off(*st, id);
      states.erase(id);
    }
    reply.ok();
    return;
  }
  const bool was_on = st && st->on;
  if (!req.bcast && !req.prefixes.empty()) {
    reply.error("ERR PREFIX option requires BCAST mode to be enabled");
    return;
  }
  if (was_on && st->bcast != req.bcast) {
    reply.error(
        "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it "
        "with a different mode.");
    return;
  }
  if (req.optin && req.optout) {
    reply.error("ERR You can't specify both OPTIN mode and OPTOUT mode");
    return;
  }
  if (was_on && ((req.optin && st->optout) || (req.optout && st->optin))) {
    reply.error(flag_name_switch_optin);
    return;
  }
  if (req.bcast && (req.optin || req.optout)) {
    reply.error("ERR OPTIN and OPTOUT are not compatible with BCAST");
    return;
  }
  if (req.bcast) {
    for (size_t i = 0; i < req.prefixes.size(); ++i) {
      const std::string& p = req.prefixes[i];
      if (was_on)
        for (const auto& existing : st->prefixes)
          if (overlap(p, existing)) {
            reply.error(fmt::format("ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single "
                                    "client must not overlap.",
                                    p, existing));
            return;
          }
      for (size_t j = 0; j < req.prefixes.size(); ++j)
        if (i != j && overlap(p, req.prefixes[j])) {
          reply.error(fmt::format("ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a "
                                  "single client must not overlap.",
                                  p, req.prefixes[j]));
          return;
        }
    }
  }
  if (!st) {
    st = &states[id];
    st->conn = conn.shared_from_this();
  }
  if (!st->on) {
    st->on = true;
    clients_on.fetch_add(1, std::memory_order_relaxed);
  }
  st->bcast = req.bcast;
  st->optin = req.optin;
  st->optout = req.optout;
  st->noloop = req.noloop;
  st->broken = false;
  st->redirect = req.has_redirect ? req.redirect : 0;
  st->redirect_thread = req.redirect_thread;
  if (req.bcast) {
    std::vector<std::string> added = req.prefixes;
    if (added.empty()) added.emplace_back();
    std::lock_guard lock(g_bcast_mutex);
    for (auto& e : g_bcast)
      if (e.client == id) e.noloop = req.noloop;
    for (auto& p : added) {
      if (!st->prefixes.insert(p).second) continue;
      g_bcast.push_back({p, id, thread, req.noloop});
      bcast_prefixes.fetch_add(1, std::memory_order_relaxed);
    }
  }
  reply.ok();
}

ClientState* own_state(ConnectionContext& ctx) {
  return find_state(ctx.thread.index(), ctx.session.id);
}

}  // namespace

TrackingReader tracking_reader_for(Connection& conn, const CommandSpec& spec) {
  if (!(spec.flags & kCmdReadonly) || !tracking_active()) return {};
  const unsigned thread = conn.thread().index();
  ClientState* st = find_state(thread, conn.session().id);
  if (!st || !st->on || st->bcast) return {};
  if (st->optin && !st->effective) return {};
  if (st->optout && st->effective) return {};
  return TrackingReader{conn.session().id, thread};
}

TrackingReader tracking_before_command(Connection& conn, const CommandSpec& spec) {
  ClientState* st = find_state(conn.thread().index(), conn.session().id);
  if (!st) return {};
  st->effective = st->caching;
  if (!spec.name.starts_with("client") && spec.name != "multi") st->caching = false;
  return tracking_reader_for(conn, spec);
}

void tracking_remember(ShardThread& shard, const TrackingReader& reader, std::span<const std::string_view> keys) {
  if (!reader) return;
  auto& table = g_tables[shard.index()].keys;
  for (auto key : keys) {
    auto& list = table[std::string(key)];
    bool present = std::any_of(list.begin(), list.end(), [&](const auto& e) { return e.first == reader.client; });
    if (!present) list.emplace_back(reader.client, reader.thread);
  }
}

void tracking_remember_args(ShardThread& shard, const TrackingReader& reader, const CommandSpec& spec,
                            const protocol::ArgList& args) {
  if (!reader) return;
  std::vector<int> indexes;
  if (!extract_keys(spec, args, indexes)) return;
  std::vector<std::string_view> names;
  names.reserve(indexes.size());
  for (int i : indexes) names.push_back(args[i]);
  tracking_remember(shard, reader, names);
}

bool tracking_wants_changes(const ShardThread& shard) {
  return !g_tables[const_cast<ShardThread&>(shard).index()].keys.empty() ||
         bcast_prefixes.load(std::memory_order_relaxed) > 0;
}

void tracking_keys_changed(ShardThread& shard, const ChangedKeys& changed, uint64_t writer, bool reply_done) {
  if (changed.empty() || !tracking_wants_changes(shard)) return;
  std::vector<std::string_view> keys;
  keys.reserve(changed.size());
  for (const auto& [db, key] : changed) keys.push_back(key);
  collect_changes(shard, keys, writer, reply_done);
}

void tracking_key_changed(ShardThread& shard, std::string_view key, uint64_t writer) {
  if (!tracking_wants_changes(shard)) return;
  std::string_view one[] = {key};
  collect_changes(shard, one, writer, false);
}

void tracking_flush(Server& server, ShardThread& from, uint64_t writer, std::function<void()> then) {
  struct FanOut {
    std::atomic<unsigned> remaining;
    std::function<void()> then;
  };
  auto state = std::make_shared<FanOut>();
  state->remaining = server.shard_count();
  state->then = std::move(then);
  ShardThread* home = &from;
  for (unsigned i = 0; i < server.shard_count(); ++i) {
    ShardThread& shard = server.shard(i);
    shard.post([state, &shard, &server, home, writer] {
      g_tables[shard.index()].keys.clear();
      std::vector<uint64_t> ids;
      for (auto& [id, st] : g_clients[shard.index()].states)
        if (st.on) ids.push_back(id);
      Invalidation inv{true, {}};
      for (uint64_t id : ids) deliver(server, shard.index(), id, inv, false, writer);
      if (state->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1)
        home->post([state] {
          auto then = std::move(state->then);
          then();
        });
    });
  }
}

void client_tracking_command(ConnectionContext& ctx) {
  const auto& args = ctx.args;
  TrackingRequest req;
  std::string error;
  std::vector<uint64_t> redirects;  // looked up in order; a missing one wins over later errors
  for (size_t i = 3; i < args.size(); ++i) {
    const bool more = i + 1 < args.size();
    std::string_view a = args[i];
    if (is_option(a, "redirect") && more) {
      int64_t v;
      if (!parse_int64(args[++i], v)) {
        error = errors::kNotInteger;
        break;
      }
      req.has_redirect = true;
      req.redirect = static_cast<uint64_t>(v);
      redirects.push_back(static_cast<uint64_t>(v));
    } else if (is_option(a, "bcast")) {
      req.bcast = true;
    } else if (is_option(a, "optin")) {
      req.optin = true;
    } else if (is_option(a, "optout")) {
      req.optout = true;
    } else if (is_option(a, "noloop")) {
      req.noloop = true;
    } else if (is_option(a, "prefix") && more) {
      req.prefixes.emplace_back(args[++i]);
    } else {
      error = errors::kSyntax;
      break;
    }
  }
  if (error.empty()) {
    if (is_option(args[2], "on"))
      req.on = true;
    else if (!is_option(args[2], "off"))
      error = errors::kSyntax;
  }
  if (redirects.empty()) {
    if (!error.empty())
      ctx.reply.error(error);
    else
      apply_tracking(ctx.connection(), ctx.reply, req);
    return;
  }
  // Find the REDIRECT targets' threads.
  struct Lookup {
    std::vector<uint64_t> ids;
    std::vector<std::atomic<int>> found;
    explicit Lookup(std::vector<uint64_t> v) : ids(std::move(v)), found(ids.size()) {
      for (auto& f : found) f.store(-1);
    }
  };
  auto lookup = std::make_shared<Lookup>(std::move(redirects));
  Connection* conn = &ctx.connection();
  auto& reply = ctx.reply;
  ctx.for_each_shard_reading(
      [lookup](ShardThread& shard) {
        for (auto& c : shard.connections()) {
          if (c->closed()) continue;
          for (size_t i = 0; i < lookup->ids.size(); ++i)
            if (c->session().id == lookup->ids[i]) lookup->found[i].store(static_cast<int>(shard.index()));
        }
      },
      [lookup, conn, &reply, req, error]() mutable {
        for (size_t i = 0; i < lookup->ids.size(); ++i)
          if (lookup->found[i].load() < 0) {
            reply.error("ERR The client ID you want redirect to does not exist");
            return;
          }
        if (!error.empty()) {
          reply.error(error);
          return;
        }
        req.redirect_thread = static_cast<unsigned>(lookup->found.back().load());
        apply_tracking(*conn, reply, req);
      });
}

void client_caching_command(ConnectionContext& ctx) {
  ClientState* st = own_state(ctx);
  if (!st || !st->on || !(st->optin || st->optout)) {
    ctx.reply.error(
        "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode "
        "enabled");
    return;
  }
  std::string_view v = ctx.args[2];
  if (is_option(v, "yes")) {
    if (!st->optin) {
      ctx.reply.error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
      return;
    }
  } else if (is_option(v, "no")) {
    if (!st->optout) {
      ctx.reply.error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
      return;
    }
  } else {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  st->caching = true;
  ctx.reply.ok();
}

void client_getredir_command(ConnectionContext& ctx) {
  ClientState* st = own_state(ctx);
  if (!st || !st->on)
    ctx.reply.integer(-1);
  else
    ctx.reply.integer(static_cast<int64_t>(st->redirect));
}

void client_trackinginfo_command(ConnectionContext& ctx) {
  ClientState* st = own_state(ctx);
  const bool on = st && st->on;
  std::vector<std::string_view> flags;
  if (!on) {
    flags.push_back("off");
  } else {
    flags.push_back("on");
    if (st->bcast) flags.push_back("bcast");
    if (st->optin) flags.push_back("optin");
    if (st->optout) flags.push_back("optout");
    if (st->caching) flags.push_back(st->optin ? "caching-yes" : "caching-no");
    if (st->noloop) flags.push_back("noloop");
    if (st->broken) flags.push_back("broken_redirect");
  }
  auto& r = ctx.reply;
  r.map(3);
  r.bulk("flags");
  r.set(flags.size());
  for (auto f : flags) r.bulk(f);
  r.bulk("redirect");
  r.integer(on ? static_cast<int64_t>(st->redirect) : -1);
  r.bulk("prefixes");
  if (on) {
    r.array(st->prefixes.size());
    for (const auto& p : st->prefixes) r.bulk(p);
  } else {
    r.array(0);
  }
}

void tracking_disable(Connection& conn) {
  const unsigned thread = conn.thread().index();
  const uint64_t id = conn.session().id;
  auto& states = g_clients[thread].states;
  auto it = states.find(id);
  if (it == states.end()) return;
  turn_off(it->second, id);
  states.erase(it);
}

size_t tracking_table_keys() {
  size_t n = 0;
  for (auto& t : g_tables) n += t.keys.size();
  return n;
}

size_t tracking_client_states() {
  size_t n = 0;
  for (auto& t : g_clients) n += t.states.size();
  return n;
}

}  // namespace distcache::server
