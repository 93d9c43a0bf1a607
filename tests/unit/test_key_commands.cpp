// Generic key and expiry command handlers. The expected bytes of every
// expect_replies block were captured from redis-server 7.0.15 by replaying the
// block on an empty database; expect_replies_local blocks depend on the
// simulated clock, other databases or the configuration.
#include <catch2/catch.hpp>

#include <string>

#include "server/command_table.h"
#include "tests/unit/command_test_util.h"

using distcache::test::CommandRunner;
using distcache::test::expect_replies;
using distcache::test::expect_replies_local;
namespace resp = distcache::test::resp;

namespace {
const std::string kWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const std::string kNotInt = "-ERR value is not an integer or out of range\r\n";
const std::string kSyntax = "-ERR syntax error\r\n";
const std::string kNoSuchKey = "-ERR no such key\r\n";
const std::string kSame = "-ERR source and destination objects are the same\r\n";
const std::string kDbRange = "-ERR DB index is out of range\r\n";
const std::string kIntRange = "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n";
}  // namespace

TEST_CASE("DEL UNLINK EXISTS TOUCH TYPE", "[keys]") {
  CommandRunner r;
  expect_replies(r, {
      {"SET a 1", "+OK\r\n"},
      {"SET b 2", "+OK\r\n"},
      {"DEL a a b c", ":2\r\n"},
      {"DEL a", ":0\r\n"},
      {"SET a 1", "+OK\r\n"},
      {"@list l", "+OK\r\n"},
      {"EXISTS a a c", ":2\r\n"},
      {"EXISTS a l", ":2\r\n"},
      {"EXISTS nokey", ":0\r\n"},
      {"TOUCH a a c", ":2\r\n"},
      {"TOUCH l", ":1\r\n"},
      {"UNLINK a a l", ":2\r\n"},
      {"TYPE a", "+none\r\n"},
      {"SET a 1", "+OK\r\n"},
      {"TYPE a", "+string\r\n"},
      {"@list l", "+OK\r\n"},
      {"TYPE l", "+list\r\n"},
      {"@set s", "+OK\r\n"},
      {"TYPE s", "+set\r\n"},
      {"@zset z", "+OK\r\n"},
      {"TYPE z", "+zset\r\n"},
      {"@hash h", "+OK\r\n"},
      {"TYPE h", "+hash\r\n"},
      {"@stream x", "+OK\r\n"},
      {"TYPE x", "+stream\r\n"},
      {"DEL a l s z h x", ":6\r\n"},
  });
}

TEST_CASE("Expired keys are absent for the key commands", "[keys]") {
  CommandRunner r;
  expect_replies_local(r, {{"SET a 1 PX 100", "+OK\r\n"}, {"SET b 2 PX 100", "+OK\r\n"}, {"SET c 3", "+OK\r\n"}});
  r.now_ms += 101;
  expect_replies_local(r, {
      {"EXISTS a b c", ":1\r\n"},
      {"TYPE a", "+none\r\n"},
      {"DEL b c", ":1\r\n"},
      {"RENAME a z", kNoSuchKey},
      {"TTL a", ":-2\r\n"},
      {"PERSIST a", ":0\r\n"},
      {"EXPIRE a 100", ":0\r\n"},
  });
  CHECK(r.db().size() == 0);
}

TEST_CASE("RENAME and RENAMENX", "[keys][rename]") {
  CommandRunner r;
  expect_replies(r, {
      {"SET a 1", "+OK\r\n"},
      {"RENAME a a", "+OK\r\n"},
      {"RENAMENX a a", ":0\r\n"},
      {"RENAME zz zz", kNoSuchKey},
      {"RENAMENX zz zz", kNoSuchKey},
      {"RENAME zz b", kNoSuchKey},
      {"RENAMENX zz b", kNoSuchKey},
      {"EXPIRE a 100", ":1\r\n"},
      {"RENAME a b", "+OK\r\n"},
      {"EXISTS a", ":0\r\n"},
      {"TTL b", ":100\r\n"},
      {"GET b", "$1\r\n1\r\n"},
      {"SET c 3 EX 50", "+OK\r\n"},
      {"RENAMENX b c", ":0\r\n"},
      {"TTL c", ":50\r\n"},
      {"RENAMENX b d", ":1\r\n"},
      {"TTL d", ":100\r\n"},
      {"SET e 5", "+OK\r\n"},
      {"RENAME e c", "+OK\r\n"},
      {"TTL c", ":-1\r\n"},
      {"GET c", "$1\r\n5\r\n"},
      {"@list l", "+OK\r\n"},
      {"RENAME l c", "+OK\r\n"},
      {"TYPE c", "+list\r\n"},
      {"RENAME d c", "+OK\r\n"},
      {"TYPE c", "+string\r\n"},
      {"TTL c", ":100\r\n"},
      {"SET \"a\\x00b\" v", "+OK\r\n"},
      {"RENAME \"a\\x00b\" \"a\\x00c\"", "+OK\r\n"},
      {"GET \"a\\x00c\"", "$1\r\nv\r\n"},
  });
}

