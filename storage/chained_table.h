#pragma once
// A chained hash table with incremental rehashing, in the manner of Redis's
// dict: a power-of-two bucket array; while resizing, two arrays coexist and
// every operation (and every step()) moves a few buckets from the old to the
// new one, so no single call ever pays for a full rehash.
//
// The table is intrusive: it stores `E*` and links entries through
// Traits::next / Traits::set_next (so entries can keep flag bits in their link
// word), and asks Traits::hash(e) for an entry's hash when moving it. It never
// allocates or frees entries; the owner does.
//
// Entries never move in memory: pointers to them stay valid across rehashing.
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

namespace distcache::storage {

// Zero-filled bucket arrays. Large ones are mapped straight from the kernel
// (zero pages on demand, so allocating even a huge array is O(1), and returning
// it never leaves a hole in the malloc heap).
void** alloc_bucket_array(size_t n);
void free_bucket_array(void** p, size_t n);
// Tells the kernel it may drop the pages wholly inside [from, to) of a large
// array whose buckets there are all null and will only be read (as null) again.
void release_bucket_range(void** p, size_t n, size_t from, size_t to);

// Reverses the bits of v (SCAN's cursor walks bucket indexes in reverse-binary
// order so that a cursor stays meaningful across table resizes).
inline uint64_t reverse_bits(uint64_t v) {
  v = __builtin_bswap64(v);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  return v;
}

// splitmix64: the random source for random().
inline uint64_t next_random(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

template <class E, class Traits>
class ChainedTable {
 public:
  static constexpr size_t kMinSize = 4;
  // Buckets an operation moves while rehashing (Redis: 1), and how many empty
  // buckets a step may skip per bucket it is allowed to move (Redis: 10).
  static constexpr size_t kEmptyVisitsPerStep = 10;

  ChainedTable() = default;
  ChainedTable(const ChainedTable&) = delete;
  ChainedTable& operator=(const ChainedTable&) = delete;
  ~ChainedTable() { release_arrays(); }

  size_t size() const { return t_[0].used + t_[1].used; }
  bool rehashing() const { return rehash_idx_ != kIdle; }
  size_t bucket_count() const { return t_[0].size + t_[1].size; }
  size_t bucket_bytes() const { return bucket_count() * sizeof(E*); }
  // For tests / introspection.
  size_t table_size(int i) const { return t_[i].size; }
  size_t rehash_index() const { return rehash_idx_; }

  // First entry with this hash for which eq(e) holds, or nullptr.
  template <class Eq>
  E* find(uint64_t h, Eq&& eq) const {
    if (size() == 0) return nullptr;
    for (int i = 0; i < 2; ++i) {
      const Tab& t = t_[i];
      const size_t idx = h & (t.size - 1);
      // While rehashing, old buckets below rehash_idx_ are known to be empty.
      if (t.size != 0 && !(i == 0 && idx < rehash_idx_ && rehashing())) {
        for (E* e = t.b[idx]; e != nullptr; e = Traits::next(e)) {
          if (eq(e)) return e;
        }
      }
      if (!rehashing()) break;
    }
    return nullptr;
  }

  // Memory prefetch for a lookup that comes soon: stage 1 touches the
  // bucket slot(s) of hash h, stage 2 (once those are likely cached) the
  // first entry of each chain. A pipeline of commands prefetches all its keys
  // before running them, so their cache misses overlap instead of queueing.
  void prefetch_buckets(uint64_t h) const {
    for (int i = 0; i < 2; ++i) {
      const Tab& t = t_[i];
      if (t.size != 0) __builtin_prefetch(&t.b[h & (t.size - 1)]);
      if (!rehashing()) break;
    }
  }
  // The first entry of h's chain (in the old array if its bucket there has
  // not moved yet), or nullptr.
  E* first_in_chain(uint64_t h) const {
    const Tab& old = t_[0];
    if (old.size == 0) return nullptr;
    const size_t idx = h & (old.size - 1);
    if (!rehashing() || idx >= rehash_idx_) return old.b[idx];
    return t_[1].b[h & (t_[1].size - 1)];
  }
  void prefetch_chain(uint64_t h) const {
    for (int i = 0; i < 2; ++i) {
      const Tab& t = t_[i];
      if (t.size != 0) {
        if (const E* e = t.b[h & (t.size - 1)]) __builtin_prefetch(e);
      }
      if (!rehashing()) break;
    }
  }

  // Links a new entry (the caller guarantees it is not present). May start a
  // grow; never moves buckets by itself (call step()).
  void insert(E* e, uint64_t h) {
    expand_if_needed();
    Tab& t = rehashing() ? t_[1] : t_[0];
    E*& head = t.b[h & (t.size - 1)];
    Traits::set_next(e, head);
    head = e;
    ++t.used;
  }

  // Unlinks and returns the first entry with this hash satisfying eq, or
  // nullptr. Never rehashes or resizes.
  template <class Eq>
  E* unlink(uint64_t h, Eq&& eq) {
    if (size() == 0) return nullptr;
    for (int i = 0; i < 2; ++i) {
      Tab& t = t_[i];
      const size_t idx = h & (t.size - 1);
      if (t.size != 0 && !(i == 0 && idx < rehash_idx_ && rehashing())) {
        E*& head = t.b[idx];
        E* prev = nullptr;
        for (E* e = head; e != nullptr; prev = e, e = Traits::next(e)) {
          if (!eq(e)) continue;
          if (prev == nullptr) {
            head = Traits::next(e);
          } else {
            Traits::set_next(prev, Traits::next(e));
          }
          --t.used;
          return e;
        }
      }
      if (!rehashing()) break;
    }
    return nullptr;
  }

  bool unlink_entry(E* target, uint64_t h) {
    return unlink(h, [target](const E* e) { return e == target; }) != nullptr;
  }

  // Moves up to `n` non-empty buckets to the new array (visiting at most
  // n * kEmptyVisitsPerStep empty ones). Returns true while still rehashing.
  bool step(size_t n = 1) {
    if (!rehashing()) return false;
    Tab& from = t_[0];
    Tab& to = t_[1];
    const size_t start = rehash_idx_;
    size_t empty_visits = n * kEmptyVisitsPerStep;
    const uint64_t to_mask = to.size - 1;
    while (n-- > 0 && from.used != 0) {
      assert(rehash_idx_ < from.size);
      while (from.b[rehash_idx_] == nullptr) {
        ++rehash_idx_;
        if (--empty_visits == 0) {
          after_progress(start);
          return true;
        }
      }
      E* e = from.b[rehash_idx_];
      while (e != nullptr) {
        E* nx = Traits::next(e);
        E*& head = to.b[Traits::hash(e) & to_mask];
        Traits::set_next(e, head);
        head = e;
        --from.used;
        ++to.used;
        e = nx;
      }
      from.b[rehash_idx_] = nullptr;
      ++rehash_idx_;
    }
    if (from.used == 0) {
      free_bucket_array(reinterpret_cast<void**>(from.b), from.size);
      t_[0] = t_[1];
      t_[1] = Tab{};
      rehash_idx_ = kIdle;
      return false;
    }
    after_progress(start);
    return true;
  }

  // Starts a shrink when the table is under 10% full (only when not rehashing).
  void maybe_shrink() {
    if (rehashing()) return;
    const Tab& t = t_[0];
    if (t.size > kMinSize && t.used * 10 < t.size) resize_to(t.used);
  }

  // A random entry (nullptr when empty), O(1) expected. A random non-empty
  // bucket is drawn, and accepted with probability min(len, kFair) / kFair,
  // then a uniform entry of its chain is returned: exactly uniform over entries
  // in chains of up to kFair entries (nearly all at load <= 1), unlike
  // Redis's plain "random bucket, random chain entry", which favours entries in
  // short chains.
  E* random(uint64_t& rng) const {
    if (size() == 0) return nullptr;
    constexpr size_t kFair = 4;
    constexpr int kMaxRejections = 32;
    for (int attempt = 0;; ++attempt) {
      E* head = nullptr;
      if (rehashing()) {
        // Buckets below rehash_idx_ in the old array are empty: skip them.
        const size_t span = t_[0].size + t_[1].size - rehash_idx_;
        do {
          const size_t i = rehash_idx_ + next_random(rng) % span;
          head = i >= t_[0].size ? t_[1].b[i - t_[0].size] : t_[0].b[i];
        } while (head == nullptr);
      } else {
        const uint64_t mask = t_[0].size - 1;
        do {
          head = t_[0].b[next_random(rng) & mask];
        } while (head == nullptr);
      }
      size_t len = 0;
      for (E* e = head; e != nullptr; e = Traits::next(e)) ++len;
      const uint64_t r = next_random(rng);
      if (len < kFair && attempt < kMaxRejections && (r % kFair) >= len) continue;
      size_t pick = (r >> 32) % len;
      E* e = head;
      while (pick-- > 0) e = Traits::next(e);
      return e;
    }
  }

  // One SCAN step (Redis's reverse-binary cursor): calls fn(e) for the entries
  // of the bucket(s) the cursor designates and returns the next cursor (0 once
  // the walk is complete). fn may unlink (via unlink/unlink_entry) and free the
  // entry it is given, but nothing else; step() must not run meanwhile.
  template <class F>
  uint64_t scan(uint64_t v, F&& fn) {
    if (size() == 0) return 0;
    auto visit = [&fn](E* e) {
      while (e != nullptr) {
        E* nx = Traits::next(e);
        fn(e);
        e = nx;
      }
    };
    if (!rehashing()) {
      const uint64_t m0 = t_[0].size - 1;
      visit(t_[0].b[v & m0]);
      v |= ~m0;  // so that incrementing the reversed cursor carries within the mask
      v = reverse_bits(reverse_bits(v) + 1);
    } else {
      const Tab* small = &t_[0];
      const Tab* large = &t_[1];
      if (small->size > large->size) std::swap(small, large);
      const uint64_t m0 = small->size - 1;
      const uint64_t m1 = large->size - 1;
      visit(small->b[v & m0]);
      // Every bucket of the larger array that folds onto that small bucket.
      do {
        visit(large->b[v & m1]);
        v |= ~m1;
        v = reverse_bits(reverse_bits(v) + 1);
      } while ((v & (m0 ^ m1)) != 0);
    }
    return v;
  }

  // Visits every entry (fn(const E*)); must not modify the table.
  template <class F>
  void for_each(F&& fn) const {
    for (int i = 0; i < 2; ++i) {
      const Tab& t = t_[i];
      for (size_t b = 0; b < t.size; ++b) {
        for (E* e = t.b[b]; e != nullptr; e = Traits::next(e)) fn(static_cast<const E*>(e));
      }
    }
  }

  // Calls destroy(e) for every entry, then drops all buckets.
  template <class F>
  void clear(F&& destroy) {
    for (int i = 0; i < 2; ++i) {
      Tab& t = t_[i];
      for (size_t b = 0; b < t.size; ++b) {
        E* e = t.b[b];
        while (e != nullptr) {
          E* nx = Traits::next(e);
          destroy(e);
          e = nx;
        }
      }
    }
    release_arrays();
  }

  // Checks the structural invariants; returns "" when fine, else a description.
  std::string validate() const {
    size_t counted[2] = {0, 0};
    for (int i = 0; i < 2; ++i) {
      const Tab& t = t_[i];
      if (t.size != 0 && !std::has_single_bit(t.size)) return "size not a power of two";
      if ((t.size == 0) != (t.b == nullptr)) return "size/array mismatch";
      for (size_t b = 0; b < t.size; ++b) {
        for (E* e = t.b[b]; e != nullptr; e = Traits::next(e)) {
          if ((Traits::hash(e) & (t.size - 1)) != b) return "entry in the wrong bucket";
          if (i == 0 && rehashing() && b < rehash_idx_) return "entry below the rehash index";
          ++counted[i];
        }
      }
      if (counted[i] != t.used) return "used count mismatch";
    }
    if (!rehashing() && t_[1].size != 0) return "second array while not rehashing";
    if (rehashing() && t_[1].size == 0) return "rehashing without a second array";
    return "";
  }

 private:
  struct Tab {
    E** b = nullptr;
    size_t size = 0;  // 0 or a power of two
    size_t used = 0;
  };
  static constexpr size_t kIdle = SIZE_MAX;

  void expand_if_needed() {
    if (rehashing()) return;
    if (t_[0].size == 0) {
      resize_to(kMinSize);
    } else if (t_[0].used >= t_[0].size) {
      resize_to(t_[0].used + 1);
    }
  }

  void resize_to(size_t n) {
    if (rehashing()) return;
    const size_t want = std::bit_ceil(n < kMinSize ? kMinSize : n);
    if (want == t_[0].size) return;
    E** nb = reinterpret_cast<E**>(alloc_bucket_array(want));
    if (t_[0].used == 0) {  // nothing to move: swap arrays at once
      if (t_[0].b != nullptr) free_bucket_array(reinterpret_cast<void**>(t_[0].b), t_[0].size);
      t_[0] = Tab{nb, want, 0};
      return;
    }
    t_[1] = Tab{nb, want, 0};
    rehash_idx_ = 0;
  }

  // Lets the kernel take back pages of the old array the rehash has emptied,
  // so finishing a rehash of a huge array does not pay for unmapping it all.
  void after_progress(size_t start) {
    release_bucket_range(reinterpret_cast<void**>(t_[0].b), t_[0].size, start, rehash_idx_);
  }

  void release_arrays() {
    for (Tab& t : t_) {
      if (t.b != nullptr) free_bucket_array(reinterpret_cast<void**>(t.b), t.size);
      t = Tab{};
    }
    rehash_idx_ = kIdle;
  }

  Tab t_[2];
  size_t rehash_idx_ = kIdle;
};

}  // namespace distcache::storage
