#pragma once
// Lookup over all CommandSpecs. Each command family file contributes its specs
// through one function declared here, so adding a family is one line in
// command_table.cpp.
#include <span>
#include <string_view>
#include <vector>

#include "server/command.h"

namespace distcache::server {

std::span<const CommandSpec> string_command_specs();   // commands/string_commands.cpp
std::span<const CommandSpec> key_command_specs();      // commands/key_commands.cpp (incl. expiry)
std::span<const CommandSpec> keyspace_command_specs();  // commands/keyspace_commands.cpp
std::span<const CommandSpec> server_command_specs();    // commands/server_commands.cpp
std::span<const CommandSpec> introspection_command_specs();  // commands/command_command.cpp, info_command.cpp
std::span<const CommandSpec> connection_command_specs();  // commands/connection_commands.cpp
std::span<const CommandSpec> list_command_specs();         // commands/list_commands.cpp
std::span<const CommandSpec> hash_command_specs();         // commands/hash_commands.cpp
std::span<const CommandSpec> set_command_specs();          // commands/set_commands.cpp
std::span<const CommandSpec> zset_command_specs();         // commands/zset_commands.cpp
std::span<const CommandSpec> geo_command_specs();          // commands/geo_commands.cpp
std::span<const CommandSpec> bitmap_command_specs();       // commands/bitmap_commands.cpp
std::span<const CommandSpec> hyperloglog_command_specs();  // commands/hyperloglog_commands.cpp
std::span<const CommandSpec> stream_command_specs();       // commands/stream_commands.cpp
std::span<const CommandSpec> memory_command_specs();       // commands/memory_commands.cpp
std::span<const CommandSpec> dump_command_specs();         // commands/dump_commands.cpp (DUMP, RESTORE)
std::span<const CommandSpec> scripting_command_specs();    // commands/scripting_commands.cpp (EVAL, SCRIPT, FUNCTION)
std::span<const CommandSpec> transaction_command_specs();  // commands/transaction_commands.cpp (MULTI, EXEC, WATCH)
std::span<const CommandSpec> pubsub_command_specs();       // commands/pubsub_commands.cpp
std::span<const CommandSpec> sort_command_specs();         // commands/sort_command.cpp (SORT, SORT_RO)
std::span<const CommandSpec> persistence_command_specs();  // commands/persistence_commands.cpp (SAVE, BGSAVE)
std::span<const CommandSpec> aof_command_specs();          // commands/aof_commands.cpp (BGREWRITEAOF)

class CommandTable {
 public:
  static const CommandTable& instance();

  // Case-insensitive lookup of a top-level command; nullptr if unknown.
  const CommandSpec* find(std::string_view name) const;
  // Subcommand of a container command (case-insensitive), nullptr if unknown.
  static const CommandSpec* find_subcommand(const CommandSpec& parent, std::string_view sub);
  const std::vector<const CommandSpec*>& all() const { return all_; }

 private:
  CommandTable();
  std::vector<const CommandSpec*> all_;
  // Open-addressing index by lower-cased name, built once at start-up.
  std::vector<const CommandSpec*> index_;
};

// Whether argc satisfies the spec's arity.
inline bool arity_ok(const CommandSpec& spec, size_t argc) {
  return spec.arity >= 0 ? argc == static_cast<size_t>(spec.arity)
                         : argc >= static_cast<size_t>(-spec.arity);
}

// Appends the argument indexes of the keys of this invocation.
// Returns false when the arguments are malformed for key extraction.
bool extract_keys(const CommandSpec& spec, const protocol::ArgList& args, std::vector<int>& out);

}  // namespace distcache::server
