// Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH and
// PUBSUB introspection. They run on the client's thread; the registry
// (server/pubsub_registry.h) carries messages to the other threads.
#include <fmt/format.h>

#include <memory>
#include <string>

#include "server/command_table.h"
#include "server/connection.h"
#include "server/connection_context.h"
#include "server/pubsub.h"
#include "server/pubsub_registry.h"
#include "server/server.h"

namespace distcache::server {
namespace {

// The count Redis reports with (un)subscribe confirmations: channels and
// patterns together; shard channels on their own.
int64_t confirmation_count(const ClientSession& s, PubSub::Kind kind) {
  if (kind == PubSub::kShardChannel) return s.subscribed_shard_channels;
  return static_cast<int64_t>(s.subscribed_channels) + s.subscribed_patterns;
}

void confirm(ConnectionContext& ctx, std::string_view word, const std::string_view* name, PubSub::Kind kind) {
  ctx.reply.push(3);
  ctx.reply.bulk(word);
  if (name)
    ctx.reply.bulk(*name);
  else
    ctx.reply.null_bulk();
  ctx.reply.integer(confirmation_count(ctx.session, kind));
}

template <PubSub::Kind kKind>
void subscribe_command(ConnectionContext& ctx) {
  static constexpr std::string_view kWord =
      kKind == PubSub::kChannel ? "subscribe" : (kKind == PubSub::kPattern ? "psubscribe" : "ssubscribe");
  PubSub& ps = PubSub::of(ctx.server);
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    std::string_view name = ctx.args[i];
    ps.subscribe(ctx.connection(), kKind, name);
    confirm(ctx, kWord, &name, kKind);
  }
}

template <PubSub::Kind kKind>
void unsubscribe_command(ConnectionContext& ctx) {
  static constexpr std::string_view kWord =
      kKind == PubSub::kChannel ? "unsubscribe" : (kKind == PubSub::kPattern ? "punsubscribe" : "sunsubscribe");
  PubSub& ps = PubSub::of(ctx.server);
  if (ctx.args.size() > 1) {
    for (size_t i = 1; i < ctx.args.size(); ++i) {
      std::string_view name = ctx.args[i];
      ps.unsubscribe(ctx.connection(), kKind, name);
      confirm(ctx, kWord, &name, kKind);
    }
    return;
  }
  auto names = ps.subscriptions(ctx.connection(), kKind);
  if (names.empty()) {
    confirm(ctx, kWord, nullptr, kKind);
    return;
  }
  for (const std::string& n : names) {
    ps.unsubscribe(ctx.connection(), kKind, n);
    std::string_view name = n;
    confirm(ctx, kWord, &name, kKind);
  }
}

// PUBLISH / SPUBLISH: subscribers on this thread get the message at once;
// when other threads have subscribers the client waits for their counts.
template <PubSub::Kind kKind>
void publish_command(ConnectionContext& ctx) {
  PubSub& ps = PubSub::of(ctx.server);
  PubSub::Publication p = ps.publish_local(ctx.thread, kKind, ctx.args[1], ctx.args[2]);
  if (p.remote.empty()) {
    ctx.reply.integer(p.receivers);
    return;
  }
  auto resume = ctx.suspend();
  auto& reply = ctx.reply;
  ps.publish_remote(ctx.thread, std::move(p), [&reply, resume](int64_t receivers) {
    reply.integer(receivers);
    resume();
  });
}

// --- PUBSUB

void reply_pubsub_arity(ConnectionContext& ctx) {
  ctx.reply.error(fmt::format("ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
                              ctx.args[1]));
}

template <PubSub::Kind kKind>
void pubsub_channels(ConnectionContext& ctx) {
  if (ctx.args.size() > 3) {
    reply_pubsub_arity(ctx);
    return;
  }
  const bool use_pattern = ctx.args.size() == 3;
  auto names = PubSub::of(ctx.server).active(kKind, use_pattern ? ctx.args[2] : std::string_view(), use_pattern);
  ctx.reply.array(names.size());
  for (const auto& n : names) ctx.reply.bulk(n);
}

template <PubSub::Kind kKind>
void pubsub_numsub(ConnectionContext& ctx) {
  PubSub& ps = PubSub::of(ctx.server);
  ctx.reply.array((ctx.args.size() - 2) * 2);
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    ctx.reply.bulk(ctx.args[i]);
    ctx.reply.integer(ps.subscriber_count(kKind, ctx.args[i]));
  }
}

void pubsub_numpat(ConnectionContext& ctx) { ctx.reply.integer(PubSub::of(ctx.server).distinct_names(PubSub::kPattern)); }

void pubsub_help(ConnectionContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CHANNELS [<pattern>]",
      "    Return the currently active channels matching a <pattern> (default: '*').",
      "NUMPAT",
      "    Return number of subscriptions to patterns.",
      "NUMSUB [<channel> ...]",
      "    Return the number of subscribers for the specified channels, excluding",
      "    pattern subscriptions(default: no channels).",
      "SHARDCHANNELS [<pattern>]",
      "    Return the currently active shard level channels matching a <pattern> (default: '*').",
      "SHARDNUMSUB [<shardchannel> ...]",
      "    Return the number of subscribers for the specified shard level channel(s)",
      "HELP",
      "    Prints this help.",
  };
  ctx.reply.array(std::size(kLines));
  for (auto l : kLines) ctx.reply.simple(l);
}

