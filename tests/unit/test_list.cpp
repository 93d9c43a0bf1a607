// storage::List: entry encoding, node sizing, cursors, and a randomized
// comparison against a std::deque model with small nodes so that splits and
// merges happen all the time.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "storage/list.h"
#include "storage/numbers.h"

using distcache::storage::List;
using distcache::storage::ListEntry;
using distcache::storage::ListNeedle;

namespace {

// prefix + decimal number (built by appending: GCC 12 warns spuriously on
// "literal" + std::string).
std::string numbered(std::string_view prefix, uint64_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

std::string str(const ListEntry& e) { return e.to_string(); }

std::vector<std::string> contents(const List& l) {
  std::vector<std::string> out;
  if (l.empty()) return out;
  for (List::Cursor c = l.cursor(0); c.valid(); c.next()) out.push_back(str(c.entry()));
  return out;
}

std::vector<std::string> contents_backwards(const List& l) {
  std::vector<std::string> out;
  if (l.empty()) return out;
  for (List::Cursor c = l.cursor(l.size() - 1); c.valid(); c.prev()) out.push_back(str(c.entry()));
  return {out.rbegin(), out.rend()};
}

}  // namespace

TEST_CASE("List: pushes, pops, indexes and cursors", "[list]") {
  List l;
  CHECK(l.empty());
  CHECK(l.encoding_name() == "quicklist");
  l.push_back("b");
  l.push_back("c");
  l.push_front("a");
  CHECK(l.size() == 3);
  CHECK(l.length() == 3);
  CHECK(str(l.front()) == "a");
  CHECK(str(l.back()) == "c");
  CHECK(str(l.at(1)) == "b");
  CHECK(contents(l) == std::vector<std::string>{"a", "b", "c"});
  CHECK(contents_backwards(l) == std::vector<std::string>{"a", "b", "c"});
  l.pop_front();
  l.pop_back();
  CHECK(contents(l) == std::vector<std::string>{"b"});
  l.pop_back();
  CHECK(l.empty());
  CHECK(l.node_count() == 0);
  CHECK(l.validate().empty());
  CHECK_FALSE(l.cursor(0).valid());
}

TEST_CASE("List: integer-looking strings round-trip exactly", "[list]") {
  const std::vector<std::string> values = {
      "0", "1", "127", "128", "-1", "4095", "4096", "-4096", "-4097", "32767", "32768", "-32768", "-32769",
      "8388607", "8388608", "-8388608", "-8388609", "2147483647", "2147483648", "-2147483648", "-2147483649",
      "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809", "-0",
      "007", "+1", " 1", "1 ", "1e3", "0x10", "", std::string("\0", 1), std::string("1\0", 2), "12345678901234567890"};
  List l;
  for (const auto& v : values) l.push_back(v);
  CHECK(contents(l) == values);
  CHECK(contents_backwards(l) == values);
  for (size_t i = 0; i < values.size(); ++i) {
    INFO(i);
    CHECK(str(l.at(i)) == values[i]);
    CHECK(ListNeedle(values[i]).matches(l.at(i)));
  }
  // Canonical integers are stored compactly: 0..127 in one byte plus the back-length.
  List small;
  small.push_back("5");
  CHECK(small.node_bytes(0) == 2);
  CHECK(small.front().is_int);
  List notint;
  notint.push_back("05");
  CHECK_FALSE(notint.front().is_int);
  CHECK(notint.node_bytes(0) == 4);
  // Needles compare by bytes, also between integers and look-alikes.
  CHECK_FALSE(ListNeedle("05").matches(small.front()));
  CHECK_FALSE(ListNeedle("5").matches(notint.front()));
  char buf[distcache::storage::kInt64StrSize];
  CHECK(small.front().view(buf) == "5");
}

TEST_CASE("List: string length classes round-trip", "[list]") {
  List l(-5);
  std::vector<std::string> values;
  for (size_t n : {0, 1, 63, 64, 127, 128, 4095, 4096, 16383, 16384, 70000, 300000}) {
    std::string s(n, 'x');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + n) % 26);
    values.push_back(s);
  }
  for (const auto& v : values) l.push_back(v);
  for (const auto& v : values) l.push_front(v);
  std::vector<std::string> expect(values.rbegin(), values.rend());
  expect.insert(expect.end(), values.begin(), values.end());
  CHECK(contents(l) == expect);
  CHECK(contents_backwards(l) == expect);
  CHECK(l.validate().empty());
}

