// Commands about the client's own connection: PING, ECHO, SELECT, HELLO, CLIENT ...
#include <fmt/format.h>

#include <memory>

#include "server/acl/acl.h"
#include "server/blocking.h"
#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/commands/ops_commands.h"
#include "server/config.h"
#include "server/connection.h"
#include "server/connection_context.h"
#include "server/multi_exec.h"
#include "server/pubsub.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/tracking.h"
#include "server/version.h"

namespace distcache::server {
namespace {

void ping(ConnectionContext& ctx) {
  if (ctx.args.size() > 2) {
    ctx.reply.error("ERR wrong number of arguments for 'ping' command");
    return;
  }
  if (pubsub_ping(ctx.session, ctx.args, ctx.reply)) return;  // ["pong", arg] while subscribed in RESP2
  if (ctx.args.size() == 2)
    ctx.reply.bulk(ctx.args[1]);
  else
    ctx.reply.simple("PONG");
}

void echo(ConnectionContext& ctx) { ctx.reply.bulk(ctx.args[1]); }

void quit(ConnectionContext& ctx) {
  ctx.reply.ok();
  ctx.session.close_after_reply = true;
}

void select(ConnectionContext& ctx) {
  int64_t index;
  if (!parse_int64(ctx.args[1], index) || index < INT32_MIN || index > INT32_MAX) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  if (ctx.server.config().cluster_enabled && index != 0) {
    ctx.reply.error("ERR SELECT is not allowed in cluster mode");
    return;
  }
  if (index < 0 || index >= ctx.server.config().databases) {
    ctx.reply.error("ERR DB index is out of range");
    return;
  }
  ctx.session.db = static_cast<int>(index);
  ctx.reply.ok();
}

// Passwords are the ACL users' (server/acl/acl.h; requirepass is the default
// user's). "" when the default user needs none, as an empty requirepass meant.
std::string required_password(ConnectionContext&) { return acl::default_user_nopass() ? "" : "*"; }

bool check_password(ConnectionContext& ctx, std::string_view user, std::string_view password) {
  if (acl::check_password(user, password)) {
    ctx.session.acl_generation = 0;  // the next command fetches the new user's permissions
    return true;
  }
  acl::log_denied(acl::Denied::kAuth, ctx.session.multi ? "multi" : "toplevel", ctx.args[0], user,
                  ctx.connection().client_info(ctx.now_ms));
  return false;
}

void auth(ConnectionContext& ctx) {
  if (ctx.args.size() > 3) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  const bool with_user = ctx.args.size() == 3;
  if (!with_user && required_password(ctx).empty()) {
    ctx.reply.error(
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your "
        "configuration is correct?");
    return;
  }
  std::string_view user = with_user ? ctx.args[1] : std::string_view("default");
  std::string_view pass = ctx.args[with_user ? 2 : 1];
  if (check_password(ctx, user, pass) ||
      (required_password(ctx).empty() && user == "default")) {
    ctx.session.authenticated = true;
    ctx.session.user = std::string(user);
    ctx.reply.ok();
    return;
  }
  ctx.reply.error("WRONGPASS invalid username-password pair or user is disabled.");
}

void hello(ConnectionContext& ctx) {
  const auto& args = ctx.args;
  int version = ctx.session.resp;
  size_t i = 1;
  if (args.size() >= 2) {
    int64_t v;
    if (!parse_int64(args[1], v)) {
      ctx.reply.error("ERR Protocol version is not an integer or out of range");
      return;
    }
    if (v < 2 || v > 3) {
      ctx.reply.error("NOPROTO unsupported protocol version");
      return;
    }
    version = static_cast<int>(v);
    i = 2;
  }
  std::string_view auth_user, auth_pass, setname;
  bool has_auth = false, has_setname = false;
  for (; i < args.size(); ++i) {
    bool more = i + 1 < args.size();
    if (is_option(args[i], "auth") && i + 2 < args.size()) {
      auth_user = args[i + 1];
      auth_pass = args[i + 2];
      has_auth = true;
      i += 2;
    } else if (is_option(args[i], "setname") && more) {
      setname = args[i + 1];
      has_setname = true;
      ++i;
    } else {
      ctx.reply.error(fmt::format("ERR Syntax error in HELLO option '{}'", args[i]));
      return;
    }
  }
  if (has_auth) {
    bool ok = check_password(ctx, auth_user, auth_pass) ||
              (required_password(ctx).empty() && auth_user == "default");
    if (!ok) {
      ctx.reply.error("WRONGPASS invalid username-password pair or user is disabled.");
      return;
    }
    ctx.session.authenticated = true;
    ctx.session.user = std::string(auth_user);
  }
  if (!ctx.session.authenticated) {
    ctx.reply.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
                    "AUTH <user> <pass> option can be used to authenticate the client and select the "
                    "RESP protocol version at the same time");  // Redis 7.0.15's text
    return;
  }
  if (has_setname) {
    if (!valid_client_name(setname)) {
      ctx.reply.error("ERR Client names cannot contain spaces, newlines or special characters.");
      return;
    }
    ctx.session.name = std::string(setname);
  }
  ctx.session.resp = version;
  ctx.reply.set_resp(version);
  ctx.reply.map(7);
  ctx.reply.bulk("server");
  ctx.reply.bulk("redis");
  ctx.reply.bulk("version");
  ctx.reply.bulk(kRedisCompatVersion);
  ctx.reply.bulk("proto");
  ctx.reply.integer(version);
  ctx.reply.bulk("id");
  ctx.reply.integer(static_cast<int64_t>(ctx.session.id));
  ctx.reply.bulk("mode");
  ctx.reply.bulk(ctx.server.config().cluster_enabled ? "cluster" : "standalone");
  ctx.reply.bulk("role");
  ctx.reply.bulk("master");
  ctx.reply.bulk("modules");
  ctx.reply.array(0);
}

void reset(ConnectionContext& ctx) {
  pubsub_unsubscribe_all(ctx.connection());
  forget_transaction_state(ctx.server, ctx.session);
  tracking_disable(ctx.connection());
  ctx.session.db = 0;
  ctx.session.resp = 2;
  ctx.reply.set_resp(2);
  ctx.session.name.clear();
  ctx.session.authenticated = required_password(ctx).empty();
  ctx.session.user = "default";
  ctx.session.acl_generation = 0;  // drop the previous user's cached permissions (server/acl/acl.h)
  ctx.reply.simple("RESET");
}

// WAIT numreplicas timeout: there are no replicas, so it answers 0 at once
// when none are asked for, else after the timeout (0 = forever), as Redis.
void wait_command(ConnectionContext& ctx) {
  int64_t replicas, timeout;
  if (!parse_int64(ctx.args[1], replicas)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  if (!parse_int64(ctx.args[2], timeout)) {
    ctx.reply.error("ERR timeout is not an integer or out of range");
    return;
  }
  if (timeout < 0) {
    ctx.reply.error("ERR timeout is negative");
    return;
  }
  if (replicas <= 0) {
    ctx.reply.integer(0);
    return;
  }
  auto w = std::make_shared<BlockedClient>();
  w->conn = &ctx.connection();
  w->home = &ctx.thread;
  w->spec = &ctx.spec;
  w->args = &ctx.args;
  w->db = ctx.session.db;
  w->resp = ctx.session.resp;
  w->timeout_ms = timeout;
  w->timeout_reply = CommandContext::TimeoutReply::kZero;
  w->resume = ctx.suspend();
  start_blocking(w);
}

// --- CLIENT

void client_id(ConnectionContext& ctx) { ctx.reply.integer(static_cast<int64_t>(ctx.session.id)); }

void client_setname(ConnectionContext& ctx) {
  if (!valid_client_name(ctx.args[2])) {
    ctx.reply.error("ERR Client names cannot contain spaces, newlines or special characters.");
    return;
  }
  ctx.session.name = std::string(ctx.args[2]);
  ctx.reply.ok();
}

void client_getname(ConnectionContext& ctx) {
  if (ctx.session.name.empty())
    ctx.reply.null_bulk();
  else
    ctx.reply.bulk(ctx.session.name);
}

void client_info(ConnectionContext& ctx) {
  ctx.reply.verbatim(ctx.connection().client_info(ctx.now_ms) + "\n");
}

// CLIENT UNBLOCK client-id [TIMEOUT|ERROR]
void client_unblock(ConnectionContext& ctx) {
  int64_t id;
  if (!parse_int64(ctx.args[2], id)) {
    ctx.reply.error(errors::kNotInteger);
    return;
  }
  bool with_error = false;
  if (ctx.args.size() == 4) {
    if (is_option(ctx.args[3], "error"))
      with_error = true;
    else if (!is_option(ctx.args[3], "timeout")) {
      ctx.reply.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
      return;
    }
  } else if (ctx.args.size() > 4) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  auto unblocked = std::make_shared<std::atomic<bool>>(false);
  auto& reply = ctx.reply;
  ctx.for_each_shard(
      [unblocked, id, with_error](ShardThread& shard) {
        for (auto& c : shard.connections()) {
          if (static_cast<int64_t>(c->session().id) != id || !c->is_blocked()) continue;
          auto blocked = c->blocked_client();  // keep it alive: completing it clears the connection's pointer
          if (unblock_client(blocked, with_error ? "UNBLOCKED client unblocked via CLIENT UNBLOCK" : ""))
            *unblocked = true;
        }
      },
      [unblocked, &reply] { reply.integer(*unblocked ? 1 : 0); });
}

constexpr uint64_t kConnAcl = kAclSlow | kAclConnection;

const CommandSpec kClientSubcommands[] = {
    {.name = "client|id", .arity = 2, .flags = kCmdNoscript | kCmdLoading | kCmdStale, .acl = kConnAcl,
     .connection = client_id, .group = "connection", .summary = "Returns the unique ID of this connection.",
     .since = "5.0.0", .complexity = "O(1)"},
    {.name = "client|setname", .arity = 3, .flags = kCmdNoscript | kCmdLoading | kCmdStale, .acl = kConnAcl,
     .connection = client_setname, .group = "connection", .summary = "Names this connection.",
     .since = "2.6.9", .complexity = "O(1)"},
    {.name = "client|getname", .arity = 2, .flags = kCmdNoscript | kCmdLoading | kCmdStale, .acl = kConnAcl,
     .connection = client_getname, .group = "connection", .summary = "Returns the name of this connection.",
     .since = "2.6.9", .complexity = "O(1)"},
    {.name = "client|info", .arity = 2, .flags = kCmdNoscript | kCmdLoading | kCmdStale, .acl = kConnAcl,
     .connection = client_info, .group = "connection", .summary = "Describes this connection.",
     .since = "6.2.0", .complexity = "O(1)"},
    {.name = "client|list", .arity = -2, .flags = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale,
     .acl = kConnAcl | kAclAdmin | kAclDangerous, .connection = client_list_command, .group = "connection",
     .summary = "Lists the open connections.", .since = "2.4.0", .complexity = "O(N) where N is the number of clients"},
    {.name = "client|kill", .arity = -3, .flags = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale,
     .acl = kConnAcl | kAclAdmin | kAclDangerous, .connection = client_kill_command, .group = "connection",
     .summary = "Closes connections picked by address, id or other filters.", .since = "2.4.0",
     .complexity = "O(N) where N is the number of client connections"},
    {.name = "client|unblock", .arity = -3, .flags = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale,
     .acl = kConnAcl | kAclAdmin | kAclDangerous, .connection = client_unblock, .group = "connection",
     .summary = "Unblocks a client blocked by a blocking command.", .since = "5.0.0",
     .complexity = "O(log N) where N is the number of client connections"},
    {.name = "client|tracking", .arity = -3, .flags = kCmdNoscript | kCmdLoading | kCmdStale, .acl = kConnAcl,
     .connection = client_tracking_command, .group = "connection",
     .summary = "Controls server-assisted client-side caching for the connection.", .since = "6.0.0",
     .complexity = "O(1). Some options may introduce additional complexity."},
    {.name = "client|caching", .arity = 3, .flags = kCmdNoscript | kCmdLoading | kCmdStale, .acl = kConnAcl,
     .connection = client_caching_command, .group = "connection",
     .summary = "Instructs the server whether to track the keys in the next request.", .since = "6.0.0",
     .complexity = "O(1)"},
    {.name = "client|getredir", .arity = 2, .flags = kCmdNoscript | kCmdLoading | kCmdStale, .acl = kConnAcl,
     .connection = client_getredir_command, .group = "connection",
     .summary = "Returns the client ID to which the connection's tracking notifications are redirected.",
     .since = "6.0.0", .complexity = "O(1)"},
    {.name = "client|trackinginfo", .arity = 2, .flags = kCmdNoscript | kCmdLoading | kCmdStale, .acl = kConnAcl,
     .connection = client_trackinginfo_command, .group = "connection",
     .summary = "Returns information about server-assisted client-side caching for the connection.",
     .since = "6.2.0", .complexity = "O(1)"},
    {.name = "client|help", .arity = 2, .flags = kCmdLoading | kCmdStale, .acl = kConnAcl,
     .connection = client_help_command, .group = "connection", .summary = "Lists the CLIENT subcommands.",
     .since = "5.0.0", .complexity = "O(1)"},
    // Administration subcommands (server/commands/ops_commands.cpp).
    {.name = "client|pause", .arity = -3, .flags = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale,
     .acl = kConnAcl | kAclAdmin | kAclDangerous, .connection = client_pause_command, .group = "connection",
     .summary = "Suspends commands processing.", .since = "3.0.0", .complexity = "O(1)"},
    {.name = "client|unpause", .arity = 2, .flags = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale,
     .acl = kConnAcl | kAclAdmin | kAclDangerous, .connection = client_unpause_command, .group = "connection",
     .summary = "Resumes processing commands from paused clients.", .since = "6.2.0",
     .complexity = "O(N) Where N is the number of paused clients"},
    {.name = "client|reply", .arity = 3, .flags = kCmdNoscript | kCmdLoading | kCmdStale, .acl = kConnAcl,
     .connection = client_reply_command, .group = "connection",
     .summary = "Instructs the server whether to reply to commands.", .since = "3.2.0", .complexity = "O(1)"},
    {.name = "client|no-evict", .arity = 3, .flags = kCmdAdmin | kCmdNoscript | kCmdLoading | kCmdStale,
     .acl = kConnAcl | kAclAdmin | kAclDangerous, .connection = client_no_evict_command, .group = "connection",
     .summary = "Sets the client eviction mode of the connection.", .since = "7.0.0", .complexity = "O(1)"},
    {.name = "client|no-touch", .arity = 3, .flags = kCmdNoscript | kCmdLoading | kCmdStale, .acl = kConnAcl,
     .connection = client_no_touch_command, .group = "connection",
     .summary = "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
     .since = "7.2.0", .complexity = "O(1)"},
    {.name = "client|setinfo", .arity = 4, .flags = kCmdNoscript | kCmdLoading | kCmdStale, .acl = kConnAcl,
     .connection = client_setinfo_command, .group = "connection",
     .summary = "Sets information specific to the client or connection.", .since = "7.2.0",
     .complexity = "O(1)"},
};

const CommandSpec kConnectionCommands[] = {
    {.name = "ping", .arity = -1, .flags = kCmdFast, .acl = kAclFast | kAclConnection, .connection = ping,
     .group = "connection", .summary = "Checks that the server answers; replies PONG or echoes the argument.",
     .since = "1.0.0", .complexity = "O(1)"},
    {.name = "echo", .arity = 2, .flags = kCmdFast, .acl = kAclFast | kAclConnection, .connection = echo,
     .group = "connection", .summary = "Replies with the given string.", .since = "1.0.0", .complexity = "O(1)"},
    {.name = "quit", .arity = -1,
     .flags = kCmdAllowBusy | kCmdNoscript | kCmdLoading | kCmdStale | kCmdFast | kCmdNoAuth,
     .acl = kAclFast | kAclConnection, .connection = quit, .group = "connection",
     .summary = "Closes the connection after replying OK.", .since = "1.0.0", .complexity = "O(1)"},
    {.name = "reset", .arity = 1, .flags = kCmdNoscript | kCmdLoading | kCmdStale | kCmdFast | kCmdNoAuth,
     .acl = kAclFast | kAclConnection, .connection = reset, .group = "connection",
     .summary = "Returns the connection to its initial state.", .since = "6.2.0", .complexity = "O(1)"},
    {.name = "select", .arity = 2, .flags = kCmdLoading | kCmdStale | kCmdFast, .acl = kAclFast | kAclConnection,
     .connection = select, .group = "connection", .summary = "Changes the selected database.",
     .since = "1.0.0", .complexity = "O(1)"},
    {.name = "auth", .arity = -2,
     .flags = kCmdNoscript | kCmdLoading | kCmdStale | kCmdFast | kCmdNoAuth | kCmdAllowBusy,
     .acl = kAclFast | kAclConnection, .connection = auth, .group = "connection",
     .summary = "Authenticates the connection.", .since = "1.0.0",
     .complexity = "O(N) where N is the number of passwords defined for the user"},
    {.name = "hello", .arity = -1,
     .flags = kCmdNoscript | kCmdLoading | kCmdStale | kCmdFast | kCmdNoAuth | kCmdAllowBusy,
     .acl = kAclFast | kAclConnection, .connection = hello, .group = "connection",
     .summary = "Handshake: picks RESP2 or RESP3, optionally authenticates and names the connection.",
     .since = "6.0.0", .complexity = "O(1)"},
    {.name = "wait", .arity = 3, .flags = kCmdNoscript, .acl = kAclSlow | kAclConnection,
     .connection = wait_command, .group = "generic",
     .summary = "Waits until earlier writes reach the given number of replicas (there are none).",
     .since = "3.0.0", .complexity = "O(1)"},
    {.name = "client", .arity = -2, .flags = 0, .acl = kAclSlow, .group = "connection",
     .summary = "A container for client connection commands.", .since = "2.4.0",
     .complexity = "Depends on subcommand.", .subcommands = kClientSubcommands},
};

}  // namespace

std::span<const CommandSpec> connection_command_specs() { return kConnectionCommands; }

}  // namespace distcache::server
