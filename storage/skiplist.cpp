#include "storage/skiplist.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <vector>

#include "storage/hash.h"

namespace distcache::storage {

namespace {

// (score, member) order: scores first, members bytewise (shorter first on a
// common prefix), as Redis orders sorted-set elements.
inline bool less_than(double s1, std::string_view m1, double s2, std::string_view m2) {
  return s1 < s2 || (s1 == s2 && m1 < m2);
}

uint64_t& level_rng() {
  thread_local uint64_t state = 0x853c49e6748fea9bULL ^ reinterpret_cast<uintptr_t>(&state);
  return state;
}

}  // namespace

uint64_t ZSkipList::IndexTraits::hash(const Node* n) { return hash_bytes(n->member()); }

size_t ZSkipList::node_bytes(int levels, size_t mlen) {
  return sizeof(Node) + static_cast<size_t>(levels) * sizeof(Level) + mlen;
}

ZSkipList::Node* ZSkipList::alloc_node(int levels, double score, std::string_view member) {
  void* mem = ::operator new(node_bytes(levels, member.size()));
  Node* n = static_cast<Node*>(mem);
  n->hnext = nullptr;
  n->backward = nullptr;
  n->score = score;
  n->mlen = static_cast<uint32_t>(member.size());
  n->nlevels = static_cast<uint8_t>(levels);
  for (int i = 0; i < levels; ++i) n->levels()[i] = Level{nullptr, 0, 0};
  if (!member.empty()) std::memcpy(n->levels() + levels, member.data(), member.size());
  return n;
}

void ZSkipList::free_node(Node* n) { ::operator delete(static_cast<void*>(n)); }

int ZSkipList::random_level() {
  int level = 1;
  uint64_t& rng = level_rng();
  // Probability 1/4 of each extra level, as Redis.
  while (level < kMaxLevel && (next_random(rng) & 3) == 0) ++level;
  return level;
}

ZSkipList::ZSkipList() : header_(alloc_node(kMaxLevel, 0, {})) {}

ZSkipList::~ZSkipList() {
  index_.clear([](Node*) {});  // before the nodes go: the walk reads their links
  Node* x = first();
  while (x) {
    Node* nx = x->next();
    free_node(x);
    x = nx;
  }
  free_node(header_);
}

ZSkipList::ZSkipList(const ZSkipList& other) : ZSkipList() {
  for (const Node* x = other.first(); x; x = x->next()) insert(x->score, x->member());
}

ZSkipList::Node* ZSkipList::find(std::string_view member) const {
  const uint64_t h = hash_bytes(member);
  return index_.find(h, [member](const Node* n) { return n->member() == member; });
}

namespace {

// A find_path search in progress: at node x on `level`, having passed `rank`
// elements, looking for the place of (score, member).
struct Descent {
  ZSkipList::Node* x;
  int level;
  size_t rank;
  double score;
};

// One move of a descent: forward along the level while the next element
// sorts before (score, member), else down a level after recording where the
// level was left. False once the descent is complete.
inline bool descend_step(Descent& d, std::string_view member, ZSkipList::Node** update, size_t* rank) {
  if (d.level < 0) return false;
  const ZSkipList::Level& l = d.x->levels()[d.level];
  // The link's copy of the score decides; only a tie reads the next node.
  if (l.forward && (l.forward_score < d.score || (l.forward_score == d.score && l.forward->member() < member))) {
    d.rank += l.span;
    d.x = l.forward;
  } else {
    update[d.level] = d.x;
    rank[d.level] = d.rank;
    --d.level;
  }
  return true;
}

}  // namespace

void ZSkipList::find_path(double score, std::string_view member, Node** update, size_t* rank) const {
  Descent d{header_, level_ - 1, 0, score};
  while (descend_step(d, member, update, rank)) {
  }
}

void ZSkipList::find_two_paths(std::string_view member, double score_a, Node** update_a, size_t* rank_a,
                               double score_b, Node** update_b, size_t* rank_b) const {
  Descent a{header_, level_ - 1, 0, score_a};
  Descent b{header_, level_ - 1, 0, score_b};
  // `|`, not `||`: both descents move in every round.
  while (descend_step(a, member, update_a, rank_a) | descend_step(b, member, update_b, rank_b)) {
  }
}

void ZSkipList::link(Node* node, Node** update, const size_t* rank_in) {
  size_t rank[kMaxLevel];
  std::copy(rank_in, rank_in + level_, rank);
  const int level = node->nlevels;
  if (level > level_) {
    for (int i = level_; i < level; ++i) {
      rank[i] = 0;
      update[i] = header_;
      header_->levels()[i].span = length_;
    }
    level_ = level;
  }
  for (int i = 0; i < level; ++i) {
    Level& up = update[i]->levels()[i];
    node->levels()[i].forward = up.forward;
    node->levels()[i].forward_score = up.forward_score;
    up.forward = node;
    up.forward_score = node->score;
    node->levels()[i].span = up.span - (rank[0] - rank[i]);
    up.span = (rank[0] - rank[i]) + 1;
  }
  for (int i = level; i < level_; ++i) update[i]->levels()[i].span++;
  node->backward = update[0] == header_ ? nullptr : update[0];
  if (Node* f = node->levels()[0].forward)
    f->backward = node;
  else
    tail_ = node;
  ++length_;
}

void ZSkipList::unlink(Node* node, Node** update) {
  for (int i = 0; i < level_; ++i) {
    Level& up = update[i]->levels()[i];
    if (up.forward == node) {
      up.span += node->levels()[i].span - 1;
      up.forward = node->levels()[i].forward;
      up.forward_score = node->levels()[i].forward_score;
    } else {
      up.span -= 1;
    }
  }
  if (Node* f = node->levels()[0].forward)
    f->backward = node->backward;
  else
    tail_ = node->backward;
  while (level_ > 1 && header_->levels()[level_ - 1].forward == nullptr) {
    header_->levels()[level_ - 1].span = 0;
    --level_;
  }
  --length_;
}

void ZSkipList::index_remove(Node* node) {
  index_.unlink_entry(node, hash_bytes(node->member()));
  index_.step(1);
  index_.maybe_shrink();
}

ZSkipList::Node* ZSkipList::insert(double score, std::string_view member) {
  Node* update[kMaxLevel];
  size_t rank[kMaxLevel];
  find_path(score, member, update, rank);
  const int level = random_level();
  Node* node = alloc_node(level, score, member);
  node_bytes_ += node_bytes(level, member.size());
  link(node, update, rank);
  index_.insert(node, hash_bytes(member));
  index_.step(1);
  return node;
}

void ZSkipList::erase(Node* node) {
  Node* update[kMaxLevel];
  size_t rank[kMaxLevel];
  find_path(node->score, node->member(), update, rank);
  unlink(node, update);
  index_remove(node);
  node_bytes_ -= node_bytes(node->nlevels, node->mlen);
  free_node(node);
}

bool ZSkipList::erase(std::string_view member) {
  Node* n = find(member);
  if (!n) return false;
  erase(n);
  return true;
}

ZSkipList::Node* ZSkipList::update_score(Node* node, double new_score) {
  Node* update[kMaxLevel];
  size_t rank[kMaxLevel];
  // Stays in place when it remains strictly between its neighbours; the
  // links into it then get the new score (a search finds the taller
  // node's predecessors; a one-level node's only one is `backward`).
  if ((node->backward == nullptr || node->backward->score < new_score) &&
      (node->next() == nullptr || node->next()->score > new_score)) {
    if (node->nlevels == 1) {
      (node->backward ? node->backward : header_)->levels()[0].forward_score = new_score;
    } else {
      find_path(node->score, node->member(), update, rank);
      for (int i = 0; i < node->nlevels; ++i) update[i]->levels()[i].forward_score = new_score;
    }
    node->score = new_score;
    return node;
  }
  // The paths to the old and the new place, searched together. The new one
  // is found with the node still linked, so it is corrected after the unlink:
  // a level that would insert right after the node inserts after the node's
  // predecessor instead, and ranks past the node drop by one.
  Node* dest[kMaxLevel];
  size_t dest_rank[kMaxLevel];
  find_two_paths(node->member(), node->score, update, rank, new_score, dest, dest_rank);
  const size_t node_rank = rank[0] + 1;
  const int levels_before = level_;
  unlink(node, update);
  for (int i = 0; i < levels_before; ++i) {
    if (dest[i] == node) {
      dest[i] = update[i];
      dest_rank[i] = rank[i];
    } else if (dest_rank[i] > node_rank) {
      --dest_rank[i];
    }
  }
  node->score = new_score;
  link(node, dest, dest_rank);
  return node;
}

size_t ZSkipList::rank_of(const Node* node) const {
  const Node* x = header_;
  size_t rank = 0;
  const double s = node->score;
  const std::string_view m = node->member();
  for (int i = level_ - 1; i >= 0; --i) {
    while (true) {
      const Node* f = x->levels()[i].forward;
      if (!f || !(f->score < s || (f->score == s && f->member() <= m))) break;
      rank += x->levels()[i].span;
      x = f;
    }
    if (x == node) return rank;
  }
  return 0;
}

ZSkipList::Node* ZSkipList::at_rank(size_t rank) const {
  if (rank == 0 || rank > length_) return nullptr;
  Node* x = header_;
  size_t traversed = 0;
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->levels()[i].forward && traversed + x->levels()[i].span <= rank) {
      traversed += x->levels()[i].span;
      x = x->levels()[i].forward;
    }
    if (traversed == rank) return x;
  }
  return nullptr;
}

