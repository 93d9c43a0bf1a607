// The stream data structure (storage/stream_value.h): blocks, iteration in
// both directions, deletion, trimming, block sizing and consumer-group state.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "storage/stream_value.h"

using distcache::storage::StreamField;
using distcache::storage::StreamGroup;
using distcache::storage::StreamID;
using distcache::storage::StreamValue;

namespace {

StreamValue::NodeLimits limits(int64_t bytes, int64_t entries) { return {bytes, entries}; }

void add(StreamValue& s, StreamID id, std::vector<std::string> fv, StreamValue::NodeLimits lim = {4096, 100}) {
  std::vector<std::string_view> views(fv.begin(), fv.end());
  s.append(id, views.data(), views.size() / 2, lim);
}

std::vector<StreamID> ids(const StreamValue& s, StreamID start = StreamID::min(), StreamID end = StreamID::max(),
                          bool rev = false) {
  std::vector<StreamID> out;
  StreamValue::Iterator it(s, start, end, rev);
  StreamID id;
  while (it.next(id)) out.push_back(id);
  return out;
}

std::vector<std::string> flat(const std::vector<StreamField>& fields) {
  std::vector<std::string> out;
  for (const auto& [f, v] : fields) {
    out.emplace_back(f);
    out.emplace_back(v);
  }
  return out;
}

}  // namespace

TEST_CASE("StreamID order, increments and text", "[stream]") {
  CHECK(StreamID{1, 5} < StreamID{2, 0});
  CHECK(StreamID{1, 5} > StreamID{1, 4});
  StreamID id{1, UINT64_MAX};
  CHECK(id.incr());
  CHECK(id == StreamID{2, 0});
  CHECK(id.decr());
  CHECK(id == StreamID{1, UINT64_MAX});
  StreamID top = StreamID::max();
  CHECK_FALSE(top.incr());
  CHECK(top == StreamID{0, 0});
  CHECK_FALSE(top.decr());
  CHECK(top == StreamID::max());
  CHECK(StreamID::max().to_string() == "18446744073709551615-18446744073709551615");
  CHECK(StreamID{0, 1}.to_string() == "0-1");
}

TEST_CASE("Entries across blocks, both directions", "[stream]") {
  StreamValue s;
  const std::string big(20000, 'x');  // multi-byte lengths and back-lengths
  for (uint64_t i = 1; i <= 10; ++i) {
    if (i % 3 == 0)
      add(s, {i * 1000, i}, {"other", std::to_string(i), "big", i == 9 ? big : "b"}, limits(4096, 3));
    else
      add(s, {i * 1000, i}, {"f", std::to_string(i)}, limits(4096, 3));
  }
  CHECK(s.length() == 10);
  CHECK(s.node_count() == 5);  // 3 + 3 + 2, the big entry alone (over 4096 bytes), 1
  CHECK(s.first_id() == StreamID{1000, 1});
  CHECK(s.last_id() == StreamID{10000, 10});
  CHECK(s.entries_added() == 10);
  CHECK(ids(s).size() == 10);
  auto rev = ids(s, StreamID::min(), StreamID::max(), true);
  REQUIRE(rev.size() == 10);
  CHECK(rev.front() == StreamID{10000, 10});
  CHECK(rev.back() == StreamID{1000, 1});
  CHECK(ids(s, {3000, 0}, {5000, 5}) == std::vector<StreamID>{{3000, 3}, {4000, 4}, {5000, 5}});
  CHECK(ids(s, {3000, 4}, {5000, 4}, true) == std::vector<StreamID>{{4000, 4}});
  CHECK(ids(s, {5000, 0}, {4000, 0}).empty());

  std::vector<StreamField> fields;
  REQUIRE(s.find({9000, 9}, &fields));
  CHECK(flat(fields) == std::vector<std::string>{"other", "9", "big", big});
  REQUIRE(s.find({2000, 2}, &fields));
  CHECK(flat(fields) == std::vector<std::string>{"f", "2"});
  CHECK_FALSE(s.find({2000, 3}));
  CHECK(s.last_valid_id() == StreamID{10000, 10});
  CHECK(s.first_valid_id() == StreamID{1000, 1});

  StreamValue::Iterator it(s, StreamID::min(), StreamID::max(), true);
  StreamID id;
  REQUIRE(it.next(id));
  REQUIRE(it.next(id));
  REQUIRE(it.next(id));
  CHECK(id == StreamID{8000, 8});
  CHECK(flat(it.fields()) == std::vector<std::string>{"f", "8"});
}

