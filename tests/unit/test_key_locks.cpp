#include <catch2/catch.hpp>

#include <string_view>
#include <vector>

#include "server/key_locks.h"

using namespace distcache::server;

namespace {
LockRequest keys_request(std::vector<std::string> names, bool exclusive, int db = 0) {
  LockRequest r;
  r.exclusive = exclusive;
  for (auto& n : names) r.keys.push_back({db, n});
  return r;
}
std::vector<std::string_view> views(std::initializer_list<std::string_view> l) { return l; }
}  // namespace

TEST_CASE("exclusive key locks block readers and writers of those keys only", "[locks]") {
  KeyLocks locks;
  REQUIRE(locks.empty());
  auto w = keys_request({"a", "b"}, true);
  REQUIRE(locks.can_acquire(w));
  locks.acquire(w);
  REQUIRE_FALSE(locks.empty());
  REQUIRE(locks.blocks(0, views({"a"}), false));
  REQUIRE(locks.blocks(0, views({"b"}), true));
  REQUIRE_FALSE(locks.blocks(0, views({"c"}), true));
  REQUIRE_FALSE(locks.blocks(1, views({"a"}), true));  // another database
  REQUIRE_FALSE(locks.can_acquire(keys_request({"b", "c"}, false)));
  REQUIRE(locks.can_acquire(keys_request({"c"}, true)));
  locks.release(w);
  REQUIRE(locks.empty());
  REQUIRE_FALSE(locks.blocks(0, views({"a"}), true));
}

TEST_CASE("shared key locks admit readers and block writers", "[locks]") {
  KeyLocks locks;
  auto r1 = keys_request({"a"}, false);
  auto r2 = keys_request({"a", "b"}, false);
  locks.acquire(r1);
  REQUIRE(locks.can_acquire(r2));
  locks.acquire(r2);
  REQUIRE_FALSE(locks.blocks(0, views({"a"}), false));
  REQUIRE(locks.blocks(0, views({"a"}), true));
  REQUIRE_FALSE(locks.can_acquire(keys_request({"a"}, true)));
  locks.release(r1);
  REQUIRE(locks.blocks(0, views({"a"}), true));  // r2 still reads a
  locks.release(r2);
  REQUIRE(locks.empty());
}

TEST_CASE("whole-shard locks", "[locks]") {
  KeyLocks locks;
  LockRequest flush;
  flush.whole_shard = true;
  flush.exclusive = true;
  auto reader = keys_request({"x"}, false);
  locks.acquire(reader);
  REQUIRE_FALSE(locks.can_acquire(flush));  // waits for the key lock holder
  locks.release(reader);
  REQUIRE(locks.can_acquire(flush));
  locks.acquire(flush);
  REQUIRE(locks.blocks(0, views({"anything"}), false));
  REQUIRE(locks.blocks_shard(false));
  REQUIRE_FALSE(locks.can_acquire(keys_request({"y"}, false)));
  locks.release(flush);
  REQUIRE(locks.empty());
}

TEST_CASE("duplicate keys in one request are acquired and released cleanly", "[locks]") {
  KeyLocks locks;
  auto dup = keys_request({"a", "a"}, true);
  locks.acquire(dup);
  locks.release(dup);
  REQUIRE(locks.empty());
  auto dup_shared = keys_request({"a", "a"}, false);
  locks.acquire(dup_shared);
  locks.release(dup_shared);
  REQUIRE(locks.empty());
}
