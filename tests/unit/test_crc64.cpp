// Redis's CRC-64 (RDB files, DUMP payloads).
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "persistence/crc64.h"

using distcache::persistence::crc64;

namespace {

// Bit-at-a-time reference: reflected CRC-64 with the Jones polynomial.
uint64_t crc64_bitwise(uint64_t crc, const unsigned char* p, size_t n) {
  const uint64_t poly = 0x95ac9329ac4bc9b5ULL;  // 0xad93d23594c935a9 reflected
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int b = 0; b < 8; ++b) crc = (crc & 1) ? (crc >> 1) ^ poly : crc >> 1;
  }
  return crc;
}

std::vector<unsigned char> from_hex(const std::string& hex) {
  std::vector<unsigned char> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<unsigned char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

uint64_t le64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

TEST_CASE("crc64: check values", "[crc64]") {
  CHECK(crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9caULL);
  CHECK(crc64(0, "", 0) == 0);
  CHECK(crc64(12345, "", 0) == 12345);
  const std::string text = "This is a test of the emergency broadcast system.";
  CHECK(crc64(0, text.data(), text.size()) ==
        crc64_bitwise(0, reinterpret_cast<const unsigned char*>(text.data()), text.size()));
}

TEST_CASE("crc64: DUMP payloads from redis-server 7.0.15 verify", "[crc64]") {
  // DUMP output: serialized value, 2-byte RDB version, then the CRC-64 of
  // everything before it, little-endian.
  const char* payloads[] = {
      "000568656c6c6f0a006372df766534200a",                            // SET k1 hello
      "00c3094064017878e057000178780a005db7f663bb08625f",              // SET k2 <100 x> (LZF)
      "12010210100000000300816102816202816302ff0a00c818b90c9533529e",  // RPUSH k3 a b c
  };
  for (const char* hex : payloads) {
    INFO(hex);
    auto bytes = from_hex(hex);
    REQUIRE(bytes.size() > 10);
    size_t body = bytes.size() - 8;
    CHECK(crc64(0, bytes.data(), body) == le64(bytes.data() + body));
  }
}

TEST_CASE("crc64: matches the bitwise reference at every length and alignment", "[crc64]") {
  std::mt19937_64 rng(42);
  std::vector<unsigned char> buf(4096 + 16);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t len = 0; len <= 80; ++len)
      REQUIRE(crc64(0, buf.data() + offset, len) == crc64_bitwise(0, buf.data() + offset, len));
    REQUIRE(crc64(0, buf.data() + offset, 4096) == crc64_bitwise(0, buf.data() + offset, 4096));
  }
  uint64_t seed = 0xdeadbeefcafef00dULL;
  CHECK(crc64(seed, buf.data(), 1000) == crc64_bitwise(seed, buf.data(), 1000));
}

TEST_CASE("crc64: incremental updates equal one pass", "[crc64]") {
  std::mt19937_64 rng(7);
  std::vector<unsigned char> buf(10000);
  for (auto& b : buf) b = static_cast<unsigned char>(rng());
  uint64_t whole = crc64(0, buf.data(), buf.size());
  for (size_t split : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{4999}, size_t{10000}}) {
    uint64_t part = crc64(0, buf.data(), split);
    CHECK(crc64(part, buf.data() + split, buf.size() - split) == whole);
  }
}
