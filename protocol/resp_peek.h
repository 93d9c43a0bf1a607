#pragma once
// A cheap look ahead over buffered requests, without parsing them for real:
// the first arguments of every complete multibulk request in `data`, up to
// `max` requests. The server uses it to prefetch the keys (and collection
// members) of a pipeline before running it. Anything unusual (inline
// commands, malformed or incomplete requests) simply ends the scan; the real
// parser deals with it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace distcache::protocol {

namespace peek_detail {
// Reads "<digits>\r\n" at p (after the type byte); returns the number or -1.
inline int64_t read_length(const char*& p, const char* end) {
  int64_t n = 0;
  const char* start = p;
  while (p < end && *p >= '0' && *p <= '9') {
    n = n * 10 + (*p - '0');
    if (n > (int64_t{1} << 40)) return -1;
    ++p;
  }
  if (p == start || end - p < 2 || p[0] != '\r' || p[1] != '\n') return -1;
  p += 2;
  return n;
}
}  // namespace peek_detail

// Calls on_request(args, argc) for each complete request: args holds its
// first N arguments (those past argc are empty).
template <size_t N, typename OnRequest>
void peek_requests(const char* data, size_t len, size_t max, OnRequest&& on_request) {
  const char* p = data;
  const char* end = data + len;
  for (size_t found = 0; found < max && p < end && *p == '*'; ++found) {
    ++p;
    const int64_t argc = peek_detail::read_length(p, end);
    if (argc < 1) return;
    std::array<std::string_view, N> args{};
    for (int64_t i = 0; i < argc; ++i) {
      if (p >= end || *p != '$') return;
      ++p;
      const int64_t n = peek_detail::read_length(p, end);
      if (n < 0 || end - p < n + 2) return;
      if (i < static_cast<int64_t>(N)) args[static_cast<size_t>(i)] = std::string_view(p, static_cast<size_t>(n));
      p += n + 2;
    }
    on_request(args, argc);
  }
}

// The second argument (the first key of most commands) of each request.
template <typename OnKey>
void peek_first_keys(const char* data, size_t len, size_t max, OnKey&& on_key) {
  peek_requests<2>(data, len, max, [&on_key](const std::array<std::string_view, 2>& args, int64_t argc) {
    if (argc >= 2) on_key(args[1]);
  });
}

}  // namespace distcache::protocol
