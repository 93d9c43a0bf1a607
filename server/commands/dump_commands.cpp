// Placeholder: the dump family is being written.
#include "server/command_table.h"

namespace distcache::server {
std::span<const CommandSpec> dump_command_specs() { return {}; }
}  // namespace distcache::server
