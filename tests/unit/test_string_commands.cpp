// String command handlers. The expected bytes of every expect_replies block
// were captured from redis-server 7.0.15 by replaying the block on an empty
// database (expect_replies_local blocks depend on the simulated clock or the
// configuration and were checked by hand against the same server).
#include <catch2/catch.hpp>

#include <string>

using namespace std::string_literals;

#include "storage/numbers.h"
#include "tests/unit/command_test_util.h"

using distcache::test::CommandRunner;
using distcache::test::expect_replies;
using distcache::test::expect_replies_local;
namespace resp = distcache::test::resp;

namespace {
const std::string kWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const std::string kNotInt = "-ERR value is not an integer or out of range\r\n";
const std::string kNotFloat = "-ERR value is not a valid float\r\n";
const std::string kSyntax = "-ERR syntax error\r\n";
}  // namespace

// ---------------------------------------------------------------------------
// numbers

TEST_CASE("parse_int64 follows string2ll rules", "[numbers]") {
  using distcache::storage::parse_int64;
  int64_t v = 42;
  CHECK(parse_int64("0", v));
  CHECK(v == 0);
  CHECK(parse_int64("-1", v));
  CHECK(v == -1);
  CHECK(parse_int64("9223372036854775807", v));
  CHECK(v == INT64_MAX);
  CHECK(parse_int64("-9223372036854775808", v));
  CHECK(v == INT64_MIN);
  for (const char* bad : {"", "-", "+1", " 1", "1 ", "01", "-0", "00", "-01", "9223372036854775808",
                          "-9223372036854775809", "18446744073709551616", "99999999999999999999", "1.0", "1e3",
                          "0x10", "abc", "1a"}) {
    INFO(bad);
    CHECK_FALSE(parse_int64(bad, v));
  }
  CHECK_FALSE(parse_int64(std::string_view("1\0", 2), v));
}

TEST_CASE("format_int64", "[numbers]") {
  using distcache::storage::int64_to_string;
  CHECK(int64_to_string(0) == "0");
  CHECK(int64_to_string(-42) == "-42");
  CHECK(int64_to_string(INT64_MAX) == "9223372036854775807");
  CHECK(int64_to_string(INT64_MIN) == "-9223372036854775808");
}

TEST_CASE("parse_long_double and the INCRBYFLOAT format", "[numbers]") {
  using distcache::storage::format_long_double_human;
  using distcache::storage::parse_long_double;
  long double v;
  auto fmt = [](const char* in) {
    long double x = 0;
    REQUIRE(parse_long_double(in, x));
    return format_long_double_human(x);
  };
  CHECK(fmt("10.5") == "10.5");
  CHECK(fmt("1e20") == "100000000000000000000");
  CHECK(fmt("3.0e3") == "3000");
  CHECK(fmt("5.0e-5") == "0.00005");
  CHECK(fmt("-0.0") == "0");
  CHECK(fmt("1e-20") == "0");
  CHECK(fmt("-1e-20") == "0");
  CHECK(fmt("1.1e-17") == "0.00000000000000001");
  CHECK(fmt("1.23456789012345678901") == "1.23456789012345679");
  CHECK(fmt("123456789012345678") == "123456789012345678");
  CHECK(fmt("0x10") == "16");
  CHECK(fmt("+5") == "5");
  CHECK(fmt(".5") == "0.5");
  CHECK(fmt("5.") == "5");
  CHECK(fmt("-1.5") == "-1.5");
  CHECK(fmt("0.0001") == "0.0001");
  CHECK(format_long_double_human(0.1L + 0.2L) == "0.3");
  CHECK(format_long_double_human(1e308L + 1e308L).size() == 309);
  REQUIRE(parse_long_double("inf", v));  // accepted; INCRBYFLOAT rejects the result
  CHECK(format_long_double_human(v) == "inf");
  CHECK(format_long_double_human(-v) == "-inf");
  for (const char* bad : {"", " 1", "1 ", "nan", "-nan", "1e5000", "1e-5000", "abc", "1,5"}) {
    INFO(bad);
    CHECK_FALSE(parse_long_double(bad, v));
  }
  CHECK_FALSE(parse_long_double(std::string_view("1\0", 2), v));
  CHECK_FALSE(parse_long_double(std::string(5120, '1'), v));
  CHECK(parse_long_double(std::string(5117, '0') + ".5", v));
  CHECK(v == 0.5L);
}

TEST_CASE("parse_double follows strtod as Redis scores do", "[numbers]") {
  using distcache::storage::parse_double;
  double v;
  REQUIRE(parse_double("inf", v));
  CHECK(v > 0);
  CHECK(std::isinf(v));
  REQUIRE(parse_double("+inf", v));
  CHECK(std::isinf(v));
  REQUIRE(parse_double("-inf", v));
  CHECK(v < 0);
  CHECK(std::isinf(v));
  REQUIRE(parse_double("Infinity", v));
  REQUIRE(parse_double("0x10", v));
  CHECK(v == 16);
  REQUIRE(parse_double("5e-324", v));  // denormal, kept
  CHECK(v > 0);
  REQUIRE(parse_double(".5", v));
  CHECK(v == 0.5);
  REQUIRE(parse_double("1.", v));
  CHECK(v == 1);
  REQUIRE(parse_double(std::string(200, '1'), v));
  for (const char* bad : {"", " 1", "\t1", "1 ", "nan", "NaN", "1e400", "-1e400", "1e-400", "abc", "1x"}) {
    INFO(bad);
    CHECK_FALSE(parse_double(bad, v));
  }
  CHECK_FALSE(parse_double(std::string_view("1\0", 2), v));
}

