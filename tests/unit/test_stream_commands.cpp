// Stream command handlers. The expected bytes of every expect_replies block
// were captured from redis-server 7.0.15 by replaying the block on an empty
// database (see tests/integration/test_streams_compat.py for the consumer
// group and XINFO scenarios compared live); expect_replies_local blocks depend
// on the simulated clock.
#include <catch2/catch.hpp>

#include <string>

#include "server/command_table.h"
#include "tests/unit/command_test_util.h"

using distcache::test::CommandRunner;
using distcache::test::expect_replies;
using distcache::test::expect_replies_local;
namespace resp = distcache::test::resp;
namespace server = distcache::server;

namespace {

CommandRunner stream_runner() {
  return CommandRunner({server::stream_command_specs, server::string_command_specs, server::key_command_specs});
}

const std::string kWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

}  // namespace

TEST_CASE("XADD with explicit IDs, ms-* and the 0-0 rules", "[stream]") {
  CommandRunner r = stream_runner();
  expect_replies(r, {
      {"XADD s 0-* f v", "$3\r\n0-1\r\n"},
      {"XADD s 0-* f v", "$3\r\n0-2\r\n"},
      {"XADD s 0 f v", "-ERR The ID specified in XADD must be greater than 0-0\r\n"},
      {"XADD s 0-0 f v", "-ERR The ID specified in XADD must be greater than 0-0\r\n"},
      {"XADD s 5-5 a 1 b 2", "$3\r\n5-5\r\n"},
      {"XADD s 5-5 f v", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"},
      {"XADD s 5-* f v", "$3\r\n5-6\r\n"},
      {"XADD s 4-* f v", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"},
      {"XADD s 007-+3 f v", "$3\r\n7-3\r\n"},
      {"XADD s \"8- 3\" f v", "$3\r\n8-3\r\n"},
      {"XADD s 9--0 f v", "$3\r\n9-0\r\n"},
      {"XADD s 10--3 f v", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XADD s 12-18446744073709551616 f v", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XADD s 14- f v", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XADD s -14 f v", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XADD s - f v", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XADD s + f v", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XADD s 15.5 f v", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XADD s 16-*- f v", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XADD s 19--18446744073709551615 f v", "$4\r\n19-1\r\n"},
      {"XADD s * f", "-ERR wrong number of arguments for 'xadd' command\r\n"},
      {"XADD s 20-1 f v g", "-ERR wrong number of arguments for 'xadd' command\r\n"},
      {"XADD s nomkstream", "-ERR wrong number of arguments for 'xadd' command\r\n"},
      {"XADD nokey NOMKSTREAM 1-1 f v", "$-1\r\n"},
      {"EXISTS nokey", ":0\r\n"},
      {"XADD s 18446744073709551615-18446744073709551615 f v", "$41\r\n18446744073709551615-18446744073709551615\r\n"},
      {"XADD s 18446744073709551615-1 f v", "-ERR The stream has exhausted the last possible ID, unable to add more items\r\n"},
      {"XLEN s", ":9\r\n"},
      {"XLEN nokey", ":0\r\n"},
      {"XRANGE s - +", "*9\r\n*2\r\n$3\r\n0-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n0-2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n5-5\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$3\r\n5-6\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n7-3\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n8-3\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n9-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$4\r\n19-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$41\r\n18446744073709551615-18446744073709551615\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"},
      {"TYPE s", "+stream\r\n"},
      {"OBJECT ENCODING s", "$6\r\nstream\r\n"},
  });
}

TEST_CASE("XADD and XTRIM trimming options", "[stream]") {
  CommandRunner r = stream_runner();
  expect_replies(r, {
      {"XADD s LIMIT 0 1-1 f v", "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"},
      {"XADD s LIMIT 5 1-1 f v", "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n"},
      {"XADD s MAXLEN 5 LIMIT 5 1-1 f v", "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"},
      {"XADD s MAXLEN -1 1-1 f v", "-ERR The MAXLEN argument must be >= 0.\r\n"},
      {"XADD s MINID 5 MAXLEN 3 1-1 f v", "-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n"},
      {"XADD s MAXLEN 5 MAXLEN 3 1-1 f v", "-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n"},
      {"XADD s LIMIT -1 1-1 f v", "-ERR The LIMIT argument must be >= 0.\r\n"},
      {"XADD s MAXLEN abc 1-1 f v", "-ERR value is not an integer or out of range\r\n"},
      {"XADD s MAXLEN ~ 1-1 f v", "-ERR value is not an integer or out of range\r\n"},
      {"XADD s MAXLEN", "-ERR wrong number of arguments for 'xadd' command\r\n"},
      {"XADD s MAXLEN 2 1-1 a 1", "$3\r\n1-1\r\n"},
      {"XADD s MAXLEN = 2 2-1 a 2", "$3\r\n2-1\r\n"},
      {"XADD s MAXLEN ~ 2 LIMIT 10 3-1 a 3", "$3\r\n3-1\r\n"},
      {"XADD s MINID 3 4-1 a 4", "$3\r\n4-1\r\n"},
      {"XADD s MINID = 3-1 5-1 a 5", "$3\r\n5-1\r\n"},
      {"XADD s MINID ~ 5 6-1 a 6", "$3\r\n6-1\r\n"},
      {"XRANGE s - +", "*4\r\n*2\r\n$3\r\n3-1\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n*2\r\n$3\r\n4-1\r\n*2\r\n$1\r\na\r\n$1\r\n4\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n*2\r\n$3\r\n6-1\r\n*2\r\n$1\r\na\r\n$1\r\n6\r\n"},
      {"XTRIM s MAXLEN", "-ERR wrong number of arguments for 'xtrim' command\r\n"},
      {"XTRIM s", "-ERR wrong number of arguments for 'xtrim' command\r\n"},
      {"XTRIM s foo 1", "-ERR syntax error\r\n"},
      {"XTRIM s LIMIT 1", "-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n"},
      {"XTRIM s MAXLEN 1 LIMIT 1", "-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n"},
      {"XTRIM nokey MAXLEN 1", ":0\r\n"},
      {"XTRIM s MAXLEN ~ 1 LIMIT 1", ":0\r\n"},
      {"XTRIM s MAXLEN = 1", ":3\r\n"},
      {"XTRIM s MINID - ", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XTRIM s MINID abc", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XTRIM s MAXLEN 0", ":1\r\n"},
      {"XLEN s", ":0\r\n"},
      {"EXISTS s", ":1\r\n"},
      {"XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n6-1\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n0-0\r\n$13\r\nentries-added\r\n:6\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"},
  });
}

TEST_CASE("XRANGE and XREVRANGE bounds and COUNT", "[stream]") {
  CommandRunner r = stream_runner();
  expect_replies(r, {
      {"XADD s 1-0 f 1", "$3\r\n1-0\r\n"},
      {"XADD s 1-1 f 2", "$3\r\n1-1\r\n"},
      {"XADD s 2-0 f 3", "$3\r\n2-0\r\n"},
      {"XADD s 3-5 g 4 h 5", "$3\r\n3-5\r\n"},
      {"XADD s 18446744073709551615-0 f 6", "$22\r\n18446744073709551615-0\r\n"},
      {"XRANGE s - +", "*5\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n3\r\n*2\r\n$3\r\n3-5\r\n*4\r\n$1\r\ng\r\n$1\r\n4\r\n$1\r\nh\r\n$1\r\n5\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nf\r\n$1\r\n6\r\n"},
      {"XRANGE s - + COUNT 2", "*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n"},
      {"XRANGE s - + COUNT 0", "*-1\r\n"},
      {"XRANGE nokey - + COUNT 0", "*0\r\n"},
      {"XRANGE s - + COUNT -1", "*-1\r\n"},
      {"XRANGE s - + count", "-ERR syntax error\r\n"},
      {"XRANGE s - + foo 1", "-ERR syntax error\r\n"},
      {"XRANGE s 1 1", "*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n"},
      {"XRANGE s (1-0 +", "*4\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n3\r\n*2\r\n$3\r\n3-5\r\n*4\r\n$1\r\ng\r\n$1\r\n4\r\n$1\r\nh\r\n$1\r\n5\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nf\r\n$1\r\n6\r\n"},
      {"XRANGE s (1 +", "*4\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n3\r\n*2\r\n$3\r\n3-5\r\n*4\r\n$1\r\ng\r\n$1\r\n4\r\n$1\r\nh\r\n$1\r\n5\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nf\r\n$1\r\n6\r\n"},
      {"XRANGE s - (2", "*3\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n3\r\n"},
      {"XRANGE s - (2-0", "*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n"},
      {"XRANGE s ( +", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XRANGE s (- +", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XRANGE s - (0-0", "-ERR invalid end ID for the interval\r\n"},
      {"XRANGE s (18446744073709551615-18446744073709551615 +", "-ERR invalid start ID for the interval\r\n"},
      {"XRANGE s 3 2", "*0\r\n"},
      {"XREVRANGE s + -", "*5\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nf\r\n$1\r\n6\r\n*2\r\n$3\r\n3-5\r\n*4\r\n$1\r\ng\r\n$1\r\n4\r\n$1\r\nh\r\n$1\r\n5\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n"},
      {"XREVRANGE s + - COUNT 1", "*1\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nf\r\n$1\r\n6\r\n"},
      {"XREVRANGE s (3-5 (1-0", "*2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n"},
      {"XREVRANGE s 2 1", "*3\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\n3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\n1\r\n"},
      {"XREVRANGE s - +", "*0\r\n"},
      {"XRANGE s 18446744073709551615 +", "*1\r\n*2\r\n$22\r\n18446744073709551615-0\r\n*2\r\n$1\r\nf\r\n$1\r\n6\r\n"},
  });
}

TEST_CASE("XDEL, XSETID and the stream counters", "[stream]") {
  CommandRunner r = stream_runner();
  expect_replies(r, {
      {"XADD s 1-0 f v", "$3\r\n1-0\r\n"},
      {"XADD s 2-0 f v", "$3\r\n2-0\r\n"},
      {"XADD s 3-0 f v", "$3\r\n3-0\r\n"},
      {"XDEL s 1-0", ":1\r\n"},
      {"XDEL s 1-0 2-0 9-0", ":1\r\n"},
      {"XDEL s abc 3-0", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XDEL nokey abc", ":0\r\n"},
      {"XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:1\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n3-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n2-0\r\n$13\r\nentries-added\r\n:3\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n3-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"},
      {"XDEL s 3-0", ":1\r\n"},
      {"XLEN s", ":0\r\n"},
      {"EXISTS s", ":1\r\n"},
      {"XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n3-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n3-0\r\n$13\r\nentries-added\r\n:3\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"},
      {"XSETID s 2-0", "+OK\r\n"},
      {"XSETID nokey 1-1", "-ERR no such key\r\n"},
      {"XSETID s 5-0 ENTRIESADDED -1", "-ERR entries_added must be positive\r\n"},
      {"XSETID s 5-0 ENTRIESADDED 2", "+OK\r\n"},
      {"XSETID s 5-0 MAXDELETEDID 6-0", "-ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id\r\n"},
      {"XSETID s 6-0 MAXDELETEDID 5-0 ENTRIESADDED 9", "+OK\r\n"},
      {"XSETID s 6-0 foo", "-ERR syntax error\r\n"},
      {"XSETID s 6-0 MAXDELETEDID", "-ERR syntax error\r\n"},
      {"XSETID s -", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:0\r\n$15\r\nradix-tree-keys\r\n:0\r\n$16\r\nradix-tree-nodes\r\n:1\r\n$17\r\nlast-generated-id\r\n$3\r\n6-0\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n5-0\r\n$13\r\nentries-added\r\n:9\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n0-0\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n$-1\r\n$10\r\nlast-entry\r\n$-1\r\n"},
      {"XADD s 6-0 f v", "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"},
      {"XADD s 6-* f v", "$3\r\n6-1\r\n"},
      {"XSETID s 5-0", "-ERR The ID specified in XSETID is smaller than the target stream top item\r\n"},
      {"XSETID s 6-1 ENTRIESADDED 0", "-ERR The entries_added specified in XSETID is smaller than the target stream length\r\n"},
      {"XINFO STREAM s", "*20\r\n$6\r\nlength\r\n:1\r\n$15\r\nradix-tree-keys\r\n:1\r\n$16\r\nradix-tree-nodes\r\n:2\r\n$17\r\nlast-generated-id\r\n$3\r\n6-1\r\n$20\r\nmax-deleted-entry-id\r\n$3\r\n5-0\r\n$13\r\nentries-added\r\n:10\r\n$23\r\nrecorded-first-entry-id\r\n$3\r\n6-1\r\n$6\r\ngroups\r\n:0\r\n$11\r\nfirst-entry\r\n*2\r\n$3\r\n6-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n$10\r\nlast-entry\r\n*2\r\n$3\r\n6-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"},
  });
}

TEST_CASE("XREAD without blocking", "[stream]") {
  CommandRunner r = stream_runner();
  expect_replies(r, {
      {"XADD a 1-0 f v", "$3\r\n1-0\r\n"},
      {"XADD a 2-0 f w", "$3\r\n2-0\r\n"},
      {"XADD b 1-5 x y", "$3\r\n1-5\r\n"},
      {"XREAD STREAMS a 0", "*1\r\n*2\r\n$1\r\na\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nw\r\n"},
      {"XREAD COUNT 1 STREAMS a b 0 0", "*2\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$3\r\n1-5\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n"},
      {"XREAD STREAMS a b 1 1-5", "*1\r\n*2\r\n$1\r\na\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nw\r\n"},
      {"XREAD STREAMS a b $ $", "*-1\r\n"},
      {"XREAD STREAMS nokey 0", "*-1\r\n"},
      {"XREAD STREAMS a b 0", "-ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.\r\n"},
      {"XREAD STREAMS a", "-ERR wrong number of arguments for 'xread' command\r\n"},
      {"XREAD COUNT 1", "-ERR wrong number of arguments for 'xread' command\r\n"},
      {"XREAD COUNT x STREAMS a 0", "-ERR value is not an integer or out of range\r\n"},
      {"XREAD FOO STREAMS a 0", "-ERR syntax error\r\n"},
      {"XREAD GROUP g c STREAMS a 0", "-ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.\r\n"},
      {"XREAD NOACK STREAMS a 0", "-ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.\r\n"},
      {"XREAD STREAMS a >", "-ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.\r\n"},
      {"XREAD STREAMS a -", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XREAD BLOCK -1 STREAMS a $", "-ERR timeout is negative\r\n"},
      {"XREAD BLOCK x STREAMS a $", "-ERR timeout is not an integer or out of range\r\n"},
      {"XREAD BLOCK 0 STREAMS a 0", "*1\r\n*2\r\n$1\r\na\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nw\r\n"},
      {"SET str x", "+OK\r\n"},
      {"XREAD STREAMS a str 0 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"XREAD STREAMS str a 0 abc", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
  });
}

TEST_CASE("XGROUP subcommands", "[stream]") {
  CommandRunner r = stream_runner();
  expect_replies(r, {
      {"XADD s 1-0 f v", "$3\r\n1-0\r\n"},
      {"XADD s 2-0 f v", "$3\r\n2-0\r\n"},
      {"XGROUP CREATE s g 0", "+OK\r\n"},
      {"XGROUP CREATE s g 0", "-BUSYGROUP Consumer Group name already exists\r\n"},
      {"XGROUP CREATE s g2 $", "+OK\r\n"},
      {"XGROUP CREATE s g3 1-0 ENTRIESREAD 1", "+OK\r\n"},
      {"XGROUP CREATE s g4 0 ENTRIESREAD -2", "-ERR value for ENTRIESREAD must be positive or -1\r\n"},
      {"XGROUP CREATE s g4 0 FOO", "-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.\r\n"},
      {"XGROUP CREATE s g4 abc", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XGROUP CREATE nokey g 0", "-ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.\r\n"},
      {"XGROUP CREATE nokey g $ MKSTREAM", "+OK\r\n"},
      {"XLEN nokey", ":0\r\n"},
      {"XGROUP CREATE s g5 0 MKSTREAM MKSTREAM MKSTREAM MKSTREAM", "-ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.\r\n"},
      {"XGROUP FOO s g", "-ERR unknown subcommand 'FOO'. Try XGROUP HELP.\r\n"},
      {"XGROUP HELP", "*17\r\n+XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CREATE <key> <groupname> <id|$> [option]\r\n+    Create a new consumer group. Options are:\r\n+    * MKSTREAM\r\n+      Create the empty stream if it does not exist.\r\n+    * ENTRIESREAD entries_read\r\n+      Set the group's entries_read counter (internal use).\r\n+CREATECONSUMER <key> <groupname> <consumer>\r\n+    Create a new consumer in the specified group.\r\n+DELCONSUMER <key> <groupname> <consumer>\r\n+    Remove the specified consumer.\r\n+DESTROY <key> <groupname>\r\n+    Remove the specified group.\r\n+SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]\r\n+    Set the current group ID and entries_read counter.\r\n+HELP\r\n+    Prints this help.\r\n"},
      {"XINFO GROUPS s", "*3\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:2\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n*12\r\n$4\r\nname\r\n$2\r\ng3\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:1\r\n"},
      {"XGROUP SETID s g 2-0", "+OK\r\n"},
      {"XGROUP SETID s g $ ENTRIESREAD 2", "+OK\r\n"},
      {"XGROUP SETID s g 1 MKSTREAM", "-ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP.\r\n"},
      {"XGROUP SETID s nogroup 0", "-NOGROUP No such consumer group 'nogroup' for key name 's'\r\n"},
      {"XGROUP SETID s g abc", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XGROUP CREATECONSUMER s g c1", ":1\r\n"},
      {"XGROUP CREATECONSUMER s g c1", ":0\r\n"},
      {"XGROUP CREATECONSUMER s nogroup c1", "-NOGROUP No such consumer group 'nogroup' for key name 's'\r\n"},
      {"XGROUP DELCONSUMER s g c1", ":0\r\n"},
      {"XGROUP DELCONSUMER s g c1", ":0\r\n"},
      {"XGROUP DESTROY s g", ":1\r\n"},
      {"XGROUP DESTROY s g", ":0\r\n"},
      {"XGROUP DESTROY nokey g", ":1\r\n"},
      {"SET str x", "+OK\r\n"},
      {"XGROUP CREATE str g 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"XINFO GROUPS s", "*2\r\n*12\r\n$4\r\nname\r\n$2\r\ng2\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n2-0\r\n$12\r\nentries-read\r\n$-1\r\n$3\r\nlag\r\n:0\r\n*12\r\n$4\r\nname\r\n$2\r\ng3\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n1-0\r\n$12\r\nentries-read\r\n:1\r\n$3\r\nlag\r\n:1\r\n"},
  });
}

TEST_CASE("XREADGROUP, XACK and XPENDING", "[stream]") {
  CommandRunner r = stream_runner();
  expect_replies(r, {
      {"XADD s 1-0 f v", "$3\r\n1-0\r\n"},
      {"XADD s 2-0 f v", "$3\r\n2-0\r\n"},
      {"XADD s 3-0 f v", "$3\r\n3-0\r\n"},
      {"XADD s 4-0 f v", "$3\r\n4-0\r\n"},
      {"XGROUP CREATE s g 0", "+OK\r\n"},
      {"XREADGROUP GROUP g a COUNT 2 STREAMS s >", "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"},
      {"XREADGROUP GROUP g b STREAMS s >", "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n3-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n4-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"},
      {"XREADGROUP GROUP g b STREAMS s >", "*-1\r\n"},
      {"XREADGROUP GROUP g a STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"},
      {"XREADGROUP GROUP g c STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*0\r\n"},
      {"XPENDING s g", "*4\r\n:4\r\n$3\r\n1-0\r\n$3\r\n4-0\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"},
      {"XPENDING s g - + 10 nobody", "*0\r\n"},
      {"XPENDING s g - +", "-ERR syntax error\r\n"},
      {"XPENDING s g IDLE x - + 10", "-ERR value is not an integer or out of range\r\n"},
      {"XPENDING s g abc + 10", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XPENDING s nogroup", "-NOGROUP No such key 's' or consumer group 'nogroup'\r\n"},
      {"XDEL s 2-0", ":1\r\n"},
      {"XREADGROUP GROUP g a STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-0\r\n*-1\r\n"},
      {"XACK s g 1-0 2-0 9-0", ":2\r\n"},
      {"XACK s g abc 3-0", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XACK nokey g abc", ":0\r\n"},
      {"XPENDING s g", "*4\r\n:2\r\n$3\r\n3-0\r\n$3\r\n4-0\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"},
      {"XREADGROUP GROUP nog c STREAMS s >", "-NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option\r\n"},
      {"XREADGROUP GROUP g c STREAMS s $", "-ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.\r\n"},
      {"XREADGROUP STREAMS s >", "-ERR wrong number of arguments for 'xreadgroup' command\r\n"},
      {"XREADGROUP GROUP g c COUNT 1 STREAMS s", "-ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.\r\n"},
      {"XREADGROUP GROUP g c STREAMS s >", "*-1\r\n"},
      {"XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:3\r\n$7\r\npending\r\n:2\r\n$17\r\nlast-delivered-id\r\n$3\r\n4-0\r\n$12\r\nentries-read\r\n:4\r\n$3\r\nlag\r\n:0\r\n"},
      {"XADD s 5-0 f v", "$3\r\n5-0\r\n"},
      {"XREADGROUP GROUP g c NOACK STREAMS s >", "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n5-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"},
      {"XPENDING s g", "*4\r\n:2\r\n$3\r\n3-0\r\n$3\r\n4-0\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"},
      {"XINFO GROUPS s", "*1\r\n*12\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:3\r\n$7\r\npending\r\n:2\r\n$17\r\nlast-delivered-id\r\n$3\r\n5-0\r\n$12\r\nentries-read\r\n:5\r\n$3\r\nlag\r\n:0\r\n"},
  });
}

TEST_CASE("XCLAIM and XAUTOCLAIM argument errors", "[stream]") {
  CommandRunner r = stream_runner();
  expect_replies(r, {
      {"XADD s 1-0 f v", "$3\r\n1-0\r\n"},
      {"XGROUP CREATE s g 0", "+OK\r\n"},
      {"XCLAIM s g c 0 abc", "-ERR Unrecognized XCLAIM option 'abc'\r\n"},
      {"XCLAIM s g c 0 1-0 foo", "-ERR Unrecognized XCLAIM option 'foo'\r\n"},
      {"XCLAIM s g c abc 1-0", "-ERR Invalid min-idle-time argument for XCLAIM\r\n"},
      {"XCLAIM s g c 0 1-0 IDLE x", "-ERR Invalid IDLE option argument for XCLAIM\r\n"},
      {"XCLAIM s g c 0 1-0 TIME x", "-ERR Invalid TIME option argument for XCLAIM\r\n"},
      {"XCLAIM s g c 0 1-0 RETRYCOUNT x", "-ERR Invalid RETRYCOUNT option argument for XCLAIM\r\n"},
      {"XCLAIM s g c 0 1-0 LASTID x", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XCLAIM s nogroup c abc 1-0", "-NOGROUP No such key 's' or consumer group 'nogroup'\r\n"},
      {"XCLAIM nokey g c abc 1-0", "-NOGROUP No such key 'nokey' or consumer group 'g'\r\n"},
      {"XCLAIM s g c 0 1-0", "*0\r\n"},
      {"XCLAIM s g c 0 2-0 FORCE", "*0\r\n"},
      {"XAUTOCLAIM s g c 0 0 COUNT 0", "-ERR COUNT must be > 0\r\n"},
      {"XAUTOCLAIM s g c 0 0 COUNT x", "-ERR COUNT must be > 0\r\n"},
      {"XAUTOCLAIM s g c 0 0 FOO", "-ERR syntax error\r\n"},
      {"XAUTOCLAIM s g c x 0", "-ERR Invalid min-idle-time argument for XAUTOCLAIM\r\n"},
      {"XAUTOCLAIM s g c 0 abc", "-ERR Invalid stream ID specified as stream command argument\r\n"},
      {"XAUTOCLAIM s nogroup c 0 0", "-NOGROUP No such key 's' or consumer group 'nogroup'\r\n"},
      {"XAUTOCLAIM s g c 0 0", "*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n"},
      {"XINFO CONSUMERS s nogroup", "-NOGROUP No such consumer group 'nogroup' for key name 's'\r\n"},
      {"SET str x", "+OK\r\n"},
      {"XCLAIM str g c 0 1-0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
      {"XAUTOCLAIM str g c 0 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
  });
}

TEST_CASE("XINFO errors and HELP", "[stream]") {
  CommandRunner r = stream_runner();
  expect_replies(r, {
      {"XADD s 1-0 f v", "$3\r\n1-0\r\n"},
      {"XINFO STREAM nokey", "-ERR no such key\r\n"},
      {"XINFO STREAM s FOO", "-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.\r\n"},
      {"XINFO STREAM s FULL COUNT x", "-ERR value is not an integer or out of range\r\n"},
      {"XINFO STREAM s FULL x 1", "-ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.\r\n"},
      {"XINFO HELP", "*9\r\n+XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CONSUMERS <key> <groupname>\r\n+    Show consumers of <groupname>.\r\n+GROUPS <key>\r\n+    Show the stream consumer groups.\r\n+STREAM <key> [FULL [COUNT <count>]\r\n+    Show information about the stream.\r\n+HELP\r\n+    Prints this help.\r\n"},
      {"XINFO FOO s", "-ERR unknown subcommand 'FOO'. Try XINFO HELP.\r\n"},
      {"XINFO GROUPS s", "*0\r\n"},
      {"XINFO GROUPS s x", "-ERR wrong number of arguments for 'xinfo|groups' command\r\n"},
      {"XINFO CONSUMERS s g", "-NOGROUP No such consumer group 'g' for key name 's'\r\n"},
      {"SET str x", "+OK\r\n"},
      {"XINFO STREAM str", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
  });
}


TEST_CASE("XADD * uses the clock and stays monotonic", "[stream]") {
  CommandRunner r = stream_runner();
  expect_replies_local(r, {
      {"XADD s * f v", resp::bulk("1700000000000-0")},
      {"XADD s * f v", resp::bulk("1700000000000-1")},
  });
  r.now_ms -= 10;  // the clock went back: keep counting in the last millisecond
  expect_replies_local(r, {{"XADD s * f v", resp::bulk("1700000000000-2")}});
  r.now_ms += 1000;
  expect_replies_local(r, {
      {"XADD s * f v", resp::bulk("1700000000990-0")},
      {"XADD s 1700000000990-* f v", resp::bulk("1700000000990-1")},
      {"XADD s 1800000000000-18446744073709551615 f v", resp::bulk("1800000000000-18446744073709551615")},
      {"XADD s * f v", resp::bulk("1800000000001-0")},
      {"XADD s 1800000000001-* f v", resp::bulk("1800000000001-1")},
      {"XLEN s", ":8\r\n"},
  });
}

TEST_CASE("Idle and delivery times follow the clock", "[stream]") {
  CommandRunner r = stream_runner();
  expect_replies_local(r, {
      {"XADD s 1-0 f v", resp::bulk("1-0")},
      {"XADD s 2-0 f v", resp::bulk("2-0")},
      {"XGROUP CREATE s g 0", "+OK\r\n"},
      {"XREADGROUP GROUP g a STREAMS s >",
       "*1\r\n*2\r\n$1\r\ns\r\n*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$"
       "1\r\nv\r\n"},
  });
  r.now_ms += 5000;
  expect_replies_local(r, {
      {"XPENDING s g - + 10",
       "*2\r\n*4\r\n$3\r\n1-0\r\n$1\r\na\r\n:5000\r\n:1\r\n*4\r\n$3\r\n2-0\r\n$1\r\na\r\n:5000\r\n:1\r\n"},
      {"XPENDING s g IDLE 5001 - + 10", "*0\r\n"},
      {"XINFO CONSUMERS s g", "*1\r\n*6\r\n$4\r\nname\r\n$1\r\na\r\n$7\r\npending\r\n:2\r\n$4\r\nidle\r\n:5000\r\n"},
      {"XAUTOCLAIM s g b 6000 0", "*3\r\n$3\r\n0-0\r\n*0\r\n*0\r\n"},
      {"XCLAIM s g b 6000 1-0 2-0", "*0\r\n"},
      {"XCLAIM s g b 4000 1-0 JUSTID", "*1\r\n$3\r\n1-0\r\n"},
      {"XCLAIM s g b 0 2-0 IDLE 300 JUSTID", "*1\r\n$3\r\n2-0\r\n"},
      {"XPENDING s g - + 10",
       "*2\r\n*4\r\n$3\r\n1-0\r\n$1\r\nb\r\n:0\r\n:1\r\n*4\r\n$3\r\n2-0\r\n$1\r\nb\r\n:300\r\n:1\r\n"},
      {"XCLAIM s g b 0 1-0 TIME 1699999999000 RETRYCOUNT 9 JUSTID", "*1\r\n$3\r\n1-0\r\n"},
      {"XPENDING s g - + 1", "*1\r\n*4\r\n$3\r\n1-0\r\n$1\r\nb\r\n:6000\r\n:9\r\n"},
      // A delivery time in the future becomes "now".
      {"XCLAIM s g b 0 1-0 TIME 1800000000000 JUSTID", "*1\r\n$3\r\n1-0\r\n"},
      {"XPENDING s g - + 1", "*1\r\n*4\r\n$3\r\n1-0\r\n$1\r\nb\r\n:0\r\n:9\r\n"},
      {"XINFO CONSUMERS s g",
       "*2\r\n*6\r\n$4\r\nname\r\n$1\r\na\r\n$7\r\npending\r\n:0\r\n$4\r\nidle\r\n:5000\r\n*6\r\n$4\r\nname\r\n$1\r\nb\r\n$"
       "7\r\npending\r\n:2\r\n$4\r\nidle\r\n:0\r\n"},
  });
}

TEST_CASE("XREAD BLOCK waits (no reply) unless it may not block", "[stream]") {
  CommandRunner r = stream_runner();
  expect_replies_local(r, {
      {"XADD s 1-0 f v", resp::bulk("1-0")},
      {"XREAD BLOCK 100 STREAMS s $", ""},
      {"XREAD BLOCK 0 STREAMS nokey 0", ""},
      {"XREAD BLOCK 100 STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"},
      {"XGROUP CREATE s g $", "+OK\r\n"},
      {"XREADGROUP GROUP g c BLOCK 100 STREAMS s >", ""},
      // History reads never block.
      {"XREADGROUP GROUP g c BLOCK 100 STREAMS s 0", "*1\r\n*2\r\n$1\r\ns\r\n*0\r\n"},
  });
}

TEST_CASE("Stream replies in RESP3", "[stream]") {
  CommandRunner r = stream_runner();
  r.resp_version = 3;
  expect_replies_local(r, {
      {"XADD s 1-0 f v", resp::bulk("1-0")},
      {"XREAD STREAMS s nokey 0 0", "%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"},
      {"XREAD STREAMS s $", "_\r\n"},
      {"XRANGE s - + COUNT 0", "_\r\n"},
      {"XGROUP CREATE s g 0", "+OK\r\n"},
      {"XINFO GROUPS s",
       "*1\r\n%6\r\n$4\r\nname\r\n$1\r\ng\r\n$9\r\nconsumers\r\n:0\r\n$7\r\npending\r\n:0\r\n$17\r\nlast-delivered-id\r\n$3\r\n0-"
       "0\r\n$12\r\nentries-read\r\n_\r\n$3\r\nlag\r\n:1\r\n"},
      {"XPENDING s g", "*4\r\n:0\r\n_\r\n_\r\n_\r\n"},
  });
}

TEST_CASE("Stream commands on keys of other types", "[stream]") {
  CommandRunner r = stream_runner();
  expect_replies(r, {{"@list l", "+OK\r\n"}});
  for (const char* cmd :
       {"XADD l 1-1 f v", "XADD l NOMKSTREAM 1-1 f v", "XLEN l", "XRANGE l - +", "XREVRANGE l + -", "XDEL l 1-1",
        "XTRIM l MAXLEN 1", "XSETID l 1-1", "XREAD STREAMS l 0", "XGROUP CREATE l g 0", "XGROUP CREATE l g 0 MKSTREAM",
        "XREADGROUP GROUP g c STREAMS l >", "XACK l g 1-1", "XPENDING l g", "XCLAIM l g c 0 1-1",
        "XAUTOCLAIM l g c 0 0", "XINFO STREAM l", "XINFO GROUPS l", "XINFO CONSUMERS l g"}) {
    INFO(cmd);
    CHECK(r.run(cmd) == kWrongType);
  }
}
