#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>

#include "storage/db.h"
#include "storage/keyspace.h"

using distcache::storage::Db;
using distcache::storage::Keyspace;
using distcache::storage::kNoExpiry;
using distcache::storage::Value;

namespace {
std::string key(size_t i) { return "key:" + std::to_string(i); }
constexpr int64_t kNow = 1'700'000'000'000;
}  // namespace

TEST_CASE("Db: set, find, overwrite, erase", "[db]") {
  Db db;
  CHECK(db.find("a", kNow) == nullptr);
  Value& v = db.set("a", Value::string("1"));
  CHECK(v.str() == "1");
  CHECK(db.size() == 1);
  REQUIRE(db.find("a", kNow) != nullptr);
  CHECK(db.find("a", kNow)->str() == "1");
  db.set("a", Value::string("two"));
  CHECK(db.find("a", kNow)->str() == "two");
  CHECK(db.size() == 1);
  CHECK(db.erase("a", kNow));
  CHECK_FALSE(db.erase("a", kNow));
  CHECK(db.size() == 0);
  CHECK(db.find("a", kNow) == nullptr);
}

TEST_CASE("Db: find_or_create", "[db]") {
  Db db;
  bool created = false;
  Value& v = db.find_or_create("k", kNow, created);
  CHECK(created);
  CHECK(v.is_string());
  CHECK(v.str().empty());
  v.mutable_str().append("hello");
  Value& w = db.find_or_create("k", kNow, created);
  CHECK_FALSE(created);
  CHECK(&w == &v);
  CHECK(w.str() == "hello");
  // Keeps the TTL of an existing key.
  db.set_expire("k", kNow + 1000);
  db.find_or_create("k", kNow, created);
  CHECK_FALSE(created);
  CHECK(db.expire_at("k") == kNow + 1000);
  // An expired key is replaced by a fresh one without TTL.
  db.find_or_create("k", kNow + 1001, created);
  CHECK(created);
  CHECK(db.expire_at("k") == kNoExpiry);
  CHECK(db.expires_size() == 0);
}

TEST_CASE("Db: lazy expiry", "[db]") {
  Db db;
  db.set("k", Value::string("v"));
  db.set_expire("k", kNow + 100);
  CHECK(db.expire_at("k") == kNow + 100);
  CHECK(db.expires_size() == 1);
  // Expired only once now > when (Redis semantics).
  CHECK(db.find("k", kNow + 100) != nullptr);
  // peek() never deletes, but reads an expired key as absent.
  CHECK(db.peek("k", kNow + 101) == nullptr);
  CHECK(db.peek("k", kNow + 100) != nullptr);
  CHECK(db.size() == 1);  // DBSIZE counts it until reclaimed
  CHECK(db.find("k", kNow + 101) == nullptr);
  CHECK(db.size() == 0);
  CHECK(db.expires_size() == 0);
  CHECK(db.expired_keys() == 1);

  // erase() of an expired key reports absent but reclaims it.
  db.set("e", Value::string("v"));
  db.set_expire("e", kNow);
  CHECK_FALSE(db.erase("e", kNow + 1));
  CHECK(db.size() == 0);
  CHECK(db.expired_keys() == 2);
}

TEST_CASE("Db: expire, persist, set drops TTL unless keep_ttl", "[db]") {
  Db db;
  db.set_expire("missing", kNow);  // no effect
  CHECK(db.size() == 0);
  CHECK(db.expires_size() == 0);
  CHECK_FALSE(db.persist("missing"));
  CHECK(db.expire_at("missing") == kNoExpiry);

  db.set("k", Value::string("v"));
  CHECK(db.expire_at("k") == kNoExpiry);
  CHECK_FALSE(db.persist("k"));
  db.set_expire("k", kNow + 5000);
  db.set_expire("k", kNow + 6000);  // update in place
  CHECK(db.expires_size() == 1);
  CHECK(db.expire_at("k") == kNow + 6000);
  CHECK(db.persist("k"));
  CHECK(db.expire_at("k") == kNoExpiry);
  CHECK(db.expires_size() == 0);

  db.set_expire("k", kNow + 7000);
  db.set("k", Value::string("w"), /*keep_ttl=*/true);
  CHECK(db.expire_at("k") == kNow + 7000);
  db.set("k", Value::string("x"));
  CHECK(db.expire_at("k") == kNoExpiry);
  CHECK(db.expires_size() == 0);
}