// ---------------------------------------------------------------------------
// SET

TEST_CASE("SET options and their conflicts", "[string][set]") {
  CommandRunner r;
  expect_replies(r, {
      {"SET k v EX 10 EX 20", "+OK\r\n"},
      {"TTL k", ":20\r\n"},
      {"SET k v nx nx", "$-1\r\n"},
      {"SET k v NX XX", kSyntax},
      {"SET k v XX NX", kSyntax},
      {"SET k v GET NX", "$1\r\nv\r\n"},
      {"SET k2 v GET NX", "$-1\r\n"},
      {"GET k2", "$1\r\nv\r\n"},
      {"SET k v KEEPTTL EX 10", kSyntax},
      {"SET k v EX 10 KEEPTTL", kSyntax},
      {"SET k v EX 10 PX 10", kSyntax},
      {"SET k v EX 10 EXAT 20", kSyntax},
      {"SET k v EXAT 10 PXAT 20", kSyntax},
      {"SET k v PX 10 EXAT 20", kSyntax},
      {"SET k v PXAT 10 EX 20", kSyntax},
      {"SET k v EX", kSyntax},
      {"SET k v PXAT", kSyntax},
      {"SET k v foo", kSyntax},
      {"SET k v PERSIST", kSyntax},
      {"SET k v EX abc foo", kSyntax},
      {"SET k v \"nx\\x00junk\"", "$-1\r\n"},
      {"SET k v KEEPTTL KEEPTTL", "+OK\r\n"},
      {"SET k v GET GET", "$1\r\nv\r\n"},
      {"SET k v xX", "+OK\r\n"},
      {"SET new v XX", "$-1\r\n"},
      {"SET new v XX GET", "$-1\r\n"},
      {"EXISTS new", ":0\r\n"},
      {"SET k v2 NX GET", "$1\r\nv\r\n"},
      {"GET k", "$1\r\nv\r\n"},
  });
}

TEST_CASE("SET expire values", "[string][set]") {
  CommandRunner r;
  const std::string invalid = "-ERR invalid expire time in 'set' command\r\n";
  expect_replies(r, {
      {"SET k v EX abc", kNotInt},
      {"SET k v EX 10 EX abc", kNotInt},
      {"SET k v EX 1.5", kNotInt},
      {"SET k v EX 0", invalid},
      {"SET k v EX -1", invalid},
      {"SET k v PX 0", invalid},
      {"SET k v EXAT 0", invalid},
      {"SET k v PXAT -5", invalid},
      {"sEt k v ex 0", invalid},
      {"SET k v EX 9223372036854775807", invalid},
      {"SET k v EX 9223372036854775", invalid},
      {"SET k v EX 9223372036854000", invalid},
      {"SET k v PX 9223372036854775807", invalid},
      {"SET k v EX 99999999999999999999", kNotInt},
      {"EXISTS k", ":0\r\n"},
      {"SET k v PXAT 9223372036854775807", "+OK\r\n"},
      {"PEXPIRETIME k", ":9223372036854775807\r\n"},
      {"SET k v EXAT 9223372036854775", "+OK\r\n"},
      {"PEXPIRETIME k", ":9223372036854775000\r\n"},
      {"SET k v PXAT 4102444800123", "+OK\r\n"},
      {"PEXPIRETIME k", ":4102444800123\r\n"},
      {"EXPIRETIME k", ":4102444800\r\n"},
      {"SET k v EX 100", "+OK\r\n"},
      {"TTL k", ":100\r\n"},
      {"PTTL k", ":100000\r\n"},
      {"SET k v PX 1500", "+OK\r\n"},
      {"TTL k", ":2\r\n"},
      {"SET k v2 KEEPTTL", "+OK\r\n"},
      {"PTTL k", ":1500\r\n"},
      {"SET k v3", "+OK\r\n"},
      {"TTL k", ":-1\r\n"},
      // Times in the past: the key is stored already expired.
      {"SET k v PXAT 1", "+OK\r\n"},
      {"EXISTS k", ":0\r\n"},
      {"SET k v EXAT 1", "+OK\r\n"},
      {"GET k", "$-1\r\n"},
      {"SET k v", "+OK\r\n"},
      {"SET k v2 PXAT 1 GET", "$1\r\nv\r\n"},
      {"SET k v3 PXAT 1 GET", "$-1\r\n"},
  });
}

TEST_CASE("SET GET and wrong types", "[string][set]") {
  CommandRunner r;
  expect_replies(r, {
      {"@list l", "+OK\r\n"},
      {"SET l v GET", kWrongType},
      {"SET l v EX 0 GET", "-ERR invalid expire time in 'set' command\r\n"},
      {"SET l v NX GET", kWrongType},
      {"SET l v NX", "$-1\r\n"},
      {"TYPE l", "+list\r\n"},
      {"SET l v", "+OK\r\n"},
      {"TYPE l", "+string\r\n"},
      {"@hash h", "+OK\r\n"},
      {"SET h v XX GET", kWrongType},
      {"SET h v XX", "+OK\r\n"},
      {"GET h", "$1\r\nv\r\n"},
      {"SET e \"\"", "+OK\r\n"},
      {"GET e", "$0\r\n\r\n"},
      {"SET bin \"a\\x00b\\r\\n\"", "+OK\r\n"},
      {"GET bin", "$5\r\na\x00"s "b\r\n\r\n"},
      {"STRLEN bin", ":5\r\n"},
  });
}

