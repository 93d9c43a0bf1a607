#pragma once
// Number <-> string conversions with exactly the rules redis-server applies to
// command arguments and stored strings:
//  - integers are strict: optional '-', then "0" or a digit 1-9 followed by
//    digits; no spaces, no '+', no leading zeros, no "-0", no overflow;
//  - INCRBYFLOAT reads long doubles as strtold does but rejects leading
//    spaces, trailing garbage, NaN and out-of-range values, and writes its
//    results in fixed-point notation with trailing zeros trimmed;
//  - scores and other doubles follow strtod ("inf", "+inf", "-inf", hex
//    floats accepted; "nan", leading spaces, trailing bytes, overflow and
//    underflow to zero rejected).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace distcache::storage {

// Longest decimal int64 ("-9223372036854775808") plus a terminating NUL.
inline constexpr size_t kInt64StrSize = 21;
// Inputs of this length or longer are never valid long doubles (as Redis).
inline constexpr size_t kMaxLongDoubleChars = 5 * 1024;

// Strict string -> int64. Returns false if `s` is not exactly a canonical
// decimal integer in range.
bool parse_int64(std::string_view s, int64_t& out);

// int64 -> decimal, written at `buf` (which must hold kInt64StrSize bytes).
// Returns the number of characters written (no NUL is added).
size_t format_int64(int64_t v, char* buf);
std::string int64_to_string(int64_t v);

// True if `s` would be stored by Redis as an integer-encoded string: it parses
// with parse_int64 (which implies the canonical form).
inline bool is_canonical_int64(std::string_view s) {
  int64_t ignored;
  return parse_int64(s, ignored);
}

// String -> long double for INCRBYFLOAT (operand and stored value).
bool parse_long_double(std::string_view s, long double& out);

// Long double -> string as INCRBYFLOAT stores and returns it: 17 digits after
// the point, trailing zeros (and a bare '.') removed, "-0" written as "0",
// infinities as "inf" / "-inf".
std::string format_long_double_human(long double v);

// String -> double (sorted-set scores, timeouts, ...).
bool parse_double(std::string_view s, double& out);

}  // namespace distcache::storage
