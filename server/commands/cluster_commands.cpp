// CLUSTER subcommands, ASKING, READONLY, READWRITE and MIGRATE (Redis 7.0
// replies and error texts). The cluster's state lives in server/cluster/.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "persistence/dump_payload.h"
#include "server/cluster/cluster_bus.h"
#include "server/cluster/cluster_state.h"
#include "server/cluster/redirect.h"
#include "server/cluster/slot.h"
#include "server/command.h"
#include "server/command_table.h"
#include "server/cluster/commands.h"
#include "server/commands/arg_util.h"
#include "server/config.h"
#include "server/connection_context.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "storage/numbers.h"

namespace distcache::server {
namespace {

using cluster::ClusterState;
using cluster::Node;

constexpr std::string_view kDisabled = "ERR This instance has cluster support disabled";
constexpr std::string_view kBadSlot = "ERR Invalid or out of range slot";

ClusterState* require_cluster(ConnectionContext& ctx) {
  ClusterState* st = cluster::state();
  if (!st) ctx.reply.error(kDisabled);
  return st;
}

// Parses a slot like Redis's getSlotOrReply.
bool slot_arg(ConnectionContext& ctx, std::string_view s, unsigned& slot) {
  int64_t v;
  if (!storage::parse_int64(s, v) || v < 0 || v >= static_cast<int64_t>(kClusterSlots)) {
    ctx.reply.error(kBadSlot);
    return false;
  }
  slot = static_cast<unsigned>(v);
  return true;
}

void after_change(ClusterState& st, int64_t now_ms) {
  st.update_state(now_ms);
  st.save();
}

// Runs `work` (which only reads) on the thread of the shard holding `slot`,
// then `then` on the client's thread, unless the client was answered BUSY
// meanwhile (a script there ran past busy-reply-threshold).
void on_slot_shard(ConnectionContext& ctx, unsigned slot, std::function<void(ShardThread&)> work,
                   std::function<void()> then) {
  ShardThread& owner = ctx.server.shard(shard_of_slot(slot, ctx.server.shard_count()));
  ShardThread& home = ctx.thread;
  auto resume = ctx.suspend();
  owner.post([&owner, &home, work = std::move(work), then = std::move(then), resume = std::move(resume),
              claim = ctx.busy_claim()]() mutable {
    work(owner);
    home.post([then = std::move(then), resume = std::move(resume), claim = std::move(claim)]() mutable {
      if (claim && !claim()) return;  // answered and resumed by busy mode; `resume` is dropped here
      then();
      resume();
    });
  });
}

size_t count_keys_in_slot(ShardThread& shard, unsigned slot, int64_t now) {
  const storage::Db& db = shard.keyspace().db(0);
  if (db.key_groups_enabled()) return db.key_group_size(slot);  // the per-slot index (cluster::start)
  size_t n = 0;
  shard.keyspace().db(0).for_each(now, [&](std::string_view key, const storage::Value&) {
    if (key_hash_slot(key) == slot) ++n;
  });
  return n;
}

// ---- CLUSTER subcommands

void cluster_help(ConnectionContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ADDSLOTS <slot> [<slot> ...]",
      "    Assign slots to current node.",
      "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
      "    Assign slots which are between <start-slot> and <end-slot> to current node.",
      "BUMPEPOCH",
      "    Advance the cluster config epoch.",
      "COUNT-FAILURE-REPORTS <node-id>",
      "    Return number of failure reports for <node-id>.",
      "COUNTKEYSINSLOT <slot>",
      "    Return the number of keys in <slot>.",
      "DELSLOTS <slot> [<slot> ...]",
      "    Delete slots information from current node.",
      "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
      "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
      "FAILOVER [FORCE|TAKEOVER]",
      "    Promote current replica node to being a master.",
      "FORGET <node-id>",
      "    Remove a node from the cluster.",
      "GETKEYSINSLOT <slot> <count>",
      "    Return key names stored by current node in a slot.",
      "FLUSHSLOTS",
      "    Delete current node own slots information.",
      "INFO",
      "    Return information about the cluster.",
      "KEYSLOT <key>",
      "    Return the hash slot for <key>.",
      "MEET <ip> <port> [<bus-port>]",
      "    Connect nodes into a working cluster.",
      "MYID",
      "    Return the node id.",
      "MYSHARDID",
      "    Return the node's shard id.",
      "NODES",
      "    Return cluster configuration seen by node. Output format:",
      "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
      "REPLICATE <node-id>",
      "    Configure current node as replica to <node-id>.",
      "RESET [HARD|SOFT]",
      "    Reset current node (default: soft).",
      "SET-CONFIG-EPOCH <epoch>",
      "    Set config epoch of current node.",
      "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
      "    Set slot state.",
      "REPLICAS <node-id>",
      "    Return <node-id> replicas.",
      "SAVECONFIG",
      "    Force saving cluster configuration on disk.",
      "SLOTS",
      "    Return information about slots range mappings. Each range is made of:",
      "    start, end, master and replicas IP addresses, ports and ids",
      "SHARDS",
      "    Return information about slot range mappings and the nodes associated with them.",
      "LINKS",
      "    Return information about all network links between this node and its peers.",
      "    Output format is an array where each array element is a map containing attributes of a link",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.array(std::size(kLines));
  for (auto l : kLines) ctx.reply.simple(l);
}

void cluster_keyslot(ConnectionContext& ctx) {
  if (!require_cluster(ctx)) return;
  ctx.reply.integer(key_hash_slot(ctx.args[2]));
}

void cluster_myid(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  std::lock_guard lock(st->mutex());
  ctx.reply.bulk(st->myself()->id);
}

void cluster_myshardid(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  std::lock_guard lock(st->mutex());
  ctx.reply.bulk(ClusterState::shard_id_of(st->myself()->id));
}

void cluster_info(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  std::lock_guard lock(st->mutex());
  ctx.reply.verbatim(st->info_text());
}

void cluster_nodes(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  std::lock_guard lock(st->mutex());
  ctx.reply.verbatim(st->nodes_text(ctx.now_ms));
}

void reply_node_endpoint(ConnectionContext& ctx, const Node& n) {
  ctx.reply.array(4);
  ctx.reply.bulk(n.ip);
  ctx.reply.integer(n.port);
  ctx.reply.bulk(n.id);
  ctx.reply.map(0);
}

void cluster_slots(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  std::lock_guard lock(st->mutex());
  struct Range {
    unsigned start, end;
    Node* node;
  };
  std::vector<Range> ranges;
  for (unsigned s = 0; s < kClusterSlots; ++s) {
    Node* o = st->owner(s);
    if (!o || (o->flags & cluster::kFail)) continue;
    if (!ranges.empty() && ranges.back().node == o && ranges.back().end + 1 == s)
      ranges.back().end = s;
    else
      ranges.push_back({s, s, o});
  }
  ctx.reply.array(ranges.size());
  for (auto& r : ranges) {
    ctx.reply.array(3);
    ctx.reply.integer(r.start);
    ctx.reply.integer(r.end);
    reply_node_endpoint(ctx, *r.node);
  }
}

void cluster_shards(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  std::lock_guard lock(st->mutex());
  std::vector<Node*> masters;
  for (Node* n : st->nodes_sorted())
    if ((n->flags & cluster::kMaster) && !(n->flags & cluster::kHandshake)) masters.push_back(n);
  ctx.reply.array(masters.size());
  for (Node* n : masters) {
    std::vector<std::pair<unsigned, unsigned>> ranges;
    for (unsigned s = 0; s < kClusterSlots; ++s) {
      if (st->owner(s) != n) continue;
      if (!ranges.empty() && ranges.back().second + 1 == s)
        ranges.back().second = s;
      else
        ranges.emplace_back(s, s);
    }
    ctx.reply.map(2);
    ctx.reply.bulk("slots");
    ctx.reply.array(ranges.size() * 2);
    for (auto& [a, b] : ranges) {
      ctx.reply.integer(a);
      ctx.reply.integer(b);
    }
    ctx.reply.bulk("nodes");
    ctx.reply.array(1);
    ctx.reply.map(7);
    ctx.reply.bulk("id");
    ctx.reply.bulk(n->id);
    ctx.reply.bulk("port");
    ctx.reply.integer(n->port);
    ctx.reply.bulk("ip");
    ctx.reply.bulk(n->ip);
    ctx.reply.bulk("endpoint");
    ctx.reply.bulk(n->ip);
    ctx.reply.bulk("role");
    ctx.reply.bulk("master");
    ctx.reply.bulk("replication-offset");
    ctx.reply.integer(0);
    ctx.reply.bulk("health");
    ctx.reply.bulk((n->flags & cluster::kFail) ? "failed" : "online");
  }
}

void cluster_links(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  std::lock_guard lock(st->mutex());
  struct L {
    const char* dir;
    Node* n;
    int64_t created;
  };
  std::vector<L> links;
  for (Node* n : st->nodes_sorted()) {
    if (n == st->myself()) continue;
    if (n->link_connected) links.push_back({"to", n, n->link_created});
    if (n->inbound_connected) links.push_back({"from", n, n->inbound_created});
  }
  ctx.reply.array(links.size());
  for (auto& l : links) {
    ctx.reply.map(6);
    ctx.reply.bulk("direction");
    ctx.reply.bulk(l.dir);
    ctx.reply.bulk("node");
    ctx.reply.bulk(l.n->id);
    ctx.reply.bulk("create-time");
    ctx.reply.integer(l.created);
    ctx.reply.bulk("events");
    ctx.reply.bulk("r");
    ctx.reply.bulk("send-buffer-allocated");
    ctx.reply.integer(0);
    ctx.reply.bulk("send-buffer-used");
    ctx.reply.integer(0);
  }
}

// ADDSLOTS / DELSLOTS and their RANGE forms.
void change_slots(ConnectionContext& ctx, bool add, bool range) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  const auto& args = ctx.args;
  if (range && args.size() % 2 == 1) {
    ctx.reply.error(fmt::format("ERR wrong number of arguments for 'cluster|{}' command",
                                add ? "addslotsrange" : "delslotsrange"));
    return;
  }
  std::vector<unsigned> slots;
  if (range) {
    for (size_t i = 2; i + 1 < args.size(); i += 2) {
      unsigned a, b;
      if (!slot_arg(ctx, args[i], a) || !slot_arg(ctx, args[i + 1], b)) return;
      if (a > b) {
        ctx.reply.error(fmt::format("ERR start slot number {} is greater than end slot number {}", a, b));
        return;
      }
      for (unsigned s = a; s <= b; ++s) slots.push_back(s);
    }
  } else {
    for (size_t i = 2; i < args.size(); ++i) {
      unsigned s;
      if (!slot_arg(ctx, args[i], s)) return;
      slots.push_back(s);
    }
  }
  std::lock_guard lock(st->mutex());
  std::vector<uint8_t> seen(kClusterSlots, 0);
  for (unsigned s : slots) {
    if (add && st->owner(s)) {
      ctx.reply.error(fmt::format("ERR Slot {} is already busy", s));
      return;
    }
    if (!add && !st->owner(s)) {
      ctx.reply.error(fmt::format("ERR Slot {} is already unassigned", s));
      return;
    }
    if (seen[s]++ == 1) {
      ctx.reply.error(fmt::format("ERR Slot {} specified multiple times", s));
      return;
    }
  }
  for (unsigned s : slots) {
    if (st->importing_from(s)) st->set_importing(s, nullptr);
    st->assign_slot(s, add ? st->myself() : nullptr);
  }
  after_change(*st, ctx.now_ms);
  ctx.reply.ok();
}

void cluster_addslots(ConnectionContext& ctx) { change_slots(ctx, true, false); }
void cluster_addslotsrange(ConnectionContext& ctx) { change_slots(ctx, true, true); }
void cluster_delslots(ConnectionContext& ctx) { change_slots(ctx, false, false); }
void cluster_delslotsrange(ConnectionContext& ctx) { change_slots(ctx, false, true); }

// Counts all keys of the node (db 0..n), then `then(total)`.
void with_key_count(ConnectionContext& ctx, std::function<void(size_t)> then) {
  auto counts = std::make_shared<std::vector<size_t>>(ctx.server.shard_count());
  ctx.for_each_shard_reading(
      [counts](ShardThread& s) {
        size_t n = 0;
        for (size_t d = 0; d < s.keyspace().size(); ++d) n += s.keyspace().db(d).size();
        (*counts)[s.index()] = n;
      },
      [counts, then = std::move(then)] {
        size_t total = 0;
        for (size_t c : *counts) total += c;
        then(total);
      });
}

void cluster_flushslots(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  auto& reply = ctx.reply;
  int64_t now = ctx.now_ms;
  with_key_count(ctx, [st, &reply, now](size_t keys) {
    if (keys != 0) {
      reply.error("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.");
      return;
    }
    std::lock_guard lock(st->mutex());
    for (unsigned s = 0; s < kClusterSlots; ++s)
      if (st->owner(s) == st->myself()) st->assign_slot(s, nullptr);
    after_change(*st, now);
    reply.ok();
  });
}

void cluster_reset(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  bool hard = false;
  if (ctx.args.size() == 3) {
    if (is_option(ctx.args[2], "hard"))
      hard = true;
    else if (!is_option(ctx.args[2], "soft")) {
      ctx.reply.error(errors::kSyntax);
      return;
    }
  } else if (ctx.args.size() > 3) {
    ctx.reply.error("ERR unknown subcommand or wrong number of arguments for 'reset'. Try CLUSTER HELP.");
    return;
  }
  auto& reply = ctx.reply;
  int64_t now = ctx.now_ms;
  with_key_count(ctx, [st, &reply, now, hard](size_t keys) {
    if (keys != 0) {
      reply.error("ERR CLUSTER RESET can't be called with master nodes containing keys");
      return;
    }
    std::lock_guard lock(st->mutex());
    st->reset(hard);
    after_change(*st, now);
    reply.ok();
  });
}

void cluster_countkeysinslot(ConnectionContext& ctx) {
  if (!require_cluster(ctx)) return;
  int64_t v;
  if (!storage::parse_int64(ctx.args[2], v)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  if (v < 0 || v >= static_cast<int64_t>(kClusterSlots)) {
    ctx.reply.error("ERR Invalid slot");
    return;
  }
  unsigned slot = static_cast<unsigned>(v);
  auto count = std::make_shared<size_t>(0);
  auto& reply = ctx.reply;
  int64_t now = ctx.now_ms;
  on_slot_shard(
      ctx, slot, [count, slot, now](ShardThread& s) { *count = count_keys_in_slot(s, slot, now); },
      [count, &reply] { reply.integer(static_cast<int64_t>(*count)); });
}

void cluster_getkeysinslot(ConnectionContext& ctx) {
  if (!require_cluster(ctx)) return;
  int64_t slot, max;
  if (!storage::parse_int64(ctx.args[2], slot) || !storage::parse_int64(ctx.args[3], max)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  if (slot < 0 || slot >= static_cast<int64_t>(kClusterSlots) || max < 0) {
    ctx.reply.error("ERR Invalid slot or number of keys");
    return;
  }
  auto keys = std::make_shared<std::vector<std::string>>();
  auto& reply = ctx.reply;
  int64_t now = ctx.now_ms;
  unsigned s = static_cast<unsigned>(slot);
  size_t limit = static_cast<size_t>(max);
  on_slot_shard(
      ctx, s,
      [keys, s, limit, now](ShardThread& shard) {
        if (limit == 0) return;
        storage::Db& db = shard.keyspace().db(0);
        if (db.key_groups_enabled()) {  // the per-slot index (cluster::start)
          *keys = db.key_group_keys(s, limit);
          return;
        }
        uint64_t cursor = 0;
        do {
          cursor = db.scan(cursor, 64, now, [&](std::string_view key, const storage::Value&) {
            if (keys->size() < limit && key_hash_slot(key) == s) keys->emplace_back(key);
          });
        } while (cursor != 0 && keys->size() < limit);
      },
      [keys, &reply] {
        reply.array(keys->size());
        for (auto& k : *keys) reply.bulk(k);
      });
}

void cluster_set_config_epoch(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  int64_t epoch;
  if (!storage::parse_int64(ctx.args[2], epoch)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  std::lock_guard lock(st->mutex());
  if (epoch < 0) {
    ctx.reply.error(fmt::format("ERR Invalid config epoch specified: {}", epoch));
  } else if (st->nodes().size() > 1) {
    ctx.reply.error("ERR The user can assign a config epoch only when the node does not know any other node.");
  } else if (st->myself()->config_epoch != 0) {
    ctx.reply.error("ERR Node config epoch is already non-zero");
  } else {
    st->myself()->config_epoch = static_cast<uint64_t>(epoch);
    if (st->current_epoch() < static_cast<uint64_t>(epoch)) st->set_current_epoch(static_cast<uint64_t>(epoch));
    after_change(*st, ctx.now_ms);
    ctx.reply.ok();
  }
}

void cluster_bumpepoch(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  std::lock_guard lock(st->mutex());
  bool bumped = st->bump_epoch_without_consensus();
  after_change(*st, ctx.now_ms);
  ctx.reply.simple(fmt::format("{} {}", bumped ? "BUMPED" : "STILL", st->myself()->config_epoch));
}

void cluster_saveconfig(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  std::lock_guard lock(st->mutex());
  if (st->save())
    ctx.reply.ok();
  else
    ctx.reply.error(fmt::format("ERR error saving the cluster node config: {}", strerror(errno)));
}

void cluster_forget(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  std::lock_guard lock(st->mutex());
  Node* n = st->find(ctx.args[2]);
  if (!n) {
    ctx.reply.error(fmt::format("ERR Unknown node {}", ctx.args[2]));
    return;
  }
  if (n == st->myself()) {
    ctx.reply.error("ERR I tried hard but I can't forget myself...");
    return;
  }
  st->blacklist(n->id, ctx.now_ms + 60000);
  st->remove_node(n);
  after_change(*st, ctx.now_ms);
  ctx.reply.ok();
}

void cluster_count_failure_reports(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  std::lock_guard lock(st->mutex());
  Node* n = st->find(ctx.args[2]);
  if (!n) {
    ctx.reply.error(fmt::format("ERR Unknown node {}", ctx.args[2]));
    return;
  }
  ctx.reply.integer(static_cast<int64_t>(n->fail_reports.size()));
}

void cluster_replicas(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  std::lock_guard lock(st->mutex());
  Node* n = st->find(ctx.args[2]);
  if (!n) {
    ctx.reply.error(fmt::format("ERR Unknown node {}", ctx.args[2]));
    return;
  }
  ctx.reply.array(0);
}

void cluster_replicate(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  std::lock_guard lock(st->mutex());
  Node* n = st->find(ctx.args[2]);
  if (!n) {
    ctx.reply.error(fmt::format("ERR Unknown node {}", ctx.args[2]));
    return;
  }
  if (n == st->myself()) {
    ctx.reply.error("ERR Can't replicate myself");
    return;
  }
  ctx.reply.error("ERR Replicas are not supported by distcache cluster nodes");
}

void cluster_failover(ConnectionContext& ctx) {
  if (!require_cluster(ctx)) return;
  if (ctx.args.size() == 3 && !is_option(ctx.args[2], "force") && !is_option(ctx.args[2], "takeover")) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  if (ctx.args.size() > 3) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  ctx.reply.error("ERR You should send CLUSTER FAILOVER to a replica");
}

bool valid_ip(const std::string& ip) {
  in_addr a4;
  in6_addr a6;
  return inet_pton(AF_INET, ip.c_str(), &a4) == 1 || inet_pton(AF_INET6, ip.c_str(), &a6) == 1;
}

void cluster_meet(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  const auto& args = ctx.args;
  if (args.size() > 5) {
    ctx.reply.error("ERR unknown subcommand or wrong number of arguments for 'meet'. Try CLUSTER HELP.");
    return;
  }
  int64_t port, cport;
  if (!storage::parse_int64(args[3], port)) {
    ctx.reply.error(fmt::format("ERR Invalid TCP base port specified: {}", args[3]));
    return;
  }
  if (args.size() == 5) {
    if (!storage::parse_int64(args[4], cport)) {
      ctx.reply.error(fmt::format("ERR Invalid TCP bus port specified: {}", args[4]));
      return;
    }
  } else {
    cport = port + 10000;
  }
  std::string ip(args[2]);
  if (!valid_ip(ip) || port <= 0 || port > 65535 || cport <= 0 || cport > 65535) {
    ctx.reply.error(fmt::format("ERR Invalid node address specified: {}:{}", args[2], args[3]));
    return;
  }
  cluster::meet(ip, static_cast<int>(port), static_cast<int>(cport));
  ctx.reply.ok();
}

void cluster_setslot(ConnectionContext& ctx) {
  ClusterState* st = require_cluster(ctx);
  if (!st) return;
  const auto& args = ctx.args;
  unsigned slot;
  if (!slot_arg(ctx, args[2], slot)) return;
  constexpr std::string_view kBadAction =
      "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP";
  std::string_view action = args[3];
  const bool has_node = args.size() == 5;
  std::unique_lock lock(st->mutex());
  if (is_option(action, "migrating") && has_node) {
    if (st->owner(slot) != st->myself()) {
      ctx.reply.error(fmt::format("ERR I'm not the owner of hash slot {}", slot));
      return;
    }
    Node* n = st->find(args[4]);
    if (!n) {
      ctx.reply.error(fmt::format("ERR I don't know about node {}", args[4]));
      return;
    }
    st->set_migrating(slot, n);
  } else if (is_option(action, "importing") && has_node) {
    if (st->owner(slot) == st->myself()) {
      ctx.reply.error(fmt::format("ERR I'm already the owner of hash slot {}", slot));
      return;
    }
    Node* n = st->find(args[4]);
    if (!n) {
      ctx.reply.error(fmt::format("ERR I don't know about node {}", args[4]));
      return;
    }
    st->set_importing(slot, n);
  } else if (is_option(action, "stable") && args.size() == 4) {
    st->set_migrating(slot, nullptr);
    st->set_importing(slot, nullptr);
  } else if (is_option(action, "node") && has_node) {
    Node* n = st->find(args[4]);
    if (!n) {
      ctx.reply.error(fmt::format("ERR Unknown node {}", args[4]));
      return;
    }
    std::string target = n->id;
    lock.unlock();
    // Giving a slot away needs it empty here: count its keys on its shard first.
    auto count = std::make_shared<size_t>(0);
    auto& reply = ctx.reply;
    int64_t now = ctx.now_ms;
    on_slot_shard(
        ctx, slot, [count, slot, now](ShardThread& s) { *count = count_keys_in_slot(s, slot, now); },
        [st, count, slot, target, &reply, now, &server = ctx.server] {
          std::lock_guard relock(st->mutex());
          Node* node = st->find(target);
          if (!node) {
            reply.error(fmt::format("ERR Unknown node {}", target));
            return;
          }
          Node* me = st->myself();
          if (st->owner(slot) == me && node != me && *count != 0) {
            reply.error(fmt::format(
                "ERR Can't assign hashslot {} to a different node while I still hold keys for this hash slot.",
                slot));
            return;
          }
          if (*count == 0 && st->migrating_to(slot)) st->set_migrating(slot, nullptr);
          if (node == me && st->importing_from(slot)) {
            st->bump_epoch_without_consensus();
            st->set_importing(slot, nullptr);
          }
          st->assign_slot(slot, node);
          after_change(*st, now);
          reply.ok();
          cluster::broadcast_config();  // the new owner is known everywhere at once (Redis: clusterBroadcastPong)
          cluster::redirect_blocked_clients(server);  // clients blocked on its keys follow the slot
        });
    return;
  } else {
    ctx.reply.error(kBadAction);
    return;
  }
  after_change(*st, ctx.now_ms);
  ctx.reply.ok();
}

// ---- ASKING, READONLY, READWRITE

void asking_command(ConnectionContext& ctx) {
  if (!require_cluster(ctx)) return;
  ctx.session.cluster_asking = true;
  ctx.reply.ok();
}

void readonly_command(ConnectionContext& ctx) {
  if (!require_cluster(ctx)) return;
  ctx.session.cluster_readonly = true;
  ctx.reply.ok();
}

void readwrite_command(ConnectionContext& ctx) {
  if (!require_cluster(ctx)) return;
  ctx.session.cluster_readonly = false;
  ctx.reply.ok();
}

// ---- MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS k...]

bool migrate_keys(const protocol::ArgList& args, std::vector<int>& out) {
  if (args.size() < 6) return true;
  for (size_t i = 6; i < args.size(); ++i) {
    if (is_option(args[i], "auth")) {
      ++i;
    } else if (is_option(args[i], "auth2")) {
      i += 2;
    } else if (is_option(args[i], "keys")) {
      if (!args[3].empty()) return true;  // KEYS with a key argument: no keys (the command reports the error)
      for (size_t k = i + 1; k < args.size(); ++k) out.push_back(static_cast<int>(k));
      return true;
    }
  }
  out.push_back(3);
  return true;
}

// A blocking connection to the target, with a timeout on every step.
class MigrateSocket {
 public:
  ~MigrateSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connect(const std::string& host, const std::string& port, int64_t timeout_ms) {
    addrinfo hints{}, *res = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res) return false;
    bool ok = false;
    for (addrinfo* a = res; a && !ok; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
      if (fd < 0) continue;
      int flags = fcntl(fd, F_GETFL, 0);
      fcntl(fd, F_SETFL, flags | O_NONBLOCK);
      int r = ::connect(fd, a->ai_addr, a->ai_addrlen);
      if (r != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        if (poll(&p, 1, static_cast<int>(timeout_ms)) == 1) {
          int err = 0;
          socklen_t len = sizeof(err);
          getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
          r = err == 0 ? 0 : -1;
          // Like Redis: a refused connection still "connects" (the socket polls
          // writable); it is the first write that fails.
          if (err != 0) broken_ = true;
        } else {
          r = -1;
        }
      }
      if (r == 0) {
        fcntl(fd, F_SETFL, flags);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        fd_ = fd;
        set_timeout(timeout_ms);
        ok = true;
      } else {
        ::close(fd);
      }
    }
    freeaddrinfo(res);
    return ok;
  }
  // Every MIGRATE uses its own timeout, also on a cached connection.
  void set_timeout(int64_t timeout_ms) {
    timeval tv{static_cast<time_t>(timeout_ms / 1000), static_cast<suseconds_t>((timeout_ms % 1000) * 1000)};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  bool write_all(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Reads one reply line (without CRLF); the replies we expect are all one line.
  bool read_line(std::string& line) {
    for (;;) {
      size_t eol = buf_.find("\r\n");
      if (eol != std::string::npos) {
        line = buf_.substr(0, eol);
        buf_.erase(0, eol + 2);
        return true;
      }
      char tmp[4096];
      ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
      if (n == 0) errno = ECONNRESET;  // closed by the peer: worth one retry on a new connection
      if (n <= 0) return false;
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  std::string buf_;

 public:
  bool broken_ = false;
  int64_t last_dbid = -1;  // the target's selected database (SELECT is sent only when it changes)
  int64_t last_use_ms = 0;
};

// Connections kept open between MIGRATE commands, as Redis does: one per
// target host:port, closed after 10 s without use, at most 64 (an arbitrary
// one goes when a 65th is needed). MIGRATE runs on the thread of the shard
// that owns its keys, so each shard thread keeps its own cache (no locks);
// ShardThread::cron calls migrate_close_idle_sockets.
constexpr int64_t kMigrateSocketTtlMs = 10000;
constexpr size_t kMigrateSocketCacheItems = 64;
thread_local std::map<std::string, std::unique_ptr<MigrateSocket>> migrate_sockets;

// The cached connection to host:port, or a new one (null on failure, with *error).
MigrateSocket* migrate_socket(const std::string& name, std::string_view host, std::string_view port,
                              int64_t timeout_ms, const char** error) {
  auto it = migrate_sockets.find(name);
  if (it != migrate_sockets.end()) {
    it->second->set_timeout(timeout_ms);
    return it->second.get();
  }
  if (migrate_sockets.size() >= kMigrateSocketCacheItems) migrate_sockets.erase(migrate_sockets.begin());
  auto sock = std::make_unique<MigrateSocket>();
  if (!sock->connect(std::string(host), std::string(port), timeout_ms)) {
    *error = sock->broken_ ? "IOERR error or timeout writing to target instance"
                           : "IOERR error or timeout connecting to the client";
    return nullptr;
  }
  return migrate_sockets.emplace(name, std::move(sock)).first->second.get();
}

void migrate_close_socket(const std::string& name) { migrate_sockets.erase(name); }


void append_command(std::string& out, std::initializer_list<std::string_view> parts) {
  fmt::format_to(std::back_inserter(out), "*{}\r\n", parts.size());
  for (auto p : parts) fmt::format_to(std::back_inserter(out), "${}\r\n{}\r\n", p.size(), p);
}

void migrate_command(CommandContext& ctx) {
  const auto& args = ctx.args;
  bool copy = false, replace = false;
  std::string_view user, password;
  bool auth = false, auth2 = false;
  size_t first_key = 3, num_keys = 1;
  for (size_t j = 6; j < args.size(); ++j) {
    const size_t more = args.size() - j - 1;
    if (is_option(args[j], "copy")) {
      copy = true;
    } else if (is_option(args[j], "replace")) {
      replace = true;
    } else if (is_option(args[j], "auth")) {
      if (!more) {
        ctx.reply.error(errors::kSyntax);
        return;
      }
      auth = true;
      password = args[++j];
    } else if (is_option(args[j], "auth2")) {
      if (more < 2) {
        ctx.reply.error(errors::kSyntax);
        return;
      }
      auth2 = true;
      user = args[++j];
      password = args[++j];
    } else if (is_option(args[j], "keys")) {
      if (!args[3].empty()) {
        ctx.reply.error("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
        return;
      }
      first_key = j + 1;
      num_keys = args.size() - j - 1;
      break;
    } else {
      ctx.reply.error(errors::kSyntax);
      return;
    }
  }
  int64_t timeout, dbid;
  if (!storage::parse_int64(args[5], timeout) || !storage::parse_int64(args[4], dbid)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  if (timeout <= 0) timeout = 1000;

  struct Item {
    std::string key;
    std::string payload;
    int64_t ttl;
  };
  std::vector<Item> items;
  storage::Db& db = ctx.db();
  for (size_t k = first_key; k < first_key + num_keys; ++k) {
    std::string_view key = args[k];
    const storage::Value* v = db.find(key, ctx.now_ms);
    if (!v) continue;
    int64_t expire = db.expire_at(key);
    int64_t ttl = 0;
    if (expire != storage::kNoExpiry) {
      ttl = expire - ctx.now_ms;
      if (ttl < 1) ttl = 1;
    }
    items.push_back({std::string(key), persistence::dump_value(*v), ttl});
  }
  if (items.empty()) {
    ctx.reply.simple("NOKEY");
    return;
  }

  const std::string name = fmt::format("{}:{}", args[1], args[2]);
  bool may_retry = true;
  for (;;) {
    const char* connect_error = nullptr;
    MigrateSocket* cached = migrate_socket(name, args[1], args[2], timeout, &connect_error);
    if (!cached) {
      ctx.reply.error(connect_error);
      return;
    }
    MigrateSocket& sock = *cached;
    // A cached connection may have been closed by the target meanwhile: one
    // retry on a new connection, unless it timed out or keys were already handed over.
    auto io_failure = [&](std::string_view message) {
      const bool timed_out = errno == EAGAIN || errno == EWOULDBLOCK || errno == ETIMEDOUT;
      migrate_close_socket(name);
      if (may_retry && !timed_out) {
        may_retry = false;
        return true;
      }
      ctx.reply.error(message);
      return false;
    };
    const bool select = sock.last_dbid != dbid;
    std::string out;
    if (auth2)
      append_command(out, {"AUTH", user, password});
    else if (auth)
      append_command(out, {"AUTH", password});
    std::string db_text = std::to_string(dbid);
    if (select) append_command(out, {"SELECT", db_text});
    const bool cluster_mode = cluster::state() != nullptr;
    for (auto& it : items) {
      std::string ttl = std::to_string(it.ttl);
      if (replace)
        append_command(out, {cluster_mode ? "RESTORE-ASKING" : "RESTORE", it.key, ttl, it.payload, "REPLACE"});
      else
        append_command(out, {cluster_mode ? "RESTORE-ASKING" : "RESTORE", it.key, ttl, it.payload});
    }
    errno = 0;
    if (!sock.write_all(out)) {
      if (io_failure("IOERR error or timeout writing to target instance")) continue;
      return;
    }
    std::string auth_line, select_line;
    if ((auth || auth2) && !sock.read_line(auth_line)) {
      if (io_failure("IOERR error or timeout reading to target instance")) continue;
      return;
    }
    if (select && !sock.read_line(select_line)) {
      if (io_failure("IOERR error or timeout reading to target instance")) continue;
      return;
    }
    const bool auth_failed = (auth || auth2) && !auth_line.empty() && auth_line[0] == '-';
    if (auth_failed || (select && !select_line.empty() && select_line[0] == '-')) {
      // The RESTOREs' replies are still on their way: the connection is not reused.
      const std::string message = (auth_failed ? auth_line : select_line).substr(1);
      migrate_close_socket(name);
      ctx.reply.error(fmt::format("ERR Target instance replied with error: {}", message));
      return;
    }
    sock.last_dbid = dbid;
    std::string line;
    std::string first_error;
    bool io_error = false;
    for (auto& it : items) {
      if (!sock.read_line(line)) {
        io_error = true;
        break;
      }
      if (!line.empty() && line[0] == '-') {
        if (first_error.empty()) first_error = line.substr(1);
        continue;
      }
      if (!copy && db.erase(it.key, ctx.now_ms)) ctx.notify(notify::kGeneric, "del", it.key);
    }
    if (io_error) {  // keys may have been handed over: no retry
      migrate_close_socket(name);
      ctx.reply.error("IOERR error or timeout reading to target instance");
      return;
    }
    sock.last_use_ms = unix_time_ms();
    if (!first_error.empty()) {
      ctx.reply.error(fmt::format("ERR Target instance replied with error: {}", first_error));
      return;
    }
    break;
  }
  ctx.reply.ok();
}

// ---- tables

constexpr uint32_t kAdminFlags = kCmdAdmin | kCmdNoscript | kCmdStale;
constexpr uint64_t kAdminAcl = kAclAdmin | kAclSlow | kAclDangerous;

#define CLUSTER_SUB(NAME, ARITY, FLAGS, ACL, HANDLER, SUMMARY, SINCE, COMPLEXITY)                              \
  CommandSpec {                                                                                               \
    .name = "cluster|" NAME, .arity = ARITY, .flags = FLAGS, .acl = ACL, .connection = HANDLER,               \
    .group = "cluster", .summary = SUMMARY, .since = SINCE, .complexity = COMPLEXITY                           \
  }

const CommandSpec kClusterSubcommands[] = {
    CLUSTER_SUB("addslots", -3, kAdminFlags, kAdminAcl, cluster_addslots, "Assigns new hash slots to a node.",
                "3.0.0", "O(N) where N is the total number of hash slot arguments"),
    CLUSTER_SUB("addslotsrange", -4, kAdminFlags, kAdminAcl, cluster_addslotsrange,
                "Assigns new hash slot ranges to a node.", "7.0.0",
                "O(N) where N is the total number of the slots between the start slot and end slot arguments."),
    CLUSTER_SUB("bumpepoch", 2, kAdminFlags, kAdminAcl, cluster_bumpepoch,
                "Advances the cluster config epoch.", "3.0.0", "O(1)"),
    CLUSTER_SUB("count-failure-reports", 3, kAdminFlags, kAdminAcl, cluster_count_failure_reports,
                "Returns the number of active failure reports active for a node.", "3.0.0",
                "O(N) where N is the number of failure reports"),
    CLUSTER_SUB("countkeysinslot", 3, kCmdStale, kAclSlow, cluster_countkeysinslot,
                "Returns the number of keys in a hash slot.", "3.0.0", "O(1)"),
    CLUSTER_SUB("delslots", -3, kAdminFlags, kAdminAcl, cluster_delslots, "Sets hash slots as unbound for a node.",
                "3.0.0", "O(N) where N is the total number of hash slot arguments"),
    CLUSTER_SUB("delslotsrange", -4, kAdminFlags, kAdminAcl, cluster_delslotsrange,
                "Sets hash slot ranges as unbound for a node.", "7.0.0",
                "O(N) where N is the total number of the slots between the start slot and end slot arguments."),
    CLUSTER_SUB("failover", -2, kAdminFlags, kAdminAcl, cluster_failover,
                "Forces a replica to perform a manual failover of its master.", "3.0.0", "O(1)"),
    CLUSTER_SUB("flushslots", 2, kAdminFlags, kAdminAcl, cluster_flushslots,
                "Deletes all slots information from a node.", "3.0.0", "O(1)"),
    CLUSTER_SUB("forget", 3, kAdminFlags, kAdminAcl, cluster_forget, "Removes a node from the nodes table.",
                "3.0.0", "O(1)"),
    CLUSTER_SUB("getkeysinslot", 4, kCmdStale, kAclSlow, cluster_getkeysinslot,
                "Returns the key names in a hash slot.", "3.0.0", "O(N) where N is the number of requested keys"),
    CLUSTER_SUB("help", 2, kCmdLoading | kCmdStale, kAclSlow, cluster_help, "Returns helpful text about the different subcommands.",
                "5.0.0", "O(1)"),
    CLUSTER_SUB("info", 2, kCmdStale, kAclSlow, cluster_info, "Returns information about the state of a node.",
                "3.0.0", "O(1)"),
    CLUSTER_SUB("keyslot", 3, kCmdStale, kAclSlow, cluster_keyslot, "Returns the hash slot for a key.", "3.0.0",
                "O(N) where N is the number of bytes in the key"),
    CLUSTER_SUB("links", 2, kCmdStale, kAclSlow, cluster_links,
                "Returns a list of all TCP links to and from peer nodes.", "7.0.0",
                "O(N) where N is the total number of Cluster nodes"),
    CLUSTER_SUB("meet", -4, kAdminFlags, kAdminAcl, cluster_meet, "Forces a node to handshake with another node.",
                "3.0.0", "O(1)"),
    CLUSTER_SUB("myid", 2, kCmdStale, kAclSlow, cluster_myid, "Returns the ID of a node.", "3.0.0", "O(1)"),
    CLUSTER_SUB("myshardid", 2, kCmdStale, kAclSlow, cluster_myshardid, "Returns the shard ID of a node.", "7.2.0",
                "O(1)"),
    CLUSTER_SUB("nodes", 2, kCmdStale, kAclSlow, cluster_nodes, "Returns the cluster configuration for a node.",
                "3.0.0", "O(N) where N is the total number of Cluster nodes"),
    CLUSTER_SUB("replicas", 3, kAdminFlags, kAdminAcl, cluster_replicas, "Lists the replica nodes of a master node.",
                "5.0.0", "O(N) where N is the number of replicas."),
    CLUSTER_SUB("replicate", 3, kAdminFlags, kAdminAcl, cluster_replicate,
                "Configure a node as replica of a master node.", "3.0.0", "O(1)"),
    CLUSTER_SUB("reset", -2, kAdminFlags, kAdminAcl, cluster_reset, "Resets a node.", "3.0.0",
                "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect."),
    CLUSTER_SUB("saveconfig", 2, kAdminFlags, kAdminAcl, cluster_saveconfig,
                "Forces a node to save the cluster configuration to disk.", "3.0.0", "O(1)"),
    CLUSTER_SUB("set-config-epoch", 3, kAdminFlags, kAdminAcl, cluster_set_config_epoch,
                "Sets the configuration epoch for a new node.", "3.0.0", "O(1)"),
    CLUSTER_SUB("setslot", -4, kAdminFlags, kAdminAcl, cluster_setslot, "Binds a hash slot to a node.", "3.0.0",
                "O(1)"),
    CLUSTER_SUB("shards", 2, kCmdStale, kAclSlow, cluster_shards, "Returns the mapping of cluster slots to shards.",
                "7.0.0", "O(N) where N is the total number of cluster nodes"),
    CLUSTER_SUB("slaves", 3, kAdminFlags, kAdminAcl, cluster_replicas, "Lists the replica nodes of a master node.",
                "3.0.0", "O(N) where N is the number of replicas."),
    CLUSTER_SUB("slots", 2, kCmdStale, kAclSlow, cluster_slots, "Returns the mapping of cluster slots to nodes.",
                "3.0.0", "O(N) where N is the total number of Cluster nodes"),
};

#undef CLUSTER_SUB

const CommandSpec kClusterCommands[] = {
    {.name = "cluster", .arity = -2, .flags = 0, .acl = kAclSlow, .group = "cluster",
     .summary = "A container for Redis Cluster commands.", .since = "3.0.0", .complexity = "Depends on subcommand.",
     .subcommands = kClusterSubcommands},
    {.name = "asking", .arity = 1, .flags = kCmdFast, .acl = kAclFast | kAclConnection, .connection = asking_command,
     .group = "cluster", .summary = "Signals that a cluster client is following an -ASK redirect.", .since = "3.0.0",
     .complexity = "O(1)"},
    {.name = "readonly", .arity = 1, .flags = kCmdFast | kCmdLoading | kCmdStale, .acl = kAclFast | kAclConnection,
     .connection = readonly_command, .group = "cluster",
     .summary = "Enables read-only queries for a connection to a Redis Cluster replica node.", .since = "3.0.0",
     .complexity = "O(1)"},
    {.name = "readwrite", .arity = 1, .flags = kCmdFast | kCmdLoading | kCmdStale, .acl = kAclFast | kAclConnection,
     .connection = readwrite_command, .group = "cluster",
     .summary = "Enables read-write queries for a connection to a Reids Cluster replica node.", .since = "3.0.0",
     .complexity = "O(1)"},
    keyed_command("generic", "migrate", -6, kCmdWrite | kCmdMovableKeys,
                  kAclKeyspace | kAclWrite | kAclSlow | kAclDangerous, 3, 3, 1, migrate_command,
                  "Atomically transfers a key from one Redis instance to another.", "2.6.0",
                  "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target "
                  "instance. See the pages of these commands for time complexity. Also an O(N) data transfer "
                  "between the two instances is performed.",
                  migrate_keys),
};

}  // namespace

std::span<const CommandSpec> cluster_command_specs() { return kClusterCommands; }

void migrate_close_idle_sockets(int64_t now_ms) {
  if (migrate_sockets.empty()) return;
  for (auto it = migrate_sockets.begin(); it != migrate_sockets.end();) {
    if (now_ms - it->second->last_use_ms > kMigrateSocketTtlMs)
      it = migrate_sockets.erase(it);
    else
      ++it;
  }
}

size_t migrate_cached_sockets() { return migrate_sockets.size(); }

}  // namespace distcache::server