TEST_CASE("SET with a TTL expires on the simulated clock", "[string][set]") {
  CommandRunner r;
  expect_replies_local(r, {
      {"SET k v EX 10", "+OK\r\n"},
      {"PTTL k", ":10000\r\n"},
  });
  r.now_ms += 9'999;
  expect_replies_local(r, {{"GET k", "$1\r\nv\r\n"}, {"PTTL k", ":1\r\n"}});
  r.now_ms += 1;  // a key expires once now is past its time (as Redis: now > when)
  expect_replies_local(r, {{"GET k", "$1\r\nv\r\n"}, {"PTTL k", ":0\r\n"}, {"TTL k", ":0\r\n"}});
  r.now_ms += 1;
  expect_replies_local(r, {{"GET k", "$-1\r\n"}, {"TTL k", ":-2\r\n"}});
  // SET ... PXAT in the past leaves the key in the table until it is looked up
  // (as Redis: DBSIZE still counts it).
  expect_replies_local(r, {{"SET gone v PXAT 1", "+OK\r\n"}});
  CHECK(r.db().size() == 1);
  expect_replies_local(r, {{"GET gone", "$-1\r\n"}});
  CHECK(r.db().size() == 0);
  // Relative times are based on the command's now_ms.
  expect_replies_local(r, {{"SET k v PX 250", "+OK\r\n"},
                           {"PEXPIRETIME k", resp::integer(r.now_ms + 250)},
                           {"SET k v EX 3", "+OK\r\n"},
                           {"EXPIRETIME k", resp::integer((r.now_ms + 3000 + 500) / 1000)}});
}

// ---------------------------------------------------------------------------
// GET family

TEST_CASE("GET GETSET GETDEL", "[string]") {
  CommandRunner r;
  expect_replies(r, {
      {"GET nokey", "$-1\r\n"},
      {"@list l", "+OK\r\n"},
      {"GET l", kWrongType},
      {"GETSET k v", "$-1\r\n"},
      {"GETSET k v2", "$1\r\nv\r\n"},
      {"GET k", "$2\r\nv2\r\n"},
      {"EXPIRE k 100", ":1\r\n"},
      {"GETSET k v3", "$2\r\nv2\r\n"},
      {"TTL k", ":-1\r\n"},
      {"GETSET l x", kWrongType},
      {"TYPE l", "+list\r\n"},
      {"GETDEL l", kWrongType},
      {"GETDEL k", "$2\r\nv3\r\n"},
      {"GETDEL k", "$-1\r\n"},
      {"EXISTS k", ":0\r\n"},
  });
}

TEST_CASE("GETEX options", "[string][getex]") {
  CommandRunner r;
  const std::string invalid = "-ERR invalid expire time in 'getex' command\r\n";
  expect_replies(r, {
      {"GETEX nokey EX abc", "$-1\r\n"},
      {"GETEX nokey EX 0", "$-1\r\n"},
      {"GETEX nokey foo", kSyntax},
      {"@list l", "+OK\r\n"},
      {"GETEX l EX 0", kWrongType},
      {"GETEX l", kWrongType},
      {"SET k v", "+OK\r\n"},
      {"GETEX k", "$1\r\nv\r\n"},
      {"GETEX k EX 0", invalid},
      {"GETEX k PX -1", invalid},
      {"GETEX k EXAT 0", invalid},
      {"GETEX k EX abc", kNotInt},
      {"GETEX k PERSIST EX 10", kSyntax},
      {"GETEX k EX 10 PERSIST", kSyntax},
      {"GETEX k EX 10 PX 10", kSyntax},
      {"GETEX k KEEPTTL", kSyntax},
      {"GETEX k NX", kSyntax},
      {"GETEX k XX", kSyntax},
      {"GETEX k GET", kSyntax},
      {"GETEX k EX", kSyntax},
      {"GETEX k PERSIST PERSIST", "$1\r\nv\r\n"},
      {"TTL k", ":-1\r\n"},
      {"GETEX k EX 10 EX 20", "$1\r\nv\r\n"},
      {"TTL k", ":20\r\n"},
      {"GETEX k", "$1\r\nv\r\n"},
      {"TTL k", ":20\r\n"},
      {"GETEX k px 5500", "$1\r\nv\r\n"},
      {"PTTL k", ":5500\r\n"},
      {"GETEX k persist", "$1\r\nv\r\n"},
      {"TTL k", ":-1\r\n"},
      {"GETEX k PERSIST", "$1\r\nv\r\n"},
      {"GETEX k PX 9223372036854775807", invalid},
      {"GETEX k EXAT 9223372036854775", "$1\r\nv\r\n"},
      {"PEXPIRETIME k", ":9223372036854775000\r\n"},
      {"GETEX k EXAT 9223372036854776", invalid},
      {"GETEX k PXAT 9223372036854775807", "$1\r\nv\r\n"},
      {"PEXPIRETIME k", ":9223372036854775807\r\n"},
      {"GETEX k PXAT 4102444800000", "$1\r\nv\r\n"},
      {"EXPIRETIME k", ":4102444800\r\n"},
      {"GETEX k EXAT 1", "$1\r\nv\r\n"},
      {"EXISTS k", ":0\r\n"},
      {"SET k v", "+OK\r\n"},
      {"GETEX k PXAT 1", "$1\r\nv\r\n"},
      {"GET k", "$-1\r\n"},
  });
}

