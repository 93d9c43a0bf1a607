#pragma once
// The indexed representation of a large sorted set (Redis's "skiplist"
// encoding): a skip list ordered by (score, member) whose links carry spans,
// so that rank queries and "element at rank" are O(log n), plus a hash index
// member -> node for O(1) score lookups.
//
// Memory layout: every node is one allocation holding its header, its level
// array (24 bytes per level, 1.33 levels on average) and the member bytes; the member index is intrusive (the node carries
// the hash-chain link), so an element costs one allocation plus one bucket
// pointer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/chained_table.h"

namespace distcache::storage {

class ZSkipList {
 public:
  static constexpr int kMaxLevel = 32;

  struct Node;
  // A link also carries a copy of its target's score: a search compares
  // against the copy and touches the next node only when it moves there, so
  // the link it overshoots (one per level, a cache miss each) stays unread.
  struct Level {
    Node* forward;
    size_t span;          // elements skipped by following `forward` (the target included)
    double forward_score; // forward->score (meaningless when forward is null)
  };
  struct Node {
    Node* hnext;     // member index chain
    Node* backward;  // previous node at level 0 (nullptr for the first)
    double score;
    uint32_t mlen;
    uint8_t nlevels;

    Level* levels() { return reinterpret_cast<Level*>(this + 1); }
    const Level* levels() const { return reinterpret_cast<const Level*>(this + 1); }
    Node* next() const { return levels()[0].forward; }
    Node* prev() const { return backward; }
    std::string_view member() const {
      return {reinterpret_cast<const char*>(levels() + nlevels), mlen};
    }
  };

  ZSkipList();
  ~ZSkipList();
  ZSkipList(const ZSkipList& other);
  ZSkipList& operator=(const ZSkipList&) = delete;

  size_t size() const { return length_; }
  Node* first() const { return header_->levels()[0].forward; }
  Node* last() const { return tail_; }

  // Index lookup by member (nullptr if absent).
  Node* find(std::string_view member) const;
  // Cache prefetch for a find() of the member with hash h (hash_bytes) that
  // comes soon: stage 1 its index bucket, stage 2 the first node of the
  // chain, stage 3 that node's member bytes (past its level array).
  void prefetch_member(uint64_t h, int stage) const {
    if (stage == 1) {
      index_.prefetch_buckets(h);
    } else if (stage == 2) {
      index_.prefetch_chain(h);
    } else if (const Node* n = index_.first_in_chain(h)) {
      __builtin_prefetch(n->member().data());
    }
  }

  // Adds a member that is not present yet.
  Node* insert(double score, std::string_view member);
  // Removes a member; false if absent.
  bool erase(std::string_view member);
  // Removes the given node (which belongs to this list).
  void erase(Node* node);
  // Changes a node's score, moving it as needed; returns the (same) node.
  Node* update_score(Node* node, double new_score);

  // 1-based rank of an element known to be present.
  size_t rank_of(const Node* node) const;
  // Node at a 1-based rank (nullptr if out of range).
  Node* at_rank(size_t rank) const;

  // Removes the elements with 1-based ranks in [first, last]; returns count.
  size_t erase_rank_range(size_t first, size_t last);

  // Greedy descent: follows links while before(next) holds and returns the
  // node after the last one passed, with its 1-based rank (nullptr / 0 when
  // the descent ran off the end). For a predicate that is monotonic over the
  // list order this is the first node for which before() is false.
  template <class Before>
  Node* first_not_before(Before&& before, size_t& rank) const {
    const Node* x = header_;
    size_t r = 0;
    for (int i = level_ - 1; i >= 0; --i) {
      while (x->levels()[i].forward && before(static_cast<const Node*>(x->levels()[i].forward))) {
        r += x->levels()[i].span;
        x = x->levels()[i].forward;
      }
    }
    Node* n = x->levels()[0].forward;
    rank = n ? r + 1 : 0;
    return n;
  }
  // Greedy descent: the last node reached while within(next) holds, with its
  // 1-based rank (nullptr / 0 if the very first step fails).
  template <class Within>
  Node* last_within(Within&& within, size_t& rank) const {
    const Node* x = header_;
    size_t r = 0;
    for (int i = level_ - 1; i >= 0; --i) {
      while (x->levels()[i].forward && within(static_cast<const Node*>(x->levels()[i].forward))) {
        r += x->levels()[i].span;
        x = x->levels()[i].forward;
      }
    }
    rank = r;
    return x == header_ ? nullptr : const_cast<Node*>(x);
  }

  // Member-index SCAN step (reverse-binary cursor): fn(const Node*).
  template <class F>
  uint64_t scan(uint64_t cursor, F&& fn) {
    return index_.scan(cursor, [&fn](Node* n) { fn(static_cast<const Node*>(n)); });
  }

  size_t heap_bytes() const;
  size_t max_member_len() const;  // O(n)

  // Checks every invariant (order, spans, backward links, index); "" if fine.
  std::string validate() const;

 private:
  struct IndexTraits {
    static Node* next(const Node* n) { return n->hnext; }
    static void set_next(Node* n, Node* next) { n->hnext = next; }
    static uint64_t hash(const Node* n);
  };

  static Node* alloc_node(int levels, double score, std::string_view member);
  static void free_node(Node* n);
  static size_t node_bytes(int levels, size_t mlen);
  static int random_level();

  // Fills update[i] with the rightmost node before (score, member) at level
  // i, and rank[i] with its 1-based rank (0 for the header).
  void find_path(double score, std::string_view member, Node** update, size_t* rank) const;
  // Two find_path searches for the same member at two scores, run in lock
  // step so that the cache misses of one overlap those of the other.
  void find_two_paths(std::string_view member, double score_a, Node** update_a, size_t* rank_a,
                      double score_b, Node** update_b, size_t* rank_b) const;
  void link(Node* node, Node** update, const size_t* rank);
  void unlink(Node* node, Node** update);
  void index_remove(Node* node);

  Node* header_;
  Node* tail_ = nullptr;
  size_t length_ = 0;
  int level_ = 1;
  size_t node_bytes_ = 0;  // sum of node allocation sizes
  ChainedTable<Node, IndexTraits> index_;
};

}  // namespace distcache::storage
