#pragma once
// The arguments of one command, owned and reused across commands so that a
// connection in steady state parses without touching the heap: each slot keeps
// its string capacity when the list is cleared.
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
    s.clear();
    return s;
  }
  void add(std::string_view v) { add().assign(v.data(), v.size()); }
  void clear() { size_ = 0; }
  void reserve(size_t n) {
    if (slots_.size() < n) slots_.resize(n);
  }

  // Drops big buffers so an idle connection does not pin memory after one huge command.
  void shrink_big(size_t keep_bytes = 16 * 1024) {
    for (auto& s : slots_)
      if (s.capacity() > keep_bytes) std::string().swap(s);
    if (slots_.size() > 1024) slots_.resize(1024);
  }

  // A copy that owns exactly the live arguments (for handing to another thread).
  std::vector<std::string> to_vector() const {
    return std::vector<std::string>(slots_.begin(), slots_.begin() + size_);
  }

 private:
  std::vector<std::string> slots_;
  size_t size_ = 0;
};

}  // namespace distcache::protocol
