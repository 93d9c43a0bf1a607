#include "storage/key_table.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <stdexcept>

#include "storage/mapped_bytes.h"

namespace distcache::storage {

// ---------------------------------------------------------------- hashing

const HashKeys& process_hash_keys() {
  static const HashKeys keys = [] {
    uint64_t seed = 0;
    try {
      std::random_device rd;
      seed = (uint64_t{rd()} << 32) ^ rd();
    } catch (...) {
    }
    seed ^= static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    seed ^= reinterpret_cast<uintptr_t>(&seed);
    HashKeys k{};
    // Odd keys with plenty of set bits in both halves.
    k.k0 = next_random(seed) | 1;
    k.k1 = next_random(seed) | 0x0101010101010101ULL;
    k.k2 = next_random(seed) | 1;
    return k;
  }();
  return keys;
}

// ---------------------------------------------------------------- bucket arrays

namespace {

// Arrays of at least this many bytes are mmapped directly.
constexpr size_t kMmapBytes = size_t{256} << 10;
// Granularity of releasing emptied parts of an old array during a rehash.
constexpr size_t kReleaseChunk = size_t{256} << 10;

size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

}  // namespace

void** alloc_bucket_array(size_t n) {
  const size_t bytes = n * sizeof(void*);
  if (bytes >= kMmapBytes) {
    void* p = ::mmap(nullptr, round_up(bytes, 4096), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    g_mapped_bytes.fetch_add(static_cast<int64_t>(round_up(bytes, 4096)), std::memory_order_relaxed);
    return static_cast<void**>(p);
  }
  void* p = std::calloc(n, sizeof(void*));
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<void**>(p);
}

void free_bucket_array(void** p, size_t n) {
  if (p == nullptr) return;
  const size_t bytes = n * sizeof(void*);
  if (bytes >= kMmapBytes) {
    ::munmap(p, round_up(bytes, 4096));
    g_mapped_bytes.fetch_sub(static_cast<int64_t>(round_up(bytes, 4096)), std::memory_order_relaxed);
  } else {
    std::free(p);
  }
}

void release_bucket_range(void** p, size_t n, size_t from, size_t to) {
  if (p == nullptr || n * sizeof(void*) < kMmapBytes) return;
  // Whole chunks newly completed by this step: [chunk(from), chunk(to)).
  const size_t first = from * sizeof(void*) / kReleaseChunk;
  const size_t last = to * sizeof(void*) / kReleaseChunk;
  if (last <= first) return;
  auto* base = reinterpret_cast<char*>(p);
  ::madvise(base + first * kReleaseChunk, (last - first) * kReleaseChunk, MADV_DONTNEED);
}

// ---------------------------------------------------------------- KeyTable

KeyTable::KeyTable() : rng_(process_hash_keys().k2 ^ reinterpret_cast<uintptr_t>(this)) {}

KeyTable::~KeyTable() { clear(); }

KeyNode* KeyNode::create(std::string_view k, Value&& v) {
  if (k.size() > NodeKey::kMaxSize) throw std::length_error("key too long");
  void* block = std::malloc(block_bytes(k.size()));
  if (block == nullptr) throw std::bad_alloc();
  auto* n = new (block) KeyNode(std::move(v));
  n->key.assign(k);
  return n;
}

void KeyNode::destroy(KeyNode* n) noexcept {
  n->~KeyNode();
  std::free(n);
}

size_t KeyNode::block_bytes(size_t n) {
  // The key starts at its member's offset and runs on past sizeof(KeyNode).
  static_assert(sizeof(KeyNode) == 48);
  constexpr size_t kKeyOffset = sizeof(uintptr_t) + sizeof(Value);
  return std::max(sizeof(KeyNode), kKeyOffset + NodeKey::bytes_for(n));
}

KeyNode* KeyTable::find(std::string_view key, uint64_t h) {
  main_.step();
  return main_.find(h, [key](const KeyNode* n) { return n->key.equals(key); });
}

const KeyNode* KeyTable::find(std::string_view key, uint64_t h) const {
  return main_.find(h, [key](const KeyNode* n) { return n->key.equals(key); });
}

namespace {
// A node's first line, and the line its key would end in if it is `key`.
void prefetch_node(const KeyNode* n, std::string_view key) {
  __builtin_prefetch(n);
  __builtin_prefetch(reinterpret_cast<const char*>(&n->key) + NodeKey::bytes_for(key.size()) - 1);
}
}  // namespace

void KeyTable::prefetch_chain(std::string_view key, uint64_t h) const {
  if (const KeyNode* n = main_.first_in_chain(h)) prefetch_node(n, key);
}

void KeyTable::prefetch_next_in_chain(std::string_view key, uint64_t h) const {
  const KeyNode* n = main_.first_in_chain(h);
  if (n == nullptr || n->key.equals(key)) return;
  if (const KeyNode* next = n->next()) prefetch_node(next, key);
}

KeyNode* KeyTable::insert(std::string_view key, uint64_t h, Value&& v) {
  main_.step();
  KeyNode* n = KeyNode::create(key, std::move(v));
  n->link = born_mark_;
  main_.insert(n, h);
  if (groups_) [[unlikely]] groups_->add(key, n);
  return n;
}

ExpireEntry* KeyTable::find_expire(const Node* n, uint64_t h) const {
  return expires_.find(h, [n](const ExpireEntry* e) { return e->node == n; });
}

void KeyTable::unlink_and_free(Node* n, uint64_t h) {
  if (n->has_expire()) {
    ExpireEntry* e = expires_.unlink(h, [n](const ExpireEntry* x) { return x->node == n; });
    delete e;
  }
  main_.unlink_entry(n, h);
  if (groups_) [[unlikely]] groups_->remove(n->key.view(), n);
  KeyNode::destroy(n);
}

void KeyTable::erase(Node* n, uint64_t h) {
  const bool had_expire = n->has_expire();
  unlink_and_free(n, h);
  main_.step();
  main_.maybe_shrink();
  if (had_expire) {
    expires_.step();
    expires_.maybe_shrink();
  }
}

bool KeyTable::erase(std::string_view key, uint64_t h) {
  Node* n = find(key, h);
  if (n == nullptr) return false;
  erase(n, h);
  return true;
}

void KeyTable::erase_in_scan(Node* n, uint64_t h) { unlink_and_free(n, h); }

void KeyTable::maintain() {
  main_.maybe_shrink();
  expires_.maybe_shrink();
}

int64_t KeyTable::expire_of(const Node* n, uint64_t h) const {
  if (!n->has_expire()) return kNoExpiry;
  const ExpireEntry* e = find_expire(n, h);
  return e != nullptr ? e->when_ms : kNoExpiry;
}

void KeyTable::set_expire(Node* n, uint64_t h, int64_t when_ms) {
  expires_.step();
  if (n->has_expire()) {
    if (ExpireEntry* e = find_expire(n, h)) {
      e->when_ms = when_ms;
      return;
    }
  }
  auto* e = new ExpireEntry{nullptr, n, when_ms};
  expires_.insert(e, h);
  n->link |= KeyNode::kHasExpire;
}

bool KeyTable::clear_expire(Node* n, uint64_t h) {
  if (!n->has_expire()) return false;
  expires_.step();
  ExpireEntry* e = expires_.unlink(h, [n](const ExpireEntry* x) { return x->node == n; });
  delete e;
  n->link &= ~KeyNode::kHasExpire;
  expires_.maybe_shrink();
  return e != nullptr;
}

KeyNode* KeyTable::random_node() {
  main_.step();
  return main_.random(rng_);
}

KeyNode* KeyTable::random_expire_node(int64_t& when_ms) {
  expires_.step();
  ExpireEntry* e = expires_.random(rng_);
  if (e == nullptr) return nullptr;
  when_ms = e->when_ms;
  return e->node;
}

bool KeyTable::rehash_step(size_t buckets) {
  const bool a = main_.step(buckets);
  const bool b = expires_.step(buckets);
  if (!a) main_.maybe_shrink();
  if (!b) expires_.maybe_shrink();
  return main_.rehashing() || expires_.rehashing();
}

void KeyTable::clear() {
  expires_.clear([](ExpireEntry* e) { delete e; });
  main_.clear([](KeyNode* n) { KeyNode::destroy(n); });
  expire_cursor_ = 0;
  if (groups_) groups_->clear();
}

void KeyTable::enable_groups(KeyGroups::GroupOf group_of, unsigned groups) {
  groups_ = std::make_unique<KeyGroups>(group_of, groups);
  main_.for_each([this](const KeyNode* n) { groups_->add(n->key.view(), const_cast<KeyNode*>(n)); });
}

namespace {
// Bytes glibc malloc really takes for a request of n bytes.
size_t chunk_bytes(size_t n) {
  if (n == 0) return 0;
  const size_t c = (n + 8 + 15) & ~size_t{15};
  return c < 32 ? 32 : c;
}
}  // namespace

size_t KeyTable::memory_bytes() const {
  size_t total = main_.bucket_bytes() + expires_.bucket_bytes();
  total += expires_.size() * chunk_bytes(sizeof(ExpireEntry));
  if (groups_) total += groups_->heap_bytes();
  main_.for_each([&total](const KeyNode* n) {
    total += chunk_bytes(KeyNode::block_bytes(n->key.size()));
    const size_t vh = n->value.heap_bytes();  // already a usable size
    if (vh != 0) total += vh + 8;
  });
  return total;
}

std::string KeyTable::validate() const {
  std::string why = main_.validate();
  if (!why.empty()) return "main: " + why;
  why = expires_.validate();
  if (!why.empty()) return "expires: " + why;
  size_t flagged = 0;
  std::string err;
  main_.for_each([&](const KeyNode* n) {
    if (!n->has_expire()) return;
    ++flagged;
    const uint64_t h = hash(n->key.view());
    if (find_expire(n, h) == nullptr && err.empty()) err = "flagged node without expiry entry";
  });
  if (!err.empty()) return err;
  if (flagged != expires_.size()) return "expiry entries do not match flagged nodes";
  expires_.for_each([&](const ExpireEntry* e) {
    if (!e->node->has_expire() && err.empty()) err = "expiry entry for an unflagged node";
    const uint64_t h = hash(e->node->key.view());
    if (main_.find(h, [e](const KeyNode* n) { return n == e->node; }) == nullptr && err.empty()) {
      err = "expiry entry for a node not in the table";
    }
  });
  return err;
}

}  // namespace distcache::storage