TEST_CASE("List: node size limits follow list-max-listpack-size", "[list]") {
  SECTION("-2: 8 KiB of entries per node") {
    // A 10-byte string takes 12 bytes: 1-byte header, 10 bytes, 1-byte back-length.
    List l(-2);
    for (int i = 0; i < 682; ++i) l.push_back("abcdefghij");
    CHECK(l.node_count() == 1);
    CHECK(l.node_bytes(0) == 682 * 12);
    l.push_back("abcdefghij");
    CHECK(l.node_count() == 2);
    for (int i = 0; i < 682; ++i) l.push_front("abcdefghij");
    CHECK(l.node_count() == 3);
    CHECK(l.node_entries(0) == 682);
    CHECK(l.node_entries(1) == 682);
    CHECK(l.node_entries(2) == 1);
    CHECK(l.validate().empty());
  }
  SECTION("every negative level") {
    const size_t limits[] = {4096, 8192, 16384, 32768, 65536};
    for (int level = 1; level <= 5; ++level) {
      List l(-level);
      // 1 + 62 + 1 = 64-byte entries.
      const size_t per_node = limits[level - 1] / 64;
      for (size_t i = 0; i < per_node; ++i) l.push_back(std::string(62, 'q'));
      CHECK(l.node_count() == 1);
      l.push_back(std::string(62, 'q'));
      CHECK(l.node_count() == 2);
    }
    CHECK(List(-9).fill() == -5);
  }
  SECTION("positive: entries per node, capped by 8 KiB") {
    List l(3);
    for (int i = 0; i < 7; ++i) l.push_back(std::to_string(i));
    REQUIRE(l.node_count() == 3);
    CHECK(l.node_entries(0) == 3);
    CHECK(l.node_entries(2) == 1);
    List big(1000);
    for (int i = 0; i < 10; ++i) big.push_back(std::string(1000, 'z'));
    CHECK(big.node_count() == 2);  // 8 entries of 1004 bytes fit in 8192
    CHECK(big.node_entries(0) == 8);
  }
  SECTION("an element bigger than the limit gets a node of its own") {
    List l(-1);
    l.push_back("a");
    l.push_back(std::string(5000, 'b'));
    l.push_back("c");
    CHECK(l.node_count() == 3);
    CHECK(l.node_entries(1) == 1);
    l.set(0, std::string(6000, 'x'));
    CHECK(str(l.at(0)) == std::string(6000, 'x'));
    CHECK(l.validate().empty());
  }
  SECTION("deleting in the middle merges nodes that fit together again") {
    List l(4);
    for (int i = 0; i < 12; ++i) l.push_back(std::to_string(i));
    REQUIRE(l.node_count() == 3);
    l.erase(2, 4);  // leaves 2 + 2 entries in the first two nodes
    CHECK(l.node_count() == 2);
    CHECK(contents(l) == std::vector<std::string>{"0", "1", "6", "7", "8", "9", "10", "11"});
    CHECK(l.remove(ListNeedle("9"), 0) == 1);
    CHECK(l.validate().empty());
  }
}

TEST_CASE("List: LREM directions and limits", "[list]") {
  auto make = [] {
    List l(3);  // small nodes so removals cross node boundaries
    for (const char* v : {"a", "x", "a", "a", "y", "a", "z", "a"}) l.push_back(v);
    return l;
  };
  {
    List l = make();
    CHECK(l.remove(ListNeedle("a"), 2) == 2);
    CHECK(contents(l) == std::vector<std::string>{"x", "a", "y", "a", "z", "a"});
  }
  {
    List l = make();
    CHECK(l.remove(ListNeedle("a"), -2) == 2);
    CHECK(contents(l) == std::vector<std::string>{"a", "x", "a", "a", "y", "z"});
    CHECK(l.validate().empty());
  }
  {
    List l = make();
    CHECK(l.remove(ListNeedle("a"), -100) == 5);
    CHECK(contents(l) == std::vector<std::string>{"x", "y", "z"});
    CHECK(l.remove(ListNeedle("a"), INT64_MIN) == 0);
    CHECK(l.validate().empty());
  }
  {
    List l = make();
    CHECK(l.remove(ListNeedle("a"), INT64_MIN) == 5);
    CHECK(l.remove(ListNeedle("x"), 0) == 1);
    CHECK(l.remove(ListNeedle("y"), 0) == 1);
    CHECK(l.remove(ListNeedle("z"), 0) == 1);
    CHECK(l.empty());
    CHECK(l.node_count() == 0);
  }
}

