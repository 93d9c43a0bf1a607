// Sorted sets: the skip list (spans, ranks, member index), the listpack
// encoding and its conversion thresholds, and the sorted-set commands. The
// expected bytes of every expect_replies block were captured from
// redis-server 7.0.15 by replaying the block on an empty database ("@type
// key" lines as DEL plus a one-element write of that type).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "server/command_table.h"
#include "storage/skiplist.h"
#include "storage/zset_value.h"
#include "tests/unit/command_test_util.h"

using distcache::test::CommandRunner;
using distcache::test::expect_replies;
using distcache::test::expect_replies_local;
namespace server = distcache::server;
namespace storage = distcache::storage;
using storage::ZSetValue;
using storage::ZSkipList;
using namespace std::string_literals;

namespace {

CommandRunner make_runner() {
  return CommandRunner({server::zset_command_specs, server::string_command_specs, server::key_command_specs});
}

CommandRunner make_runner_with_sets() {
  return CommandRunner({server::zset_command_specs, server::set_command_specs, server::string_command_specs,
                        server::key_command_specs});
}

// The reference model: (score, member) pairs in order.
using Model = std::set<std::pair<double, std::string>>;

std::vector<std::pair<double, std::string>> contents(const ZSetValue& z) {
  std::vector<std::pair<double, std::string>> out;
  z.walk(0, false, [&](std::string_view m, double s) { out.emplace_back(s, std::string(m)); });
  return out;
}

void check_against(const ZSetValue& z, const Model& model) {
  REQUIRE(z.validate() == "");
  REQUIRE(z.size() == model.size());
  const auto got = contents(z);
  REQUIRE(std::equal(got.begin(), got.end(), model.begin(), model.end()));
}

const storage::ZSetLimits kDefaultLimits{128, 64};

}  // namespace

TEST_CASE("skip list: random operations agree with an ordered model", "[zset]") {
  std::mt19937_64 rng(7);
  ZSkipList sl;
  std::map<std::string, double> scores;
  Model model;
  for (int i = 0; i < 20000; ++i) {
    const std::string m = "m" + std::to_string(rng() % 3000);
    const double s = static_cast<double>(rng() % 50) / 4.0 - 5;
    const int op = static_cast<int>(rng() % 10);
    auto it = scores.find(m);
    if (op < 5) {
      if (it == scores.end()) {
        sl.insert(s, m);
        scores[m] = s;
        model.insert({s, m});
      } else {
        sl.update_score(sl.find(m), s);
        model.erase({it->second, m});
        model.insert({s, m});
        it->second = s;
      }
    } else if (op < 8) {
      const bool present = it != scores.end();
      REQUIRE(sl.erase(m) == present);
      if (present) {
        model.erase({it->second, m});
        scores.erase(it);
      }
    } else if (op == 8 && !model.empty()) {
      // Rank and at_rank are inverse of each other.
      const size_t r = 1 + rng() % model.size();
      const ZSkipList::Node* n = sl.at_rank(r);
      REQUIRE(n != nullptr);
      auto mit = model.begin();
      std::advance(mit, static_cast<long>(r - 1));
      REQUIRE(n->member() == mit->second);
      REQUIRE(n->score == mit->first);
      REQUIRE(sl.rank_of(n) == r);
    } else if (op == 9 && model.size() > 10) {
      const size_t first = 1 + rng() % model.size();
      const size_t last = std::min(model.size(), first + rng() % 5);
      auto a = model.begin();
      std::advance(a, static_cast<long>(first - 1));
      auto b = a;
      std::advance(b, static_cast<long>(last - first + 1));
      for (auto x = a; x != b; ++x) scores.erase(x->second);
      model.erase(a, b);
      REQUIRE(sl.erase_rank_range(first, last) == last - first + 1);
    }
    if (i % 997 == 0) REQUIRE(sl.validate() == "");
  }
  REQUIRE(sl.validate() == "");
  REQUIRE(sl.size() == model.size());
  size_t r = 0;
  for (const ZSkipList::Node* n = sl.first(); n; n = n->next()) {
    auto mit = model.begin();
    std::advance(mit, static_cast<long>(r++));
    REQUIRE(n->member() == mit->second);
  }
  const ZSkipList copy(sl);
  REQUIRE(copy.validate() == "");
  REQUIRE(copy.size() == sl.size());
}

TEST_CASE("skip list: score updates in place keep the links' score copies exact", "[zset]") {
  // Small score changes mostly keep a node between its neighbours (the
  // in-place path, which must refresh the score copies of every link into
  // the node); large ones move it.
  std::mt19937_64 rng(11);
  ZSkipList sl;
  for (int i = 0; i < 2000; ++i) sl.insert(static_cast<double>(i), "m" + std::to_string(i));
  for (int i = 0; i < 20000; ++i) {
    ZSkipList::Node* n = sl.find("m" + std::to_string(rng() % 2000));
    REQUIRE(n != nullptr);
    const double delta = (rng() % 4 == 0) ? static_cast<double>(rng() % 1000) - 500 : 0.001 * (rng() % 900);
    sl.update_score(n, n->score + delta);
    if (i % 101 == 0) REQUIRE(sl.validate() == "");
  }
  REQUIRE(sl.validate() == "");
}

TEST_CASE("skip list: moving score updates keep spans, ranks and levels exact", "[zset]") {
  // update_score searches the old and the new place together and corrects
  // the new path after unlinking: check every invariant after every move,
  // on lists small enough that the moved node is often the only one on its
  // top levels (the list's level then drops while it moves) and with many
  // score ties (the member order decides).
  std::mt19937_64 rng(23);
  for (int size : {1, 2, 3, 8, 40, 300}) {
    ZSkipList sl;
    for (int i = 0; i < size; ++i) sl.insert(static_cast<double>(rng() % 8), "m" + std::to_string(i));
    for (int i = 0; i < 3000; ++i) {
      ZSkipList::Node* n = sl.find("m" + std::to_string(rng() % static_cast<unsigned>(size)));
      REQUIRE(n != nullptr);
      const double s = static_cast<double>(rng() % 8);
      const std::string m(n->member());
      sl.update_score(n, s);
      REQUIRE(sl.validate() == "");
      const ZSkipList::Node* moved = sl.find(m);
      REQUIRE(moved->score == s);
      REQUIRE(sl.at_rank(sl.rank_of(moved)) == moved);
    }
  }
}