TEST_CASE("GETEX with a past absolute time deletes the key at once", "[string][getex]") {
  CommandRunner r;
  expect_replies_local(r, {{"SET k v", "+OK\r\n"}, {"GETEX k PXAT 1", "$1\r\nv\r\n"}});
  CHECK(r.db().size() == 0);
  expect_replies_local(r, {{"SET k v", "+OK\r\n"}, {"GETEX k PXAT 1700000000000", "$1\r\nv\r\n"}});
  CHECK(r.db().size() == 0);
  expect_replies_local(r, {{"SET k v", "+OK\r\n"}, {"GETEX k PXAT 1700000000001", "$1\r\nv\r\n"},
                           {"PTTL k", ":1\r\n"}});
}

// ---------------------------------------------------------------------------
// Multi-key

TEST_CASE("MSET MSETNX MGET", "[string][multi]") {
  CommandRunner r;
  expect_replies(r, {
      {"MSET a", "-ERR wrong number of arguments for 'mset' command\r\n"},
      {"MSET a 1 b", "-ERR wrong number of arguments for 'mset' command\r\n"},
      {"MsEt a 1 b", "-ERR wrong number of arguments for 'mset' command\r\n"},
      {"MSETNX a 1 b", "-ERR wrong number of arguments for 'msetnx' command\r\n"},
      {"MSETNX a", "-ERR wrong number of arguments for 'msetnx' command\r\n"},
      {"SET a x EX 100", "+OK\r\n"},
      {"MSET a 1 b 2 a 3", "+OK\r\n"},
      {"TTL a", ":-1\r\n"},
      {"@list l", "+OK\r\n"},
      {"MGET a b c l", "*4\r\n$1\r\n3\r\n$1\r\n2\r\n$-1\r\n$-1\r\n"},
      {"MGET c", "*1\r\n$-1\r\n"},
      {"MSETNX a 1 c 2", ":0\r\n"},
      {"MSETNX c 9 l 9", ":0\r\n"},
      {"EXISTS c", ":0\r\n"},
      {"MSETNX c 1 d 2 c 3", ":1\r\n"},
      {"MGET c d", "*2\r\n$1\r\n3\r\n$1\r\n2\r\n"},
      {"MSET l x", "+OK\r\n"},
      {"TYPE l", "+string\r\n"},
  });
}

TEST_CASE("SETNX SETEX PSETEX", "[string]") {
  CommandRunner r;
  expect_replies(r, {
      {"SETNX c 5", ":1\r\n"},
      {"SETNX c 6", ":0\r\n"},
      {"GET c", "$1\r\n5\r\n"},
      {"@list l", "+OK\r\n"},
      {"SETNX l 1", ":0\r\n"},
      {"SETEX a 0 v", "-ERR invalid expire time in 'setex' command\r\n"},
      {"SETEX a -5 v", "-ERR invalid expire time in 'setex' command\r\n"},
      {"PSETEX a 0 v", "-ERR invalid expire time in 'psetex' command\r\n"},
      {"pSeTeX a 0 v", "-ERR invalid expire time in 'psetex' command\r\n"},
      {"SETEX a abc v", kNotInt},
      {"SETEX a 9223372036854775 v", "-ERR invalid expire time in 'setex' command\r\n"},
      {"PSETEX a 9223372036854775807 v", "-ERR invalid expire time in 'psetex' command\r\n"},
      {"EXISTS a", ":0\r\n"},
      {"SETEX a 10 v", "+OK\r\n"},
      {"TTL a", ":10\r\n"},
      {"GET a", "$1\r\nv\r\n"},
      {"PSETEX a 2500 w", "+OK\r\n"},
      {"PTTL a", ":2500\r\n"},
      {"GET a", "$1\r\nw\r\n"},
      {"SETEX l 10 v", "+OK\r\n"},
      {"TYPE l", "+string\r\n"},
  });
}

// ---------------------------------------------------------------------------
// APPEND / STRLEN / ranges

TEST_CASE("APPEND and STRLEN", "[string]") {
  CommandRunner r;
  expect_replies(r, {
      {"STRLEN zz", ":0\r\n"},
      {"APPEND f xy", ":2\r\n"},
      {"OBJECT ENCODING f", "$6\r\nembstr\r\n"},
      {"APPEND f z", ":3\r\n"},
      {"OBJECT ENCODING f", "$3\r\nraw\r\n"},
      {"GET f", "$3\r\nxyz\r\n"},
      {"STRLEN f", ":3\r\n"},
      {"SET n 12", "+OK\r\n"},
      {"APPEND n 3", ":3\r\n"},
      {"GET n", "$3\r\n123\r\n"},
      {"INCR n", ":124\r\n"},
      {"APPEND e \"\"", ":0\r\n"},
      {"EXISTS e", ":1\r\n"},
      {"SET t v EX 100", "+OK\r\n"},
      {"APPEND t w", ":2\r\n"},
      {"TTL t", ":100\r\n"},
      {"@list l", "+OK\r\n"},
      {"APPEND l x", kWrongType},
      {"STRLEN l", kWrongType},
  });
}

TEST_CASE("APPEND respects proto-max-bulk-len", "[string]") {
  CommandRunner r;
  r.config.proto_max_bulk_len = 10;
  expect_replies_local(r, {
      {"APPEND k 0123456789", ":10\r\n"},
      {"APPEND k \"\"", ":10\r\n"},
      {"APPEND k x", "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"},
      {"GET k", "$10\r\n0123456789\r\n"},
  });
}

