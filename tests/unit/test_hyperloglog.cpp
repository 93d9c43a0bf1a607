// HyperLogLog commands (PFADD, PFCOUNT, PFMERGE) and storage/hyperloglog.h.
// The expected bytes of every expect_replies block were captured from
// redis-server 7.0.15 by replaying the block on an empty database ("@type
// key" lines as DEL plus a one-element write of that type); so were the
// lengths, counts and FNV-1a digests of the larger values below.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "storage/hyperloglog.h"
#include "tests/unit/command_test_util.h"

using distcache::test::CommandRunner;
using distcache::test::expect_replies;
namespace server = distcache::server;
namespace hll = distcache::storage::hll;
using namespace std::string_literals;

namespace {

CommandRunner make_runner() {
  return CommandRunner({server::hyperloglog_command_specs, server::string_command_specs, server::key_command_specs});
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

// prefix + decimal number (not "lit" + std::string: GCC 12 -Wrestrict false positive).
std::string named(const char* prefix, uint64_t i) {
  std::string out(prefix);
  out += std::to_string(i);
  return out;
}

std::string value_of(CommandRunner& r, const char* key) {
  const distcache::storage::Value* v = r.db().find(key, r.now_ms);
  REQUIRE(v != nullptr);
  REQUIRE(v->is_string());
  return std::string(v->str());
}

}  // namespace

TEST_CASE("PFADD, PFCOUNT and PFMERGE produce Redis's bytes", "[hll]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
      {"pfadd h", ":1\r\n"},
      {"get h", "$18\r\nHYLL\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x80""\x7f""\xff""\r\n"s},
      {"pfcount h", ":0\r\n"},
      {"get h", "$18\r\nHYLL\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x7f""\xff""\r\n"s},
      {"pfadd h a b c", ":1\r\n"},
      {"get h", "$27\r\nHYLL\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x80""`\xf3""\x80""P\xb1""\x84""K\xfb""\x80""BZ\r\n"s},
      {"pfadd h a", ":0\r\n"},
      {"pfadd h", ":0\r\n"},
      {"pfcount h", ":3\r\n"},
      {"get h", "$27\r\nHYLL\x01""\x00""\x00""\x00""\x03""\x00""\x00""\x00""\x00""\x00""\x00""\x00""`\xf3""\x80""P\xb1""\x84""K\xfb""\x80""BZ\r\n"s},
      {"pfcount missing", ":0\r\n"},
      {"exists missing", ":0\r\n"},
      {"pfcount h missing", ":3\r\n"},
      {"pfadd h2 e0 e1 e2 e3 e4 e5 e6 e7 e8 e9 e10 e11 e12 e13 e14 e15 e16 e17 e18 e19 e20 e21 e22 e23 e24 e25 e26 e27 e28 e29 e30 e31 e32 e33 e34 e35 e36 e37 e38 e39", ":1\r\n"},
      {"get h2", "$130\r\nHYLL\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x80""B5\x88""@\xe2""\x80""B\n\x80""DR\x80""B\xda""\x84""E\x0e""\x84""B\x95""\x84""@\xd3""\x80""Bc\x80""@\xef""\x8c""@o\x80""C\x86""\x80""AG\x80""Ac\x80""Ad\x84""!\x88""\x11""\x80""A\x82""\x84""@\x94""\x88""D\xa7""\x90""\x11""\x84""B_\x8c""@\xe4""\x84""@\xe1""\x80""B*\x84""A\x03""\x84""E\x8e""\x88""A<\x88""\x03""\x80""@x\x80""@\xdc""\x80""DI\x80""3\x84""@y\x84""A\x93""\x84""@\x88""\x80""@j\x84""\r\x80""9\x80""\x13""\x80""AR\r\n"s},
      {"pfcount h2", ":40\r\n"},
      {"pfcount h h2", ":43\r\n"},
      {"pfmerge m h h2", "+OK\r\n"},
      {"get m", "$138\r\nHYLL\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x80""B5\x88""@\xe2""\x80""B\n\x80""DR\x80""B\xda""\x84""E\x0e""\x84""B\x95""\x84""@\xd3""\x80""Bc\x80""@\xef""\x8c""@o\x80""C\x86""\x80""AG\x80""Ac\x80""Ad\x84""!\x88""\x11""\x80""@\x87""\x80""@\xf9""\x84""@\x94""\x88""D\xa7""\x90""\x11""\x84""B_\x8c""@\xe4""\x84""@\xe1""\x80""B*\x84""A\x03""\x84""C\x09""\x84""B\x83""\x88""A<\x88""\x03""\x80""@x\x80""@\xdc""\x80""DI\x80""3\x84""@y\x84""A\x93""\x84""@K\x80"";\x80""@j\x84""\r\x80""9\x80""\x13""\x80""AR\r\n"s},
      {"pfcount m", ":43\r\n"},
      {"pfmerge m2", "+OK\r\n"},
      {"get m2", "$18\r\nHYLL\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x80""\x7f""\xff""\r\n"s},
      {"pfmerge m3 missing h", "+OK\r\n"},
      {"get m3", "$27\r\nHYLL\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x80""`\xf3""\x80""P\xb1""\x84""K\xfb""\x80""BZ\r\n"s},
      {"set x \"HYLL\\x01\\x00\\x00\\x00\\x05\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x7f\\xff\"", "+OK\r\n"},
      {"pfcount x", ":5\r\n"},
      {"pfcount x missing", ":0\r\n"},
      {"pfadd x foo", ":1\r\n"},
      {"get x", "$21\r\nHYLL\x01""\x00""\x00""\x00""\x05""\x00""\x00""\x00""\x00""\x00""\x00""\x80""\\\xb3""\x90""cJ\r\n"s},
      {"pfcount x", ":1\r\n"},
  });
}

