// storage::SetValue: the intset and hashtable representations, conversions,
// positions and randomness, SSCAN guarantees, copies, and memory use.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "storage/numbers.h"
#include "storage/set_value.h"

using distcache::storage::SetValue;
using distcache::storage::int64_to_string;

namespace {

constexpr size_t kRedisMax = 512;

// Concatenation without operator+ on temporaries (GCC 12 warns spuriously
// about those with -Wrestrict).
template <class... T>
std::string cat(const T&... parts) {
  std::string out;
  (out.append(std::string_view(parts)), ...);
  return out;
}


std::vector<std::string> members_of(const SetValue& s) {
  std::vector<std::string> out;
  s.for_each([&](std::string_view m) { out.emplace_back(m); });
  return out;
}

std::set<std::string> member_set(const SetValue& s) {
  const std::vector<std::string> v = members_of(s);
  return {v.begin(), v.end()};
}

}  // namespace

TEST_CASE("SetValue: empty set is an intset", "[set]") {
  SetValue s;
  CHECK(s.empty());
  CHECK(s.size() == 0);
  CHECK(s.encoding_name() == "intset");
  CHECK(s.intset_width() == 2);
  CHECK_FALSE(s.contains("1"));
  CHECK_FALSE(s.remove("1"));
  CHECK(s.validate() == "");
  CHECK(sizeof(SetValue) == 24);
}

TEST_CASE("SetValue: intset keeps integers sorted and upgrades its width", "[set]") {
  SetValue s;
  CHECK(s.add("5", kRedisMax));
  CHECK(s.add("-3", kRedisMax));
  CHECK_FALSE(s.add("5", kRedisMax));
  CHECK(s.intset_width() == 2);
  CHECK(s.add("32767", kRedisMax));
  CHECK(s.add("-32768", kRedisMax));
  CHECK(s.intset_width() == 2);
  CHECK(s.add("32768", kRedisMax));  // needs 4 bytes: appended
  CHECK(s.intset_width() == 4);
  CHECK(s.add("-2147483649", kRedisMax));  // needs 8 bytes: prepended
  CHECK(s.intset_width() == 8);
  CHECK(s.add("0", kRedisMax));
  CHECK(s.validate() == "");
  CHECK(s.encoding_name() == "intset");
  CHECK(members_of(s) == std::vector<std::string>{"-2147483649", "-32768", "-3", "0", "5", "32767", "32768"});
  CHECK(s.contains("32768"));
  CHECK(s.contains("-2147483649"));
  CHECK_FALSE(s.contains("-2147483648"));
  CHECK(s.contains_int(-3));
  // The width never shrinks back.
  CHECK(s.remove("-2147483649"));
  CHECK(s.remove("32768"));
  CHECK(s.intset_width() == 8);
  CHECK(members_of(s) == std::vector<std::string>{"-32768", "-3", "0", "5", "32767"});
  // Extremes.
  SetValue e;
  CHECK(e.add("9223372036854775807", kRedisMax));
  CHECK(e.intset_width() == 8);
  CHECK(e.add("-9223372036854775808", kRedisMax));
  CHECK(e.add("1", kRedisMax));
  CHECK(members_of(e) == std::vector<std::string>{"-9223372036854775808", "1", "9223372036854775807"});
  CHECK(e.validate() == "");
  // Upgrades from an empty set and from 2 to 8 directly.
  SetValue f;
  CHECK(f.add("1", kRedisMax));
  CHECK(f.add("-9000000000", kRedisMax));
  CHECK(f.intset_width() == 8);
  CHECK(members_of(f) == std::vector<std::string>{"-9000000000", "1"});
  CHECK(f.remove("1"));
  CHECK(f.remove("-9000000000"));
  CHECK(f.empty());
  CHECK(f.validate() == "");
}

