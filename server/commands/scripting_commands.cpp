// Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, FCALL, FCALL_RO,
// SCRIPT (LOAD, EXISTS, FLUSH, KILL, DEBUG, HELP) and FUNCTION (LOAD,
// DELETE, LIST, FLUSH, DUMP, RESTORE, STATS, KILL, HELP). The Lua engine and
// the script / library registries live in server/scripting; redis.call runs
// commands through a script host chosen in server/script_runner.h (which
// shard runs the script, and how it reaches keys of other shards).
//
// EVAL and FCALL are keyed commands whose keys are found through numkeys, so
// the dispatcher brings the declared keys to one keyspace before the script
// runs. SCRIPT and FUNCTION subcommands have no keys.
#include <string>

#include "server/command_table.h"
#include "server/script_runner.h"
#include "server/commands/arg_util.h"
#include "server/scripting/scripting.h"
#include "storage/glob.h"

namespace distcache::server {
namespace {


// ---------------------------------------------------------------------------
// EVAL / FCALL

// name script-or-function numkeys key... arg...
bool numkeys_key_finder(const protocol::ArgList& args, std::vector<int>& out) {
  if (args.size() < 3) return false;
  int64_t numkeys;
  if (!parse_int64(args[2], numkeys) || numkeys < 0 || numkeys > static_cast<int64_t>(args.size()) - 3) return false;
  for (int64_t i = 0; i < numkeys; ++i) out.push_back(static_cast<int>(3 + i));
  return true;
}

// Which shard runs a script, and with what access to keys, is decided in
// server/script_runner.h; every script command lands there.
void eval_command(CommandContext& ctx) { run_script_command(ctx); }
void evalsha_command(CommandContext& ctx) { run_script_command(ctx); }
void eval_ro_command(CommandContext& ctx) { run_script_command(ctx); }
void evalsha_ro_command(CommandContext& ctx) { run_script_command(ctx); }
void fcall_command(CommandContext& ctx) { run_script_command(ctx); }
void fcall_ro_command(CommandContext& ctx) { run_script_command(ctx); }

void reply_lines(CommandContext& ctx, std::span<const std::string_view> lines) {
  ctx.reply.array(lines.size());
  for (std::string_view line : lines) ctx.reply.simple(line);
}

// "unknown subcommand or wrong number of arguments" for a FUNCTION subcommand.
void reply_subcommand_syntax_error(CommandContext& ctx) {
  std::string sub(c_string_prefix(ctx.args[1]).substr(0, 128));
  ctx.reply.error("ERR unknown subcommand or wrong number of arguments for '" + sub + "'. Try FUNCTION HELP.");
}

// SYNC / ASYNC, the only option of SCRIPT FLUSH and FUNCTION FLUSH.
bool flush_option_ok(const protocol::ArgList& args) {
  return args.size() == 2 || (args.size() == 3 && (is_option(args[2], "sync") || is_option(args[2], "async")));
}

// ---------------------------------------------------------------------------
// SCRIPT

void script_load_command(CommandContext& ctx) {
  std::string result;
  if (scripting::script_load(ctx.args[2], result))
    ctx.reply.bulk(result);
  else
    ctx.reply.error(result);
}

void script_exists_command(CommandContext& ctx) {
  ctx.reply.array(ctx.args.size() - 2);
  for (size_t i = 2; i < ctx.args.size(); ++i) ctx.reply.integer(scripting::script_exists(ctx.args[i]) ? 1 : 0);
}

void script_flush_command(CommandContext& ctx) {
  if (!flush_option_ok(ctx.args)) {
    ctx.reply.error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    return;
  }
  scripting::script_flush();
  ctx.reply.ok();
}

void script_kill_command(CommandContext& ctx) {
  std::string error = scripting::kill_running_script(/*function_kill=*/false);
  if (error.empty())
    ctx.reply.ok();
  else
    ctx.reply.error(error);
}

void script_debug_command(CommandContext& ctx) {
  std::string_view mode = ctx.args[2];
  if (is_option(mode, "no")) {
    ctx.reply.ok();
  } else if (is_option(mode, "yes") || is_option(mode, "sync")) {
    ctx.reply.error("ERR SCRIPT DEBUG YES/SYNC (the Lua debugger) is not supported by this server");
  } else {
    ctx.reply.error("ERR Use SCRIPT DEBUG YES/SYNC/NO");
  }
}

void script_help_command(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "DEBUG (YES|SYNC|NO)",
      "    Set the debug mode for subsequent scripts executed.",
      "EXISTS <sha1> [<sha1> ...]",
      "    Return information about the existence of the scripts in the script cache.",
      "FLUSH [ASYNC|SYNC]",
      "    Flush the Lua scripts cache. Very dangerous on replicas.",
      "    When called without the optional mode argument, the behavior is determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the scripts cache.",
      "    * SYNC: Synchronously flush the scripts cache.",
      "KILL",
      "    Kill the currently executing Lua script.",
      "LOAD <script>",
      "    Load a script into the scripts cache without executing it.",
      "HELP",
      "    Prints this help.",
  };
  reply_lines(ctx, kLines);
}

// ---------------------------------------------------------------------------
// FUNCTION

void function_load_command(CommandContext& ctx) {
  const protocol::ArgList& a = ctx.args;
  bool replace = false;
  size_t pos = 2;
  while (pos < a.size() - 1) {
    std::string_view option = a[pos++];
    if (is_option(option, "replace")) {
      replace = true;
      continue;
    }
    ctx.reply.error("ERR Unknown option given: " + std::string(c_string_prefix(option)));
    return;
  }
  std::string result;
  if (scripting::function_load(a[pos], replace, result))
    ctx.reply.bulk(result);
  else
    ctx.reply.error(result);
}

void function_delete_command(CommandContext& ctx) {
  if (scripting::function_delete(ctx.args[2]))
    ctx.reply.ok();
  else
    ctx.reply.error("ERR Library not found");
}

void function_flush_command(CommandContext& ctx) {
  if (ctx.args.size() > 3) {
    reply_subcommand_syntax_error(ctx);
    return;
  }
  if (!flush_option_ok(ctx.args)) {
    ctx.reply.error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
    return;
  }
  scripting::function_flush();
  ctx.reply.ok();
}

void function_list_command(CommandContext& ctx) {
  const protocol::ArgList& a = ctx.args;
  bool with_code = false, has_pattern = false;
  std::string_view pattern;
  for (size_t i = 2; i < a.size(); ++i) {
    if (!with_code && is_option(a[i], "withcode")) {
      with_code = true;
      continue;
    }
    if (!has_pattern && is_option(a[i], "libraryname")) {
      if (i >= a.size() - 1) {
        ctx.reply.error("ERR library name argument was not given");
        return;
      }
      pattern = a[++i];
      has_pattern = true;
      continue;
    }
    ctx.reply.error("ERR Unknown argument " + std::string(c_string_prefix(a[i])));
    return;
  }
  std::vector<scripting::LibraryInfo> libs = scripting::function_list();
  if (has_pattern)
    std::erase_if(libs, [&](const auto& lib) { return !storage::glob_match(pattern, lib.name, true); });
  protocol::ReplyBuilder& r = ctx.reply;
  r.array(libs.size());
  for (const auto& lib : libs) {
    r.map(with_code ? 4 : 3);
    r.bulk("library_name");
    r.bulk(lib.name);
    r.bulk("engine");
    r.bulk("LUA");
    r.bulk("functions");
    r.array(lib.functions.size());
    for (const auto& f : lib.functions) {
      r.map(3);
      r.bulk("name");
      r.bulk(f.name);
      r.bulk("description");
      if (f.has_description)
        r.bulk(f.description);
      else
        r.null_bulk();
      r.bulk("flags");
      auto names = scripting::flag_names(f.flags);
      r.set(names.size());
      for (std::string_view n : names) r.simple(n);
    }
    if (with_code) {
      r.bulk("library_code");
      r.bulk(lib.code);
    }
  }
}

void function_dump_command(CommandContext& ctx) { ctx.reply.bulk(scripting::function_dump()); }

void function_restore_command(CommandContext& ctx) {
  const protocol::ArgList& a = ctx.args;
  scripting::RestorePolicy policy = scripting::RestorePolicy::kAppend;
  if (a.size() > 4) {
    reply_subcommand_syntax_error(ctx);
    return;
  }
  if (a.size() == 4) {
    if (is_option(a[3], "flush")) {
      policy = scripting::RestorePolicy::kFlush;
    } else if (is_option(a[3], "append")) {
      policy = scripting::RestorePolicy::kAppend;
    } else if (is_option(a[3], "replace")) {
      policy = scripting::RestorePolicy::kReplace;
    } else {
      ctx.reply.error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
      return;
    }
  }
  std::string error;
  if (scripting::function_restore(a[2], policy, error))
    ctx.reply.ok();
  else
    ctx.reply.error(error);
}

void function_stats_command(CommandContext& ctx) {
  std::vector<scripting::RunningFunction> running;
  if (!scripting::running_function(running)) {
    ctx.reply.error(scripting::busy_error());
    return;
  }
  protocol::ReplyBuilder& r = ctx.reply;
  r.map(2);
  r.bulk("running_script");
  if (running.empty()) {
    r.null_bulk();
  } else {
    const auto& f = running.front();
    r.map(3);
    r.bulk("name");
    r.bulk(f.name);
    r.bulk("command");
    r.array(f.command.size());
    for (const auto& arg : f.command) r.bulk(arg);
    r.bulk("duration_ms");
    r.integer(f.duration_ms);
  }
  r.bulk("engines");
  r.map(1);
  r.bulk("LUA");
  r.map(2);
  r.bulk("libraries_count");
  r.integer(static_cast<int64_t>(scripting::function_library_count()));
  r.bulk("functions_count");
  r.integer(static_cast<int64_t>(scripting::function_count()));
}

void function_kill_command(CommandContext& ctx) {
  std::string error = scripting::kill_running_script(/*function_kill=*/true);
  if (error.empty())
    ctx.reply.ok();
  else
    ctx.reply.error(error);
}

void function_help_command(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "LOAD [REPLACE] <FUNCTION CODE>",
      "    Create a new library with the given library name and code.",
      "DELETE <LIBRARY NAME>",
      "    Delete the given library.",
      "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
      "    Return general information on all the libraries:",
      "    * Library name",
      "    * The engine used to run the Library",
      "    * Library description",
      "    * Functions list",
      "    * Library code (if WITHCODE is given)",
      "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
      "STATS",
      "    Return information about the current function running:",
      "    * Function name",
      "    * Command used to run the function",
      "    * Duration in MS that the function is running",
      "    If no function is running, return nil",
      "    In addition, returns a list of available engines.",
      "KILL",
      "    Kill the current running function.",
      "FLUSH [ASYNC|SYNC]",
      "    Delete all the libraries.",
      "    When called without the optional mode argument, the behavior is determined by the",
      "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
      "    * ASYNC: Asynchronously flush the libraries.",
      "    * SYNC: Synchronously flush the libraries.",
      "DUMP",
      "    Return a serialized payload representing the current libraries, can be restored using FUNCTION "
      "RESTORE command",
      "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
      "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
      "    control how to handle existing libraries (default APPEND):",
      "    * FLUSH: delete all existing libraries.",
      "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
      "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
      "      libraries with the new libraries (notice that even on this option there is a chance of failure",
      "      in case of functions name collision with another library).",
      "HELP",
      "    Prints this help.",
  };
  reply_lines(ctx, kLines);
}