constexpr uint32_t kSubFlags = kCmdPubsub | kCmdNoscript | kCmdLoading | kCmdStale;
constexpr uint32_t kPubFlags = kCmdPubsub | kCmdLoading | kCmdStale | kCmdFast;
constexpr uint32_t kIntroFlags = kCmdPubsub | kCmdLoading | kCmdStale;
constexpr uint64_t kSlowAcl = kAclPubsub | kAclSlow;
constexpr uint64_t kFastAcl = kAclPubsub | kAclFast;

constexpr CommandSpec pubsub_command(std::string_view name, int arity, uint32_t flags, uint64_t acl,
                                     ConnectionHandler handler, std::string_view summary, std::string_view since,
                                     std::string_view complexity) {
  return CommandSpec{.name = name,
                     .arity = arity,
                     .flags = flags,
                     .acl = acl,
                     .connection = handler,
                     .group = "pubsub",
                     .summary = summary,
                     .since = since,
                     .complexity = complexity};
}

const CommandSpec kPubsubSubcommands[] = {
    pubsub_command("pubsub|channels", -2, kIntroFlags, kSlowAcl, pubsub_channels<PubSub::kChannel>,
                   "Returns the active channels.", "2.8.0",
                   "O(N) where N is the number of active channels, and assuming constant time pattern matching "
                   "(relatively short channels and patterns)"),
    pubsub_command("pubsub|numpat", 2, kIntroFlags, kSlowAcl, pubsub_numpat,
                   "Returns a count of unique pattern subscriptions.", "2.8.0", "O(1)"),
    pubsub_command("pubsub|numsub", -2, kIntroFlags, kSlowAcl, pubsub_numsub<PubSub::kChannel>,
                   "Returns a count of subscribers to channels.", "2.8.0",
                   "O(N) for the NUMSUB subcommand, where N is the number of requested channels"),
    pubsub_command("pubsub|shardchannels", -2, kIntroFlags, kSlowAcl, pubsub_channels<PubSub::kShardChannel>,
                   "Returns the active shard channels.", "7.0.0",
                   "O(N) where N is the number of active shard channels, and assuming constant time pattern "
                   "matching (relatively short shard channels)."),
    pubsub_command("pubsub|shardnumsub", -2, kIntroFlags, kSlowAcl, pubsub_numsub<PubSub::kShardChannel>,
                   "Returns the count of subscribers of shard channels.", "7.0.0",
                   "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels"),
    pubsub_command("pubsub|help", 2, kCmdLoading | kCmdStale, kAclSlow, pubsub_help,
                   "Returns helpful text about the different subcommands.", "6.2.0", "O(1)"),
};

const CommandSpec kPubsubCommands[] = {
    pubsub_command("subscribe", -2, kSubFlags, kSlowAcl, subscribe_command<PubSub::kChannel>,
                   "Listens for messages published to channels.", "2.0.0",
                   "O(N) where N is the number of channels to subscribe to."),
    pubsub_command("unsubscribe", -1, kSubFlags, kSlowAcl, unsubscribe_command<PubSub::kChannel>,
                   "Stops listening to messages posted to channels.", "2.0.0",
                   "O(N) where N is the number of clients already subscribed to a channel."),
    pubsub_command("psubscribe", -2, kSubFlags, kSlowAcl, subscribe_command<PubSub::kPattern>,
                   "Listens for messages published to channels that match one or more patterns.", "2.0.0",
                   "O(N) where N is the number of patterns the client is already subscribed to."),
    pubsub_command("punsubscribe", -1, kSubFlags, kSlowAcl, unsubscribe_command<PubSub::kPattern>,
                   "Stops listening to messages published to channels that match one or more patterns.", "2.0.0",
                   "O(N+M) where N is the number of patterns the client is already subscribed and M is the number "
                   "of total patterns subscribed in the system (by any client)."),
    pubsub_command("publish", 3, kPubFlags, kFastAcl, publish_command<PubSub::kChannel>,
                   "Posts a message to a channel.", "2.0.0",
                   "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total "
                   "number of subscribed patterns (by any client)."),
    pubsub_command("ssubscribe", -2, kSubFlags, kSlowAcl, subscribe_command<PubSub::kShardChannel>,
                   "Listens for messages published to shard channels.", "7.0.0",
                   "O(N) where N is the number of shard channels to subscribe to."),
    pubsub_command("sunsubscribe", -1, kSubFlags, kSlowAcl, unsubscribe_command<PubSub::kShardChannel>,
                   "Stops listening to messages posted to shard channels.", "7.0.0",
                   "O(N) where N is the number of clients already subscribed to a shard channel."),
    pubsub_command("spublish", 3, kPubFlags, kFastAcl, publish_command<PubSub::kShardChannel>,
                   "Post a message to a shard channel", "7.0.0",
                   "O(N) where N is the number of clients subscribed to the receiving shard channel."),
    {.name = "pubsub", .arity = -2, .flags = 0, .acl = kAclSlow, .group = "pubsub",
     .summary = "A container for Pub/Sub commands.", .since = "2.8.0", .complexity = "Depends on subcommand.",
     .subcommands = kPubsubSubcommands},
};

}  // namespace

std::span<const CommandSpec> pubsub_command_specs() { return kPubsubCommands; }

}  // namespace distcache::server