TEST_CASE("List: clone is deep and heap_bytes tracks the size", "[list]") {
  List l;
  for (int i = 0; i < 1000; ++i) l.push_back(numbered("item:", i));
  auto copy = l.clone();
  auto& c = static_cast<List&>(*copy);
  l.set(0, "changed");
  l.pop_back();
  CHECK(str(c.at(0)) == "item:0");
  CHECK(c.size() == 1000);
  CHECK(str(c.back()) == "item:999");
  CHECK(c.validate().empty());
  CHECK(c.heap_bytes() > 1000 * 8);
  CHECK(c.heap_bytes() < 1000 * 16);
  List small;
  for (int i = 0; i < 100; ++i) small.push_back(numbered("e", i));
  // 100 short strings: about 5 bytes each plus one node and the object.
  CHECK(small.heap_bytes() < 700);
}

TEST_CASE("List: randomized operations match a deque model", "[list]") {
  for (int64_t fill : {-2, -1, 1, 2, 5, 128}) {
    INFO("fill " << fill);
    std::mt19937_64 rng(static_cast<uint64_t>(fill + 1000));
    List l(fill);
    std::deque<std::string> model;
    auto rand_value = [&]() -> std::string {
      switch (rng() % 6) {
        case 0: return std::to_string(static_cast<int64_t>(rng() % 300) - 150);
        case 1: return std::to_string(static_cast<int64_t>(rng()));
        case 2: return std::string(rng() % 4, static_cast<char>('a' + rng() % 3));
        case 3: return std::string(rng() % 200, 'm');
        case 4: return rng() % 50 == 0 ? std::string(9000, 'L') : numbered("0", rng() % 10);
        default: return std::string(1 + rng() % 20, static_cast<char>('a' + rng() % 26));
      }
    };
    for (int step = 0; step < 6000; ++step) {
      const unsigned op = rng() % 11;
      const size_t n = model.size();
      if (op == 0 || n == 0) {
        auto v = rand_value();
        l.push_back(v);
        model.push_back(v);
      } else if (op == 1) {
        auto v = rand_value();
        l.push_front(v);
        model.push_front(v);
      } else if (op == 2) {
        CHECK(str(l.front()) == model.front());
        l.pop_front();
        model.pop_front();
      } else if (op == 3) {
        CHECK(str(l.back()) == model.back());
        l.pop_back();
        model.pop_back();
      } else if (op == 4) {
        const size_t i = rng() % (n + 1);
        auto v = rand_value();
        l.insert(i, v);
        model.insert(model.begin() + static_cast<ptrdiff_t>(i), v);
      } else if (op == 5) {
        const size_t i = rng() % n;
        auto v = rand_value();
        l.set(i, v);
        model[i] = v;
      } else if (op == 6) {
        const size_t i = rng() % n;
        const size_t cnt = rng() % 8 == 0 ? n : rng() % 5;
        l.erase(i, cnt);
        model.erase(model.begin() + static_cast<ptrdiff_t>(i),
                    model.begin() + static_cast<ptrdiff_t>(std::min(n, i + cnt)));
      } else if (op == 7) {
        const std::string needle = model[rng() % n];
        const int64_t count = static_cast<int64_t>(rng() % 5) - 2;
        size_t expect = 0;
        if (count >= 0) {
          for (auto it = model.begin(); it != model.end();) {
            if (*it == needle && (count == 0 || expect < static_cast<size_t>(count))) {
              it = model.erase(it);
              ++expect;
            } else {
              ++it;
            }
          }
        } else {
          for (size_t i = model.size(); i-- > 0;) {
            if (model[i] == needle && expect < static_cast<size_t>(-count)) {
              model.erase(model.begin() + static_cast<ptrdiff_t>(i));
              ++expect;
            }
          }
        }
        CHECK(l.remove(ListNeedle(needle), count) == expect);
      } else if (op == 8) {
        const std::string needle = rng() % 2 ? model[rng() % n] : rand_value();
        std::optional<size_t> expect;
        for (size_t i = 0; i < n; ++i)
          if (model[i] == needle) {
            expect = i;
            break;
          }
        CHECK(l.find(ListNeedle(needle)) == expect);
      } else if (op == 9) {
        const size_t i = rng() % n;
        CHECK(str(l.at(i)) == model[i]);
      } else {
        // Walk a few steps both ways from a random index.
        const size_t i = rng() % n;
        List::Cursor c = l.cursor(i);
        for (size_t j = i; j < std::min(n, i + 5); ++j, c.next()) CHECK(str(c.entry()) == model[j]);
        List::Cursor b = l.cursor(i);
        for (size_t j = i + 1; j-- > (i >= 5 ? i - 5 : 0);) {
          CHECK(str(b.entry()) == model[j]);
          b.prev();
          if (j == 0) break;
        }
      }
      REQUIRE(l.size() == model.size());
      if (step % 97 == 0) {
        const std::string why = l.validate();
        INFO("step " << step);
        REQUIRE(why.empty());
        REQUIRE(contents(l) == std::vector<std::string>(model.begin(), model.end()));
      }
    }
    REQUIRE(l.validate().empty());
    REQUIRE(contents(l) == std::vector<std::string>(model.begin(), model.end()));
    REQUIRE(contents_backwards(l) == std::vector<std::string>(model.begin(), model.end()));
  }
}

