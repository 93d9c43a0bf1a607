#pragma once
// An optional index of a key table's keys by group: each key belongs to one
// of N groups given by a function of its name (cluster mode uses the 16384
// hash slots; storage/ knows nothing of that, the server injects the
// function). Per group it keeps the set of the group's key nodes, so that
// counting a group is O(1) and listing it is O(its keys).
//
// Each group is an open-addressing set of node pointers (linear probing,
// backward-shift deletion, load factor at most 3/4), allocated when its first
// key arrives: about 8 / load bytes per key (11-21, ~14 on average), plus
// 16 bytes per group once the index is on. A table without an index pays one
// null-pointer test per insert and delete.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace distcache::storage {

struct KeyNode;

class KeyGroups {
 public:
  using GroupOf = unsigned (*)(std::string_view key);

  KeyGroups(GroupOf group_of, unsigned groups);
  ~KeyGroups();
  KeyGroups(const KeyGroups&) = delete;
  KeyGroups& operator=(const KeyGroups&) = delete;

  unsigned group_of(std::string_view key) const { return group_of_(key); }
  unsigned groups() const { return groups_; }

  void add(std::string_view key, KeyNode* n);
  void remove(std::string_view key, KeyNode* n);
  void clear();

  size_t count(unsigned group) const { return group < groups_ ? sets_[group].size : 0; }
  // fn(KeyNode*) for each key of the group until fn returns false.
  template <class F>
  void for_each(unsigned group, F&& fn) const {
    if (group >= groups_) return;
    const Set& s = sets_[group];
    for (uint32_t i = 0; i < s.capacity; ++i)
      if (s.slots[i] != nullptr && !fn(s.slots[i])) return;
  }
  // Bytes of the index itself (group headers and slot arrays).
  size_t heap_bytes() const;

 private:
  struct Set {
    KeyNode** slots = nullptr;
    uint32_t capacity = 0;  // 0 or a power of two
    uint32_t size = 0;
  };
  static uint32_t home(const KeyNode* n, uint32_t mask);
  static void insert_into(Set& s, KeyNode* n);
  static void grow(Set& s);

  GroupOf group_of_;
  unsigned groups_;
  std::unique_ptr<Set[]> sets_;
};

}  // namespace distcache::storage
