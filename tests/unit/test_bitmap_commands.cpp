// Bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
// BITFIELD_RO) and the bit helpers of storage/bitops.h. The expected bytes of
// every expect_replies block were captured from redis-server 7.0.15 by
// replaying the block on an empty database ("@type key" lines as DEL plus a
// one-element write of that type).
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "storage/bitops.h"
#include "tests/unit/command_test_util.h"

using distcache::test::CommandRunner;
using distcache::test::expect_replies;
using distcache::test::expect_replies_local;
namespace server = distcache::server;
namespace storage = distcache::storage;
using namespace std::string_literals;

namespace {

CommandRunner make_runner() {
  return CommandRunner({server::bitmap_command_specs, server::string_command_specs, server::key_command_specs});
}

// Reference implementations, one bit at a time.
int naive_bit(const std::string& s, uint64_t i) {
  return i / 8 < s.size() ? (static_cast<unsigned char>(s[i / 8]) >> (7 - i % 8)) & 1 : 0;
}

std::string random_bytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) {
    switch (rng() % 4) {
      case 0: c = 0; break;
      case 1: c = static_cast<char>(0xff); break;
      default: c = static_cast<char>(rng() & 0xff); break;
    }
  }
  return s;
}

}  // namespace

TEST_CASE("count_bits and find_bit agree with a bit-by-bit scan", "[bitmap]") {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 300; ++round) {
    const size_t n = 1 + rng() % 70;
    std::string s = random_bytes(rng, n);
    if (round % 7 == 0) s.assign(n, static_cast<char>(round % 2 ? 0xff : 0));
    const uint64_t bits = n * 8;
    for (int q = 0; q < 20; ++q) {
      uint64_t a = rng() % bits, b = rng() % bits;
      if (a > b) std::swap(a, b);
      uint64_t expected_count = 0;
      int64_t first_one = -1, first_zero = -1;
      for (uint64_t i = a; i <= b; ++i) {
        const int bit = naive_bit(s, i);
        expected_count += bit;
        if (bit && first_one < 0) first_one = static_cast<int64_t>(i);
        if (!bit && first_zero < 0) first_zero = static_cast<int64_t>(i);
      }
      INFO("round " << round << " range " << a << ".." << b);
      CHECK(storage::count_bits(s, a, b) == expected_count);
      CHECK(storage::find_bit(s, a, b, 1) == first_one);
      CHECK(storage::find_bit(s, a, b, 0) == first_zero);
    }
    uint64_t total = 0;
    for (uint64_t i = 0; i < bits; ++i) total += naive_bit(s, i);
    CHECK(storage::popcount(reinterpret_cast<const unsigned char*>(s.data()), s.size()) == total);
  }
}

TEST_CASE("bitfield get/set agree with a bit-by-bit implementation", "[bitmap]") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string s = random_bytes(rng, 1 + rng() % 12);
    const unsigned bits = 1 + static_cast<unsigned>(rng() % 64);
    const uint64_t offset = rng() % (s.size() * 8 + 16);
    uint64_t expected = 0;
    for (unsigned j = 0; j < bits; ++j) expected = (expected << 1) | static_cast<uint64_t>(naive_bit(s, offset + j));
    INFO("round " << round << " bits " << bits << " offset " << offset);
    CHECK(storage::get_unsigned_field(s, offset, bits) == expected);
    int64_t signed_expected = static_cast<int64_t>(expected);
    if (bits < 64 && (expected >> (bits - 1)) & 1) signed_expected = static_cast<int64_t>(expected | (~uint64_t{0} << bits));
    CHECK(storage::get_signed_field(s, offset, bits) == signed_expected);

    // Write a random value where the string holds it; other bits stay put.
    std::string t = s;
    t.resize((offset + bits + 7) / 8 + 1, '\0');
    const std::string before = t;
    const uint64_t value = rng();
    storage::set_field(t.data(), offset, bits, value);
    for (uint64_t i = 0; i < t.size() * 8; ++i) {
      const int want = (i >= offset && i < offset + bits) ? static_cast<int>((value >> (bits - 1 - (i - offset))) & 1)
                                                           : naive_bit(before, i);
      if (naive_bit(t, i) != want) {
        FAIL("bit " << i << " differs");
      }
    }
  }
}

