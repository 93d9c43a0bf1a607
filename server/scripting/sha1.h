#pragma once
// SHA-1 (FIPS 180-4), as Redis uses it to name scripts: EVALSHA, SCRIPT LOAD,
// SCRIPT EXISTS and redis.sha1hex() all use the lower-case hex digest.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace distcache::server::scripting {

class Sha1 {
 public:
  Sha1();
  void update(const void* data, size_t len);
  std::array<uint8_t, 20> finish();

 private:
  void block(const uint8_t* p);
  uint32_t h_[5];
  uint64_t total_ = 0;  // bytes hashed so far
  uint8_t buf_[64];
  size_t used_ = 0;
};

// 40 lower-case hex digits of SHA-1(data), written to out (41 bytes: NUL-terminated).
void sha1_hex(std::string_view data, char out[41]);
std::string sha1_hex(std::string_view data);

}  // namespace distcache::server::scripting