TEST_CASE("List: one million elements", "[list]") {
  const auto t0 = std::chrono::steady_clock::now();
  List l;
  constexpr size_t kN = 1'000'000;
  for (size_t i = 0; i < kN; ++i) l.push_back(numbered("value:", i));
  CHECK(l.size() == kN);
  CHECK(str(l.at(0)) == "value:0");
  CHECK(str(l.at(kN / 2)) == "value:500000");
  CHECK(str(l.at(kN - 1)) == "value:999999");
  // Nodes stay within 8 KiB and are reasonably full.
  size_t bytes = 0;
  for (size_t k = 0; k < l.node_count(); ++k) {
    CHECK(l.node_bytes(k) <= 8192);
    bytes += l.node_bytes(k);
  }
  CHECK(l.node_count() < bytes / 8192 + 10);
  // Heap use close to the payload: no per-element allocation.
  CHECK(l.heap_bytes() < bytes + bytes / 4 + 4096);
  // A full walk in order.
  size_t i = 0;
  bool ordered = true;
  for (List::Cursor c = l.cursor(0); c.valid(); c.next(), ++i)
    if (i % 99991 == 0) ordered = ordered && str(c.entry()) == numbered("value:", i);
  CHECK(ordered);
  CHECK(i == kN);
  // Random access, updates and inserts in the middle.
  l.set(kN / 3, "middle");
  CHECK(str(l.at(kN / 3)) == "middle");
  l.insert(kN / 3, "before-middle");
  CHECK(str(l.at(kN / 3 + 1)) == "middle");
  CHECK(l.find(ListNeedle("value:999998")) == kN - 1);
  // Pushes at the head, then pops from both ends down to nothing.
  for (size_t j = 0; j < kN; ++j) l.push_front("h");
  CHECK(l.size() == 2 * kN + 1);
  CHECK(l.validate().empty());
  while (l.size() > kN) l.pop_front();
  while (!l.empty()) l.pop_back();
  CHECK(l.node_count() == 0);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(secs < 20.0);  // linear work; a quadratic path would take far longer
}

TEST_CASE("List: pushes at the head cost no more memory than at the tail", "[list]") {
  // Head pushes and pops move a front gap instead of the node's bytes; the
  // gap must not turn into waste, whichever end the pushes go to.
  const std::string v(16, 'x');
  List tail_only, head_only, alternating;
  for (int i = 0; i < 20000; ++i) {
    tail_only.push_back(v);
    head_only.push_front(v);
    if (i % 2)
      alternating.push_front(v);
    else
      alternating.push_back(v);
  }
  REQUIRE(head_only.validate().empty());
  REQUIRE(alternating.validate().empty());
  const double base = static_cast<double>(tail_only.heap_bytes());
  CHECK(static_cast<double>(head_only.heap_bytes()) <= base * 1.15);
  CHECK(static_cast<double>(alternating.heap_bytes()) <= base * 1.15);
  // A single node taking pushes at both ends, and pops at the head.
  List small;
  for (int i = 0; i < 200; ++i) {
    if (i % 3 == 0) small.push_back(std::to_string(i));
    else small.push_front(std::to_string(i));
    if (i % 7 == 0) small.pop_front();
    REQUIRE(small.validate().empty());
  }
  CHECK(small.heap_bytes() < 2048);
}