// ---------------------------------------------------------------------------
// The table

constexpr uint32_t kScriptRunFlags = kCmdNoscript | kCmdStale | kCmdSkipMonitor | kCmdNoMandatoryKeys | kCmdMovableKeys;
constexpr uint64_t kScriptAcl = kAclSlow | kAclScripting;
constexpr uint64_t kScriptWriteAcl = kAclWrite | kAclSlow | kAclScripting;

constexpr CommandSpec make(std::string_view name, int arity, uint32_t flags, uint64_t acl, KeyedHandler handler,
                           std::string_view summary, std::string_view since, std::string_view complexity,
                           KeyFinder finder = nullptr) {
  return keyed_command("scripting", name, arity, flags, acl, 0, 0, 0, handler, summary, since, complexity, finder);
}

const CommandSpec kScriptSubcommands[] = {
    make("script|debug", 3, kCmdNoscript, kScriptAcl, script_debug_command,
         "Sets the debug mode of server-side Lua scripts (only NO is supported).", "3.2.0", "O(1)"),
    make("script|exists", -3, kCmdNoscript, kScriptAcl, script_exists_command,
         "Tells, for each sha1 digest, whether the script is in the script cache.", "2.6.0",
         "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation)."),
    make("script|flush", -2, kCmdNoscript, kScriptAcl, script_flush_command,
         "Removes every script from the script cache.", "2.6.0",
         "O(N) with N being the number of scripts in cache"),
    make("script|help", 2, kCmdLoading | kCmdStale, kScriptAcl, script_help_command,
         "Lists the SCRIPT subcommands.", "5.0.0", "O(1)"),
    make("script|kill", 2, kCmdNoscript | kCmdAllowBusy, kScriptAcl, script_kill_command,
         "Stops the running script if it has not written yet.", "2.6.0", "O(1)"),
    make("script|load", 3, kCmdNoscript | kCmdStale, kScriptAcl, script_load_command,
         "Compiles a script and adds it to the script cache without running it.", "2.6.0",
         "O(N) with N being the length in bytes of the script body."),
};

