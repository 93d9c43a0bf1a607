#pragma once
// The hash table behind Db: key -> Value, plus key -> expiry for keys with a TTL.
//
// Main table: chained, incrementally rehashed (ChainedTable). One node per key,
// a single heap block holding the key too:
//     link (8)   next node pointer; bit 0 = "this key has a TTL"
//     value (32) Value: type + flags + CompactString (<= 23 bytes inline)
//     key        NodeKey: a length byte, then the key's bytes
// Keys up to 15 bytes fit glibc's 64-byte chunk, up to 31 bytes the 80-byte
// one. No hash is stored: rehashing recomputes it from the key.
//
// Expire table: a second, separate ChainedTable holding only the volatile keys,
// one 24-byte entry each {next, node*, when_ms} (glibc: a 32-byte chunk). Keys
// without a TTL cost nothing there, and the TTL bit in the node spares non-
// volatile lookups a probe of it. Active expiry walks only this table.
//
// Nodes never move: a Value* stays valid until its key is erased.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "storage/chained_table.h"
#include "storage/db.h"
#include "storage/hash.h"
#include "storage/key_groups.h"
#include "storage/node_key.h"
#include "storage/value.h"

namespace distcache::storage {

struct KeyNode {
  static constexpr uintptr_t kHasExpire = 1;
  static constexpr uintptr_t kSnapshotMark = 2;  // see KeyTable::snapshot_pending
  static constexpr uintptr_t kFlags = kHasExpire | kSnapshotMark;

  uintptr_t link = 0;  // next KeyNode* | flags
  Value value;
  NodeKey key;  // last: its bytes run on past sizeof(KeyNode)

  // A node in one malloc block sized for its key; free with destroy().
  static KeyNode* create(std::string_view k, Value&& v);
  static void destroy(KeyNode* n) noexcept;
  // The block's malloc request for a key of n bytes.
  static size_t block_bytes(size_t n);

  KeyNode* next() const { return reinterpret_cast<KeyNode*>(link & ~kFlags); }
  bool has_expire() const { return (link & kHasExpire) != 0; }

 private:
  explicit KeyNode(Value&& v) : value(std::move(v)) {}
  ~KeyNode() = default;
};

struct ExpireEntry {
  ExpireEntry* next = nullptr;
  KeyNode* node = nullptr;
  int64_t when_ms = 0;
};
static_assert(sizeof(ExpireEntry) == 24);

class KeyTable {
 public:
  using Node = KeyNode;

  KeyTable();
  ~KeyTable();
  KeyTable(const KeyTable&) = delete;
  KeyTable& operator=(const KeyTable&) = delete;

  static uint64_t hash(std::string_view key) { return hash_bytes(key); }

  // Lookups take the key's hash (compute it once with hash()). The non-const
  // find advances an ongoing rehash by one bucket; the const one never mutates.
  Node* find(std::string_view key, uint64_t h);
  const Node* find(std::string_view key, uint64_t h) const;

  // Cache prefetch for a lookup that comes soon, in three stages, each once
  // the previous one's lines are likely cached: the bucket slot(s); the
  // chain's first node, with the line its key would end in; if that node is
  // not this key, the next node of the chain.
  void prefetch_buckets(uint64_t h) const { main_.prefetch_buckets(h); }
  void prefetch_chain(std::string_view key, uint64_t h) const;
  void prefetch_next_in_chain(std::string_view key, uint64_t h) const;

  // Inserts a key that must not be present.
  Node* insert(std::string_view key, uint64_t h, Value&& v);

  // Removes and frees a node (and its expiry entry). Advances rehashing and
  // may start a shrink.
  void erase(Node* n, uint64_t h);
  bool erase(std::string_view key, uint64_t h);
  // Same, for use inside scan()/scan_expires() callbacks on the node being
  // visited: no rehash step, no resize (the walk relies on a stable layout).
  void erase_in_scan(Node* n, uint64_t h);

  // Expiry of a node (kNoExpiry if none).
  int64_t expire_of(const Node* n, uint64_t h) const;
  void set_expire(Node* n, uint64_t h, int64_t when_ms);
  bool clear_expire(Node* n, uint64_t h);

  size_t size() const { return main_.size(); }
  size_t expires_size() const { return expires_.size(); }

