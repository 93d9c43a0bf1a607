// BGREWRITEAOF: a new AOF base file from a point-in-time snapshot (server/aof.h).
#include <functional>
#include <memory>
#include <utility>

#include "server/aof.h"
#include "server/command_table.h"
#include "server/connection_context.h"
#include "server/server.h"

namespace distcache::server {
namespace {

constexpr std::string_view kStarted = "Background append only file rewriting started";
constexpr std::string_view kScheduled = "Background append only file rewriting scheduled";
constexpr std::string_view kInProgress = "ERR Background append only file rewriting already in progress";
constexpr std::string_view kFailed =
    "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.";

void bgrewriteaof(ConnectionContext& ctx) {
  // Inside EXEC every shard is held by the transaction: the rewrite starts after it (as Redis schedules it).
  if (ctx.suspend_override || ctx.holds_all_shards) {
    if (ctx.server.aof().schedule_rewrite() == Aof::RewriteStart::kInProgress)
      ctx.reply.error(kInProgress);
    else
      ctx.reply.simple(kScheduled);
    return;
  }
  // The reply goes out at the snapshot's instant: every write this client sends after it is in the new incr file.
  struct Deferred {
    bool written = false;
    std::function<void()> resume;
  };
  auto deferred = std::make_shared<Deferred>();
  auto& reply = ctx.reply;
  auto started = [&reply, deferred] {
    reply.simple(kStarted);
    deferred->written = true;
    if (deferred->resume) std::exchange(deferred->resume, nullptr)();
  };
  std::string error;
  switch (ctx.server.aof().request_rewrite(ctx.thread, started, &error)) {
    case Aof::RewriteStart::kStarted:
      if (!deferred->written) deferred->resume = ctx.suspend();
      return;
    case Aof::RewriteStart::kScheduled:
      ctx.reply.simple(kScheduled);
      return;
    case Aof::RewriteStart::kInProgress:
      ctx.reply.error(kInProgress);
      return;
    case Aof::RewriteStart::kError:
      ctx.reply.error(kFailed);
      return;
  }
}

const CommandSpec kAofCommands[] = {
    {.name = "bgrewriteaof", .arity = 1, .flags = kCmdAdmin | kCmdNoscript | kCmdNoAsyncLoading,
     .acl = kAclAdmin | kAclSlow | kAclDangerous, .connection = bgrewriteaof, .group = "server",
     .summary = "Asynchronously rewrites the append-only file to disk.", .since = "1.0.0", .complexity = "O(1)"},
};

}  // namespace

std::span<const CommandSpec> aof_command_specs() { return kAofCommands; }

}  // namespace distcache::server
