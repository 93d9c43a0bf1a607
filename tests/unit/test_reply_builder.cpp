// ReplyBuilder: wire formats of RESP2 and RESP3 replies as redis-server 7.0
// sends them (expected bytes observed on a real server where noted).
#include <catch2/catch.hpp>

#include <cfloat>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "protocol/reply_builder.h"

using distcache::protocol::format_double;
using distcache::protocol::ReplyBuilder;

namespace {

using namespace std::string_literals;

std::string fmt_double(double d) {
  char buf[64];
  size_t n = format_double(d, buf, sizeof(buf));
  return std::string(buf, n);
}

std::string printf_17g(double d) {
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%.17g", d);
  return std::string(buf, static_cast<size_t>(n));
}

// Runs `f` on a fresh builder of the given protocol version; returns the bytes.
template <typename F>
std::string out(int resp, F f) {
  std::string buf;
  ReplyBuilder rb(&buf, resp);
  f(rb);
  return buf;
}

}  // namespace

TEST_CASE("simple strings and errors", "[reply_builder]") {
  for (int resp : {2, 3}) {
    CHECK(out(resp, [](auto& rb) { rb.ok(); }) == "+OK\r\n");
    CHECK(out(resp, [](auto& rb) { rb.simple("PONG"); }) == "+PONG\r\n");
    CHECK(out(resp, [](auto& rb) { rb.simple(""); }) == "+\r\n");
    // CR/LF would break the framing: Redis sends spaces instead
    // (observed: redis.status_reply('my\r\nst') -> "+my  st").
    CHECK(out(resp, [](auto& rb) { rb.simple("my\r\nst"); }) == "+my  st\r\n");
    CHECK(out(resp, [](auto& rb) { rb.error("ERR syntax error"); }) == "-ERR syntax error\r\n");
    CHECK(out(resp, [](auto& rb) {
            rb.error("WRONGTYPE Operation against a key holding the wrong kind of value");
          }) == "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    // Observed: "-ERR unknown command 'a b', ..." for a command named "a\nb".
    CHECK(out(resp, [](auto& rb) { rb.error("ERR unknown command 'a\nb'"); }) == "-ERR unknown command 'a b'\r\n");
    CHECK(out(resp, [](auto& rb) { rb.error("ERR my\r\nerr"); }) == "-ERR my  err\r\n");
    CHECK(out(resp, [](auto& rb) { rb.error("ERR \r\r\n\n"); }) == "-ERR     \r\n");
    // Other bytes, NUL included, pass through.
    CHECK(out(resp, [](auto& rb) { rb.error("ERR a\0b\xff"s); }) == "-ERR a\0b\xff\r\n"s);
    CHECK(out(resp, [](auto& rb) { rb.error(""); }) == "-\r\n");
  }
}

TEST_CASE("integers", "[reply_builder]") {
  for (int resp : {2, 3}) {
    CHECK(out(resp, [](auto& rb) { rb.integer(0); }) == ":0\r\n");
    CHECK(out(resp, [](auto& rb) { rb.integer(1); }) == ":1\r\n");
    CHECK(out(resp, [](auto& rb) { rb.integer(-1); }) == ":-1\r\n");
    CHECK(out(resp, [](auto& rb) { rb.integer(1234567890); }) == ":1234567890\r\n");
    CHECK(out(resp, [](auto& rb) { rb.integer(INT64_MAX); }) == ":9223372036854775807\r\n");
    CHECK(out(resp, [](auto& rb) { rb.integer(INT64_MIN); }) == ":-9223372036854775808\r\n");
  }
  // Matches printf for many values.
  std::mt19937_64 rng(42);
  std::string buf;
  ReplyBuilder rb(&buf);
  for (int i = 0; i < 10000; ++i) {
    int64_t v = static_cast<int64_t>(rng()) >> (rng() % 64);
    buf.clear();
    rb.integer(v);
    char expect[40];
    std::snprintf(expect, sizeof(expect), ":%" PRId64 "\r\n", v);
    REQUIRE(buf == expect);
  }
}

TEST_CASE("bulk strings and nulls", "[reply_builder]") {
  for (int resp : {2, 3}) {
    CHECK(out(resp, [](auto& rb) { rb.bulk("hello"); }) == "$5\r\nhello\r\n");
    CHECK(out(resp, [](auto& rb) { rb.bulk(""); }) == "$0\r\n\r\n");
    CHECK(out(resp, [](auto& rb) { rb.bulk("a\0\r\nb"s); }) == "$5\r\na\0\r\nb\r\n"s);
    std::string big(100000, 'x');
    CHECK(out(resp, [&](auto& rb) { rb.bulk(big); }) == "$100000\r\n" + big + "\r\n");
  }
  CHECK(out(2, [](auto& rb) { rb.null_bulk(); }) == "$-1\r\n");
  CHECK(out(2, [](auto& rb) { rb.null_array(); }) == "*-1\r\n");
  // Observed with HELLO 3: GET of a missing key -> "_".
  CHECK(out(3, [](auto& rb) { rb.null_bulk(); }) == "_\r\n");
  CHECK(out(3, [](auto& rb) { rb.null_array(); }) == "_\r\n");
}

TEST_CASE("aggregate headers in RESP2 and RESP3", "[reply_builder]") {
  CHECK(out(2, [](auto& rb) { rb.array(3); }) == "*3\r\n");
  CHECK(out(3, [](auto& rb) { rb.array(3); }) == "*3\r\n");
  CHECK(out(2, [](auto& rb) { rb.array(0); }) == "*0\r\n");
  CHECK(out(2, [](auto& rb) { rb.empty_array(); }) == "*0\r\n");
  CHECK(out(3, [](auto& rb) { rb.empty_array(); }) == "*0\r\n");
  CHECK(out(2, [](auto& rb) { rb.array(1000000); }) == "*1000000\r\n");
  // Maps: RESP3 %n, RESP2 a flat array of 2n (observed: HGETALL of a missing key -> "%0").
  CHECK(out(3, [](auto& rb) { rb.map(2); }) == "%2\r\n");
  CHECK(out(2, [](auto& rb) { rb.map(2); }) == "*4\r\n");
  CHECK(out(3, [](auto& rb) { rb.map(0); }) == "%0\r\n");
  CHECK(out(2, [](auto& rb) { rb.map(0); }) == "*0\r\n");
  // Sets and pushes: RESP3 ~n / >n, RESP2 arrays (observed: SMEMBERS -> "~0").
  CHECK(out(3, [](auto& rb) { rb.set(5); }) == "~5\r\n");
  CHECK(out(2, [](auto& rb) { rb.set(5); }) == "*5\r\n");
  CHECK(out(3, [](auto& rb) { rb.push(3); }) == ">3\r\n");
  CHECK(out(2, [](auto& rb) { rb.push(3); }) == "*3\r\n");
  // A whole nested reply.
  CHECK(out(3, [](auto& rb) {
          rb.map(1);
          rb.bulk("k");
          rb.set(2);
          rb.integer(1);
          rb.null_bulk();
        }) == "%1\r\n$1\r\nk\r\n~2\r\n:1\r\n_\r\n");
  CHECK(out(2, [](auto& rb) {
          rb.map(1);
          rb.bulk("k");
          rb.set(2);
          rb.integer(1);
          rb.null_bulk();
        }) == "*2\r\n$1\r\nk\r\n*2\r\n:1\r\n$-1\r\n");
}

TEST_CASE("booleans, verbatim strings, big numbers", "[reply_builder]") {
  CHECK(out(3, [](auto& rb) { rb.boolean(true); }) == "#t\r\n");
  CHECK(out(3, [](auto& rb) { rb.boolean(false); }) == "#f\r\n");
  CHECK(out(2, [](auto& rb) { rb.boolean(true); }) == ":1\r\n");
  CHECK(out(2, [](auto& rb) { rb.boolean(false); }) == ":0\r\n");

  CHECK(out(3, [](auto& rb) { rb.verbatim("hello"); }) == "=9\r\ntxt:hello\r\n");
  CHECK(out(3, [](auto& rb) { rb.verbatim("# Server\r\nx:1\r\n", "txt"); }) ==
        "=19\r\ntxt:# Server\r\nx:1\r\n\r\n");
  CHECK(out(3, [](auto& rb) { rb.verbatim("*bold*", "mkd"); }) == "=10\r\nmkd:*bold*\r\n");
  CHECK(out(3, [](auto& rb) { rb.verbatim(""); }) == "=4\r\ntxt:\r\n");
  // The format field is always three characters; anything else falls back to txt.
  CHECK(out(3, [](auto& rb) { rb.verbatim("x", "markdown"); }) == "=5\r\ntxt:x\r\n");
  CHECK(out(2, [](auto& rb) { rb.verbatim("hello"); }) == "$5\r\nhello\r\n");
  CHECK(out(2, [](auto& rb) { rb.verbatim("hello", "mkd"); }) == "$5\r\nhello\r\n");

  CHECK(out(3, [](auto& rb) { rb.big_number("1234567890123456789012345678901234567890"); }) ==
        "(1234567890123456789012345678901234567890\r\n");
  CHECK(out(3, [](auto& rb) { rb.big_number("-5"); }) == "(-5\r\n");
  CHECK(out(2, [](auto& rb) { rb.big_number("1234567890123456789012345678901234567890"); }) ==
        "$40\r\n1234567890123456789012345678901234567890\r\n");
}

TEST_CASE("format_double is %.17g as redis 7.0 replies", "[reply_builder]") {
  // Observed with ZADD/ZSCORE on redis-server 7.0.15.
  CHECK(fmt_double(0.1) == "0.10000000000000001");
  CHECK(fmt_double(1e308) == "1e+308");
  CHECK(fmt_double(0.0) == "0");
  CHECK(fmt_double(-0.0) == "-0");  // skiplist-encoded ZSCORE of -0 -> ",-0"
  CHECK(fmt_double(3) == "3");
  CHECK(fmt_double(1.5) == "1.5");
  CHECK(fmt_double(1e-320) == "9.9998886718268301e-321");
  CHECK(fmt_double(123456789012345678.0) == "1.2345678901234568e+17");
  CHECK(fmt_double(-2.5e-5) == "-2.5000000000000001e-05");
  CHECK(fmt_double(1e16) == "10000000000000000");
  CHECK(fmt_double(1e17) == "1e+17");
  CHECK(fmt_double(1e20) == "1e+20");
  CHECK(fmt_double(0.30000000000000004) == "0.30000000000000004");
  CHECK(fmt_double(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(fmt_double(-std::numeric_limits<double>::infinity()) == "-inf");
  CHECK(fmt_double(DBL_MAX) == "1.7976931348623157e+308");
  CHECK(fmt_double(-DBL_MAX) == "-1.7976931348623157e+308");
  CHECK(fmt_double(DBL_MIN) == "2.2250738585072014e-308");
  CHECK(fmt_double(std::numeric_limits<double>::denorm_min()) == "4.9406564584124654e-324");
  CHECK(fmt_double(-1) == "-1");
  CHECK(fmt_double(100) == "100");
  CHECK(fmt_double(9007199254740993.0) == "9007199254740992");
  // Every NaN is "nan" (printf would print "-nan" for a sign-bit NaN).
  CHECK(fmt_double(std::nan("")) == "nan");
  CHECK(fmt_double(-std::nan("")) == "nan");
  volatile double zero = 0.0;
  CHECK(fmt_double(zero / zero) == "nan");
  // Too small a buffer: nothing written.
  char small[4];
  CHECK(format_double(0.1, small, sizeof(small)) == 0);
  CHECK(format_double(-std::numeric_limits<double>::infinity(), small, 3) == 0);
  CHECK(format_double(-std::numeric_limits<double>::infinity(), small, 4) == 4);
  // Longest output fits in 24 characters.
  char exact[24];
  CHECK(format_double(-1.7976931348623157e+308, exact, sizeof(exact)) == 24);
  CHECK(format_double(-2.2250738585072014e-308, exact, sizeof(exact)) == 24);
}

TEST_CASE("format_double agrees with printf %.17g on random doubles", "[reply_builder]") {
  std::mt19937_64 rng(2024);
  for (int i = 0; i < 200000; ++i) {
    uint64_t bits = rng();
    double d;
    std::memcpy(&d, &bits, sizeof(d));
    if (std::isnan(d)) continue;
    REQUIRE(fmt_double(d) == printf_17g(d));
  }
  std::uniform_real_distribution<double> u(-1e6, 1e6);
  for (int i = 0; i < 100000; ++i) {
    double d = u(rng);
    REQUIRE(fmt_double(d) == printf_17g(d));
    double r = std::round(d);
    REQUIRE(fmt_double(r) == printf_17g(r));
  }
}

TEST_CASE("double replies", "[reply_builder]") {
  // Observed: ZSCORE in RESP2 and after HELLO 3.
  CHECK(out(2, [](auto& rb) { rb.double_value(0.1); }) == "$19\r\n0.10000000000000001\r\n");
  CHECK(out(3, [](auto& rb) { rb.double_value(0.1); }) == ",0.10000000000000001\r\n");
  CHECK(out(2, [](auto& rb) { rb.double_value(3); }) == "$1\r\n3\r\n");
  CHECK(out(3, [](auto& rb) { rb.double_value(3); }) == ",3\r\n");
  CHECK(out(2, [](auto& rb) { rb.double_value(1e308); }) == "$6\r\n1e+308\r\n");
  CHECK(out(3, [](auto& rb) { rb.double_value(1e308); }) == ",1e+308\r\n");
  CHECK(out(2, [](auto& rb) { rb.double_value(-0.0); }) == "$2\r\n-0\r\n");
  CHECK(out(3, [](auto& rb) { rb.double_value(-0.0); }) == ",-0\r\n");
  const double inf = std::numeric_limits<double>::infinity();
  CHECK(out(2, [&](auto& rb) { rb.double_value(inf); }) == "$3\r\ninf\r\n");
  CHECK(out(2, [&](auto& rb) { rb.double_value(-inf); }) == "$4\r\n-inf\r\n");
  CHECK(out(3, [&](auto& rb) { rb.double_value(inf); }) == ",inf\r\n");
  CHECK(out(3, [&](auto& rb) { rb.double_value(-inf); }) == ",-inf\r\n");
  CHECK(out(2, [](auto& rb) { rb.double_value(std::nan("")); }) == "$3\r\nnan\r\n");
  CHECK(out(3, [](auto& rb) { rb.double_value(std::nan("")); }) == ",nan\r\n");
  CHECK(out(2, [](auto& rb) { rb.double_value(-1.7976931348623157e+308); }) ==
        "$24\r\n-1.7976931348623157e+308\r\n");
}

TEST_CASE("deferred lengths", "[reply_builder]") {
  SECTION("array") {
    for (int resp : {2, 3}) {
      std::string buf = "+before\r\n";
      ReplyBuilder rb(&buf, resp);
      size_t t = rb.begin_deferred();
      CHECK(t == 9);
      rb.bulk("a");
      rb.integer(2);
      rb.end_deferred_array(t, 2);
      CHECK(buf == "+before\r\n*2\r\n$1\r\na\r\n:2\r\n");
    }
  }
  SECTION("empty") {
    CHECK(out(2, [](auto& rb) { rb.end_deferred_array(rb.begin_deferred(), 0); }) == "*0\r\n");
    CHECK(out(3, [](auto& rb) { rb.end_deferred_map(rb.begin_deferred(), 0); }) == "%0\r\n");
    CHECK(out(2, [](auto& rb) { rb.end_deferred_map(rb.begin_deferred(), 0); }) == "*0\r\n");
    CHECK(out(3, [](auto& rb) { rb.end_deferred_set(rb.begin_deferred(), 0); }) == "~0\r\n");
  }
  SECTION("map and set degrade in RESP2") {
    auto write = [](ReplyBuilder& rb) {
      size_t m = rb.begin_deferred();
      rb.bulk("f");
      rb.bulk("v");
      rb.bulk("g");
      rb.bulk("w");
      rb.end_deferred_map(m, 2);
      size_t s = rb.begin_deferred();
      rb.bulk("x");
      rb.end_deferred_set(s, 1);
    };
    CHECK(out(3, write) == "%2\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n$1\r\nw\r\n~1\r\n$1\r\nx\r\n");
    CHECK(out(2, write) == "*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n$1\r\nw\r\n*1\r\n$1\r\nx\r\n");
  }
  SECTION("nested, ended innermost first") {
    auto write = [](ReplyBuilder& rb) {
      size_t outer = rb.begin_deferred();
      rb.bulk("k1");
      size_t inner = rb.begin_deferred();
      rb.integer(1);
      rb.integer(2);
      rb.integer(3);
      rb.end_deferred_array(inner, 3);
      rb.bulk("k2");
      size_t inner2 = rb.begin_deferred();
      rb.end_deferred_set(inner2, 0);
      rb.end_deferred_map(outer, 2);
    };
    CHECK(out(3, write) == "%2\r\n$2\r\nk1\r\n*3\r\n:1\r\n:2\r\n:3\r\n$2\r\nk2\r\n~0\r\n");
    CHECK(out(2, write) == "*4\r\n$2\r\nk1\r\n*3\r\n:1\r\n:2\r\n:3\r\n$2\r\nk2\r\n*0\r\n");
  }
  SECTION("large counts and a large body") {
    std::string buf;
    ReplyBuilder rb(&buf);
    size_t t = rb.begin_deferred();
    for (int i = 0; i < 100000; ++i) rb.integer(i);
    rb.end_deferred_array(t, 100000);
    CHECK(buf.substr(0, 12) == "*100000\r\n:0\r");
    std::string expect = "*100000\r\n";
    for (int i = 0; i < 100000; ++i) expect += ":" + std::to_string(i) + "\r\n";
    CHECK(buf == expect);
  }
}

TEST_CASE("buffer and protocol switching", "[reply_builder]") {
  std::string a, b;
  ReplyBuilder rb(&a);
  CHECK(rb.resp() == 2);
  CHECK(rb.buffer() == &a);
  rb.null_bulk();
  rb.set_resp(3);
  CHECK(rb.resp() == 3);
  rb.null_bulk();
  rb.set_buffer(&b);
  rb.boolean(true);
  rb.raw("+RAW\r\n");
  CHECK(a == "$-1\r\n_\r\n");
  CHECK(b == "#t\r\n+RAW\r\n");
  // Appends, never overwrites what the buffer held.
  std::string c = "xyz";
  ReplyBuilder rc(&c, 3);
  rc.ok();
  CHECK(c == "xyz+OK\r\n");
}