TEST_CASE("bit_operation", "[bitmap]") {
  using storage::BitOp;
  CHECK(storage::bit_operation(BitOp::kAnd, {"\xff\x0f", "\x01"}) == std::string("\x01\x00", 2));
  CHECK(storage::bit_operation(BitOp::kOr, {"\xf0", "", "\x0f\x01"}) == "\xff\x01");
  CHECK(storage::bit_operation(BitOp::kXor, {"ab", "ab", "c"}) == "c" + std::string(1, '\0'));
  CHECK(storage::bit_operation(BitOp::kNot, {"\x00\xf0"s}) == "\xff\x0f");
  CHECK(storage::bit_operation(BitOp::kAnd, {"", ""}).empty());
  // A missing first key is a null view (UBSan: memcpy from null, found by the full suite under ASan+UBSan).
  CHECK(storage::bit_operation(BitOp::kAnd, {std::string_view(), "\xff"}) == std::string(1, '\0'));
}

TEST_CASE("SETBIT and GETBIT", "[bitmap]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
      {"setbit k 7 1", ":0\r\n"},
      {"setbit k 7 1", ":1\r\n"},
      {"setbit k 7 0", ":1\r\n"},
      {"getbit k 7", ":0\r\n"},
      {"get k", "$1\r\n\x00""\r\n"s},
      {"setbit k 20 1", ":0\r\n"},
      {"get k", "$3\r\n\x00""\x00""\x08""\r\n"s},
      {"strlen k", ":3\r\n"},
      {"getbit k 20", ":1\r\n"},
      {"getbit k 21", ":0\r\n"},
      {"getbit k 1000", ":0\r\n"},
      {"getbit missing 3", ":0\r\n"},
      {"setbit k2 0 0", ":0\r\n"},
      {"get k2", "$1\r\n\x00""\r\n"s},
      {"setbit k -1 1", "-ERR bit offset is not an integer or out of range\r\n"},
      {"setbit k abc 1", "-ERR bit offset is not an integer or out of range\r\n"},
      {"setbit k \"1\\x00\" 1", "-ERR bit offset is not an integer or out of range\r\n"},
      {"setbit k 4294967296 1", "-ERR bit offset is not an integer or out of range\r\n"},
      {"setbit k 4294967295 2", "-ERR bit is not an integer or out of range\r\n"},
      {"setbit k 1 -1", "-ERR bit is not an integer or out of range\r\n"},
      {"setbit k 1 01", "-ERR bit is not an integer or out of range\r\n"},
      {"setbit k abc x", "-ERR bit offset is not an integer or out of range\r\n"},
      {"getbit k -1", "-ERR bit offset is not an integer or out of range\r\n"},
      {"getbit k 4294967296", "-ERR bit offset is not an integer or out of range\r\n"},
      {"getbit k 1.5", "-ERR bit offset is not an integer or out of range\r\n"},
      {"set n 12", "+OK\r\n"},
      {"setbit n 6 1", ":0\r\n"},
      {"get n", "$2\r\n32\r\n"},
      {"@list l", "+OK\r\n"},
      {"setbit l 0 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"setbit l x 1", "-ERR bit offset is not an integer or out of range\r\n"},
      {"getbit l 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"getbit l x", "-ERR bit offset is not an integer or out of range\r\n"},
  });
}

