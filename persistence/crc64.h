#pragma once
// Redis's CRC-64 (the "Jones" polynomial 0xad93d23594c935a9, reflected input
// and output, no final XOR), as used to checksum RDB files and DUMP payloads.
// Pass 0 to start; feed the previous result to continue over more data:
//   crc64(crc64(0, a, n), b, m) == crc64(0, a followed by b, n + m)
// Check value: crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca.
#include <cstddef>
#include <cstdint>

namespace distcache::persistence {

uint64_t crc64(uint64_t crc, const void* data, size_t len);

}  // namespace distcache::persistence