TEST_CASE("Deleting entries flags them; an emptied block goes", "[stream]") {
  StreamValue s;
  for (uint64_t i = 1; i <= 6; ++i) add(s, {i, 0}, {"f", "v"}, limits(4096, 3));
  CHECK(s.node_count() == 2);
  CHECK(s.remove({2, 0}));
  CHECK_FALSE(s.remove({2, 0}));
  CHECK_FALSE(s.remove({7, 0}));
  CHECK(s.remove({1, 0}));
  CHECK(s.node_count() == 2);
  CHECK(s.remove({3, 0}));
  CHECK(s.node_count() == 1);
  CHECK(s.length() == 3);
  s.refresh_first_id();
  CHECK(s.first_id() == StreamID{4, 0});
  CHECK(ids(s) == std::vector<StreamID>{{4, 0}, {5, 0}, {6, 0}});
  CHECK(ids(s, StreamID::min(), StreamID::max(), true) == std::vector<StreamID>{{6, 0}, {5, 0}, {4, 0}});
  CHECK(s.remove({6, 0}));
  CHECK(s.last_valid_id() == StreamID{5, 0});
  CHECK(s.last_id() == StreamID{6, 0});  // the last generated ID stays
}

TEST_CASE("Trimming: exact, approximate (whole blocks), MINID, LIMIT", "[stream]") {
  using Trim = StreamValue::TrimArgs;
  using Strategy = StreamValue::TrimStrategy;
  StreamValue s;
  for (uint64_t i = 1; i <= 25; ++i) add(s, {i, 0}, {"f", "v"}, limits(4096, 10));
  CHECK(s.node_count() == 3);
  // ~ 18: removing the first block (10 entries) would leave 15 < 18: nothing.
  CHECK(s.trim(Trim{Strategy::kMaxLen, 18, {}, true, 0}) == 0);
  CHECK(s.trim(Trim{Strategy::kMaxLen, 15, {}, true, 0}) == 10);
  CHECK(s.first_id() == StreamID{11, 0});
  // LIMIT: the next block would exceed it.
  CHECK(s.trim(Trim{Strategy::kMaxLen, 0, {}, true, 5}) == 0);
  CHECK(s.trim(Trim{Strategy::kMaxLen, 12, {}, false, 0}) == 3);
  CHECK(s.length() == 12);
  CHECK(s.first_id() == StreamID{14, 0});
  CHECK(s.trim(Trim{Strategy::kMinId, 0, {21, 0}, true, 0}) == 7);  // the whole second block
  CHECK(s.trim(Trim{Strategy::kMinId, 0, {23, 0}, false, 0}) == 2);
  CHECK(ids(s) == std::vector<StreamID>{{23, 0}, {24, 0}, {25, 0}});
  CHECK(s.trim(Trim{Strategy::kMaxLen, 0, {}, false, 0}) == 3);
  CHECK(s.length() == 0);
  CHECK(s.node_count() == 0);
  CHECK(s.first_id() == StreamID{});
}

TEST_CASE("Blocks close at Redis's listpack byte size", "[stream]") {
  // In Redis's listpack a node of "f" -> "v" entries has 18 bytes of overhead
  // (7 header/end, four 2-byte master integers, "f" 3 bytes) and 11 bytes per
  // entry (flags, ms-delta, seq-delta and lp-count 2 each, "v" 3). A node
  // takes a new entry while its bytes + the entry's string bytes (2) < 60:
  // 4 entries per node (18 + 33 + 2 = 53, then 62 + 2). redis-server 7.0
  // also makes 25 nodes (and 52 radix-tree nodes) of 100 such entries.
  StreamValue s;
  for (uint64_t i = 1; i <= 100; ++i) add(s, {i, 0}, {"f", "v"}, limits(60, 0));
  CHECK(s.node_count() == 25);
  CHECK(s.radix_tree_nodes() == 52);
  StreamValue t;
  for (uint64_t i = 1; i <= 10; ++i) add(t, {i, 0}, {"f", std::string(50, 'x')}, limits(0, 0));
  CHECK(t.node_count() == 1);  // 0 = the listpack hard limit
}

