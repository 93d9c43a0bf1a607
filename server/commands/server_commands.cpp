// Server administration: TIME, INFO, CONFIG, SHUTDOWN.
#include <fmt/format.h>

#include <chrono>

#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/commands/info.h"
#include "server/config.h"
#include "server/config_rewrite.h"
#include "server/stats.h"
#include "server/connection_context.h"
#include "server/log.h"
#include "server/server.h"
#include "server/shard_thread.h"

namespace distcache::server {
namespace {

void time_command(ConnectionContext& ctx) {
  using namespace std::chrono;
  auto us = duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
  ctx.reply.array(2);
  ctx.reply.bulk(std::to_string(us / 1000000));
  ctx.reply.bulk(std::to_string(us % 1000000));
}

void config_get(ConnectionContext& ctx) {
  std::vector<std::pair<std::string, std::string>> all;
  for (size_t i = 2; i < ctx.args.size(); ++i)
    for (auto& kv : server::config_get(ctx.server.config(), ctx.args[i]))
      if (std::none_of(all.begin(), all.end(), [&](const auto& e) { return e.first == kv.first; }))
        all.push_back(std::move(kv));
  ctx.reply.map(all.size());
  for (auto& [name, value] : all) {
    ctx.reply.bulk(name);
    ctx.reply.bulk(value);
  }
}

void config_set(ConnectionContext& ctx) {
  if ((ctx.args.size() - 2) % 2 != 0) {
    ctx.reply.error("ERR wrong number of arguments for 'config|set' command");
    return;
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 2; i + 1 < ctx.args.size(); i += 2) pairs.emplace_back(ctx.args[i], ctx.args[i + 1]);
  if (auto error = server::config_set(ctx.server.config(), pairs)) {
    ctx.reply.error(*error);
    return;
  }
  log_set_level(static_cast<LogLevel>(ctx.server.config().loglevel.load()));
  ctx.reply.ok();
}

void config_resetstat(ConnectionContext& ctx) {
  auto& st = ctx.server.stats();
  st.connections_received = 0;
  st.rejected_connections = 0;
  st.expired_keys = 0;
  stats::reset_all();  // commandstats, errorstats, latencystats (server/stats.h)
  auto& reply = ctx.reply;
  // Each thread resets its own counters (they have a single writer).
  ctx.for_each_shard([](ShardThread& s) { s.counters().reset(); }, [&reply] { reply.ok(); });
}

void config_rewrite(ConnectionContext& ctx) {
  if (auto error = rewrite_config_file(ctx.server.config())) {
    ctx.reply.error(*error);
    return;
  }
  ctx.reply.ok();
}

void config_help(ConnectionContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GET <pattern>",
      "    Return parameters matching the glob-like <pattern> and their values.",
      "SET <directive> <value>",
      "    Set the configuration <directive> to <value>.",
      "RESETSTAT",
      "    Reset statistics reported by the INFO command.",
      "REWRITE",
      "    Rewrite the configuration file.",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.array(std::size(kLines));
  for (auto l : kLines) ctx.reply.simple(l);
}

void shutdown(ConnectionContext& ctx) {
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    std::string_view a = ctx.args[i];
    if (is_option(a, "abort")) {
      ctx.reply.error("ERR No shutdown in progress.");
      return;
    }
    if (!is_option(a, "nosave") && !is_option(a, "save") && !is_option(a, "now") &&
        !is_option(a, "force")) {
      ctx.reply.error(errors::kSyntax);
      return;
    }
  }
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    if (is_option(ctx.args[i], "nosave")) ctx.server.set_shutdown_save(Server::ShutdownSave::kNoSave);
    if (is_option(ctx.args[i], "save")) ctx.server.set_shutdown_save(Server::ShutdownSave::kSave);
  }
  // Like Redis, a successful SHUTDOWN sends no reply: the connection just closes.
  ctx.server.request_shutdown();
  ctx.suspend();  // no further commands from this client
}

constexpr uint32_t kAdminFlags = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale;
constexpr uint64_t kAdminAcl = kAclAdmin | kAclSlow | kAclDangerous;

const CommandSpec kConfigSubcommands[] = {
    {.name = "config|get", .arity = -3, .flags = kAdminFlags, .acl = kAdminAcl, .connection = config_get,
     .group = "server", .summary = "Returns the values of configuration parameters matching glob patterns.",
     .since = "2.0.0", .complexity = "O(N) when N is the number of configuration parameters provided"},
    {.name = "config|set", .arity = -4, .flags = kAdminFlags, .acl = kAdminAcl, .connection = config_set,
     .group = "server", .summary = "Sets one or more configuration parameters, all or none.", .since = "2.0.0",
     .complexity = "O(N) when N is the number of configuration parameters provided"},
    {.name = "config|resetstat", .arity = 2, .flags = kAdminFlags, .acl = kAdminAcl,
     .connection = config_resetstat, .group = "server", .summary = "Resets the statistics reported by INFO.",
     .since = "2.0.0", .complexity = "O(1)"},
    {.name = "config|rewrite", .arity = 2, .flags = kAdminFlags, .acl = kAdminAcl, .connection = config_rewrite,
     .group = "server", .summary = "Persists the effective configuration to file.", .since = "2.8.0",
     .complexity = "O(1)"},
    {.name = "config|help", .arity = 2, .flags = kCmdLoading | kCmdStale, .acl = kAclSlow,
     .connection = config_help, .group = "server", .summary = "Lists the CONFIG subcommands.", .since = "5.0.0",
     .complexity = "O(1)"},
};

const CommandSpec kServerCommands[] = {
    {.name = "time", .arity = 1, .flags = kCmdLoading | kCmdStale | kCmdFast, .acl = kAclFast,
     .connection = time_command, .group = "server", .summary = "Returns the server's time.", .since = "2.6.0",
     .complexity = "O(1)"},
    {.name = "info", .arity = -1, .flags = kCmdLoading | kCmdStale, .acl = kAclSlow | kAclDangerous,
     .connection = info_command, .group = "server",
     .summary = "Returns information and statistics about the server.", .since = "1.0.0", .complexity = "O(1)"},
    {.name = "config", .arity = -2, .flags = 0, .acl = kAclSlow, .group = "server",
     .summary = "A container for server configuration commands.", .since = "2.0.0",
     .complexity = "Depends on subcommand.", .subcommands = kConfigSubcommands},
    {.name = "shutdown", .arity = -1, .flags = kAdminFlags | kCmdAllowBusy, .acl = kAdminAcl,
     .connection = shutdown, .group = "server", .summary = "Stops the server after closing client connections.",
     .since = "1.0.0", .complexity = "O(N) when saving, where N is the total number of keys in all databases"},
};

}  // namespace

std::span<const CommandSpec> server_command_specs() { return kServerCommands; }

}  // namespace distcache::server
