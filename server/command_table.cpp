#include "server/command_table.h"

#include <cstring>

#include "server/commands/ops_commands.h"  // ops_command_specs (SLOWLOG, LATENCY, MONITOR, DEBUG...)
#include "server/cluster/commands.h"  // cluster_command_specs (CLUSTER, ASKING, READONLY, MIGRATE)
#include "server/acl/acl.h"  // acl_command_specs (ACL ...)

#include <cctype>
#include <string>

#include "storage/same_bytes.h"

namespace distcache::server {
namespace {

// ASCII only, inline: std::tolower is a locale-aware call per character,
// which showed in profiles of pipelined small commands.
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c; }

bool equals_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != b[i]) return false;  // b (table names) is already lower case
  return true;
}

uint64_t hash_nocase(std::string_view s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (char c : s) {
    h ^= static_cast<unsigned char>(lower(c));
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

const CommandTable& CommandTable::instance() {
  static const CommandTable table;
  return table;
}

CommandTable::CommandTable() {
  for (auto family : {string_command_specs(), key_command_specs(), keyspace_command_specs(),
                      server_command_specs(), introspection_command_specs(), connection_command_specs(),
                      list_command_specs(), hash_command_specs(), set_command_specs(), zset_command_specs(),
                      geo_command_specs(), bitmap_command_specs(), hyperloglog_command_specs(),
                      stream_command_specs(), memory_command_specs(), dump_command_specs(),
                      scripting_command_specs(), transaction_command_specs(), pubsub_command_specs(),
                      persistence_command_specs(), sort_command_specs(), aof_command_specs(),
                      ops_command_specs(), cluster_command_specs(), acl_command_specs()})
    for (const CommandSpec& spec : family) all_.push_back(&spec);
  // Open addressing at load <= 1/4 keeps lookups to about one probe.
  size_t capacity = 16;
  while (capacity < all_.size() * 4) capacity *= 2;
  index_.assign(capacity, nullptr);
  for (const CommandSpec* spec : all_) {
    size_t slot = hash_nocase(spec->name) & (capacity - 1);
    while (index_[slot]) slot = (slot + 1) & (capacity - 1);
    index_[slot] = spec;
  }
}

const CommandSpec* CommandTable::find(std::string_view name) const {
  if (name.empty() || name.size() > 64) return nullptr;
  // A pipeline mostly repeats one command: the last name this thread found,
  // byte for byte as sent, skips the case-folding hash and probe.
  struct LastFound {
    char bytes[16];
    size_t size = 0;
    const CommandSpec* spec = nullptr;
  };
  thread_local LastFound last;
  if (name.size() == last.size && storage::same_bytes(name.data(), last.bytes, name.size())) return last.spec;
  const size_t mask = index_.size() - 1;
  for (size_t slot = hash_nocase(name) & mask; index_[slot]; slot = (slot + 1) & mask) {
    if (!equals_nocase(name, index_[slot]->name)) continue;
    if (name.size() <= sizeof last.bytes) {
      std::memcpy(last.bytes, name.data(), name.size());
      last.size = name.size();
      last.spec = index_[slot];
    }
    return index_[slot];
  }
  return nullptr;
}

const CommandSpec* CommandTable::find_subcommand(const CommandSpec& parent, std::string_view sub) {
  for (const CommandSpec& spec : parent.subcommands) {
    std::string_view full = spec.name;  // "parent|sub"
    size_t bar = full.find('|');
    if (bar != std::string_view::npos && equals_nocase(sub, full.substr(bar + 1))) return &spec;
  }
  return nullptr;
}

bool extract_keys(const CommandSpec& spec, const protocol::ArgList& args, std::vector<int>& out) {
  if (spec.find_keys) return spec.find_keys(args, out);
  if (spec.first_key <= 0) return true;
  const int argc = static_cast<int>(args.size());
  int last = spec.last_key < 0 ? argc + spec.last_key : spec.last_key;
  if (last >= argc) last = argc - 1;
  const int step = spec.key_step > 0 ? spec.key_step : 1;
  for (int i = spec.first_key; i <= last; i += step) out.push_back(i);
  return true;
}

}  // namespace distcache::server
