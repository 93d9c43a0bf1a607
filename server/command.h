#pragma once
// The declarative command table: one CommandSpec per command (and per
// subcommand of container commands such as CONFIG or CLIENT). The table drives
// dispatch, arity and unknown-command errors, key extraction for routing to
// shards (and cluster slots), ACL categories, and the COMMAND replies.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/arg_list.h"
#include "protocol/reply_builder.h"
#include "server/keyspace_events.h"
#include "storage/keyspace.h"

namespace distcache::server {

struct Config;
class ClientSession;  // per-connection state, see client_session.h
struct ServerContext;  // server-wide services, see server_context.h

// Redis 7.0 command flags (COMMAND INFO names them in lower case).
enum CommandFlag : uint32_t {
  kCmdWrite = 1u << 0,
  kCmdReadonly = 1u << 1,
  kCmdDenyOom = 1u << 2,
  kCmdAdmin = 1u << 3,
  kCmdPubsub = 1u << 4,
  kCmdNoscript = 1u << 5,
  kCmdBlocking = 1u << 6,
  kCmdLoading = 1u << 7,
  kCmdStale = 1u << 8,
  kCmdSkipMonitor = 1u << 9,
  kCmdSkipSlowlog = 1u << 10,
  kCmdAsking = 1u << 11,
  kCmdFast = 1u << 12,
  kCmdNoAuth = 1u << 13,
  kCmdMayReplicate = 1u << 14,
  kCmdNoMandatoryKeys = 1u << 15,
  kCmdNoAsyncLoading = 1u << 16,
  kCmdNoMulti = 1u << 17,
  kCmdMovableKeys = 1u << 18,
  kCmdAllowBusy = 1u << 19,
};

// Redis ACL categories (without '@').
enum AclCategory : uint64_t {
  kAclKeyspace = 1ull << 0,
  kAclRead = 1ull << 1,
  kAclWrite = 1ull << 2,
  kAclSet = 1ull << 3,
  kAclSortedSet = 1ull << 4,
  kAclList = 1ull << 5,
  kAclHash = 1ull << 6,
  kAclString = 1ull << 7,
  kAclBitmap = 1ull << 8,
  kAclHyperLogLog = 1ull << 9,
  kAclGeo = 1ull << 10,
  kAclStream = 1ull << 11,
  kAclPubsub = 1ull << 12,
  kAclAdmin = 1ull << 13,
  kAclFast = 1ull << 14,
  kAclSlow = 1ull << 15,
  kAclBlocking = 1ull << 16,
  kAclDangerous = 1ull << 17,
  kAclConnection = 1ull << 18,
  kAclTransaction = 1ull << 19,
  kAclScripting = 1ull << 20,
};

// Keyspace notifications (server/pubsub.cpp): the notify-keyspace-events
// bits in effect (0 unless K or E is on), and publishing one event.
uint32_t keyspace_notify_flags(const Config& config);
void notify_keyspace_event(uint32_t type, std::string_view event, std::string_view key, int db);

// (database, key) of the keys a command changed, as it reported them with
// notify(): what WATCH cares about (Redis's signalModifiedKey).
using ChangedKeys = std::vector<std::pair<int, std::string>>;

// Everything a keyed command needs while it runs on the thread that owns its
// keys. `dbs` is either the real shard keyspace (all keys on one shard) or a
// scratch keyspace holding copies of the keys gathered from several shards
// (see docs/architecture.md); command code cannot tell and must not care.
struct CommandContext {
  const protocol::ArgList& args;   // args[0] is the command name as sent
  protocol::ReplyBuilder& reply;
  storage::Keyspace& dbs;
  int db_index;                    // the client's selected database
  int64_t now_ms;                  // unix time in ms, fixed for the whole command
  const Config& config;

  storage::Db& db() { return dbs.db(static_cast<size_t>(db_index)); }

  // --- blocking commands (BLPOP, BZPOPMIN, XREAD BLOCK, ...)
  // When nothing can be served now and may_block is true, the handler calls
  // block() INSTEAD of replying; the server then re-runs the same handler
  // when one of the command's keys is signalled ready, or sends the timeout
  // reply (nil) when the timeout expires. When may_block is false (inside
  // MULTI/EXEC or a script), the handler replies the timeout reply at once.
  enum class TimeoutReply { kNullArray, kNullBulk, kZero /* WAIT */ };
  bool may_block = true;
  bool blocked = false;
  int64_t block_timeout_ms = 0;  // 0 = forever
  TimeoutReply timeout_reply = TimeoutReply::kNullArray;
  // Before blocking, a command may pin an argument to what it resolved to
  // (XREAD's "$" becomes the last ID), so its retries see the same request.
  // The arguments belong to the suspended client and nothing else reads them.
  void rewrite_arg(size_t index, std::string_view value) {
    const_cast<protocol::ArgList&>(args).mutable_at(index).assign(value.data(), value.size());
  }
  void block(int64_t timeout_ms, TimeoutReply reply_on_timeout) {
    blocked = true;
    block_timeout_ms = timeout_ms;
    timeout_reply = reply_on_timeout;
  }