TEST_CASE("BITCOUNT with BYTE and BIT ranges", "[bitmap]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
      {"bitcount missing", ":0\r\n"},
      {"bitcount missing a b", ":0\r\n"},
      {"bitcount missing 0 1 bogus", ":0\r\n"},
      {"set s foobar", "+OK\r\n"},
      {"bitcount s", ":26\r\n"},
      {"bitcount s 0 0", ":4\r\n"},
      {"bitcount s 1 1", ":6\r\n"},
      {"bitcount s 1 -2", ":18\r\n"},
      {"bitcount s -2 -1", ":7\r\n"},
      {"bitcount s -1 -2", ":0\r\n"},
      {"bitcount s 5 100", ":4\r\n"},
      {"bitcount s 100 200", ":0\r\n"},
      {"bitcount s -100 -50", ":4\r\n"},
      {"bitcount s 0 -1 bit", ":26\r\n"},
      {"bitcount s 5 30 bit", ":17\r\n"},
      {"bitcount s 1 6 bit", ":4\r\n"},
      {"bitcount s 7 7 bit", ":0\r\n"},
      {"bitcount s -3 -1 bit", ":1\r\n"},
      {"bitcount s 0 0 byte", ":4\r\n"},
      {"bitcount s 0 0 BIT", ":0\r\n"},
      {"bitcount s 0", "-ERR syntax error\r\n"},
      {"bitcount s 0 1 2 3", "-ERR syntax error\r\n"},
      {"bitcount s a 1", "-ERR value is not an integer or out of range\r\n"},
      {"bitcount s 0 b", "-ERR value is not an integer or out of range\r\n"},
      {"bitcount s 0 1 word", "-ERR syntax error\r\n"},
      {"bitcount s -1 -5 word", ":0\r\n"},
      {"bitcount s 0 9223372036854775807", ":26\r\n"},
      {"bitcount s -9223372036854775808 9223372036854775807 bit", ":26\r\n"},
      {"set e \"\"", "+OK\r\n"},
      {"bitcount e", ":0\r\n"},
      {"bitcount e 0 -1", ":0\r\n"},
      {"bitcount e 0 -1 bit", ":0\r\n"},
      {"@set t", "+OK\r\n"},
      {"bitcount t", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"bitcount t a b c", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
  });
}

TEST_CASE("BITPOS with BYTE and BIT ranges", "[bitmap]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
      {"bitpos missing 0", ":0\r\n"},
      {"bitpos missing 1", ":-1\r\n"},
      {"bitpos missing 2", "-ERR The bit argument must be 1 or 0.\r\n"},
      {"bitpos missing x", "-ERR value is not an integer or out of range\r\n"},
      {"bitpos missing 1 a b c d e", ":-1\r\n"},
      {"set s \"\\xff\\xf0\\x00\"", "+OK\r\n"},
      {"bitpos s 0", ":12\r\n"},
      {"bitpos s 1", ":0\r\n"},
      {"bitpos s 0 1", ":12\r\n"},
      {"bitpos s 0 2", ":16\r\n"},
      {"bitpos s 1 2", ":-1\r\n"},
      {"bitpos s 1 1 1", ":8\r\n"},
      {"bitpos s 0 0 0", ":-1\r\n"},
      {"bitpos s 1 -1", ":-1\r\n"},
      {"bitpos s 0 3", ":-1\r\n"},
      {"bitpos s 0 0 -1 bit", ":12\r\n"},
      {"bitpos s 0 5 11 bit", ":-1\r\n"},
      {"bitpos s 1 9 15 bit", ":9\r\n"},
      {"bitpos s 1 12 23 bit", ":-1\r\n"},
      {"bitpos s 0 12 23 byte", ":-1\r\n"},
      {"bitpos s 1 3 2 bit", ":-1\r\n"},
      {"set f \"\\xff\\xff\\xff\"", "+OK\r\n"},
      {"bitpos f 0", ":24\r\n"},
      {"bitpos f 0 1", ":24\r\n"},
      {"bitpos f 0 1 2", ":-1\r\n"},
      {"bitpos f 0 1 -1 bit", ":-1\r\n"},
      {"bitpos f 1 9 -1 bit", ":9\r\n"},
      {"bitpos f 0 -10 -1 bit", ":-1\r\n"},
      {"set z \"\\x00\\x00\\x00\"", "+OK\r\n"},
      {"bitpos z 1", ":-1\r\n"},
      {"bitpos z 1 0 -1 bit", ":-1\r\n"},
      {"bitpos z 0 17 17 bit", ":17\r\n"},
      {"set e \"\"", "+OK\r\n"},
      {"bitpos e 0", ":-1\r\n"},
      {"bitpos e 1", ":-1\r\n"},
      {"bitpos e 0 0", ":-1\r\n"},
      {"bitpos s 1 a", "-ERR value is not an integer or out of range\r\n"},
      {"bitpos s 1 0 a", "-ERR value is not an integer or out of range\r\n"},
      {"bitpos s 1 0 a word", "-ERR syntax error\r\n"},
      {"bitpos s 1 0 1 word", "-ERR syntax error\r\n"},
      {"bitpos s 1 0 1 bit extra", "-ERR syntax error\r\n"},
      {"bitpos s 3", "-ERR The bit argument must be 1 or 0.\r\n"},
      {"@hash h", "+OK\r\n"},
      {"bitpos h 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"bitpos h 2", "-ERR The bit argument must be 1 or 0.\r\n"},
      {"bitpos h 1 a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
  });
}

