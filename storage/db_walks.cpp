// Db's cache prefetch and point-in-time snapshot walk (see db.h and key_table.h).
#include "storage/db.h"
#include "storage/key_table.h"

namespace distcache::storage {

uint64_t Db::key_hash(std::string_view key) { return KeyTable::hash(key); }

void Db::prefetch(std::string_view key, uint64_t h, int stage) const {
  if (!table_) return;
  if (stage == 1)
    table_->prefetch_buckets(h);
  else if (stage == 2)
    table_->prefetch_chain(key, h);
  else
    table_->prefetch_next_in_chain(key, h);
}

void Db::snapshot_begin() {
  if (table_) table_->snapshot_begin();
}

bool Db::snapshot_take(std::string_view key, const SnapshotVisitor& visit) {
  if (!table_) return false;
  KeyTable& t = *table_;
  const uint64_t h = KeyTable::hash(key);
  KeyTable::Node* n = t.find(key, h);
  if (n == nullptr || !t.snapshot_pending(n)) return false;
  visit(n->key.view(), n->value, n->has_expire() ? t.expire_of(n, h) : kNoExpiry);
  t.snapshot_mark_done(n);
  return true;
}

uint64_t Db::snapshot_walk(uint64_t cursor, size_t buckets, const SnapshotVisitor& visit) {
  if (!table_ || table_->size() == 0) return 0;
  KeyTable& t = *table_;
  // The SCAN cursor visits every key present for the whole walk at least
  // once, also across resizes; the mark makes that exactly once.
  for (size_t i = 0; i < buckets; ++i) {
    cursor = t.scan(cursor, [&](KeyTable::Node* n) {
      if (!t.snapshot_pending(n)) return;
      const int64_t expire_ms = n->has_expire() ? t.expire_of(n, KeyTable::hash(n->key.view())) : kNoExpiry;
      visit(n->key.view(), n->value, expire_ms);
      t.snapshot_mark_done(n);
    });
    if (cursor == 0) break;
  }
  return cursor;
}

}  // namespace distcache::storage
