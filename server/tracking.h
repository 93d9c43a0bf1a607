#pragma once
// Client-side caching (CLIENT TRACKING), as Redis 7.0.
//
// State lives in three places, each touched by one thread only (except the
// BCAST prefix list, which is shared under a mutex):
// - Per client (on the client's thread): mode flags, REDIRECT target,
//   BCAST prefixes, the CLIENT CACHING flag (tracking.cpp keeps a map per
//   thread, client id -> state).
// - Per shard (on the shard's thread): key -> ids (and threads) of the
//   default-mode clients that read it. A changed key is looked up, forgotten
//   and its readers told, by a post to their threads.
// - Process-wide: BCAST prefix registrations; any changed key is matched
//   against them while at least one exists.
// The dispatcher feeds it: the reads of readonly keyed commands
// (tracking_remember on the owning shard, during the command), and the keys
// write commands reported with ctx.notify() (the WATCH buffer, requested also
// while tracking_wants_changes()). Every hook costs one branch while no
// client tracks.
#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/command.h"

namespace distcache::server {

class Connection;
class ShardThread;
class Server;
class ConnectionContext;

namespace tracking_detail {
extern std::atomic<int64_t> clients_on;   // clients with tracking on (any mode)
extern std::atomic<int64_t> bcast_prefixes;  // BCAST prefix registrations
}  // namespace tracking_detail

// True while some client has tracking on (one relaxed load).
inline bool tracking_active() { return tracking_detail::clients_on.load(std::memory_order_relaxed) > 0; }

// A client whose reads by the current command must be remembered (default
// mode, readonly command, OPTIN/OPTOUT rules passed). Empty when not.
struct TrackingReader {
  uint64_t client = 0;
  unsigned thread = 0;
  explicit operator bool() const { return client != 0; }
};

// On the client's thread, once per executed command (after MULTI queueing):
// applies the CLIENT CACHING one-command rule and returns the reader for
// `spec` (empty unless readonly and the client tracks in default mode).
TrackingReader tracking_before_command(Connection& conn, const CommandSpec& spec);
// For commands run by EXEC or a script of this client: the reader for `spec`
// under the CLIENT CACHING state that held when EXEC/EVAL started.
TrackingReader tracking_reader_for(Connection& conn, const CommandSpec& spec);

// On the shard's thread: remember that `reader` read these keys.
void tracking_remember(ShardThread& shard, const TrackingReader& reader, std::span<const std::string_view> keys);
// The same with keys extracted from the command's arguments.
void tracking_remember_args(ShardThread& shard, const TrackingReader& reader, const CommandSpec& spec,
                            const protocol::ArgList& args);

// On the shard's thread: whether changed keys must be recorded for tracking.
bool tracking_wants_changes(const ShardThread& shard);
// On the shard's thread, after a command changed `changed` (its effect is
// visible): invalidations to default-mode readers and BCAST subscribers.
// `writer` is the id of the client that ran the command (0 if none);
// `reply_done`: its reply is complete, its own invalidation may follow at once.
void tracking_keys_changed(ShardThread& shard, const ChangedKeys& changed, uint64_t writer, bool reply_done = false);
// One key changed (multi-shard results written back).
void tracking_key_changed(ShardThread& shard, std::string_view key, uint64_t writer);

// After FLUSHALL/FLUSHDB completed: every tracking client gets a null
// invalidation and every shard forgets its tracked keys; `then` runs on the
// calling (client) thread once the tables are cleared.
void tracking_flush(Server& server, ShardThread& from, uint64_t writer, std::function<void()> then);

// CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO handlers.
void client_tracking_command(ConnectionContext& ctx);
void client_caching_command(ConnectionContext& ctx);
void client_getredir_command(ConnectionContext& ctx);
void client_trackinginfo_command(ConnectionContext& ctx);
// RESET: tracking off.
void tracking_disable(Connection& conn);

// Memory accounting for tests: tracked keys over all shard tables (reads
// them unsynchronised: only for quiescent checks) and client states.
size_t tracking_table_keys();
size_t tracking_client_states();

}  // namespace distcache::server