TEST_CASE("GETRANGE and SUBSTR", "[string][range]") {
  CommandRunner r;
  expect_replies(r, {
      {"SET s \"Hello World\"", "+OK\r\n"},
      {"GETRANGE s 0 4", "$5\r\nHello\r\n"},
      {"GETRANGE s -1 -5", "$0\r\n\r\n"},
      {"GETRANGE s -5 -1", "$5\r\nWorld\r\n"},
      {"GETRANGE s 5 3", "$0\r\n\r\n"},
      {"GETRANGE s 0 100", "$11\r\nHello World\r\n"},
      {"GETRANGE s -100 2", "$3\r\nHel\r\n"},
      {"GETRANGE s 3 -100", "$0\r\n\r\n"},
      {"GETRANGE s -100 -100", "$1\r\nH\r\n"},
      {"GETRANGE s 100 200", "$0\r\n\r\n"},
      {"GETRANGE s 10 10", "$1\r\nd\r\n"},
      {"GETRANGE s 11 11", "$0\r\n\r\n"},
      {"GETRANGE s -9223372036854775808 9223372036854775807", "$11\r\nHello World\r\n"},
      {"GETRANGE s a 1", kNotInt},
      {"GETRANGE s 1 1.5", kNotInt},
      {"GETRANGE nokey a 1", kNotInt},
      {"GETRANGE nokey 0 1", "$0\r\n\r\n"},
      {"SUBSTR s 0 2", "$3\r\nHel\r\n"},
      {"SUBSTR s -3 -2", "$2\r\nrl\r\n"},
      {"SET e \"\"", "+OK\r\n"},
      {"GETRANGE e 0 -1", "$0\r\n\r\n"},
      {"GETRANGE e -1 0", "$0\r\n\r\n"},
      {"SET n 12345", "+OK\r\n"},
      {"GETRANGE n 1 -2", "$3\r\n234\r\n"},
      {"@list l", "+OK\r\n"},
      {"GETRANGE l 0 1", kWrongType},
      {"GETRANGE l a 1", kNotInt},
  });
}

TEST_CASE("SETRANGE", "[string][range]") {
  CommandRunner r;
  const std::string too_big = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
  expect_replies(r, {
      {"SET s \"Hello World\"", "+OK\r\n"},
      {"SETRANGE s 6 Redis", ":11\r\n"},
      {"GET s", "$11\r\nHello Redis\r\n"},
      {"OBJECT ENCODING s", "$3\r\nraw\r\n"},
      {"SETRANGE s 13 !", ":14\r\n"},
      {"GET s", "$14\r\nHello Redis\x00\x00!\r\n"s},
      {"SETRANGE s -1 x", "-ERR offset is out of range\r\n"},
      {"SETRANGE s abc x", kNotInt},
      {"SETRANGE s 0 \"\"", ":14\r\n"},
      {"SETRANGE s 100 \"\"", ":14\r\n"},
      {"SETRANGE s 536870911 \"\"", ":14\r\n"},
      {"SETRANGE s 536870912 x", too_big},
      {"SETRANGE s 536870911 xx", too_big},
      {"SETRANGE s 9223372036854775807 xx", too_big},
      {"SETRANGE s 9223372036854775808 xx", kNotInt},
      {"SETRANGE nk 5 \"\"", ":0\r\n"},
      {"EXISTS nk", ":0\r\n"},
      {"SETRANGE nk 536870912 x", too_big},
      {"SETRANGE nk 3 ab", ":5\r\n"},
      {"GET nk", "$5\r\n\x00\x00\x00"s "ab\r\n"},
      {"OBJECT ENCODING nk", "$3\r\nraw\r\n"},
      {"SET num 123", "+OK\r\n"},
      {"SETRANGE num 0 9", ":3\r\n"},
      {"GET num", "$3\r\n923\r\n"},
      {"OBJECT ENCODING num", "$3\r\nraw\r\n"},
      {"SET t v EX 100", "+OK\r\n"},
      {"SETRANGE t 0 w", ":1\r\n"},
      {"TTL t", ":100\r\n"},
      {"@list l", "+OK\r\n"},
      {"SETRANGE l 0 x", kWrongType},
      {"SETRANGE l 0 \"\"", kWrongType},
      {"SETRANGE l -1 x", "-ERR offset is out of range\r\n"},
  });
}

// ---------------------------------------------------------------------------
// Counters

