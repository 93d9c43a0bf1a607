#include "protocol/repr.h"

#include <fmt/format.h>

namespace distcache::protocol {

std::string repr(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      default:
        if (c >= 0x20 && c < 0x7f)
          out += static_cast<char>(c);
        else
          out += fmt::format("\\x{:02x}", c);
    }
  }
  return out + "\"";
}

}  // namespace distcache::protocol