TEST_CASE("skip list: one million elements, ranks in O(log n)", "[zset]") {
  ZSetValue z(ZSetValue::Encoding::kSkiplist);
  constexpr size_t kN = 1'000'000;
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < kN; ++i) {
    // Scores in scrambled order, unique: i * a large odd number mod 2^20.
    const double s = static_cast<double>((i * 611953) % (1u << 20));
    REQUIRE(z.add(s, "member:" + std::to_string(i), 0, kDefaultLimits) == ZSetValue::AddResult::kAdded);
  }
  REQUIRE(z.size() == kN);
  REQUIRE(z.encoding_name() == "skiplist");
  std::mt19937_64 rng(3);
  for (int q = 0; q < 20000; ++q) {
    const size_t i = rng() % kN;
    const std::string m = "member:" + std::to_string(i);
    size_t rank, rev;
    REQUIRE(z.rank(m, false, rank));
    REQUIRE(z.rank(m, true, rev));
    REQUIRE(rank + rev == kN - 1);
    const ZSetValue::Entry e = z.at(rank);
    REQUIRE(e.member == m);
    double s;
    REQUIRE(z.score(m, s));
    REQUIRE(s == e.score);
  }
  // Edges.
  REQUIRE(z.at(0).score == 0);
  size_t first, last;
  storage::ZScoreRange all{-INFINITY, INFINITY, false, false};
  REQUIRE(z.first_in_range(all, first));
  REQUIRE(z.last_in_range(all, last));
  REQUIRE(first == 0);
  REQUIRE(last == kN - 1);
  storage::ZScoreRange mid{1000, 2000, true, false};
  REQUIRE(z.first_in_range(mid, first));
  REQUIRE(z.last_in_range(mid, last));
  REQUIRE(z.at(first).score > 1000);
  REQUIRE(z.at(first - 1).score <= 1000);
  REQUIRE(z.at(last).score <= 2000);
  REQUIRE(z.at(last + 1).score > 2000);
  // Removing a block of ranks in the middle, then from both ends.
  REQUIRE(z.erase_ranks(400000, 499999) == 100000);
  REQUIRE(z.erase_ranks(0, 9) == 10);
  REQUIRE(z.erase_ranks(z.size() - 10, z.size() + 100) == 10);
  REQUIRE(z.size() == kN - 100020);
  size_t rank;
  REQUIRE(z.rank(std::string(z.at(123456).member), false, rank));
  REQUIRE(rank == 123456);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(seconds < 30);  // generous: O(n log n) overall even on a loaded machine
  ZSetValue copy(z);
  REQUIRE(copy.size() == z.size());
  REQUIRE(copy.validate() == "");
}

TEST_CASE("listpack encoding: scores round-trip, -0 reads back as 0", "[zset]") {
  const double values[] = {0,      1,      -1,      -32,    207,         208,       -33,        32767,
                           -32768, 32768,  1e9,     -2147483648.0, 2147483647.0, 2147483648.0, 0.5,   1.5,
                           0.1,    1e300,  -1e-300, 5e-324, INFINITY,    -INFINITY, 3.0e38,     1.7976931348623157e308};
  ZSetValue z;
  Model model;
  int i = 0;
  for (double v : values) {
    const std::string m = "m" + std::to_string(i++);
    REQUIRE(z.add(v, m, 0, {1000, 64}) == ZSetValue::AddResult::kAdded);
    model.insert({v, m});
  }
  REQUIRE(z.is_listpack());
  check_against(z, model);
  REQUIRE(z.add(-0.0, "negzero", 0, {1000, 64}) == ZSetValue::AddResult::kAdded);
  double s = 1;
  REQUIRE(z.score("negzero", s));
  CHECK(s == 0);
  CHECK(!std::signbit(s));
  // Small integers take a single byte: 100 members "m0".."m99" with scores
  // 0..99 need at most 5 bytes each.
  ZSetValue small;
  for (int k = 0; k < 100; ++k) small.add(k, "m" + std::to_string(k), 0, kDefaultLimits);
  CHECK(small.heap_bytes() <= sizeof(ZSetValue) + 100 * 5);
}

TEST_CASE("listpack and skiplist behave the same", "[zset]") {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 40; ++round) {
    ZSetValue lp;
    ZSetValue sl(ZSetValue::Encoding::kSkiplist);
    Model model;
    for (int i = 0; i < 100; ++i) {
      const std::string m(1 + rng() % 3, static_cast<char>('a' + rng() % 4));
      const double s = static_cast<double>(rng() % 7) - 3;
      const unsigned flags = (rng() % 4 == 0) ? unsigned{ZSetValue::kAddIncr} : 0u;
      double n1 = 0, n2 = 0;
      const auto r1 = lp.add(s, m, flags, {1000, 64}, &n1);
      const auto r2 = sl.add(s, m, flags, {1000, 64}, &n2);
      REQUIRE(r1 == r2);
      REQUIRE(n1 == n2);
      if (rng() % 5 == 0) REQUIRE(lp.erase(m) == sl.erase(m));
    }
    REQUIRE(lp.is_listpack());
    REQUIRE(contents(lp) == contents(sl));
    for (int q = 0; q < 50; ++q) {
      storage::ZScoreRange r{static_cast<double>(rng() % 9) - 4, static_cast<double>(rng() % 9) - 4, rng() % 2 == 0,
                             rng() % 2 == 0};
      size_t a1 = 0, a2 = 0;
      REQUIRE(lp.first_in_range(r, a1) == sl.first_in_range(r, a2));
      REQUIRE(a1 == a2);
      REQUIRE(lp.last_in_range(r, a1) == sl.last_in_range(r, a2));
      REQUIRE(a1 == a2);
    }
    lp.convert_to_skiplist();
    REQUIRE(lp.validate() == "");
    REQUIRE(contents(lp) == contents(sl));
    sl.convert_to_listpack();
    REQUIRE(sl.validate() == "");
    REQUIRE(contents(lp) == contents(sl));
  }
}

TEST_CASE("encoding thresholds: entries and member length", "[zset]") {
  CommandRunner r = make_runner();
  std::string add = "zadd z";
  for (int i = 0; i < 128; ++i) add += " " + std::to_string(i) + " m" + std::to_string(i);
  r.run(add);
  CHECK(r.run("object encoding z") == "$8\r\nlistpack\r\n");
  CHECK(r.run("zadd z 1 m5") == ":0\r\n");  // an update never converts
  CHECK(r.run("object encoding z") == "$8\r\nlistpack\r\n");
  CHECK(r.run("zadd z 500 extra") == ":1\r\n");  // the 129th element does
  CHECK(r.run("object encoding z") == "$8\r\nskiplist\r\n");
  CHECK(r.run("zrem z extra m1 m2") == ":3\r\n");  // never back by deletions
  CHECK(r.run("object encoding z") == "$8\r\nskiplist\r\n");
  CHECK(r.run("zrangestore small z 0 9") == ":10\r\n");  // but a STORE result is rebuilt compact
  CHECK(r.run("object encoding small") == "$8\r\nlistpack\r\n");
  CHECK(r.run("zunionstore u 1 z") == ":126\r\n");
  CHECK(r.run("object encoding u") == "$8\r\nlistpack\r\n");

  CHECK(r.run("zadd v 1 " + std::string(64, 'x')) == ":1\r\n");
  CHECK(r.run("object encoding v") == "$8\r\nlistpack\r\n");
  CHECK(r.run("zadd v 2 " + std::string(65, 'y')) == ":1\r\n");
  CHECK(r.run("object encoding v") == "$8\r\nskiplist\r\n");
  CHECK(r.run("zrangestore w v 0 0") == ":1\r\n");
  CHECK(r.run("object encoding w") == "$8\r\nlistpack\r\n");
  CHECK(r.run("zrangestore w v 0 -1") == ":2\r\n");
  CHECK(r.run("object encoding w") == "$8\r\nskiplist\r\n");

  // The limits come from the configuration.
  r.config.zset_max_listpack_entries = 4;
  r.config.zset_max_listpack_value = 3;
  CHECK(r.run("zadd c 1 a 2 b 3 c 4 d") == ":4\r\n");
  CHECK(r.run("object encoding c") == "$8\r\nlistpack\r\n");
  CHECK(r.run("zadd c 5 e") == ":1\r\n");
  CHECK(r.run("object encoding c") == "$8\r\nskiplist\r\n");
  CHECK(r.run("zadd d 1 abc") == ":1\r\n");
  CHECK(r.run("object encoding d") == "$8\r\nlistpack\r\n");
  CHECK(r.run("zincrby d 1 abcd") == "$1\r\n1\r\n");
  CHECK(r.run("object encoding d") == "$8\r\nskiplist\r\n");
  r.config.zset_max_listpack_entries = 0;
  CHECK(r.run("zadd e 1 a") == ":1\r\n");
  CHECK(r.run("object encoding e") == "$8\r\nskiplist\r\n");
  CHECK(r.run("zunionstore f 1 e") == ":1\r\n");
  CHECK(r.run("object encoding f") == "$8\r\nskiplist\r\n");
}

