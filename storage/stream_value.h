#pragma once
// The stream type (XADD, XRANGE, consumer groups, ...).
//
// Entries live in blocks ("nodes" in Redis terms), each one contiguous buffer
// that holds many entries, kept in a vector ordered by ID. Like Redis's
// listpack nodes, a block stores the fields of its first entry once (the
// "master" fields); later entries with exactly those field names store only
// their values, and entry IDs are stored as deltas from the block's first
// ID. Deleted entries are only flagged (a block disappears when its last live
// entry goes). A block is closed, and a new one started, under the same rule
// as Redis (stream-node-max-bytes measured in Redis's listpack bytes, which
// each block tracks, and stream-node-max-entries), so that approximate
// trimming (MAXLEN ~ / MINID ~), which removes whole blocks only, and the
// XINFO radix-tree figures match redis-server.
//
// Entry layout inside a block buffer:
//   flags(1) | varint ms-delta | varint zigzag seq-delta | varint body-len |
//   body | back-length (varint read backwards: length of everything before it)
// body = values (same fields as the master) or varint n + n x (field, value);
// strings are varint length + bytes. The block buffer starts with the master
// fields: varint n + n x string.
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/collection.h"

namespace distcache::storage {

struct StreamID {
  uint64_t ms = 0;
  uint64_t seq = 0;

  friend auto operator<=>(const StreamID&, const StreamID&) = default;
  static constexpr StreamID min() { return {0, 0}; }
  static constexpr StreamID max() { return {UINT64_MAX, UINT64_MAX}; }
  bool is_zero() const { return ms == 0 && seq == 0; }

  // Next / previous ID. At the last (first) possible ID they wrap to 0-0
  // (max-max) and return false, as Redis's streamIncrID / streamDecrID.
  bool incr();
  bool decr();

  // "ms-seq"; `buf` must hold kMaxChars bytes. Returns the length.
  static constexpr size_t kMaxChars = 41;
  size_t format(char* buf) const;
  std::string to_string() const;
};

// One pending (delivered, not yet acknowledged) entry of a consumer group.
struct StreamConsumer;
struct StreamNack {
  int64_t delivery_time = 0;    // unix ms of the last delivery
  uint64_t delivery_count = 0;
  StreamConsumer* consumer = nullptr;
};

struct StreamConsumer {
  std::string name;
  int64_t seen_time = 0;        // unix ms of the last interaction
  std::set<StreamID> pel;       // IDs this consumer owns in the group's PEL
};

struct StreamGroup {
  static constexpr int64_t kInvalidEntriesRead = -1;
  StreamID last_id;
  int64_t entries_read = kInvalidEntriesRead;
  std::map<StreamID, StreamNack> pel;
  std::map<std::string, StreamConsumer, std::less<>> consumers;

  StreamConsumer* find_consumer(std::string_view name);
  // Creates the consumer; nullptr if it exists already.
  StreamConsumer* create_consumer(std::string_view name, int64_t now_ms);
  // Deletes the consumer and its pending entries; returns how many it had
  // (0 if it did not exist).
  uint64_t delete_consumer(std::string_view name);
  // Drops `id` from the PEL (group and owner). Returns whether it was there.
  bool remove_pending(StreamID id);
  // Gives an existing NACK to `to` (no-op if it owns it already).
  static void move_nack(StreamID id, StreamNack& nack, StreamConsumer* to);
};

// A field/value pair of an entry: views into the stream's buffers, valid
// until the stream is modified.
using StreamField = std::pair<std::string_view, std::string_view>;

class StreamValue final : public Collection {
 public:
  // Redis's listpack hard limit (STREAM_LISTPACK_MAX_SIZE).
  static constexpr uint64_t kListpackMaxSize = uint64_t{1} << 30;

  struct NodeLimits {
    int64_t max_bytes = 4096;   // stream-node-max-bytes (0 = no limit)
    int64_t max_entries = 100;  // stream-node-max-entries (0 = no limit)
  };

  enum class TrimStrategy { kNone, kMaxLen, kMinId };
  struct TrimArgs {
    TrimStrategy strategy = TrimStrategy::kNone;
    uint64_t maxlen = 0;
    StreamID minid;
    bool approx = false;
    int64_t limit = 0;  // 0 = no limit on the entries removed
  };

  StreamValue();
  ~StreamValue() override;
  StreamValue(const StreamValue& other);
  StreamValue& operator=(const StreamValue&) = delete;

  std::unique_ptr<Collection> clone() const override;
  std::string_view encoding_name() const override { return "stream"; }
  size_t heap_bytes() const override;
  size_t length() const override { return length_; }

  // --- metadata (Redis's stream struct fields)
  StreamID last_id() const { return last_id_; }
  StreamID first_id() const { return first_id_; }  // "recorded-first-entry-id"
  StreamID max_deleted_id() const { return max_deleted_id_; }
  uint64_t entries_added() const { return entries_added_; }
  void set_last_id(StreamID id) { last_id_ = id; }
  void set_entries_added(uint64_t n) { entries_added_ = n; }
  void set_max_deleted_id(StreamID id) { max_deleted_id_ = id; }

  // Appends an entry whose ID the caller checked to be > last_id().
  // `fv` holds field, value, field, value, ...
  void append(StreamID id, const std::string_view* fv, size_t numfields, const NodeLimits& limits);

  // XDEL of one ID: true if a live entry was deleted. Updates length and
  // first_id only as far as Redis's streamDeleteItem does (the caller
  // handles max_deleted_id / first_id like XDEL).
  bool remove(StreamID id);
  // Recomputes first_id after deletions (0-0 when empty).
  void refresh_first_id();