TEST_CASE("SetValue: every width upgrade order keeps the members", "[set]") {
  const std::vector<int64_t> samples = {0, 1, -1, 300, -300, 40000, -40000, 3000000000LL, -3000000000LL,
                                        INT64_MAX, INT64_MIN, INT32_MAX, INT32_MIN, INT16_MAX, INT16_MIN};
  std::mt19937_64 gen(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<int64_t> order = samples;
    std::shuffle(order.begin(), order.end(), gen);
    SetValue s;
    std::set<int64_t> model;
    for (int64_t v : order) {
      CHECK(s.add(int64_to_string(v), kRedisMax) == model.insert(v).second);
      REQUIRE(s.validate() == "");
    }
    std::vector<std::string> want;
    for (int64_t v : model) want.push_back(int64_to_string(v));
    CHECK(members_of(s) == want);
    CHECK(s.encoding_name() == "intset");
  }
}

TEST_CASE("SetValue: small intsets live inside the object", "[set]") {
  SetValue s;
  const size_t object_only = s.heap_bytes();
  for (const char* m : {"1", "2", "3", "4"}) CHECK(s.add(m, kRedisMax));
  CHECK(s.heap_bytes() == object_only);  // 4 x 2 bytes inline
  CHECK(s.add("5", kRedisMax));
  CHECK(s.heap_bytes() > object_only);   // 10 bytes: a block
  CHECK(s.remove("3"));
  CHECK(s.heap_bytes() == object_only);  // back inside
  CHECK(members_of(s) == std::vector<std::string>{"1", "2", "4", "5"});
  CHECK(s.add("70000", kRedisMax));        // upgrade to 4 bytes: 20 bytes, a block
  CHECK(members_of(s) == std::vector<std::string>{"1", "2", "4", "5", "70000"});
  for (const char* m : {"1", "2", "4"}) CHECK(s.remove(m));
  CHECK(s.heap_bytes() == object_only);  // 2 x 4 bytes inline
  CHECK(members_of(s) == std::vector<std::string>{"5", "70000"});
  CHECK(s.add("-5000000000", kRedisMax));  // 3 x 8 bytes
  CHECK(members_of(s) == std::vector<std::string>{"-5000000000", "5", "70000"});
  CHECK(s.remove("5"));
  CHECK(s.remove("70000"));
  CHECK(s.heap_bytes() == object_only);  // 1 x 8 bytes inline
  CHECK(members_of(s) == std::vector<std::string>{"-5000000000"});
  SetValue copy(s);
  CHECK(members_of(copy) == members_of(s));
  CHECK(s.validate() == "");
  // Inline -> inline upgrade (one 2-byte member, then a 4-byte one).
  SetValue t;
  CHECK(t.add("-7", kRedisMax));
  CHECK(t.add("-100000", kRedisMax));
  CHECK(t.heap_bytes() == object_only);
  CHECK(members_of(t) == std::vector<std::string>{"-100000", "-7"});
  t.convert_to_hashtable();
  CHECK(member_set(t) == std::set<std::string>{"-100000", "-7"});
  CHECK(t.validate() == "");
}

TEST_CASE("SetValue: random intset operations across widths", "[set]") {
  std::mt19937_64 gen(3);
  const std::vector<int64_t> pool = {0, 1, -1, 7, -7, 200, 32767, -32768, 32768, -32769, 100000, -100000,
                                     INT32_MAX, INT32_MIN, int64_t{INT32_MAX} + 1, int64_t{INT32_MIN} - 1,
                                     INT64_MAX, INT64_MIN, 5000000000LL, -5000000000LL};
  for (int round = 0; round < 300; ++round) {
    SetValue s;
    std::set<int64_t> model;
    const size_t span = 2 + gen() % (pool.size() - 1);
    for (int step = 0; step < 60; ++step) {
      const int64_t v = pool[gen() % span];
      const std::string m = int64_to_string(v);
      if (gen() % 3 == 0) {
        REQUIRE(s.remove(m) == (model.erase(v) == 1));
      } else {
        REQUIRE(s.add(m, kRedisMax) == model.insert(v).second);
      }
      REQUIRE(s.validate() == "");
      REQUIRE(s.encoding_name() == "intset");
      std::vector<std::string> want;
      for (int64_t x : model) want.push_back(int64_to_string(x));
      REQUIRE(members_of(s) == want);
      for (int64_t x : pool) REQUIRE(s.contains_int(x) == (model.count(x) == 1));
    }
  }
}

