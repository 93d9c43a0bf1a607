// Placeholder: the transaction family is being written.
#include "server/command_table.h"

namespace distcache::server {
std::span<const CommandSpec> transaction_command_specs() { return {}; }
}  // namespace distcache::server
