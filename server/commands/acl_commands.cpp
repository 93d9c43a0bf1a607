// ACL SETUSER/GETUSER/DELUSER/LIST/USERS/WHOAMI/CAT/GENPASS/LOG/LOAD/SAVE/
// DRYRUN/HELP over the users of server/acl/acl.h, with Redis 7.0's replies.
#include <fmt/format.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <memory>
#include <random>

#include "server/acl/acl.h"
#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/connection.h"
#include "server/connection_context.h"
#include "server/pubsub.h"
#include "server/shard_thread.h"

namespace distcache::server {
namespace {

constexpr std::string_view kNoAclFile =
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL "
    "SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order "
    "to store users in the Redis configuration.";

void reply_selector(protocol::ReplyBuilder& reply, const acl::Selector& s) {
  reply.bulk("commands");
  reply.bulk(acl::describe_commands(s));
  reply.bulk("keys");
  reply.bulk(acl::describe_keys(s));
  reply.bulk("channels");
  reply.bulk(acl::describe_channels(s, false));
}

// Closes every connection whose user matches (our own one after its reply), then runs `then`.
void disconnect_clients(ConnectionContext& ctx, std::function<bool(const std::string&)> matches,
                        std::function<void()> then) {
  const uint64_t self = ctx.session.id;
  ctx.for_each_shard(
      [matches, self](ShardThread& shard) {
        std::vector<std::shared_ptr<Connection>> victims;
        for (auto& c : shard.connections()) {
          if (!matches(c->session().user)) continue;
          if (c->session().id == self)
            c->session().close_after_reply = true;
          else
            victims.push_back(c);
        }
        for (auto& c : victims) c->close();
      },
      std::move(then));
}

void acl_setuser(ConnectionContext& ctx) {
  std::string_view name = ctx.args[2];
  if (name.find_first_of(std::string_view(" \0", 2)) != std::string_view::npos) {
    ctx.reply.error("ERR Usernames can't contain spaces or null characters");
    return;
  }
  std::vector<std::string> rules;
  for (size_t i = 3; i < ctx.args.size(); ++i) rules.emplace_back(ctx.args[i]);
  if (auto err = acl::set_user(name, rules)) {
    ctx.reply.error(*err);
    return;
  }
  // Subscribers of this user whose channels are no longer allowed are disconnected.
  auto user = acl::find_user(name);
  if (!user || (user->root.allchannels && user->selectors.empty())) {
    ctx.reply.ok();
    return;
  }
  const uint64_t self = ctx.session.id;
  auto& reply = ctx.reply;
  ctx.for_each_shard(
      [user, self](ShardThread& shard) {
        std::vector<std::shared_ptr<Connection>> victims;
        for (auto& c : shard.connections()) {
          const ClientSubscriptions* subs = c->subscriptions();
          if (c->session().user != user->name || !subs || !c->session().subscribed()) continue;
          std::vector<std::string_view> channels(subs->channels.begin(), subs->channels.end());
          channels.insert(channels.end(), subs->shard_channels.begin(), subs->shard_channels.end());
          std::vector<std::string_view> patterns(subs->patterns.begin(), subs->patterns.end());
          if (acl::channels_allowed(*user, channels, patterns)) continue;
          if (c->session().id == self)
            c->session().close_after_reply = true;
          else
            victims.push_back(c);
        }
        for (auto& c : victims) c->close();
      },
      [&reply] { reply.ok(); });
}

void acl_getuser(ConnectionContext& ctx) {
  auto u = acl::find_user(ctx.args[2]);
  if (!u) {
    ctx.reply.null_bulk();
    return;
  }
  ctx.reply.map(6);
  ctx.reply.bulk("flags");
  std::vector<std::string_view> flags;
  flags.push_back(u->enabled ? "on" : "off");
  if (u->nopass) flags.push_back("nopass");
  if (u->sanitize == 2) flags.push_back("skip-sanitize-payload");
  if (u->sanitize == 1) flags.push_back("sanitize-payload");
  ctx.reply.array(flags.size());
  for (auto f : flags) ctx.reply.bulk(f);
  ctx.reply.bulk("passwords");
  ctx.reply.array(u->passwords.size());
  for (auto& p : u->passwords) ctx.reply.bulk(p);
  reply_selector(ctx.reply, u->root);
  ctx.reply.bulk("selectors");
  ctx.reply.array(u->selectors.size());
  for (auto& s : u->selectors) {
    ctx.reply.map(3);
    reply_selector(ctx.reply, s);
  }
}

void acl_deluser(ConnectionContext& ctx) {
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    if (ctx.args[i] == "default") {
      ctx.reply.error("ERR The 'default' user cannot be removed");
      return;
    }
  }
  auto deleted = std::make_shared<std::vector<std::string>>();
  for (size_t i = 2; i < ctx.args.size(); ++i)
    if (acl::delete_user(ctx.args[i])) deleted->emplace_back(ctx.args[i]);
  if (deleted->empty()) {
    ctx.reply.integer(0);
    return;
  }
  // Clients authenticated as a deleted user are disconnected (after our reply for ourselves).
  auto& reply = ctx.reply;
  disconnect_clients(
      ctx, [deleted](const std::string& user) {
        return std::find(deleted->begin(), deleted->end(), user) != deleted->end();
      },
      [deleted, &reply] { reply.integer(static_cast<int64_t>(deleted->size())); });
}

void acl_list(ConnectionContext& ctx) {
  auto users = acl::all_users();
  ctx.reply.array(users.size());
  for (auto& u : users) ctx.reply.bulk(acl::describe_user(*u));
}

void acl_users(ConnectionContext& ctx) {
  auto users = acl::all_users();
  ctx.reply.array(users.size());
  for (auto& u : users) ctx.reply.bulk(u->name);
}

void acl_whoami(ConnectionContext& ctx) { ctx.reply.bulk(ctx.session.user); }

void acl_cat(ConnectionContext& ctx) {
  if (ctx.args.size() == 2) {
    const auto& cats = acl::categories();
    ctx.reply.array(cats.size());
    for (auto& [name, bit] : cats) ctx.reply.bulk(name);
    return;
  }
  if (ctx.args.size() > 3) {
    ctx.reply.error("ERR wrong number of arguments for 'acl|cat' command");
    return;
  }
  uint64_t cat = acl::category_by_name(ctx.args[2]);
  if (!cat) {
    ctx.reply.error(fmt::format("ERR Unknown category '{}'", ctx.args[2]));
    return;
  }
  std::vector<std::string_view> names;
  for (const CommandSpec* cmd : CommandTable::instance().all()) {
    if (cmd->acl & cat) names.push_back(cmd->name);
    for (const CommandSpec& sub : cmd->subcommands)
      if (sub.acl & cat) names.push_back(sub.name);
  }
  ctx.reply.array(names.size());
  for (auto n : names) ctx.reply.bulk(n);
}

void acl_genpass(ConnectionContext& ctx) {
  int64_t bits = 256;
  if (ctx.args.size() > 3) {
    ctx.reply.error("ERR wrong number of arguments for 'acl|genpass' command");
    return;
  }
  if (ctx.args.size() == 3) {
    if (!parse_int64(ctx.args[2], bits)) {
      ctx.reply.error(errors::kNotInteger);
      return;
    }
    if (bits <= 0 || bits > 4096) {
      ctx.reply.error(
          "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to "
          "4096");
      return;
    }
  }
  const size_t chars = static_cast<size_t>((bits + 3) / 4);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(chars);
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  std::random_device fallback;
  while (out.size() < chars) {
    unsigned char byte;
    if (!urandom.read(reinterpret_cast<char*>(&byte), 1)) byte = static_cast<unsigned char>(fallback());
    out += kHex[byte >> 4];
    if (out.size() < chars) out += kHex[byte & 15];
  }
  ctx.reply.bulk(out);
}

void acl_log(ConnectionContext& ctx) {
  size_t count = 10;
  if (ctx.args.size() > 3) {
    ctx.reply.error("ERR wrong number of arguments for 'acl|log' command");
    return;
  }
  if (ctx.args.size() == 3) {
    if (is_option(ctx.args[2], "reset")) {
      acl::log_reset();
      ctx.reply.ok();
      return;
    }
    int64_t n;
    if (!parse_int64(ctx.args[2], n)) {
      ctx.reply.error(errors::kNotInteger);
      return;
    }
    count = n < 0 ? 0 : static_cast<size_t>(n);
  }
  auto entries = acl::log_entries(count);
  ctx.reply.array(entries.size());
  for (auto& e : entries) {
    ctx.reply.map(7);
    ctx.reply.bulk("count");
    ctx.reply.integer(e.count);
    ctx.reply.bulk("reason");
    ctx.reply.bulk(e.reason);
    ctx.reply.bulk("context");
    ctx.reply.bulk(e.context);
    ctx.reply.bulk("object");
    ctx.reply.bulk(e.object);
    ctx.reply.bulk("username");
    ctx.reply.bulk(e.username);
    ctx.reply.bulk("age-seconds");
    ctx.reply.double_value(static_cast<double>(ctx.now_ms - e.created_ms) / 1000.0);
    ctx.reply.bulk("client-info");
    ctx.reply.bulk(e.client_info);
  }
}

void acl_load(ConnectionContext& ctx) {
  std::string path = acl::aclfile_path();
  if (path.empty()) {
    ctx.reply.error(kNoAclFile);
    return;
  }
  if (auto err = acl::load_aclfile(path)) {
    ctx.reply.error("ERR " + *err);
    return;
  }
  // As Redis: every user but `default` was replaced, so their clients are disconnected.
  auto& reply = ctx.reply;
  disconnect_clients(
      ctx, [](const std::string& user) { return user != "default"; }, [&reply] { reply.ok(); });
}

void acl_save(ConnectionContext& ctx) {
  std::string path = acl::aclfile_path();
  if (path.empty()) {
    ctx.reply.error(kNoAclFile);
    return;
  }
  if (acl::save_aclfile(path)) {
    ctx.reply.error("ERR There was an error trying to save the ACLs. Please check the server logs for more information");
    return;
  }
  ctx.reply.ok();
}

void acl_dryrun(ConnectionContext& ctx) {
  auto u = acl::find_user(ctx.args[2]);
  if (!u) {
    ctx.reply.error(fmt::format("ERR User '{}' not found", ctx.args[2]));
    return;
  }
  const CommandSpec* spec = acl::lookup_command(ctx.args[3]);
  if (!spec) {
    ctx.reply.error(fmt::format("ERR Command '{}' not found", ctx.args[3]));
    return;
  }
  // The command's own arguments: a view of ours without "ACL DRYRUN user".
  protocol::ArgList args;
  for (size_t i = 3; i < ctx.args.size(); ++i) args.add(ctx.args[i]);
  if (!spec->subcommands.empty() && (args.size() >= 2 || !spec->connection)) {
    const CommandSpec* sub = args.size() >= 2 ? CommandTable::find_subcommand(*spec, args[1]) : nullptr;
    if (!sub) {
      ctx.reply.error(fmt::format("ERR Command '{}' not found", ctx.args[3]));
      return;
    }
    spec = sub;
  }
  if (!arity_ok(*spec, args.size())) {
    ctx.reply.error(fmt::format("ERR wrong number of arguments for '{}' command", spec->name));
    return;
  }
  auto r = acl::check_command(*u, *spec, args);
  switch (r.reason) {
    case acl::Denied::kNone: ctx.reply.ok(); return;
    case acl::Denied::kCommand:
      ctx.reply.bulk(fmt::format("This user has no permissions to run the '{}' command", spec->name));
      return;
    case acl::Denied::kKey:
      ctx.reply.bulk(fmt::format("This user has no permissions to access the '{}' key", args[r.arg_index]));
      return;
    default:
      ctx.reply.bulk(fmt::format("This user has no permissions to access the '{}' channel", args[r.arg_index]));
      return;
  }
}

void acl_help(ConnectionContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CAT [<category>]",
      "    List all commands that belong to <category>, or all command categories",
      "    when no category is specified.",
      "DELUSER <username> [<username> ...]",
      "    Delete a list of users.",
      "DRYRUN <username> <command> [<arg> ...]",
      "    Returns whether the user can execute the given command without executing the command.",
      "GETUSER <username>",
      "    Get the user's details.",
      "GENPASS [<bits>]",
      "    Generate a secure 256-bit user password. The optional `bits` argument can",
      "    be used to specify a different size.",
      "LIST",
      "    Show users details in config file format.",
      "LOAD",
      "    Reload users from the ACL file.",
      "LOG [<count> | RESET]",
      "    Show the ACL log entries.",
      "SAVE",
      "    Save the current config to the ACL file.",
      "SETUSER <username> <attribute> [<attribute> ...]",
      "    Create or modify a user with the specified attributes.",
      "USERS",
      "    List all the registered usernames.",
      "WHOAMI",
      "    Return the current connection username.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.array(std::size(kLines));
  for (auto l : kLines) ctx.reply.simple(l);
}

constexpr uint32_t kAdminFlags = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale;
constexpr uint32_t kPlainFlags = kCmdNoscript | kCmdLoading | kCmdStale;
constexpr uint64_t kAdminAcl = kAclAdmin | kAclSlow | kAclDangerous;

constexpr CommandSpec acl_sub(std::string_view name, int arity, uint32_t flags, uint64_t acl, ConnectionHandler h,
                              std::string_view summary, std::string_view since, std::string_view complexity) {
  return CommandSpec{.name = name,
                     .arity = arity,
                     .flags = flags,
                     .acl = acl,
                     .connection = h,
                     .group = "server",
                     .summary = summary,
                     .since = since,
                     .complexity = complexity};
}

const CommandSpec kAclSubcommands[] = {
    acl_sub("acl|cat", -2, kPlainFlags, kAclSlow, acl_cat, "Lists the ACL categories, or the commands inside a category.",
            "6.0.0", "O(1) since the categories and commands are a fixed set."),
    acl_sub("acl|deluser", -3, kAdminFlags, kAdminAcl, acl_deluser, "Deletes ACL users, and terminates their connections.",
            "6.0.0", "O(1) amortized time considering the typical user."),
    acl_sub("acl|dryrun", -4, kAdminFlags, kAdminAcl, acl_dryrun,
            "Simulates the execution of a command by a user, without executing the command.", "7.0.0", "O(1)."),
    acl_sub("acl|genpass", -2, kPlainFlags, kAclSlow, acl_genpass,
            "Generates a pseudorandom, secure password that can be used to identify ACL users.", "6.0.0", "O(1)"),
    acl_sub("acl|getuser", 3, kAdminFlags, kAdminAcl, acl_getuser, "Lists the ACL rules of a user.", "6.0.0",
            "O(N). Where N is the number of password, command and pattern rules that the user has."),
    acl_sub("acl|help", 2, kCmdLoading | kCmdStale, kAclSlow, acl_help, "Returns helpful text about the different subcommands.",
            "6.0.0", "O(1)"),
    acl_sub("acl|list", 2, kAdminFlags, kAdminAcl, acl_list, "Dumps the effective rules in ACL file format.", "6.0.0",
            "O(N). Where N is the number of configured users."),
    acl_sub("acl|load", 2, kAdminFlags, kAdminAcl, acl_load, "Reloads the rules from the configured ACL file.", "6.0.0",
            "O(N). Where N is the number of configured users."),
    acl_sub("acl|log", -2, kAdminFlags, kAdminAcl, acl_log, "Lists recent security events generated due to ACL rules.",
            "6.0.0", "O(N) with N being the number of entries shown."),
    acl_sub("acl|save", 2, kAdminFlags, kAdminAcl, acl_save, "Saves the effective ACL rules in the configured ACL file.",
            "6.0.0", "O(N). Where N is the number of configured users."),
    acl_sub("acl|setuser", -3, kAdminFlags, kAdminAcl, acl_setuser, "Creates and modifies an ACL user and its rules.",
            "6.0.0", "O(N). Where N is the number of rules provided."),
    acl_sub("acl|users", 2, kAdminFlags, kAdminAcl, acl_users, "Lists all ACL users.", "6.0.0",
            "O(N). Where N is the number of configured users."),
    acl_sub("acl|whoami", 2, kPlainFlags, kAclSlow, acl_whoami, "Returns the authenticated username of the current connection.",
            "6.0.0", "O(1)"),
};

const CommandSpec kAclCommands[] = {
    {.name = "acl", .arity = -2, .flags = 0, .acl = kAclSlow, .group = "server",
     .summary = "A container for Access List Control commands.", .since = "6.0.0",
     .complexity = "Depends on subcommand.", .subcommands = kAclSubcommands},
};

}  // namespace

std::span<const CommandSpec> acl_command_specs() { return kAclCommands; }

}  // namespace distcache::server
