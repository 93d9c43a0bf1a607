// COMMAND and its subcommands: the command table described to clients
// (redis-cli's help and hints, cluster clients' key positions).
#include <fmt/format.h>

#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/connection_context.h"
#include "storage/glob.h"

namespace distcache::server {
namespace {

constexpr std::pair<uint32_t, std::string_view> kFlagNames[] = {
    {kCmdWrite, "write"},           {kCmdReadonly, "readonly"},       {kCmdDenyOom, "denyoom"},
    {kCmdAdmin, "admin"},           {kCmdPubsub, "pubsub"},           {kCmdNoscript, "noscript"},
    {kCmdBlocking, "blocking"},     {kCmdLoading, "loading"},         {kCmdStale, "stale"},
    {kCmdSkipMonitor, "skip_monitor"}, {kCmdSkipSlowlog, "skip_slowlog"}, {kCmdAsking, "asking"},
    {kCmdFast, "fast"},             {kCmdNoAuth, "no_auth"},          {kCmdMayReplicate, "may_replicate"},
    {kCmdNoMandatoryKeys, "no_mandatory_keys"}, {kCmdNoAsyncLoading, "no_async_loading"},
    {kCmdNoMulti, "no_multi"},      {kCmdMovableKeys, "movablekeys"}, {kCmdAllowBusy, "allow_busy"},
};

constexpr std::pair<uint64_t, std::string_view> kAclNames[] = {
    {kAclKeyspace, "@keyspace"}, {kAclRead, "@read"},         {kAclWrite, "@write"},
    {kAclSet, "@set"},           {kAclSortedSet, "@sortedset"}, {kAclList, "@list"},
    {kAclHash, "@hash"},         {kAclString, "@string"},     {kAclBitmap, "@bitmap"},
    {kAclHyperLogLog, "@hyperloglog"}, {kAclGeo, "@geo"},     {kAclStream, "@stream"},
    {kAclPubsub, "@pubsub"},     {kAclAdmin, "@admin"},       {kAclFast, "@fast"},
    {kAclSlow, "@slow"},         {kAclBlocking, "@blocking"}, {kAclDangerous, "@dangerous"},
    {kAclConnection, "@connection"}, {kAclTransaction, "@transaction"}, {kAclScripting, "@scripting"},
};

uint32_t effective_flags(const CommandSpec& spec) {
  return spec.find_keys ? spec.flags | kCmdMovableKeys : spec.flags;
}

void write_key_specs(protocol::ReplyBuilder& r, const CommandSpec& spec) {
  if (spec.first_key <= 0) {
    r.array(0);
    return;
  }
  r.array(1);
  r.map(3);
  r.bulk("flags");
  bool write = spec.flags & kCmdWrite;
  r.set(write ? 2 : 2);
  r.simple(write ? "RW" : "RO");
  r.simple(write ? "UPDATE" : "ACCESS");
  r.bulk("begin_search");
  r.map(2);
  r.bulk("type");
  r.bulk("index");
  r.bulk("spec");
  r.map(1);
  r.bulk("index");
  r.integer(spec.first_key);
  r.bulk("find_keys");
  r.map(2);
  r.bulk("type");
  r.bulk("range");
  r.bulk("spec");
  r.map(3);
  r.bulk("lastkey");
  // Key specs count the last key relative to the first one (negative: from the end).
  r.integer(spec.last_key < 0 ? spec.last_key : spec.last_key - spec.first_key);
  r.bulk("keystep");
  r.integer(spec.key_step);
  r.bulk("limit");
  r.integer(0);
}

void write_info(protocol::ReplyBuilder& r, const CommandSpec& spec) {
  r.array(10);
  r.bulk(spec.name);
  r.integer(spec.arity);
  uint32_t flags = effective_flags(spec);
  size_t nflags = 0;
  for (auto& [bit, name] : kFlagNames) nflags += (flags & bit) ? 1 : 0;
  r.set(nflags);
  for (auto& [bit, name] : kFlagNames)
    if (flags & bit) r.simple(name);
  r.integer(spec.first_key);
  r.integer(spec.last_key);
  r.integer(spec.key_step);
  size_t nacl = 0;
  for (auto& [bit, name] : kAclNames) nacl += (spec.acl & bit) ? 1 : 0;
  r.set(nacl);
  for (auto& [bit, name] : kAclNames)
    if (spec.acl & bit) r.simple(name);
  r.array(0);  // tips
  write_key_specs(r, spec);
  r.array(spec.subcommands.size());
  for (const auto& sub : spec.subcommands) write_info(r, sub);
}

void write_docs(protocol::ReplyBuilder& r, const CommandSpec& spec) {
  r.map(spec.subcommands.empty() ? 4 : 5);
  r.bulk("summary");
  r.bulk(spec.summary);
  r.bulk("since");
  r.bulk(spec.since);
  r.bulk("group");
  r.bulk(spec.group);
  r.bulk("complexity");
  r.bulk(spec.complexity);
  if (!spec.subcommands.empty()) {
    r.bulk("subcommands");
    r.map(spec.subcommands.size());
    for (const auto& sub : spec.subcommands) {
      r.bulk(sub.name);
      write_docs(r, sub);
    }
  }
}

void command_all(ConnectionContext& ctx) {
  const auto& all = CommandTable::instance().all();
  ctx.reply.array(all.size());
  for (const CommandSpec* spec : all) write_info(ctx.reply, *spec);
}

void command_count(ConnectionContext& ctx) {
  ctx.reply.integer(static_cast<int64_t>(CommandTable::instance().all().size()));
}

// "config|get" or "config" -> spec, as COMMAND INFO/DOCS accept them.
const CommandSpec* lookup_full_name(std::string_view name) {
  size_t bar = name.find('|');
  const CommandSpec* spec = CommandTable::instance().find(name.substr(0, bar));
  if (!spec || bar == std::string_view::npos) return spec;
  return CommandTable::find_subcommand(*spec, name.substr(bar + 1));
}

void command_info(ConnectionContext& ctx) {
  if (ctx.args.size() == 2) {
    command_all(ctx);
    return;
  }
  ctx.reply.array(ctx.args.size() - 2);
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    if (const CommandSpec* spec = lookup_full_name(ctx.args[i]))
      write_info(ctx.reply, *spec);
    else
      ctx.reply.null_array();
  }
}

void command_docs(ConnectionContext& ctx) {
  std::vector<const CommandSpec*> specs;
  if (ctx.args.size() == 2) {
    specs = CommandTable::instance().all();
  } else {
    for (size_t i = 2; i < ctx.args.size(); ++i)
      if (const CommandSpec* spec = lookup_full_name(ctx.args[i])) specs.push_back(spec);
  }
  ctx.reply.map(specs.size());
  for (const CommandSpec* spec : specs) {
    ctx.reply.bulk(spec->name);
    write_docs(ctx.reply, *spec);
  }
}

void getkeys(ConnectionContext& ctx, bool with_flags) {
  const CommandSpec* spec = CommandTable::instance().find(ctx.args[2]);
  protocol::ArgList sub;
  for (size_t i = 2; i < ctx.args.size(); ++i) sub.add(ctx.args[i]);
  if (spec && !spec->subcommands.empty() && sub.size() >= 2)
    spec = CommandTable::find_subcommand(*spec, sub[1]);
  if (!spec) {
    ctx.reply.error("ERR Invalid command specified");
    return;
  }
  if (!arity_ok(*spec, sub.size())) {
    ctx.reply.error("ERR Invalid number of arguments specified for command");
    return;
  }
  std::vector<int> keys;
  if (!extract_keys(*spec, sub, keys)) {
    ctx.reply.error("ERR Invalid arguments specified for command");
    return;
  }
  if (keys.empty()) {
    ctx.reply.error("ERR The command has no key arguments");
    return;
  }
  ctx.reply.array(keys.size());
  const bool write = spec->flags & kCmdWrite;
  for (int i : keys) {
    if (!with_flags) {
      ctx.reply.bulk(sub[i]);
      continue;
    }
    // The same flags as the command's key specs (write_key_specs).
    ctx.reply.array(2);
    ctx.reply.bulk(sub[i]);
    ctx.reply.set(2);
    ctx.reply.simple(write ? "RW" : "RO");
    ctx.reply.simple(write ? "update" : "access");  // lower case here, as Redis prints them
  }
}

void command_getkeys(ConnectionContext& ctx) { getkeys(ctx, false); }
void command_getkeysandflags(ConnectionContext& ctx) { getkeys(ctx, true); }

void command_list(ConnectionContext& ctx) {
  // COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
  std::string_view how, what;
  if (ctx.args.size() == 5 && is_option(ctx.args[2], "filterby")) {
    how = ctx.args[3];
    what = ctx.args[4];
  } else if (ctx.args.size() != 2) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  std::vector<std::string_view> names;
  auto consider = [&](const CommandSpec& spec) {
    if (how.empty()) {
      names.push_back(spec.name);
    } else if (is_option(how, "pattern")) {
      if (storage::glob_match(what, spec.name, true)) names.push_back(spec.name);
    } else if (is_option(how, "aclcat")) {
      for (auto& [bit, name] : kAclNames)
        if ((spec.acl & bit) && is_option(what, name.substr(1))) names.push_back(spec.name);
    }  // MODULE: no modules, nothing matches
  };
  if (!how.empty() && !is_option(how, "pattern") && !is_option(how, "aclcat") &&
      !is_option(how, "module")) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  for (const CommandSpec* spec : CommandTable::instance().all()) {
    consider(*spec);
    for (const auto& sub : spec->subcommands) consider(sub);
  }
  ctx.reply.array(names.size());
  for (auto n : names) ctx.reply.bulk(n);
}

void command_help(ConnectionContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "(no subcommand)",
      "    Return details about all commands.",
      "COUNT",
      "    Return the total number of commands in this server.",
      "LIST",
      "    Return a list of all commands in this server.",
      "INFO [<command-name> ...]",
      "    Return details about multiple commands.",
      "DOCS [<command-name> ...]",
      "    Return documentation details about multiple commands.",
      "GETKEYS <full-command>",
      "    Return the keys from a full command.",
      "GETKEYSANDFLAGS <full-command>",
      "    Return the keys and the access flags from a full command.",
      "HELP",
      "    Print this help.",
  };
  ctx.reply.array(std::size(kLines));
  for (auto l : kLines) ctx.reply.simple(l);
}