TEST_CASE("negative zero keeps its sign only in the skiplist encoding (as Redis)", "[zset]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
      {"zadd a -0.0 x", ":1\r\n"},
      {"zscore a x", "$1\r\n0\r\n"},
      {"zadd n incr -0.0 x", "$2\r\n-0\r\n"},
      {"zscore n x", "$1\r\n0\r\n"},
  });
  r.config.zset_max_listpack_entries = 0;
  expect_replies_local(r, {
      {"zadd b -0.0 x", ":1\r\n"},
      {"object encoding b", "$8\r\nskiplist\r\n"},
      {"zscore b x", "$2\r\n-0\r\n"},
      {"zadd b 0 x", ":0\r\n"},
      {"zscore b x", "$2\r\n-0\r\n"},
  });
  r.config.zset_max_listpack_entries = 128;
  expect_replies_local(r, {
      {"zunionstore e 1 b", ":1\r\n"},
      {"object encoding e", "$8\r\nlistpack\r\n"},
      {"zscore e x", "$1\r\n0\r\n"},
  });
}

TEST_CASE("ranks and ranges over a skiplist-encoded set", "[zset]") {
  CommandRunner r = make_runner();
  std::string add = "zadd z";
  for (int i = 0; i < 300; ++i) add += " " + std::to_string(i) + " m" + std::to_string(1000 + i);
  r.run(add);
  REQUIRE(r.run("object encoding z") == "$8\r\nskiplist\r\n");
  expect_replies_local(r, {
      {"zrank z m1000", ":0\r\n"},
      {"zrank z m1299", ":299\r\n"},
      {"zrevrank z m1299", ":0\r\n"},
      {"zrange z 298 1000", "*2\r\n$5\r\nm1298\r\n$5\r\nm1299\r\n"},
      {"zrange z -1 -1 withscores", "*2\r\n$5\r\nm1299\r\n$3\r\n299\r\n"},
      {"zrange z 0 1 rev", "*2\r\n$5\r\nm1299\r\n$5\r\nm1298\r\n"},
      {"zrangebyscore z (100 102", "*2\r\n$5\r\nm1101\r\n$5\r\nm1102\r\n"},
      {"zrevrangebyscore z 102 (100 limit 1 5", "*1\r\n$5\r\nm1101\r\n"},
      {"zcount z 10 (20", ":10\r\n"},
      {"zcount z -inf +inf", ":300\r\n"},
      {"zremrangebyrank z 0 99", ":100\r\n"},
      {"zrank z m1100", ":0\r\n"},
      {"zremrangebyscore z (150 +inf", ":149\r\n"},
      {"zcard z", ":51\r\n"},
      {"zpopmax z 2", "*4\r\n$5\r\nm1150\r\n$3\r\n150\r\n$5\r\nm1149\r\n$3\r\n149\r\n"},
      {"zrange z 0 0", "*1\r\n$5\r\nm1100\r\n"},
  });
}

TEST_CASE("key finders of the movable-key commands", "[zset]") {
  auto keys = [](std::vector<std::string> argv) {
    distcache::protocol::ArgList args;
    for (const auto& a : argv) args.add(a);
    const server::CommandSpec* spec = nullptr;
    for (const auto& s : server::zset_command_specs())
      if (s.name == argv[0]) spec = &s;
    REQUIRE(spec != nullptr);
    std::vector<int> out;
    const bool ok = server::extract_keys(*spec, args, out);
    return std::make_pair(ok, out);
  };
  CHECK(keys({"zunionstore", "d", "2", "a", "b", "weights", "1", "2"}) == std::make_pair(true, std::vector<int>{1, 3, 4}));
  CHECK(keys({"zinter", "2", "a", "b"}) == std::make_pair(true, std::vector<int>{2, 3}));
  CHECK(keys({"zintercard", "1", "a", "limit", "3"}) == std::make_pair(true, std::vector<int>{2}));
  CHECK(keys({"zmpop", "2", "a", "b", "min"}) == std::make_pair(true, std::vector<int>{2, 3}));
  CHECK(keys({"bzmpop", "0", "1", "a", "min"}) == std::make_pair(true, std::vector<int>{3}));
  CHECK(keys({"bzpopmin", "a", "b", "0"}) == std::make_pair(true, std::vector<int>{1, 2}));
  CHECK(keys({"zrangestore", "d", "s", "0", "1"}) == std::make_pair(true, std::vector<int>{1, 2}));
  CHECK(keys({"zunion", "3", "a", "b"}).first == false);
  CHECK(keys({"zunion", "0", "a"}).first == false);
  CHECK(keys({"zdiffstore", "d", "x", "a"}).first == false);
}