TEST_CASE("SetValue: add_many gives the same set as adding one by one", "[set]") {
  std::mt19937_64 gen(11);
  const std::vector<std::string> pool = {"0", "1", "-1", "5", "300", "-300", "40000", "-40000", "3000000000",
                                         "-3000000000", "9223372036854775807", "-9223372036854775808", "007",
                                         "x", "", "12", "13", "14"};
  for (int round = 0; round < 3000; ++round) {
    const size_t limit = std::vector<size_t>{0, 1, 3, 5, 8, 512}[gen() % 6];
    SetValue bulk, single;
    // Start from a few members so that merges meet existing ones.
    for (int i = 0; i < static_cast<int>(gen() % 4); ++i) {
      const std::string m = std::to_string(static_cast<int>(gen() % 20) - 5);
      bulk.add(m, limit);
      single.add(m, limit);
    }
    std::vector<std::string> batch;
    const size_t n = gen() % 8;
    // Mostly integer-only batches.
    const size_t span = gen() % 4 == 0 ? pool.size() : 12;
    for (size_t i = 0; i < n; ++i) batch.push_back(pool[gen() % span]);
    std::vector<std::string_view> views(batch.begin(), batch.end());
    size_t want = 0;
    for (const std::string& m : batch) want += single.add(m, limit) ? 1 : 0;
    INFO("round " << round << " limit " << limit);
    REQUIRE(bulk.add_many(views, limit) == want);
    REQUIRE(bulk.validate() == "");
    REQUIRE(bulk.encoding_name() == single.encoding_name());
    REQUIRE(bulk.intset_width() == single.intset_width());
    REQUIRE(member_set(bulk) == member_set(single));
    if (bulk.is_intset()) REQUIRE(members_of(bulk) == members_of(single));
  }
}

TEST_CASE("SetValue: non-canonical integers convert to a hashtable", "[set]") {
  for (const char* m : {"007", "-0", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "", "9223372036854775808", "abc"}) {
    INFO("member '" << m << "'");
    SetValue s;
    CHECK(s.add("1", kRedisMax));
    CHECK(s.add("2", kRedisMax));
    CHECK(s.encoding_name() == "intset");
    CHECK_FALSE(s.contains(m));
    CHECK_FALSE(s.remove(m));
    CHECK(s.encoding_name() == "intset");  // lookups never convert
    CHECK(s.add(m, kRedisMax));
    CHECK(s.encoding_name() == "hashtable");
    CHECK(s.size() == 3);
    CHECK(s.contains(m));
    CHECK(s.contains("1"));
    CHECK(s.contains_int(2));
    CHECK(member_set(s) == std::set<std::string>{"1", "2", m});
    CHECK(s.validate() == "");
  }
}

TEST_CASE("SetValue: intset entry threshold", "[set]") {
  SetValue s;
  for (int i = 0; i < 512; ++i) REQUIRE(s.add(std::to_string(i * 3), kRedisMax));
  CHECK(s.encoding_name() == "intset");
  CHECK_FALSE(s.add("0", kRedisMax));  // present: stays an intset at the limit
  CHECK(s.encoding_name() == "intset");
  CHECK(s.add("1", kRedisMax));  // the 513th
  CHECK(s.encoding_name() == "hashtable");
  CHECK(s.size() == 513);
  CHECK(s.validate() == "");
  for (int i = 0; i < 512; ++i) REQUIRE(s.contains(std::to_string(i * 3)));
  // Removing does not convert back.
  for (int i = 1; i < 512; ++i) REQUIRE(s.remove(std::to_string(i * 3)));
  CHECK(s.size() == 2);
  CHECK(s.encoding_name() == "hashtable");
  CHECK(s.validate() == "");

  SetValue zero;
  CHECK(zero.add("1", 0));
  CHECK(zero.encoding_name() == "hashtable");
  SetValue one;
  CHECK(one.add("1", 1));
  CHECK(one.encoding_name() == "intset");
  CHECK(one.add("2", 1));
  CHECK(one.encoding_name() == "hashtable");
  // A limit above 2^30 is capped as Redis caps it (not tested to the end).
  SetValue huge;
  CHECK(huge.add("1", SIZE_MAX));
  CHECK(huge.encoding_name() == "intset");
}

