// Set command handlers. The expected bytes of every expect_replies block were
// captured from redis-server 7.0.15 by replaying the block on an empty
// database (blocks whose replies depend on the set's hash order use single-
// member hashtables or intsets, whose order is ascending as in Redis);
// expect_replies_local blocks and the randomised checks depend on the
// runner's configuration or on randomness and were checked against the same
// server by hand.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "server/command_table.h"
#include "storage/set_value.h"
#include "tests/unit/command_test_util.h"

using distcache::test::CommandRunner;
using distcache::test::expect_replies;
using distcache::test::expect_replies_local;
namespace resp = distcache::test::resp;
namespace server = distcache::server;

namespace {

// Concatenation without operator+ on temporaries (GCC 12 warns spuriously
// about those with -Wrestrict).
template <class... T>
std::string cat(const T&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}

CommandRunner set_runner() {
  return CommandRunner({server::set_command_specs, server::string_command_specs, server::key_command_specs});
}

// A minimal RESP reader for the replies the tests take apart: integers, bulk
// strings and (nested) arrays or sets. Elements are flattened in order.
struct Reader {
  std::string_view in;
  size_t pos = 0;
  std::string line() {
    const size_t e = in.find("\r\n", pos);
    REQUIRE(e != std::string_view::npos);
    std::string l(in.substr(pos, e - pos));
    pos = e + 2;
    return l;
  }
  void read(std::vector<std::string>& out) {
    const std::string l = line();
    REQUIRE(!l.empty());
    const char t = l[0];
    if (t == '*' || t == '~') {
      const long n = std::stol(l.substr(1));
      for (long i = 0; i < n; ++i) read(out);
    } else if (t == '$') {
      const long n = std::stol(l.substr(1));
      REQUIRE(n >= 0);
      out.emplace_back(in.substr(pos, static_cast<size_t>(n)));
      pos += static_cast<size_t>(n) + 2;
    } else if (t == ':') {
      out.push_back(l.substr(1));
    } else {
      FAIL("unexpected reply: " << l);
    }
  }
};

std::vector<std::string> elements(const std::string& reply) {
  Reader r{reply};
  std::vector<std::string> out;
  r.read(out);
  CHECK(r.pos == reply.size());
  return out;
}

std::string encoding(CommandRunner& r, std::string_view key) {
  const std::vector<std::string> e = elements(r.run(cat("OBJECT ENCODING ", key)));
  return e.empty() ? "" : e[0];
}

// "SADD key from from+1 ... to-1"
std::string sadd_range(std::string_view key, int from, int to, std::string_view prefix = "") {
  std::string line = cat("SADD ", key);
  for (int i = from; i < to; ++i) line += cat(" ", prefix, std::to_string(i));
  return line;
}

}  // namespace

TEST_CASE("set commands: SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS", "[set]") {
  CommandRunner r = set_runner();
  expect_replies(r, {
      {"SADD s 3 1 2", ":3\r\n"},
      {"SADD s 2 3 4", ":1\r\n"},
      {"SCARD s", ":4\r\n"},
      {"SMEMBERS s", "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"},
      {"SISMEMBER s 2", ":1\r\n"},
      {"SISMEMBER s 5", ":0\r\n"},
      {"SISMEMBER s 02", ":0\r\n"},
      {"SMISMEMBER s 1 5 4 \"\" 1", "*5\r\n:1\r\n:0\r\n:1\r\n:0\r\n:1\r\n"},
      {"SMISMEMBER nokey a b", "*2\r\n:0\r\n:0\r\n"},
      {"SREM s 1 9 2", ":2\r\n"},
      {"SMEMBERS s", "*2\r\n$1\r\n3\r\n$1\r\n4\r\n"},
      {"SREM s 3 4 5", ":2\r\n"},
      {"EXISTS s", ":0\r\n"},
      {"SCARD s", ":0\r\n"},
      {"SMEMBERS s", "*0\r\n"},
      {"SISMEMBER nokey a", ":0\r\n"},
      {"SREM nokey a", ":0\r\n"},
      {"SADD h \"\" \"\\x00\" \"a b\" \"\\r\\n\"", ":4\r\n"},
      {"SCARD h", ":4\r\n"},
      {"SISMEMBER h \"\"", ":1\r\n"},
      {"SISMEMBER h \"\\x00\"", ":1\r\n"},
      {"SISMEMBER h \"\\x00x\"", ":0\r\n"},
      {"SREM h \"\" \"\\x00\" \"a b\"", ":3\r\n"},
      {"SMEMBERS h", "*1\r\n$2\r\n\r\n\r\n"},
  });
}

