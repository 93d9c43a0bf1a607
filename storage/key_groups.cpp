#include "storage/key_groups.h"

#include <cstdlib>
#include <cstring>

namespace distcache::storage {

KeyGroups::KeyGroups(GroupOf group_of, unsigned groups)
    : group_of_(group_of), groups_(groups), sets_(new Set[groups]) {}

KeyGroups::~KeyGroups() { clear(); }

uint32_t KeyGroups::home(const KeyNode* n, uint32_t mask) {
  // Nodes are heap blocks (16-byte aligned): mix the address bits.
  uint64_t x = reinterpret_cast<uintptr_t>(n) >> 4;
  x *= 0x9E3779B97F4A7C15ull;
  return static_cast<uint32_t>(x >> 32) & mask;
}

void KeyGroups::insert_into(Set& s, KeyNode* n) {
  const uint32_t mask = s.capacity - 1;
  uint32_t i = home(n, mask);
  while (s.slots[i] != nullptr) i = (i + 1) & mask;
  s.slots[i] = n;
  ++s.size;
}

void KeyGroups::grow(Set& s) {
  Set bigger;
  bigger.capacity = s.capacity == 0 ? 4 : s.capacity * 2;
  bigger.slots = static_cast<KeyNode**>(std::calloc(bigger.capacity, sizeof(KeyNode*)));
  if (bigger.slots == nullptr) std::abort();
  for (uint32_t i = 0; i < s.capacity; ++i)
    if (s.slots[i] != nullptr) insert_into(bigger, s.slots[i]);
  std::free(s.slots);
  s = bigger;
}

void KeyGroups::add(std::string_view key, KeyNode* n) {
  Set& s = sets_[group_of_(key)];
  if ((s.size + 1) * 4 > s.capacity * 3) grow(s);
  insert_into(s, n);
}

void KeyGroups::remove(std::string_view key, KeyNode* n) {
  Set& s = sets_[group_of_(key)];
  if (s.capacity == 0) return;
  const uint32_t mask = s.capacity - 1;
  uint32_t i = home(n, mask);
  for (uint32_t probes = 0; s.slots[i] != n; i = (i + 1) & mask)
    if (s.slots[i] == nullptr || ++probes > s.capacity) return;  // not indexed (cannot happen)
  // Backward-shift deletion: move later entries of the run into the hole when
  // their home position does not lie cyclically in (hole, their position].
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    KeyNode* m = s.slots[j];
    if (m == nullptr) break;
    const uint32_t k = home(m, mask);
    const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (stays) continue;
    s.slots[i] = m;
    i = j;
  }
  s.slots[i] = nullptr;
  if (--s.size == 0) {  // an emptied group gives its memory back
    std::free(s.slots);
    s = Set{};
  }
}

void KeyGroups::clear() {
  for (unsigned g = 0; g < groups_; ++g) {
    std::free(sets_[g].slots);
    sets_[g] = Set{};
  }
}

size_t KeyGroups::heap_bytes() const {
  size_t bytes = sizeof(Set) * groups_;
  for (unsigned g = 0; g < groups_; ++g) bytes += sets_[g].capacity * sizeof(KeyNode*);
  return bytes;
}

}  // namespace distcache::storage