  // One SCAN step over the main table: fn(Node*) per entry of the cursor's
  // bucket(s); fn may erase_in_scan() that node. Returns the next cursor.
  template <class F>
  uint64_t scan(uint64_t cursor, F&& fn) {
    return main_.scan(cursor, std::forward<F>(fn));
  }
  // One SCAN step over the volatile keys: fn(Node*, int64_t when_ms); fn may
  // erase_in_scan() that node.
  template <class F>
  uint64_t scan_expires(uint64_t cursor, F&& fn) {
    return expires_.scan(cursor, [&fn](ExpireEntry* e) { fn(e->node, e->when_ms); });
  }
  // Cursor kept for active expiry between calls.
  uint64_t& expire_cursor() { return expire_cursor_; }

  // Shrinks tables that got sparse (after erase_in_scan walks).
  void maintain();

  Node* random_node();
  // A uniformly random key with a TTL (nullptr if none), and its expiry.
  Node* random_expire_node(int64_t& when_ms);

  template <class F>
  void for_each(F&& fn) const {
    main_.for_each(std::forward<F>(fn));
  }

  // Point-in-time snapshots (BGSAVE without fork). Each node carries one
  // mark bit; a node whose mark differs from the table's current mark is
  // "pending": it existed when the running snapshot began and has not been
  // written out yet. snapshot_begin() flips the table's mark, so every node
  // becomes pending at once; nodes inserted later are born with the new mark
  // (not part of the snapshot). A snapshot must visit every pending node
  // before the next one begins (a walk that fails still marks the rest).
  void snapshot_begin() { born_mark_ ^= KeyNode::kSnapshotMark; }
  bool snapshot_pending(const Node* n) const { return (n->link & KeyNode::kSnapshotMark) != born_mark_; }
  void snapshot_mark_done(Node* n) { n->link = (n->link & ~KeyNode::kSnapshotMark) | born_mark_; }

  // Moves up to `buckets` buckets of each table; true if still rehashing.
  bool rehash_step(size_t buckets);
  bool rehashing() const { return main_.rehashing() || expires_.rehashing(); }

  void clear();

  // Optional index of the keys by group (storage/key_groups.h), e.g. cluster
  // hash slots; off (null) by default. Enabling it indexes the present keys.
  void enable_groups(KeyGroups::GroupOf group_of, unsigned groups);
  const KeyGroups* groups() const { return groups_.get(); }

  // Bytes held: nodes, expiry entries, key/value heap blocks (estimated as
  // glibc chunk sizes) and bucket arrays. O(n): walks every key.
  size_t memory_bytes() const;

  // Structural invariants of both tables and their consistency; "" if fine.
  std::string validate() const;

  // Introspection for tests.
  size_t main_buckets() const { return main_.bucket_count(); }
  size_t expire_buckets() const { return expires_.bucket_count(); }
  size_t main_rehash_index() const { return main_.rehash_index(); }  // SIZE_MAX when idle

 private:
  struct MainTraits {
    static KeyNode* next(const KeyNode* n) { return n->next(); }
    static void set_next(KeyNode* n, KeyNode* nx) {
      n->link = reinterpret_cast<uintptr_t>(nx) | (n->link & KeyNode::kFlags);
    }
    static uint64_t hash(const KeyNode* n) { return KeyTable::hash(n->key.view()); }
  };
  struct ExpireTraits {
    static ExpireEntry* next(const ExpireEntry* e) { return e->next; }
    static void set_next(ExpireEntry* e, ExpireEntry* nx) { e->next = nx; }
    static uint64_t hash(const ExpireEntry* e) { return KeyTable::hash(e->node->key.view()); }
  };

  ExpireEntry* find_expire(const Node* n, uint64_t h) const;
  void unlink_and_free(Node* n, uint64_t h);

  ChainedTable<KeyNode, MainTraits> main_;
  ChainedTable<ExpireEntry, ExpireTraits> expires_;
  uint64_t rng_;
  uint64_t expire_cursor_ = 0;
  uintptr_t born_mark_ = 0;  // the mark of nodes not pending in a snapshot
  std::unique_ptr<KeyGroups> groups_;  // see enable_groups()
};

}  // namespace distcache::storage
