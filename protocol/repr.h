#pragma once
// Redis's quoting of a binary string for text it writes (sdscatrepr): in
// double quotes, with \\ \" \n \r \t \a \b escaped and other bytes outside
// printable ASCII as \xHH. Configuration errors and the AOF manifest use it.
#include <string>
#include <string_view>

namespace distcache::protocol {

std::string repr(std::string_view s);

}  // namespace distcache::protocol