TEST_CASE("SetValue: hashtable members of every length", "[set]") {
  SetValue s;
  std::set<std::string> model;
  for (size_t len = 0; len <= 40; ++len) {
    for (char c : {'a', 'b', '\0', '\xff'}) {
      const std::string m(len, c);
      CHECK(s.add(m, kRedisMax) == model.insert(m).second);
    }
  }
  CHECK(s.encoding_name() == "hashtable");
  CHECK(s.validate() == "");
  CHECK(member_set(s) == model);
  for (const std::string& m : model) CHECK(s.contains(m));
  CHECK_FALSE(s.contains(std::string(15, 'c')));
  CHECK_FALSE(s.contains(std::string(14, 'c')));
  // 14 bytes are inline, 15 go to the heap: both must be found and removed.
  CHECK(s.remove(std::string(14, 'a')));
  CHECK(s.remove(std::string(15, 'a')));
  CHECK_FALSE(s.contains(std::string(14, 'a')));
  CHECK_FALSE(s.contains(std::string(15, 'a')));
  CHECK(s.validate() == "");
}

TEST_CASE("SetValue: random operations against a model", "[set]") {
  std::mt19937_64 gen(42);
  for (size_t limit : {size_t{0}, size_t{16}, size_t{512}}) {
    INFO("max intset entries " << limit);
    SetValue s;
    std::set<std::string> model;
    auto random_member = [&]() -> std::string {
      switch (gen() % 4) {
        case 0: return std::to_string(static_cast<int64_t>(gen() % 200) - 100);
        case 1: return std::to_string(static_cast<int64_t>(gen()));
        case 2: return cat("m", std::to_string(gen() % 300));
        default: return std::string(gen() % 30, static_cast<char>('a' + gen() % 3));
      }
    };
    for (int step = 0; step < 20000; ++step) {
      const std::string m = random_member();
      // Mostly integers at first so that intsets live for a while.
      const std::string member = step < 2000 ? std::to_string(static_cast<int64_t>(gen() % 100) - 50) : m;
      if (gen() % 3 == 0) {
        REQUIRE(s.remove(member) == (model.erase(member) == 1));
      } else {
        REQUIRE(s.add(member, limit) == model.insert(member).second);
      }
      REQUIRE(s.size() == model.size());
      if (step % 997 == 0) {
        REQUIRE(s.validate() == "");
        REQUIRE(member_set(s) == model);
      }
    }
    CHECK(s.validate() == "");
    CHECK(member_set(s) == model);
    for (const std::string& m : model) CHECK(s.contains(m));
  }
}

TEST_CASE("SetValue: one million members", "[set]") {
  SetValue s;
  constexpr int kN = 1'000'000;
  for (int i = 0; i < kN; ++i) REQUIRE(s.add(cat("member:", std::to_string(i)), kRedisMax));
  CHECK(s.size() == kN);
  CHECK(s.encoding_name() == "hashtable");
  CHECK(s.validate() == "");
  for (int i = 0; i < kN; i += 7) REQUIRE(s.contains(cat("member:", std::to_string(i))));
  CHECK_FALSE(s.contains(cat("member:", std::to_string(kN))));
  CHECK_FALSE(s.add("member:5", kRedisMax));
  // Every member once through for_each, and at least once through scan.
  size_t visited = 0;
  s.for_each([&](std::string_view) { ++visited; });
  CHECK(visited == kN);
  std::vector<char> seen(kN, 0);
  uint64_t cursor = 0;
  do {
    cursor = s.scan(cursor, [&](std::string_view m) {
      int64_t i;
      REQUIRE(distcache::storage::parse_int64(m.substr(7), i));
      seen[static_cast<size_t>(i)] = 1;
    });
  } while (cursor != 0);
  CHECK(std::count(seen.begin(), seen.end(), 1) == kN);
  // Remove nearly everything: the table shrinks as it empties.
  const size_t big_cap = s.capacity();
  for (int i = 0; i < kN - 10; ++i) REQUIRE(s.remove(cat("member:", std::to_string(i))));
  CHECK(s.size() == 10);
  CHECK(s.capacity() < big_cap / 1000);
  CHECK(s.validate() == "");
  for (int i = kN - 10; i < kN; ++i) CHECK(s.contains(cat("member:", std::to_string(i))));

  // A million integers: an intset only up to the limit, then a hashtable.
  SetValue ints;
  for (int i = 0; i < kN; ++i) REQUIRE(ints.add(std::to_string(i * 2 - kN), kRedisMax));
  CHECK(ints.encoding_name() == "hashtable");
  CHECK(ints.size() == kN);
  CHECK(ints.contains_int(-kN));
  CHECK_FALSE(ints.contains_int(-kN + 1));
  CHECK(ints.validate() == "");
  // And a large intset when the limit allows it.
  // (Inserting is O(n) per member in an intset, as in Redis: ascending order
  // appends; descending order shifts everything, so it is kept smaller.)
  SetValue big_intset;
  for (int i = 1; i <= kN; ++i) REQUIRE(big_intset.add(std::to_string(i), kN));
  CHECK(big_intset.encoding_name() == "intset");
  CHECK(big_intset.intset_width() == 4);
  CHECK(big_intset.size() == kN);
  CHECK(big_intset.validate() == "");
  CHECK(big_intset.contains_int(kN));
  CHECK_FALSE(big_intset.contains_int(0));
  SetValue descending;
  for (int i = 20000; i > 0; --i) REQUIRE(descending.add(std::to_string(i * 7), kN));
  CHECK(descending.size() == 20000);
  CHECK(descending.validate() == "");
}