TEST_CASE("INCR DECR INCRBY DECRBY", "[string][counter]") {
  CommandRunner r;
  const std::string overflow = "-ERR increment or decrement would overflow\r\n";
  expect_replies(r, {
      {"INCR a", ":1\r\n"},
      {"INCR a", ":2\r\n"},
      {"DECR a", ":1\r\n"},
      {"DECR b", ":-1\r\n"},
      {"INCRBY a 10", ":11\r\n"},
      {"INCRBY a -20", ":-9\r\n"},
      {"DECRBY a -9", ":0\r\n"},
      {"DECRBY a 5", ":-5\r\n"},
      {"GET a", "$2\r\n-5\r\n"},
      {"INCRBY a abc", kNotInt},
      {"INCRBY a 1.5", kNotInt},
      {"INCRBY a -0", kNotInt},
      {"INCRBY a 00", kNotInt},
      {"INCRBY a +1", kNotInt},
      {"INCRBY a 9223372036854775808", kNotInt},
      {"INCRBY a 0", ":-5\r\n"},
      {"@list l", "+OK\r\n"},
      {"INCRBY l abc", kNotInt},
      {"INCR l", kWrongType},
      {"DECRBY l 1", kWrongType},
      {"SET b \" 1\"", "+OK\r\n"},
      {"INCR b", kNotInt},
      {"SET b \"1 \"", "+OK\r\n"},
      {"INCR b", kNotInt},
      {"SET b +1", "+OK\r\n"},
      {"INCR b", kNotInt},
      {"SET b 01", "+OK\r\n"},
      {"INCR b", kNotInt},
      {"SET b -0", "+OK\r\n"},
      {"INCR b", kNotInt},
      {"SET b \"\"", "+OK\r\n"},
      {"INCR b", kNotInt},
      {"SET b 1.5", "+OK\r\n"},
      {"INCR b", kNotInt},
      {"SET b 9223372036854775807", "+OK\r\n"},
      {"INCR b", overflow},
      {"DECRBY b -1", overflow},
      {"INCRBY b 0", ":9223372036854775807\r\n"},
      {"SET b -9223372036854775808", "+OK\r\n"},
      {"DECR b", overflow},
      {"INCRBY b -1", overflow},
      {"INCRBY b 9223372036854775807", ":-1\r\n"},
      {"DECRBY a -9223372036854775808", "-ERR decrement would overflow\r\n"},
      {"INCRBY a -9223372036854775808", overflow},
      {"SET a 5", "+OK\r\n"},
      {"INCRBY a -9223372036854775808", ":-9223372036854775803\r\n"},
      {"DECRBY a 9223372036854775807", overflow},
      {"SET c 10", "+OK\r\n"},
      {"EXPIRE c 100", ":1\r\n"},
      {"INCR c", ":11\r\n"},
      {"TTL c", ":100\r\n"},
      {"SET r x", "+OK\r\n"},
      {"SETRANGE r 0 7", ":1\r\n"},
      {"OBJECT ENCODING r", "$3\r\nraw\r\n"},
      {"INCR r", ":8\r\n"},
      {"OBJECT ENCODING r", "$3\r\nint\r\n"},
  });
}

TEST_CASE("INCRBYFLOAT", "[string][counter]") {
  CommandRunner r;
  const std::string nan_inf = "-ERR increment would produce NaN or Infinity\r\n";
  expect_replies(r, {
      {"INCRBYFLOAT a 10.5", "$4\r\n10.5\r\n"},
      {"INCRBYFLOAT a 0.1", "$4\r\n10.6\r\n"},
      {"INCRBYFLOAT a -5", "$3\r\n5.6\r\n"},
      {"GET a", "$3\r\n5.6\r\n"},
      {"INCRBYFLOAT b 1e20", "$21\r\n100000000000000000000\r\n"},
      {"INCRBYFLOAT c 3.0e3", "$4\r\n3000\r\n"},
      {"INCRBYFLOAT d 5.0e-5", "$7\r\n0.00005\r\n"},
      {"INCRBYFLOAT e 0.1", "$3\r\n0.1\r\n"},
      {"INCRBYFLOAT e 0.2", "$3\r\n0.3\r\n"},
      {"INCRBYFLOAT f inf", nan_inf},
      {"INCRBYFLOAT f -inf", nan_inf},
      {"INCRBYFLOAT f infinity", nan_inf},
      {"INCRBYFLOAT f nan", kNotFloat},
      {"INCRBYFLOAT f \" 1\"", kNotFloat},
      {"INCRBYFLOAT f \"1 \"", kNotFloat},
      {"INCRBYFLOAT f \"\"", kNotFloat},
      {"INCRBYFLOAT f 1e5000", kNotFloat},
      {"INCRBYFLOAT f 1e-5000", kNotFloat},
      {"EXISTS f", ":0\r\n"},
      {"INCRBYFLOAT f 0x10", "$2\r\n16\r\n"},
      {"INCRBYFLOAT i -0.0", "$1\r\n0\r\n"},
      {"INCRBYFLOAT j 1.23456789012345678901", "$19\r\n1.23456789012345679\r\n"},
      {"INCRBYFLOAT k 1e-20", "$1\r\n0\r\n"},
      {"INCRBYFLOAT k -1e-20", "$1\r\n0\r\n"},
      {"INCRBYFLOAT m 123456789012345678", "$18\r\n123456789012345678\r\n"},
      {"INCRBYFLOAT m 1", "$18\r\n123456789012345679\r\n"},
      {"INCRBYFLOAT n 1.1e-17", "$19\r\n0.00000000000000001\r\n"},
      {"INCRBYFLOAT o +5", "$1\r\n5\r\n"},
      {"INCRBYFLOAT o .5", "$3\r\n5.5\r\n"},
      {"INCRBYFLOAT o 5.", "$4\r\n10.5\r\n"},
      {"INCRBYFLOAT p 1e308", "$308\r\n"
                              "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100"
                              "12692188853932044674722505401322315213474959396058359742081443019641876795910001960319"
                              "07786631096045071066679391533957889389145605435630612683649016186302170865892534448816"
                              "23791300855757318142424510452728255046343928578048\r\n"},
      {"SET u abc", "+OK\r\n"},
      {"INCRBYFLOAT u 1", kNotFloat},
      {"SET v \" 1\"", "+OK\r\n"},
      {"INCRBYFLOAT v 1", kNotFloat},
      {"SET w 1", "+OK\r\n"},
      {"INCRBYFLOAT w abc", kNotFloat},
      {"SET w 1e308", "+OK\r\n"},
      {"INCRBYFLOAT w 1e308", "$309\r\n"
                              "19999999999999999999337175931169129132112019969483113441559409598984346973767612374420"
                              "02538437770786408934944501080264463042694991879211671948416288603928375359182000392063"
                              "81557326219209014213335878306791577877829121087126122536729803237260434173178506889763"
                              "247582601711514636284849020905456510092687857156096\r\n"},
      {"@list l", "+OK\r\n"},
      {"INCRBYFLOAT l 1", kWrongType},
      {"INCRBYFLOAT l abc", kWrongType},
      {"SET t 10", "+OK\r\n"},
      {"EXPIRE t 100", ":1\r\n"},
      {"INCRBYFLOAT t 0.5", "$4\r\n10.5\r\n"},
      {"TTL t", ":100\r\n"},
      {"SET h 1", "+OK\r\n"},
      {"INCRBYFLOAT h 1e4933", kNotFloat},
      {"INCRBYFLOAT h 1.2e4932", kNotFloat},
  });
}