size_t ZSkipList::erase_rank_range(size_t first, size_t last) {
  if (first == 0) first = 1;
  if (last > length_) last = length_;
  if (first > last) return 0;
  Node* update[kMaxLevel];
  Node* x = header_;
  size_t traversed = 0;
  for (int i = level_ - 1; i >= 0; --i) {
    while (x->levels()[i].forward && traversed + x->levels()[i].span < first) {
      traversed += x->levels()[i].span;
      x = x->levels()[i].forward;
    }
    update[i] = x;
  }
  ++traversed;
  x = x->levels()[0].forward;
  size_t removed = 0;
  while (x && traversed <= last) {
    Node* nx = x->next();
    unlink(x, update);
    index_.unlink_entry(x, hash_bytes(x->member()));
    node_bytes_ -= node_bytes(x->nlevels, x->mlen);
    free_node(x);
    ++removed;
    ++traversed;
    x = nx;
  }
  index_.step(1);
  index_.maybe_shrink();
  return removed;
}

size_t ZSkipList::heap_bytes() const {
  return sizeof(ZSkipList) + node_bytes(kMaxLevel, 0) + node_bytes_ + index_.bucket_bytes();
}

size_t ZSkipList::max_member_len() const {
  size_t m = 0;
  for (const Node* x = first(); x; x = x->next()) m = std::max<size_t>(m, x->mlen);
  return m;
}

