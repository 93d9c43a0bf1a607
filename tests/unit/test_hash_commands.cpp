// Hash command handlers. The expected bytes of every expect_replies block were
// captured from redis-server 7.0.15 by replaying the block on an empty
// database (RESP3 blocks after HELLO 3); the other cases check properties
// (encodings at the thresholds, random and scan results on large hashes)
// that were cross-checked against redis-server with a randomized
// differential run.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "server/command_table.h"
#include "storage/hash_value.h"
#include "tests/unit/command_test_util.h"

using distcache::test::CommandRunner;
using distcache::test::expect_replies;
namespace resp = distcache::test::resp;
namespace server = distcache::server;
using namespace std::string_literals;

namespace {

CommandRunner hash_runner() {
  return CommandRunner({server::string_command_specs, server::key_command_specs, server::hash_command_specs});
}

// A minimal RESP2 reader for checking replies whose content is random.
struct Reply {
  char type = 0;            // '+', '-', ':', '$', '*'
  std::string str;          // simple / error / bulk
  long long num = 0;        // integer, or -1 for null bulk / array
  std::vector<Reply> items; // array
};

Reply parse(const std::string& s, size_t& pos) {
  Reply r;
  r.type = s.at(pos);
  const size_t eol = s.find("\r\n", pos);
  const std::string head = s.substr(pos + 1, eol - pos - 1);
  pos = eol + 2;
  switch (r.type) {
    case '+':
    case '-': r.str = head; break;
    case ':': r.num = std::stoll(head); break;
    case '$':
      r.num = std::stoll(head);
      if (r.num >= 0) {
        r.str = s.substr(pos, static_cast<size_t>(r.num));
        pos += static_cast<size_t>(r.num) + 2;
      }
      break;
    case '*':
      r.num = std::stoll(head);
      for (long long i = 0; i < r.num; ++i) r.items.push_back(parse(s, pos));
      break;
    default: FAIL("unexpected reply type");
  }
  return r;
}

Reply parse(const std::string& s) {
  size_t pos = 0;
  Reply r = parse(s, pos);
  CHECK(pos == s.size());
  return r;
}

std::map<std::string, std::string> hgetall(CommandRunner& r, const std::string& key) {
  Reply rep = parse(r.run(std::vector<std::string>{"HGETALL", key}));
  std::map<std::string, std::string> out;
  REQUIRE(rep.items.size() % 2 == 0);
  for (size_t i = 0; i < rep.items.size(); i += 2) out[rep.items[i].str] = rep.items[i + 1].str;
  return out;
}

std::string encoding(CommandRunner& r, const std::string& key) {
  return parse(r.run(std::vector<std::string>{"OBJECT", "ENCODING", key})).str;
}

}  // namespace