// ---------------------------------------------------------------------------
// LCS

TEST_CASE("LCS", "[string][lcs]") {
  CommandRunner r;
  const std::string idx_reply =
      "*4\r\n$7\r\nmatches\r\n*2\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n*2\r\n*2\r\n:2\r\n:3\r\n*2\r\n:0\r\n"
      ":1\r\n$3\r\nlen\r\n:6\r\n";
  expect_replies(r, {
      {"MSET key1 ohmytext key2 mynewtext", "+OK\r\n"},
      {"LCS key1 key2", "$6\r\nmytext\r\n"},
      {"LCS key1 key2 LEN", ":6\r\n"},
      {"LCS key1 key2 len LEN", ":6\r\n"},
      {"LCS key1 key2 IDX", idx_reply},
      {"LCS key1 key2 MINMATCHLEN -5 IDX", idx_reply},
      {"LCS key1 key2 MINMATCHLEN 0 idx", idx_reply},
      {"LCS key1 key2 IDX MINMATCHLEN 4",
       "*4\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n"},
      {"LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN",
       "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n"},
      {"LCS key1 key2 IDX WITHMATCHLEN",
       "*4\r\n$7\r\nmatches\r\n*2\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n*3\r\n*2\r\n:2\r\n:3\r\n*2\r\n"
       ":0\r\n:1\r\n:2\r\n$3\r\nlen\r\n:6\r\n"},
      {"LCS key1 key2 IDX MINMATCHLEN 7", "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:6\r\n"},
      {"LCS key1 key2 LEN IDX", "-ERR If you want both the length and indexes, please just use IDX.\r\n"},
      {"LCS key1 key2 foo", kSyntax},
      {"LCS key1 key2 MINMATCHLEN", kSyntax},
      {"LCS key1 key2 MINMATCHLEN abc", kNotInt},
      {"LCS key1 key2 MINMATCHLEN abc LEN IDX", kNotInt},
      {"LCS key1 key2 WITHMATCHLEN", "$6\r\nmytext\r\n"},
      {"LCS key1 key2 LEN WITHMATCHLEN MINMATCHLEN 3", ":6\r\n"},
      {"LCS key1 nokey", "$0\r\n\r\n"},
      {"LCS nokey key1 LEN", ":0\r\n"},
      {"LCS nokey nokey2 IDX", "*4\r\n$7\r\nmatches\r\n*0\r\n$3\r\nlen\r\n:0\r\n"},
      {"@list l", "+OK\r\n"},
      {"LCS key1 l foo", "-ERR The specified keys must contain string values\r\n"},
      {"LCS l key1", "-ERR The specified keys must contain string values\r\n"},
      {"LCS l nokey LEN", "-ERR The specified keys must contain string values\r\n"},
      {"MSET a abcabcabc b cbacbacba", "+OK\r\n"},
      {"LCS a b", "$5\r\ncbabc\r\n"},
      {"LCS b a", "$5\r\nabcba\r\n"},
      {"LCS a b IDX WITHMATCHLEN",
       "*4\r\n$7\r\nmatches\r\n*5\r\n*3\r\n*2\r\n:8\r\n:8\r\n*2\r\n:6\r\n:6\r\n:1\r\n*3\r\n*2\r\n:7\r\n:7\r\n*2\r\n"
       ":4\r\n:4\r\n:1\r\n*3\r\n*2\r\n:6\r\n:6\r\n*2\r\n:2\r\n:2\r\n:1\r\n*3\r\n*2\r\n:4\r\n:4\r\n*2\r\n:1\r\n:1\r\n"
       ":1\r\n*3\r\n*2\r\n:2\r\n:2\r\n*2\r\n:0\r\n:0\r\n:1\r\n$3\r\nlen\r\n:5\r\n"},
      {"LCS a a IDX WITHMATCHLEN",
       "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:0\r\n:8\r\n*2\r\n:0\r\n:8\r\n:9\r\n$3\r\nlen\r\n:9\r\n"},
      {"MSET x \"GTTCCAGGTACGTAGCATGCA\" y \"AGTGCCTAGGTCCAGTAACGGCATGC\"", "+OK\r\n"},
      {"LCS x y", "$18\r\nGTCCAGGTCGTAGCATGC\r\n"},
      {"LCS x y LEN", ":18\r\n"},
      {"LCS x y IDX MINMATCHLEN 2 WITHMATCHLEN",
       "*4\r\n$7\r\nmatches\r\n*4\r\n*3\r\n*2\r\n:14\r\n:19\r\n*2\r\n:20\r\n:25\r\n:6\r\n*3\r\n*2\r\n:11\r\n"
       ":12\r\n*2\r\n:14\r\n:15\r\n:2\r\n*3\r\n*2\r\n:5\r\n:8\r\n*2\r\n:7\r\n:10\r\n:4\r\n*3\r\n*2\r\n:3\r\n"
       ":4\r\n*2\r\n:4\r\n:5\r\n:2\r\n$3\r\nlen\r\n:18\r\n"},
      {"MSET p \"a\\x00b\" q \"\\x00b\"", "+OK\r\n"},
      {"LCS p q", "$2\r\n\x00"s "b\r\n"},
  });
}