TEST_CASE("COPY", "[keys][copy]") {
  CommandRunner r;
  expect_replies(r, {
      {"SET d 1 EX 100", "+OK\r\n"},
      {"COPY d d", kSame},
      {"COPY d d DB 0", kSame},
      {"COPY zz zz", kSame},
      {"COPY zz c", ":0\r\n"},
      {"COPY d e", ":1\r\n"},
      {"GET e", "$1\r\n1\r\n"},
      {"TTL e", ":100\r\n"},
      {"SET c 3", "+OK\r\n"},
      {"COPY d c", ":0\r\n"},
      {"GET c", "$1\r\n3\r\n"},
      {"COPY d c REPLACE", ":1\r\n"},
      {"GET c", "$1\r\n1\r\n"},
      {"TTL c", ":100\r\n"},
      {"SET f 6", "+OK\r\n"},
      {"COPY f c replace", ":1\r\n"},
      {"TTL c", ":-1\r\n"},
      {"COPY d e DB", kSyntax},
      {"COPY d e DB 16", kDbRange},
      {"COPY d e DB -1", kDbRange},
      {"COPY d e DB abc", kNotInt},
      {"COPY d e DB 99999999999", kIntRange},
      {"COPY d e DB 99999999999999999999", kNotInt},
      {"COPY d e foo", kSyntax},
      {"COPY d e REPLACE foo", kSyntax},
      {"COPY d e DB 99 foo", kDbRange},
      {"COPY d e foo DB 99", kSyntax},
      {"@list l", "+OK\r\n"},
      {"COPY l l2", ":1\r\n"},
      {"TYPE l2", "+list\r\n"},
      {"COPY d l2 REPLACE REPLACE", ":1\r\n"},
      {"TYPE l2", "+string\r\n"},
      {"SET d 2", "+OK\r\n"},
      {"GET l2", "$1\r\n1\r\n"},
  });
}

TEST_CASE("COPY and MOVE across databases", "[keys][copy][move]") {
  CommandRunner r;
  expect_replies_local(r, {
      {"SET d 1 EX 100", "+OK\r\n"},
      {"COPY d d DB 1", ":1\r\n"},
      {"COPY d x db 2 db 3", ":1\r\n"},
      {"MOVE d 0", kSame},
      {"MOVE d 16", kDbRange},
      {"MOVE d -1", kDbRange},
      {"MOVE d abc", kNotInt},
      {"MOVE d 99999999999", kIntRange},
      {"MOVE zz 1", ":0\r\n"},
      {"MOVE d 1", ":0\r\n"},
      {"SET c 3 PX 5000", "+OK\r\n"},
      {"MOVE c 1", ":1\r\n"},
      {"EXISTS c", ":0\r\n"},
  });
  r.db_index = 1;
  expect_replies_local(r, {
      {"TTL d", ":100\r\n"},
      {"GET d", "$1\r\n1\r\n"},
      {"PTTL c", ":5000\r\n"},
      {"GET x", "$-1\r\n"},
      {"COPY c c DB 1", kSame},
      {"COPY c c DB 0", ":1\r\n"},
      {"MOVE c 0", ":0\r\n"},
  });
  r.db_index = 3;
  expect_replies_local(r, {{"GET x", "$1\r\n1\r\n"}, {"TTL x", ":100\r\n"}});
  r.db_index = 2;
  expect_replies_local(r, {{"EXISTS x", ":0\r\n"}});

  // In cluster mode only database 0 may be involved.
  r.config.cluster_enabled = true;
  r.db_index = 0;
  expect_replies_local(r, {
      {"COPY c y", ":1\r\n"},
      {"COPY c y DB 1", "-ERR Copying to another database is not allowed in cluster mode\r\n"},
      {"MOVE c 1", "-ERR MOVE is not allowed in cluster mode\r\n"},
      {"MOVE c abc", "-ERR MOVE is not allowed in cluster mode\r\n"},
  });
  r.db_index = 1;
  expect_replies_local(r, {{"COPY c y", "-ERR Copying to another database is not allowed in cluster mode\r\n"}});
}