TEST_CASE("BITOP", "[bitmap]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
      {"bitop nand d a", "-ERR syntax error\r\n"},
      {"bitop not d a b", "-ERR BITOP NOT must be called with a single source key.\r\n"},
      {"bitop \"and\\x00x\" d a", ":0\r\n"},
      {"exists d", ":0\r\n"},
      {"set a \"\\xff\\x0f\"", "+OK\r\n"},
      {"set b \"\\x01\"", "+OK\r\n"},
      {"bitop and d a b", ":2\r\n"},
      {"get d", "$2\r\n\x01""\x00""\r\n"s},
      {"bitop or d a b", ":2\r\n"},
      {"get d", "$2\r\n\xff""\x0f""\r\n"},
      {"bitop xor d a b missing", ":2\r\n"},
      {"get d", "$2\r\n\xfe""\x0f""\r\n"},
      {"bitop not d a", ":2\r\n"},
      {"get d", "$2\r\n\x00""\xf0""\r\n"s},
      {"bitop AnD d a missing", ":2\r\n"},
      {"get d", "$2\r\n\x00""\x00""\r\n"s},
      {"bitop and d a a b", ":2\r\n"},
      {"get d", "$2\r\n\x01""\x00""\r\n"s},
      {"bitop xor d a a", ":2\r\n"},
      {"get d", "$2\r\n\x00""\x00""\r\n"s},
      {"set e \"\"", "+OK\r\n"},
      {"bitop and d e", ":0\r\n"},
      {"exists d", ":0\r\n"},
      {"set d x", "+OK\r\n"},
      {"expire d 100", ":1\r\n"},
      {"bitop or d a", ":2\r\n"},
      {"ttl d", ":-1\r\n"},
      {"bitop and d missing", ":0\r\n"},
      {"exists d", ":0\r\n"},
      {"bitop not d e", ":0\r\n"},
      {"exists d", ":0\r\n"},
      {"@zset z", "+OK\r\n"},
      {"bitop and d a z", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"bitop or z a", ":2\r\n"},
      {"type z", "+string\r\n"},
      {"get z", "$2\r\n\xff""\x0f""\r\n"},
  });
}

