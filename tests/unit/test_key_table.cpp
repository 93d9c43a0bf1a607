#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "storage/hash.h"
#include "storage/key_table.h"

using distcache::storage::KeyTable;
using distcache::storage::kNoExpiry;
using distcache::storage::reverse_bits;
using distcache::storage::Value;

namespace {

std::string key(size_t i) { return "key:" + std::to_string(i); }

KeyTable::Node* put(KeyTable& t, const std::string& k, std::string_view v = "v") {
  return t.insert(k, KeyTable::hash(k), Value::string(v));
}
KeyTable::Node* get(KeyTable& t, std::string_view k) { return t.find(k, KeyTable::hash(k)); }
bool del(KeyTable& t, std::string_view k) { return t.erase(k, KeyTable::hash(k)); }

// Runs a complete SCAN over the table, calling `between(step)` between calls.
template <class F>
std::multiset<std::string> full_scan(KeyTable& t, F&& between) {
  std::multiset<std::string> seen;
  uint64_t cursor = 0;
  size_t step = 0;
  do {
    cursor = t.scan(cursor, [&](KeyTable::Node* n) { seen.insert(std::string(n->key.view())); });
    between(step++);
  } while (cursor != 0);
  return seen;
}

}  // namespace

TEST_CASE("hash: deterministic, length- and content-sensitive", "[key_table]") {
  using distcache::storage::hash_bytes;
  CHECK(hash_bytes("abc") == hash_bytes(std::string("abc")));
  std::unordered_set<uint64_t> hs;
  std::string s;
  for (int n = 0; n <= 300; ++n) {
    hs.insert(hash_bytes(s));
    s.push_back('\0');  // all-zero strings of every length differ
  }
  CHECK(hs.size() == 301);
  // Single-bit flips at every position change the hash.
  std::string base(64, 'k');
  const uint64_t h0 = hash_bytes(base);
  for (size_t i = 0; i < base.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string m = base;
      m[i] = static_cast<char>(m[i] ^ (1 << bit));
      CHECK(hash_bytes(m) != h0);
    }
  }
  // Low bits (the bucket index) of sequential keys spread evenly.
  constexpr size_t kBuckets = 1024, kKeys = 1024 * 64;
  std::vector<size_t> counts(kBuckets);
  for (size_t i = 0; i < kKeys; ++i) ++counts[hash_bytes(key(i)) & (kBuckets - 1)];
  double chi = 0;
  const double expect = double(kKeys) / kBuckets;
  for (size_t c : counts) chi += (c - expect) * (c - expect) / expect;
  // df = 1023: mean 1023, sd ~45; 1300 is > 6 sd away.
  CHECK(chi < 1300);
}

TEST_CASE("reverse_bits", "[key_table]") {
  CHECK(reverse_bits(0) == 0);
  CHECK(reverse_bits(1) == (uint64_t{1} << 63));
  CHECK(reverse_bits(uint64_t{1} << 63) == 1);
  CHECK(reverse_bits(0x0123456789ABCDEFULL) == 0xF7B3D591E6A2C480ULL);
  std::mt19937_64 r(1);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t v = r();
    CHECK(reverse_bits(reverse_bits(v)) == v);
  }
}

TEST_CASE("KeyTable: insert/find/erase 1M keys with validation", "[key_table]") {
  KeyTable t;
  constexpr size_t N = 1000000;
  for (size_t i = 0; i < N; ++i) {
    const std::string k = key(i);
    put(t, k, k);
    if (i == 1000 || i == 100000 || i == 600000) REQUIRE(t.validate() == "");
  }
  REQUIRE(t.size() == N);
  REQUIRE(t.validate() == "");
  for (size_t i = 0; i < N; ++i) {
    const std::string k = key(i);
    KeyTable::Node* n = get(t, k);
    REQUIRE(n != nullptr);
    REQUIRE(n->value.str() == k);
  }
  CHECK(get(t, "key:x") == nullptr);
  CHECK(get(t, key(N)) == nullptr);
  // Erase the odd keys.
  for (size_t i = 1; i < N; i += 2) REQUIRE(del(t, key(i)));
  CHECK_FALSE(del(t, key(1)));
  REQUIRE(t.size() == N / 2);
  REQUIRE(t.validate() == "");
  for (size_t i = 0; i < N; ++i) REQUIRE((get(t, key(i)) != nullptr) == (i % 2 == 0));
  // Erase the rest: the table shrinks as it empties.
  for (size_t i = 0; i < N; i += 2) REQUIRE(del(t, key(i)));
  while (t.rehash_step(1000)) {
  }
  CHECK(t.size() == 0);
  CHECK(t.main_buckets() <= 8);
  REQUIRE(t.validate() == "");
}

