#pragma once
// The list data type (LPUSH, LRANGE, BLPOP, ...).
//
// Redis 7.0 stores every list as a "quicklist": a doubly linked list of
// listpack nodes, and OBJECT ENCODING always says "quicklist" (the separate
// "listpack" encoding for small lists only arrived in Redis 7.2). This type
// has the same shape, built our own way:
//
//  * A node is ONE malloc'd block: a small header {entry count, used bytes,
//    capacity} followed by the entries packed back to back. So a small list
//    is a single contiguous buffer, and no element ever has an allocation of
//    its own.
//  * Each entry is  <tag>[length or integer bytes][string bytes]<back-length>.
//    Strings that are canonical 64-bit integers (exactly the strings Redis
//    would store as integers) are kept as integers in 1 to 9 bytes; anything
//    else is kept as bytes behind a 1, 2, 5 or 9 byte header. The trailing
//    back-length (1 byte for short entries) lets cursors walk backwards.
//  * The nodes sit in a ring buffer of node pointers (a deque), so pushes and
//    pops at either end are O(1) (plus a memmove inside one node of at most
//    list-max-listpack-size bytes), LINDEX/LSET cost O(nodes + node size), and
//    inserting a node in the middle shifts pointers only.
//
// Node size follows list-max-listpack-size (passed in by the caller, storage
// does not read the config): a negative value -1..-5 limits each node to
// 4/8/16/32/64 KiB of entries, a positive value to that many entries (and at
// most 8 KiB, Redis's safety limit). A single element bigger than the limit
// gets a node of its own. Nodes emptied by pops are freed; deletions in the
// middle (LREM, LTRIM, LSET, LINSERT splits) merge neighbours that fit
// together again.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "storage/collection.h"

namespace distcache::storage {

// One element as read from a list. Views stay valid until the list changes.
struct ListEntry {
  const char* ptr = nullptr;  // string bytes (when !is_int)
  size_t len = 0;
  int64_t ival = 0;           // the value (when is_int)
  bool is_int = false;

  // The element's bytes; integers are written into `buf`, which must hold
  // kInt64StrSize (21) bytes.
  std::string_view view(char* buf) const;
  std::string to_string() const;
};

// A string to compare list elements with (LREM, LPOS, LINSERT).
class ListNeedle {
 public:
  explicit ListNeedle(std::string_view s);
  bool matches(const ListEntry& e) const;

 private:
  std::string_view s_;
  int64_t iv_ = 0;
  bool is_int_ = false;
};

struct ListNode;  // defined in list.cpp

class List final : public Collection {
 public:
  // fill: list-max-listpack-size (default -2 = 8 KiB per node).
  explicit List(int64_t fill = -2);
  List(const List& other);
  List& operator=(const List&) = delete;
  ~List() override;

  // --- Collection
  std::unique_ptr<Collection> clone() const override;
  std::string_view encoding_name() const override { return "quicklist"; }
  // Every heap block owned, as glibc chunk sizes: this object, the node
  // pointer ring (when it has more than one slot) and each node.
  size_t heap_bytes() const override;
  size_t length() const override { return size_; }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // --- Writes
  void push_front(std::string_view v);
  void push_back(std::string_view v);
  // Remove the first/last element (the list must not be empty).
  void pop_front();
  void pop_back();
  // Inserts v so that it becomes element `index` (index <= size()).
  void insert(size_t index, std::string_view v);
  // Replaces element `index` (< size()).
  void set(size_t index, std::string_view v);
  // Removes `count` elements starting at `index` (clamped to the end).
  void erase(size_t index, size_t count);
  // LREM: removes elements equal to the needle; count > 0 the first count
  // from the head, count < 0 the last -count from the tail, 0 all of them.
  // Returns how many were removed.
  size_t remove(const ListNeedle& needle, int64_t count);

  // --- Reads
  ListEntry front() const;
  ListEntry back() const;
  ListEntry at(size_t index) const;  // index < size()
  // Index of the first element equal to the needle.
  std::optional<size_t> find(const ListNeedle& needle) const;

  // A position in the list that can move towards the tail (next) or the
  // head (prev); it becomes invalid when it walks off either end. Any
  // modification of the list invalidates cursors.
  class Cursor {
   public:
    bool valid() const;
    ListEntry entry() const;
    void next();
    void prev();

   private:
    friend class List;
    const List* list_ = nullptr;
    size_t node_ = 0;  // position in the ring; >= node count when invalid
    size_t off_ = 0;   // byte offset of the entry inside its node
  };
  Cursor cursor(size_t index) const;  // index < size()

  // --- Introspection (tests, memory reports)
  int64_t fill() const { return fill_; }
  static constexpr size_t kNodeHeaderBytes = 16;
  size_t node_count() const { return nnodes_; }
  size_t node_entries(size_t k) const;  // entries of node k
  size_t node_bytes(size_t k) const;    // used bytes of node k
  // Checks every internal invariant; returns "" or a description of the problem.
  std::string validate() const;

 private:
  struct Location {
    size_t node;     // ring position
    size_t off;      // byte offset inside the node
    size_t in_node;  // index inside the node
  };

  ListNode*& node_at(size_t k) { return ring_cap_ == 1 ? single_ : ring_[(head_ + k) & (ring_cap_ - 1)]; }
  ListNode* node_at(size_t k) const { return ring_cap_ == 1 ? single_ : ring_[(head_ + k) & (ring_cap_ - 1)]; }

  void ring_reserve(size_t n);
  void ring_insert(size_t k, ListNode* n);
  void ring_erase(size_t k);
  void ring_maybe_shrink();
  void drop_node(size_t k);  // frees node k and removes it from the ring

  size_t node_limit_bytes() const;
  bool fits(const ListNode* n, size_t add_bytes) const;
  bool can_merge(const ListNode* a, const ListNode* b) const;
  void merge_next(size_t k);    // appends node k+1 to node k
  void merge_around(size_t k);  // merges nodes k-1, k, k+1 where they fit

  Location locate(size_t index) const;

  // The node ring: while it has a single slot (lists of at most one node,
  // i.e. every small list) the node pointer is stored in place of the array.
  union {
    ListNode** ring_;
    ListNode* single_ = nullptr;
  };
  size_t size_ = 0;      // elements
  uint32_t head_ = 0;    // ring position of node 0
  uint32_t nnodes_ = 0;
  uint32_t ring_cap_ = 1;  // power of two
  int32_t fill_;
};

}  // namespace distcache::storage
