#pragma once
// Small argument helpers shared by command handlers.
#include <cctype>
#include <cstdint>
#include <string_view>

#include "storage/numbers.h"

namespace distcache::server {

// Redis matches option words as C strings (strcasecmp): an argument counts
// only up to its first NUL byte.
inline std::string_view c_string_prefix(std::string_view arg) {
  size_t nul = arg.find('\0');
  return nul == std::string_view::npos ? arg : arg.substr(0, nul);
}

// Case-insensitive match of an option argument against `word` (lower case).
inline bool is_option(std::string_view arg, std::string_view word) {
  arg = c_string_prefix(arg);
  if (arg.size() != word.size()) return false;
  for (size_t i = 0; i < arg.size(); ++i) {
    char c = arg[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != word[i]) return false;
  }
  return true;
}

// Strict signed 64-bit integer, as Redis's string2ll accepts it.
using storage::parse_int64;

// [MATCH pattern] [COUNT n] of HSCAN / SSCAN, and [TYPE t] of SCAN, from
// argument `first` on. The views point into the arguments.
struct ScanOptions {
  int64_t count = 10;
  std::string_view pattern;
  bool use_pattern = false;  // false for no MATCH or MATCH *
  std::string_view type;     // SCAN only (accept_type)
  bool has_type = false;
};
// Returns "" on success, else the error to reply (Redis's texts and order).
template <typename Args>
std::string_view parse_scan_options(const Args& args, size_t first, ScanOptions& out, bool accept_type = false) {
  for (size_t i = first; i < args.size(); i += 2) {
    const bool has_value = i + 1 < args.size();
    if (is_option(args[i], "count") && has_value) {
      if (!parse_int64(args[i + 1], out.count)) return "ERR value is not an integer or out of range";
      if (out.count < 1) return "ERR syntax error";
    } else if (is_option(args[i], "match") && has_value) {
      out.pattern = args[i + 1];
      out.use_pattern = out.pattern != "*";
    } else if (accept_type && is_option(args[i], "type") && has_value) {
      out.type = args[i + 1];
      out.has_type = true;
    } else {
      return "ERR syntax error";
    }
  }
  return {};
}

// Client names may not contain spaces, newlines or other special characters (CLIENT SETNAME rules).
inline bool valid_client_name(std::string_view name) {
  for (unsigned char c : name)
    if (c < '!' || c > '~') return false;
  return true;
}

}  // namespace distcache::server