TEST_CASE("KeyTable: incremental rehash while inserting and deleting", "[key_table]") {
  KeyTable t;
  std::mt19937_64 rng(7);
  std::unordered_map<std::string, std::string> model;
  size_t saw_rehashing = 0;
  size_t max_buckets = 0;
  for (int round = 0; round < 6; ++round) {
    // Grow to ~40k, then shrink to a few hundred, with random interleaving.
    const bool grow = round % 2 == 0;
    for (int op = 0; op < 60000; ++op) {
      const std::string k = key(rng() % (grow ? 50000 : 60000));
      const bool insert = grow ? (rng() % 10) < 8 : (rng() % 10) < 1;
      if (insert) {
        if (KeyTable::Node* n = get(t, k)) {
          n->value = Value::string(k + "!");
          model[k] = k + "!";
        } else {
          put(t, k, k);
          model[k] = k;
        }
      } else {
        const bool had = model.erase(k) > 0;
        REQUIRE(del(t, k) == had);
      }
      if (t.rehashing()) ++saw_rehashing;
      max_buckets = std::max(max_buckets, t.main_buckets());
      if (op % 5000 == 0) {
        REQUIRE(t.validate() == "");
        REQUIRE(t.size() == model.size());
      }
    }
    REQUIRE(t.validate() == "");
    REQUIRE(t.size() == model.size());
    for (const auto& [k, v] : model) {
      KeyTable::Node* n = get(t, k);
      REQUIRE(n != nullptr);
      REQUIRE(n->value.str() == v);
    }
  }
  CHECK(saw_rehashing > 1000);
  CHECK(max_buckets >= 32768);
  // Load stays bounded: the table shrank back.
  while (t.rehash_step(100)) {
  }
  CHECK(t.main_buckets() <= std::max<size_t>(16, 16 * t.size()));
}

TEST_CASE("KeyTable: node pointers survive rehashing", "[key_table]") {
  KeyTable t;
  std::vector<std::pair<std::string, Value*>> ptrs;
  for (size_t i = 0; i < 5000; ++i) {
    KeyTable::Node* n = put(t, key(i), key(i));
    ptrs.emplace_back(key(i), &n->value);
  }
  for (size_t i = 5000; i < 100000; ++i) put(t, key(i));
  for (const auto& [k, v] : ptrs) {
    REQUIRE(&get(t, k)->value == v);
    REQUIRE(v->str() == k);
  }
}

TEST_CASE("KeyTable: expiry table stays consistent", "[key_table]") {
  KeyTable t;
  for (size_t i = 0; i < 20000; ++i) {
    const std::string k = key(i);
    KeyTable::Node* n = put(t, k);
    if (i % 3 == 0) t.set_expire(n, KeyTable::hash(k), static_cast<int64_t>(1000 + i));
  }
  CHECK(t.expires_size() == 6667);
  REQUIRE(t.validate() == "");
  for (size_t i = 0; i < 20000; ++i) {
    const std::string k = key(i);
    const uint64_t h = KeyTable::hash(k);
    KeyTable::Node* n = t.find(k, h);
    REQUIRE(n != nullptr);
    REQUIRE(n->has_expire() == (i % 3 == 0));
    REQUIRE(t.expire_of(n, h) == (i % 3 == 0 ? static_cast<int64_t>(1000 + i) : kNoExpiry));
  }
  // Update, clear, erase volatile keys.
  for (size_t i = 0; i < 20000; i += 3) {
    const std::string k = key(i);
    const uint64_t h = KeyTable::hash(k);
    KeyTable::Node* n = t.find(k, h);
    if (i % 2 == 0) {
      t.set_expire(n, h, 5);
      REQUIRE(t.expire_of(n, h) == 5);
    } else if (i % 9 == 0) {
      REQUIRE(t.clear_expire(n, h));
      REQUIRE_FALSE(t.clear_expire(n, h));
      REQUIRE(t.expire_of(n, h) == kNoExpiry);
    } else {
      t.erase(n, h);
    }
  }
  REQUIRE(t.validate() == "");
  size_t flagged = 0;
  t.for_each([&](const KeyTable::Node* n) { flagged += n->has_expire(); });
  CHECK(flagged == t.expires_size());
  // Walking the volatile keys visits exactly them.
  std::set<std::string> vol;
  uint64_t c = 0;
  do {
    c = t.scan_expires(c, [&](KeyTable::Node* n, int64_t when) {
      CHECK(when == 5);
      vol.insert(std::string(n->key.view()));
    });
  } while (c != 0);
  CHECK(vol.size() == t.expires_size());
  t.clear();
  CHECK(t.size() == 0);
  CHECK(t.expires_size() == 0);
  REQUIRE(t.validate() == "");
}

