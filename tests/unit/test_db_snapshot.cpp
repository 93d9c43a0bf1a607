// The point-in-time snapshot marks of Db (storage/db.h): every key present at
// snapshot_begin() is visited exactly once, with the value it had then, however
// the table changes (inserts, deletes, growth, shrink) while the walk runs.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "storage/db.h"

using distcache::storage::Db;
using distcache::storage::kNoExpiry;
using distcache::storage::Value;

namespace {

constexpr int64_t kNow = 1'700'000'000'000;
std::string key(size_t i) { return "key:" + std::to_string(i); }

struct Collected {
  std::map<std::string, std::string> values;
  size_t visits = 0;
  Db::SnapshotVisitor visitor() {
    return [this](std::string_view k, const Value& v, int64_t) {
      ++visits;
      values[std::string(k)] = std::string(v.str());
    };
  }
};

}  // namespace

TEST_CASE("Db snapshot: every key once, with its value at the instant", "[db][snapshot]") {
  Db db;
  constexpr size_t kKeys = 5000;
  for (size_t i = 0; i < kKeys; ++i) db.set(key(i), Value::string("old"));
  db.snapshot_begin();

  Collected seen;
  auto visit = seen.visitor();
  uint64_t cursor = 0;
  size_t step = 0;
  do {
    cursor = db.snapshot_walk(cursor, 8, visit);
    // Between slices, commands change the table: each one first takes the
    // key it is about to change (copy on write), as the server does.
    for (int j = 0; j < 3; ++j, ++step) {
      const size_t victim = (step * 7919) % kKeys;
      db.snapshot_take(key(victim), visit);
      if (step % 3 == 0) {
        db.erase(key(victim), kNow);
      } else {
        db.set(key(victim), Value::string("new"));
      }
      db.set("fresh:" + std::to_string(step), Value::string("new"));  // grows the table meanwhile
    }
  } while (cursor != 0);

  CHECK(seen.visits == kKeys);          // exactly once each
  REQUIRE(seen.values.size() == kKeys);  // no key created after the instant
  for (const auto& [k, v] : seen.values) {
    CHECK(k.rfind("key:", 0) == 0);
    CHECK(v == "old");
  }
}

TEST_CASE("Db snapshot: keys created after the instant are not pending", "[db][snapshot]") {
  Db db;
  db.set("before", Value::string("1"));
  db.snapshot_begin();
  db.set("after", Value::string("2"));
  Collected seen;
  auto visit = seen.visitor();
  CHECK_FALSE(db.snapshot_take("after", visit));
  CHECK(db.snapshot_take("before", visit));
  CHECK_FALSE(db.snapshot_take("before", visit));  // already done
  CHECK(db.snapshot_walk(0, 1000, visit) == 0);
  CHECK(seen.visits == 1);
  CHECK(seen.values.count("before") == 1);
}

TEST_CASE("Db snapshot: a second snapshot sees every key again", "[db][snapshot]") {
  Db db;
  for (size_t i = 0; i < 100; ++i) db.set(key(i), Value::string("v"));
  for (int round = 0; round < 3; ++round) {
    db.snapshot_begin();
    db.set("round:" + std::to_string(round), Value::string("r"));  // part of the next round only
    Collected seen;
    auto visit = seen.visitor();
    uint64_t cursor = 0;
    do cursor = db.snapshot_walk(cursor, 4, visit);
    while (cursor != 0);
    CHECK(seen.visits == 100 + static_cast<size_t>(round));
  }
}

TEST_CASE("Db snapshot: expiry is reported with the key", "[db][snapshot]") {
  Db db;
  db.set("volatile", Value::string("v"));
  db.set_expire("volatile", kNow + 5000);
  db.set("persistent", Value::string("p"));
  db.snapshot_begin();
  std::map<std::string, int64_t> expiry;
  uint64_t cursor = 0;
  do {
    cursor = db.snapshot_walk(cursor, 16, [&](std::string_view k, const Value&, int64_t when) {
      expiry[std::string(k)] = when;
    });
  } while (cursor != 0);
  CHECK(expiry["volatile"] == kNow + 5000);
  CHECK(expiry["persistent"] == kNoExpiry);
}

TEST_CASE("Db: expire_at inside for_each does not disturb the walk", "[db][snapshot]") {
  // The snapshot file writer asks for each key's expiry while walking; the
  // lookup must not move an incremental rehash forward under the walk.
  Db db;
  constexpr size_t kKeys = 3000;  // grows through several resizes; a rehash is under way at the end
  for (size_t i = 0; i < kKeys; ++i) {
    db.set(key(i), Value::string("v"));
    if (i % 3 == 0) db.set_expire(key(i), kNow + 100000);
  }
  std::map<std::string, int> seen;
  db.for_each(kNow, [&](std::string_view k, const Value&) {
    ++seen[std::string(k)];
    (void)db.expire_at(k);
  });
  CHECK(seen.size() == kKeys);
  for (const auto& [k, n] : seen) CHECK(n == 1);
}