TEST_CASE("ZADD options, conflicts and errors", "[zset]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
         {"zadd z 1 a", ":1\r\n"},
         {"zadd z nx xx 1 a", "-ERR XX and NX options at the same time are not compatible\r\n"},
         {"zadd z gt lt 1 a", "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"},
         {"zadd z nx gt 1 a", "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"},
         {"zadd z nx lt 1 a", "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"},
         {"zadd z incr 1 a 2 b", "-ERR INCR option supports a single increment-element pair\r\n"},
         {"zadd z xx nx 1", "-ERR syntax error\r\n"},
         {"zadd z incr nx gt 1 a 2", "-ERR syntax error\r\n"},
         {"zadd z abc a", "-ERR value is not a valid float\r\n"},
         {"zadd z nan a", "-ERR value is not a valid float\r\n"},
         {"zadd z 1 a 2", "-ERR syntax error\r\n"},
         {"zadd z \"\" a", "-ERR value is not a valid float\r\n"},
         {"zadd z \" 1\" a", "-ERR value is not a valid float\r\n"},
         {"zadd z 1e400 a", "-ERR value is not a valid float\r\n"},
         {"zadd z incr inf a", "$3\r\ninf\r\n"},
         {"zadd z incr -inf a", "-ERR resulting score is not a number (NaN)\r\n"},
         {"zscore z a", "$3\r\ninf\r\n"},
         {"zadd nokey xx 1 a", ":0\r\n"},
         {"zadd nokey xx incr 1 a", "$-1\r\n"},
         {"exists nokey", ":0\r\n"},
         {"zadd z ch 1 a 2 b 3 c", ":3\r\n"},
         {"zadd z ch 1 a 2 b 4 c", ":1\r\n"},
         {"zadd z nx ch 9 a 5 d", ":1\r\n"},
         {"zadd z xx ch 9 a 6 e", ":1\r\n"},
         {"zadd z gt ch 1 a 10 b", ":1\r\n"},
         {"zadd z lt ch 100 c 0 d", ":1\r\n"},
         {"zadd z xx gt ch 5 b 20 b", ":1\r\n"},
         {"zrange z 0 -1 withscores", "*8\r\n$1\r\nd\r\n$1\r\n0\r\n$1\r\nc\r\n$1\r\n4\r\n$1\r\na\r\n$1\r\n9\r\n$1\r\nb\r\n$2\r\n20\r\n"},
         {"zadd z incr 2.5 q", "$3\r\n2.5\r\n"},
         {"zadd z nx incr 1 q", "$-1\r\n"},
         {"zadd z xx incr 1 q", "$3\r\n3.5\r\n"},
         {"zadd z gt incr -1 q", "$-1\r\n"},
         {"zadd z lt incr -1 q", "$3\r\n2.5\r\n"},
         {"zincrby z 1.5 q", "$1\r\n4\r\n"},
         {"zincrby z abc q", "-ERR value is not a valid float\r\n"},
         {"zincrby z nx q", "-ERR syntax error\r\n"},
         {"zincrby z 1 newmember", "$1\r\n1\r\n"},
         {"zincrby z -inf newmember", "$4\r\n-inf\r\n"},
         {"zincrby z +inf newmember", "-ERR resulting score is not a number (NaN)\r\n"},
         {"zadd z INCR CH 1 q", "$1\r\n5\r\n"},
         {"ZADD z NX 1 q", ":0\r\n"},
         {"@string s", "+OK\r\n"},
         {"zadd s 1 a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"zadd s abc a", "-ERR value is not a valid float\r\n"},
         {"zadd s nx xx 1 a", "-ERR XX and NX options at the same time are not compatible\r\n"},
         {"zincrby s 1 a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"zadd z 0.1 f 1e308 g -1e308 h 5e-324 i", ":4\r\n"},
         {"zrange z 0 -1 withscores", "*20\r\n$9\r\nnewmember\r\n$4\r\n-inf\r\n$1\r\nh\r\n$7\r\n-1e+308\r\n$1\r\nd\r\n$1\r\n0\r\n$1\r\ni\r\n$23\r\n4.9406564584124654e-324\r\n$1\r\nf\r\n$19\r\n0.10000000000000001\r\n$1\r\nc\r\n$1\r\n4\r\n$1\r\nq\r\n$1\r\n5\r\n$1\r\na\r\n$1\r\n9\r\n$1\r\nb\r\n$2\r\n20\r\n$1\r\ng\r\n$6\r\n1e+308\r\n"},
         {"zcard z", ":10\r\n"},
         {"zcard nokey", ":0\r\n"},
         {"zcard s", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
     });
}

TEST_CASE("ZSCORE ZMSCORE ZRANK ZREVRANK", "[zset]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
         {"zadd z 1 a 2 b 3 c 2 bb", ":4\r\n"},
         {"zscore z a", "$1\r\n1\r\n"},
         {"zscore z nope", "$-1\r\n"},
         {"zscore nokey a", "$-1\r\n"},
         {"zmscore z a nope c", "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n3\r\n"},
         {"zmscore nokey a b", "*2\r\n$-1\r\n$-1\r\n"},
         {"zrank z a", ":0\r\n"},
         {"zrank z bb", ":2\r\n"},
         {"zrank z c", ":3\r\n"},
         {"zrank z nope", "$-1\r\n"},
         {"zrevrank z a", ":3\r\n"},
         {"zrevrank z c", ":0\r\n"},
         {"zrank nokey a", "$-1\r\n"},
         {"@list l", "+OK\r\n"},
         {"zscore l a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"zmscore l a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"zrank l a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"zrevrank l a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
     });
}

TEST_CASE("ZRANGE by rank, edge indexes", "[zset]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
         {"zadd z 1 a 2 b 3 c 4 d 5 e", ":5\r\n"},
         {"zrange z 0 -1", "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"},
         {"zrange z 0 0", "*1\r\n$1\r\na\r\n"},
         {"zrange z -1 -1", "*1\r\n$1\r\ne\r\n"},
         {"zrange z -2 -1 withscores", "*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n"},
         {"zrange z -100 100", "*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"},
         {"zrange z 3 1", "*0\r\n"},
         {"zrange z 5 10", "*0\r\n"},
         {"zrange z -10 -6", "*0\r\n"},
         {"zrange z 1 -1 rev", "*4\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"},
         {"zrange z 0 -1 rev withscores", "*10\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n"},
         {"zrange z 9223372036854775807 9223372036854775807", "*0\r\n"},
         {"zrange z -9223372036854775808 0", "*1\r\n$1\r\na\r\n"},
         {"zrange z x 1", "-ERR value is not an integer or out of range\r\n"},
         {"zrange z 0 1.5", "-ERR value is not an integer or out of range\r\n"},
         {"zrevrange z 0 1 withscores", "*4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nd\r\n$1\r\n4\r\n"},
         {"zrevrange z -1 -1", "*1\r\n$1\r\na\r\n"},
         {"zrange nokey 0 -1", "*0\r\n"},
         {"zrange z 0 1 limit 0 1", "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"},
         {"zrevrange z 0 1 limit 0 1", "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"},
         {"zrange z 0 1 withscores limit 0 1", "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"},
         {"zrange z 0 -1 rev rev", "-ERR syntax error\r\n"},
         {"zrange z 0 -1 junk", "-ERR syntax error\r\n"},
         {"@hash h", "+OK\r\n"},
         {"zrange h 0 -1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"zrange h x y", "-ERR value is not an integer or out of range\r\n"},
     });
}

