#include "server/key_locks.h"

namespace distcache::server {

std::string KeyLocks::lock_name(int db, std::string_view key) {
  std::string name;
  name.reserve(key.size() + 1);
  name.push_back(static_cast<char>(db));
  name.append(key);
  return name;
}

bool KeyLocks::key_blocked(int db, std::string_view key, bool write) const {
  auto it = keys_.find(lock_name(db, key));
  if (it == keys_.end()) return false;
  return it->second.exclusive || (write && it->second.shared > 0);
}

bool KeyLocks::can_acquire(const LockRequest& req) const {
  if (shard_exclusive_) return false;
  if (req.whole_shard) {
    if (req.exclusive) return keys_.empty() && shard_shared_ == 0;
    // A shared whole-shard lock conflicts only with exclusive key locks.
    for (const auto& [name, state] : keys_)
      if (state.exclusive) return false;
    return true;
  }
  if (req.exclusive && shard_shared_ > 0) return false;
  for (const auto& k : req.keys)
    if (key_blocked(k.db, k.name, req.exclusive)) return false;
  return true;
}

void KeyLocks::acquire(const LockRequest& req) {
  if (req.whole_shard) {
    if (req.exclusive)
      shard_exclusive_ = true;
    else
      ++shard_shared_;
    return;
  }
  for (const auto& k : req.keys) {
    State& s = keys_[lock_name(k.db, k.name)];
    if (req.exclusive)
      s.exclusive = true;
    else
      ++s.shared;
  }
}

void KeyLocks::release(const LockRequest& req) {
  if (req.whole_shard) {
    if (req.exclusive)
      shard_exclusive_ = false;
    else
      --shard_shared_;
    return;
  }
  for (const auto& k : req.keys) {
    auto it = keys_.find(lock_name(k.db, k.name));
    if (it == keys_.end()) continue;  // the same key listed twice was released already
    if (req.exclusive)
      it->second.exclusive = false;
    else if (it->second.shared > 0)
      --it->second.shared;
    if (!it->second.exclusive && it->second.shared == 0) keys_.erase(it);
  }
}

}  // namespace distcache::server
