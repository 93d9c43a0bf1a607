#include "storage/db.h"

#include <algorithm>
#include <atomic>

#include "storage/key_table.h"

namespace distcache::storage {

namespace {

// Redis: a key is expired once now > when (a key whose time equals now is
// still alive).
inline bool is_expired(int64_t when_ms, int64_t now_ms) { return when_ms != kNoExpiry && now_ms > when_ms; }

constexpr int kRandomKeyMaxTries = 100;
constexpr size_t kRehashStepBuckets = 100;
// Bound on buckets an active-expiry call may visit per key it may check
// (Redis: 20), so sparse tables do not make a call unbounded.
constexpr size_t kBucketsPerCheck = 20;

std::atomic<Db::KeyEventHook> key_event_hook{nullptr};
std::atomic<Db::ExpireHook> expire_hook{nullptr};

inline void report(const Db& db, std::string_view key, Db::KeyEvent event) {
  if (event == Db::KeyEvent::kExpired)
    if (auto hook = expire_hook.load(std::memory_order_relaxed)) hook(db, key);
  if (auto hook = key_event_hook.load(std::memory_order_relaxed)) hook(db, key, event);
}

}  // namespace

void Db::set_key_event_hook(KeyEventHook hook) { key_event_hook.store(hook, std::memory_order_relaxed); }
void Db::set_expire_hook(ExpireHook hook) { expire_hook.store(hook, std::memory_order_relaxed); }

Db::Db() : table_(std::make_unique<KeyTable>()) {}
Db::~Db() = default;
Db::Db(Db&& o) noexcept : table_(std::move(o.table_)), expired_keys_(o.expired_keys_) {}
Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    table_ = std::move(o.table_);
    expired_keys_ = o.expired_keys_;
  }
  return *this;
}

// A moved-from Db has no table: reads see it as empty, writes recreate one.
#define DC_TABLE_OR(ret) \
  if (!table_) return ret; \
  KeyTable& t = *table_

Value* Db::find(std::string_view key, int64_t now_ms) {
  DC_TABLE_OR(nullptr);
  const uint64_t h = KeyTable::hash(key);
  KeyTable::Node* n = t.find(key, h);
  if (n == nullptr) {
    if (lookup_stats::counting) ++lookup_stats::misses;
    return nullptr;
  }
  if (n->has_expire() && is_expired(t.expire_of(n, h), now_ms)) {
    report(*this, key, KeyEvent::kExpired);
    t.erase(n, h);
    ++expired_keys_;
    if (lookup_stats::counting) ++lookup_stats::misses;
    return nullptr;
  }
  if (lookup_stats::counting) ++lookup_stats::hits;
  if (!access::t_no_touch) n->value.touch();
  return &n->value;
}

const Value* Db::peek(std::string_view key, int64_t now_ms) const {
  if (!table_) return nullptr;
  const KeyTable& t = *table_;
  const uint64_t h = KeyTable::hash(key);
  const KeyTable::Node* n = t.find(key, h);
  if (n == nullptr) return nullptr;
  if (n->has_expire() && is_expired(t.expire_of(n, h), now_ms)) return nullptr;
  return &n->value;
}

Value& Db::find_or_create(std::string_view key, int64_t now_ms, bool& created) {
  if (!table_) table_ = std::make_unique<KeyTable>();
  KeyTable& t = *table_;
  const uint64_t h = KeyTable::hash(key);
  KeyTable::Node* n = t.find(key, h);
  if (n != nullptr && n->has_expire() && is_expired(t.expire_of(n, h), now_ms)) {
    report(*this, key, KeyEvent::kExpired);
    t.erase(n, h);
    ++expired_keys_;
    n = nullptr;
  }
  if (n != nullptr) {
    created = false;
    if (!access::t_no_touch) n->value.touch();
    return n->value;
  }
  created = true;
  Value& v = t.insert(key, h, Value())->value;
  v.init_access();
  report(*this, key, KeyEvent::kAdded);
  return v;
}