TEST_CASE("OBJECT", "[keys][object]") {
  CommandRunner r;
  expect_replies(r, {
      {"SET a 100", "+OK\r\n"},
      {"SET b 10000", "+OK\r\n"},
      {"SET c hello", "+OK\r\n"},
      {"SET d -1", "+OK\r\n"},
      {"SET e 0123456789012345678901234567890123456789012345", "+OK\r\n"},
      {"OBJECT ENCODING a", "$3\r\nint\r\n"},
      {"OBJECT ENCODING c", "$6\r\nembstr\r\n"},
      {"OBJECT ENCODING e", "$3\r\nraw\r\n"},
      {"object encoding d", "$3\r\nint\r\n"},
      {"OBJECT REFCOUNT a", ":2147483647\r\n"},
      {"OBJECT REFCOUNT b", ":1\r\n"},
      {"OBJECT REFCOUNT c", ":1\r\n"},
      {"OBJECT REFCOUNT d", ":1\r\n"},
      {"OBJECT REFCOUNT zz", "$-1\r\n"},
      {"OBJECT ENCODING zz", "$-1\r\n"},
      {"OBJECT IDLETIME zz", "$-1\r\n"},
      {"OBJECT FREQ zz", "$-1\r\n"},
      {"OBJECT FREQ a",
       "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
       "switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n"},
      {"OBJECT foo", "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n"},
      {"OBJECT foo a", "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n"},
      {"OBJECT ENCODING", "-ERR wrong number of arguments for 'object|encoding' command\r\n"},
      {"OBJECT ENCODING a b", "-ERR wrong number of arguments for 'object|encoding' command\r\n"},
      {"OBJECT HELP x", "-ERR wrong number of arguments for 'object|help' command\r\n"},
      {"OBJECT", "-ERR wrong number of arguments for 'object' command\r\n"},
      {"OBJECT help",
       "*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING <key>\r\n"
       "+    Return the kind of internal representation used in order to store the value\r\n"
       "+    associated with a <key>.\r\n+FREQ <key>\r\n"
       "+    Return the access frequency index of the <key>. The returned integer is\r\n"
       "+    proportional to the logarithm of the recent access frequency of the key.\r\n+IDLETIME <key>\r\n"
       "+    Return the idle time of the <key>, that is the approximated number of\r\n"
       "+    seconds elapsed since the last access to the key.\r\n+REFCOUNT <key>\r\n"
       "+    Return the number of references of the value associated with the specified\r\n"
       "+    <key>.\r\n+HELP\r\n+    Prints this help.\r\n"},
      {"INCR f", ":1\r\n"},
      {"OBJECT REFCOUNT f", ":2147483647\r\n"},
      {"APPEND a 1", ":4\r\n"},
      {"OBJECT ENCODING a", "$3\r\nraw\r\n"},
      {"OBJECT REFCOUNT a", ":1\r\n"},
  });
}

TEST_CASE("OBJECT IDLETIME is not tracked", "[keys][object]") {
  CommandRunner r;
  expect_replies_local(r, {{"SET a 1", "+OK\r\n"}, {"OBJECT IDLETIME a", ":0\r\n"}});
}

