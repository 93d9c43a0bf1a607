// List command handlers. The expected bytes of every expect_replies block
// were captured from redis-server 7.0.15 by replaying the block on an empty
// database (FLUSHALL, then the commands in order); the blocking-path tests
// further down check the CommandContext outcome directly.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "server/command_table.h"
#include "storage/list.h"
#include "tests/unit/command_test_util.h"

using namespace std::string_literals;

using distcache::test::CommandRunner;
using distcache::test::expect_replies;
using distcache::test::expect_replies_local;
namespace resp = distcache::test::resp;
namespace server = distcache::server;
namespace storage = distcache::storage;

namespace {

// prefix + decimal number (built by appending: GCC 12 warns spuriously on
// "literal" + std::string).
std::string numbered(std::string_view prefix, uint64_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

CommandRunner list_runner() {
  return CommandRunner({server::list_command_specs, server::string_command_specs, server::key_command_specs});
}

// What one handler run produced: its reply bytes and whether it blocked.
struct Outcome {
  std::string reply;
  bool blocked = false;
  int64_t timeout_ms = -1;
  server::CommandContext::TimeoutReply timeout_reply = server::CommandContext::TimeoutReply::kNullBulk;
  std::vector<std::string> ready;
};

// Runs one command through its handler with a CommandContext built here, so
// that may_block and the ready-key list can be controlled and observed.
Outcome run_direct(CommandRunner& r, const std::string& line, bool may_block = true) {
  const std::vector<std::string> argv = distcache::test::split_command_line(line);
  distcache::protocol::ArgList args;
  for (const auto& a : argv) args.add(a);
  Outcome out;
  distcache::protocol::ReplyBuilder reply(&out.reply, r.resp_version);
  const server::CommandSpec* spec = r.find_top(argv[0]);
  REQUIRE(spec != nullptr);
  REQUIRE(server::arity_ok(*spec, args.size()));
  server::CommandContext ctx{args, reply, r.dbs, r.db_index, r.now_ms, r.config};
  ctx.may_block = may_block;
  ctx.ready_keys = &out.ready;
  spec->keyed(ctx);
  out.blocked = ctx.blocked;
  if (ctx.blocked) {
    out.timeout_ms = ctx.block_timeout_ms;
    out.timeout_reply = ctx.timeout_reply;
  }
  return out;
}

const storage::List& list_at(CommandRunner& r, std::string_view key) {
  const storage::Value* v = r.db().find(key, r.now_ms);
  REQUIRE(v != nullptr);
  REQUIRE(v->type() == storage::ValueType::kList);
  return v->as<storage::List>();
}

}  // namespace

TEST_CASE("LPUSH RPUSH LPOP RPOP LLEN and the pop count edge cases", "[list]") {
  CommandRunner r = list_runner();
  expect_replies(r, {
      {"LPOP nokey", "$-1\r\n"},
      {"LPOP nokey 1", "*-1\r\n"},
      {"LPOP nokey 0", "*-1\r\n"},
      {"LPOP nokey -1", "-ERR value is out of range, must be positive\r\n"},
      {"LPOP nokey abc", "-ERR value is out of range, must be positive\r\n"},
      {"RPOP nokey 3", "*-1\r\n"},
      {"RPUSH l a b c", ":3\r\n"},
      {"LPUSH l x y", ":5\r\n"},
      {"LRANGE l 0 -1", "*5\r\n$1\r\ny\r\n$1\r\nx\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
      {"LLEN l", ":5\r\n"},
      {"LLEN nokey", ":0\r\n"},
      {"TYPE l", "+list\r\n"},
      {"OBJECT ENCODING l", "$9\r\nquicklist\r\n"},
      {"LPOP l", "$1\r\ny\r\n"},
      {"RPOP l", "$1\r\nc\r\n"},
      {"LPOP l 0", "*0\r\n"},
      {"LPOP l -1", "-ERR value is out of range, must be positive\r\n"},
      {"LPOP l abc", "-ERR value is out of range, must be positive\r\n"},
      {"LPOP l 1 2", "-ERR wrong number of arguments for 'lpop' command\r\n"},
      {"LPOP l 2", "*2\r\n$1\r\nx\r\n$1\r\na\r\n"},
      {"RPOP l 5", "*1\r\n$1\r\nb\r\n"},
      {"EXISTS l", ":0\r\n"},
      {"RPUSH l only", ":1\r\n"},
      {"RPOP l 1", "*1\r\n$4\r\nonly\r\n"},
      {"EXISTS l", ":0\r\n"},
      {"LPUSHX nokey a", ":0\r\n"},
      {"RPUSHX nokey a b", ":0\r\n"},
      {"EXISTS nokey", ":0\r\n"},
      {"RPUSH l a", ":1\r\n"},
      {"LPUSHX l b c", ":3\r\n"},
      {"RPUSHX l d e", ":5\r\n"},
      {"LRANGE l 0 -1", "*5\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n"},
      {"lPuSh l \"\" \"\\x00\" \"a b\" \"\\r\\n\"", ":9\r\n"},
      {"LRANGE l 0 -1", "*9\r\n$2\r\n\r\n\r\n$3\r\na b\r\n$1\r\n\000\r\n$0\r\n\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\ne\r\n"s},
      {"RPOP l 3", "*3\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\na\r\n"},
      {"LPOP l 10", "*6\r\n$2\r\n\r\n\r\n$3\r\na b\r\n$1\r\n\000\r\n$0\r\n\r\n$1\r\nc\r\n$1\r\nb\r\n"s},
      {"EXISTS l", ":0\r\n"},
  });
}

TEST_CASE("list commands on a key of another type reply WRONGTYPE", "[list]") {
  CommandRunner r = list_runner();
  expect_replies(r, {
      {"SET s x", "+OK\r\n"},
      {"LPUSH s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"RPUSH s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"LPUSHX s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"RPUSHX s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"LPOP s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"RPOP s 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"LLEN s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"LRANGE s 0 -1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"LINDEX s 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"LSET s 0 x", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"LINSERT s BEFORE a b", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"LREM s 0 a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"LTRIM s 0 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"LPOS s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"LPOS s a COUNT 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"LMOVE s d LEFT RIGHT", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"RPOPLPUSH s d", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"LMPOP 1 s LEFT", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"BLPOP s 0.01", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"BRPOP nokey s 0.01", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"BLMOVE s d LEFT LEFT 0.01", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"BRPOPLPUSH s d 0.01", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"BLMPOP 0.01 2 nokey s RIGHT", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"RPUSH l a", ":1\r\n"},
      {"LMOVE l s LEFT RIGHT", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"RPOPLPUSH l s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"BLMOVE l s RIGHT RIGHT 0.01", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"LMOVE nokey s LEFT RIGHT", "$-1\r\n"},
      {"LRANGE l 0 -1", "*1\r\n$1\r\na\r\n"},
      {"GET s", "$1\r\nx\r\n"},
  });
}

TEST_CASE("LRANGE index arithmetic", "[list]") {
  CommandRunner r = list_runner();
  expect_replies(r, {
      {"LRANGE nokey 0 -1", "*0\r\n"},
      {"LRANGE nokey a 1", "-ERR value is not an integer or out of range\r\n"},
      {"RPUSH l a b c d e 1 2 3 4 5", ":10\r\n"},
      {"LRANGE l 0 -1", "*10\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"},
      {"LRANGE l -3 -1", "*3\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"},
      {"LRANGE l 5 2", "*0\r\n"},
      {"LRANGE l 100 200", "*0\r\n"},
      {"LRANGE l -100 100", "*10\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"},
      {"LRANGE l -100 -50", "*0\r\n"},
      {"LRANGE l 0 0", "*1\r\n$1\r\na\r\n"},
      {"LRANGE l -1 -1", "*1\r\n$1\r\n5\r\n"},
      {"LRANGE l 9 9", "*1\r\n$1\r\n5\r\n"},
      {"LRANGE l 10 10", "*0\r\n"},
      {"LRANGE l 9223372036854775807 -9223372036854775808", "*0\r\n"},
      {"LRANGE l -9223372036854775808 9223372036854775807", "*10\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n"},
      {"LRANGE l a 1", "-ERR value is not an integer or out of range\r\n"},
      {"LRANGE l 1 b", "-ERR value is not an integer or out of range\r\n"},
      {"LRANGE l 1.5 2", "-ERR value is not an integer or out of range\r\n"},
  });
}

TEST_CASE("LINDEX and LSET", "[list]") {
  CommandRunner r = list_runner();
  expect_replies(r, {
      {"LINDEX nokey 0", "$-1\r\n"},
      {"LINDEX nokey abc", "$-1\r\n"},
      {"LSET nokey 0 x", "-ERR no such key\r\n"},
      {"LSET nokey abc x", "-ERR no such key\r\n"},
      {"RPUSH l a b c", ":3\r\n"},
      {"LINDEX l 0", "$1\r\na\r\n"},
      {"LINDEX l 2", "$1\r\nc\r\n"},
      {"LINDEX l 3", "$-1\r\n"},
      {"LINDEX l -1", "$1\r\nc\r\n"},
      {"LINDEX l -3", "$1\r\na\r\n"},
      {"LINDEX l -4", "$-1\r\n"},
      {"LINDEX l abc", "-ERR value is not an integer or out of range\r\n"},
      {"LINDEX l 9223372036854775807", "$-1\r\n"},
      {"LINDEX l -9223372036854775808", "$-1\r\n"},
      {"LSET l abc x", "-ERR value is not an integer or out of range\r\n"},
      {"LSET l 3 x", "-ERR index out of range\r\n"},
      {"LSET l -4 x", "-ERR index out of range\r\n"},
      {"LSET l 0 first", "+OK\r\n"},
      {"LSET l -1 12345", "+OK\r\n"},
      {"LSET l 1 \"\"", "+OK\r\n"},
      {"LRANGE l 0 -1", "*3\r\n$5\r\nfirst\r\n$0\r\n\r\n$5\r\n12345\r\n"},
      {"LSET l 1 \"a much longer value than before, longer than sixty-four bytes in total for sure.......\"", "+OK\r\n"},
      {"LRANGE l 0 -1", "*3\r\n$5\r\nfirst\r\n$86\r\na much longer value than before, longer than sixty-four bytes in total for sure.......\r\n$5\r\n12345\r\n"},
      {"LSET l 1 -9223372036854775808", "+OK\r\n"},
      {"LINDEX l 1", "$20\r\n-9223372036854775808\r\n"},
  });
}

TEST_CASE("LINSERT", "[list]") {
  CommandRunner r = list_runner();
  expect_replies(r, {
      {"LINSERT nokey BEFORE a b", ":0\r\n"},
      {"LINSERT nokey middle a b", "-ERR syntax error\r\n"},
      {"EXISTS nokey", ":0\r\n"},
      {"RPUSH l a b c a", ":4\r\n"},
      {"LINSERT l middle a x", "-ERR syntax error\r\n"},
      {"LINSERT l BEFORE zz x", ":-1\r\n"},
      {"LINSERT l before a x", ":5\r\n"},
      {"LINSERT l AFTER a y", ":6\r\n"},
      {"LINSERT l after c z", ":7\r\n"},
      {"LRANGE l 0 -1", "*7\r\n$1\r\nx\r\n$1\r\na\r\n$1\r\ny\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nz\r\n$1\r\na\r\n"},
      {"LINSERT l AFTER z end", ":8\r\n"},
      {"LINSERT l BEFORE x start", ":9\r\n"},
      {"RPUSH n 1 2 3", ":3\r\n"},
      {"LINSERT n AFTER 2 \"2.5\"", ":4\r\n"},
      {"LINSERT n AFTER 02 never", ":-1\r\n"},
      {"LINSERT n BEFORE 1 0", ":5\r\n"},
      {"LRANGE n 0 -1", "*5\r\n$1\r\n0\r\n$1\r\n1\r\n$1\r\n2\r\n$3\r\n2.5\r\n$1\r\n3\r\n"},
  });
}

TEST_CASE("LREM", "[list]") {
  CommandRunner r = list_runner();
  expect_replies(r, {
      {"LREM nokey 0 a", ":0\r\n"},
      {"LREM nokey abc a", "-ERR value is not an integer or out of range\r\n"},
      {"RPUSH l a b a c a d a", ":7\r\n"},
      {"LREM l abc a", "-ERR value is not an integer or out of range\r\n"},
      {"LREM l 1 a", ":1\r\n"},
      {"LRANGE l 0 -1", "*6\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\na\r\n"},
      {"LREM l -1 a", ":1\r\n"},
      {"LRANGE l 0 -1", "*5\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nd\r\n"},
      {"LREM l 0 zz", ":0\r\n"},
      {"LREM l -9223372036854775808 a", ":2\r\n"},
      {"LRANGE l 0 -1", "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"},
      {"LREM l 0 b", ":1\r\n"},
      {"LREM l 2 c", ":1\r\n"},
      {"LREM l 1 d", ":1\r\n"},
      {"EXISTS l", ":0\r\n"},
      {"RPUSH n 1 01 1 -1 1.0 1", ":6\r\n"},
      {"LREM n 0 1", ":3\r\n"},
      {"LRANGE n 0 -1", "*3\r\n$2\r\n01\r\n$2\r\n-1\r\n$3\r\n1.0\r\n"},
      {"LREM n 5 01", ":1\r\n"},
      {"LREM n -5 -1", ":1\r\n"},
      {"LRANGE n 0 -1", "*1\r\n$3\r\n1.0\r\n"},
  });
}

TEST_CASE("LTRIM", "[list]") {
  CommandRunner r = list_runner();
  expect_replies(r, {
      {"LTRIM nokey 0 1", "+OK\r\n"},
      {"LTRIM nokey a 1", "-ERR value is not an integer or out of range\r\n"},
      {"RPUSH l a b c d e f g", ":7\r\n"},
      {"LTRIM l a 1", "-ERR value is not an integer or out of range\r\n"},
      {"LTRIM l 1 b", "-ERR value is not an integer or out of range\r\n"},
      {"LTRIM l 1 -2", "+OK\r\n"},
      {"LRANGE l 0 -1", "*5\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n"},
      {"LTRIM l -100 100", "+OK\r\n"},
      {"LRANGE l 0 -1", "*5\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n"},
      {"LTRIM l 1 1", "+OK\r\n"},
      {"LRANGE l 0 -1", "*1\r\n$1\r\nc\r\n"},
      {"LTRIM l 5 10", "+OK\r\n"},
      {"EXISTS l", ":0\r\n"},
      {"RPUSH l a b c", ":3\r\n"},
      {"LTRIM l 2 1", "+OK\r\n"},
      {"EXISTS l", ":0\r\n"},
      {"RPUSH l a b c", ":3\r\n"},
      {"LTRIM l -1 -2", "+OK\r\n"},
      {"EXISTS l", ":0\r\n"},
      {"RPUSH l a b c", ":3\r\n"},
      {"LTRIM l -9223372036854775808 9223372036854775807", "+OK\r\n"},
      {"LRANGE l 0 -1", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
      {"LTRIM l 0 -9223372036854775808", "+OK\r\n"},
      {"EXISTS l", ":0\r\n"},
  });
}

TEST_CASE("LPOS options, errors and search directions", "[list]") {
  CommandRunner r = list_runner();
  expect_replies(r, {
      {"LPOS nokey a", "$-1\r\n"},
      {"LPOS nokey a COUNT 0", "*0\r\n"},
      {"LPOS nokey a RANK 0", "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"},
      {"LPOS nokey a RANK abc", "-ERR value is not an integer or out of range\r\n"},
      {"LPOS nokey a COUNT -1", "-ERR COUNT can't be negative\r\n"},
      {"LPOS nokey a COUNT abc", "-ERR COUNT can't be negative\r\n"},
      {"LPOS nokey a MAXLEN -1", "-ERR MAXLEN can't be negative\r\n"},
      {"LPOS nokey a MAXLEN abc", "-ERR MAXLEN can't be negative\r\n"},
      {"LPOS nokey a foo", "-ERR syntax error\r\n"},
      {"LPOS nokey a RANK", "-ERR syntax error\r\n"},
      {"LPOS nokey a COUNT 1 COUNT 2", "*0\r\n"},
      {"RPUSH l a b c a b c a", ":7\r\n"},
      {"LPOS l a", ":0\r\n"},
      {"LPOS l a RANK 2", ":3\r\n"},
      {"LPOS l a RANK -1", ":6\r\n"},
      {"LPOS l a RANK -2 COUNT 0", "*2\r\n:3\r\n:0\r\n"},
      {"LPOS l a COUNT 0", "*3\r\n:0\r\n:3\r\n:6\r\n"},
      {"LPOS l a COUNT 2", "*2\r\n:0\r\n:3\r\n"},
      {"LPOS l a COUNT 0 MAXLEN 4", "*2\r\n:0\r\n:3\r\n"},
      {"LPOS l a COUNT 0 MAXLEN 4 RANK -1", "*2\r\n:6\r\n:3\r\n"},
      {"LPOS l z COUNT 0", "*0\r\n"},
      {"LPOS l z", "$-1\r\n"},
      {"LPOS l a RANK 5", "$-1\r\n"},
      {"LPOS l a RANK 5 COUNT 1", "*0\r\n"},
      {"LPOS l a RANK 1 RANK 0 RANK 2", "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"},
      {"LPOS l a RaNk 1 MAXLEN 0", ":0\r\n"},
      {"LPOS l a MAXLEN 1 RANK 2", "$-1\r\n"},
      {"LPOS l a RANK -9223372036854775808", ":6\r\n"},
      {"LPOS l a RANK -9223372036854775808 COUNT 0", "*3\r\n:6\r\n:3\r\n:0\r\n"},
      {"LPOS l a RANK -9223372036854775808 COUNT 2", "*3\r\n:6\r\n:3\r\n:0\r\n"},
      {"LPOS l a RANK -9223372036854775808 MAXLEN 2", ":6\r\n"},
      {"LPOS l a RANK -9223372036854775807 COUNT 0", "*0\r\n"},
      {"LPOS l a RANK 9223372036854775807 COUNT 0", "*0\r\n"},
      {"LPOS l a COUNT 9223372036854775807", "*3\r\n:0\r\n:3\r\n:6\r\n"},
      {"LPOS l a MAXLEN 9223372036854775807", ":0\r\n"},
      {"LPOS l c RANK -1 MAXLEN 1", "$-1\r\n"},
      {"LPOS l c RANK -1 MAXLEN 2", ":5\r\n"},
      {"RPUSH n 10 010 10", ":3\r\n"},
      {"LPOS n 10 COUNT 0", "*2\r\n:0\r\n:2\r\n"},
      {"LPOS n 010 COUNT 0", "*1\r\n:1\r\n"},
  });
}

TEST_CASE("LMOVE and RPOPLPUSH", "[list]") {
  CommandRunner r = list_runner();
  expect_replies(r, {
      {"LMOVE nokey l foo LEFT", "-ERR syntax error\r\n"},
      {"LMOVE nokey l LEFT foo", "-ERR syntax error\r\n"},
      {"LMOVE nokey l LEFT LEFT", "$-1\r\n"},
      {"RPOPLPUSH nokey l", "$-1\r\n"},
      {"EXISTS l", ":0\r\n"},
      {"RPUSH l a b c", ":3\r\n"},
      {"LMOVE l l LEFT RIGHT", "$1\r\na\r\n"},
      {"LRANGE l 0 -1", "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n"},
      {"LMOVE l l RIGHT LEFT", "$1\r\na\r\n"},
      {"LRANGE l 0 -1", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
      {"LMOVE l d LEFT LEFT", "$1\r\na\r\n"},
      {"LMOVE l d LEFT RIGHT", "$1\r\nb\r\n"},
      {"LMOVE l d right left", "$1\r\nc\r\n"},
      {"LRANGE d 0 -1", "*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n"},
      {"EXISTS l", ":0\r\n"},
      {"RPUSH one x", ":1\r\n"},
      {"LMOVE one one LEFT LEFT", "$1\r\nx\r\n"},
      {"LRANGE one 0 -1", "*1\r\n$1\r\nx\r\n"},
      {"RPOPLPUSH one one", "$1\r\nx\r\n"},
      {"LRANGE one 0 -1", "*1\r\n$1\r\nx\r\n"},
      {"RPOPLPUSH one two", "$1\r\nx\r\n"},
      {"EXISTS one", ":0\r\n"},
      {"LRANGE two 0 -1", "*1\r\n$1\r\nx\r\n"},
  });
}

TEST_CASE("LMPOP", "[list]") {
  CommandRunner r = list_runner();
  expect_replies(r, {
      {"LMPOP 0 a LEFT", "-ERR numkeys should be greater than 0\r\n"},
      {"LMPOP -1 a LEFT", "-ERR numkeys should be greater than 0\r\n"},
      {"LMPOP abc a LEFT", "-ERR numkeys should be greater than 0\r\n"},
      {"LMPOP 1 a", "-ERR wrong number of arguments for 'lmpop' command\r\n"},
      {"LMPOP 1 a foo", "-ERR syntax error\r\n"},
      {"LMPOP 2 a LEFT", "-ERR syntax error\r\n"},
      {"LMPOP 1 a LEFT COUNT 0", "-ERR count should be greater than 0\r\n"},
      {"LMPOP 1 a LEFT COUNT -1", "-ERR count should be greater than 0\r\n"},
      {"LMPOP 1 a LEFT COUNT abc", "-ERR count should be greater than 0\r\n"},
      {"LMPOP 1 a LEFT COUNT 1 COUNT 2", "-ERR syntax error\r\n"},
      {"LMPOP 1 a LEFT foo", "-ERR syntax error\r\n"},
      {"LMPOP 1 a LEFT COUNT", "-ERR syntax error\r\n"},
      {"LMPOP 9223372036854775807 a LEFT", "-ERR syntax error\r\n"},
      {"LMPOP 2147483648 a LEFT", "-ERR syntax error\r\n"},
      {"LMPOP 1 nokey LEFT", "*-1\r\n"},
      {"RPUSH l a b c", ":3\r\n"},
      {"LMPOP 2 nokey l LEFT", "*2\r\n$1\r\nl\r\n*1\r\n$1\r\na\r\n"},
      {"LMPOP 2 nokey l RIGHT COUNT 10", "*2\r\n$1\r\nl\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n"},
      {"EXISTS l", ":0\r\n"},
      {"RPUSH l a b c d", ":4\r\n"},
      {"LMPOP 1 l left count 2", "*2\r\n$1\r\nl\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
      {"LMPOP 3 x l l RIGHT COUNT 1", "*2\r\n$1\r\nl\r\n*1\r\n$1\r\nd\r\n"},
      {"LRANGE l 0 -1", "*1\r\n$1\r\nc\r\n"},
  });
}

TEST_CASE("blocking commands served at once, and their argument errors", "[list]") {
  CommandRunner r = list_runner();
  expect_replies(r, {
      {"BLPOP nokey abc", "-ERR timeout is not a float or out of range\r\n"},
      {"BLPOP nokey -1", "-ERR timeout is negative\r\n"},
      {"BLPOP nokey inf", "-ERR timeout is negative\r\n"},
      {"BLPOP nokey -inf", "-ERR timeout is negative\r\n"},
      {"BLPOP nokey nan", "-ERR timeout is not a float or out of range\r\n"},
      {"BLPOP nokey 1e30", "-ERR timeout is negative\r\n"},
      {"BLPOP nokey \" 1\"", "-ERR timeout is not a float or out of range\r\n"},
      {"BLPOP nokey \"\"", "-ERR timeout is not a float or out of range\r\n"},
      {"BRPOP nokey -0.5", "-ERR timeout is negative\r\n"},
      {"BLMOVE nokey x LEFT foo 0.01", "-ERR syntax error\r\n"},
      {"BLMOVE nokey x LEFT LEFT abc", "-ERR timeout is not a float or out of range\r\n"},
      {"BRPOPLPUSH nokey x abc", "-ERR timeout is not a float or out of range\r\n"},
      {"BLMPOP abc 1 nokey LEFT", "-ERR timeout is not a float or out of range\r\n"},
      {"BLMPOP abc 0 nokey LEFT", "-ERR numkeys should be greater than 0\r\n"},
      {"BLMPOP abc 1 nokey foo", "-ERR syntax error\r\n"},
      {"BLMPOP abc 1 nokey LEFT COUNT 0", "-ERR count should be greater than 0\r\n"},
      {"BLMPOP -1 1 nokey LEFT", "-ERR timeout is negative\r\n"},
      {"RPUSH l a b c d e", ":5\r\n"},
      {"BLPOP nokey l 0.01", "*2\r\n$1\r\nl\r\n$1\r\na\r\n"},
      {"BRPOP l nokey 0.01", "*2\r\n$1\r\nl\r\n$1\r\ne\r\n"},
      {"BLPOP l abc", "-ERR timeout is not a float or out of range\r\n"},
      {"BLMOVE l d RIGHT LEFT 0.01", "$1\r\nd\r\n"},
      {"BRPOPLPUSH l d 0.01", "$1\r\nc\r\n"},
      {"BLMPOP 0.01 2 nokey l LEFT COUNT 5", "*2\r\n$1\r\nl\r\n*1\r\n$1\r\nb\r\n"},
      {"EXISTS l", ":0\r\n"},
      {"LRANGE d 0 -1", "*2\r\n$1\r\nc\r\n$1\r\nd\r\n"},
      {"BLPOP d 0", "*2\r\n$1\r\nd\r\n$1\r\nc\r\n"},
      {"BRPOP d 1e-3", "*2\r\n$1\r\nd\r\n$1\r\nd\r\n"},
      {"EXISTS d", ":0\r\n"},
  });
}

TEST_CASE("integer-looking elements keep their exact bytes", "[list]") {
  CommandRunner r = list_runner();
  expect_replies(r, {
      {"RPUSH l 0 -0 007 1e3 127 128 -1 4095 4096 -4096 -4097 32767 32768 -32768 -32769 8388607 8388608 -8388608 -8388609 2147483647 2147483648 -2147483648 -2147483649 9223372036854775807 9223372036854775808 -9223372036854775808 -9223372036854775809 \" 1\" \"1 \" \"\" \"\\x00\" +1 0x10", ":33\r\n"},
      {"LRANGE l 0 -1", "*33\r\n$1\r\n0\r\n$2\r\n-0\r\n$3\r\n007\r\n$3\r\n1e3\r\n$3\r\n127\r\n$3\r\n128\r\n$2\r\n-1\r\n$4\r\n4095\r\n$4\r\n4096\r\n$5\r\n-4096\r\n$5\r\n-4097\r\n$5\r\n32767\r\n$5\r\n32768\r\n$6\r\n-32768\r\n$6\r\n-32769\r\n$7\r\n8388607\r\n$7\r\n8388608\r\n$8\r\n-8388608\r\n$8\r\n-8388609\r\n$10\r\n2147483647\r\n$10\r\n2147483648\r\n$11\r\n-2147483648\r\n$11\r\n-2147483649\r\n$19\r\n9223372036854775807\r\n$19\r\n9223372036854775808\r\n$20\r\n-9223372036854775808\r\n$20\r\n-9223372036854775809\r\n$2\r\n 1\r\n$2\r\n1 \r\n$0\r\n\r\n$1\r\n\000\r\n$2\r\n+1\r\n$4\r\n0x10\r\n"s},
      {"LLEN l", ":33\r\n"},
      {"LINDEX l 2", "$3\r\n007\r\n"},
      {"LINDEX l -10", "$19\r\n9223372036854775807\r\n"},
      {"LPOS l -0", ":1\r\n"},
      {"LPOS l 0", ":0\r\n"},
      {"LPOS l 9223372036854775807", ":23\r\n"},
      {"LREM l 0 007", ":1\r\n"},
      {"LREM l 0 128", ":1\r\n"},
      {"LINSERT l AFTER -9223372036854775808 x", ":32\r\n"},
      {"LSET l 0 -4096", "+OK\r\n"},
      {"LRANGE l 0 5", "*6\r\n$5\r\n-4096\r\n$2\r\n-0\r\n$3\r\n1e3\r\n$3\r\n127\r\n$2\r\n-1\r\n$4\r\n4095\r\n"},
      {"LPOS l x", ":24\r\n"},
  });
}

TEST_CASE("RESP3 replies", "[list]") {
  CommandRunner r = list_runner();
  r.resp_version = 3;
  expect_replies(r, {
      {"LPOP nokey", "_\r\n"},
      {"LPOP nokey 1", "_\r\n"},
      {"RPOP nokey 0", "_\r\n"},
      {"LINDEX nokey 0", "_\r\n"},
      {"LPOS nokey a", "_\r\n"},
      {"LPOS nokey a COUNT 0", "*0\r\n"},
      {"LMPOP 1 nokey LEFT", "_\r\n"},
      {"LMOVE nokey x LEFT LEFT", "_\r\n"},
      {"RPUSH l a b c 1 2 d e", ":7\r\n"},
      {"LPOP l 0", "*0\r\n"},
      {"LPOP l 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
      {"LPOS l 1", ":1\r\n"},
      {"LPOS l c COUNT 0", "*1\r\n:0\r\n"},
      {"LMPOP 1 l RIGHT COUNT 2", "*2\r\n$1\r\nl\r\n*2\r\n$1\r\ne\r\n$1\r\nd\r\n"},
      {"BLPOP l 0.01", "*2\r\n$1\r\nl\r\n$1\r\nc\r\n"},
      {"BLMPOP 0.01 1 l LEFT", "*2\r\n$1\r\nl\r\n*1\r\n$1\r\n1\r\n"},
      {"LRANGE l 0 -1", "*1\r\n$1\r\n2\r\n"},
  });
}

// ---------------------------------------------------------------------------
// Blocking paths (not replayable on redis-server as-is: they wait)

TEST_CASE("blocking commands block when nothing can be served", "[list]") {
  using TR = server::CommandContext::TimeoutReply;
  CommandRunner r = list_runner();
  struct Case {
    const char* line;
    int64_t timeout_ms;
  };
  for (const Case& c : {Case{"BLPOP nokey 1.5", 1500}, Case{"BRPOP a b c 0", 0}, Case{"BLPOP nokey 0.0001", 0},
                        Case{"BLPOP nokey -0.0001", 0},  // truncates to 0 ms: Redis then waits forever
                        Case{"BLPOP nokey 9223372036854775", 0},  // overflows Redis's deadline: forever
                        Case{"BLPOP nokey 0x10", 16000}, Case{"BLMOVE nokey d LEFT RIGHT 0.25", 250},
                        Case{"BRPOPLPUSH nokey d 2", 2000}, Case{"BLMPOP 0.01 2 a b LEFT COUNT 3", 10}}) {
    INFO(c.line);
    Outcome o = run_direct(r, c.line);
    CHECK(o.blocked);
    CHECK(o.reply.empty());
    CHECK(o.timeout_ms == c.timeout_ms);
    // Redis 7.0 answers a timed-out wait with a null array, BLMOVE and BRPOPLPUSH included.
    CHECK(o.timeout_reply == TR::kNullArray);
  }
}

TEST_CASE("blocking commands that may not block reply the timeout reply at once", "[list]") {
  CommandRunner r = list_runner();
  // Inside MULTI, Redis 7.0 replies *-1 for the pops but $-1 for the moves.
  CHECK(run_direct(r, "BLPOP nokey 1", false).reply == resp::nil_array());
  CHECK(run_direct(r, "BRPOP nokey 1", false).reply == resp::nil_array());
  CHECK(run_direct(r, "BLMPOP 1 1 nokey LEFT", false).reply == resp::nil_array());
  CHECK(run_direct(r, "BLMOVE nokey x LEFT LEFT 1", false).reply == resp::nil());
  CHECK(run_direct(r, "BRPOPLPUSH nokey x 1", false).reply == resp::nil());
  CHECK_FALSE(run_direct(r, "BLPOP nokey 1", false).blocked);
  // Argument errors win over blocking.
  Outcome o = run_direct(r, "BLPOP nokey -1");
  CHECK_FALSE(o.blocked);
  CHECK(o.reply == resp::error("ERR timeout is negative"));
}

TEST_CASE("a blocked command re-run after a push serves the element", "[list]") {
  CommandRunner r = list_runner();
  Outcome first = run_direct(r, "BLMPOP 5 2 q1 q2 RIGHT COUNT 2");
  CHECK(first.blocked);
  Outcome push = run_direct(r, "RPUSH q2 a b c");
  CHECK(push.ready == std::vector<std::string>{"q2"});
  Outcome again = run_direct(r, "BLMPOP 5 2 q1 q2 RIGHT COUNT 2");
  CHECK_FALSE(again.blocked);
  CHECK(again.reply == resp::array({resp::bulk("q2"), resp::bulk_array({"c", "b"})}));
}

TEST_CASE("commands that add elements signal the key as ready", "[list]") {
  CommandRunner r = list_runner();
  CHECK(run_direct(r, "LPUSH a x").ready == std::vector<std::string>{"a"});
  CHECK(run_direct(r, "RPUSH a y").ready == std::vector<std::string>{"a"});
  CHECK(run_direct(r, "LPUSHX a z").ready == std::vector<std::string>{"a"});
  CHECK(run_direct(r, "RPUSHX nokey z").ready.empty());
  CHECK(run_direct(r, "LINSERT a BEFORE x w").ready == std::vector<std::string>{"a"});
  CHECK(run_direct(r, "LINSERT a BEFORE missing w").ready.empty());
  CHECK(run_direct(r, "LMOVE a b LEFT LEFT").ready == std::vector<std::string>{"b"});
  CHECK(run_direct(r, "RPOPLPUSH a c").ready == std::vector<std::string>{"c"});
  CHECK(run_direct(r, "BLMOVE a d LEFT LEFT 1").ready == std::vector<std::string>{"d"});
  CHECK(run_direct(r, "LMOVE nokey d LEFT LEFT").ready.empty());
  CHECK(run_direct(r, "LPOP a").ready.empty());
}

TEST_CASE("key extraction for the list commands", "[list]") {
  auto keys = [](std::initializer_list<std::string> argv, bool& ok) {
    distcache::protocol::ArgList args;
    for (const auto& a : argv) args.add(a);
    const server::CommandSpec* spec = nullptr;
    for (const auto& s : server::list_command_specs())
      if (distcache::test::CommandRunner({server::list_command_specs}).find_top(args[0]) == &s) spec = &s;
    REQUIRE(spec != nullptr);
    std::vector<int> out;
    ok = server::extract_keys(*spec, args, out);
    return out;
  };
  bool ok;
  CHECK(keys({"lmpop", "2", "a", "b", "left"}, ok) == std::vector<int>{2, 3});
  CHECK(ok);
  CHECK(keys({"lmpop", "2", "a", "left"}, ok) == std::vector<int>{2, 3});  // as COMMAND GETKEYS on Redis
  keys({"lmpop", "3", "a", "left"}, ok);
  CHECK_FALSE(ok);
  keys({"lmpop", "0", "a", "left"}, ok);
  CHECK_FALSE(ok);
  keys({"lmpop", "x", "a", "left"}, ok);
  CHECK_FALSE(ok);
  CHECK(keys({"blmpop", "0", "2", "a", "b", "left", "count", "3"}, ok) == std::vector<int>{3, 4});
  CHECK(ok);
  CHECK(keys({"blpop", "a", "b", "c", "0"}, ok) == std::vector<int>{1, 2, 3});
  CHECK(keys({"blmove", "a", "b", "left", "left", "0"}, ok) == std::vector<int>{1, 2});
  CHECK(keys({"rpoplpush", "a", "b"}, ok) == std::vector<int>{1, 2});
  CHECK(keys({"lmove", "a", "b", "left", "right"}, ok) == std::vector<int>{1, 2});
  CHECK(keys({"brpoplpush", "a", "b", "1"}, ok) == std::vector<int>{1, 2});
}

// ---------------------------------------------------------------------------
// Representation seen through the commands

TEST_CASE("lists report the quicklist encoding at every size, as Redis 7.0", "[list]") {
  CommandRunner r = list_runner();
  const std::string enc = resp::bulk("quicklist");
  CHECK(r.run("RPUSH l a") == resp::integer(1));
  CHECK(r.run("OBJECT ENCODING l") == enc);
  std::vector<std::string> push{"RPUSH", "l"};
  for (int i = 0; i < 5000; ++i) push.push_back(numbered("element-", i));
  CHECK(r.run(push) == resp::integer(5001));
  CHECK(r.run("OBJECT ENCODING l") == enc);
  CHECK(list_at(r, "l").node_count() > 1);
  CHECK(r.run("LTRIM l 0 2") == resp::ok());
  CHECK(r.run("OBJECT ENCODING l") == enc);
  CHECK(list_at(r, "l").node_count() == 1);
  CHECK(r.run("RPUSH big " + std::string(100000, 'x')) == resp::integer(1));
  CHECK(r.run("OBJECT ENCODING big") == enc);
}

TEST_CASE("list-max-listpack-size decides the node size", "[list]") {
  CommandRunner r = list_runner();
  r.config.list_max_listpack_size.store(4);
  std::vector<std::string> push{"RPUSH", "l"};
  for (int i = 0; i < 10; ++i) push.push_back(numbered("v", i));
  CHECK(r.run(push) == resp::integer(10));
  const storage::List& l = list_at(r, "l");
  CHECK(l.fill() == 4);
  REQUIRE(l.node_count() == 3);
  CHECK(l.node_entries(0) == 4);
  CHECK(l.node_entries(1) == 4);
  CHECK(l.node_entries(2) == 2);
  CHECK(l.validate().empty());

  // Byte limits: -1 = 4 KiB per node. 100-byte strings take 103 bytes each
  // (2-byte header, 1-byte back-length), so 39 fit in 4096 bytes.
  r.config.list_max_listpack_size.store(-1);
  std::vector<std::string> big{"RPUSH", "b"};
  for (int i = 0; i < 40; ++i) big.push_back(std::string(100, static_cast<char>('a' + i % 26)));
  CHECK(r.run(big) == resp::integer(40));
  const storage::List& b = list_at(r, "b");
  REQUIRE(b.node_count() == 2);
  CHECK(b.node_entries(0) == 39);
  CHECK(b.node_bytes(0) == 39 * 103);
  CHECK(b.node_entries(1) == 1);
}

TEST_CASE("LRANGE and pops over a large list", "[list]") {
  CommandRunner r = list_runner();
  std::vector<std::string> push{"RPUSH", "l"};
  for (int i = 0; i < 100000; ++i) push.push_back(std::to_string(i));
  CHECK(r.run(push) == resp::integer(100000));
  CHECK(r.run("LINDEX l 54321") == resp::bulk("54321"));
  CHECK(r.run("LINDEX l -1") == resp::bulk("99999"));
  CHECK(r.run("LRANGE l 99998 -1") == resp::bulk_array({"99998", "99999"}));
  const std::string all = r.run("LRANGE l 0 -1");
  CHECK(all.rfind("*100000\r\n", 0) == 0);
  CHECK(all.size() > 100000 * 7);
  CHECK(r.run("LPOS l 77777") == resp::integer(77777));
  CHECK(r.run("LPOS l 77777 RANK -1 MAXLEN 22223") == resp::integer(77777));
  CHECK(r.run("LPOS l 77777 RANK -1 MAXLEN 22222") == resp::nil());
  CHECK(r.run("LSET l 50000 x") == resp::ok());
  CHECK(r.run("LINSERT l BEFORE x y") == resp::integer(100001));
  CHECK(r.run("LRANGE l 49999 50002") == resp::bulk_array({"49999", "y", "x", "50001"}));
  CHECK(r.run("LREM l 0 y") == resp::integer(1));
  const std::string popped = r.run("LPOP l 60000");
  CHECK(popped.rfind("*60000\r\n$1\r\n0\r\n", 0) == 0);
  CHECK(r.run("LLEN l") == resp::integer(40000));
  CHECK(r.run("LINDEX l 0") == resp::bulk("60000"));
  CHECK(list_at(r, "l").validate().empty());
}