TEST_CASE("BITFIELD and BITFIELD_RO", "[bitmap]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
      {"bitfield k", "*0\r\n"},
      {"bitfield k get", "-ERR syntax error\r\n"},
      {"bitfield k get u8", "-ERR syntax error\r\n"},
      {"bitfield k get u8 0", "*1\r\n:0\r\n"},
      {"bitfield k get U8 0", "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"},
      {"bitfield k get u64 0", "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"},
      {"bitfield k get i65 0", "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"},
      {"bitfield k get i0 0", "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"},
      {"bitfield k get i 0", "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"},
      {"bitfield k get \"i8\\x00x\" 0", "*1\r\n:0\r\n"},
      {"bitfield k get i08 0", "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"},
      {"bitfield k get i8 #1", "*1\r\n:0\r\n"},
      {"bitfield k get i8 #", "-ERR bit offset is not an integer or out of range\r\n"},
      {"bitfield k get i8 \"#-1\"", "-ERR bit offset is not an integer or out of range\r\n"},
      {"bitfield k get i8 #2305843009213693952", "*1\r\n:0\r\n"},
      {"bitfield k get i8 #1152921504606846976", "-ERR bit offset is not an integer or out of range\r\n"},
      {"bitfield k get i8 #536870912", "-ERR bit offset is not an integer or out of range\r\n"},
      {"bitfield k get i8 #536870911", "*1\r\n:0\r\n"},
      {"bitfield k get i8 4294967296", "-ERR bit offset is not an integer or out of range\r\n"},
      {"bitfield k get i8 \"1\\x00\"", "-ERR bit offset is not an integer or out of range\r\n"},
      {"bitfield k overflow bogus get i8 0", "-ERR Invalid OVERFLOW type specified\r\n"},
      {"bitfield k get i8 0 overflow", "-ERR syntax error\r\n"},
      {"bitfield k get i8 0 overflow bogus", "-ERR Invalid OVERFLOW type specified\r\n"},
      {"bitfield k set i8 0 a get i9 x", "-ERR value is not an integer or out of range\r\n"},
      {"bitfield k get i9 x set i8 0 a", "-ERR bit offset is not an integer or out of range\r\n"},
      {"bitfield k incrby i8 0", "-ERR syntax error\r\n"},
      {"exists k", ":0\r\n"},
      {"bitfield k set u8 0 256 get u8 0", "*2\r\n:0\r\n:0\r\n"},
      {"get k", "$1\r\n\x00""\r\n"s},
      {"bitfield k2 overflow fail set u8 0 256", "*1\r\n$-1\r\n"},
      {"get k2", "$1\r\n\x00""\r\n"s},
      {"bitfield k3 overflow sat set u8 0 -1 set i8 8 200 set i8 16 -200 get u8 0 get i8 8 get i8 16", "*6\r\n:0\r\n:0\r\n:0\r\n:255\r\n:127\r\n:-128\r\n"},
      {"bitfield k3 overflow wrap set u8 0 -1 set i8 8 200 set i8 16 -200 get u8 0 get i8 8 get i8 16", "*6\r\n:255\r\n:127\r\n:-128\r\n:255\r\n:-56\r\n:56\r\n"},
      {"bitfield k3 overflow fail incrby u8 0 1 incrby u8 0 -256 overflow sat incrby u8 0 -1000 incrby i8 8 1000", "*4\r\n$-1\r\n$-1\r\n:0\r\n:127\r\n"},
      {"bitfield k3 incrby i64 0 9223372036854775807 incrby i64 0 9223372036854775807 overflow sat incrby i64 0 9223372036854775807", "*3\r\n:-9187563142161367041\r\n:35808894693408766\r\n:9223372036854775807\r\n"},
      {"bitfield k3 overflow sat incrby i64 0 -9223372036854775808 incrby i64 0 -9223372036854775808", "*2\r\n:-1\r\n:-9223372036854775808\r\n"},
      {"bitfield k3 overflow sat incrby u63 0 -9223372036854775808 set u63 0 -1 incrby u63 0 -1 incrby u63 0 9223372036854775807", "*4\r\n:0\r\n:0\r\n:9223372036854775806\r\n:9223372036854775807\r\n"},
      {"bitfield k3 overflow wrap set u63 0 -1 incrby u63 0 -1 incrby u63 0 9223372036854775807 get u63 0", "*4\r\n:9223372036854775807\r\n:9223372036854775806\r\n:9223372036854775805\r\n:9223372036854775805\r\n"},
      {"bitfield k3 set i5 3 -7 get i5 3 get u5 3 incrby i5 3 20 get u16 0 set u1 77 1 get u3 75", "*7\r\n:-1\r\n:-7\r\n:25\r\n:13\r\n:60927\r\n:0\r\n:1\r\n"},
      {"get k3", "$10\r\n\xed""\xff""\xff""\xff""\xff""\xff""\xff""\xfa""\x00""\x04""\r\n"s},
      {"bitfield k4 overflow sat set i8 0 -9223372036854775808 get i8 0 set i8 0 -9223372036854775681 get i8 0 set i8 0 -9223372036854775680 get i8 0", "*6\r\n:0\r\n:127\r\n:127\r\n:127\r\n:127\r\n:-128\r\n"},
      {"bitfield k4 overflow sat set i1 0 -9223372036854775808 get i1 0 set i1 0 -9223372036854775807 get i1 0", "*4\r\n:-1\r\n:0\r\n:0\r\n:-1\r\n"},
      {"bitfield k4 overflow wrap set i8 0 -9223372036854775808 get i8 0 incrby i7 5 1000 incrby u7 13 -1000", "*4\r\n:-128\r\n:0\r\n:-24\r\n:24\r\n"},
      {"bitfield k5 set i64 #1 -1 get u63 63 get i64 #1 get i8 #100 get u1 127 get u1 128", "*6\r\n:0\r\n:4611686018427387903\r\n:-1\r\n:0\r\n:1\r\n:0\r\n"},
      {"get k5", "$16\r\n\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\xff""\xff""\xff""\xff""\xff""\xff""\xff""\xff""\r\n"s},
      {"bitfield_ro k3 get i8 0 set i8 0 1", "-ERR BITFIELD_RO only supports the GET subcommand\r\n"},
      {"bitfield_ro k3 get i8 0 set i8 0", "-ERR syntax error\r\n"},
      {"bitfield_ro k3 overflow sat", "*0\r\n"},
      {"bitfield_ro k3", "*0\r\n"},
      {"bitfield_ro k3 get i16 8 get u4 #3", "*2\r\n:-1\r\n:15\r\n"},
      {"bitfield_ro missing get u8 0", "*1\r\n:0\r\n"},
      {"exists missing", ":0\r\n"},
      {"@list l", "+OK\r\n"},
      {"bitfield l get i8 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"bitfield_ro l get i8 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"bitfield l set i8 0 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"bitfield l overflow bogus", "-ERR Invalid OVERFLOW type specified\r\n"},
      {"bitfield l", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"bitfield_ro l set i8 0 1", "-ERR BITFIELD_RO only supports the GET subcommand\r\n"},
  });
}

TEST_CASE("bit offsets are bounded by proto-max-bulk-len", "[bitmap]") {
  CommandRunner r = make_runner();
  r.config.proto_max_bulk_len.store(1024 * 1024);
  expect_replies_local(r, {
      {"setbit k 8388608 1", "-ERR bit offset is not an integer or out of range\r\n"},
      {"setbit k 8388607 1", ":0\r\n"},
      {"strlen k", ":1048576\r\n"},
      {"bitcount k", ":1\r\n"},
      {"bitpos k 1", ":8388607\r\n"},
      {"bitfield k get u8 #1048576", "-ERR bit offset is not an integer or out of range\r\n"},
      {"bitfield k get u8 #1048575", "*1\r\n:1\r\n"},
  });
}

TEST_CASE("strings written by bitmap commands report the raw encoding", "[bitmap]") {
  CommandRunner r = make_runner();
  r.run("set small 1");
  r.run("setbit small 0 0");
  r.run("bitfield f set u8 0 1");
  r.run("set a x");
  r.run("bitop or d a");
  for (const char* key : {"small", "f", "d"}) {
    const distcache::storage::Value* v = r.db().find(key, r.now_ms);
    REQUIRE(v != nullptr);
    CHECK(v->encoding_name() == "raw");
  }
}