TEST_CASE("HyperLogLog errors: WRONGTYPE, not an HLL, corrupted", "[hll]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
      {"set s abc", "+OK\r\n"},
      {"pfcount s", "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
      {"pfadd s a", "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
      {"pfmerge s", "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
      {"pfmerge d s", "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
      {"pfcount missing s", "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
      {"exists d", ":0\r\n"},
      {"set bad \"HYLL\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\"", "+OK\r\n"},
      {"pfcount bad", "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
      {"set bad2 \"HYLL\\x02\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x7f\\xff\"", "+OK\r\n"},
      {"pfadd bad2 a", "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
      {"set bad3 \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\"", "+OK\r\n"},
      {"pfcount bad3", "-INVALIDOBJ Corrupted HLL object detected\r\n"},
      {"pfadd bad3 a", "-INVALIDOBJ Corrupted HLL object detected\r\n"},
      {"pfcount bad3 missing", "-INVALIDOBJ Corrupted HLL object detected\r\n"},
      {"pfmerge x bad3", "-INVALIDOBJ Corrupted HLL object detected\r\n"},
      {"exists x", ":0\r\n"},
      {"set bad4 \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x7f\"", "+OK\r\n"},
      {"pfcount bad4", "-INVALIDOBJ Corrupted HLL object detected\r\n"},
      {"pfadd bad4 a", ":1\r\n"},
      {"get bad4", "$20\r\nHYLL\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x00""\x80""q\xa6""\x84""M\r\n"s},
      {"set bad5 \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x7f\\xfe\\x83\"", "+OK\r\n"},
      {"pfcount bad5", "-INVALIDOBJ Corrupted HLL object detected\r\n"},
      {"pfadd bad5 a", ":1\r\n"},
      {"set hyl \"HYL\"", "+OK\r\n"},
      {"pfcount hyl", "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
      {"@list l", "+OK\r\n"},
      {"pfcount l", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"pfcount missing l", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"pfadd l a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"pfmerge l", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"pfmerge d2 l", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"pfmerge l missing", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"set over \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x7f\\xfe\\x80\\x80\"", "+OK\r\n"},
      {"pfcount over", "-INVALIDOBJ Corrupted HLL object detected\r\n"},
      {"pfcount over missing", "-INVALIDOBJ Corrupted HLL object detected\r\n"},
      {"pfmerge dst over", "-INVALIDOBJ Corrupted HLL object detected\r\n"},
      {"exists dst", ":0\r\n"},
      {"set under \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x7f\\xfd\\x80\"", "+OK\r\n"},
      {"pfcount under", "-INVALIDOBJ Corrupted HLL object detected\r\n"},
      {"pfadd under a b c", ":1\r\n"},
  });
}

TEST_CASE("sparse opcode edits on non-canonical values match Redis", "[hll]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
      {"set y \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x40\\x63\\x88\\x7f\\x9a\"", "+OK\r\n"},
      {"pfcount y", ":1\r\n"},
      {"pfadd y y0 y1 y2", ":1\r\n"},
      {"get y", "$30\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""g\xad""\x84""OI\x80""E,\x80""Cr\r\n"s},
      {"pfadd y y3 y4 y5", ":1\r\n"},
      {"get y", "$39\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""C\x05""\x80""_1\x88""Es\x84""OI\x80""E,\x80""B\x88""\x80""@\xe8""\r\n"s},
      {"pfadd y y6 y7 y8", ":1\r\n"},
      {"get y", "$48\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""C\x05""\x80""@\x9a""\x88""H\x80""\x84""V\x13""\x88""Es\x84""OI\x80""E,\x80""B\x88""\x80""@z\x88""@l\r\n"s},
      {"pfadd y y9 y10 y11", ":1\r\n"},
      {"get y", "$57\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""C\x05""\x80""@\x9a""\x88""H\x80""\x84""F\xb3""\x84""C\x0c""\x80""LP\x88""Bh\x88""C\x09""\x84""OI\x80""E,\x80""B\x88""\x80""@z\x88""@l\r\n"s},
      {"pfadd y y12 y13 y14", ":1\r\n"},
      {"get y", "$66\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""C\x05""\x80""@\x9a""\x88""A\xe7""\x80""F\x97""\x84""F\xb3""\x84""C\x0c""\x80""@\xec""\x80""C\xa7""\x80""G\xb9""\x88""Bh\x88""C\x09""\x84""OI\x80""E,\x80""B\x88""\x80""@z\x88""@l\r\n"s},
      {"pfadd y y15 y16 y17", ":1\r\n"},
      {"get y", "$75\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""C\x05""\x80""@\x9a""\x88""A\xe7""\x80""F\x97""\x84""D\x83""\x88""B.\x84""C\x0c""\x80""@\xec""\x80""C\xa7""\x80""G\xb9""\x88""Bh\x88""@\xa5""\x80""Bb\x84""I\xd9""\x88""En\x80""E,\x80""B\x88""\x80""@z\x88""@l\r\n"s},
      {"pfadd y y18 y19 y20", ":1\r\n"},
      {"get y", "$84\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""C\x05""\x80""@\x9a""\x88""A\xe7""\x80""F\x97""\x84""D\x83""\x88""B.\x84""C\x0c""\x80""@\xec""\x80""C1\x84""@t\x80""G\xb9""\x88""Bh\x88""@\xa5""\x80""Bb\x84""F\x11""\x80""C\xc6""\x88""En\x80""E,\x80""A<\x84""AJ\x80""@z\x88""@l\r\n"s},
      {"pfadd y y21 y22 y23", ":1\r\n"},
      {"get y", "$92\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""C\x05""\x80""@\x9a""\x88""A\xe7""\x80""D^\x84""B7\x84""D\x83""\x88""-\x80""A\xff""\x84""A\xc2""\x8c""AH\x80""@\xec""\x80""C1\x84""@t\x80""G\xb9""\x88""Bh\x88""@\xa5""\x80""Bb\x84""F\x11""\x80""C\xc6""\x88""En\x80""E,\x80""A<\x84""AJ\x80""@z\x88""@l\r\n"s},
      {"pfadd y y24 y25 y26", ":1\r\n"},
      {"get y", "$100\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""C\x05""\x80""@\x9a""\x88""A\xe7""\x80""A\xf4""\x84""Bh\x84""@a\x80""A\xd4""\x84""D\x83""\x88""-\x80""A\xff""\x84""A\xc2""\x8c""AH\x80""@\xec""\x80""C1\x84""@t\x80""G\xb9""\x88""Bh\x88""@\xa5""\x80""Bb\x84""F\x11""\x80""C\xc6""\x88""En\x80""E,\x80""A\x0f""\x80""+\x84""AJ\x80""@z\x88""@l\r\n"s},
      {"pfadd y y27 y28 y29", ":1\r\n"},
      {"get y", "$109\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""C\x05""\x80""@\x9a""\x88""A\xe7""\x80""A\xf4""\x84""Bh\x84""@a\x80""A\xd4""\x84""D\x83""\x88""-\x80""A\xff""\x84""A\xc2""\x8c""AH\x80""@\xec""\x80""C1\x84""@t\x80""F/\x8c""A\x88""\x88""Bh\x88""@\xa5""\x80""Bb\x84""F\x11""\x80""C\xc6""\x88""D\x1a""\x84""@o\x98""@\xe1""\x80""E,\x80""A\x0f""\x80""+\x84""AJ\x80""@z\x88""@l\r\n"s},
      {"pfadd y y30 y31 y32", ":1\r\n"},
      {"get y", "$117\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""C\x05""\x80""@\x9a""\x88""A\xe7""\x80""A\xf4""\x84""Bh\x84""@a\x80""@d\x84""An\x84""D\x83""\x88""-\x80""A\xff""\x84""A\xc2""\x8c""AH\x80""@\xec""\x80""B\x8c""\x80""@\xa3""\x84""@t\x80""F/\x8c""A\x88""\x88""Bh\x88""@\xa5""\x80""Bb\x84""F\x11""\x80""C\xc6""\x88""D\x1a""\x84""@o\x98""@\xe1""\x80""E,\x80""\x0c""\x84""A\x01""\x80""+\x84""AJ\x80""@z\x88""@l\r\n"s},
      {"pfadd y y33 y34 y35", ":1\r\n"},
      {"get y", "$125\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""C\x05""\x80""@\x9a""\x88""A\xe7""\x80""A\xf4""\x84""Bh\x84""@a\x80""@d\x84""An\x84""D\x83""\x88""-\x80""A\xff""\x84""A\xc2""\x8c""AH\x80""@\xec""\x80""Bn\x80""\x1c""\x80""@\xa3""\x84""@t\x80""F/\x8c""A\x88""\x88""Bh\x88""@\xa5""\x80""Bb\x84""F\x11""\x80""C\xc6""\x88""D\x1a""\x84""@o\x98""@\xe1""\x80""C\x8f""\x84""A\x18""\x80""@\x81""\x80""\x0c""\x84""A\x01""\x80""+\x84""AJ\x80""@z\x88""@l\r\n"s},
      {"pfadd y y36 y37 y38", ":1\r\n"},
      {"get y", "$134\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""A\xee""\x80""@\xa7""\x80""@l\x80""@\x9a""\x88""A\xe7""\x80""A\xf4""\x84""Bh\x84""@a\x80""@d\x84""An\x84""D\x83""\x88""-\x80""A\xff""\x84""A\xc2""\x8c""AH\x80""@\xec""\x80""Bn\x80""\x1c""\x80""@\xa3""\x84""@t\x80""D\xd3""\x80""AZ\x8c""A\x88""\x88""Bh\x88""@\xa5""\x80""Bb\x84""F\x11""\x80""C\xc6""\x88""D\x1a""\x84""@o\x98""@\xe1""\x80""C\x8f""\x84""A\x18""\x80""@\x81""\x80""\x0c""\x84""A\x01""\x80""+\x84""AJ\x80""@z\x88""@l\r\n"s},
      {"pfadd y y39 y40 y41", ":1\r\n"},
      {"get y", "$143\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""A\xee""\x80""@\xa7""\x80""@l\x80""@\x9a""\x88""A\xe7""\x80""A\xf4""\x84""Bh\x84""@a\x80""@d\x84""An\x84""D\x83""\x88""-\x80""A\xff""\x84""A\xc2""\x8c""@F\x88""A\x00""\x80""@\xec""\x80""Bn\x80""\x1c""\x80""@\xa3""\x84""@t\x80""D\xd3""\x80""AZ\x8c""A\x88""\x88""Bh\x88""@\xa5""\x80""Bb\x84""F\x11""\x80""@\xc3""\x80""C\x01""\x88""A)\x80""B\xef""\x84""@o\x98""@\xe1""\x80""C\x8f""\x84""A\x18""\x80""@\x81""\x80""\x0c""\x84""A\x01""\x80""+\x84""AJ\x80""@z\x88""@l\r\n"s},
      {"pfadd y y42 y43 y44", ":1\r\n"},
      {"get y", "$150\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""A\xee""\x80""@\xa7""\x80""@l\x80""@\x9a""\x88""A\xe7""\x80""A\xf4""\x84""Bh\x84""@a\x80""@d\x84""An\x84""D\x83""\x88""-\x80""A\xff""\x84""A\xc2""\x8c""@F\x88""A\x00""\x80""@\xec""\x80""@\xd0""\x88""A\x9c""\x80""\x1c""\x80""@\xa3""\x84""@t\x80""D\xd3""\x80""AZ\x8c""A\x88""\x88""Bh\x88""@\xa5""\x80""Bb\x84""E\xdc""\x80""3\x80""@\xc3""\x80""C\x01""\x88""A)\x80""B\xef""\x84""@m\x80""\x00""\x98""@\xe1""\x80""C\x8f""\x84""A\x18""\x80""@\x81""\x80""\x0c""\x84""A\x01""\x80""+\x84""AJ\x80""@z\x88""@l\r\n"s},
      {"pfadd y y45 y46 y47", ":1\r\n"},
      {"get y", "$155\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""A\xee""\x80""@\xa7""\x80""@l\x80""@\x9a""\x88""A\xe7""\x80""A\xf4""\x84""Bh\x84""@a\x80""&\x84""<\x84""An\x84""D\x83""\x88""-\x80""A\xff""\x84""\x18""\x88""A\xa8""\x8c""@F\x88""A\x00""\x80""@\xec""\x80""@\xd0""\x88""A\x9c""\x80""\x1c""\x80""@\xa3""\x84""@t\x80""D\xd3""\x80""AZ\x8c""A\x88""\x88""Bh\x88""@\xa5""\x80""Bb\x84""E\xdc""\x80""3\x80""@\xc3""\x80""C\x01""\x88""A)\x80""B\xef""\x84""@m\x80""\x00""\x98""@\xe1""\x80"")\x8c""Cd\x84""A\x18""\x80""@\x81""\x80""\x0c""\x84""A\x01""\x80""+\x84""AJ\x80""@z\x88""@l\r\n"s},
      {"pfadd y y48 y49 y50", ":1\r\n"},
      {"get y", "$164\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""A\xee""\x80""@\xa7""\x80""@l\x80""@\x9a""\x88""A\xe7""\x80""A\xf4""\x84""Bh\x84""@a\x80""&\x84""<\x84""An\x84""D\x83""\x88""-\x80""A\xff""\x84""\x18""\x88""A\xa8""\x8c""@F\x88""A\x00""\x80""@\xec""\x80""@\xd0""\x88""A\x9c""\x80""\x1c""\x80""@\xa3""\x84""@t\x80""C\xb4""\x84""A\x1d""\x80""AZ\x8c""A\x88""\x88""Bh\x88""@\xa5""\x80""Bb\x84""@\xea""\x80""C\x85""\x84""Ai\x80""3\x80""@\xc3""\x80""C\x01""\x88""A)\x80""B\xef""\x84""@m\x80""\x00""\x98""@\xe1""\x80"")\x8c""Cd\x84""A\x18""\x80""@\x81""\x80""\x0c""\x84""A\x01""\x80""+\x84""AJ\x80""@z\x88""@l\r\n"s},
      {"pfadd y y51 y52 y53", ":1\r\n"},
      {"get y", "$170\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""A\xee""\x80""@\xa7""\x80""@l\x80""@\x85""\x88""\x13""\x88""A\xe7""\x80""A\xf4""\x84""Bh\x84""@a\x80""&\x84""<\x84""An\x84""D\x83""\x88""-\x80""A\xff""\x84""\x18""\x88""A\xa8""\x8c""@F\x88""/\x84""@\xcf""\x80""@\xec""\x80""@\xd0""\x88""A\x9c""\x80""\x1c""\x80""@\xa3""\x84""@t\x80""C\xb4""\x84""A\x1d""\x80""AZ\x8c""A\x88""\x88""Bh\x88""@\xa5""\x80""BO\x80""\x11""\x84""@\xea""\x80""C\x85""\x84""Ai\x80""3\x80""@\xc3""\x80""C\x01""\x88""A)\x80""B\xef""\x84""@m\x80""\x00""\x98""@\xe1""\x80"")\x8c""Cd\x84""A\x18""\x80""@\x81""\x80""\x0c""\x84""A\x01""\x80""+\x84""AJ\x80""@z\x88""@l\r\n"s},
      {"pfadd y y54 y55 y56", ":1\r\n"},
      {"get y", "$179\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""@\xc2""\x88""A*\x80""@\xa7""\x80""@l\x80""@\x85""\x88""\x13""\x88""A\xe7""\x80""A\xf4""\x84""Bh\x84""@a\x80""&\x84""<\x84""An\x84""D\x1e""\x80""@c\x88""-\x80""A\xff""\x84""\x18""\x88""A\xa8""\x8c""@F\x88""/\x84""@\xcf""\x80""@\xec""\x80""@\xd0""\x88""A\x9c""\x80""\x1c""\x80""@\xa3""\x84""@t\x80""C\xb4""\x84""@F\x8c""@\xd5""\x80""AZ\x8c""A\x88""\x88""Bh\x88""@\xa5""\x80""BO\x80""\x11""\x84""@\xea""\x80""C\x85""\x84""Ai\x80""3\x80""@\xc3""\x80""C\x01""\x88""A)\x80""B\xef""\x84""@m\x80""\x00""\x98""@\xe1""\x80"")\x8c""Cd\x84""A\x18""\x80""@\x81""\x80""\x0c""\x84""A\x01""\x80""+\x84""AJ\x80""@z\x88""@l\r\n"s},
      {"pfadd y y57 y58 y59", ":1\r\n"},
      {"get y", "$187\r\nHYLL\x01""\x00""\x00""\x00""\x01""\x00""\x00""\x00""\x00""\x00""\x00""\x80""@c\x88""@\xc2""\x88""A*\x80""@\xa7""\x80""@l\x80""@\x85""\x88""\x13""\x88""A\xe7""\x80""A\xf4""\x84""Bh\x84""@a\x80""&\x84""<\x84""An\x84""D\x1e""\x80""@c\x88""-\x80""A\xff""\x84""\x18""\x88""A\xa8""\x8c""@F\x88""/\x84""@\xcf""\x80""@H\x88""@\xa2""\x80""@\xd0""\x88""A\x9c""\x80""\x1c""\x80""@\xa3""\x84""@t\x80""C\xb4""\x84""@F\x8c""@\xd5""\x80""AZ\x8c""A\x88""\x88""Bh\x88""@\xa5""\x80""\x07""\x80""BF\x80""\x11""\x84""@\xea""\x80""C\x85""\x84""Ai\x80""3\x80""@\xc3""\x80""A\xd3""\x94""A,\x88""A)\x80""B\xef""\x84""@m\x80""\x00""\x98""@\xe1""\x80"")\x8c""Cd\x84""A\x18""\x80""@\x81""\x80""\x0c""\x84""A\x01""\x80""+\x84""AJ\x80""@z\x88""@l\r\n"s},
      {"pfcount y", ":61\r\n"},
      {"set z \"HYLL\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x80\\x3f\\x84\\x84\\x84\\x3f\\x7f\\x7c\"", "+OK\r\n"},
      {"pfcount z", ":3\r\n"},
      {"pfadd z z0 z1 z2 z3", ":1\r\n"},
      {"get z", "$35\r\nHYLL\x01""\x00""\x00""\x00""\x03""\x00""\x00""\x00""\x00""\x00""\x00""\x80""?\x84""\x84""\x84""?H\x85""\x84""\\\x90""\x80""D\xa7""\x80""O\xf2""\x84""E\xc6""\r\n"s},
      {"pfadd z z4 z5 z6 z7", ":1\r\n"},
      {"get z", "$46\r\nHYLL\x01""\x00""\x00""\x00""\x03""\x00""\x00""\x00""\x00""\x00""\x00""\x80""?\x84""\x84""\x84""?H\x85""\x84""E\xe8""\x88""V8\x84""@l\x80""AA\x84""Cd\x80""/\x84""O\xc1""\x84""E\xc6""\r\n"s},
      {"pfadd z z8 z9 z10 z11", ":1\r\n"},
      {"get z", "$57\r\nHYLL\x01""\x00""\x00""\x00""\x03""\x00""\x00""\x00""\x00""\x00""\x00""\x80""?\x84""\x84""\x84""?H\x85""\x84""E\xdd""\x80""\x09""\x88""V8\x84""@l\x80""@t\x80""@\xcb""\x84""Cd\x80""/\x84""B\xfb""\x80""D\xfa""\x80""G\xc8""\x84""E\xc6""\r\n"s},
      {"pfadd z z12 z13 z14 z15", ":1\r\n"},
      {"get z", "$68\r\nHYLL\x01""\x00""\x00""\x00""\x03""\x00""\x00""\x00""\x00""\x00""\x00""\x80""?\x84""\x84""\x84""?H\x85""\x84""E\xdd""\x80""\x09""\x88""A\x18""\x94""5\x88""T\xe7""\x84""@l\x80""@t\x80""@\xcb""\x84""Cd\x80""/\x84""B\xfb""\x80""@\xc6""\x80""A\xe6""\x80""BJ\x80""G\xc8""\x84""E\xc6""\r\n"s},
      {"pfadd z z16 z17 z18 z19", ":1\r\n"},
      {"get z", "$79\r\nHYLL\x01""\x00""\x00""\x00""\x03""\x00""\x00""\x00""\x00""\x00""\x00""\x80""?\x84""\x84""\x84""?@\xe2""\x80""G\xa1""\x84""E\xdd""\x80""\x09""\x88""A\x09""\x84""\r\x94""5\x88""T\xe7""\x84""@l\x80""@t\x80""@\xcb""\x84""Cd\x80""/\x84""B\xfb""\x80""@\xc6""\x80""@G\x88""@\xfc""\x80""@\x9f""\x80""BJ\x80""G\xc8""\x84""E\xc6""\r\n"s},
      {"pfadd z z20 z21 z22 z23", ":1\r\n"},
      {"get z", "$89\r\nHYLL\x01""\x00""\x00""\x00""\x03""\x00""\x00""\x00""\x00""\x00""\x00""\x80""?\x84""\x84""\x84""?@\xe2""\x80""G\x7f""\x80"" \x84""E\xdd""\x80""\x09""\x88""A\x09""\x84""\r\x94""5\x88""T\xe7""\x84""@l\x80""@t\x80""@\xab""\x84""\x1e""\x84""Cd\x80""/\x84""B\xfb""\x80""@\xc6""\x80""@G\x88""@\xfc""\x80""@\x9f""\x80""BJ\x80""B>\x80""E\x88""\x84""D\xc0""\x84""A\x04""\r\n"s},
      {"pfadd z z24 z25 z26 z27", ":1\r\n"},
      {"get z", "$101\r\nHYLL\x01""\x00""\x00""\x00""\x03""\x00""\x00""\x00""\x00""\x00""\x00""\x80""?\x84""\x84""\x84""?@\xe2""\x80""D[\x84""C\"\x80"" \x84""E\xdd""\x80""\x09""\x88""A\x09""\x84""\r\x94""5\x88""A\x1f""\x8c""N\xe3""\x84""D\xe1""\x84""@l\x80""@t\x80""@\xab""\x84""\x1e""\x84""Cd\x80""/\x84""B\xfb""\x80""@\xc6""\x80""@G\x88""@\xfc""\x80""@\x9f""\x80""BJ\x80""B>\x80""E\x88""\x84""@\xae""\x8c""D\x10""\x84""A\x04""\r\n"s},
      {"pfadd z z28 z29 z30 z31", ":1\r\n"},
      {"get z", "$112\r\nHYLL\x01""\x00""\x00""\x00""\x03""\x00""\x00""\x00""\x00""\x00""\x00""\x80""?\x84""\x84""\x84""?@\xe2""\x80""D[\x84""A\xc9""\x80""\x14""\x80""AA\x80"" \x84""E\xdd""\x80""\x09""\x88""A\x09""\x84""\r\x94""5\x88""A\x1f""\x8c""N\xe3""\x84""C\xce""\x80""A\x11""\x84""@l\x80""@t\x80""@\xab""\x84""\x1e""\x84""Cd\x80""/\x84""B\xfb""\x80""@\xc6""\x80""@G\x88""@\xfc""\x80""@\x9f""\x80""BJ\x80""B>\x80""A8\x84""DN\x84""@\xae""\x8c""D\x10""\x84""A\x04""\r\n"s},
      {"pfadd z z32 z33 z34 z35", ":1\r\n"},
      {"get z", "$124\r\nHYLL\x01""\x00""\x00""\x00""\x03""\x00""\x00""\x00""\x00""\x00""\x00""\x80""?\x84""\x84""\x84""?@\xe2""\x80""D[\x84""A\xc9""\x80""\x14""\x80""AA\x80"" \x84""E\xdd""\x80""\x09""\x88""A\x09""\x84""\r\x94""5\x88""A\x1f""\x8c""@\x84""\x80""A\x0f""\x88""ML\x84""B\x12""\x84""A\xba""\x80""A\x11""\x84""@l\x80""@t\x80""@\xab""\x84""\x1e""\x84""Cd\x80""/\x84""B\xfb""\x80""@\xc6""\x80""@G\x88""@\xfc""\x80""@\x9f""\x80""BJ\x80""B>\x80""A8\x84""DN\x84""@\xae""\x8c""A\xb7""\x88""BW\x84""A\x04""\r\n"s},
      {"pfadd z z36 z37 z38 z39", ":1\r\n"},
      {"get z", "$131\r\nHYLL\x01""\x00""\x00""\x00""\x03""\x00""\x00""\x00""\x00""\x00""\x00""\x80""?\x84""\x84""\x84""?@\xe2""\x80""D[\x84""A\x9c""\x88""+\x80""\x14""\x80""AA\x80"" \x84""E\xdd""\x80""\x09""\x88""A\x09""\x84""\r\x94""5\x88""A\x1f""\x8c""@\x84""\x80""A\x0f""\x88""C\x1c""\x84""J.\x84""B\x12""\x84""A\xba""\x80""A\x11""\x84""@l\x80""@t\x80""@\xab""\x84""\x1e""\x84""Cd\x80""/\x84""B\xfb""\x80""@\xc6""\x80""@G\x88""@\xfc""\x80""@\x9f""\x80""BJ\x80""B>\x80""A8\x84""D9\x81""\x12""\x84""@\xae""\x8c""A\xb7""\x88""BW\x84""A\x04""\r\n"s},
      {"pfcount z", ":43\r\n"},
  });
}

TEST_CASE("sparse to dense promotion happens at Redis's step", "[hll]") {
  CommandRunner r = make_runner();
  int first_dense = -1;
  for (int i = 0; i < 3000; ++i) {
    REQUIRE(r.run(std::vector<std::string>{"PFADD", "p", named("p", static_cast<uint64_t>(i))}).front() == ':');
    const std::string v = value_of(r, "p");
    if (first_dense < 0 && v.size() == hll::kDenseSize) first_dense = i;
    if (i == 99) {
      CHECK(v.size() == 280);
      CHECK(r.run("PFCOUNT p") == ":99\r\n");
      CHECK(fnv1a(value_of(r, "p")) == 0x694734daf7bc1073ULL);
    } else if (i == 499) {
      CHECK(v.size() == 1053);
      CHECK(r.run("PFCOUNT p") == ":501\r\n");
      CHECK(fnv1a(value_of(r, "p")) == 0x3a11955d2b61683ULL);
    } else if (i == 999) {
      CHECK(v.size() == 1905);
      CHECK(r.run("PFCOUNT p") == ":1007\r\n");
      CHECK(fnv1a(value_of(r, "p")) == 0x7fe63f8fa7911ce6ULL);
    }
  }
  CHECK(first_dense == 1670);
  CHECK(r.run("PFCOUNT p") == ":3011\r\n");
  CHECK(fnv1a(value_of(r, "p")) == 0xa1b47b032a927761ULL);
}

TEST_CASE("large HyperLogLog: count and bytes match Redis", "[hll]") {
  CommandRunner r = make_runner();
  for (int j = 0; j < 200000; j += 5000) {
    std::vector<std::string> args{"PFADD", "big"};
    for (int i = j; i < j + 5000; ++i) args.push_back(named("big", static_cast<uint64_t>(i)));
    r.run(args);
  }
  CHECK(r.run("PFCOUNT big") == ":200579\r\n");
  CHECK(fnv1a(value_of(r, "big")) == 0xeeb7b59e2544aeeULL);
}

TEST_CASE("hll storage: empty value, dense conversion, estimator", "[hll]") {
  const std::string e = hll::empty();
  CHECK(e == "HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff"s);
  CHECK(hll::is_valid(e));
  uint64_t card = 99;
  REQUIRE(hll::count(e, card));
  CHECK(card == 0);

  std::array<uint8_t, hll::kRegisters> zero{};
  CHECK(hll::count_registers(zero.data()) == 0);

  // A sparse value and its dense form hold the same registers and count the same.
  std::mt19937_64 rng(3);
  for (int round = 0; round < 20; ++round) {
    distcache::storage::CompactString s(e);
    const int n = 1 + static_cast<int>(rng() % 400);
    for (int i = 0; i < n; ++i) hll::add(s, named("r", rng()));
    REQUIRE(hll::is_valid(s.view()));
    std::array<uint8_t, hll::kRegisters> a{}, b{};
    uint64_t ca = 0, cb = 0;
    REQUIRE(hll::merge_into(s.view(), a.data()));
    REQUIRE(hll::count(s.view(), ca));
    REQUIRE(hll::to_dense(s));
    CHECK(s.size() == hll::kDenseSize);
    CHECK(hll::encoding(s.view()) == hll::kEncodingDense);
    REQUIRE(hll::merge_into(s.view(), b.data()));
    REQUIRE(hll::count(s.view(), cb));
    CHECK(a == b);
    CHECK(ca == cb);
    CHECK(hll::count_registers(a.data()) == ca);
  }

  // A register above the sparse VAL maximum (32) forces the dense encoding.
  distcache::storage::CompactString s(e);
  CHECK(hll::set_register(s, 5, 33) == 1);
  CHECK(hll::encoding(s.view()) == hll::kEncodingDense);
  CHECK(hll::set_register(s, 5, 20) == 0);
  std::array<uint8_t, hll::kRegisters> regs{};
  REQUIRE(hll::merge_into(s.view(), regs.data()));
  CHECK(regs[5] == 33);

  // Growing past the byte limit also promotes.
  distcache::storage::CompactString t(e);
  for (uint32_t i = 0; i < hll::kRegisters && hll::encoding(t.view()) == hll::kEncodingSparse; i += 7)
    REQUIRE(hll::set_register(t, i, static_cast<uint8_t>(1 + i % 32), 200) == 1);
  CHECK(hll::encoding(t.view()) == hll::kEncodingDense);

  // The cache: invalid bit in the top byte, little-endian value.
  CHECK(hll::cache_valid(e));
  hll::set_cached_cardinality(s, 0x0102030405);
  CHECK(hll::cache_valid(s.view()));
  CHECK(hll::cached_cardinality(s.view()) == 0x0102030405ULL);
  hll::invalidate_cache(s);
  CHECK_FALSE(hll::cache_valid(s.view()));
}
