// Placeholder until the bitmap family lands (being written now); not committed in this form.
#include "server/command_table.h"

namespace distcache::server {
std::span<const CommandSpec> bitmap_command_specs() { return {}; }
}  // namespace distcache::server
