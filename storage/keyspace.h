#pragma once
// One shard's keyspace: its slice of every database (SELECT 0..15).
#include <cstddef>
#include <vector>

#include "storage/db.h"

namespace distcache::storage {

class Keyspace {
 public:
  explicit Keyspace(size_t databases = 16) : dbs_(databases) {}
  size_t size() const { return dbs_.size(); }
  Db& db(size_t index) { return dbs_[index]; }
  const Db& db(size_t index) const { return dbs_[index]; }
  void swap_dbs(size_t a, size_t b) { dbs_[a].swap(dbs_[b]); }
  void clear() {
    for (auto& d : dbs_) d.clear();
  }

 private:
  std::vector<Db> dbs_;
};

}  // namespace distcache::storage