const CommandSpec kFunctionSubcommands[] = {
    make("function|delete", 3, kCmdWrite | kCmdNoscript, kScriptWriteAcl, function_delete_command,
         "Deletes a function library and its functions.", "7.0.0", "O(1)"),
    make("function|dump", 2, kCmdNoscript, kScriptAcl, function_dump_command,
         "Serializes every function library into a payload for FUNCTION RESTORE.", "7.0.0",
         "O(N) where N is the number of functions"),
    make("function|flush", -2, kCmdWrite | kCmdNoscript, kScriptWriteAcl, function_flush_command,
         "Deletes every function library.", "7.0.0", "O(N) where N is the number of functions deleted"),
    make("function|help", 2, kCmdLoading | kCmdStale, kScriptAcl, function_help_command,
         "Lists the FUNCTION subcommands.", "7.0.0", "O(1)"),
    make("function|kill", 2, kCmdNoscript | kCmdAllowBusy, kScriptAcl, function_kill_command,
         "Stops the running function if it has not written yet.", "7.0.0", "O(1)"),
    make("function|list", -2, kCmdNoscript, kScriptAcl, function_list_command,
         "Lists the function libraries, their functions and optionally their code.", "7.0.0",
         "O(N) where N is the number of functions"),
    make("function|load", -3, kCmdWrite | kCmdDenyOom | kCmdNoscript, kScriptWriteAcl, function_load_command,
         "Creates (or with REPLACE replaces) a function library from its code.", "7.0.0",
         "O(1) (considering compilation time is redundant)"),
    make("function|restore", -3, kCmdWrite | kCmdDenyOom | kCmdNoscript, kScriptWriteAcl, function_restore_command,
         "Restores function libraries from a FUNCTION DUMP payload.", "7.0.0",
         "O(N) where N is the number of functions on the payload"),
    make("function|stats", 2, kCmdNoscript | kCmdAllowBusy, kScriptAcl, function_stats_command,
         "Tells which function runs right now and how many libraries and functions exist.", "7.0.0", "O(1)"),
};

