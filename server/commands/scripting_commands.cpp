// Placeholder: the scripting family is being written.
#include "server/command_table.h"

namespace distcache::server {
std::span<const CommandSpec> scripting_command_specs() { return {}; }
}  // namespace distcache::server