TEST_CASE("set commands: integers and the intset encoding", "[set]") {
  CommandRunner r = set_runner();
  expect_replies(r, {
      {"SADD s 5 -3 100000 -40000 9223372036854775807 -9223372036854775808 0", ":7\r\n"},
      {"SMEMBERS s", "*7\r\n$20\r\n-9223372036854775808\r\n$6\r\n-40000\r\n$2\r\n-3\r\n$1\r\n0\r\n$1\r\n5\r\n$6\r\n100000\r\n$19\r\n9223372036854775807\r\n"},
      {"OBJECT ENCODING s", "$6\r\nintset\r\n"},
      {"SISMEMBER s -0", ":0\r\n"},
      {"SISMEMBER s +5", ":0\r\n"},
      {"SISMEMBER s 05", ":0\r\n"},
      {"SISMEMBER s 9223372036854775808", ":0\r\n"},
      {"SADD s 007", ":1\r\n"},
      {"OBJECT ENCODING s", "$9\r\nhashtable\r\n"},
      {"SISMEMBER s 7", ":0\r\n"},
      {"SISMEMBER s 007", ":1\r\n"},
      {"SCARD s", ":8\r\n"},
      {"SADD i -0", ":1\r\n"},
      {"OBJECT ENCODING i", "$9\r\nhashtable\r\n"},
      {"SADD j 1 \" 2\"", ":2\r\n"},
      {"OBJECT ENCODING j", "$9\r\nhashtable\r\n"},
      {"SADD k 1 1.0", ":2\r\n"},
      {"OBJECT ENCODING k", "$9\r\nhashtable\r\n"},
      {"SADD l 12345678901234567890", ":1\r\n"},
      {"OBJECT ENCODING l", "$9\r\nhashtable\r\n"},
      {"SADD m a", ":1\r\n"},
      {"OBJECT ENCODING m", "$9\r\nhashtable\r\n"},
      {"SREM m a", ":1\r\n"},
      {"SADD m 1", ":1\r\n"},
      {"OBJECT ENCODING m", "$6\r\nintset\r\n"},
  });
}