TEST_CASE("SetValue: scan visits every member present throughout, across resizes", "[set]") {
  SetValue s;
  for (int i = 0; i < 1000; ++i) s.add(cat("k", std::to_string(i)), kRedisMax);
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int step = 0;
  int next_new = 1000;
  do {
    cursor = s.scan(cursor, [&](std::string_view m) { seen.emplace(m); });
    ++step;
    // Grow the table a lot in the middle, then shrink it a lot.
    if (step == 50)
      for (int i = 0; i < 5000; ++i) s.add(cat("n", std::to_string(next_new++)), kRedisMax);
    if (step == 400)
      for (int i = 1000; i < next_new; ++i) s.remove(cat("n", std::to_string(i)));
  } while (cursor != 0);
  for (int i = 0; i < 1000; ++i) CHECK(seen.count(cat("k", std::to_string(i))) == 1);
  CHECK(s.validate() == "");
}

TEST_CASE("SetValue: random positions are uniform", "[set]") {
  for (bool ints : {true, false}) {
    INFO((ints ? "intset" : "hashtable"));
    SetValue s;
    constexpr int kMembers = 10;
    for (int i = 0; i < kMembers; ++i) s.add(ints ? std::to_string(i * 1000) : cat("x", std::to_string(i)), kRedisMax);
    // Make the hashtable sparse (after removals it has holes and runs).
    if (!ints) {
      for (int i = 0; i < 30; ++i) s.add(cat("tmp", std::to_string(i)), kRedisMax);
      for (int i = 0; i < 30; ++i) s.remove(cat("tmp", std::to_string(i)));
    }
    std::map<std::string, int> hits;
    uint64_t rng = 12345;
    SetValue::NumBuf buf;
    constexpr int kDraws = 100000;
    for (int i = 0; i < kDraws; ++i) {
      const size_t pos = s.random_position(rng);
      REQUIRE(s.position_used(pos));
      ++hits[std::string(s.member_at(pos, buf))];
    }
    CHECK(hits.size() == kMembers);
    for (const auto& [m, n] : hits) {
      INFO(m << " drawn " << n);
      CHECK(n > kDraws / kMembers * 0.93);
      CHECK(n < kDraws / kMembers * 1.07);
    }
  }
}

