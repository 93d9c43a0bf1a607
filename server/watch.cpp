#include "server/watch.h"

#include <algorithm>

namespace distcache::server {

bool WatchState::watching(int db, std::string_view name) const {
  return std::any_of(keys.begin(), keys.end(), [&](const Key& k) { return k.db == db && k.name == name; });
}

bool WatchState::expired_since_watch(int64_t now_ms) const {
  return std::any_of(keys.begin(), keys.end(),
                     [now_ms](const Key& k) { return k.expire_at != storage::kNoExpiry && k.expire_at <= now_ms; });
}

std::string WatchRegistry::slot_name(int db, std::string_view key) {
  std::string s;
  s.reserve(key.size() + 4);
  s.append(reinterpret_cast<const char*>(&db), sizeof db);
  s.append(key);
  return s;
}

void WatchRegistry::add(int db, std::string_view key, const std::shared_ptr<WatchState>& who) {
  auto& list = watchers_[slot_name(db, key)];
  if (std::find(list.begin(), list.end(), who) == list.end()) list.push_back(who);
}

void WatchRegistry::remove(int db, std::string_view key, const WatchState* who) {
  auto it = watchers_.find(slot_name(db, key));
  if (it == watchers_.end()) return;
  auto& list = it->second;
  list.erase(std::remove_if(list.begin(), list.end(), [who](const auto& w) { return w.get() == who; }), list.end());
  if (list.empty()) watchers_.erase(it);
}

void WatchRegistry::touch(int db, std::string_view key) {
  auto it = watchers_.find(slot_name(db, key));
  if (it == watchers_.end()) return;
  for (auto& w : it->second) w->touched.store(true, std::memory_order_relaxed);
}

void WatchRegistry::touch_existing(int db, const storage::Db& contents, int64_t now_ms) {
  for (auto& [name, list] : watchers_) {
    int key_db;
    std::copy_n(name.data(), sizeof key_db, reinterpret_cast<char*>(&key_db));
    if (key_db != db) continue;
    std::string_view key(name.data() + sizeof key_db, name.size() - sizeof key_db);
    if (!contents.peek(key, now_ms)) continue;
    for (auto& w : list) w->touched.store(true, std::memory_order_relaxed);
  }
}

}  // namespace distcache::server
