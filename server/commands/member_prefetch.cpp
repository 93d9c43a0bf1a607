#include "server/commands/member_prefetch.h"

#include <strings.h>

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "server/command.h"
#include "server/command_table.h"
#include "storage/hash.h"
#include "storage/member_prefetch.h"

namespace distcache::server {

namespace {

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

}  // namespace

int member_arg_of(std::string_view name) {
  if (name.empty()) return -1;
  // Each command name of a pipeline comes here (GET, INCR...): size and
  // first letter rule out most names before a full comparison.
  const char first = static_cast<char>(name[0] | 0x20);
  for (const MemberCommand& c : member_commands()) {
    if (c.name.size() == name.size() && c.name[0] == first &&
        strncasecmp(c.name.data(), name.data(), name.size()) == 0)
      return c.member_arg;
  }
  return -1;
}

void prefetch_members(const storage::Db& db, const MemberLookup* lookups, size_t n) {
  struct Target {
    const storage::Value* value;
    uint64_t hash;
  };
  constexpr size_t kMax = 32;
  std::array<Target, kMax> targets;
  size_t found = 0;
  for (size_t i = 0; i < n && found < kMax; ++i) {
    // The clock does not matter here: an expired key only costs a wasted prefetch.
    const storage::Value* v = db.peek(lookups[i].key, 0);
    if (v == nullptr || v->is_string()) continue;
    targets[found++] = {v, storage::hash_bytes(lookups[i].member)};
  }
  if (found < 2) return;
  for (int stage = 1; stage <= 3; ++stage) {
    for (size_t i = 0; i < found; ++i) storage::prefetch_member(*targets[i].value, targets[i].hash, stage);
  }
}

}  // namespace distcache::server