constexpr uint32_t kIntroFlags = kCmdLoading | kCmdStale;
constexpr uint64_t kIntroAcl = kAclSlow | kAclConnection;

const CommandSpec kCommandSubcommands[] = {
    {.name = "command|count", .arity = 2, .flags = kIntroFlags, .acl = kIntroAcl, .connection = command_count,
     .group = "server", .summary = "Returns the number of commands.", .since = "2.8.13", .complexity = "O(1)"},
    {.name = "command|info", .arity = -2, .flags = kIntroFlags, .acl = kIntroAcl, .connection = command_info,
     .group = "server", .summary = "Describes commands: arity, flags, key positions, ACL categories.",
     .since = "2.8.13", .complexity = "O(N) where N is the number of commands to look up"},
    {.name = "command|docs", .arity = -2, .flags = kIntroFlags, .acl = kIntroAcl, .connection = command_docs,
     .group = "server", .summary = "Returns documentation about commands.", .since = "7.0.0",
     .complexity = "O(N) where N is the number of commands to look up"},
    {.name = "command|getkeys", .arity = -4, .flags = kIntroFlags, .acl = kIntroAcl,
     .connection = command_getkeys, .group = "server", .summary = "Extracts the key names of a full command.",
     .since = "2.8.13", .complexity = "O(N) where N is the number of arguments to the command"},
    {.name = "command|getkeysandflags", .arity = -4, .flags = kIntroFlags, .acl = kIntroAcl,
     .connection = command_getkeysandflags, .group = "server",
     .summary = "Extracts the key names and access flags for an arbitrary command.", .since = "7.0.0",
     .complexity = "O(N) where N is the number of arguments to the command"},
    {.name = "command|list", .arity = -2, .flags = kIntroFlags, .acl = kIntroAcl, .connection = command_list,
     .group = "server", .summary = "Lists command names, optionally filtered.", .since = "7.0.0",
     .complexity = "O(N) where N is the total number of Redis commands"},
    {.name = "command|help", .arity = 2, .flags = kIntroFlags, .acl = kIntroAcl, .connection = command_help,
     .group = "server", .summary = "Lists the COMMAND subcommands.", .since = "5.0.0", .complexity = "O(1)"},
};

void command_root(ConnectionContext& ctx) { command_all(ctx); }

const CommandSpec kIntrospectionCommands[] = {
    {.name = "command", .arity = -1, .flags = kIntroFlags, .acl = kIntroAcl, .connection = command_root,
     .group = "server", .summary = "Returns detailed information about all commands.", .since = "2.8.13",
     .complexity = "O(N) where N is the total number of Redis commands", .subcommands = kCommandSubcommands},
};

}  // namespace

std::span<const CommandSpec> introspection_command_specs() { return kIntrospectionCommands; }

}  // namespace distcache::server
