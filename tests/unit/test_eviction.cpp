// Eviction: access metadata in the key node, the candidate pool of each
// policy, OBJECT IDLETIME / FREQ and RESTORE IDLETIME / FREQ.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "storage/access_meta.h"
#include "storage/eviction.h"
#include "storage/key_table.h"
#include "tests/unit/command_test_util.h"

using namespace distcache;
using storage::EvictPolicy;
namespace am = storage::access;

namespace {

// Sets the process-wide clock and LFU mode for one test, restoring them after.
struct AccessState {
  explicit AccessState(uint32_t clock_s, bool lfu = false) {
    am::g_clock_s.store(clock_s);
    am::g_lfu_mode.store(lfu);
    am::g_lfu_log_factor.store(10);
    am::g_lfu_decay_time.store(1);
  }
  ~AccessState() {
    am::g_clock_s.store(0);
    am::g_lfu_mode.store(false);
  }
};

constexpr uint32_t kT0 = 1'700'000'000;

test::CommandRunner runner() {
  return test::CommandRunner({server::string_command_specs, server::key_command_specs, server::dump_command_specs});
}

}  // namespace

TEST_CASE("Access metadata costs no memory per key", "[eviction]") {
  CHECK(sizeof(storage::Value) == 32);
  // A key of up to 15 bytes and its node fit glibc's 64-byte chunk class.
  CHECK(storage::KeyNode::block_bytes(15) == 56);
}