TEST_CASE("HSET HGET HMGET HLEN HSTRLEN HEXISTS HDEL HGETALL and WRONGTYPE", "[hash]") {
  CommandRunner r = hash_runner();
  expect_replies(r, {
      {"HSET h a 1", ":1\r\n"},
      {"HSET h a 2 b 3 c \"\"", ":2\r\n"},
      {"HSET h b", "-ERR wrong number of arguments for 'hset' command\r\n"},
      {"HSET h", "-ERR wrong number of arguments for 'hset' command\r\n"},
      {"HMSET h a", "-ERR wrong number of arguments for 'hmset' command\r\n"},
      {"HGET h a", "$1\r\n2\r\n"},
      {"HGET h c", "$0\r\n\r\n"},
      {"HGET h zz", "$-1\r\n"},
      {"HGET nokey a", "$-1\r\n"},
      {"HMGET h a zz b c", "*4\r\n$1\r\n2\r\n$-1\r\n$1\r\n3\r\n$0\r\n\r\n"},
      {"HMGET nokey a b", "*2\r\n$-1\r\n$-1\r\n"},
      {"HLEN h", ":3\r\n"},
      {"HLEN nokey", ":0\r\n"},
      {"HSTRLEN h a", ":1\r\n"},
      {"HSTRLEN h c", ":0\r\n"},
      {"HSTRLEN h zz", ":0\r\n"},
      {"HSTRLEN nokey a", ":0\r\n"},
      {"HEXISTS h a", ":1\r\n"},
      {"HEXISTS h zz", ":0\r\n"},
      {"HEXISTS nokey a", ":0\r\n"},
      {"HSET h \"x\\x00y\" \"\\r\\n\" \"\" empty", ":2\r\n"},
      {"HGET h \"x\\x00y\"", "$2\r\n\r\n\r\n"},
      {"HGET h \"\"", "$5\r\nempty\r\n"},
      {"HGETALL h", "*10\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\nc\r\n$0\r\n\r\n$3\r\nx\x00""y\r\n$2\r\n\r\n\r\n$0\r\n\r\n$5\r\nempty\r\n"s},
      {"HKEYS h", "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$3\r\nx\x00""y\r\n$0\r\n\r\n"s},
      {"HVALS h", "*5\r\n$1\r\n2\r\n$1\r\n3\r\n$0\r\n\r\n$2\r\n\r\n\r\n$5\r\nempty\r\n"},
      {"HGETALL nokey", "*0\r\n"},
      {"HKEYS nokey", "*0\r\n"},
      {"HVALS nokey", "*0\r\n"},
      {"HDEL h a zz a", ":1\r\n"},
      {"HDEL h", "-ERR wrong number of arguments for 'hdel' command\r\n"},
      {"HDEL nokey a", ":0\r\n"},
      {"HGETALL h", "*8\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\nc\r\n$0\r\n\r\n$3\r\nx\x00""y\r\n$2\r\n\r\n\r\n$0\r\n\r\n$5\r\nempty\r\n"s},
      {"HDEL h b c \"x\\x00y\" \"\"", ":4\r\n"},
      {"EXISTS h", ":0\r\n"},
      {"HSET h f v", ":1\r\n"},
      {"SET s x", "+OK\r\n"},
      {"HSET s a b", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HSET s a", "-ERR wrong number of arguments for 'hset' command\r\n"},
      {"HMSET s a b", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HSETNX s a b", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HGET s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HMGET s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HLEN s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HSTRLEN s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HEXISTS s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HDEL s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HKEYS s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HVALS s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HGETALL s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HINCRBY s a 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HINCRBYFLOAT s a 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HRANDFIELD s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HRANDFIELD s 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HSCAN s 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"GET s", "$1\r\nx\r\n"},
  });
}

TEST_CASE("HSETNX and HMSET", "[hash]") {
  CommandRunner r = hash_runner();
  expect_replies(r, {
      {"HSETNX h a 1", ":1\r\n"},
      {"HSETNX h a 2", ":0\r\n"},
      {"HGET h a", "$1\r\n1\r\n"},
      {"HSETNX h b 3", ":1\r\n"},
      {"HMSET h a 10 c 11", "+OK\r\n"},
      {"HMSET h c 12 d", "-ERR wrong number of arguments for 'hmset' command\r\n"},
      {"HGETALL h", "*6\r\n$1\r\na\r\n$2\r\n10\r\n$1\r\nb\r\n$1\r\n3\r\n$1\r\nc\r\n$2\r\n11\r\n"},
      {"HSETNX h", "-ERR wrong number of arguments for 'hsetnx' command\r\n"},
      {"HSETNX h a", "-ERR wrong number of arguments for 'hsetnx' command\r\n"},
      {"HMSET nokey2 f v", "+OK\r\n"},
      {"HGETALL nokey2", "*2\r\n$1\r\nf\r\n$1\r\nv\r\n"},
  });
}

TEST_CASE("HINCRBY and HINCRBYFLOAT", "[hash]") {
  CommandRunner r = hash_runner();
  expect_replies(r, {
      {"HINCRBY h a 5", ":5\r\n"},
      {"HINCRBY h a -7", ":-2\r\n"},
      {"HINCRBY h a abc", "-ERR value is not an integer or out of range\r\n"},
      {"HINCRBY h a 1.5", "-ERR value is not an integer or out of range\r\n"},
      {"HINCRBY h a \"\"", "-ERR value is not an integer or out of range\r\n"},
      {"HINCRBY nokey a x", "-ERR value is not an integer or out of range\r\n"},
      {"EXISTS nokey", ":0\r\n"},
      {"HSET h s abc n \" 1\" big 9223372036854775807 small -9223372036854775808 z 007", ":5\r\n"},
      {"HINCRBY h s 1", "-ERR hash value is not an integer\r\n"},
      {"HINCRBY h n 1", "-ERR hash value is not an integer\r\n"},
      {"HINCRBY h z 1", "-ERR hash value is not an integer\r\n"},
      {"HINCRBY h big 1", "-ERR increment or decrement would overflow\r\n"},
      {"HINCRBY h big 0", ":9223372036854775807\r\n"},
      {"HINCRBY h big -9223372036854775808", ":-1\r\n"},
      {"HINCRBY h small -1", "-ERR increment or decrement would overflow\r\n"},
      {"HINCRBY h small 9223372036854775807", ":-1\r\n"},
      {"HINCRBY h a 9223372036854775807", ":9223372036854775805\r\n"},
      {"HINCRBY h a 9223372036854775808", "-ERR value is not an integer or out of range\r\n"},
      {"HINCRBYFLOAT h f 10.5", "$4\r\n10.5\r\n"},
      {"HINCRBYFLOAT h f 0.1", "$4\r\n10.6\r\n"},
      {"HINCRBYFLOAT h f -5.6", "$1\r\n5\r\n"},
      {"HINCRBYFLOAT h f 1e3", "$4\r\n1005\r\n"},
      {"HINCRBYFLOAT h f 0x10", "$4\r\n1021\r\n"},
      {"HINCRBYFLOAT h f abc", "-ERR value is not a valid float\r\n"},
      {"HINCRBYFLOAT h f inf", "-ERR value is NaN or Infinity\r\n"},
      {"HINCRBYFLOAT h f -inf", "-ERR value is NaN or Infinity\r\n"},
      {"HINCRBYFLOAT h f nan", "-ERR value is not a valid float\r\n"},
      {"HINCRBYFLOAT h f \"\"", "-ERR value is not a valid float\r\n"},
      {"HINCRBYFLOAT h s 1", "-ERR hash value is not a float\r\n"},
      {"HINCRBYFLOAT h n 1", "-ERR hash value is not a float\r\n"},
      {"HINCRBYFLOAT h a 1.5", "$21\r\n9223372036854775806.5\r\n"},
      {"HINCRBYFLOAT h g 5e-324", "$1\r\n0\r\n"},
      {"HINCRBYFLOAT h g2 1.7976931348623157e308", "$309\r\n179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926376802466863339536384\r\n"},
      {"HINCRBYFLOAT h g2 1.7976931348623157e308", "$309\r\n359538626972463139991842093548208868096772893888658356970628841530353257046248792709403737216774171128857586838851041378617416726902272110715794556052955234146997955372576789671236326588091188869859074894581254961338834769297758245552436667197907705664206565009503223382416235440319971852753604933726679072768\r\n"},
      {"HSET h i inf", ":1\r\n"},
      {"HINCRBYFLOAT h i 1", "-ERR increment would produce NaN or Infinity\r\n"},
      {"HSET h e 1e2", ":1\r\n"},
      {"HINCRBYFLOAT h e 1", "$3\r\n101\r\n"},
      {"HINCRBY h e 1", ":102\r\n"},
      {"HINCRBYFLOAT nokey f inf", "-ERR value is NaN or Infinity\r\n"},
      {"HINCRBYFLOAT nokey f abc", "-ERR value is not a valid float\r\n"},
      {"SET s x", "+OK\r\n"},
      {"HINCRBYFLOAT s f inf", "-ERR value is NaN or Infinity\r\n"},
      {"HINCRBYFLOAT s f 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HINCRBY s f abc", "-ERR value is not an integer or out of range\r\n"},
      {"HINCRBY s f 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"HINCRBYFLOAT nokey f -0", "$1\r\n0\r\n"},
      {"HGET nokey f", "$1\r\n0\r\n"},
      {"HINCRBYFLOAT nokey f 3.0", "$1\r\n3\r\n"},
      {"HGETALL nokey", "*2\r\n$1\r\nf\r\n$1\r\n3\r\n"},
  });
}

TEST_CASE("HRANDFIELD arguments and deterministic cases", "[hash]") {
  CommandRunner r = hash_runner();
  expect_replies(r, {
      {"HRANDFIELD nokey", "$-1\r\n"},
      {"HRANDFIELD nokey 5", "*0\r\n"},
      {"HRANDFIELD nokey -5 WITHVALUES", "*0\r\n"},
      {"HRANDFIELD nokey 0", "*0\r\n"},
      {"HRANDFIELD nokey x", "-ERR value is not an integer or out of range\r\n"},
      {"HRANDFIELD nokey 1 x", "-ERR syntax error\r\n"},
      {"HRANDFIELD nokey 1 WITHVALUES x", "-ERR syntax error\r\n"},
      {"HSET h a 1", ":1\r\n"},
      {"HRANDFIELD h", "$1\r\na\r\n"},
      {"HRANDFIELD h 1", "*1\r\n$1\r\na\r\n"},
      {"HRANDFIELD h -3", "*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"},
      {"HRANDFIELD h -3 WITHVALUES", "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n1\r\n"},
      {"HRANDFIELD h 3 withvalues", "*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
      {"HRANDFIELD h 0", "*0\r\n"},
      {"HRANDFIELD h 0 WITHVALUES", "*0\r\n"},
      {"HRANDFIELD h 1.5", "-ERR value is not an integer or out of range\r\n"},
      {"HRANDFIELD h -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"},
      {"HRANDFIELD h 9223372036854775807", "*1\r\n$1\r\na\r\n"},
      {"HRANDFIELD h 9223372036854775808", "-ERR value is not an integer or out of range\r\n"},
      {"HRANDFIELD h 4611686018427387903 WITHVALUES", "*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
      {"HRANDFIELD h 4611686018427387904 WITHVALUES", "-ERR value is out of range\r\n"},
      {"HRANDFIELD h -4611686018427387904 WITHVALUES", "-ERR value is out of range\r\n"},
      {"HRANDFIELD h 1 WITHVALUE", "-ERR syntax error\r\n"},
      {"HRANDFIELD h 1 \"WITHVALUES\\x00junk\"", "*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
      {"HSET h b 2 c 3", ":2\r\n"},
      {"HRANDFIELD h 3", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
      {"HRANDFIELD h 10 WITHVALUES", "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"},
      {"HRANDFIELD h -1 WITHVALUES x", "-ERR syntax error\r\n"},
  });
}

TEST_CASE("HSCAN cursor and options on a listpack", "[hash]") {
  CommandRunner r = hash_runner();
  expect_replies(r, {
      {"HSCAN nokey 0", "*2\r\n$1\r\n0\r\n*0\r\n"},
      {"HSCAN nokey x", "-ERR invalid cursor\r\n"},
      {"HSCAN nokey 0 COUNT 0", "*2\r\n$1\r\n0\r\n*0\r\n"},
      {"HSCAN nokey 0 junk", "*2\r\n$1\r\n0\r\n*0\r\n"},
      {"HSET h a 1 b 2 ab 3 \"x y\" 4", ":4\r\n"},
      {"HSCAN h 0", "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$2\r\nab\r\n$1\r\n3\r\n$3\r\nx y\r\n$1\r\n4\r\n"},
      {"HSCAN h 12345", "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$2\r\nab\r\n$1\r\n3\r\n$3\r\nx y\r\n$1\r\n4\r\n"},
      {"HSCAN h \"\"", "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$2\r\nab\r\n$1\r\n3\r\n$3\r\nx y\r\n$1\r\n4\r\n"},
      {"HSCAN h -1", "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$2\r\nab\r\n$1\r\n3\r\n$3\r\nx y\r\n$1\r\n4\r\n"},
      {"HSCAN h +0", "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$2\r\nab\r\n$1\r\n3\r\n$3\r\nx y\r\n$1\r\n4\r\n"},
      {"HSCAN h \" 0\"", "-ERR invalid cursor\r\n"},
      {"HSCAN h \"0 \"", "-ERR invalid cursor\r\n"},
      {"HSCAN h 0x10", "-ERR invalid cursor\r\n"},
      {"HSCAN h 18446744073709551615", "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$2\r\nab\r\n$1\r\n3\r\n$3\r\nx y\r\n$1\r\n4\r\n"},
      {"HSCAN h 18446744073709551616", "-ERR invalid cursor\r\n"},
      {"HSCAN h -18446744073709551615", "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$2\r\nab\r\n$1\r\n3\r\n$3\r\nx y\r\n$1\r\n4\r\n"},
      {"HSCAN h -18446744073709551616", "-ERR invalid cursor\r\n"},
      {"HSCAN h +", "-ERR invalid cursor\r\n"},
      {"HSCAN h -", "-ERR invalid cursor\r\n"},
      {"HSCAN h \"1\\x00junk\"", "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$2\r\nab\r\n$1\r\n3\r\n$3\r\nx y\r\n$1\r\n4\r\n"},
      {"HSCAN h 0 COUNT 1", "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$2\r\nab\r\n$1\r\n3\r\n$3\r\nx y\r\n$1\r\n4\r\n"},
      {"HSCAN h 0 count 1 match a*", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nab\r\n$1\r\n3\r\n"},
      {"HSCAN h 0 MATCH a*", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nab\r\n$1\r\n3\r\n"},
      {"HSCAN h 0 MATCH *", "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$2\r\nab\r\n$1\r\n3\r\n$3\r\nx y\r\n$1\r\n4\r\n"},
      {"HSCAN h 0 MATCH \"x?y\"", "*2\r\n$1\r\n0\r\n*2\r\n$3\r\nx y\r\n$1\r\n4\r\n"},
      {"HSCAN h 0 MATCH \"[ab]\"", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"},
      {"HSCAN h 0 COUNT 0", "-ERR syntax error\r\n"},
      {"HSCAN h 0 COUNT -1", "-ERR syntax error\r\n"},
      {"HSCAN h 0 COUNT abc", "-ERR value is not an integer or out of range\r\n"},
      {"HSCAN h 0 COUNT", "-ERR syntax error\r\n"},
      {"HSCAN h 0 MATCH", "-ERR syntax error\r\n"},
      {"HSCAN h 0 TYPE string", "-ERR syntax error\r\n"},
      {"HSCAN h 0 NOVALUES", "-ERR syntax error\r\n"},
      {"HSCAN h 0 MATCH a* COUNT 0", "-ERR syntax error\r\n"},
      {"HSCAN h 0 COUNT 0 MATCH a*", "-ERR syntax error\r\n"},
      {"HSCAN h x COUNT 0", "-ERR invalid cursor\r\n"},
  });
}

TEST_CASE("Hash replies in RESP3", "[hash]") {
  CommandRunner r = hash_runner();
  r.resp_version = 3;
  expect_replies(r, {
      {"HSET h a 1 b 2", ":2\r\n"},
      {"HGETALL h", "%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"},
      {"HGETALL nokey", "%0\r\n"},
      {"HKEYS h", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
      {"HVALS h", "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"},
      {"HMGET h a zz", "*2\r\n$1\r\n1\r\n_\r\n"},
      {"HGET h zz", "_\r\n"},
      {"HRANDFIELD nokey", "_\r\n"},
      {"HRANDFIELD nokey 2 WITHVALUES", "*0\r\n"},
      {"HRANDFIELD h 5 WITHVALUES", "*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"},
      {"HRANDFIELD h 5", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
      {"HSCAN h 0", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"},
      {"HSCAN nokey 0", "*2\r\n$1\r\n0\r\n*0\r\n"},
      {"HINCRBYFLOAT h a 0.5", "$3\r\n1.5\r\n"},
  });
}

TEST_CASE("Hash encodings switch on value length as Redis does", "[hash]") {
  CommandRunner r = hash_runner();
  expect_replies(r, {
      {"HSET h a xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", ":1\r\n"},
      {"OBJECT ENCODING h", "$8\r\nlistpack\r\n"},
      {"HSET h xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx b", ":1\r\n"},
      {"OBJECT ENCODING h", "$8\r\nlistpack\r\n"},
      {"HSETNX h a xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", ":0\r\n"},
      {"OBJECT ENCODING h", "$8\r\nlistpack\r\n"},
      {"HSET h a 1 c xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", ":1\r\n"},
      {"OBJECT ENCODING h", "$9\r\nhashtable\r\n"},
      {"HDEL h c xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", ":2\r\n"},
      {"OBJECT ENCODING h", "$9\r\nhashtable\r\n"},
      {"HGETALL h", "*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
      {"HSET h2 a 1", ":1\r\n"},
      {"HINCRBY h2 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx 1", ":1\r\n"},
      {"OBJECT ENCODING h2", "$9\r\nhashtable\r\n"},
      {"HSET h3 a 1", ":1\r\n"},
      {"HINCRBYFLOAT h3 b 1e100", "$100\r\n9999999999999999999669353532207342619498699019828496079271391541752018669482644324418977840117055488\r\n"},
      {"OBJECT ENCODING h3", "$9\r\nhashtable\r\n"},
      {"HSET h4 a 1", ":1\r\n"},
      {"HINCRBYFLOAT h4 b 1e10", "$11\r\n10000000000\r\n"},
      {"OBJECT ENCODING h4", "$8\r\nlistpack\r\n"},
      {"HSETNX h5 a xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", ":1\r\n"},
      {"OBJECT ENCODING h5", "$9\r\nhashtable\r\n"},
      {"HMSET h6 a 1 b xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "+OK\r\n"},
      {"OBJECT ENCODING h6", "$9\r\nhashtable\r\n"},
  });
}

TEST_CASE("Hash encoding switches past hash-max-listpack-entries and never back", "[hash]") {
  CommandRunner r = hash_runner();
  // hash-max-listpack-entries is 512 by default.
  for (int i = 0; i < 512; ++i) CHECK(r.run(std::vector<std::string>{"HSET", "h", "f" + std::to_string(i), "v"}) == ":1\r\n");
  CHECK(encoding(r, "h") == "listpack");
  CHECK(r.run("HSET h f0 updated") == ":0\r\n");  // an update at the limit keeps the listpack
  CHECK(encoding(r, "h") == "listpack");
  CHECK(r.run("HSET h f512 v") == ":1\r\n");
  CHECK(encoding(r, "h") == "hashtable");
  CHECK(r.run("HLEN h") == ":513\r\n");
  for (int i = 1; i < 513; ++i) CHECK(r.run(std::vector<std::string>{"HDEL", "h", "f" + std::to_string(i)}) == ":1\r\n");
  CHECK(encoding(r, "h") == "hashtable");
  CHECK(hgetall(r, "h") == std::map<std::string, std::string>{{"f0", "updated"}});
  CHECK(r.run("HDEL h f0") == ":1\r\n");
  CHECK(r.run("EXISTS h") == ":0\r\n");

  // A multi-field HSET that crosses the limit converts part-way.
  std::vector<std::string> args{"HMSET", "m"};
  for (int i = 0; i < 600; ++i) {
    args.push_back("k" + std::to_string(i));
    args.push_back(std::to_string(i));
  }
  CHECK(r.run(args) == "+OK\r\n");
  CHECK(encoding(r, "m") == "hashtable");
  CHECK(r.run("HLEN m") == ":600\r\n");
  CHECK(r.run("HGET m k599") == resp::bulk("599"));

  // Lowered limits apply at the next write (updates included), as in Redis.
  CHECK(r.run("HSET s a 1 b 2") == ":2\r\n");
  r.config.hash_max_listpack_entries = 1;
  CHECK(encoding(r, "s") == "listpack");
  CHECK(r.run("HSET s a 3") == ":0\r\n");
  CHECK(encoding(r, "s") == "hashtable");
  r.config.hash_max_listpack_entries = 0;
  CHECK(r.run("HSETNX z a 1") == ":1\r\n");
  CHECK(encoding(r, "z") == "hashtable");
  r.config.hash_max_listpack_entries = 512;
  r.config.hash_max_listpack_value = 3;
  CHECK(r.run("HSET t abc def") == ":1\r\n");
  CHECK(encoding(r, "t") == "listpack");
  CHECK(r.run("HINCRBY t n 1000") == ":1000\r\n");  // "1000" is longer than 3 bytes
  CHECK(encoding(r, "t") == "hashtable");
}

TEST_CASE("Hashtable-encoded hashes: reads, writes, COPY and RENAME keep the encoding", "[hash]") {
  CommandRunner r = hash_runner();
  std::map<std::string, std::string> model;
  for (int i = 0; i < 1000; ++i) {
    const std::string f = "field:" + std::to_string(i);
    const std::string v = std::string(static_cast<size_t>(i % 90), 'v') + std::to_string(i);
    r.run(std::vector<std::string>{"HSET", "big", f, v});
    model[f] = v;
  }
  CHECK(encoding(r, "big") == "hashtable");
  CHECK(hgetall(r, "big") == model);
  // Values that grow and shrink (in-place update and entry reallocation).
  for (int i = 0; i < 1000; i += 7) {
    const std::string f = "field:" + std::to_string(i);
    const std::string v = std::string(static_cast<size_t>((i * 13) % 300), 'w');
    CHECK(r.run(std::vector<std::string>{"HSET", "big", f, v}) == ":0\r\n");
    model[f] = v;
  }
  CHECK(r.run("HINCRBY big counter 5") == ":5\r\n");
  CHECK(r.run("HINCRBYFLOAT big counter 0.5") == resp::bulk("5.5"));
  model["counter"] = "5.5";
  CHECK(r.run("HSTRLEN big field:999") == resp::integer(static_cast<int64_t>(model["field:999"].size())));
  CHECK(r.run("HEXISTS big field:500") == ":1\r\n");
  CHECK(r.run("HMGET big field:1 nope") == "*2\r\n" + resp::bulk(model["field:1"]) + "$-1\r\n");
  CHECK(hgetall(r, "big") == model);

  CHECK(r.run("COPY big copy") == ":1\r\n");
  CHECK(encoding(r, "copy") == "hashtable");
  CHECK(r.run("HDEL copy field:1") == ":1\r\n");
  CHECK(hgetall(r, "big") == model);  // the copy is independent
  CHECK(r.run("RENAME copy moved") == "+OK\r\n");
  CHECK(encoding(r, "moved") == "hashtable");
  CHECK(r.run("HLEN moved") == resp::integer(static_cast<int64_t>(model.size() - 1)));

  Reply keys = parse(r.run("HKEYS big"));
  Reply vals = parse(r.run("HVALS big"));
  REQUIRE(keys.items.size() == model.size());
  REQUIRE(vals.items.size() == model.size());
  for (size_t i = 0; i < keys.items.size(); ++i) CHECK(model.at(keys.items[i].str) == vals.items[i].str);

  // Deleting everything removes the key.
  std::vector<std::string> del{"HDEL", "big"};
  for (const auto& kv : model) del.push_back(kv.first);
  CHECK(r.run(del) == resp::integer(static_cast<int64_t>(model.size())));
  CHECK(r.run("EXISTS big") == ":0\r\n");
}

TEST_CASE("HRANDFIELD on both encodings returns members with the right shapes", "[hash]") {
  for (int size : {5, 100, 1000}) {
    CommandRunner r = hash_runner();
    std::map<std::string, std::string> model;
    for (int i = 0; i < size; ++i) {
      model["f" + std::to_string(i)] = "v" + std::to_string(i);
      r.run(std::vector<std::string>{"HSET", "h", "f" + std::to_string(i), "v" + std::to_string(i)});
    }
    INFO("size " << size << " encoding " << encoding(r, "h"));
    Reply one = parse(r.run("HRANDFIELD h"));
    CHECK(model.count(one.str) == 1);
    for (int count : {1, 3, size / 2, size - 1, size, size + 10}) {
      Reply rep = parse(r.run(std::vector<std::string>{"HRANDFIELD", "h", std::to_string(count), "WITHVALUES"}));
      const size_t expect = static_cast<size_t>(std::min(count, size));
      REQUIRE(rep.items.size() == expect * 2);
      std::set<std::string> seen;
      for (size_t i = 0; i < rep.items.size(); i += 2) {
        CHECK(model.at(rep.items[i].str) == rep.items[i + 1].str);
        seen.insert(rep.items[i].str);
      }
      CHECK(seen.size() == expect);  // distinct
    }
    Reply rep = parse(r.run("HRANDFIELD h -50"));
    REQUIRE(rep.items.size() == 50);
    for (const Reply& f : rep.items) CHECK(model.count(f.str) == 1);
    // Repeats are allowed with a negative count, and over many draws every
    // field of a small hash shows up.
    if (size == 5) {
      std::set<std::string> seen;
      Reply many = parse(r.run("HRANDFIELD h -200"));
      for (const Reply& f : many.items) seen.insert(f.str);
      CHECK(seen.size() == 5);
    }
  }
}

TEST_CASE("HSCAN on a hashtable returns every field, with MATCH and COUNT", "[hash]") {
  CommandRunner r = hash_runner();
  std::map<std::string, std::string> model;
  for (int i = 0; i < 5000; ++i) {
    model["f" + std::to_string(i)] = std::to_string(i);
    r.run(std::vector<std::string>{"HSET", "h", "f" + std::to_string(i), std::to_string(i)});
  }
  for (std::string count : {"1", "10", "100", "100000"}) {
    std::map<std::string, std::string> got;
    std::string cursor = "0";
    int calls = 0;
    do {
      Reply rep = parse(r.run(std::vector<std::string>{"HSCAN", "h", cursor, "COUNT", count}));
      REQUIRE(rep.items.size() == 2);
      cursor = rep.items[0].str;
      for (size_t i = 0; i < rep.items[1].items.size(); i += 2)
        got[rep.items[1].items[i].str] = rep.items[1].items[i + 1].str;
      ++calls;
    } while (cursor != "0");
    CHECK(got == model);
    if (count == "100000") CHECK(calls == 1);
    if (count == "10") CHECK(calls > 100);
  }
  std::set<std::string> matched;
  std::string cursor = "0";
  do {
    Reply rep = parse(r.run(std::vector<std::string>{"HSCAN", "h", cursor, "MATCH", "f12*"}));
    cursor = rep.items[0].str;
    for (size_t i = 0; i < rep.items[1].items.size(); i += 2) matched.insert(rep.items[1].items[i].str);
  } while (cursor != "0");
  CHECK(matched.size() == 111);  // f12, f120-f129, f1200-f1299
}

TEST_CASE("HSCAN keeps its guarantee while the hash grows and shrinks", "[hash]") {
  CommandRunner r = hash_runner();
  // Fields present for the whole scan: "keep:*" (600 of them: a hashtable).
  // Others come and go.
  for (int i = 0; i < 600; ++i) r.run(std::vector<std::string>{"HSET", "h", "keep:" + std::to_string(i), "1"});
  std::set<std::string> seen;
  std::string cursor = "0";
  int step = 0;
  do {
    Reply rep = parse(r.run(std::vector<std::string>{"HSCAN", "h", cursor, "COUNT", "20"}));
    cursor = rep.items[0].str;
    for (size_t i = 0; i < rep.items[1].items.size(); i += 2) seen.insert(rep.items[1].items[i].str);
    // Grow a lot (several doublings), then shrink back, between calls.
    if (step < 10) {
      for (int i = 0; i < 400; ++i)
        r.run(std::vector<std::string>{"HSET", "h", "tmp:" + std::to_string(step) + ":" + std::to_string(i), "x"});
    } else if (step < 20) {
      for (int i = 0; i < 400; ++i)
        r.run(std::vector<std::string>{"HDEL", "h", "tmp:" + std::to_string(step - 10) + ":" + std::to_string(i)});
    }
    ++step;
  } while (cursor != "0");
  for (int i = 0; i < 600; ++i) CHECK(seen.count("keep:" + std::to_string(i)) == 1);
}
