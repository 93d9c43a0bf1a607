// The per-slot key index (storage/key_groups.h) that cluster mode turns on for
// COUNTKEYSINSLOT / GETKEYSINSLOT / SETSLOT NODE: after random inserts,
// overwrites, deletes, expiry, renames and clears, every slot's count and key
// list equal a brute-force walk of the table.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "server/cluster/slot.h"
#include "storage/db.h"

using namespace distcache;

namespace {

std::map<unsigned, std::set<std::string>> brute_force(const storage::Db& db) {
  std::map<unsigned, std::set<std::string>> by_slot;
  db.for_each(0, [&](std::string_view key, const storage::Value&) {
    by_slot[server::key_hash_slot(key)].emplace(key);
  });
  return by_slot;
}

void check_index(const storage::Db& db) {
  auto expected = brute_force(db);
  size_t total = 0;
  for (unsigned slot = 0; slot < server::kClusterSlots; ++slot) {
    const size_t n = db.key_group_size(slot);
    total += n;
    auto it = expected.find(slot);
    const size_t want = it == expected.end() ? 0 : it->second.size();
    REQUIRE(n == want);
    if (n == 0) continue;
    auto keys = db.key_group_keys(slot, n + 5);
    REQUIRE(std::set<std::string>(keys.begin(), keys.end()) == it->second);
    REQUIRE(keys.size() == n);
    REQUIRE(db.key_group_keys(slot, 1).size() == 1);
  }
  REQUIRE(total == db.size());
}

storage::Value str(const std::string& s) { return storage::Value::string(s); }

}  // namespace

TEST_CASE("cluster key index: counts and lists per slot follow every change", "[cluster]") {
  storage::Db db;
  std::mt19937 rng(7);
  // Keys present before the index is enabled are indexed too.
  for (int i = 0; i < 300; ++i) db.set("pre:" + std::to_string(i), str("v"));
  REQUIRE_FALSE(db.key_groups_enabled());
  db.enable_key_groups(&server::key_hash_slot, server::kClusterSlots);
  REQUIRE(db.key_groups_enabled());
  check_index(db);

  // Many keys in few slots (hash tags) so groups grow, shrink and empty out.
  auto key = [&rng] {
    const int tag = static_cast<int>(rng() % 8);
    return "{t" + std::to_string(tag) + "}" + std::to_string(rng() % 2000);
  };
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 3000; ++i) {
      std::string k = key();
      switch (rng() % 4) {
        case 0:
        case 1:
          db.set(k, str("x"));  // insert or overwrite
          break;
        case 2:
          db.erase(k, 0);
          break;
        case 3: {
          bool created = false;
          db.find_or_create(k, 0, created);
          if (rng() % 2) db.set_expire(k, 1);  // expired at now=2: reclaimed by the next find
          break;
        }
      }
    }
    for (int i = 0; i < 500; ++i) db.find(key(), 2);
    check_index(db);
  }
  // Empty every slot but one, then clear.
  for (int tag = 1; tag < 8; ++tag)
    for (int i = 0; i < 2000; ++i) db.erase("{t" + std::to_string(tag) + "}" + std::to_string(i), 0);
  check_index(db);
  db.clear();
  check_index(db);
  REQUIRE(db.key_group_size(server::key_hash_slot("{t0}")) == 0);
  db.set("{t0}again", str("v"));
  REQUIRE(db.key_group_keys(server::key_hash_slot("{t0}"), 10) == std::vector<std::string>{"{t0}again"});
}

TEST_CASE("cluster key index: off by default", "[cluster]") {
  storage::Db db;
  db.set("a", storage::Value::string("b"));
  REQUIRE_FALSE(db.key_groups_enabled());
  REQUIRE(db.key_group_size(server::key_hash_slot("a")) == 0);
  REQUIRE(db.key_group_keys(server::key_hash_slot("a"), 10).empty());
}