Value& Db::set(std::string_view key, Value&& v, bool keep_ttl) {
  if (!table_) table_ = std::make_unique<KeyTable>();
  KeyTable& t = *table_;
  const uint64_t h = KeyTable::hash(key);
  KeyTable::Node* n = t.find(key, h);
  if (n == nullptr) {
    Value& inserted = t.insert(key, h, std::move(v))->value;
    inserted.init_access();
    report(*this, key, KeyEvent::kAdded);
    return inserted;
  }
  // An overwrite keeps the key's LFU history (as Redis) and counts as an access.
  n->value.replace_keeping_access(std::move(v));
  n->value.set_lru(access::lru_clock());
  if (!keep_ttl && n->has_expire()) t.clear_expire(n, h);
  return n->value;
}

bool Db::erase(std::string_view key, int64_t now_ms) {
  DC_TABLE_OR(false);
  const uint64_t h = KeyTable::hash(key);
  KeyTable::Node* n = t.find(key, h);
  if (n == nullptr) return false;
  const bool expired = n->has_expire() && is_expired(t.expire_of(n, h), now_ms);
  if (expired) report(*this, key, KeyEvent::kExpired);
  t.erase(n, h);
  if (expired) ++expired_keys_;
  return !expired;
}

int64_t Db::expire_at(std::string_view key) const {
  if (!table_) return kNoExpiry;
  // The const lookup: the mutating one advances rehashing, which would upset
  // a for_each() walk that asks for expiries (the snapshot writer does).
  const KeyTable& t = *table_;
  const uint64_t h = KeyTable::hash(key);
  const KeyTable::Node* n = t.find(key, h);
  if (n == nullptr) return kNoExpiry;
  return t.expire_of(n, h);
}

void Db::set_expire(std::string_view key, int64_t when_ms) {
  DC_TABLE_OR();
  const uint64_t h = KeyTable::hash(key);
  if (KeyTable::Node* n = t.find(key, h)) t.set_expire(n, h, when_ms);
}

bool Db::persist(std::string_view key) {
  DC_TABLE_OR(false);
  const uint64_t h = KeyTable::hash(key);
  KeyTable::Node* n = t.find(key, h);
  return n != nullptr && t.clear_expire(n, h);
}

size_t Db::size() const { return table_ ? table_->size() : 0; }
size_t Db::expires_size() const { return table_ ? table_->expires_size() : 0; }

uint64_t Db::scan(uint64_t cursor, size_t count, int64_t now_ms, const KeyVisitor& visit, const ReapFilter* reap) {
  DC_TABLE_OR(0);
  if (t.size() == 0) return 0;
  // Like Redis: stop after `count` keys or 10 * count bucket steps.
  const size_t want = std::max<size_t>(count, 1);
  size_t budget = want > SIZE_MAX / 10 ? SIZE_MAX : want * 10;
  size_t emitted = 0;
  size_t expired = 0;
  do {
    cursor = t.scan(cursor, [&](KeyTable::Node* n) {
      if (n->has_expire()) {
        const uint64_t h = KeyTable::hash(n->key.view());
        if (is_expired(t.expire_of(n, h), now_ms)) {
          if (reap == nullptr || (*reap)(n->key.view(), n->value)) {
            report(*this, n->key.view(), KeyEvent::kExpired);
            t.erase_in_scan(n, h);
            ++expired;
          }
          return;
        }
      }
      visit(n->key.view(), n->value);
      ++emitted;
    });
  } while (cursor != 0 && --budget > 0 && emitted < want);
  if (expired != 0) {
    expired_keys_ += expired;
    t.maintain();
  }
  return cursor;
}

void Db::for_each(int64_t now_ms, const KeyVisitor& visit) const {
  if (!table_) return;
  const KeyTable& t = *table_;
  t.for_each([&](const KeyTable::Node* n) {
    if (n->has_expire() && is_expired(t.expire_of(n, KeyTable::hash(n->key.view())), now_ms)) return;
    visit(n->key.view(), n->value);
  });
}

std::optional<std::string> Db::random_key(int64_t now_ms) {
  DC_TABLE_OR(std::nullopt);
  for (int i = 0; i < kRandomKeyMaxTries; ++i) {
    KeyTable::Node* n = t.random_node();
    if (n == nullptr) return std::nullopt;
    if (n->has_expire()) {
      const uint64_t h = KeyTable::hash(n->key.view());
      if (is_expired(t.expire_of(n, h), now_ms)) {
        report(*this, n->key.view(), KeyEvent::kExpired);
        t.erase(n, h);
        ++expired_keys_;
        continue;
      }
    }
    return std::string(n->key.view());
  }
  return std::nullopt;
}