TEST_CASE("EXPIRE family options and errors", "[keys][expire]") {
  CommandRunner r;
  const std::string nx_conflict = "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n";
  const std::string gt_lt = "-ERR GT and LT options at the same time are not compatible\r\n";
  expect_replies(r, {
      {"SET d 1", "+OK\r\n"},
      {"EXPIRE d 100 NX XX", nx_conflict},
      {"EXPIRE d 100 nx gt", nx_conflict},
      {"EXPIRE d 100 LT NX", nx_conflict},
      {"EXPIRE d 100 GT LT", gt_lt},
      {"EXPIRE d 100 gt xx lt", gt_lt},
      {"EXPIRE d 100 NX XX GT LT", nx_conflict},
      {"EXPIRE d 100 foo", "-ERR Unsupported option foo\r\n"},
      {"EXPIRE d abc foo", "-ERR Unsupported option foo\r\n"},
      {"EXPIRE d 100 NX foo", "-ERR Unsupported option foo\r\n"},
      {"PEXPIRE d 100 \"b\\x00ar\"", "-ERR Unsupported option b\r\n"},
      {"EXPIRE d abc", kNotInt},
      {"EXPIRE d abc NX XX", nx_conflict},
      {"EXPIRE d 1.5", kNotInt},
      {"EXPIRE zz abc", kNotInt},
      {"EXPIRE d 9223372036854776", "-ERR invalid expire time in 'expire' command\r\n"},
      {"EXPIRE d 9223372036854775", "-ERR invalid expire time in 'expire' command\r\n"},
      {"Expire d 9223372036854775", "-ERR invalid expire time in 'expire' command\r\n"},
      {"PEXPIRE d 9223372036854775807", "-ERR invalid expire time in 'pexpire' command\r\n"},
      {"EXPIRE d -9223372036854776", "-ERR invalid expire time in 'expire' command\r\n"},
      {"EXPIREAT d 9223372036854776", "-ERR invalid expire time in 'expireat' command\r\n"},
      {"EXPIRE zz 9223372036854776", "-ERR invalid expire time in 'expire' command\r\n"},
      {"TTL d", ":-1\r\n"},
      {"EXPIRE zz 100", ":0\r\n"},
      {"PEXPIRE zz 100", ":0\r\n"},
      {"EXPIREAT zz 1", ":0\r\n"},
      {"PEXPIREAT zz 1", ":0\r\n"},
      {"EXPIRE d 100 nx nx", ":1\r\n"},
      {"TTL d", ":100\r\n"},
  });
}

TEST_CASE("EXPIRE NX XX GT LT", "[keys][expire]") {
  CommandRunner r;
  expect_replies(r, {
      {"SET d 1", "+OK\r\n"},
      {"EXPIRE d 100 XX", ":0\r\n"},
      {"EXPIRE d 100 GT", ":0\r\n"},
      {"EXPIRE d 100 XX GT", ":0\r\n"},
      {"EXPIRE d 100 XX LT", ":0\r\n"},
      {"TTL d", ":-1\r\n"},
      {"EXPIRE d 100 LT", ":1\r\n"},
      {"EXPIRE d 200 NX", ":0\r\n"},
      {"EXPIRE d 200 XX", ":1\r\n"},
      {"EXPIRE d 100 GT", ":0\r\n"},
      {"EXPIRE d 200 GT", ":0\r\n"},
      {"EXPIRE d 300 GT", ":1\r\n"},
      {"EXPIRE d 300 LT", ":0\r\n"},
      {"EXPIRE d 400 LT", ":0\r\n"},
      {"EXPIRE d 200 XX LT", ":1\r\n"},
      {"TTL d", ":200\r\n"},
      {"PERSIST d", ":1\r\n"},
      {"EXPIRE d 100 NX", ":1\r\n"},
      {"PEXPIREAT d 4102444800000 GT", ":1\r\n"},
      {"PEXPIRETIME d", ":4102444800000\r\n"},
      {"EXPIREAT d 4102444801 LT", ":0\r\n"},
      {"EXPIREAT d 4102444799 LT", ":1\r\n"},
      {"EXPIRETIME d", ":4102444799\r\n"},
      {"PERSIST d", ":1\r\n"},
      {"EXPIRE d -1 GT", ":0\r\n"},
      {"EXPIRE d 0 XX", ":0\r\n"},
      {"EXISTS d", ":1\r\n"},
      {"EXPIREAT d 1 LT", ":1\r\n"},
      {"EXISTS d", ":0\r\n"},
      {"SET d 1", "+OK\r\n"},
      {"EXPIRE d 10 Nx", ":1\r\n"},
      {"EXPIRE d -5 lt", ":1\r\n"},
      {"EXISTS d", ":0\r\n"},
  });
}

