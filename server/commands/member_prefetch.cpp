#include "server/commands/member_prefetch.h"

#include <strings.h>

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "protocol/resp_peek.h"
#include "server/command.h"
#include "server/command_table.h"
#include "server/cluster/slot.h"
#include "storage/hash.h"
#include "storage/member_prefetch.h"

namespace distcache::server {

namespace {

constexpr size_t kMaxCommands = 32;

// The commands whose spec names the member they look up first (member_arg,
// server/command.h), gathered from the command table once. ZADD's member is
// argument 3 only without options (ZADD key NX 1 m makes it the score "1": a
// wasted prefetch, never a wrong result).
struct MemberCommand {
  std::string_view name;
  int member_arg;
};

const std::vector<MemberCommand>& member_commands() {
  static const std::vector<MemberCommand> commands = [] {
    std::vector<MemberCommand> out;
    for (const CommandSpec* spec : CommandTable::instance().all())
      if (spec->member_arg > 0) out.push_back({spec->name, spec->member_arg});
    return out;
  }();
  return commands;
}

int member_arg_of(std::string_view name) {
  if (name.empty()) return -1;
  // Every request of a pipeline comes here (GET, INCR...): size and first
  // letter rule out most names before a full comparison.
  const char first = static_cast<char>(name[0] | 0x20);
  for (const MemberCommand& c : member_commands()) {
    if (c.name.size() == name.size() && c.name[0] == first &&
        strncasecmp(c.name.data(), name.data(), name.size()) == 0)
      return c.member_arg;
  }
  return -1;
}

struct MemberLookup {
  const storage::Value* value;
  uint64_t hash;
};

}  // namespace

void prefetch_pipeline_members(const storage::Db& db, const char* data, size_t len, unsigned shards,
                               unsigned home) {
  std::array<MemberLookup, kMaxCommands> lookups;
  size_t n = 0;
  protocol::peek_requests<4>(data, len, kMaxCommands, [&](const std::array<std::string_view, 4>& args, int64_t argc) {
    const int member_arg = member_arg_of(args[0]);
    if (member_arg < 0 || argc <= member_arg) return;
    if (shards != 1 && shard_of_key(args[1], shards) != home) return;
    // The clock does not matter here: an expired key only costs a wasted prefetch.
    const storage::Value* v = db.peek(args[1], 0);
    if (v == nullptr || v->is_string()) return;
    lookups[n++] = {v, storage::hash_bytes(args[static_cast<size_t>(member_arg)])};
  });
  if (n < 2) return;
  for (int stage = 1; stage <= 3; ++stage) {
    for (size_t i = 0; i < n; ++i) storage::prefetch_member(*lookups[i].value, lookups[i].hash, stage);
  }
}

}  // namespace distcache::server