std::string ZSkipList::validate() const {
  // Level 0: order, backward links, tail, length; positions for span checks.
  std::vector<const Node*> order;
  const Node* prev = nullptr;
  for (const Node* x = first(); x; x = x->next()) {
    if (x->backward != prev) return "bad backward link";
    if (prev && !less_than(prev->score, prev->member(), x->score, x->member())) return "order violated";
    order.push_back(x);
    prev = x;
  }
  if (order.size() != length_) return "length mismatch";
  if (tail_ != prev) return "bad tail";
  if (index_.size() != length_) return "index size mismatch";
  std::vector<size_t> pos_storage;
  auto position = [&](const Node* n) -> size_t {
    // 1-based position of n at level 0 (binary search by order).
    auto it = std::lower_bound(order.begin(), order.end(), n, [](const Node* a, const Node* b) {
      return less_than(a->score, a->member(), b->score, b->member());
    });
    return static_cast<size_t>(it - order.begin()) + 1;
  };
  for (int i = 0; i < kMaxLevel; ++i) {
    const Node* x = header_;
    size_t pos = 0;
    if (i >= level_) {
      if (header_->levels()[i].forward) return "link above the list level";
      continue;
    }
    while (true) {
      const Level& lv = x->levels()[i];
      if (!lv.forward) {
        if (lv.span != 0 && x == header_ && length_ == 0) return "bad empty span";
        break;
      }
      const size_t p = position(lv.forward);
      if (p - pos != lv.span) return "bad span at level " + std::to_string(i);
      if (lv.forward->nlevels <= i) return "link to a node without that level";
      if (lv.forward_score != lv.forward->score) return "stale score copy at level " + std::to_string(i);
      x = lv.forward;
      pos = p;
    }
  }
  for (const Node* x : order)
    if (find(x->member()) != x) return "index misses a member";
  if (level_ > 1 && header_->levels()[level_ - 1].forward == nullptr) return "level too high";
  return "";
}

}  // namespace distcache::storage