TEST_CASE("EXPIRE in the past deletes, extreme values", "[keys][expire]") {
  CommandRunner r;
  expect_replies(r, {
      {"SET d 1", "+OK\r\n"},
      {"EXPIRE d 0", ":1\r\n"},
      {"EXISTS d", ":0\r\n"},
      {"SET d 1", "+OK\r\n"},
      {"EXPIRE d -9223372036854775", ":1\r\n"},
      {"EXISTS d", ":0\r\n"},
      {"SET d 1", "+OK\r\n"},
      {"PEXPIRE d -9223372036854775808", ":1\r\n"},
      {"GET d", "$-1\r\n"},
      {"SET d 1", "+OK\r\n"},
      {"EXPIREAT d -1", ":1\r\n"},
      {"EXISTS d", ":0\r\n"},
      {"SET d 1", "+OK\r\n"},
      {"PEXPIREAT d 0", ":1\r\n"},
      {"EXISTS d", ":0\r\n"},
      {"SET d 1", "+OK\r\n"},
      {"EXPIREAT d 9223372036854775", ":1\r\n"},
      {"PEXPIRETIME d", ":9223372036854775000\r\n"},
      {"EXPIRETIME d", ":9223372036854775\r\n"},
      {"PEXPIREAT d 9223372036854775807", ":1\r\n"},
      {"PEXPIRETIME d", ":9223372036854775807\r\n"},
      {"EXPIRETIME d", ":9223372036854776\r\n"},
      {"PEXPIRE d 9223370000000000000", ":1\r\n"},
      {"PERSIST d", ":1\r\n"},
      {"PERSIST d", ":0\r\n"},
      {"PERSIST zz", ":0\r\n"},
  });
}

TEST_CASE("TTL PTTL EXPIRETIME PEXPIRETIME", "[keys][expire]") {
  CommandRunner r;
  expect_replies(r, {
      {"TTL zz", ":-2\r\n"},
      {"PTTL zz", ":-2\r\n"},
      {"EXPIRETIME zz", ":-2\r\n"},
      {"PEXPIRETIME zz", ":-2\r\n"},
      {"@list l", "+OK\r\n"},
      {"TTL l", ":-1\r\n"},
      {"PTTL l", ":-1\r\n"},
      {"EXPIRETIME l", ":-1\r\n"},
      {"PEXPIRETIME l", ":-1\r\n"},
      {"EXPIRE l 100", ":1\r\n"},
      {"TTL l", ":100\r\n"},
      {"PERSIST l", ":1\r\n"},
      {"TTL l", ":-1\r\n"},
  });
}

TEST_CASE("TTL rounding and the simulated clock", "[keys][expire]") {
  CommandRunner r;
  const int64_t now = r.now_ms;
  expect_replies_local(r, {
      {"SET d 1", "+OK\r\n"},
      {"PEXPIRE d 1500", ":1\r\n"},
      {"TTL d", ":2\r\n"},
      {"PEXPIRE d 1499", ":1\r\n"},
      {"TTL d", ":1\r\n"},
      {"PTTL d", ":1499\r\n"},
      {"PEXPIRETIME d", resp::integer(now + 1499)},
      {"EXPIRETIME d", resp::integer((now + 1499 + 500) / 1000)},
      {"PEXPIRE d 1", ":1\r\n"},
      {"TTL d", ":0\r\n"},
      {"PTTL d", ":1\r\n"},
  });
  r.now_ms += 1;  // at its expiry time the key still exists (Redis: expired when now > when)
  expect_replies_local(r, {{"TTL d", ":0\r\n"}, {"PTTL d", ":0\r\n"}, {"EXISTS d", ":1\r\n"}});
  r.now_ms += 1;
  expect_replies_local(r, {{"TTL d", ":-2\r\n"}, {"PTTL d", ":-2\r\n"}});
  // EXPIREAT exactly now deletes; one ms later keeps the key.
  expect_replies_local(r, {
      {"SET d 1", "+OK\r\n"},
      {"PEXPIREAT d " + std::to_string(r.now_ms + 1), ":1\r\n"},
      {"PTTL d", ":1\r\n"},
      {"PEXPIREAT d " + std::to_string(r.now_ms), ":1\r\n"},
      {"EXISTS d", ":0\r\n"},
      {"SET d 1", "+OK\r\n"},
      {"EXPIRE d 10", ":1\r\n"},
      {"EXPIREAT d " + std::to_string(r.now_ms / 1000 + 5) + " GT", ":0\r\n"},
      {"EXPIREAT d " + std::to_string(r.now_ms / 1000 + 5) + " LT", ":1\r\n"},
  });
}