TEST_CASE("set commands: WRONGTYPE", "[set]") {
  CommandRunner r = set_runner();
  expect_replies(r, {
      {"SET str x", "+OK\r\n"},
      {"SADD str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SREM str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SMEMBERS str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SISMEMBER str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SMISMEMBER str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SCARD str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SPOP str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SPOP str 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SPOP str -1", "-ERR value is out of range, must be positive\r\n"},
      {"SRANDMEMBER str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SRANDMEMBER str 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SRANDMEMBER str -5", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SMOVE str s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SADD s a", ":1\r\n"},
      {"SMOVE s str a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SMOVE nokey str a", ":0\r\n"},
      {"SINTER s str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SINTER nokey str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SINTER str nokey", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SUNION s str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SUNION nokey str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SDIFF nokey str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SDIFF s str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SINTERSTORE d nokey str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SUNIONSTORE d s str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SDIFFSTORE d s str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SINTERCARD 2 nokey str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SSCAN str 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"SSCAN str abc", "-ERR invalid cursor\r\n"},
      {"SSCAN str 0 COUNT 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"GET str", "$1\r\nx\r\n"},
  });
}

TEST_CASE("set commands: arity", "[set]") {
  CommandRunner r = set_runner();
  expect_replies(r, {
      {"SADD s", "-ERR wrong number of arguments for 'sadd' command\r\n"},
      {"SREM s", "-ERR wrong number of arguments for 'srem' command\r\n"},
      {"SMEMBERS", "-ERR wrong number of arguments for 'smembers' command\r\n"},
      {"SMEMBERS s x", "-ERR wrong number of arguments for 'smembers' command\r\n"},
      {"SISMEMBER s", "-ERR wrong number of arguments for 'sismember' command\r\n"},
      {"SMISMEMBER s", "-ERR wrong number of arguments for 'smismember' command\r\n"},
      {"SCARD", "-ERR wrong number of arguments for 'scard' command\r\n"},
      {"SPOP", "-ERR wrong number of arguments for 'spop' command\r\n"},
      {"SPOP s 1 2", "-ERR syntax error\r\n"},
      {"SRANDMEMBER", "-ERR wrong number of arguments for 'srandmember' command\r\n"},
      {"SRANDMEMBER s 1 2", "-ERR syntax error\r\n"},
      {"SMOVE a b", "-ERR wrong number of arguments for 'smove' command\r\n"},
      {"SINTER", "-ERR wrong number of arguments for 'sinter' command\r\n"},
      {"SUNION", "-ERR wrong number of arguments for 'sunion' command\r\n"},
      {"SDIFF", "-ERR wrong number of arguments for 'sdiff' command\r\n"},
      {"SINTERSTORE d", "-ERR wrong number of arguments for 'sinterstore' command\r\n"},
      {"SUNIONSTORE d", "-ERR wrong number of arguments for 'sunionstore' command\r\n"},
      {"SDIFFSTORE d", "-ERR wrong number of arguments for 'sdiffstore' command\r\n"},
      {"SINTERCARD 1", "-ERR wrong number of arguments for 'sintercard' command\r\n"},
      {"SSCAN s", "-ERR wrong number of arguments for 'sscan' command\r\n"},
  });
}

TEST_CASE("set commands: SPOP and SRANDMEMBER edge cases", "[set]") {
  CommandRunner r = set_runner();
  expect_replies(r, {
      {"SADD s 1 2 3", ":3\r\n"},
      {"SPOP nokey", "$-1\r\n"},
      {"SPOP nokey 3", "*0\r\n"},
      {"SPOP nokey abc", "-ERR value is out of range, must be positive\r\n"},
      {"SPOP s -1", "-ERR value is out of range, must be positive\r\n"},
      {"SPOP s abc", "-ERR value is out of range, must be positive\r\n"},
      {"SPOP s 1.5", "-ERR value is out of range, must be positive\r\n"},
      {"SPOP s 9223372036854775808", "-ERR value is out of range, must be positive\r\n"},
      {"SPOP s 0", "*0\r\n"},
      {"SRANDMEMBER nokey", "$-1\r\n"},
      {"SRANDMEMBER nokey 5", "*0\r\n"},
      {"SRANDMEMBER nokey -5", "*0\r\n"},
      {"SRANDMEMBER nokey abc", "-ERR value is not an integer or out of range\r\n"},
      {"SRANDMEMBER s abc", "-ERR value is not an integer or out of range\r\n"},
      {"SRANDMEMBER s 1.5", "-ERR value is not an integer or out of range\r\n"},
      {"SRANDMEMBER s 9223372036854775808", "-ERR value is not an integer or out of range\r\n"},
      {"SRANDMEMBER s -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"},
      {"SRANDMEMBER s 0", "*0\r\n"},
      {"SRANDMEMBER s 3", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
      {"SRANDMEMBER s 99", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
      {"SRANDMEMBER s 9223372036854775807", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
      {"SCARD s", ":3\r\n"},
      {"SPOP s 3", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
      {"EXISTS s", ":0\r\n"},
      {"SADD t 7", ":1\r\n"},
      {"SRANDMEMBER t", "$1\r\n7\r\n"},
      {"SRANDMEMBER t -3", "*3\r\n$1\r\n7\r\n$1\r\n7\r\n$1\r\n7\r\n"},
      {"SRANDMEMBER t 1", "*1\r\n$1\r\n7\r\n"},
      {"SPOP t 100", "*1\r\n$1\r\n7\r\n"},
      {"EXISTS t", ":0\r\n"},
      {"SADD u x", ":1\r\n"},
      {"SPOP u", "$1\r\nx\r\n"},
      {"EXISTS u", ":0\r\n"},
      {"SPOP u", "$-1\r\n"},
  });
}

TEST_CASE("set commands: SMOVE", "[set]") {
  CommandRunner r = set_runner();
  expect_replies(r, {
      {"SADD a 1 2 3", ":3\r\n"},
      {"SADD b x", ":1\r\n"},
      {"SMOVE a b 1", ":1\r\n"},
      {"SMEMBERS a", "*2\r\n$1\r\n2\r\n$1\r\n3\r\n"},
      {"SCARD b", ":2\r\n"},
      {"SISMEMBER b 1", ":1\r\n"},
      {"OBJECT ENCODING b", "$9\r\nhashtable\r\n"},
      {"SMOVE a b 9", ":0\r\n"},
      {"SMOVE a a 2", ":1\r\n"},
      {"SMOVE a a 9", ":0\r\n"},
      {"SMOVE nokey b 1", ":0\r\n"},
      {"SMOVE a c 2", ":1\r\n"},
      {"SMEMBERS c", "*1\r\n$1\r\n2\r\n"},
      {"OBJECT ENCODING c", "$6\r\nintset\r\n"},
      {"SMOVE a c 3", ":1\r\n"},
      {"EXISTS a", ":0\r\n"},
      {"SMEMBERS c", "*2\r\n$1\r\n2\r\n$1\r\n3\r\n"},
      {"SMOVE b c x", ":1\r\n"},
      {"OBJECT ENCODING c", "$9\r\nhashtable\r\n"},
      {"EXISTS b", ":1\r\n"},
      {"SADD a 5", ":1\r\n"},
      {"SMOVE a c 2", ":0\r\n"},
      {"SMEMBERS a", "*1\r\n$1\r\n5\r\n"},
      {"SCARD c", ":3\r\n"},
  });
}

TEST_CASE("set commands: SINTER SUNION SDIFF", "[set]") {
  CommandRunner r = set_runner();
  expect_replies(r, {
      {"SADD a 1 2 3 4 5", ":5\r\n"},
      {"SADD b 2 4 6", ":3\r\n"},
      {"SADD c 4 5 6 2", ":4\r\n"},
      {"SINTER a b", "*2\r\n$1\r\n2\r\n$1\r\n4\r\n"},
      {"SINTER a b c", "*2\r\n$1\r\n2\r\n$1\r\n4\r\n"},
      {"SINTER a nokey", "*0\r\n"},
      {"SINTER nokey", "*0\r\n"},
      {"SINTER a a", "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"},
      {"SUNION a b", "*6\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n"},
      {"SUNION a nokey b", "*6\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n"},
      {"SUNION nokey", "*0\r\n"},
      {"SDIFF a b", "*3\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n5\r\n"},
      {"SDIFF a b c", "*2\r\n$1\r\n1\r\n$1\r\n3\r\n"},
      {"SDIFF a nokey", "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"},
      {"SDIFF nokey a", "*0\r\n"},
      {"SDIFF a a", "*0\r\n"},
      {"SDIFF b", "*3\r\n$1\r\n2\r\n$1\r\n4\r\n$1\r\n6\r\n"},
      {"SINTERCARD 2 a b", ":2\r\n"},
      {"SINTERCARD 3 a b c", ":2\r\n"},
      {"SINTERCARD 2 a nokey", ":0\r\n"},
      {"SINTERCARD 1 a LIMIT 2", ":2\r\n"},
      {"SINTERCARD 1 a LIMIT 0", ":5\r\n"},
      {"SINTERCARD 1 a limit 1 LIMIT 9", ":5\r\n"},
  });
}

TEST_CASE("set commands: STORE forms", "[set]") {
  CommandRunner r = set_runner();
  expect_replies(r, {
      {"SADD a 1 2 3", ":3\r\n"},
      {"SADD b 3 4", ":2\r\n"},
      {"SET d x", "+OK\r\n"},
      {"EXPIRE d 1000", ":1\r\n"},
      {"SINTERSTORE d a b", ":1\r\n"},
      {"TTL d", ":-1\r\n"},
      {"TYPE d", "+set\r\n"},
      {"SMEMBERS d", "*1\r\n$1\r\n3\r\n"},
      {"OBJECT ENCODING d", "$6\r\nintset\r\n"},
      {"SUNIONSTORE d a b", ":4\r\n"},
      {"SMEMBERS d", "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"},
      {"SDIFFSTORE d a b", ":2\r\n"},
      {"SMEMBERS d", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
      {"SDIFFSTORE d a a", ":0\r\n"},
      {"EXISTS d", ":0\r\n"},
      {"SADD d 1", ":1\r\n"},
      {"SINTERSTORE d a nokey", ":0\r\n"},
      {"EXISTS d", ":0\r\n"},
      {"SADD d 1", ":1\r\n"},
      {"SUNIONSTORE d nokey", ":0\r\n"},
      {"EXISTS d", ":0\r\n"},
      {"SUNIONSTORE a a b", ":4\r\n"},
      {"SMEMBERS a", "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"},
      {"SINTERSTORE a a b", ":2\r\n"},
      {"SMEMBERS a", "*2\r\n$1\r\n3\r\n$1\r\n4\r\n"},
      {"SDIFFSTORE b b a", ":0\r\n"},
      {"SMEMBERS b", "*0\r\n"},
      {"SADD e x", ":1\r\n"},
      {"SUNIONSTORE f a e", ":3\r\n"},
      {"OBJECT ENCODING f", "$9\r\nhashtable\r\n"},
      {"SCARD f", ":3\r\n"},
      {"SADD g 1 2", ":2\r\n"},
      {"EXPIRE g 1000", ":1\r\n"},
      {"SUNIONSTORE g g", ":2\r\n"},
      {"TTL g", ":-1\r\n"},
  });
}

TEST_CASE("set commands: SINTERCARD errors", "[set]") {
  CommandRunner r = set_runner();
  expect_replies(r, {
      {"SADD s 1 2 3", ":3\r\n"},
      {"SINTERCARD 0 s", "-ERR numkeys should be greater than 0\r\n"},
      {"SINTERCARD -1 s", "-ERR numkeys should be greater than 0\r\n"},
      {"SINTERCARD abc s", "-ERR numkeys should be greater than 0\r\n"},
      {"SINTERCARD 9223372036854775808 s", "-ERR numkeys should be greater than 0\r\n"},
      {"SINTERCARD 2 s", "-ERR Number of keys can't be greater than number of args\r\n"},
      {"SINTERCARD 2147483648 s", "-ERR Number of keys can't be greater than number of args\r\n"},
      {"SINTERCARD 1 s LIMIT", "-ERR syntax error\r\n"},
      {"SINTERCARD 1 s LIMIT -1", "-ERR LIMIT can't be negative\r\n"},
      {"SINTERCARD 1 s LIMIT abc", "-ERR LIMIT can't be negative\r\n"},
      {"SINTERCARD 1 s LIMIT 1.5", "-ERR LIMIT can't be negative\r\n"},
      {"SINTERCARD 1 s FOO", "-ERR syntax error\r\n"},
      {"SINTERCARD 1 s FOO 1", "-ERR syntax error\r\n"},
      {"SINTERCARD 1 s LIMIT 9223372036854775807", ":3\r\n"},
      {"SINTERCARD 2 s s", ":3\r\n"},
  });
}

TEST_CASE("set commands: SSCAN", "[set]") {
  CommandRunner r = set_runner();
  expect_replies(r, {
      {"SADD s 3 1 2 10", ":4\r\n"},
      {"SSCAN s 0", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"},
      {"SSCAN s 123", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"},
      {"SSCAN s -1", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"},
      {"SSCAN s +0", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"},
      {"SSCAN s \"\"", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"},
      {"SSCAN s \" 1\"", "-ERR invalid cursor\r\n"},
      {"SSCAN s abc", "-ERR invalid cursor\r\n"},
      {"SSCAN s 1x", "-ERR invalid cursor\r\n"},
      {"SSCAN s 18446744073709551615", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"},
      {"SSCAN s 18446744073709551616", "-ERR invalid cursor\r\n"},
      {"SSCAN s 0 COUNT 0", "-ERR syntax error\r\n"},
      {"SSCAN s 0 COUNT -1", "-ERR syntax error\r\n"},
      {"SSCAN s 0 COUNT abc", "-ERR value is not an integer or out of range\r\n"},
      {"SSCAN s 0 COUNT 1", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$2\r\n10\r\n"},
      {"SSCAN s 0 MATCH 1*", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\n1\r\n$2\r\n10\r\n"},
      {"SSCAN s 0 match \"[2-3]\" count 100", "*2\r\n$1\r\n0\r\n*2\r\n$1\r\n2\r\n$1\r\n3\r\n"},
      {"SSCAN s 0 MATCH", "-ERR syntax error\r\n"},
      {"SSCAN s 0 TYPE string", "-ERR syntax error\r\n"},
      {"SSCAN s 0 FOO bar", "-ERR syntax error\r\n"},
      {"SSCAN s 0 COUNT 0 MATCH", "-ERR syntax error\r\n"},
      {"SSCAN nokey 0", "*2\r\n$1\r\n0\r\n*0\r\n"},
      {"SSCAN nokey 0 COUNT 0", "*2\r\n$1\r\n0\r\n*0\r\n"},
      {"SSCAN nokey abc", "-ERR invalid cursor\r\n"},
      {"SADD h \"a b\"", ":1\r\n"},
      {"SSCAN h 0", "*2\r\n$1\r\n0\r\n*1\r\n$3\r\na b\r\n"},
      {"SSCAN h 0 MATCH a*", "*2\r\n$1\r\n0\r\n*1\r\n$3\r\na b\r\n"},
      {"SSCAN h 0 MATCH x*", "*2\r\n$1\r\n0\r\n*0\r\n"},
  });
}

TEST_CASE("set commands: RESP3 reply types", "[set]") {
  CommandRunner r = set_runner();
  r.resp_version = 3;
  expect_replies(r, {
      {"SADD s 1 2 3", ":3\r\n"},
      {"SADD h x", ":1\r\n"},
      {"SMEMBERS s", "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
      {"SMEMBERS nokey", "~0\r\n"},
      {"SMEMBERS h", "~1\r\n$1\r\nx\r\n"},
      {"SINTER s s", "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
      {"SINTER s nokey", "~0\r\n"},
      {"SUNION s s", "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
      {"SDIFF s h", "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
      {"SDIFF nokey", "~0\r\n"},
      {"SPOP nokey", "_\r\n"},
      {"SPOP nokey 2", "~0\r\n"},
      {"SPOP s 0", "~0\r\n"},
      {"SRANDMEMBER nokey", "_\r\n"},
      {"SRANDMEMBER nokey 2", "*0\r\n"},
      {"SRANDMEMBER s 0", "*0\r\n"},
      {"SRANDMEMBER s 5", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
      {"SRANDMEMBER h -2", "*2\r\n$1\r\nx\r\n$1\r\nx\r\n"},
      {"SMISMEMBER s 1 9", "*2\r\n:1\r\n:0\r\n"},
      {"SSCAN s 0", "*2\r\n$1\r\n0\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
      {"SSCAN nokey 0", "*2\r\n$1\r\n0\r\n*0\r\n"},
      {"SINTERCARD 1 s", ":3\r\n"},
      {"SPOP h 5", "~1\r\n$1\r\nx\r\n"},
      {"SPOP s 3", "~3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
  });
}

// ---------------------------------------------------------------------------
// Encodings and thresholds

TEST_CASE("set commands: intset converts past set-max-intset-entries", "[set]") {
  CommandRunner r = set_runner();
  CHECK(r.run(sadd_range("s", 0, 512)) == resp::integer(512));
  CHECK(encoding(r, "s") == "intset");
  CHECK(r.run("SADD s 511") == resp::integer(0));  // already there: no conversion
  CHECK(encoding(r, "s") == "intset");
  CHECK(r.run("SADD s 512") == resp::integer(1));
  CHECK(encoding(r, "s") == "hashtable");
  // Never back, even when small and all-integer again.
  CHECK(r.run(cat("SREM s", sadd_range("", 0, 510).substr(5))) == resp::integer(510));
  CHECK(r.run("SCARD s") == resp::integer(3));
  CHECK(encoding(r, "s") == "hashtable");
  // One big SADD converts too.
  CHECK(r.run(sadd_range("t", -300, 300)) == resp::integer(600));
  CHECK(encoding(r, "t") == "hashtable");
  CHECK(r.run("SCARD t") == resp::integer(600));
  CHECK(r.run("SISMEMBER t -300") == resp::integer(1));
  CHECK(r.run("SISMEMBER t 300") == resp::integer(0));
}

TEST_CASE("set commands: set-max-intset-entries from the configuration", "[set]") {
  CommandRunner r = set_runner();
  r.config.set_max_intset_entries = 3;
  expect_replies_local(r, {
                              {"SADD s 1 2 3", ":3\r\n"},
                              {"OBJECT ENCODING s", "$6\r\nintset\r\n"},
                              {"SADD s 4", ":1\r\n"},
                              {"OBJECT ENCODING s", "$9\r\nhashtable\r\n"},
                          });
  r.config.set_max_intset_entries = 0;
  expect_replies_local(r, {
                              {"SADD z 1", ":1\r\n"},
                              {"OBJECT ENCODING z", "$9\r\nhashtable\r\n"},
                          });
}

TEST_CASE("set commands: SPOP of most of a set rebuilds it (and may make it an intset again)", "[set]") {
  CommandRunner r = set_runner();
  REQUIRE(r.run(sadd_range("k", 1, 514)) == resp::integer(513));
  REQUIRE(encoding(r, "k") == "hashtable");
  r.run("EXPIRE k 1000");
  const std::vector<std::string> popped = elements(r.run("SPOP k 512"));
  CHECK(popped.size() == 512);
  CHECK(std::set<std::string>(popped.begin(), popped.end()).size() == 512);
  CHECK(r.run("SCARD k") == resp::integer(1));
  CHECK(encoding(r, "k") == "intset");
  CHECK(r.run("TTL k") == resp::integer(1000));  // same key, TTL kept
  const std::vector<std::string> left = elements(r.run("SMEMBERS k"));
  REQUIRE(left.size() == 1);
  CHECK(std::find(popped.begin(), popped.end(), left[0]) == popped.end());

  // Popping fewer keeps the hashtable (members are removed one by one).
  REQUIRE(r.run(sadd_range("j", 1, 514)) == resp::integer(513));
  CHECK(elements(r.run("SPOP j 10")).size() == 10);
  CHECK(encoding(r, "j") == "hashtable");
  CHECK(r.run("SCARD j") == resp::integer(503));
}

// ---------------------------------------------------------------------------
// Randomness

TEST_CASE("set commands: SPOP returns distinct members and removes them", "[set]") {
  CommandRunner r = set_runner();
  for (const char* kind : {"int", "str"}) {
    INFO(kind);
    const std::string prefix = std::string(kind) == "int" ? "" : "m";
    for (int count : {1, 2, 5, 9, 10, 11, 15, 19, 20, 25}) {
      INFO("count " << count);
      r.run("DEL s");
      r.run(sadd_range("s", 0, 20, prefix));
      const std::vector<std::string> popped = elements(r.run(cat("SPOP s ", std::to_string(count))));
      const size_t expect = std::min(count, 20);
      CHECK(popped.size() == expect);
      CHECK(std::set<std::string>(popped.begin(), popped.end()).size() == expect);
      for (const std::string& m : popped) CHECK(r.run(cat("SISMEMBER s ", m)) == resp::integer(0));
      CHECK(r.run("SCARD s") == resp::integer(static_cast<int64_t>(20 - expect)));
      const std::vector<std::string> left = elements(r.run("SMEMBERS s"));
      std::set<std::string> all(popped.begin(), popped.end());
      all.insert(left.begin(), left.end());
      CHECK(all.size() == 20);
    }
  }
}

TEST_CASE("set commands: SPOP and SRANDMEMBER are uniform", "[set]") {
  CommandRunner r = set_runner();
  constexpr int kMembers = 8;
  constexpr int kDraws = 16000;
  for (const char* prefix : {"", "member-"}) {
    INFO("prefix '" << prefix << "'");
    std::map<std::string, int> srand_hits, spop_hits, srand_pos_hits, srand_neg_hits;
    r.run("DEL s");
    r.run(sadd_range("s", 0, kMembers, prefix));
    for (int i = 0; i < kDraws; ++i) {
      ++srand_hits[elements(r.run("SRANDMEMBER s"))[0]];
      for (const std::string& m : elements(r.run("SRANDMEMBER s 2"))) ++srand_pos_hits[m];
      for (const std::string& m : elements(r.run("SRANDMEMBER s -2"))) ++srand_neg_hits[m];
    }
    for (int i = 0; i < kDraws / 4; ++i) {
      r.run("DEL t");
      r.run(sadd_range("t", 0, kMembers, prefix));
      for (const std::string& m : elements(r.run("SPOP t 1"))) ++spop_hits[m];
      ++spop_hits[elements(r.run("SPOP t"))[0]];
    }
    for (auto* hits : {&srand_hits, &spop_hits, &srand_pos_hits, &srand_neg_hits}) {
      CHECK(hits->size() == kMembers);
      int total = 0;
      for (const auto& [m, n] : *hits) total += n;
      const double expected = static_cast<double>(total) / kMembers;
      for (const auto& [m, n] : *hits) {
        INFO(m << ": " << n << " of " << total);
        CHECK(n > expected * 0.85);
        CHECK(n < expected * 1.15);
      }
    }
  }
}

TEST_CASE("set commands: SRANDMEMBER counts", "[set]") {
  CommandRunner r = set_runner();
  for (const char* prefix : {"", "x"}) {
    r.run("DEL s");
    r.run(sadd_range("s", 0, 30, prefix));
    for (int count : {1, 2, 9, 10, 11, 29, 30, 31, 100}) {
      INFO("count " << count);
      const std::vector<std::string> got = elements(r.run(cat("SRANDMEMBER s ", std::to_string(count))));
      CHECK(got.size() == static_cast<size_t>(std::min(count, 30)));
      CHECK(std::set<std::string>(got.begin(), got.end()).size() == got.size());
      for (const std::string& m : got) CHECK(r.run(cat("SISMEMBER s ", m)) == resp::integer(1));
      const std::vector<std::string> neg = elements(r.run(cat("SRANDMEMBER s -", std::to_string(count))));
      CHECK(neg.size() == static_cast<size_t>(count));
      for (const std::string& m : neg) CHECK(r.run(cat("SISMEMBER s ", m)) == resp::integer(1));
    }
    // Repetitions do occur with a negative count.
    const std::vector<std::string> many = elements(r.run("SRANDMEMBER s -200"));
    CHECK(std::set<std::string>(many.begin(), many.end()).size() < many.size());
    CHECK(r.run("SCARD s") == resp::integer(30));
  }
}

// ---------------------------------------------------------------------------
// Bigger sets through the commands

TEST_CASE("set commands: SSCAN walks a hashtable completely", "[set]") {
  CommandRunner r = set_runner();
  r.run(sadd_range("s", 0, 2000, "member:"));
  for (int count : {1, 7, 100, 5000}) {
    INFO("COUNT " << count);
    std::set<std::string> seen;
    std::string cursor = "0";
    int calls = 0;
    do {
      const std::vector<std::string> e = elements(r.run(cat("SSCAN s ", cursor, " COUNT ", std::to_string(count))));
      REQUIRE(!e.empty());
      cursor = e[0];
      seen.insert(e.begin() + 1, e.end());
      ++calls;
    } while (cursor != "0" && calls < 100000);
    CHECK(seen.size() == 2000);
  }
  std::set<std::string> matched;
  std::string cursor = "0";
  do {
    const std::vector<std::string> e = elements(r.run(cat("SSCAN s ", cursor, " MATCH member:1?? COUNT 50")));
    cursor = e[0];
    matched.insert(e.begin() + 1, e.end());
  } while (cursor != "0");
  CHECK(matched.size() == 100);
}

TEST_CASE("set commands: set algebra on mixed encodings", "[set]") {
  CommandRunner r = set_runner();
  r.run(sadd_range("ints", 0, 300));                        // intset 0..299
  r.run(sadd_range("strs", 200, 400));                      // intset 200..399
  r.run("SADD strs x y");                                   // -> hashtable
  r.run(sadd_range("big", 0, 1000));                        // hashtable 0..999
  CHECK(encoding(r, "strs") == "hashtable");
  CHECK(r.run("SINTERCARD 2 ints strs") == resp::integer(100));
  CHECK(r.run("SINTERCARD 3 ints strs big") == resp::integer(100));
  CHECK(r.run("SINTERCARD 3 ints strs big LIMIT 7") == resp::integer(7));
  CHECK(elements(r.run("SINTER strs ints")).size() == 100);
  CHECK(elements(r.run("SUNION ints strs")).size() == 402);
  CHECK(elements(r.run("SDIFF strs ints")).size() == 102);
  CHECK(elements(r.run("SDIFF big ints strs")).size() == 600);
  CHECK(r.run("SINTERSTORE d ints strs") == resp::integer(100));
  CHECK(encoding(r, "d") == "intset");
  CHECK(r.run("SUNIONSTORE d ints strs") == resp::integer(402));
  CHECK(encoding(r, "d") == "hashtable");
  CHECK(r.run("SDIFFSTORE d big strs") == resp::integer(800));
  CHECK(encoding(r, "d") == "hashtable");  // more than 512 members
  CHECK(r.run("SDIFFSTORE d ints big") == resp::integer(0));
  CHECK(r.run("EXISTS d") == resp::integer(0));
}

TEST_CASE("set commands: SINTERCARD key extraction", "[set]") {
  const server::CommandSpec* spec = server::CommandTable::instance().find("sintercard");
  REQUIRE(spec != nullptr);
  auto keys = [&](std::vector<std::string> argv) {
    distcache::protocol::ArgList args;
    for (const auto& a : argv) args.add(a);
    std::vector<int> out;
    const bool ok = server::extract_keys(*spec, args, out);
    return std::make_pair(ok, out);
  };
  CHECK(keys({"SINTERCARD", "2", "a", "b"}) == std::make_pair(true, std::vector<int>{2, 3}));
  CHECK(keys({"SINTERCARD", "1", "a", "LIMIT", "5"}) == std::make_pair(true, std::vector<int>{2}));
  CHECK(keys({"SINTERCARD", "3", "a", "b"}).first == false);
  CHECK(keys({"SINTERCARD", "0", "a"}).first == false);
  CHECK(keys({"SINTERCARD", "x", "a"}).first == false);
  const server::CommandSpec* store = server::CommandTable::instance().find("sunionstore");
  REQUIRE(store != nullptr);
  distcache::protocol::ArgList args;
  for (const char* a : {"SUNIONSTORE", "d", "a", "b"}) args.add(a);
  std::vector<int> out;
  CHECK(server::extract_keys(*store, args, out));
  CHECK(out == std::vector<int>{1, 2, 3});  // the destination is a key too
}