TEST_CASE("LCS memory limit and RESP3", "[string][lcs]") {
  CommandRunner r;
  r.config.proto_max_bulk_len = 1024 * 1024;  // the smallest value CONFIG SET accepts
  r.db().set("a", distcache::storage::Value::string(std::string(511, 'x')));
  r.db().set("b", distcache::storage::Value::string(std::string(511, 'x')));
  // (511+1) * (511+1) * 4 bytes = exactly 1 MiB: allowed.
  CHECK(r.run("LCS a b LEN") == ":511\r\n");
  r.db().set("b", distcache::storage::Value::string(std::string(512, 'x')));
  const std::string too_big = "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n";
  CHECK(r.run("LCS a b LEN") == too_big);
  CHECK(r.run("LCS a b") == too_big);
  CHECK(r.run("LCS a b IDX") == too_big);
  CHECK(r.run("LCS a b IDX LEN") == "-ERR If you want both the length and indexes, please just use IDX.\r\n");

  r.resp_version = 3;
  expect_replies_local(r, {
      {"MSET key1 ohmytext key2 mynewtext", "+OK\r\n"},
      {"LCS key1 key2 IDX MINMATCHLEN 4",
       "%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n$3\r\nlen\r\n:6\r\n"},
      {"GET nokey", "_\r\n"},
  });
}

TEST_CASE("String command arities", "[string][spec]") {
  CommandRunner r;
  auto wrong = [](const char* name) { return "-ERR wrong number of arguments for '" + std::string(name) + "' command\r\n"; };
  expect_replies(r, {
      {"SET k", wrong("set")},
      {"GET", wrong("get")},
      {"GET k extra", wrong("get")},
      {"GETSET k", wrong("getset")},
      {"GETSET k v extra", wrong("getset")},
      {"GETDEL", wrong("getdel")},
      {"GETDEL k extra", wrong("getdel")},
      {"GETEX", wrong("getex")},
      {"MSET k", wrong("mset")},
      {"MSETNX k", wrong("msetnx")},
      {"MGET", wrong("mget")},
      {"SETNX k", wrong("setnx")},
      {"SETNX k v extra", wrong("setnx")},
      {"SETEX k 10", wrong("setex")},
      {"SETEX k 10 v extra", wrong("setex")},
      {"PSETEX k 10", wrong("psetex")},
      {"APPEND k", wrong("append")},
      {"APPEND k v extra", wrong("append")},
      {"STRLEN", wrong("strlen")},
      {"STRLEN k extra", wrong("strlen")},
      {"GETRANGE k 0", wrong("getrange")},
      {"GETRANGE k 0 1 2", wrong("getrange")},
      {"SUBSTR k 0", wrong("substr")},
      {"SETRANGE k 0", wrong("setrange")},
      {"INCR", wrong("incr")},
      {"INCR k 1", wrong("incr")},
      {"DECR", wrong("decr")},
      {"INCRBY k", wrong("incrby")},
      {"INCRBY k 1 2", wrong("incrby")},
      {"DECRBY k", wrong("decrby")},
      {"INCRBYFLOAT k", wrong("incrbyfloat")},
      {"INCRBYFLOAT k 1 2", wrong("incrbyfloat")},
      {"LCS a", wrong("lcs")},
  });
}

TEST_CASE("INCR and INCRBYFLOAT keep the key's access metadata and drop the raw flag", "[string]") {
  // Redis's dbOverwrite keeps the LFU counter (and the lookup has just set
  // the LRU clock): a counter being incremented must not look idle.
  CommandRunner r;
  CHECK(r.run("SET n 5") == "+OK\r\n");
  CHECK(r.run("APPEND n 1") == ":2\r\n");  // "51", now raw
  distcache::storage::Value* v = r.db().find("n", 0);
  REQUIRE(v != nullptr);
  v->set_lfu(1234, 17);
  CHECK(r.run("INCR n") == ":52\r\n");
  v = r.db().find("n", 0);
  REQUIRE(v != nullptr);
  CHECK(v->lfu_time() == 1234);
  CHECK(v->lfu_counter() == 17);
  CHECK(v->lru() == distcache::storage::access::lru_clock());  // set by INCR's own lookup
  CHECK(v->encoding_name() == "int");
  CHECK(r.run("INCRBYFLOAT n 0.5") == "$4\r\n52.5\r\n");
  v = r.db().find("n", 0);
  CHECK(v->lfu_counter() == 17);
  CHECK(v->encoding_name() == "embstr");
}
