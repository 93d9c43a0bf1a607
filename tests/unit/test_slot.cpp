#include <catch2/catch.hpp>

#include "server/cluster/slot.h"

using namespace distcache::server;

TEST_CASE("crc16 matches the XMODEM check value", "[slot]") {
  REQUIRE(crc16("123456789", 9) == 0x31C3);
  REQUIRE(crc16("", 0) == 0);
}

TEST_CASE("key_hash_slot matches Redis Cluster's slots", "[slot]") {
  // Values from a real redis-server's CLUSTER KEYSLOT.
  REQUIRE(key_hash_slot("foo") == 12182);
  REQUIRE(key_hash_slot("bar") == 5061);
  REQUIRE(key_hash_slot("hello") == 866);
  REQUIRE(key_hash_slot("") == 0);
}

TEST_CASE("hash tags: only the first non-empty {...} is hashed", "[slot]") {
  REQUIRE(key_hash_slot("{user1000}.following") == key_hash_slot("{user1000}.followers"));
  REQUIRE(key_hash_slot("{user1000}.following") == key_hash_slot("user1000"));
  REQUIRE(key_hash_slot("foo{}{bar}") == key_hash_slot("foo{}{bar}"));
  REQUIRE(key_hash_slot("foo{}{bar}") != key_hash_slot("bar"));  // empty tag: the whole key is hashed
  REQUIRE(key_hash_slot("foo{{bar}}zap") == key_hash_slot("{bar"));
  REQUIRE(key_hash_slot("foo{bar}{zap}") == key_hash_slot("bar"));
  REQUIRE(key_hash_slot("{") == key_hash_slot("{"));
}

TEST_CASE("shard_of_key keeps a hash tag's keys together and covers every shard", "[slot]") {
  for (unsigned shards : {1u, 2u, 3u, 8u}) {
    REQUIRE(shard_of_key("{user1}:a", shards) == shard_of_key("{user1}:b", shards));
    std::vector<int> seen(shards, 0);
    for (int i = 0; i < 1000; ++i) {
      unsigned s = shard_of_key("key:" + std::to_string(i), shards);
      REQUIRE(s < shards);
      ++seen[s];
    }
    for (int n : seen) REQUIRE(n > 0);
  }
}