  // Commands that add elements a blocked client may be waiting for (LPUSH,
  // ZADD, XADD, LMOVE's destination, ...) call this for that key.
  std::vector<std::string>* ready_keys = nullptr;  // set by the server; may be null
  void signal_key_ready(std::string_view key) {
    if (ready_keys) ready_keys->emplace_back(key);
  }

  // A script that ran on one shard but needs keys of others, before it wrote
  // anything, asks to be run again as a global transaction (script_runner.h);
  // it then leaves no reply.
  bool rerun_globally = false;

  // --- keyspace notifications
  // Handlers report what they changed with Redis's event names, after the
  // change: ctx.notify(notify::kString, "set", key). Costs one branch when
  // notifications are off. `db` defaults to the client's database.
  uint32_t notify_flags = keyspace_notify_flags(config);
  // Every notify() also records the key as changed when the server asks
  // (changed_keys is set only while some client WATCHes keys on the shard).
  ChangedKeys* changed_keys = nullptr;
  void notify(uint32_t type, std::string_view event, std::string_view key) { notify(type, event, key, db_index); }
  void notify(uint32_t type, std::string_view event, std::string_view key, int db) {
    if (changed_keys) changed_keys->emplace_back(db, key);
    if (notify_flags & type) notify_keyspace_event(type, event, key, db);
  }
};

using KeyedHandler = void (*)(CommandContext&);

// Commands that are not about particular keys (PING, CONFIG, DBSIZE, FLUSHALL,
// SCAN...) run on the client's thread with access to server-wide services and
// may finish asynchronously; see server_context.h.
class ConnectionContext;
using ConnectionHandler = void (*)(ConnectionContext&);

// For commands whose key positions depend on their arguments (movablekeys):
// appends the indexes of the key arguments to `out`. Returns false on a
// syntax problem (the command will then report its own error when run).
using KeyFinder = bool (*)(const protocol::ArgList& args, std::vector<int>& out);

struct CommandSpec {
  std::string_view name;          // lower case; "config|get" for subcommands
  int arity;                      // Redis convention: >0 exact, <0 at least -arity
  uint32_t flags;
  uint64_t acl;
  int first_key = 0;              // 0 = no keys
  int last_key = 0;               // negative counts from the end (-1 = last arg)
  int key_step = 0;
  // > 0: the argument holding the member (field) the command looks up first
  // in its key's collection. A prefetch hint for pipelines
  // (commands/member_prefetch.h): a wrong guess only wastes a prefetch.
  int member_arg = 0;
  KeyedHandler keyed = nullptr;
  ConnectionHandler connection = nullptr;
  KeyFinder find_keys = nullptr;  // set for movable-keys commands
  std::string_view group;         // COMMAND DOCS group: "string", "generic", "server", ...
  std::string_view summary;       // our own one-line description
  std::string_view since;         // Redis version that introduced it
  std::string_view complexity;
  std::span<const CommandSpec> subcommands{};  // for container commands
};

// The spec of a keyed command of `group`. Family files wrap it with their
// group name so that their tables read one command per line.
constexpr CommandSpec keyed_command(std::string_view group, std::string_view name, int arity, uint32_t flags,
                                    uint64_t acl, int first, int last, int step, KeyedHandler handler,
                                    std::string_view summary, std::string_view since, std::string_view complexity,
                                    KeyFinder finder = nullptr) {
  return CommandSpec{.name = name,
                     .arity = arity,
                     .flags = flags,
                     .acl = acl,
                     .first_key = first,
                     .last_key = last,
                     .key_step = step,
                     .keyed = handler,
                     .find_keys = finder,
                     .group = group,
                     .summary = summary,
                     .since = since,
                     .complexity = complexity};
}

// `spec` with its member_arg set (HSET key field ..., SADD key member ...).
constexpr CommandSpec looks_up_member(CommandSpec spec, int member_arg) {
  spec.member_arg = member_arg;
  return spec;
}

// Error texts shared by many commands (without the leading '-').
namespace errors {
inline constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kNotFloat = "ERR value is not a valid float";
inline constexpr std::string_view kSyntax = "ERR syntax error";
inline constexpr std::string_view kNoSuchKey = "ERR no such key";
inline constexpr std::string_view kOverflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view kOutOfRange = "ERR index out of range";
}  // namespace errors

}  // namespace distcache::server
