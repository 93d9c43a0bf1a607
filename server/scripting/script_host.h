#pragma once
// The seam between the Lua engine and the server: redis.call / redis.pcall
// never execute commands themselves. The engine turns the Lua arguments into
// an ArgList and hands it to a ScriptHost, which writes exactly one RESP reply
// (in the RESP version the script chose with redis.setresp) to `out`; the
// engine then converts those reply bytes into Lua values.
//
// KeyspaceScriptHost, the default host, runs commands against the keyspace of
// the EVAL / FCALL handler's CommandContext, with Redis 7.0's script rules:
//   unknown command or subcommand -> "ERR Unknown Redis command called from script"
//   wrong arity                   -> "ERR Wrong number of args calling Redis command from script"
//   noscript flag                 -> "ERR This Redis command is not allowed from script"
//   write in a read-only script   -> "ERR Write commands are not allowed from read-only scripts."
//   (read-only: EVAL_RO / EVALSHA_RO / FCALL_RO, or the no-writes flag)
// Keyed commands run through run_keyed() (blocking commands get their timeout
// reply at once) in the script's current database: SELECT inside a script
// changes it for the rest of the script only. Connection-level commands are
// answered by connection_command(): PING, ECHO, TIME, SELECT, PUBLISH and SPUBLISH work, the
// others reply an error for now.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/arg_list.h"
#include "protocol/reply_builder.h"
#include "server/command.h"

namespace distcache::server::scripting {

class ScriptHost {
 public:
  virtual ~ScriptHost() = default;

  // Runs one command for redis.call / redis.pcall. `args[0]` is the command
  // name as the script wrote it. Writes exactly one reply to `out`; errors are
  // error replies (the engine raises them for redis.call).
  virtual void call(const protocol::ArgList& args, protocol::ReplyBuilder& out) = 0;

  // Set by the engine before the script starts: EVAL_RO / EVALSHA_RO /
  // FCALL_RO, or a script / function with the no-writes flag.
  void set_read_only(bool read_only) { read_only_ = read_only; }
  bool read_only() const { return read_only_; }

  // True once a write command was accepted (SCRIPT KILL then answers
  // UNKILLABLE, as Redis does from the first write on).
  bool has_written() const { return wrote_; }
  // True once a read-only command ran (CLIENT TRACKING: Redis then remembers
  // the script command's declared keys for the calling client).
  bool has_read() const { return read_; }

  // Set by the engine when it ends the script because the server shuts down
  // (SHUTDOWN NOSAVE while the script ran past busy-reply-threshold). The
  // script did not complete: none of its writes may reach the AOF, as Redis
  // propagates a script's effects only when it completes.
  void mark_stopped_by_shutdown() { stopped_by_shutdown_ = true; }
  bool stopped_by_shutdown() const { return stopped_by_shutdown_; }

 protected:
  bool read_only_ = false;
  bool wrote_ = false;
  bool read_ = false;
  bool stopped_by_shutdown_ = false;
};

class KeyspaceScriptHost : public ScriptHost {
 public:
  // `ctx` is the EVAL / FCALL handler's context; it must outlive the host.
  explicit KeyspaceScriptHost(CommandContext& ctx);

  void call(const protocol::ArgList& args, protocol::ReplyBuilder& out) override;

  // Called for every key of every command (as extract_keys() finds them),
  // before the command runs. Returning false rejects the command with
  // unavailable_key_error(). The default accepts every key: the keyspace of
  // the context holds what the dispatcher gathered (all keys on one shard,
  // or copies of the declared keys).
  virtual bool key_available(int db, std::string_view key);
  virtual std::string unavailable_key_error(int db, std::string_view key);

  // Runs a keyed command whose keys were accepted. The default runs it on the
  // context's keyspace; a host that routes keys to other shards overrides it.
  virtual void execute_keyed(const CommandSpec& spec, const protocol::ArgList& args, protocol::ReplyBuilder& out);
  // Connection-level commands (spec.connection is set and spec.keyed is not).
  // PING, ECHO, TIME, SELECT, PUBLISH and SPUBLISH are handled here; every other one replies
  // "ERR This command is not supported inside scripts" for now.
  virtual void connection_command(const CommandSpec& spec, const protocol::ArgList& args,
                                  protocol::ReplyBuilder& out);

  // The script's current database (SELECT inside the script changes it).
  int db() const { return db_; }
  // When enabled (before the script runs), (database, key) of every key a
  // write command of the script touched, in order, duplicates included: the
  // keys whose WATCHers and blocked clients the server has to notify (EVAL and
  // FCALL carry no write flag of their own). Keys of the client's database
  // are also passed to ctx.signal_key_ready() in any case.
  void record_written_keys(bool on) { record_written_keys_ = on; }
  const std::vector<std::pair<int, std::string>>& written_keys() const { return written_keys_; }

 protected:
  CommandContext& ctx_;
  int db_;
  bool record_written_keys_ = false;
  std::vector<std::pair<int, std::string>> written_keys_;
};

}  // namespace distcache::server::scripting