TEST_CASE("ZRANGE BYSCORE and ZRANGEBYSCORE", "[zset]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
         {"zadd z 1 a 2 b 3 c 4 d 5 e -inf ninf +inf pinf", ":7\r\n"},
         {"zrangebyscore z -inf +inf", "*7\r\n$4\r\nninf\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$4\r\npinf\r\n"},
         {"zrangebyscore z (1 3 withscores", "*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"},
         {"zrangebyscore z 1 (3", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
         {"zrangebyscore z (1 (2", "*0\r\n"},
         {"zrangebyscore z 2 2", "*1\r\n$1\r\nb\r\n"},
         {"zrangebyscore z (2 2", "*0\r\n"},
         {"zrangebyscore z 3 1", "*0\r\n"},
         {"zrangebyscore z -inf +inf limit 1 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
         {"zrangebyscore z -inf +inf limit 0 -1", "*7\r\n$4\r\nninf\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$4\r\npinf\r\n"},
         {"zrangebyscore z -inf +inf limit -1 5", "*0\r\n"},
         {"zrangebyscore z -inf +inf limit 1 -5", "*6\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$4\r\npinf\r\n"},
         {"zrangebyscore z -inf +inf limit 10 1", "*0\r\n"},
         {"zrangebyscore z -inf +inf limit 0 0", "*0\r\n"},
         {"zrangebyscore z \" 1\" 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
         {"zrangebyscore z \"\" 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
         {"zrangebyscore z ( 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
         {"zrangebyscore z 1e400 2", "*0\r\n"},
         {"zrangebyscore z -1e400 2", "*3\r\n$4\r\nninf\r\n$1\r\na\r\n$1\r\nb\r\n"},
         {"zrangebyscore z \"1\\x00x\" 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
         {"zrangebyscore z nan 2", "-ERR min or max is not a float\r\n"},
         {"zrangebyscore z 0x1 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
         {"zrangebyscore z x y limit a b", "-ERR value is not an integer or out of range\r\n"},
         {"zrangebyscore z 0 10 rev", "-ERR syntax error\r\n"},
         {"zrangebyscore z 0 10 limit 0", "-ERR syntax error\r\n"},
         {"zrevrangebyscore z +inf -inf", "*7\r\n$4\r\npinf\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$4\r\nninf\r\n"},
         {"zrevrangebyscore z 4 (2 withscores", "*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n"},
         {"zrevrangebyscore z +inf -inf limit 1 3", "*3\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n"},
         {"zrevrangebyscore z 2 4", "*0\r\n"},
         {"zrange z 1 4 byscore", "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"},
         {"zrange z 4 1 byscore rev withscores", "*8\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\n1\r\n"},
         {"zrange z (1 +inf byscore limit 1 2 withscores", "*4\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n"},
         {"zrange z 1 4 byscore bylex", "-ERR syntax error\r\n"},
         {"zrange z x 1 byscore", "-ERR min or max is not a float\r\n"},
         {"zrangebyscore nokey 0 1", "*0\r\n"},
         {"zrange z 1 4 rev byscore", "*0\r\n"},
         {"zcount z -inf +inf", ":7\r\n"},
         {"zcount z (1 3", ":2\r\n"},
         {"zcount z 3 1", ":0\r\n"},
         {"zcount z x 1", "-ERR min or max is not a float\r\n"},
         {"zcount nokey 0 1", ":0\r\n"},
     });
}

TEST_CASE("ZRANGE BYLEX, ZRANGEBYLEX, ZLEXCOUNT", "[zset]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
         {"zadd z 0 a 0 b 0 c 0 d 0 e 0 \"\" 0 aa", ":7\r\n"},
         {"zrangebylex z - +", "*7\r\n$0\r\n\r\n$1\r\na\r\n$2\r\naa\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"},
         {"zrangebylex z [b [d", "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"},
         {"zrangebylex z (b (d", "*1\r\n$1\r\nc\r\n"},
         {"zrangebylex z [aa +", "*5\r\n$2\r\naa\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"},
         {"zrangebylex z - (c", "*4\r\n$0\r\n\r\n$1\r\na\r\n$2\r\naa\r\n$1\r\nb\r\n"},
         {"zrangebylex z - + limit 2 3", "*3\r\n$2\r\naa\r\n$1\r\nb\r\n$1\r\nc\r\n"},
         {"zrangebylex z - + limit -1 2", "*0\r\n"},
         {"zrangebylex z - + limit 1 -1", "*6\r\n$1\r\na\r\n$2\r\naa\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"},
         {"zrangebylex z \"-\\x00x\" +", "*7\r\n$0\r\n\r\n$1\r\na\r\n$2\r\naa\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"},
         {"zrangebylex z -x +", "-ERR min or max not valid string range item\r\n"},
         {"zrangebylex z \"\" +", "-ERR min or max not valid string range item\r\n"},
         {"zrangebylex z [ (", "*0\r\n"},
         {"zrangebylex z + -", "*0\r\n"},
         {"zrangebylex z - -", "*0\r\n"},
         {"zrangebylex z [ [", "*1\r\n$0\r\n\r\n"},
         {"zrangebylex z a b", "-ERR min or max not valid string range item\r\n"},
         {"zrangebylex z - + withscores", "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"},
         {"zrevrangebylex z + -", "*7\r\n$1\r\ne\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n$2\r\naa\r\n$1\r\na\r\n$0\r\n\r\n"},
         {"zrevrangebylex z [d [b", "*3\r\n$1\r\nd\r\n$1\r\nc\r\n$1\r\nb\r\n"},
         {"zrevrangebylex z + - limit 1 2", "*2\r\n$1\r\nd\r\n$1\r\nc\r\n"},
         {"zrevrangebylex z - +", "*0\r\n"},
         {"zrange z [b [d bylex", "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"},
         {"zrange z [d [b bylex rev limit 0 2", "*2\r\n$1\r\nd\r\n$1\r\nc\r\n"},
         {"zrange z - + bylex withscores", "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"},
         {"zlexcount z - +", ":7\r\n"},
         {"zlexcount z [b [d", ":3\r\n"},
         {"zlexcount z (b [d", ":2\r\n"},
         {"zlexcount z + -", ":0\r\n"},
         {"zlexcount z x y", "-ERR min or max not valid string range item\r\n"},
         {"zlexcount nokey - +", ":0\r\n"},
         {"zadd mixed 1 b 2 a 3 d 0 c", ":4\r\n"},
         {"zrangebylex mixed - +", "*4\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n"},
         {"zrangebylex mixed [b +", "*4\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nd\r\n"},
         {"zrevrangebylex mixed [c -", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
         {"zlexcount mixed [b +", ":4\r\n"},
         {"zlexcount mixed - [a", ":0\r\n"},
     });
}

TEST_CASE("ZREM and ZREMRANGEBY*", "[zset]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
         {"zadd z 1 a 2 b 3 c 4 d 5 e 6 f", ":6\r\n"},
         {"zrem z a nope", ":1\r\n"},
         {"zrem z nope", ":0\r\n"},
         {"zrem nokey a", ":0\r\n"},
         {"zremrangebyrank z 0 0", ":1\r\n"},
         {"zremrangebyrank z -1 -1", ":1\r\n"},
         {"zremrangebyrank z 5 10", ":0\r\n"},
         {"zremrangebyrank z 3 1", ":0\r\n"},
         {"zremrangebyrank z x 1", "-ERR value is not an integer or out of range\r\n"},
         {"zrange z 0 -1", "*3\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n"},
         {"zremrangebyscore z (2 3", ":1\r\n"},
         {"zremrangebyscore z x 1", "-ERR min or max is not a float\r\n"},
         {"zremrangebyscore z 10 1", ":0\r\n"},
         {"zrange z 0 -1 withscores", "*4\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n"},
         {"zadd l 0 a 0 b 0 c 0 d", ":4\r\n"},
         {"zremrangebylex l [b (d", ":2\r\n"},
         {"zremrangebylex l x y", "-ERR min or max not valid string range item\r\n"},
         {"zremrangebylex l + -", ":0\r\n"},
         {"zrange l 0 -1", "*2\r\n$1\r\na\r\n$1\r\nd\r\n"},
         {"zremrangebylex l - +", ":2\r\n"},
         {"exists l", ":0\r\n"},
         {"zremrangebyscore z -inf +inf", ":2\r\n"},
         {"exists z", ":0\r\n"},
         {"zadd z 1 a", ":1\r\n"},
         {"zrem z a", ":1\r\n"},
         {"exists z", ":0\r\n"},
         {"zremrangebyrank nokey 0 -1", ":0\r\n"},
         {"@set s", "+OK\r\n"},
         {"zrem s a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"zremrangebyrank s 0 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"zremrangebyscore s 0 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"zremrangebylex s - +", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
     });
}

TEST_CASE("ZPOPMIN ZPOPMAX ZMPOP", "[zset]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
         {"zadd z 1 a 2 b 3 c 4 d 5 e", ":5\r\n"},
         {"zpopmin z", "*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
         {"zpopmax z", "*2\r\n$1\r\ne\r\n$1\r\n5\r\n"},
         {"zpopmin z 2", "*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"},
         {"zpopmax z 0", "*0\r\n"},
         {"zpopmin z -1", "-ERR value is out of range, must be positive\r\n"},
         {"zpopmin z x", "-ERR value is out of range, must be positive\r\n"},
         {"zpopmin z 1 2", "-ERR syntax error\r\n"},
         {"zpopmin nokey", "*0\r\n"},
         {"zpopmin nokey 0", "*0\r\n"},
         {"zpopmax z 10", "*2\r\n$1\r\nd\r\n$1\r\n4\r\n"},
         {"exists z", ":0\r\n"},
         {"zadd z 1 a 2 b 3 c", ":3\r\n"},
         {"zmpop 1 z min", "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
         {"zmpop 1 z max count 5", "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"},
         {"zmpop 1 z min", "*-1\r\n"},
         {"exists z", ":0\r\n"},
         {"zadd z2 1 x", ":1\r\n"},
         {"zmpop 2 nokey z2 min count 3", "*2\r\n$2\r\nz2\r\n*1\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n"},
         {"zmpop 0 z min", "-ERR numkeys should be greater than 0\r\n"},
         {"zmpop x z min", "-ERR numkeys should be greater than 0\r\n"},
         {"zmpop 1 z foo", "-ERR syntax error\r\n"},
         {"zmpop 2 z min", "-ERR syntax error\r\n"},
         {"zmpop 3 k:9 k:8 k:8", "-ERR syntax error\r\n"},
         {"zmpop 1 z min count 0", "-ERR count should be greater than 0\r\n"},
         {"zmpop 1 z min count x", "-ERR count should be greater than 0\r\n"},
         {"zmpop 1 z min count 1 count 1", "-ERR syntax error\r\n"},
         {"zmpop 1 z min junk", "-ERR syntax error\r\n"},
         {"zmpop 9223372036854775807 a min", "-ERR syntax error\r\n"},
         {"@string s", "+OK\r\n"},
         {"zpopmin s 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"zpopmin s -1", "-ERR value is out of range, must be positive\r\n"},
         {"zmpop 1 s min", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"zmpop 2 nokey s max", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
     });
}

TEST_CASE("BZPOPMIN BZPOPMAX BZMPOP without blocking", "[zset]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
         {"zadd z 1 a 2 b 3 c", ":3\r\n"},
         {"bzpopmin z 0", "*3\r\n$1\r\nz\r\n$1\r\na\r\n$1\r\n1\r\n"},
         {"bzpopmax nokey z 0.5", "*3\r\n$1\r\nz\r\n$1\r\nc\r\n$1\r\n3\r\n"},
         {"bzmpop 1 1 z max count 5", "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"},
         {"exists z", ":0\r\n"},
         {"bzpopmin z x", "-ERR timeout is not a float or out of range\r\n"},
         {"bzpopmin z -1", "-ERR timeout is negative\r\n"},
         {"bzpopmin nokey 1e30", "-ERR timeout is negative\r\n"},
         {"bzpopmin nokey \" 1\"", "-ERR timeout is not a float or out of range\r\n"},
         {"bzmpop x 0 z min", "-ERR numkeys should be greater than 0\r\n"},
         {"bzmpop x 1 z min", "-ERR timeout is not a float or out of range\r\n"},
         {"bzmpop 1 0 z min", "-ERR numkeys should be greater than 0\r\n"},
         {"bzmpop 1 1 z foo", "-ERR syntax error\r\n"},
         {"bzmpop -1 1 z min", "-ERR timeout is negative\r\n"},
         {"@string s", "+OK\r\n"},
         {"bzpopmin s 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"bzmpop 0 1 s min", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
     });
}

TEST_CASE("ZUNION ZINTER ZDIFF and the STORE forms", "[zset]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
         {"zadd a 1 x 2 y 3 z", ":3\r\n"},
         {"zadd b 10 y 20 z 30 w", ":3\r\n"},
         {"zunion 2 a b", "*4\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n$1\r\nw\r\n"},
         {"zunion 2 a b withscores", "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"},
         {"zunion 2 a b weights 2 0.5 withscores", "*8\r\n$1\r\nx\r\n$1\r\n2\r\n$1\r\ny\r\n$1\r\n9\r\n$1\r\nw\r\n$2\r\n15\r\n$1\r\nz\r\n$2\r\n16\r\n"},
         {"zunion 2 a b aggregate min withscores", "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n$1\r\nw\r\n$2\r\n30\r\n"},
         {"zunion 2 a b aggregate max withscores", "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n10\r\n$1\r\nz\r\n$2\r\n20\r\n$1\r\nw\r\n$2\r\n30\r\n"},
         {"zinter 2 a b withscores", "*4\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n"},
         {"zinter 2 a b weights 1 -1 aggregate sum withscores", "*4\r\n$1\r\nz\r\n$3\r\n-17\r\n$1\r\ny\r\n$2\r\n-8\r\n"},
         {"zdiff 2 a b withscores", "*2\r\n$1\r\nx\r\n$1\r\n1\r\n"},
         {"zdiff 2 b a", "*1\r\n$1\r\nw\r\n"},
         {"zdiff 1 a withscores", "*6\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n"},
         {"zdiff 2 a a", "*0\r\n"},
         {"zunion 3 a b nokey withscores", "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"},
         {"zinter 3 a b nokey", "*0\r\n"},
         {"zdiff 2 nokey a", "*0\r\n"},
         {"zunionstore d 2 a b", ":4\r\n"},
         {"zrange d 0 -1 withscores", "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"},
         {"zinterstore d 2 a b aggregate max", ":2\r\n"},
         {"zrange d 0 -1 withscores", "*4\r\n$1\r\ny\r\n$2\r\n10\r\n$1\r\nz\r\n$2\r\n20\r\n"},
         {"zdiffstore d 2 a b", ":1\r\n"},
         {"zrange d 0 -1 withscores", "*2\r\n$1\r\nx\r\n$1\r\n1\r\n"},
         {"zinterstore d 2 a nokey", ":0\r\n"},
         {"exists d", ":0\r\n"},
         {"zadd i 1 p", ":1\r\n"},
         {"zadd j inf p", ":1\r\n"},
         {"zadd k -inf p", ":1\r\n"},
         {"zunion 2 j k withscores", "*2\r\n$1\r\np\r\n$1\r\n0\r\n"},
         {"zinter 2 j k withscores", "*2\r\n$1\r\np\r\n$1\r\n0\r\n"},
         {"zunion 2 i j weights 0 1 withscores", "*2\r\n$1\r\np\r\n$3\r\ninf\r\n"},
         {"zinter 2 i j weights 0 1 withscores", "*2\r\n$1\r\np\r\n$3\r\ninf\r\n"},
         {"zinter 2 j i weights 0 1 aggregate min withscores", "*2\r\n$1\r\np\r\n$1\r\n0\r\n"},
         {"zintercard 2 a b", ":2\r\n"},
         {"zintercard 2 a b limit 1", ":1\r\n"},
         {"zintercard 2 a b limit 0", ":2\r\n"},
         {"zintercard 1 a limit 2", ":2\r\n"},
         {"zintercard 0 a", "-ERR at least 1 input key is needed for 'zintercard' command\r\n"},
         {"zintercard -1 a", "-ERR at least 1 input key is needed for 'zintercard' command\r\n"},
         {"zintercard x a", "-ERR value is not an integer or out of range\r\n"},
         {"zintercard 2 a", "-ERR syntax error\r\n"},
         {"zintercard 1 a limit -1", "-ERR LIMIT can't be negative\r\n"},
         {"zintercard 1 a limit x", "-ERR LIMIT can't be negative\r\n"},
         {"zintercard 1 a weights 1", "-ERR syntax error\r\n"},
         {"zunion 0 a", "-ERR at least 1 input key is needed for 'zunion' command\r\n"},
         {"zunionstore d 0 a", "-ERR at least 1 input key is needed for 'zunionstore' command\r\n"},
         {"zunion 1 a weights x", "-ERR weight value is not a float\r\n"},
         {"zunion 1 a aggregate foo", "-ERR syntax error\r\n"},
         {"zunion 1 a weights", "-ERR syntax error\r\n"},
         {"zunion 1 a withscores withscores", "*6\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n3\r\n"},
         {"zdiff 1 a weights 1", "-ERR syntax error\r\n"},
         {"zunionstore d 1 a withscores", "-ERR syntax error\r\n"},
         {"zunion 2 a", "-ERR syntax error\r\n"},
         {"zunion x a", "-ERR value is not an integer or out of range\r\n"},
         {"ZUNIONSTORE d 0 a", "-ERR at least 1 input key is needed for 'zunionstore' command\r\n"},
         {"@list l", "+OK\r\n"},
         {"zunion 2 a l", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"zunionstore d 2 a l", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"zintercard 2 a l", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"zunionstore a 2 a b", ":4\r\n"},
         {"zrange a 0 -1 withscores", "*8\r\n$1\r\nx\r\n$1\r\n1\r\n$1\r\ny\r\n$2\r\n12\r\n$1\r\nz\r\n$2\r\n23\r\n$1\r\nw\r\n$2\r\n30\r\n"},
     });
}

TEST_CASE("ZRANGESTORE", "[zset]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
         {"zadd src 1 a 2 b 3 c 4 d", ":4\r\n"},
         {"zrangestore dst src 0 1", ":2\r\n"},
         {"zrange dst 0 -1 withscores", "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"},
         {"zrangestore dst src 2 3 rev", ":2\r\n"},
         {"zrange dst 0 -1 withscores", "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"},
         {"zrangestore dst src (1 3 byscore limit 0 1", ":1\r\n"},
         {"zrange dst 0 -1 withscores", "*2\r\n$1\r\nb\r\n$1\r\n2\r\n"},
         {"zrangestore dst src [d - bylex rev", ":4\r\n"},
         {"zrange dst 0 -1", "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"},
         {"zrangestore dst src 5 10", ":0\r\n"},
         {"exists dst", ":0\r\n"},
         {"zrangestore dst nokey 0 -1", ":0\r\n"},
         {"zrangestore dst src 0 -1 withscores", "-ERR syntax error\r\n"},
         {"zrangestore src src 1 2", ":2\r\n"},
         {"zrange src 0 -1 withscores", "*4\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"},
         {"@list l", "+OK\r\n"},
         {"zrangestore dst l 0 -1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"zrangestore l src 0 -1", ":2\r\n"},
         {"type l", "+zset\r\n"},
     });
}

TEST_CASE("ZRANDMEMBER argument checks", "[zset]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
         {"zadd z 1 a", ":1\r\n"},
         {"zrandmember z", "$1\r\na\r\n"},
         {"zrandmember z 1", "*1\r\n$1\r\na\r\n"},
         {"zrandmember z 1 withscores", "*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
         {"zrandmember z -3", "*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n"},
         {"zrandmember z -2 withscores", "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n1\r\n"},
         {"zrandmember z 0", "*0\r\n"},
         {"zrandmember z 5 withscores", "*2\r\n$1\r\na\r\n$1\r\n1\r\n"},
         {"zrandmember nokey", "$-1\r\n"},
         {"zrandmember nokey 3", "*0\r\n"},
         {"zrandmember nokey 3 withscores", "*0\r\n"},
         {"zrandmember z x", "-ERR value is not an integer or out of range\r\n"},
         {"zrandmember z 1 foo", "-ERR syntax error\r\n"},
         {"zrandmember z 1 withscores x", "-ERR syntax error\r\n"},
         {"zrandmember z -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"},
         {"zrandmember z 9223372036854775807 withscores", "-ERR value is out of range\r\n"},
         {"zrandmember z -4611686018427387904 withscores", "-ERR value is out of range\r\n"},
         {"@hash h", "+OK\r\n"},
         {"zrandmember h", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
         {"zrandmember h 1", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
     });
}

TEST_CASE("ZSCAN", "[zset]") {
  CommandRunner r = make_runner();
  expect_replies(r, {
         {"zadd z 1 a 2 b 3 c 1.5 ab", ":4\r\n"},
         {"zscan z 0", "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nab\r\n$3\r\n1.5\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"},
         {"zscan z 0 match a*", "*2\r\n$1\r\n0\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nab\r\n$3\r\n1.5\r\n"},
         {"zscan z 0 count 1", "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nab\r\n$3\r\n1.5\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"},
         {"zscan z 0 count 0", "-ERR syntax error\r\n"},
         {"zscan z 0 count x", "-ERR value is not an integer or out of range\r\n"},
         {"zscan z 0 match", "-ERR syntax error\r\n"},
         {"zscan z 0 type zset", "-ERR syntax error\r\n"},
         {"zscan z -1", "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nab\r\n$3\r\n1.5\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"},
         {"zscan z x", "-ERR invalid cursor\r\n"},
         {"zscan z \"\"", "*2\r\n$1\r\n0\r\n*8\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\nab\r\n$3\r\n1.5\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"},
         {"zscan z \" 1\"", "-ERR invalid cursor\r\n"},
         {"zscan z 18446744073709551616", "-ERR invalid cursor\r\n"},
         {"zscan nokey 0", "*2\r\n$1\r\n0\r\n*0\r\n"},
         {"zscan nokey x", "-ERR invalid cursor\r\n"},
         {"@list l", "+OK\r\n"},
         {"zscan l 0", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
     });
}

TEST_CASE("RESP3 replies of the sorted-set commands", "[zset]") {
  CommandRunner r = make_runner();
  r.resp_version = 3;
  expect_replies(r, {
         {"zadd z 1 a 2 b 3 c 1.5 d", ":4\r\n"},
         {"zadd z incr 1 a", ",2\r\n"},
         {"zincrby z 2.5 b", ",4.5\r\n"},
         {"zscore z a", ",2\r\n"},
         {"zscore z nope", "_\r\n"},
         {"zmscore z a nope b", "*3\r\n,2\r\n_\r\n,4.5\r\n"},
         {"zrange z 0 -1 withscores", "*4\r\n*2\r\n$1\r\nd\r\n,1.5\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,4.5\r\n"},
         {"zrange z 0 -1", "*4\r\n$1\r\nd\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nb\r\n"},
         {"zrange z (1 +inf byscore withscores limit 0 2", "*2\r\n*2\r\n$1\r\nd\r\n,1.5\r\n*2\r\n$1\r\na\r\n,2\r\n"},
         {"zrevrange z 0 1 withscores", "*2\r\n*2\r\n$1\r\nb\r\n,4.5\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
         {"zrank z nope", "_\r\n"},
         {"zpopmin z", "*2\r\n$1\r\nd\r\n,1.5\r\n"},
         {"zpopmin z 1", "*1\r\n*2\r\n$1\r\na\r\n,2\r\n"},
         {"zpopmax z 2", "*2\r\n*2\r\n$1\r\nb\r\n,4.5\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
         {"zpopmin nokey", "*0\r\n"},
         {"zpopmin nokey 2", "*0\r\n"},
         {"zadd z 1 a 2 b 3 c", ":3\r\n"},
         {"zmpop 1 z min", "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n,1\r\n"},
         {"zmpop 1 z max count 2", "*2\r\n$1\r\nz\r\n*2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n"},
         {"zmpop 1 nokey max", "_\r\n"},
         {"zadd z 1 a 2 b", ":2\r\n"},
         {"bzpopmin z 0.01", "*3\r\n$1\r\nz\r\n$1\r\na\r\n,1\r\n"},
         {"bzmpop 0.01 1 z max count 3", "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n,2\r\n"},
         {"zadd z 1 a 2 b 3 c", ":3\r\n"},
         {"zunion 1 z withscores", "*3\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
         {"zinter 2 z z withscores", "*3\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$1\r\nb\r\n,4\r\n*2\r\n$1\r\nc\r\n,6\r\n"},
         {"zdiff 1 z withscores", "*3\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n"},
         {"zunion 1 z", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
         {"zrandmember nokey", "_\r\n"},
         {"zrandmember nokey 5 withscores", "*0\r\n"},
         {"zrandmember z 10 withscores", "*3\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\na\r\n,1\r\n"},
         {"zscan z 0", "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n"},
         {"zadd z 0.1 x -0.0 y 1e300 w inf v -inf u", ":5\r\n"},
         {"zrange z 0 -1 withscores", "*8\r\n*2\r\n$1\r\nu\r\n,-inf\r\n*2\r\n$1\r\ny\r\n,0\r\n*2\r\n$1\r\nx\r\n,0.10000000000000001\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2\r\n*2\r\n$1\r\nc\r\n,3\r\n*2\r\n$1\r\nw\r\n,1.0000000000000001e+300\r\n*2\r\n$1\r\nv\r\n,inf\r\n"},
     });
}

TEST_CASE("Sets as inputs of ZUNION ZINTER ZDIFF (score 1)", "[zset]") {
  CommandRunner r = make_runner_with_sets();
  expect_replies(r, {
         {"sadd s1 1 2 3 x", ":4\r\n"},
         {"sadd s2 1 2 3", ":3\r\n"},
         {"zadd z 5 1 7 x 9 y", ":3\r\n"},
         {"zunion 2 s1 z withscores", "*10\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n6\r\n$1\r\nx\r\n$1\r\n8\r\n$1\r\ny\r\n$1\r\n9\r\n"},
         {"zunionstore su 2 s1 z weights 2 1", ":5\r\n"},
         {"zrange su 0 -1 withscores", "*10\r\n$1\r\n2\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n7\r\n$1\r\nx\r\n$1\r\n9\r\n$1\r\ny\r\n$1\r\n9\r\n"},
         {"zinterstore si 2 s2 s1 aggregate max", ":3\r\n"},
         {"zrange si 0 -1 withscores", "*6\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n1\r\n"},
         {"zinter 2 s1 z withscores", "*4\r\n$1\r\n1\r\n$1\r\n6\r\n$1\r\nx\r\n$1\r\n8\r\n"},
         {"zinter 2 z s1 weights 2 3 withscores", "*4\r\n$1\r\n1\r\n$2\r\n13\r\n$1\r\nx\r\n$2\r\n17\r\n"},
         {"zdiff 2 s1 s2 withscores", "*2\r\n$1\r\nx\r\n$1\r\n1\r\n"},
         {"zdiff 2 z s1 withscores", "*2\r\n$1\r\ny\r\n$1\r\n9\r\n"},
         {"zintercard 3 s1 s2 z", ":1\r\n"},
         {"zunion 1 s2", "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"},
         {"zdiffstore dd 1 s2", ":3\r\n"},
         {"object encoding dd", "$8\r\nlistpack\r\n"},
         {"zrange dd 0 -1 withscores", "*6\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n1\r\n"},
     });
}

