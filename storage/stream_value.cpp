#include "storage/stream_value.h"

#include <algorithm>
#include <charconv>
#include <unordered_set>

#include "storage/numbers.h"

namespace distcache::storage {

// ---------------------------------------------------------------------------
// StreamID

bool StreamID::incr() {
  if (seq == UINT64_MAX) {
    if (ms == UINT64_MAX) {
      ms = seq = 0;
      return false;
    }
    ++ms;
    seq = 0;
    return true;
  }
  ++seq;
  return true;
}

bool StreamID::decr() {
  if (seq == 0) {
    if (ms == 0) {
      ms = seq = UINT64_MAX;
      return false;
    }
    --ms;
    seq = UINT64_MAX;
    return true;
  }
  --seq;
  return true;
}

size_t StreamID::format(char* buf) const {
  char* p = std::to_chars(buf, buf + 20, ms).ptr;
  *p++ = '-';
  p = std::to_chars(p, p + 20, seq).ptr;
  return static_cast<size_t>(p - buf);
}

std::string StreamID::to_string() const {
  char buf[kMaxChars];
  return std::string(buf, format(buf));
}

// ---------------------------------------------------------------------------
// Encoding helpers

namespace {

constexpr uint8_t kFlagDeleted = 1;     // Redis STREAM_ITEM_FLAG_DELETED
constexpr uint8_t kFlagSameFields = 2;  // Redis STREAM_ITEM_FLAG_SAMEFIELDS

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

uint64_t get_varint(const char* p, size_t& pos) {
  uint64_t v = 0;
  int shift = 0;
  while (true) {
    const auto b = static_cast<unsigned char>(p[pos++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
    shift += 7;
  }
}

size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// A varint meant to be read backwards from its end: the lowest 7-bit group
// is stored last; every byte but the first stored one has the high bit set.
void put_rvarint(std::string& out, uint64_t v) {
  unsigned char groups[10];
  int n = 0;
  do {
    groups[n++] = static_cast<unsigned char>(v & 0x7f);
    v >>= 7;
  } while (v);
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<char>(groups[i] | (i == n - 1 ? 0 : 0x80)));
}

uint64_t get_rvarint_backwards(const char* p, size_t end, size_t& start) {
  uint64_t v = 0;
  int shift = 0;
  size_t pos = end;
  while (true) {
    const auto b = static_cast<unsigned char>(p[--pos]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) break;
    shift += 7;
  }
  start = pos;
  return v;
}

void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

std::string_view get_string(const std::string& data, size_t& pos) {
  const size_t n = get_varint(data.data(), pos);
  std::string_view s(data.data() + pos, n);
  pos += n;
  return s;
}

uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t unzigzag(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

// --- Sizes of the same data in Redis's listpack encoding (element + back-length).

uint64_t lp_backlen_size(uint64_t l) {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

uint64_t lp_int_size(int64_t v) {
  if (v >= 0 && v <= 127) return 2;
  if (v >= -4096 && v <= 4095) return 3;
  if (v >= -32768 && v <= 32767) return 4;
  if (v >= -8388608 && v <= 8388607) return 5;
  if (v >= INT32_MIN && v <= INT32_MAX) return 6;
  return 10;
}

uint64_t lp_str_size(std::string_view s) {
  int64_t v;
  if (parse_int64(s, v)) return lp_int_size(v);
  const uint64_t len = s.size();
  const uint64_t enc = (len < 64 ? 1 : len < 4096 ? 2 : 5) + len;
  return enc + lp_backlen_size(enc);
}

constexpr uint64_t kLpHeaderAndEnd = 7;  // total bytes (4) + element count (2) + end marker (1)

}  // namespace

uint64_t StreamValue::Block::lp_bytes() const {
  return lp_fixed + lp_int_size(static_cast<int64_t>(live)) + lp_int_size(static_cast<int64_t>(deleted));
}

StreamValue::EntryPos StreamValue::decode_at(const Block& b, size_t off) {
  EntryPos e;
  const char* p = b.data.data();
  size_t pos = off;
  e.off = off;
  e.flags = static_cast<uint8_t>(p[pos++]);
  const uint64_t ms_delta = get_varint(p, pos);
  const uint64_t seq_zz = get_varint(p, pos);
  const uint64_t body_len = get_varint(p, pos);
  e.body = pos;
  e.body_end = pos + body_len;
  e.end = e.body_end + varint_size(e.body_end - off);
  e.id.ms = b.master.ms + ms_delta;
  e.id.seq = b.master.seq + static_cast<uint64_t>(unzigzag(seq_zz));
  return e;
}

size_t StreamValue::entry_before(const Block& b, size_t end) {
  size_t back_start;
  const uint64_t len = get_rvarint_backwards(b.data.data(), end, back_start);
  return back_start - len;
}

void StreamValue::master_fields(const Block& b, std::vector<std::string_view>& out) {
  out.clear();
  size_t pos = 0;
  const uint64_t n = get_varint(b.data.data(), pos);
  for (uint64_t i = 0; i < n; ++i) out.push_back(get_string(b.data, pos));
}

void StreamValue::entry_fields(const Block& b, const EntryPos& e, const std::vector<std::string_view>& master,
                               std::vector<StreamField>& out) {
  out.clear();
  size_t pos = e.body;
  if (e.flags & kFlagSameFields) {
    for (std::string_view f : master) out.emplace_back(f, get_string(b.data, pos));
    return;
  }
  const uint64_t n = get_varint(b.data.data(), pos);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view f = get_string(b.data, pos);
    std::string_view v = get_string(b.data, pos);
    out.emplace_back(f, v);
  }
}

// ---------------------------------------------------------------------------
// StreamGroup

StreamConsumer* StreamGroup::find_consumer(std::string_view name) {
  auto it = consumers.find(name);
  return it == consumers.end() ? nullptr : &it->second;
}

StreamConsumer* StreamGroup::create_consumer(std::string_view name, int64_t now_ms) {
  auto [it, inserted] = consumers.try_emplace(std::string(name));
  if (!inserted) return nullptr;
  it->second.name = it->first;
  it->second.seen_time = now_ms;
  return &it->second;
}

uint64_t StreamGroup::delete_consumer(std::string_view name) {
  auto it = consumers.find(name);
  if (it == consumers.end()) return 0;
  const uint64_t pending = it->second.pel.size();
  for (const StreamID& id : it->second.pel) pel.erase(id);
  consumers.erase(it);
  return pending;
}

bool StreamGroup::remove_pending(StreamID id) {
  auto it = pel.find(id);
  if (it == pel.end()) return false;
  if (it->second.consumer) it->second.consumer->pel.erase(id);
  pel.erase(it);
  return true;
}

void StreamGroup::move_nack(StreamID id, StreamNack& nack, StreamConsumer* to) {
  if (nack.consumer == to) return;
  if (nack.consumer) nack.consumer->pel.erase(id);
  to->pel.insert(id);
  nack.consumer = to;
}

// ---------------------------------------------------------------------------
// StreamValue

StreamValue::StreamValue() = default;
StreamValue::~StreamValue() = default;

StreamValue::StreamValue(const StreamValue& other)
    : Collection(),
      blocks_(other.blocks_),
      length_(other.length_),
      last_id_(other.last_id_),
      first_id_(other.first_id_),
      max_deleted_id_(other.max_deleted_id_),
      entries_added_(other.entries_added_) {
  if (!other.groups_) return;
  groups_ = std::make_unique<GroupMap>();
  for (const auto& [name, g] : *other.groups_) {
    StreamGroup& ng = (*groups_)[name];
    ng.last_id = g.last_id;
    ng.entries_read = g.entries_read;
    ng.consumers = g.consumers;
    ng.pel = g.pel;
    for (auto& [id, nack] : ng.pel)
      if (nack.consumer) nack.consumer = &ng.consumers.find(nack.consumer->name)->second;
  }
}

std::unique_ptr<Collection> StreamValue::clone() const { return std::make_unique<StreamValue>(*this); }

size_t StreamValue::heap_bytes() const {
  size_t n = sizeof(StreamValue) + blocks_.capacity() * sizeof(Block);
  for (const Block& b : blocks_)
    if (b.data.capacity() > 15) n += b.data.capacity() + 1;
  if (groups_) {
    n += sizeof(GroupMap);
    for (const auto& [name, g] : *groups_) {
      n += 64 + name.size() + sizeof(StreamGroup);
      n += g.pel.size() * (48 + sizeof(StreamNack));
      for (const auto& [cname, c] : g.consumers) n += 64 + 2 * cname.size() + sizeof(StreamConsumer) + c.pel.size() * 48;
    }
  }
  return n;
}

size_t StreamValue::node_count() const { return blocks_.size(); }

size_t StreamValue::block_for(StreamID id) const {
  auto it = std::partition_point(blocks_.begin(), blocks_.end(), [&](const Block& b) { return b.last < id; });
  return static_cast<size_t>(it - blocks_.begin());
}

void StreamValue::append(StreamID id, const std::string_view* fv, size_t numfields, const NodeLimits& limits) {
  uint64_t totelelen = 0;
  for (size_t i = 0; i < numfields * 2; ++i) totelelen += fv[i].size();

  Block* tail = blocks_.empty() ? nullptr : &blocks_.back();
  if (tail) {
    uint64_t max_bytes = static_cast<uint64_t>(limits.max_bytes);
    if (limits.max_bytes <= 0 || max_bytes > kListpackMaxSize) max_bytes = kListpackMaxSize;
    bool new_node = false;
    if (tail->lp_bytes() + totelelen >= max_bytes)
      new_node = true;
    else if (limits.max_entries > 0 && uint64_t{tail->live} + tail->deleted >= static_cast<uint64_t>(limits.max_entries))
      new_node = true;
    if (new_node) {
      tail->data.shrink_to_fit();
      tail = nullptr;
    }
  }

  uint8_t flags = 0;
  if (!tail) {
    Block& b = blocks_.emplace_back();
    b.master = id;
    put_varint(b.data, numfields);
    b.lp_fixed = kLpHeaderAndEnd + lp_int_size(static_cast<int64_t>(numfields)) + lp_int_size(0);
    for (size_t i = 0; i < numfields; ++i) {
      put_string(b.data, fv[i * 2]);
      b.lp_fixed += lp_str_size(fv[i * 2]);
    }
    b.entries_off = static_cast<uint32_t>(b.data.size());
    flags |= kFlagSameFields;
    tail = &b;
  } else {
    size_t pos = 0;
    const uint64_t master_count = get_varint(tail->data.data(), pos);
    if (master_count == numfields) {
      size_t i = 0;
      for (; i < numfields; ++i)
        if (get_string(tail->data, pos) != fv[i * 2]) break;
      if (i == numfields) flags |= kFlagSameFields;
    }
  }

  append_entry(*tail, id, flags, fv, numfields);
  ++tail->live;

  ++length_;
  ++entries_added_;
  last_id_ = id;
  if (length_ == 1) first_id_ = id;
}

void StreamValue::append_entry(Block& b, StreamID id, uint8_t flags, const std::string_view* fv, size_t numfields) {
  const bool same = flags & kFlagSameFields;
  const size_t off = b.data.size();
  b.data.push_back(static_cast<char>(flags));
  put_varint(b.data, id.ms - b.master.ms);
  put_varint(b.data, zigzag(static_cast<int64_t>(id.seq - b.master.seq)));
  uint64_t body_len = 0;
  if (!same) body_len += varint_size(numfields);
  for (size_t i = 0; i < numfields; ++i) {
    if (!same) body_len += varint_size(fv[i * 2].size()) + fv[i * 2].size();
    body_len += varint_size(fv[i * 2 + 1].size()) + fv[i * 2 + 1].size();
  }
  put_varint(b.data, body_len);
  if (!same) put_varint(b.data, numfields);
  for (size_t i = 0; i < numfields; ++i) {
    if (!same) put_string(b.data, fv[i * 2]);
    put_string(b.data, fv[i * 2 + 1]);
  }
  put_rvarint(b.data, b.data.size() - off);

  // The same entry in Redis's listpack: flags, ms-diff, seq-diff,
  // [num-fields, fields...], values..., lp-count.
  uint64_t lp = lp_int_size(flags) + lp_int_size(static_cast<int64_t>(id.ms - b.master.ms)) +
                lp_int_size(static_cast<int64_t>(id.seq - b.master.seq));
  if (!same) lp += lp_int_size(static_cast<int64_t>(numfields));
  for (size_t i = 0; i < numfields; ++i) {
    if (!same) lp += lp_str_size(fv[i * 2]);
    lp += lp_str_size(fv[i * 2 + 1]);
  }
  const int64_t lp_count = static_cast<int64_t>(numfields) + 3 + (same ? 0 : static_cast<int64_t>(numfields) + 1);
  lp += lp_int_size(lp_count);
  b.lp_fixed += lp;
  b.last = id;
}

bool StreamValue::remove(StreamID id) {
  const size_t i = block_for(id);
  if (i == blocks_.size()) return false;
  Block& b = blocks_[i];
  if (b.master > id) return false;
  for (size_t pos = b.entries_off; pos < b.data.size();) {
    EntryPos e = decode_at(b, pos);
    if (e.id > id) return false;
    if (e.id == id) {
      if (e.flags & kFlagDeleted) return false;
      if (b.live == 1) {
        blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        b.data[e.off] = static_cast<char>(e.flags | kFlagDeleted);
        --b.live;
        ++b.deleted;
      }
      --length_;
      return true;
    }
    pos = e.end;
  }
  return false;
}

void StreamValue::refresh_first_id() { first_id_ = length_ == 0 ? StreamID{} : first_valid_id(); }

int64_t StreamValue::trim(const TrimArgs& args) {
  if (args.strategy == TrimStrategy::kNone) return 0;
  const bool maxlen_mode = args.strategy == TrimStrategy::kMaxLen;
  int64_t deleted = 0;
  size_t remove_blocks = 0;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    if (maxlen_mode && length_ <= args.maxlen) break;
    Block& b = blocks_[i];
    const int64_t entries = b.live;
    if (args.limit && deleted + entries > args.limit) break;
    const bool remove_node = maxlen_mode ? length_ - static_cast<uint64_t>(entries) >= args.maxlen : b.last < args.minid;
    if (remove_node) {
      length_ -= static_cast<uint64_t>(entries);
      deleted += entries;
      ++remove_blocks;
      continue;
    }
    if (args.approx) break;
    // Flag entries inside this block until the condition holds.
    for (size_t pos = b.entries_off; pos < b.data.size();) {
      EntryPos e = decode_at(b, pos);
      const bool stop = maxlen_mode ? length_ <= args.maxlen : e.id >= args.minid;
      if (stop) break;
      if (!(e.flags & kFlagDeleted)) {
        b.data[e.off] = static_cast<char>(e.flags | kFlagDeleted);
        --b.live;
        ++b.deleted;
        --length_;
        ++deleted;
      }
      pos = e.end;
    }
    break;
  }
  if (remove_blocks) blocks_.erase(blocks_.begin(), blocks_.begin() + static_cast<std::ptrdiff_t>(remove_blocks));
  refresh_first_id();
  return deleted;
}

bool StreamValue::find(StreamID id, std::vector<StreamField>* fields) const {
  const size_t i = block_for(id);
  if (i == blocks_.size()) return false;
  const Block& b = blocks_[i];
  if (b.master > id) return false;
  for (size_t pos = b.entries_off; pos < b.data.size();) {
    EntryPos e = decode_at(b, pos);
    if (e.id > id) return false;
    if (e.id == id) {
      if (e.flags & kFlagDeleted) return false;
      if (fields) {
        std::vector<std::string_view> master;
        if (e.flags & kFlagSameFields) master_fields(b, master);
        entry_fields(b, e, master, *fields);
      }
      return true;
    }
    pos = e.end;
  }
  return false;
}

StreamID StreamValue::last_valid_id() const {
  StreamID id;
  Iterator it(*this, StreamID::min(), StreamID::max(), true);
  it.next(id);
  return id;
}

StreamID StreamValue::first_valid_id() const {
  StreamID id;
  Iterator it(*this, StreamID::min(), StreamID::max(), false);
  it.next(id);
  return id;
}

size_t StreamValue::radix_tree_nodes() const {
  // Redis keys its radix tree by the 16-byte big-endian master IDs. The tree
  // has a node at the root, at every key, at every branching prefix and at
  // every child of a branching prefix; branching prefixes are the longest
  // common prefixes of neighbouring keys.
  if (blocks_.empty()) return 1;
  auto encode = [](StreamID id) {
    std::string k(16, '\0');
    for (int i = 0; i < 8; ++i) {
      k[static_cast<size_t>(i)] = static_cast<char>(id.ms >> (56 - 8 * i));
      k[static_cast<size_t>(8 + i)] = static_cast<char>(id.seq >> (56 - 8 * i));
    }
    return k;
  };
  std::unordered_set<std::string> nodes;
  nodes.insert(std::string());
  std::string prev;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    std::string key = encode(blocks_[i].master);
    if (i > 0) {
      size_t l = 0;
      while (l < 16 && prev[l] == key[l]) ++l;
      if (l < 16) {
        nodes.insert(key.substr(0, l));
        nodes.insert(prev.substr(0, l + 1));
        nodes.insert(key.substr(0, l + 1));
      }
    }
    nodes.insert(key);
    prev = std::move(key);
  }
  return nodes.size();
}

// --- consumer-group counters (lag, entries-read)

bool StreamValue::range_has_tombstones(StreamID start, StreamID end) const {
  if (length_ == 0 || max_deleted_id_.is_zero()) return false;  // empty, or no tombstones
  if (first_id_ > max_deleted_id_) return false;                   // the last tombstone is before the first entry
  return start <= max_deleted_id_ && max_deleted_id_ <= end;
}

int64_t StreamValue::estimate_distance_from_first_ever_entry(StreamID id) const {
  if (entries_added_ == 0) return 0;  // never used: every counter is 0
  if (length_ == 0 && id <= last_id_) return static_cast<int64_t>(entries_added_);
  if (id == last_id_) return static_cast<int64_t>(entries_added_);
  if (id > last_id_) return StreamGroup::kInvalidEntriesRead;  // a future ID
  if (max_deleted_id_.is_zero() || max_deleted_id_ < first_id_) {
    // No fragmentation ahead.
    if (id < first_id_) return static_cast<int64_t>(entries_added_ - length_);
    if (id == first_id_) return static_cast<int64_t>(entries_added_ - length_ + 1);
  }
  return StreamGroup::kInvalidEntriesRead;
}

std::optional<int64_t> StreamValue::group_lag(const StreamGroup& g) const {
  if (entries_added_ == 0) return 0;
  if (g.entries_read != StreamGroup::kInvalidEntriesRead && !range_has_tombstones(g.last_id, StreamID::max()))
    return static_cast<int64_t>(entries_added_) - g.entries_read;
  const int64_t read = estimate_distance_from_first_ever_entry(g.last_id);
  if (read != StreamGroup::kInvalidEntriesRead) return static_cast<int64_t>(entries_added_) - read;
  return std::nullopt;
}

StreamGroup* StreamValue::find_group(std::string_view name) {
  if (!groups_) return nullptr;
  auto it = groups_->find(name);
  return it == groups_->end() ? nullptr : &it->second;
}

StreamGroup* StreamValue::create_group(std::string_view name, StreamID last_id, int64_t entries_read) {
  if (!groups_) groups_ = std::make_unique<GroupMap>();
  auto [it, inserted] = groups_->try_emplace(std::string(name));
  if (!inserted) return nullptr;
  it->second.last_id = last_id;
  it->second.entries_read = entries_read;
  return &it->second;
}

bool StreamValue::destroy_group(std::string_view name) {
  if (!groups_) return false;
  auto it = groups_->find(name);
  if (it == groups_->end()) return false;
  groups_->erase(it);
  return true;
}

// --- block-level access (persistence)

void StreamValue::for_each_block_entry(size_t i, const std::function<void(const RawEntry&)>& fn) const {
  const Block& b = blocks_[i];
  std::vector<std::string_view> master;
  master_fields(b, master);
  std::vector<StreamField> fields;
  RawEntry raw;
  raw.fields = &fields;
  for (size_t pos = b.entries_off; pos < b.data.size();) {
    const EntryPos e = decode_at(b, pos);
    entry_fields(b, e, master, fields);
    raw.id = e.id;
    raw.deleted = e.flags & kFlagDeleted;
    raw.same_fields = e.flags & kFlagSameFields;
    fn(raw);
    pos = e.end;
  }
}

void StreamValue::load_block(StreamID master, const std::string_view* master_fields, size_t n) {
  if (!blocks_.empty()) blocks_.back().data.shrink_to_fit();
  Block& b = blocks_.emplace_back();
  b.master = master;
  b.last = master;
  put_varint(b.data, n);
  b.lp_fixed = kLpHeaderAndEnd + lp_int_size(static_cast<int64_t>(n)) + lp_int_size(0);
  for (size_t i = 0; i < n; ++i) {
    put_string(b.data, master_fields[i]);
    b.lp_fixed += lp_str_size(master_fields[i]);
  }
  b.entries_off = static_cast<uint32_t>(b.data.size());
}

void StreamValue::load_entry(StreamID id, bool deleted, const std::string_view* fv, size_t numfields) {
  Block& b = blocks_.back();
  uint8_t flags = deleted ? kFlagDeleted : 0;
  size_t pos = 0;
  if (get_varint(b.data.data(), pos) == numfields) {
    size_t i = 0;
    for (; i < numfields; ++i)
      if (get_string(b.data, pos) != fv[i * 2]) break;
    if (i == numfields) flags |= kFlagSameFields;
  }
  append_entry(b, id, flags, fv, numfields);
  if (deleted) {
    ++b.deleted;
  } else {
    ++b.live;
    ++length_;
  }
}

// ---------------------------------------------------------------------------
// Iterator

StreamValue::Iterator::Iterator(const StreamValue& s, StreamID start, StreamID end, bool reverse)
    : s_(s), start_(start), end_(end), reverse_(reverse) {
  if (!reverse_) {
    block_ = s_.block_for(start_);
  } else {
    auto it = std::partition_point(s_.blocks_.begin(), s_.blocks_.end(),
                                   [&](const Block& b) { return b.master <= end_; });
    block_ = static_cast<size_t>(it - s_.blocks_.begin());
  }
}

bool StreamValue::Iterator::next(StreamID& id) {
  while (!done_) {
    if (!reverse_) {
      if (block_ >= s_.blocks_.size()) break;
      const Block& b = s_.blocks_[block_];
      if (!block_loaded_) {
        pos_ = b.entries_off;
        master_fields(b, master_);
        block_loaded_ = true;
      }
      if (pos_ >= b.data.size()) {
        ++block_;
        block_loaded_ = false;
        continue;
      }
      EntryPos e = decode_at(b, pos_);
      pos_ = e.end;
      if (e.id < start_) continue;
      if (e.id > end_) break;
      if (e.flags & kFlagDeleted) continue;
      entry_fields(b, e, master_, fields_);
      id = e.id;
      return true;
    }
    if (block_ == 0) break;
    const Block& b = s_.blocks_[block_ - 1];
    if (!block_loaded_) {
      pos_ = b.data.size();
      master_fields(b, master_);
      block_loaded_ = true;
    }
    if (pos_ <= b.entries_off) {
      --block_;
      block_loaded_ = false;
      continue;
    }
    const size_t off = entry_before(b, pos_);
    EntryPos e = decode_at(b, off);
    pos_ = off;
    if (e.id > end_) continue;
    if (e.id < start_) break;
    if (e.flags & kFlagDeleted) continue;
    entry_fields(b, e, master_, fields_);
    id = e.id;
    return true;
  }
  done_ = true;
  return false;
}

}  // namespace distcache::storage
