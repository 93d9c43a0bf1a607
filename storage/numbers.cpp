#include "storage/numbers.h"

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

namespace distcache::storage {

bool parse_int64(std::string_view s, int64_t& out) {
  // The longest valid input is "-9223372036854775808" (20 characters).
  if (s.empty() || s.size() > 20) return false;
  size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative) {
    i = 1;
    if (s.size() == 1) return false;
  }
  // "0" alone is the only form that may start with a zero ("-0" is rejected).
  if (s[i] == '0') {
    if (s.size() == 1) {
      out = 0;
      return true;
    }
    return false;
  }
  uint64_t magnitude = 0;
  for (; i < s.size(); ++i) {
    const unsigned digit = static_cast<unsigned char>(s[i]) - '0';
    if (digit > 9) return false;
    // At most 19 digits reach here, so only the last step can overflow uint64
    // against the int64 bounds checked below; guard anyway.
    if (magnitude > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
  }
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (magnitude > kMaxPositive + 1) return false;
    out = magnitude == kMaxPositive + 1 ? std::numeric_limits<int64_t>::min()
                                        : -static_cast<int64_t>(magnitude);
  } else {
    if (magnitude > kMaxPositive) return false;
    out = static_cast<int64_t>(magnitude);
  }
  return true;
}

size_t format_int64(int64_t v, char* buf) {
  auto result = std::to_chars(buf, buf + kInt64StrSize, v);
  return static_cast<size_t>(result.ptr - buf);
}

std::string int64_to_string(int64_t v) {
  char buf[kInt64StrSize];
  return std::string(buf, format_int64(v, buf));
}

bool parse_long_double(std::string_view s, long double& out) {
  if (s.empty() || s.size() >= kMaxLongDoubleChars) return false;
  if (std::isspace(static_cast<unsigned char>(s[0]))) return false;
  char buf[kMaxLongDoubleChars];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  const long double v = std::strtold(buf, &end);
  if (end != buf + s.size()) return false;  // trailing bytes (or an embedded NUL)
  if (errno == ERANGE && (std::isinf(v) || v == 0.0L)) return false;  // overflow / underflow to 0
  if (std::isnan(v)) return false;
  out = v;
  return true;
}

std::string format_long_double_human(long double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  // The largest finite long double has 4933 integer digits; 17 decimals,
  // sign and point come on top.
  char buf[kMaxLongDoubleChars];
  int n = std::snprintf(buf, sizeof(buf), "%.17Lf", v);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof(buf)) return "0";
  size_t len = static_cast<size_t>(n);
  if (std::memchr(buf, '.', len) != nullptr) {
    while (buf[len - 1] == '0') --len;
    if (buf[len - 1] == '.') --len;
  }
  if (len == 2 && buf[0] == '-' && buf[1] == '0') return "0";
  return std::string(buf, len);
}

bool parse_double(std::string_view s, double& out) {
  if (s.empty()) return false;
  if (std::isspace(static_cast<unsigned char>(s[0]))) return false;
  // strtod needs a terminated copy; most inputs are short.
  char small[128];
  std::unique_ptr<char[]> big;
  char* buf = small;
  if (s.size() >= sizeof(small)) {
    big.reset(new char[s.size() + 1]);
    buf = big.get();
  }
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(buf, &end);
  if (end != buf + s.size()) return false;
  if (errno == ERANGE && (std::isinf(v) || v == 0.0)) return false;
  if (std::isnan(v)) return false;
  out = v;
  return true;
}

}  // namespace distcache::storage