TEST_CASE("KeyTable: SCAN returns every stable key across growth and shrink", "[key_table]") {
  // Keys present for the whole scan must be returned at least once, whatever
  // the table does between calls: grow, shrink, be mid-rehash.
  for (int scenario = 0; scenario < 4; ++scenario) {
    KeyTable t;
    const size_t stable = 3000;
    for (size_t i = 0; i < stable; ++i) put(t, key(i));
    if (scenario >= 2) {  // start large so the scan sees shrinking
      for (size_t i = 0; i < 200000; ++i) put(t, "extra:" + std::to_string(i));
    }
    size_t next_extra = 0, erased_extra = 0;
    auto between = [&](size_t step) {
      switch (scenario) {
        // (Growth is capped: a table that keeps doubling faster than the
        // cursor advances would postpone the end of the scan indefinitely.)
        case 0:  // steady growth, interleaved with partial rehashes
          for (int i = 0; i < 40 && next_extra < 150000; ++i) put(t, "grow:" + std::to_string(next_extra++));
          break;
        case 1:  // bursts of growth, then rehash completes sometimes
          if (step % 7 == 0 && next_extra < 150000) {
            for (int i = 0; i < 2000; ++i) put(t, "grow:" + std::to_string(next_extra++));
          }
          if (step % 13 == 0) t.rehash_step(1000000);
          break;
        case 2:  // shrinking: delete the extras progressively
        case 3:
          for (int i = 0; i < (scenario == 2 ? 400 : 5000) && erased_extra < 200000; ++i) {
            del(t, "extra:" + std::to_string(erased_extra++));
          }
          if (scenario == 3 && step % 5 == 0) t.rehash_step(1000000);
          break;
      }
    };
    const auto seen = full_scan(t, between);
    for (size_t i = 0; i < stable; ++i) {
      INFO("scenario " << scenario << " key " << key(i));
      REQUIRE(seen.count(key(i)) >= 1);
    }
    REQUIRE(t.validate() == "");
  }
}

TEST_CASE("KeyTable: several concurrent cursors under random resizing", "[key_table]") {
  std::mt19937_64 rng(99);
  KeyTable t;
  const size_t stable = 2000;
  for (size_t i = 0; i < stable; ++i) put(t, key(i));
  std::vector<std::string> extras;
  size_t next = 0;
  constexpr int kCursors = 5;
  uint64_t cursors[kCursors] = {};
  bool done[kCursors] = {};
  std::vector<std::set<std::string>> seen(kCursors);
  int finished = 0;
  while (finished < kCursors) {
    const int c = static_cast<int>(rng() % kCursors);
    if (done[c]) continue;
    cursors[c] = t.scan(cursors[c], [&](KeyTable::Node* n) { seen[c].insert(std::string(n->key.view())); });
    if (cursors[c] == 0) {
      done[c] = true;
      ++finished;
    }
    // Random growth or shrink of the non-stable part.
    const int action = static_cast<int>(rng() % 10);
    if (action < 4 && extras.size() < 100000) {
      for (int i = 0; i < 300; ++i) {
        extras.push_back("x:" + std::to_string(next++));
        put(t, extras.back());
      }
    } else if (action < 8) {
      for (int i = 0; i < 400 && !extras.empty(); ++i) {
        const size_t j = rng() % extras.size();
        REQUIRE(del(t, extras[j]));
        extras[j] = extras.back();
        extras.pop_back();
      }
    } else if (action == 8) {
      t.rehash_step(50);
    }
  }
  for (int c = 0; c < kCursors; ++c) {
    for (size_t i = 0; i < stable; ++i) REQUIRE(seen[c].count(key(i)) == 1);
  }
  REQUIRE(t.validate() == "");
}

TEST_CASE("KeyTable: SCAN on a static table returns each key exactly once", "[key_table]") {
  KeyTable t;
  for (size_t i = 0; i < 10000; ++i) put(t, key(i));
  while (t.rehash_step(1000)) {
  }
  const auto seen = full_scan(t, [](size_t) {});
  CHECK(seen.size() == 10000);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 10000);
  KeyTable empty;
  CHECK(empty.scan(0, [](KeyTable::Node*) { FAIL("empty table visited"); }) == 0);
}

