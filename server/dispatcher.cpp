#include "server/dispatcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "server/cluster/slot.h"
#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/connection.h"
#include "server/connection_context.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/transaction.h"

namespace distcache::server {
namespace {

// Redis prints names and arguments of rejected commands as C strings, truncated.
std::string_view truncated_c_string(std::string_view s, size_t max) {
  s = c_string_prefix(s);
  return s.substr(0, std::min(s.size(), max));
}

void reply_unknown_command(protocol::ReplyBuilder& reply, const protocol::ArgList& args) {
  std::string listed;
  for (size_t i = 1; i < args.size() && listed.size() < 128; ++i)
    fmt::format_to(std::back_inserter(listed), "'{}' ", truncated_c_string(args[i], 128 - listed.size()));
  reply.error(fmt::format("ERR unknown command '{}', with args beginning with: {}", truncated_c_string(args[0], 128),
                          listed));
}

void reply_wrong_arity(protocol::ReplyBuilder& reply, const CommandSpec& spec) {
  reply.error(fmt::format("ERR wrong number of arguments for '{}' command", spec.name));
}

void reply_unknown_subcommand(protocol::ReplyBuilder& reply, const CommandSpec& parent, std::string_view sub) {
  std::string upper(parent.name);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  reply.error(fmt::format("ERR unknown subcommand '{}'. Try {} HELP.", truncated_c_string(sub, 128), upper));
}

struct KeyRef {
  unsigned shard;
  int index;  // argument index
};

// A copy of one key taken from its shard, carried to the coordinator.
struct GatheredKey {
  int db;
  std::string name;
  bool present = false;
  storage::Value value;
  int64_t expire_at = storage::kNoExpiry;
};

// Database of the key at argument `index`: the client's, except for COPY's destination with DB.
int key_database(const CommandSpec& spec, const protocol::ArgList& args, int index, int client_db) {
  if (spec.name == "copy" && index == 2) {
    for (size_t i = 3; i + 1 < args.size(); ++i) {
      std::string_view a = args[i];
      if (a.size() == 2 && (a[0] == 'd' || a[0] == 'D') && (a[1] == 'b' || a[1] == 'B')) {
        int v = 0;
        std::string_view n = args[i + 1];
        if (n.empty() || n.size() > 9 || !std::all_of(n.begin(), n.end(), ::isdigit)) return client_db;
        for (char c : n) v = v * 10 + (c - '0');
        return v;
      }
    }
  }
  return client_db;
}

void run_multi_shard(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args,
                     const std::vector<KeyRef>& keys, int64_t now_ms) {
  Server& server = conn.thread().server();
  const bool write = (spec.flags & kCmdWrite) != 0;
  const int client_db = conn.session().db;
  const size_t databases = conn.thread().keyspace().size();

  // One step per shard, sorted by shard; each collects copies of its keys.
  struct Gather {
    std::vector<GatheredKey> keys;
  };
  std::vector<unsigned> shards;
  for (const auto& k : keys) shards.push_back(k.shard);
  std::sort(shards.begin(), shards.end());
  shards.erase(std::unique(shards.begin(), shards.end()), shards.end());

  auto gathered = std::make_shared<std::vector<Gather>>(shards.size());
  std::vector<ShardStep> steps(shards.size());
  for (size_t s = 0; s < shards.size(); ++s) {
    steps[s].shard = shards[s];
    steps[s].lock.exclusive = write;
    for (const auto& k : keys) {
      if (k.shard != shards[s]) continue;
      int db = key_database(spec, args, k.index, client_db);
      if (db < 0 || static_cast<size_t>(db) >= databases) db = client_db;
      std::string name(args[k.index]);
      bool duplicate = std::any_of(steps[s].lock.keys.begin(), steps[s].lock.keys.end(),
                                   [&](const LockRequest::Key& lk) { return lk.db == db && lk.name == name; });
      if (duplicate) continue;
      steps[s].lock.keys.push_back({db, name});
      (*gathered)[s].keys.push_back(GatheredKey{db, std::move(name), false, {}, storage::kNoExpiry});
    }
    steps[s].on_locked = [gathered, s, now_ms](ShardThread& shard) {
      for (auto& g : (*gathered)[s].keys) {
        storage::Db& db = shard.keyspace().db(g.db);
        if (storage::Value* v = db.find(g.name, now_ms)) {
          g.present = true;
          g.value = v->clone();
          g.expire_at = db.expire_at(g.name);
        }
      }
    };
    if (write) {
      steps[s].on_release = [gathered, s, now_ms](ShardThread& shard) {
        for (auto& g : (*gathered)[s].keys) {
          storage::Db& db = shard.keyspace().db(g.db);
          if (g.present) {
            db.set(g.name, std::move(g.value));
            if (g.expire_at != storage::kNoExpiry) db.set_expire(g.name, g.expire_at);
          } else {
            db.erase(g.name, now_ms);
          }
        }
      };
    }
  }

  auto resume = conn.suspend();
  Connection* c = &conn;
  auto body = [c, &spec, &args, gathered, client_db, now_ms, databases, write] {
    // Run the ordinary handler over a scratch keyspace holding the copies.
    storage::Keyspace scratch(databases);
    for (auto& part : *gathered)
      for (auto& g : part.keys)
        if (g.present) {
          scratch.db(g.db).set(g.name, std::move(g.value));
          if (g.expire_at != storage::kNoExpiry) scratch.db(g.db).set_expire(g.name, g.expire_at);
        }
    run_keyed(spec, args, c->reply(), scratch, client_db, now_ms, c->thread().server().config());
    if (!write) return;
    // Hand the results back to the owning shards (applied in on_release).
    for (auto& part : *gathered)
      for (auto& g : part.keys) {
        storage::Db& db = scratch.db(g.db);
        storage::Value* v = db.find(g.name, now_ms);
        g.present = v != nullptr;
        if (v) {
          g.expire_at = db.expire_at(g.name);
          g.value = std::move(*v);
        }
      }
  };
  run_shard_transaction(server, conn.thread(), std::move(steps), std::move(body), std::move(resume));
}

void run_single_shard(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args,
                      unsigned shard_index, const std::vector<KeyRef>& keys, int64_t now_ms) {
  ShardThread& home = conn.thread();
  Server& server = home.server();
  const int db = conn.session().db;
  const bool write = (spec.flags & kCmdWrite) != 0;
  auto key_names = [&args, keys] {
    std::vector<std::string_view> names;
    names.reserve(keys.size());
    for (const auto& k : keys) names.push_back(args[k.index]);
    return names;
  };

  if (shard_index == home.index()) {
    if (home.locks().empty()) {  // the common case: no transaction in flight here
      run_keyed(spec, args, conn.reply(), home.keyspace(), db, now_ms, server.config());
      return;
    }
    auto names = key_names();
    auto ready = [&home, names, db, write] { return !home.locks().blocks(db, names, write); };
    if (ready()) {
      run_keyed(spec, args, conn.reply(), home.keyspace(), db, now_ms, server.config());
      return;
    }
    auto resume = conn.suspend();
    Connection* c = &conn;
    home.run_when(std::move(ready), [c, &spec, &args, db, now_ms, resume] {
      run_keyed(spec, args, c->reply(), c->thread().keyspace(), db, now_ms, c->thread().server().config());
      resume();
    });
    return;
  }

  // The keys live on another thread: run there, bring the reply bytes back.
  // The connection is suspended, so `args` stays untouched until we resume.
  auto resume = conn.suspend();
  Connection* c = &conn;
  ShardThread& owner = server.shard(shard_index);
  // `resume` keeps the connection alive; it travels with the work and is only
  // run and destroyed on the connection's own thread.
  owner.post([c, &owner, &spec, &args, db, now_ms, write, names = key_names(), resume = std::move(resume),
              &home]() mutable {
    auto execute = [c, &owner, &spec, &args, db, now_ms, resume = std::move(resume), &home]() mutable {
      std::string& out = c->remote_reply();
      out.clear();
      protocol::ReplyBuilder reply(&out, c->session().resp);
      run_keyed(spec, args, reply, owner.keyspace(), db, now_ms, owner.server().config());
      home.post([c, resume = std::move(resume)] {
        c->reply().raw(c->remote_reply());
        resume();
      });
    };
    owner.run_when([&owner, names, db, write] { return !owner.locks().blocks(db, names, write); },
                   std::move(execute));
  });
}

}  // namespace

void run_keyed(const CommandSpec& spec, const protocol::ArgList& args, protocol::ReplyBuilder& reply,
               storage::Keyspace& keyspace, int db, int64_t now_ms, const Config& config) {
  CommandContext ctx{args, reply, keyspace, db, now_ms, config};
  spec.keyed(ctx);
}

void dispatch_command(Connection& conn, const protocol::ArgList& args) {
  protocol::ReplyBuilder& reply = conn.reply();
  ClientSession& session = conn.session();
  const CommandSpec* spec = CommandTable::instance().find(args[0]);
  if (!spec) {
    reply_unknown_command(reply, args);
    return;
  }
  // Container commands (CONFIG, CLIENT...) dispatch on their subcommand; one
  // that also works alone (COMMAND) has a handler of its own.
  if (!spec->subcommands.empty() && (args.size() >= 2 || !spec->connection)) {
    if (args.size() < 2) {
      reply_wrong_arity(reply, *spec);
      return;
    }
    const CommandSpec* sub = CommandTable::find_subcommand(*spec, args[1]);
    if (!sub) {
      reply_unknown_subcommand(reply, *spec, args[1]);
      return;
    }
    spec = sub;
  }
  if (!arity_ok(*spec, args.size())) {
    reply_wrong_arity(reply, *spec);
    return;
  }
  if (!session.authenticated && !(spec->flags & kCmdNoAuth)) {
    reply.error("NOAUTH Authentication required.");
    return;
  }

  Server& server = conn.thread().server();
  session.last_command = spec->name;
  ++session.commands_processed;
  server.stats().commands_processed.fetch_add(1, std::memory_order_relaxed);
  const int64_t now_ms = unix_time_ms();

  if (spec->connection) {
    ConnectionContext ctx(args, reply, session, server, conn.thread(), *spec, now_ms, conn);
    spec->connection(ctx);
    return;
  }

  // A keyed command: find the shards of its keys.
  const unsigned shard_count = server.shard_count();
  if (shard_count == 1) {
    run_single_shard(conn, *spec, args, 0, {}, now_ms);
    return;
  }
  thread_local std::vector<int> key_indexes;
  key_indexes.clear();
  std::vector<KeyRef> keys;
  if (extract_keys(*spec, args, key_indexes)) {
    keys.reserve(key_indexes.size());
    for (int i : key_indexes) keys.push_back({shard_of_key(args[i], shard_count), i});
  }
  if (keys.empty()) {
    run_single_shard(conn, *spec, args, conn.thread().index(), keys, now_ms);
    return;
  }
  unsigned first = keys.front().shard;
  bool single = std::all_of(keys.begin(), keys.end(), [first](const KeyRef& k) { return k.shard == first; });
  if (single)
    run_single_shard(conn, *spec, args, first, keys, now_ms);
  else
    run_multi_shard(conn, *spec, args, keys, now_ms);
}

}  // namespace distcache::server