TEST_CASE("Radix-tree node count of the block keys", "[stream]") {
  // The figures redis-server's XINFO STREAM reports for the same node keys.
  StreamValue s;
  CHECK(s.radix_tree_nodes() == 1);
  add(s, {1, 0}, {"f", "v"}, limits(4096, 1));
  CHECK(s.radix_tree_nodes() == 2);
  add(s, {2, 0}, {"f", "v"}, limits(4096, 1));
  // The root (compressed over 7 equal bytes), the branch, one child per
  // branch byte (compressed over the seq bytes) and the two leaves.
  CHECK(s.radix_tree_nodes() == 6);
  add(s, {3, 0}, {"f", "v"}, limits(4096, 1));
  CHECK(s.radix_tree_nodes() == 8);
  add(s, {0x100, 0}, {"f", "v"}, limits(4096, 1));
  CHECK(s.radix_tree_nodes() == 11);
}

TEST_CASE("Consumer groups: PEL bookkeeping and deep copies", "[stream]") {
  StreamValue s;
  for (uint64_t i = 1; i <= 3; ++i) add(s, {i, 0}, {"f", "v"});
  StreamGroup* g = s.create_group("g", {}, StreamGroup::kInvalidEntriesRead);
  REQUIRE(g);
  CHECK_FALSE(s.create_group("g", {}, 0));
  auto* a = g->create_consumer("a", 10);
  REQUIRE(a);
  CHECK_FALSE(g->create_consumer("a", 11));
  auto* b = g->create_consumer("b", 12);
  for (uint64_t i = 1; i <= 3; ++i) {
    auto& nack = g->pel[{i, 0}];
    nack.consumer = a;
    nack.delivery_count = 1;
    a->pel.insert({i, 0});
  }
  StreamGroup::move_nack({2, 0}, g->pel[{2, 0}], b);
  CHECK(a->pel.size() == 2);
  CHECK(b->pel.size() == 1);

  StreamValue copy(s);
  StreamGroup* cg = copy.find_group("g");
  REQUIRE(cg);
  REQUIRE(cg != g);
  CHECK(cg->pel.at({2, 0}).consumer == cg->find_consumer("b"));
  CHECK(cg->pel.at({1, 0}).consumer == cg->find_consumer("a"));

  CHECK(g->remove_pending({1, 0}));
  CHECK_FALSE(g->remove_pending({1, 0}));
  CHECK(g->delete_consumer("a") == 1);
  CHECK(g->pel.size() == 1);
  CHECK(g->delete_consumer("a") == 0);
  CHECK(cg->pel.size() == 3);  // the copy is independent
  CHECK(s.destroy_group("g"));
  CHECK_FALSE(s.destroy_group("g"));
  CHECK(copy.group_count() == 1);
}

TEST_CASE("Group lag and read counters", "[stream]") {
  StreamValue s;
  StreamGroup g;
  CHECK(s.group_lag(g) == 0);  // nothing ever added
  for (uint64_t i = 1; i <= 5; ++i) add(s, {i, 0}, {"f", "v"});
  CHECK(s.group_lag(g) == 5);  // before the first entry
  g.last_id = {5, 0};
  CHECK(s.group_lag(g) == 0);
  g.last_id = {3, 0};
  CHECK_FALSE(s.group_lag(g).has_value());  // in the middle, counter unknown
  g.entries_read = 3;
  CHECK(s.group_lag(g) == 2);
  REQUIRE(s.remove({4, 0}));
  s.set_max_deleted_id({4, 0});
  CHECK_FALSE(s.group_lag(g).has_value());  // a tombstone ahead
  CHECK(s.range_has_tombstones({1, 0}, StreamID::max()));
  CHECK_FALSE(s.range_has_tombstones({5, 0}, StreamID::max()));
  g.last_id = {9, 0};
  CHECK(s.group_lag(g) == 2);  // a valid counter and no tombstone after the group's ID
  g.entries_read = StreamGroup::kInvalidEntriesRead;
  CHECK_FALSE(s.group_lag(g).has_value());  // a future ID
}