TEST_CASE("SetValue: erase_position and positions", "[set]") {
  for (bool ints : {true, false}) {
    SetValue s;
    std::set<std::string> model;
    for (int i = 0; i < 100; ++i) {
      const std::string m = ints ? std::to_string(i) : cat("p", std::to_string(i));
      s.add(m, kRedisMax);
      model.insert(m);
    }
    uint64_t rng = 99;
    SetValue::NumBuf buf;
    while (!s.empty()) {
      const size_t pos = s.random_position(rng);
      const std::string m(s.member_at(pos, buf));
      REQUIRE(model.erase(m) == 1);
      s.erase_position(pos);
      REQUIRE(s.size() == model.size());
      REQUIRE(s.validate() == "");
    }
    CHECK(model.empty());
    // Counting occupied positions gives the size.
    SetValue t;
    for (int i = 0; i < 50; ++i) t.add(ints ? std::to_string(i) : cat("q", std::to_string(i)), kRedisMax);
    size_t used = 0;
    for (size_t p = 0; p < t.position_end(); ++p) used += t.position_used(p) ? 1 : 0;
    CHECK(used == 50);
  }
}

TEST_CASE("SetValue: copies are deep, moves and swaps transfer", "[set]") {
  SetValue h;
  for (int i = 0; i < 100; ++i) h.add(cat("a-rather-long-member-", std::to_string(i)), kRedisMax);
  h.add("short", kRedisMax);
  SetValue i;
  for (int k = 0; k < 10; ++k) i.add(std::to_string(k), kRedisMax);

  std::unique_ptr<distcache::storage::Collection> hc = h.clone();
  std::unique_ptr<distcache::storage::Collection> ic = i.clone();
  auto& hcopy = static_cast<SetValue&>(*hc);
  auto& icopy = static_cast<SetValue&>(*ic);
  CHECK(member_set(hcopy) == member_set(h));
  CHECK(members_of(icopy) == members_of(i));
  CHECK(hcopy.encoding_name() == "hashtable");
  CHECK(icopy.encoding_name() == "intset");
  h.remove("a-rather-long-member-5");
  i.remove("5");
  CHECK(hcopy.contains("a-rather-long-member-5"));
  CHECK(icopy.contains("5"));
  CHECK(hcopy.validate() == "");
  CHECK(hc->length() == 101);

  SetValue moved(std::move(hcopy));
  CHECK(moved.size() == 101);
  CHECK(hcopy.empty());
  CHECK(hcopy.encoding_name() == "intset");
  moved.swap(icopy);
  CHECK(moved.size() == 10);
  CHECK(icopy.size() == 101);
  SetValue assigned;
  assigned = std::move(icopy);
  CHECK(assigned.size() == 101);
  CHECK(assigned.validate() == "");
}

TEST_CASE("SetValue: memory per member vs redis-server 7.0", "[set]") {
  // redis-server 7.0.15 (jemalloc), MEMORY USAGE ... SAMPLES 0 of a key with
  // 100 members: "member:1".."member:100" -> 5640 bytes (hashtable);
  // 1..100 -> 272 bytes (intset, 16-bit); 100001..100100 -> 496 (32-bit);
  // 1..100 plus "x" (hashtable of integers) -> 4360 bytes.
  SetValue strs, small_ints, mid_ints, ht_ints;
  for (int i = 1; i <= 100; ++i) {
    strs.add(cat("member:", std::to_string(i)), kRedisMax);
    small_ints.add(std::to_string(i), kRedisMax);
    mid_ints.add(std::to_string(100000 + i), kRedisMax);
    ht_ints.add(std::to_string(i), kRedisMax);
  }
  ht_ints.add("x", kRedisMax);
  WARN("bytes for 100 members: strings " << strs.heap_bytes() << " (redis 5640), 16-bit ints "
                                         << small_ints.heap_bytes() << " (redis 272), 32-bit ints "
                                         << mid_ints.heap_bytes() << " (redis 496), hashtable of 101 ints "
                                         << ht_ints.heap_bytes() << " (redis 4360)");
  CHECK(strs.heap_bytes() < 5640);
  // An intset grown one member at a time sits in a realloc'd block whose
  // usable size depends on the heap around it (glibc may leave an unsplit
  // tail); a copy's block is exact, which makes the layout's cost comparable.
  CHECK(SetValue(small_ints).heap_bytes() < 272);
  CHECK(SetValue(mid_ints).heap_bytes() < 496);
  CHECK(ht_ints.heap_bytes() < 4360);
  // Long members cost a heap block each.
  SetValue longs;
  for (int i = 0; i < 100; ++i) longs.add(std::string(40, 'z') + std::to_string(i), kRedisMax);
  CHECK(longs.heap_bytes() > 100 * 48);
}
