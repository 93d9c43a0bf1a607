#pragma once
// Cluster redirections (Redis's getNodeByQuery): before a keyed command runs in
// cluster mode, its keys must hash to one slot this node serves; otherwise the
// client gets MOVED, ASK (the slot is migrating and a key is already gone),
// TRYAGAIN, CROSSSLOT or CLUSTERDOWN.
#include <string>
#include <string_view>
#include <vector>

#include "protocol/arg_list.h"
#include "protocol/reply_builder.h"
#include "server/cluster/cluster_state.h"
#include "storage/keyspace.h"

namespace distcache::server {

class Connection;
class Server;
class ShardThread;
struct ClientSession;
struct CommandSpec;
struct QueuedCommand;
struct ShardStep;

namespace cluster {

// The dispatcher's hook: true when the command may run now. False when a
// redirection error was written, or when the connection was suspended to
// look up whether keys of a migrating slot exist (the command is then
// dispatched again once that is known).
bool route_command(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args);

// The race-free half: called on the thread of the shard that holds the
// command's keys, at the moment the command runs there (or under the
// transaction's locks), so that a MIGRATE of the same keys is either entirely
// before (the keys are gone: ASK/TRYAGAIN) or entirely after. True when the
// command may run; otherwise the redirection error was written to `reply`.
// Cheap when the slot is simply ours (one atomic load).
bool check_on_shard(const ClientSession& session, storage::Keyspace& keyspace, const CommandSpec& spec,
                    const protocol::ArgList& args, int db, protocol::ReplyBuilder& reply);

// EXEC: sets up the same check for the transaction's keys. Called once the
// lock steps are planned; when the EXEC runs inline (on the keys' own thread,
// no locks) the check is made now, otherwise by the owning shard's step once
// it is locked. `error` (owned by the EXEC) is empty when it may run.
void guard_exec(ShardThread& home, std::vector<ShardStep>& steps, const std::vector<QueuedCommand>& queued,
                const ClientSession& session, bool runs_inline, std::string& error);

// A script holding every shard (dispatch_global_script): the check, made on
// the client's thread while all shards are locked. Writes the error to `reply`.
bool check_holding_all_shards(Server& server, const ClientSession& session, const CommandSpec& spec,
                              const protocol::ArgList& args, int db, protocol::ReplyBuilder& reply);

// Blocked clients whose slot this node no longer serves (and does not
// import) are unblocked with -MOVED (-CLUSTERDOWN when unassigned or the
// cluster is down), as Redis's clusterRedirectBlockedClientIfNeeded. Posts a
// sweep to every shard; called by the bus cron and after CLUSTER SETSLOT.
void redirect_blocked_clients(Server& server);

// The pure decision, for unit tests and for route_command. `missing` is the
// number of the keys that do not exist, or -1 if unknown.
enum class Decision { kRun, kError, kNeedKeyLookup };
struct RouteInput {
  bool has_keys = false;
  bool cross_slot = false;
  unsigned slot = 0;
  bool is_write = false;
  bool is_migrate = false;
  bool asking = false;  // ASKING was sent, or the command is RESTORE-ASKING
  int key_count = 0;
  int missing = -1;

  // Counts one key of slot `slot`: the first sets the slot, another slot makes the input cross-slot.
  void add_key_slot(unsigned key_slot) {
    if (!has_keys) {
      has_keys = true;
      slot = key_slot;
    } else if (key_slot != slot) {
      cross_slot = true;
    }
    ++key_count;
  }
};
Decision decide(const RouteInput& in, std::string& error);

}  // namespace cluster
}  // namespace distcache::server