TEST_CASE("Lookups touch the LRU clock; NoTouchScope and peek do not", "[eviction]") {
  AccessState st(kT0);
  storage::Db db;
  db.set("k", storage::Value::string("v"));
  CHECK(db.peek("k", 0)->lru() == (kT0 & am::kLruClockMax));
  am::g_clock_s.store(kT0 + 100);
  CHECK(am::lru_idle_ms(db.peek("k", 0)->lru()) == 100'000);
  {
    am::NoTouchScope no_touch;
    REQUIRE(db.find("k", 0) != nullptr);
  }
  CHECK(am::lru_idle_ms(db.peek("k", 0)->lru()) == 100'000);
  REQUIRE(db.find("k", 0) != nullptr);
  CHECK(am::lru_idle_ms(db.peek("k", 0)->lru()) == 0);
  // The clock wraps at 24 bits: idle time still comes out right.
  storage::Value& v = *db.find("k", 0);
  v.set_lru(am::kLruClockMax - 5);
  am::g_clock_s.store((kT0 | am::kLruClockMax) + 10);  // lru_clock() == 9 after wrapping
  CHECK(am::lru_idle_ms(v.lru()) == 14'000);  // Redis: (LRU_CLOCK_MAX - lru) + now
}

TEST_CASE("LFU counter: starts at 5, grows logarithmically, decays per minute", "[eviction]") {
  AccessState st(kT0, /*lfu=*/true);
  storage::Db db;
  db.set("k", storage::Value::string("v"));
  const storage::Value* v = db.peek("k", 0);
  CHECK(v->lfu_counter() == am::kLfuInitVal);
  REQUIRE(db.find("k", 0));
  CHECK(v->lfu_counter() == 6);  // the first increment is certain
  for (int i = 0; i < 100'000; ++i) db.find("k", 0);
  const uint8_t hot = v->lfu_counter();
  // Redis's table for lfu-log-factor 10: about 142 after 100K hits.
  CHECK(int{hot} > 110);
  CHECK(int{hot} < 180);
  // An overwrite keeps the history (as Redis under LFU).
  db.set("k", storage::Value::string("w"));
  CHECK(v->lfu_counter() == hot);
  // Ten minutes later the counter reads 10 lower (decay time 1).
  am::g_clock_s.store(kT0 + 600);
  CHECK(am::lfu_decayed(v->lfu_time(), v->lfu_counter()) == hot - 10);
  am::g_lfu_decay_time.store(0);  // 0: never decays
  CHECK(am::lfu_decayed(v->lfu_time(), v->lfu_counter()) == hot);
  CHECK(am::lfu_log_incr(255) == 255);
}

TEST_CASE("Eviction pool: LRU evicts the least recently used keys first", "[eviction]") {
  AccessState st(kT0);
  storage::Keyspace ks(2);
  for (int i = 0; i < 200; ++i) {
    am::g_clock_s.store(kT0 + static_cast<uint32_t>(i));  // key:i last used at second i
    ks.db(i % 2).set("key:" + std::to_string(i), storage::Value::string("v"));
  }
  am::g_clock_s.store(kT0 + 1000);
  storage::EvictionPool pool;
  // Evict half: with 5 samples per database per round, the evicted keys are
  // mostly the old ones.
  int old_evicted = 0;
  for (int n = 0; n < 100; ++n) {
    auto victim = pool.next(ks, EvictPolicy::kAllkeysLru, 5);
    REQUIRE(victim);
    const int i = std::stoi(victim->key.substr(4));
    CHECK(victim->db == i % 2);
    if (i < 100) ++old_evicted;
    REQUIRE(ks.db(static_cast<size_t>(victim->db)).erase(victim->key, 0));
  }
  CHECK(old_evicted >= 75);
  // Down to nothing: every key is eventually handed out, then none.
  int rest = 0;
  while (auto victim = pool.next(ks, EvictPolicy::kAllkeysLru, 5)) {
    REQUIRE(ks.db(static_cast<size_t>(victim->db)).erase(victim->key, 0));
    ++rest;
  }
  CHECK(rest == 100);
}

TEST_CASE("Eviction pool: volatile policies only take keys with a TTL", "[eviction]") {
  AccessState st(kT0);
  storage::Keyspace ks(1);
  storage::Db& db = ks.db(0);
  for (int i = 0; i < 50; ++i) db.set("persistent:" + std::to_string(i), storage::Value::string("v"));
  for (EvictPolicy p : {EvictPolicy::kVolatileLru, EvictPolicy::kVolatileLfu, EvictPolicy::kVolatileRandom,
                        EvictPolicy::kVolatileTtl, EvictPolicy::kNoEviction}) {
    storage::EvictionPool pool;
    CHECK_FALSE(pool.next(ks, p, 5));
  }
  for (int i = 0; i < 50; ++i) {
    const std::string key = "volatile:" + std::to_string(i);
    db.set(key, storage::Value::string("v"));
    db.set_expire(key, 1'000'000 + i * 1000);  // volatile:0 expires first
  }
  for (EvictPolicy p : {EvictPolicy::kVolatileLru, EvictPolicy::kVolatileLfu, EvictPolicy::kVolatileRandom}) {
    storage::EvictionPool pool;
    for (int n = 0; n < 10; ++n) {
      auto victim = pool.next(ks, p, 5);
      REQUIRE(victim);
      CHECK(victim->key.rfind("volatile:", 0) == 0);
    }
  }
  // volatile-ttl: the soonest expiry among the samples; draining gives an
  // order close to the expiry order.
  storage::EvictionPool pool;
  int first_half = 0;
  for (int n = 0; n < 25; ++n) {
    auto victim = pool.next(ks, EvictPolicy::kVolatileTtl, 10);
    REQUIRE(victim);
    REQUIRE(victim->key.rfind("volatile:", 0) == 0);
    if (std::stoi(victim->key.substr(9)) < 25) ++first_half;
    db.erase(victim->key, 0);
  }
  CHECK(first_half >= 20);
  CHECK(db.size() == 75);
}

TEST_CASE("Eviction pool: LFU keeps frequently used keys", "[eviction]") {
  AccessState st(kT0, /*lfu=*/true);
  storage::Keyspace ks(1);
  storage::Db& db = ks.db(0);
  for (int i = 0; i < 100; ++i) db.set("key:" + std::to_string(i), storage::Value::string("v"));
  for (int i = 0; i < 10; ++i)
    for (int n = 0; n < 1000; ++n) db.find("key:" + std::to_string(i), 0);  // key:0..9 are hot
  storage::EvictionPool pool;
  std::set<std::string> evicted;
  for (int n = 0; n < 80; ++n) {
    auto victim = pool.next(ks, EvictPolicy::kAllkeysLfu, 5);
    REQUIRE(victim);
    evicted.insert(victim->key);
    db.erase(victim->key, 0);
  }
  for (int i = 0; i < 10; ++i) CHECK(evicted.count("key:" + std::to_string(i)) == 0);
}

TEST_CASE("Eviction pool: random policies", "[eviction]") {
  storage::Keyspace ks(3);
  for (int i = 0; i < 30; ++i) ks.db(2).set("k" + std::to_string(i), storage::Value::string("v"));
  storage::EvictionPool pool;
  for (int n = 0; n < 30; ++n) {
    auto victim = pool.next(ks, EvictPolicy::kAllkeysRandom, 5);
    REQUIRE(victim);
    CHECK(victim->db == 2);
    REQUIRE(ks.db(2).erase(victim->key, 0));
  }
  CHECK_FALSE(pool.next(ks, EvictPolicy::kAllkeysRandom, 5));
}

TEST_CASE("Policy names", "[eviction]") {
  for (const char* name : {"noeviction", "allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu",
                           "allkeys-random", "volatile-random", "volatile-ttl"}) {
    auto p = storage::parse_evict_policy(name);
    REQUIRE(p);
    CHECK(storage::evict_policy_name(*p) == name);
  }
  CHECK(storage::parse_evict_policy("ALLKEYS-LRU") == EvictPolicy::kAllkeysLru);
  CHECK_FALSE(storage::parse_evict_policy("lru"));
}

TEST_CASE("OBJECT IDLETIME and FREQ", "[eviction][keys]") {
  AccessState st(kT0);
  auto r = runner();
  using test::resp::error;
  using test::resp::integer;
  CHECK(r.run("SET k v") == "+OK\r\n");
  CHECK(r.run("OBJECT IDLETIME nokey") == test::resp::nil());
  CHECK(r.run("OBJECT FREQ nokey") == test::resp::nil());
  CHECK(r.run("OBJECT FREQ k") ==
        error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
              "switching between policies at runtime LRU and LFU data will take some time to adjust."));
  am::g_clock_s.store(kT0 + 7);
  CHECK(r.run("OBJECT IDLETIME k") == integer(7));
  // Not accesses: OBJECT, TYPE, EXISTS, TTL family.
  r.run("TYPE k");
  r.run("EXISTS k");
  r.run("TTL k");
  r.run("PTTL k");
  r.run("EXPIRETIME k");
  CHECK(r.run("OBJECT IDLETIME k") == integer(7));
  // Accesses: GET, TOUCH.
  r.run("GET k");
  CHECK(r.run("OBJECT IDLETIME k") == integer(0));
  am::g_clock_s.store(kT0 + 9);
  CHECK(r.run("TOUCH k") == integer(1));
  CHECK(r.run("OBJECT IDLETIME k") == integer(0));

  am::g_lfu_mode.store(true);
  CHECK(r.run("OBJECT IDLETIME k") ==
        error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching "
              "between policies at runtime LRU and LFU data will take some time to adjust."));
  CHECK(r.run("SET n v") == "+OK\r\n");
  CHECK(r.run("OBJECT FREQ n") == integer(5));
  r.run("GET n");
  CHECK(r.run("OBJECT FREQ n") == integer(6));
  CHECK(r.run("OBJECT FREQ n") == integer(6));
}

TEST_CASE("RESTORE IDLETIME and FREQ set the access metadata", "[eviction][dump]") {
  AccessState st(kT0);
  auto r = runner();
  r.run("SET src hello");
  const std::string dumped = r.run("DUMP src");
  REQUIRE(dumped[0] == '$');
  const size_t nl = dumped.find("\r\n");
  const std::string payload = dumped.substr(nl + 2, dumped.size() - nl - 4);
  CHECK(r.run(std::vector<std::string>{"RESTORE", "a", "0", payload, "IDLETIME", "1000"}) == "+OK\r\n");
  CHECK(r.run("OBJECT IDLETIME a") == test::resp::integer(1000));
  CHECK(r.run(std::vector<std::string>{"RESTORE", "b", "0", payload, "FREQ", "100"}) == "+OK\r\n");
  am::g_lfu_mode.store(true);
  CHECK(r.run("OBJECT FREQ b") == test::resp::integer(100));
  // An idle time larger than the clock: half-way round the 24-bit circle, as Redis.
  am::g_lfu_mode.store(false);
  CHECK(r.run(std::vector<std::string>{"RESTORE", "c", "0", payload, "IDLETIME", "999999999"}) == "+OK\r\n");
  CHECK(r.run("OBJECT IDLETIME c") == test::resp::integer(am::kLruClockMax / 2 + 1));
}