TEST_CASE("Spec table metadata", "[keys][string][spec]") {
  using namespace distcache::server;
  auto find = [](std::string_view name) -> const CommandSpec* {
    for (auto family : {string_command_specs(), key_command_specs()})
      for (const CommandSpec& s : family)
        if (s.name == name) return &s;
    return nullptr;
  };
  const CommandSpec* set = find("set");
  REQUIRE(set);
  CHECK(set->arity == -3);
  CHECK(set->flags == (kCmdWrite | kCmdDenyOom));
  CHECK(set->acl == (kAclWrite | kAclString | kAclSlow));
  CHECK(set->group == "string");
  const CommandSpec* mset = find("mset");
  REQUIRE(mset);
  CHECK((mset->first_key == 1 && mset->last_key == -1 && mset->key_step == 2));
  const CommandSpec* lcs = find("lcs");
  REQUIRE(lcs);
  CHECK((lcs->first_key == 1 && lcs->last_key == 2 && lcs->key_step == 1));
  const CommandSpec* object = find("object");
  REQUIRE(object);
  CHECK(object->keyed == nullptr);
  CHECK(object->subcommands.size() == 5);
  for (const CommandSpec& sub : object->subcommands) {
    INFO(sub.name);
    CHECK(sub.keyed != nullptr);
    CHECK(sub.name.substr(0, 7) == "object|");
    if (sub.name != "object|help") CHECK((sub.first_key == 2 && sub.last_key == 2 && sub.arity == 3));
  }
  const CommandSpec* expire = find("expire");
  REQUIRE(expire);
  CHECK(expire->group == "generic");
  CHECK(expire->acl == (kAclKeyspace | kAclWrite | kAclFast));
  for (auto family : {string_command_specs(), key_command_specs()})
    for (const CommandSpec& s : family) {
      INFO(s.name);
      CHECK(!s.summary.empty());
      CHECK(!s.since.empty());
      CHECK(!s.complexity.empty());
      CHECK((s.keyed != nullptr || !s.subcommands.empty()));
      for (char c : s.name) CHECK(!(c >= 'A' && c <= 'Z'));
    }
}

TEST_CASE("Key command arities", "[keys][spec]") {
  CommandRunner r;
  auto wrong = [](const char* name) { return "-ERR wrong number of arguments for '" + std::string(name) + "' command\r\n"; };
  expect_replies(r, {
      {"DEL", wrong("del")},
      {"UNLINK", wrong("unlink")},
      {"EXISTS", wrong("exists")},
      {"TOUCH", wrong("touch")},
      {"TYPE", wrong("type")},
      {"TYPE a b", wrong("type")},
      {"RENAME a", wrong("rename")},
      {"RENAME a b c", wrong("rename")},
      {"RENAMENX a", wrong("renamenx")},
      {"COPY a", wrong("copy")},
      {"MOVE a", wrong("move")},
      {"MOVE a 1 2", wrong("move")},
      {"OBJECT REFCOUNT", wrong("object|refcount")},
      {"OBJECT IDLETIME a b", wrong("object|idletime")},
      {"OBJECT FREQ", wrong("object|freq")},
      {"EXPIRE a", wrong("expire")},
      {"PEXPIRE a", wrong("pexpire")},
      {"EXPIREAT a", wrong("expireat")},
      {"PEXPIREAT a", wrong("pexpireat")},
      {"TTL", wrong("ttl")},
      {"TTL a b", wrong("ttl")},
      {"PTTL", wrong("pttl")},
      {"EXPIRETIME", wrong("expiretime")},
      {"PEXPIRETIME a b", wrong("pexpiretime")},
      {"PERSIST", wrong("persist")},
      {"PERSIST a b", wrong("persist")},
  });
}

TEST_CASE("The test runner reports unknown commands as Redis", "[spec]") {
  CommandRunner r;
  expect_replies(r, {
      {"NOSUCHCMD", "-ERR unknown command 'NOSUCHCMD', with args beginning with: \r\n"},
      {"nosuchcmd a \"b c\"", "-ERR unknown command 'nosuchcmd', with args beginning with: 'a' 'b c' \r\n"},
  });
}
