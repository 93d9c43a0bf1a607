#pragma once
// The arguments of one command, owned and reused across commands so that a
// connection in steady state parses without touching the heap: each slot keeps
// its string capacity when the list is cleared.
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace distcache::protocol {

class ArgList {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view operator[](size_t i) const { return slots_[i]; }
  std::string& mutable_at(size_t i) { return slots_[i]; }

  // Starts a new, empty argument and returns it for filling.
  std::string& add() {
    if (size_ == slots_.size()) slots_.emplace_back();
    std::string& s = slots_[size_++];
    high_water_ = std::max(high_water_, size_);
    s.clear();
    return s;
  }
  void add(std::string_view v) { add().assign(v.data(), v.size()); }
  void clear() { size_ = 0; }
  void reserve(size_t n) {
    if (slots_.size() < n) slots_.resize(n);
  }

  // Gives back what a huge command left behind (argument buffers over
  // keep_bytes, slots past keep_slots: 1M arguments pin ~32 MB of slots), so
  // an idle connection does not hold it. Call it between commands only: the
  // list is emptied. Only the slots filled since the last call are looked at
  // (the others were trimmed then), so it is cheap after every read.
  void shrink_big(size_t keep_bytes = 16 * 1024, size_t keep_slots = 1024) {
    size_ = 0;
    const size_t filled = std::min({high_water_, slots_.size(), keep_slots});
    high_water_ = 0;
    for (size_t i = 0; i < filled; ++i)
      if (slots_[i].capacity() > keep_bytes) std::string().swap(slots_[i]);
    if (slots_.size() > keep_slots) {
      slots_.resize(keep_slots);
      slots_.shrink_to_fit();
    }
  }

  // A copy that owns exactly the live arguments (for handing to another thread).
  std::vector<std::string> to_vector() const {
    return std::vector<std::string>(slots_.begin(), slots_.begin() + size_);
  }

 private:
  std::vector<std::string> slots_;
  size_t size_ = 0;
  size_t high_water_ = 0;  // most slots filled since the last shrink_big()
};

}  // namespace distcache::protocol
