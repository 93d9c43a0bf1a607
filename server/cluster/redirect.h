#pragma once
// Cluster redirections (Redis's getNodeByQuery): before a keyed command runs in
// cluster mode, its keys must hash to one slot this node serves; otherwise the
// client gets MOVED, ASK (the slot is migrating and a key is already gone),
// TRYAGAIN, CROSSSLOT or CLUSTERDOWN.
#include <string>
#include <string_view>
#include <vector>

#include "protocol/arg_list.h"

namespace distcache::server {

class Connection;
struct CommandSpec;

namespace cluster {

// The dispatcher's hook: true when the command may run now. False when a
// redirection error was written, or when the connection was suspended to
// look up whether keys of a migrating slot exist (the command is then
// dispatched again once that is known).
bool route_command(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args);

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
};
Decision decide(const RouteInput& in, std::string& error);

}  // namespace cluster
}  // namespace distcache::server