  // Removes entries per `args` (Redis's streamTrim); returns how many.
  int64_t trim(const TrimArgs& args);

  // Whether a live entry with this ID exists; optionally its fields.
  bool find(StreamID id, std::vector<StreamField>* fields = nullptr) const;
  // ID of the last / first live entry (length() must be > 0).
  StreamID last_valid_id() const;
  StreamID first_valid_id() const;

  // XINFO: number of blocks (radix-tree-keys) and the node count of the
  // radix tree Redis would hold for those block keys (radix-tree-nodes).
  size_t node_count() const;
  size_t radix_tree_nodes() const;

  // --- consumer-group bookkeeping (Redis's t_stream.c helpers)
  bool range_has_tombstones(StreamID start, StreamID end) const;
  // Logical read counter of `id`, or StreamGroup::kInvalidEntriesRead.
  int64_t estimate_distance_from_first_ever_entry(StreamID id) const;
  // The group's lag, or nullopt when it cannot be computed.
  std::optional<int64_t> group_lag(const StreamGroup& g) const;

  // Groups ordered by name; null map when the stream never had a group.
  using GroupMap = std::map<std::string, StreamGroup, std::less<>>;
  const GroupMap* groups() const { return groups_.get(); }
  size_t group_count() const { return groups_ ? groups_->size() : 0; }
  StreamGroup* find_group(std::string_view name);
  // Creates a group; nullptr if the name exists.
  StreamGroup* create_group(std::string_view name, StreamID last_id, int64_t entries_read);
  bool destroy_group(std::string_view name);

  // Iterates live entries with start <= id <= end, ascending or descending.
  class Iterator {
   public:
    Iterator(const StreamValue& s, StreamID start, StreamID end, bool reverse);
    // Next entry; false when done. fields() is valid until the next call.
    bool next(StreamID& id);
    const std::vector<StreamField>& fields() const { return fields_; }

   private:
    const StreamValue& s_;
    StreamID start_, end_;
    bool reverse_;
    bool done_ = false;
    size_t block_ = 0;    // current block index (reverse: index + 1, 0 = none)
    size_t pos_ = 0;      // next entry offset (reverse: end of the next entry)
    bool block_loaded_ = false;
    std::vector<std::string_view> master_;
    std::vector<StreamField> fields_;
  };

  // --- Block-level access for persistence (RDB files, DUMP / RESTORE).
  // A block is one of Redis's listpack nodes, keyed by its master ID; its
  // entries include the deleted ones (flagged), in ID order.
  struct RawEntry {
    StreamID id;
    bool deleted = false;
    bool same_fields = false;  // stored as values of the block's master fields
    const std::vector<StreamField>* fields = nullptr;
  };
  size_t block_count() const { return blocks_.size(); }
  StreamID block_master_id(size_t i) const { return blocks_[i].master; }
  uint32_t block_live_count(size_t i) const { return blocks_[i].live; }
  uint32_t block_deleted_count(size_t i) const { return blocks_[i].deleted; }
  void block_master_fields(size_t i, std::vector<std::string_view>& out) const { master_fields(blocks_[i], out); }
  // Calls fn(entry) for every entry of block i, deleted ones included.
  void for_each_block_entry(size_t i, const std::function<void(const RawEntry&)>& fn) const;

  // Rebuilding a stream block by block (the reverse of the above): start a
  // block with load_block(), then add its entries with load_entry() in
  // ascending ID order (the caller checks the order: every ID above the
  // previous one and not below the block's master ID). length() counts the
  // entries not deleted; the caller then sets the metadata (set_last_id,
  // set_first_id, set_max_deleted_id, set_entries_added) and the groups.
  void load_block(StreamID master, const std::string_view* master_fields, size_t n);
  void load_entry(StreamID id, bool deleted, const std::string_view* fv, size_t numfields);
  void set_first_id(StreamID id) { first_id_ = id; }

 private:
  struct Block {
    StreamID master;          // ID of the block's first entry (its key)
    StreamID last;            // ID of its last entry, deleted or not
    std::string data;         // master fields, then the entries
    uint32_t entries_off = 0; // offset of the first entry
    uint32_t live = 0;
    uint32_t deleted = 0;
    uint64_t lp_fixed = 0;    // Redis listpack bytes, except the live/deleted counters
    uint64_t lp_bytes() const;
  };
  // A decoded entry header.
  struct EntryPos {
    size_t off = 0;       // first byte (flags)
    size_t body = 0;      // first byte of the body
    size_t body_end = 0;  // end of the body (start of the back-length)
    size_t end = 0;       // end of the entry
    uint8_t flags = 0;
    StreamID id;
  };
  static EntryPos decode_at(const Block& b, size_t off);
  // Offset of the entry that ends at `end` (reverse walk).
  static size_t entry_before(const Block& b, size_t end);
  static void master_fields(const Block& b, std::vector<std::string_view>& out);
  static void entry_fields(const Block& b, const EntryPos& e, const std::vector<std::string_view>& master,
                           std::vector<StreamField>& out);
  friend class Iterator;

  // Writes one entry at the end of block b (flags: deleted / same-fields)
  // and accounts for its Redis listpack bytes; counters are the caller's.
  static void append_entry(Block& b, StreamID id, uint8_t flags, const std::string_view* fv, size_t numfields);

  // Index of the block that may hold `id` (first block whose last ID >= id), or blocks_.size().
  size_t block_for(StreamID id) const;

  std::vector<Block> blocks_;
  uint64_t length_ = 0;
  StreamID last_id_;
  StreamID first_id_;
  StreamID max_deleted_id_;
  uint64_t entries_added_ = 0;
  std::unique_ptr<GroupMap> groups_;
};

}  // namespace distcache::storage
