// MEMORY USAGE / MEMORY HELP.
#include "server/command_table.h"
#include "server/commands/arg_util.h"
#include "server/commands/ops_commands.h"  // MEMORY STATS/DOCTOR/PURGE/MALLOC-STATS

namespace distcache::server {
namespace {

// Bytes a key costs here: the table node (link, inline key, inline value),
// the key's heap part when longer than the inline capacity, and the value's heap.
constexpr size_t kNodeBytes = 64;  // a 56-byte node in glibc's 64-byte size class
constexpr size_t kInlineKeyBytes = 15;

void memory_usage(CommandContext& ctx) {
  // MEMORY USAGE key [SAMPLES count]: our sizes are exact, the count is only validated.
  if (ctx.args.size() != 3) {
    if (ctx.args.size() != 5 || !is_option(ctx.args[3], "samples")) {
      ctx.reply.error(errors::kSyntax);
      return;
    }
    int64_t samples;
    if (!parse_int64(ctx.args[4], samples)) {
      ctx.reply.error(errors::kNotInteger);
      return;
    }
  }
  std::string_view key = ctx.args[2];
  const storage::Value* v = ctx.db().find(key, ctx.now_ms);
  if (!v) {
    ctx.reply.null_bulk();
    return;
  }
  size_t bytes = kNodeBytes + v->heap_bytes() + (key.size() > kInlineKeyBytes ? key.size() : 0);
  ctx.reply.integer(static_cast<int64_t>(bytes));
}

void memory_help(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "DOCTOR",
      "    Return memory problems reports.",
      "MALLOC-STATS",
      "    Return internal statistics report from the memory allocator.",
      "PURGE",
      "    Attempt to purge dirty pages for reclamation by the allocator.",
      "STATS",
      "    Return information about the memory usage of the server.",
      "USAGE <key> [SAMPLES <count>]",
      "    Return memory in bytes used by <key> and its value. Nested values are",
      "    sampled up to <count> times (default: 5, 0 means sample all).",
      "HELP",
      "    Print this help.",
  };
  ctx.reply.array(std::size(kLines));
  for (auto l : kLines) ctx.reply.simple(l);
}

const CommandSpec kMemorySubcommands[] = {
    {.name = "memory|usage", .arity = -3, .flags = kCmdReadonly, .acl = kAclRead | kAclSlow, .first_key = 2,
     .last_key = 2, .key_step = 1, .keyed = memory_usage, .group = "server",
     .summary = "Estimates the bytes a key and its value use.", .since = "4.0.0",
     .complexity = "O(1) for strings; O(N) for collections"},
    {.name = "memory|stats", .arity = 2, .flags = kCmdReadonly, .acl = kAclSlow, .connection = memory_stats_command,
     .group = "server", .summary = "Returns details about memory usage.", .since = "4.0.0", .complexity = "O(1)"},
    {.name = "memory|doctor", .arity = 2, .flags = 0, .acl = kAclSlow, .connection = memory_doctor_command,
     .group = "server", .summary = "Outputs a memory problems report.", .since = "4.0.0", .complexity = "O(1)"},
    {.name = "memory|purge", .arity = 2, .flags = 0, .acl = kAclSlow, .connection = memory_purge_command,
     .group = "server", .summary = "Asks the allocator to release memory.", .since = "4.0.0",
     .complexity = "Depends on how much memory is allocated, could be slow"},
    {.name = "memory|malloc-stats", .arity = 2, .flags = 0, .acl = kAclSlow,
     .connection = memory_malloc_stats_command, .group = "server",
     .summary = "Returns the allocator statistics.", .since = "4.0.0",
     .complexity = "Depends on how much memory is allocated, could be slow"},
    {.name = "memory|help", .arity = 2, .flags = kCmdLoading | kCmdStale, .acl = kAclSlow, .keyed = memory_help,
     .group = "server", .summary = "Lists the MEMORY subcommands.", .since = "4.0.0", .complexity = "O(1)"},
};

const CommandSpec kMemoryCommands[] = {
    {.name = "memory", .arity = -2, .flags = 0, .acl = kAclSlow, .group = "server",
     .summary = "A container for memory diagnostics commands.", .since = "4.0.0",
     .complexity = "Depends on subcommand.", .subcommands = kMemorySubcommands},
};

}  // namespace

std::span<const CommandSpec> memory_command_specs() { return kMemoryCommands; }

}  // namespace distcache::server
