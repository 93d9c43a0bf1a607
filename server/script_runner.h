#pragma once
// Where and how EVAL / EVALSHA / FCALL (and their _RO forms) run, so that a
// script is atomic across shards even when it builds key names at run time
// instead of declaring them in KEYS (as BullMQ's and Sidekiq's scripts do).
//
// With one thread everything is local. With several, a script runs in one
// of two ways:
//  * On the shard that owns its declared keys, like any single-shard command,
//    when all of them live on one shard AND this script (by SHA, or function
//    name) has so far only touched its declared keys. Other shards go on
//    serving meanwhile. This is the common, fast case.
//  * Otherwise as a global transaction: exclusive whole-shard locks on every
//    shard, then the script runs on the client's thread and each redis.call
//    executes on the thread owning its keys (a synchronous message round trip;
//    the client's thread waits, every other thread keeps running, and no
//    second global script can run meanwhile, so nothing waits in a cycle).
//    Like Redis, the script is then the only thing touching the dataset.
// The first run of a script with several threads is global; it teaches the
// server whether the script keeps to its declared keys. A script that was
// learned to keep to them and then strays onto another shard's key gets an
// error for that call and runs globally from then on.
#include <cstdint>
#include <string>
#include <vector>

#include "protocol/arg_list.h"
#include "protocol/reply_builder.h"
#include "server/command.h"
#include "server/routing.h"
#include "server/tracking.h"

namespace distcache::server {

class Connection;
class ShardThread;


// EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, FCALL, FCALL_RO.
bool runs_script(const CommandSpec& spec);

// With several shards: whether this call may run on its declared keys' shard
// (else dispatch_global_script).
bool script_may_run_on_one_shard(const CommandSpec& spec, const protocol::ArgList& args, bool keys_on_one_shard);

// Runs the script as a global transaction for `conn` (suspends it meanwhile).
void dispatch_global_script(Connection& conn, const CommandSpec& spec, const protocol::ArgList& args,
                            int64_t now_ms);

// Runs a script on `home` while the caller holds every shard's exclusive
// lock (EXEC). Appends the keys it wrote to `written`.
void run_script_holding_all_shards(ShardThread& home, const CommandSpec& spec, const protocol::ArgList& args,
                                   protocol::ReplyBuilder& reply, int db, int64_t now_ms,
                                   std::vector<WrittenKey>& written, bool* read_something = nullptr);

// CLIENT TRACKING of keys read by scripts, as Redis 7.0 does it: once any
// read-only command ran inside the script, the script command's declared keys
// are remembered for the calling client (keys read but not declared are not).
// The reader of the calling client for a script command (any script command,
// EVAL included; OPTIN/OPTOUT rules applied); empty if it does not track.
TrackingReader script_tracking_reader(Connection& conn);
// After run_keyed() ran `spec` on this thread: false for a script that read
// nothing (its keys are then not remembered); true for every other command.
bool script_tracking_allowed(const CommandSpec& spec);
// A script that read something ran while its keys' shards were held (EXEC):
// its declared keys are remembered for `reader` on their shards (posted to
// each; they run before any other client's write to those keys).
void remember_script_keys(Server& server, const TrackingReader& reader, const CommandSpec& spec,
                          const protocol::ArgList& args);

// The keyed handler of the script commands (which one: ctx.args[0]): runs on
// a shard's own keyspace (or, in unit tests, on any keyspace).
void run_script_command(CommandContext& ctx);

}  // namespace distcache::server