const CommandSpec kScriptingSpecs[] = {
    make("eval", -3, kScriptRunFlags, kScriptAcl, eval_command, "Runs a Lua script on the server.", "2.6.0",
         "Depends on the script that is executed.", numkeys_key_finder),
    make("evalsha", -3, kScriptRunFlags, kScriptAcl, evalsha_command,
         "Runs a cached Lua script, named by the sha1 digest of its body.", "2.6.0",
         "Depends on the script that is executed.", numkeys_key_finder),
    make("eval_ro", -3, kCmdReadonly | kScriptRunFlags, kScriptAcl, eval_ro_command,
         "Runs a Lua script that may only read data.", "7.0.0", "Depends on the script that is executed.",
         numkeys_key_finder),
    make("evalsha_ro", -3, kCmdReadonly | kScriptRunFlags, kScriptAcl, evalsha_ro_command,
         "Runs a cached Lua script that may only read data.", "7.0.0", "Depends on the script that is executed.",
         numkeys_key_finder),
    make("fcall", -3, kScriptRunFlags, kScriptAcl, fcall_command, "Calls a function of a loaded function library.",
         "7.0.0", "Depends on the function that is executed.", numkeys_key_finder),
    make("fcall_ro", -3, kCmdReadonly | kScriptRunFlags, kScriptAcl, fcall_ro_command,
         "Calls a read-only function (no-writes flag) of a loaded function library.", "7.0.0",
         "Depends on the function that is executed.", numkeys_key_finder),
    CommandSpec{.name = "script",
                .arity = -2,
                .flags = 0,
                .acl = kAclSlow,
                .group = "scripting",
                .summary = "Container for the commands that manage the Lua script cache.",
                .since = "2.6.0",
                .complexity = "Depends on subcommand.",
                .subcommands = kScriptSubcommands},
    CommandSpec{.name = "function",
                .arity = -2,
                .flags = 0,
                .acl = kAclSlow,
                .group = "scripting",
                .summary = "Container for the commands that manage function libraries.",
                .since = "7.0.0",
                .complexity = "Depends on subcommand.",
                .subcommands = kFunctionSubcommands},
};

}  // namespace

std::span<const CommandSpec> scripting_command_specs() { return kScriptingSpecs; }

}  // namespace distcache::server
