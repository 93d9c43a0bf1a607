// SAVE, BGSAVE, LASTSAVE: snapshots (server/snapshot.h).
#include <functional>
#include <memory>
#include <utility>

#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/connection_context.h"
#include "server/server.h"
#include "server/snapshot.h"

namespace distcache::server {
namespace {

constexpr std::string_view kInProgress = "ERR Background save already in progress";

// SAVE: Redis blocks the whole server while it writes; here the snapshot is
// taken at one instant and written while other clients go on, and this client
// gets its reply once the file is on disk.
// A reply that may be written before or after the command returns: the
// connection is suspended only if it was not written synchronously.
struct DeferredReply {
  bool written = false;
  std::function<void()> resume;
  void done() {
    written = true;
    if (resume) std::exchange(resume, nullptr)();
  }
};

void save(ConnectionContext& ctx) {
  auto& reply = ctx.reply;
  auto deferred = std::make_shared<DeferredReply>();
  bool started = start_snapshot(ctx.server, ctx.thread, [] {}, [&reply, deferred](const SnapshotResult& r) {
    if (r.ok)
      reply.ok();
    else
      reply.error("ERR");
    deferred->done();
  });
  if (!started) {
    ctx.reply.error(kInProgress);
    return;
  }
  if (!deferred->written) deferred->resume = ctx.suspend();
}

void bgsave(ConnectionContext& ctx) {
  bool schedule = false;
  if (ctx.args.size() > 2 || (ctx.args.size() == 2 && !(schedule = is_option(ctx.args[1], "schedule")))) {
    ctx.reply.error(errors::kSyntax);
    return;
  }
  // The reply goes out at the snapshot's instant, so that every write this
  // client sends after it is known not to be in the file.
  auto& reply = ctx.reply;
  auto deferred = std::make_shared<DeferredReply>();
  auto started = [&reply, deferred] {
    reply.simple("Background saving started");
    deferred->done();
  };
  if (start_snapshot(ctx.server, ctx.thread, started, [](const SnapshotResult&) {})) {
    if (!deferred->written) deferred->resume = ctx.suspend();
  } else if (schedule) {
    ctx.server.persistence().bgsave_scheduled.store(true);
    ctx.reply.simple("Background saving scheduled");
  } else {
    ctx.reply.error(kInProgress);
  }
}

void lastsave(ConnectionContext& ctx) { ctx.reply.integer(ctx.server.persistence().lastsave_s.load()); }

constexpr uint32_t kAdminFlags = kCmdAdmin | kCmdNoscript | kCmdNoAsyncLoading;
constexpr uint64_t kAdminAcl = kAclAdmin | kAclSlow | kAclDangerous;

const CommandSpec kPersistenceCommands[] = {
    {.name = "save", .arity = 1, .flags = kAdminFlags | kCmdNoMulti, .acl = kAdminAcl, .connection = save,
     .group = "server", .summary = "Writes a snapshot of the dataset to disk and replies when it is there.",
     .since = "1.0.0", .complexity = "O(N) where N is the total number of keys in all databases"},
    {.name = "bgsave", .arity = -1, .flags = kAdminFlags, .acl = kAdminAcl, .connection = bgsave,
     .group = "server", .summary = "Writes a snapshot of the dataset to disk in the background.",
     .since = "1.0.0", .complexity = "O(1)"},
    {.name = "lastsave", .arity = 1, .flags = kCmdLoading | kCmdStale | kCmdFast,
     .acl = kAclAdmin | kAclFast | kAclDangerous, .connection = lastsave, .group = "server",
     .summary = "Returns the Unix time of the last successful save.", .since = "1.0.0", .complexity = "O(1)"},
};

}  // namespace

std::span<const CommandSpec> persistence_command_specs() { return kPersistenceCommands; }

}  // namespace distcache::server