TEST_CASE("KeyTable: random_node is fair", "[key_table]") {
  for (size_t n : {1, 2, 10, 1000}) {
    KeyTable t;
    std::map<std::string, size_t> counts;
    for (size_t i = 0; i < n; ++i) put(t, key(i));
    const size_t draws = n * 400;
    for (size_t i = 0; i < draws; ++i) ++counts[std::string(t.random_node()->key.view())];
    CHECK(counts.size() == n);
    size_t lo = SIZE_MAX, hi = 0, low = 0;
    for (const auto& [k, c] : counts) {
      lo = std::min(lo, c);
      hi = std::max(hi, c);
      low += c < 300;
    }
    // Expected 400 per key (sd 20). Entries in chains of L > 4 get 4/L of
    // their share: rare (~2% of entries at load 1) and never below ~40%.
    INFO("n=" << n << " lo=" << lo << " hi=" << hi << " low=" << low);
    CHECK(lo > 150);
    CHECK(hi < 520);
    CHECK(low <= n / 20);
  }
  // Also while rehashing and after heavy deletion (sparse table).
  KeyTable t;
  for (size_t i = 0; i < 50000; ++i) put(t, key(i));
  for (size_t i = 100; i < 50000; ++i) del(t, key(i));
  std::map<std::string, size_t> counts;
  for (int i = 0; i < 40000; ++i) ++counts[std::string(t.random_node()->key.view())];
  CHECK(counts.size() == 100);
  for (const auto& [k, c] : counts) {
    CHECK(c > 150);  // expected 400
    CHECK(c < 520);
  }
  KeyTable empty;
  CHECK(empty.random_node() == nullptr);
}

TEST_CASE("KeyTable: long keys and binary keys", "[key_table]") {
  KeyTable t;
  std::vector<std::string> ks = {"", std::string(1, '\0'), std::string("a\0b", 3), std::string(15, 'x'),
                                 std::string(16, 'x'), std::string(1000, 'y')};
  for (const auto& k : ks) put(t, k, k);
  for (const auto& k : ks) {
    KeyTable::Node* n = get(t, k);
    REQUIRE(n != nullptr);
    CHECK(n->key.view() == k);
  }
  CHECK(t.memory_bytes() > 1000);
  for (const auto& k : ks) CHECK(del(t, k));
  CHECK(t.size() == 0);
}

TEST_CASE("KeyTable: keys live in their node's block, sized by length", "[key_table]") {
  using distcache::storage::KeyNode;
  using distcache::storage::NodeKey;
  // One length byte up to 254 bytes, then a 4-byte length follows the tag.
  CHECK(NodeKey::bytes_for(0) == 1);
  CHECK(NodeKey::bytes_for(254) == 255);
  CHECK(NodeKey::bytes_for(255) == 260);
  // glibc chunk classes: up to 15 bytes in 64, up to 31 in 80 (request + 8, rounded to 16).
  CHECK(KeyNode::block_bytes(15) == 56);
  CHECK(KeyNode::block_bytes(16) == 57);
  CHECK(KeyNode::block_bytes(31) == 72);

  KeyTable t;
  std::vector<std::string> ks;
  for (size_t n : {0, 1, 14, 15, 16, 17, 31, 32, 253, 254, 255, 256, 70000}) {
    std::string k(n, '\0');
    for (size_t i = 0; i < n; ++i) k[i] = static_cast<char>(i * 31 + n);  // binary, includes 0xFF
    ks.push_back(k);
  }
  for (const auto& k : ks) put(t, k, std::string(k.size() % 40, 'v'));
  CHECK(t.validate().empty());
  for (const auto& k : ks) {
    KeyTable::Node* n = get(t, k);
    REQUIRE(n != nullptr);
    CHECK(n->key.size() == k.size());
    CHECK(n->key.view() == k);
    CHECK(n->value.str() == std::string(k.size() % 40, 'v'));
    // A key that differs in its last byte or its length is another key.
    if (!k.empty()) {
      std::string other = k;
      other.back() ^= 1;
      CHECK_FALSE(n->key.equals(other));
      CHECK_FALSE(n->key.equals(std::string_view(k).substr(0, k.size() - 1)));
    }
    CHECK_FALSE(n->key.equals(k + "x"));
    // The prefetch stages read only the node's own memory.
    t.prefetch_buckets(KeyTable::hash(k));
    t.prefetch_chain(k, KeyTable::hash(k));
    t.prefetch_next_in_chain(k, KeyTable::hash(k));
  }
  for (const auto& k : ks) CHECK(del(t, k));
  CHECK(t.size() == 0);
}

TEST_CASE("same_bytes: every length, a difference at every position", "[key_table]") {
  using distcache::storage::same_bytes;
  for (size_t n = 0; n <= 80; ++n) {
    std::string a(n, '\0');
    for (size_t i = 0; i < n; ++i) a[i] = static_cast<char>(i * 37 + n);
    std::string b = a;
    CHECK(same_bytes(a.data(), b.data(), n));
    for (size_t i = 0; i < n; ++i) {
      b[i] ^= 0x40;
      CHECK_FALSE(same_bytes(a.data(), b.data(), n));
      b[i] = a[i];
    }
  }
}