TEST_CASE("Db: scan skips expired keys and covers live ones", "[db]") {
  Db db;
  for (size_t i = 0; i < 5000; ++i) {
    db.set(key(i), Value::string("v"));
    if (i % 2 == 1) db.set_expire(key(i), kNow - 1);  // already expired
  }
  CHECK(db.size() == 5000);
  std::set<std::string> seen;
  uint64_t cursor = 0;
  size_t calls = 0;
  do {
    size_t got = 0;
    cursor = db.scan(cursor, 10, kNow, [&](std::string_view k, const Value& v) {
      CHECK(v.str() == "v");
      seen.insert(std::string(k));
      ++got;
    });
    CHECK(got <= 10 + 8);  // about `count`: whole buckets are returned
    ++calls;
  } while (cursor != 0);
  CHECK(seen.size() == 2500);
  for (const auto& k : seen) CHECK(std::stoul(k.substr(4)) % 2 == 0);
  CHECK(db.size() == 2500);  // the scan reclaimed what it skipped
  CHECK(db.expires_size() == 0);
  CHECK(calls > 100);

  // A huge COUNT finishes the walk in one call.
  size_t all = 0;
  CHECK(db.scan(0, SIZE_MAX, kNow, [&](std::string_view, const Value&) { ++all; }) == 0);
  CHECK(all == 2500);

  Db empty;
  CHECK(empty.scan(0, 10, kNow, [](std::string_view, const Value&) { FAIL(); }) == 0);
}

TEST_CASE("Db: for_each skips expired keys without deleting", "[db]") {
  Db db;
  for (size_t i = 0; i < 100; ++i) db.set(key(i), Value::string(key(i)));
  for (size_t i = 0; i < 100; i += 4) db.set_expire(key(i), kNow - 10);
  size_t n = 0;
  db.for_each(kNow, [&](std::string_view k, const Value& v) {
    CHECK(k == v.str());
    ++n;
  });
  CHECK(n == 75);
  CHECK(db.size() == 100);
}

TEST_CASE("Db: random_key", "[db]") {
  Db db;
  CHECK_FALSE(db.random_key(kNow).has_value());
  for (size_t i = 0; i < 200; ++i) db.set(key(i), Value::string("v"));
  std::map<std::string, size_t> counts;
  for (int i = 0; i < 200 * 300; ++i) ++counts[*db.random_key(kNow)];
  CHECK(counts.size() == 200);
  for (const auto& [k, c] : counts) {
    CHECK(c > 110);  // expected 300, sd ~17; entries of rare long chains get less
    CHECK(c < 440);
  }

  // Expired keys are skipped and deleted.
  for (size_t i = 0; i < 200; ++i) {
    if (i != 7) db.set_expire(key(i), kNow - 1);
  }
  auto k = db.random_key(kNow);
  // With 199 of 200 keys expired, 100 draws may all hit expired keys: then the
  // call gives up (nullopt) having reclaimed up to 100 of them.
  for (int i = 0; i < 10 && !k; ++i) k = db.random_key(kNow);
  REQUIRE(k.has_value());
  CHECK(*k == key(7));
  // A draw that hits key 7 at once reclaims nothing (about 1 time in 200), so
  // draw more: each one reclaims the expired keys it hits before key 7.
  for (int i = 0; i < 50; ++i) {
    auto again = db.random_key(kNow);
    if (again) CHECK(*again == key(7));
  }
  CHECK(db.size() < 200);

  // Everything volatile and expired: bounded work, nullopt, keys reclaimed.
  Db all;
  for (size_t i = 0; i < 1000; ++i) {
    all.set(key(i), Value::string("v"));
    all.set_expire(key(i), kNow - 1);
  }
  CHECK_FALSE(all.random_key(kNow).has_value());
  CHECK(all.size() == 900);  // exactly 100 tries, each reclaiming one
  while (all.size() > 0) CHECK_FALSE(all.random_key(kNow).has_value());
}

