#pragma once
// fail(): how the fuzz targets report a broken invariant (abort, so that
// libFuzzer saves the input).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace distcache::fuzz {

[[noreturn]] inline void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "FUZZ CHECK FAILED: %s\n", what);
  if (!detail.empty()) {
    std::string shown;
    for (unsigned char c : detail.substr(0, 512)) {
      if (c >= 32 && c < 127) shown += static_cast<char>(c);
      else {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        shown += buf;
      }
    }
    std::fprintf(stderr, "  %s\n", shown.c_str());
  }
  std::abort();
}

}  // namespace distcache::fuzz