void Db::clear() {
  if (table_) table_->clear();
}

void Db::enable_key_groups(unsigned (*group_of)(std::string_view key), unsigned groups) {
  if (!table_) table_ = std::make_unique<KeyTable>();
  table_->enable_groups(group_of, groups);
}

bool Db::key_groups_enabled() const { return table_ && table_->groups(); }

size_t Db::key_group_size(unsigned group) const {
  return key_groups_enabled() ? table_->groups()->count(group) : 0;
}

std::vector<std::string> Db::key_group_keys(unsigned group, size_t max) const {
  std::vector<std::string> keys;
  if (!key_groups_enabled() || max == 0) return keys;
  table_->groups()->for_each(group, [&keys, max](const KeyNode* n) {
    keys.emplace_back(n->key.view());
    return keys.size() < max;
  });
  return keys;
}

Db::ExpireStats Db::active_expire(int64_t now_ms, size_t max_checks) {
  ExpireStats st;
  if (!table_ || table_->expires_size() == 0 || max_checks == 0) return st;
  KeyTable& t = *table_;
  // Redis 7 style: walk the volatile keys with a persistent SCAN cursor rather
  // than drawing random samples, so successive calls cover every volatile key
  // (each expired key is found within one full pass) and never re-check the
  // same key twice in a pass.
  uint64_t& cursor = t.expire_cursor();
  size_t bucket_budget = max_checks * kBucketsPerCheck;
  do {
    cursor = t.scan_expires(cursor, [&](KeyTable::Node* n, int64_t when_ms) {
      ++st.checked;
      if (is_expired(when_ms, now_ms)) {
        report(*this, n->key.view(), KeyEvent::kExpired);
        t.erase_in_scan(n, KeyTable::hash(n->key.view()));
        ++st.expired;
      }
    });
  } while (cursor != 0 && st.checked < max_checks && --bucket_budget > 0);
  if (st.expired != 0) {
    expired_keys_ += st.expired;
    t.maintain();
  }
  return st;
}

void Db::sample(bool volatile_only, size_t count, uint64_t start, const SampleVisitor& visit) {
  DC_TABLE_OR();
  if (count == 0 || (volatile_only ? t.expires_size() : t.size()) == 0) return;
  // Like Redis's dictGetSomeKeys: consecutive buckets from a random place,
  // with a bound on the (possibly empty) buckets visited.
  // The bound grows with the table's sparsity (buckets per key), so that a
  // table shrinking lazily after many deletions still yields samples.
  const size_t keys = volatile_only ? t.expires_size() : t.size();
  const size_t buckets = volatile_only ? t.expire_buckets() : t.main_buckets();
  size_t seen = 0;
  size_t budget = count * 10 * std::max<size_t>(1, buckets / keys);
  uint64_t cursor = start;
  do {
    if (volatile_only) {
      cursor = t.scan_expires(cursor, [&](KeyTable::Node* n, int64_t when_ms) {
        if (seen++ < count) visit(n->key.view(), n->value, when_ms);
      });
    } else {
      cursor = t.scan(cursor, [&](KeyTable::Node* n) {
        if (seen++ >= count) return;
        const int64_t when = n->has_expire() ? t.expire_of(n, KeyTable::hash(n->key.view())) : kNoExpiry;
        visit(n->key.view(), n->value, when);
      });
    }
  } while (seen < count && --budget > 0);
}

bool Db::sample_random(bool volatile_only, const SampleVisitor& visit) {
  DC_TABLE_OR(false);
  int64_t when = kNoExpiry;
  KeyTable::Node* n = volatile_only ? t.random_expire_node(when) : t.random_node();
  if (n == nullptr) return false;
  if (!volatile_only && n->has_expire()) when = t.expire_of(n, KeyTable::hash(n->key.view()));
  visit(n->key.view(), n->value, when);
  return true;
}

void Db::rehash_step() {
  if (table_) table_->rehash_step(kRehashStepBuckets);
}

void Db::swap(Db& other) noexcept {
  table_.swap(other.table_);
  std::swap(expired_keys_, other.expired_keys_);
}

size_t Db::memory_bytes() const { return table_ ? table_->memory_bytes() + sizeof(KeyTable) : 0; }

#undef DC_TABLE_OR

}  // namespace distcache::storage