TEST_CASE("Db: active_expire reclaims many keys with bounded work per call", "[db]") {
  Db db;
  constexpr size_t N = 300000;
  for (size_t i = 0; i < N; ++i) {
    db.set(key(i), Value::string("v"));
    if (i % 3 != 0) db.set_expire(key(i), kNow + static_cast<int64_t>(i % 2 == 0 ? 10 : 100000));
  }
  const size_t volatile_keys = db.expires_size();
  CHECK(volatile_keys == 200000);
  size_t to_expire = 0;
  for (size_t i = 0; i < N; ++i) to_expire += (i % 3 != 0 && i % 2 == 0);

  // Nothing is due yet.
  auto st = db.active_expire(kNow, 20);
  CHECK(st.expired == 0);
  CHECK(st.checked >= 20);

  size_t total = 0, calls = 0, max_checked = 0;
  const int64_t later = kNow + 1000;
  for (;;) {
    st = db.active_expire(later, 20);
    ++calls;
    total += st.expired;
    max_checked = std::max(max_checked, st.checked);
    if (total == to_expire) break;
    REQUIRE(calls < 200000);
  }
  CHECK(max_checked <= 20 + 16);  // bounded: at most one bucket's chain over
  CHECK(total == to_expire);
  CHECK(db.size() == N - to_expire);
  CHECK(db.expires_size() == volatile_keys - to_expire);
  CHECK(db.expired_keys() == to_expire);
  // Non-expired volatile and persistent keys all survive.
  for (size_t i = 0; i < N; ++i) {
    const bool gone = i % 3 != 0 && i % 2 == 0;
    REQUIRE((db.peek(key(i), later) != nullptr) == !gone);
  }
  // No more work to find: a pass reports nothing expired.
  for (int i = 0; i < 100; ++i) CHECK(db.active_expire(later, 50).expired == 0);

  Db none;
  CHECK(none.active_expire(kNow, 20).checked == 0);
}

TEST_CASE("Db: active_expire on a table that shrinks underneath", "[db]") {
  Db db;
  for (size_t i = 0; i < 100000; ++i) {
    db.set(key(i), Value::string("v"));
    db.set_expire(key(i), kNow + (i < 99000 ? 0 : 1000000));
  }
  size_t total = 0;
  for (int calls = 0; calls < 100000 && total < 99000; ++calls) {
    total += db.active_expire(kNow + 1, 200).expired;
    db.rehash_step();
  }
  CHECK(total == 99000);
  CHECK(db.size() == 1000);
  CHECK(db.expires_size() == 1000);
}

TEST_CASE("Db: clear, swap, move, rehash_step, memory", "[db]") {
  Db a, b;
  for (size_t i = 0; i < 1000; ++i) a.set(key(i), Value::string("a"));
  a.set_expire(key(1), kNow + 10);
  b.set("only-b", Value::string("b"));
  const size_t mem = a.memory_bytes();
  CHECK(mem >= 1000 * 64);
  CHECK(mem < 1000 * 200);
  a.swap(b);
  CHECK(a.size() == 1);
  CHECK(b.size() == 1000);
  CHECK(b.expires_size() == 1);
  CHECK(a.find("only-b", kNow)->str() == "b");

  Db c(std::move(b));
  CHECK(c.size() == 1000);
  CHECK(b.size() == 0);  // NOLINT: moved-from reads as empty...
  CHECK(b.find("x", kNow) == nullptr);
  b.set("x", Value::string("y"));  // ...and is usable again
  CHECK(b.find("x", kNow)->str() == "y");

  for (int i = 0; i < 100000; ++i) c.rehash_step();
  c.clear();
  CHECK(c.size() == 0);
  CHECK(c.expires_size() == 0);
  CHECK(c.find(key(1), kNow) == nullptr);
  c.set("again", Value::string("1"));
  CHECK(c.size() == 1);

  Keyspace ks(4);
  ks.db(0).set("k", Value::string("0"));
  ks.db(3).set("k", Value::string("3"));
  ks.swap_dbs(0, 3);
  CHECK(ks.db(0).find("k", kNow)->str() == "3");
  ks.clear();
  CHECK(ks.db(3).size() == 0);
}

TEST_CASE("Db: values hold 16-byte strings inline", "[db]") {
  Db db;
  db.set("key:1", Value::string("0123456789abcdef"));
  CHECK(db.find("key:1", kNow)->heap_bytes() == 0);
  CHECK(db.memory_bytes() < 300);  // one 64-byte node + 4 buckets + the table object
}
