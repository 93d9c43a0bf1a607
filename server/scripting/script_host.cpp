#include "server/scripting/script_host.h"

#include <chrono>
#include <string>

#include "server/acl/acl.h"
#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/config.h"
#include "server/disk_errors.h"
#include "server/dispatcher.h"
#include "server/memory_limit.h"
#include "server/ops.h"
#include "server/pubsub.h"

namespace distcache::server::scripting {
namespace {

constexpr std::string_view kUnknownCommand = "ERR Unknown Redis command called from script";
constexpr std::string_view kWrongArity = "ERR Wrong number of args calling Redis command from script";
constexpr std::string_view kNoScript = "ERR This Redis command is not allowed from script";
constexpr std::string_view kReadOnly = "ERR Write commands are not allowed from read-only scripts.";

// Read-only scripts may not call commands that write or that Redis 7.0 flags
// "may_replicate": PFCOUNT, PUBLISH and SPUBLISH carry that flag internally
// even though COMMAND INFO does not list it, so they are named here.
bool refused_in_read_only_script(const CommandSpec& spec) {
  if (spec.flags & (kCmdWrite | kCmdMayReplicate)) return true;
  return spec.name == "pfcount" || spec.name == "publish" || spec.name == "spublish";
}

}  // namespace

KeyspaceScriptHost::KeyspaceScriptHost(CommandContext& ctx) : ctx_(ctx), db_(ctx.db_index) {}

bool KeyspaceScriptHost::key_available(int, std::string_view) { return true; }

std::string KeyspaceScriptHost::unavailable_key_error(int, std::string_view key) {
  std::string msg = "ERR Script attempted to access key '";
  msg.append(key);
  msg.append("' that is not available to this script");
  return msg;
}

void KeyspaceScriptHost::call(const protocol::ArgList& args, protocol::ReplyBuilder& out) {
  const CommandSpec* spec = acl::lookup_command(args[0]);  // CommandTable::find, with rename-command
  if (!spec) {
    out.error(kUnknownCommand);
    return;
  }
  if (!spec->subcommands.empty() && (args.size() >= 2 || !spec->connection)) {
    if (args.size() < 2) {  // the container alone fails its own arity
      out.error(kWrongArity);
      return;
    }
    spec = CommandTable::find_subcommand(*spec, args[1]);
    if (!spec) {
      out.error(kUnknownCommand);
      return;
    }
  }
  if (!arity_ok(*spec, args.size())) {
    out.error(kWrongArity);
    return;
  }
  if (spec->flags & kCmdNoscript) {
    out.error(kNoScript);
    return;
  }
  if (auto denied = acl::script_call_denied(ctx_.args, *spec, args)) {  // the caller's ACL (server/acl/acl.h)
    out.error(*denied);
    return;
  }
  if (read_only_ && refused_in_read_only_script(*spec)) {
    out.error(kReadOnly);
    return;
  }
  if ((spec->flags & kCmdWrite) && disk_errors_seen()) {
    std::string message;
    if (writes_refused_for_disk_error(ctx_.config, &message)) {
      out.error(message);
      return;
    }
  }
  if ((spec->flags & kCmdDenyOom) && !wrote_ && memory_limit_refuses_script_call(ctx_.config)) {  // maxmemory (memory_limit.h)
    out.error(kOomError);
    return;
  }
  if (spec->flags & kCmdWrite) wrote_ = true;  // as Redis: before the command runs, even if it then fails

  if (!spec->keyed) {
    if (spec->flags & kCmdReadonly) read_ = true;
    ops::feed_monitors_script(*spec, args, db_);  // MONITOR "[<db> lua]" (server/ops.h)
    connection_command(*spec, args, out);
    return;
  }
  thread_local std::vector<int> key_indexes;  // call() does not nest: no other script runs inside it
  key_indexes.clear();
  if (extract_keys(*spec, args, key_indexes)) {
    for (int i : key_indexes) {
      if (!key_available(db_, args[static_cast<size_t>(i)])) {
        out.error(unavailable_key_error(db_, args[static_cast<size_t>(i)]));
        return;
      }
    }
  }
  if (spec->flags & kCmdReadonly) read_ = true;
  ops::feed_monitors_script(*spec, args, db_);  // MONITOR "[<db> lua]" (server/ops.h)
  execute_keyed(*spec, args, out);
  if (spec->flags & kCmdWrite) {
    for (int i : key_indexes) {
      std::string_view key = args[static_cast<size_t>(i)];
      if (record_written_keys_) written_keys_.emplace_back(db_, std::string(key));
      if (db_ == ctx_.db_index) ctx_.signal_key_ready(key);
    }
  }
}

void KeyspaceScriptHost::execute_keyed(const CommandSpec& spec, const protocol::ArgList& args,
                                       protocol::ReplyBuilder& out) {
  // Keys the command changes join the script command's own list: WATCHers and
  // CLIENT TRACKING readers (the caller included, after its reply) are told.
  run_keyed(spec, args, out, ctx_.dbs, db_, ctx_.now_ms, ctx_.config, /*may_block=*/false, ctx_.changed_keys);
}

void KeyspaceScriptHost::connection_command(const CommandSpec& spec, const protocol::ArgList& args,
                                            protocol::ReplyBuilder& out) {
  if (spec.name == "ping") {
    if (args.size() == 2)
      out.bulk(args[1]);
    else
      out.simple("PONG");
    return;
  }
  if (spec.name == "echo") {
    out.bulk(args[1]);
    return;
  }
  if (spec.name == "time") {
    using namespace std::chrono;
    auto us = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
    out.array(2);
    out.bulk(std::to_string(us / 1000000));
    out.bulk(std::to_string(us % 1000000));
    return;
  }
  if (spec.name == "select") {
    int64_t index;
    if (!parse_int64(args[1], index) || index < INT32_MIN || index > INT32_MAX) {
      out.error(errors::kNotInteger);
      return;
    }
    if (index < 0 || index >= static_cast<int64_t>(ctx_.dbs.size())) {
      out.error("ERR DB index is out of range");
      return;
    }
    db_ = static_cast<int>(index);
    out.ok();
    return;
  }
  if (spec.name == "publish" || spec.name == "spublish") {
    // Delivered as Redis does from a script: without waiting for other
    // threads (the script must not block); the count is that of the
    // process-wide subscription summary at this moment.
    out.integer(publish_message_counted(args[1], args[2], spec.name == "spublish"));
    return;
  }
  out.error("ERR This command is not supported inside scripts");
}

}  // namespace distcache::server::scripting
