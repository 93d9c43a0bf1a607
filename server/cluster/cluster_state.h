#pragma once
// Cluster mode (cluster-enabled yes): this node's view of the cluster — the
// nodes it knows, who serves each of the 16384 hash slots, the epochs, and the
// slots being moved (MIGRATING / IMPORTING). One process-wide instance, shared
// by the client threads (CLUSTER commands, redirections) and the cluster bus
// thread (cluster_bus.h); every access goes through its mutex, except the
// per-slot routing summary read by the redirection fast path (lock-free).
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "server/cluster/slot.h"

namespace distcache::server {

struct Config;

namespace cluster {

enum NodeFlag : uint32_t {
  kMyself = 1u << 0,
  kMaster = 1u << 1,
  kPfail = 1u << 2,
  kFail = 1u << 3,
  kHandshake = 1u << 4,
  kNoAddr = 1u << 5,
  kMeet = 1u << 6,  // send MEET (not PING) on the first link
};

struct Node {
  std::string id;  // 40 hex characters
  std::string ip;
  int port = 0;
  int cport = 0;
  uint32_t flags = kMaster;
  uint64_t config_epoch = 0;
  int64_t ping_sent = 0;      // ms of the oldest ping without pong (0 = none)
  int64_t pong_received = 0;  // ms
  int64_t fail_time = 0;
  int64_t created = 0;        // ms (handshake timeout)
  bool link_connected = false;       // our outbound link is up
  int64_t link_created = 0;
  bool inbound_connected = false;    // the peer's link to us is up
  int64_t inbound_created = 0;
  std::map<std::string, int64_t> fail_reports;  // reporting master id -> ms
  int slot_count = 0;
};

// Routing summary per slot, for the redirection fast path.
enum SlotRoute : uint8_t { kUnassigned = 0, kMine = 1, kOther = 2, kMoving = 4 /* migrating or importing */ };

class ClusterState {
 public:
  ClusterState(Config& config, int port);

  // Loads cluster-config-file, or creates a new node and writes the file.
  // Returns false (with *error) when the file exists but cannot be used.
  bool load_or_create(std::string* error);

  std::recursive_mutex& mutex() { return mu_; }
  Config& config() { return config_; }

  // --- everything below requires mutex() held
  Node* myself() { return myself_; }
  Node* find(std::string_view id);
  std::vector<Node*> nodes_sorted();  // myself first, then by id
  const std::map<std::string, std::unique_ptr<Node>>& nodes() const { return nodes_; }
  Node* owner(unsigned slot) { return owner_[slot]; }
  Node* migrating_to(unsigned slot) { return migrating_[slot]; }
  Node* importing_from(unsigned slot) { return importing_[slot]; }
  uint64_t current_epoch() const { return current_epoch_; }
  uint64_t last_vote_epoch() const { return last_vote_epoch_; }
  void set_current_epoch(uint64_t e) { current_epoch_ = e; }

  void assign_slot(unsigned slot, Node* node);  // node may be null (unassign)
  void set_migrating(unsigned slot, Node* to);
  void set_importing(unsigned slot, Node* from);
  Node* add_node(std::string id, std::string ip, int port, int cport, uint32_t flags);
  void remove_node(Node* node);  // drops its slots and references
  void rename_node(Node* node, const std::string& new_id);
  void blacklist(const std::string& id, int64_t until_ms) { blacklist_[id] = until_ms; }
  bool blacklisted(const std::string& id, int64_t now_ms);
  // CLUSTER RESET: forget every other node and all slots; HARD also new id and epochs 0.
  void reset(bool hard);
  // Recomputes cluster_state (ok/fail) and cluster_size.
  void update_state(int64_t now_ms);
  int cluster_size() const { return size_; }
  bool state_ok() const { return ok_.load(std::memory_order_relaxed); }
  // Writes cluster-config-file (Redis's nodes.conf format); false on I/O error.
  bool save();
  // Marks the config as changed: saved by the bus cron (or now with save()).
  void mark_dirty() { dirty_ = true; }
  bool take_dirty() {
    bool d = dirty_;
    dirty_ = false;
    return d;
  }
  // Bumps the epoch for myself without agreement (Redis's clusterBumpConfigEpochWithoutConsensus).
  bool bump_epoch_without_consensus();

  // CLUSTER NODES text ("\n"-terminated lines); `for_file` uses the file's form.
  std::string nodes_text(int64_t now_ms, bool for_file = false);
  std::string node_line(const Node& n, int64_t now_ms, bool for_file);
  std::string info_text();
  // Failure detection counters.
  std::atomic<uint64_t> messages_sent{0}, messages_received{0};
  std::map<std::string, uint64_t> sent_by_type, received_by_type;

  // --- lock-free (any thread)
  uint8_t route(unsigned slot) const { return route_[slot].load(std::memory_order_relaxed); }
  bool ok() const { return ok_.load(std::memory_order_relaxed); }

  static std::string random_id();
  static std::string shard_id_of(const std::string& node_id);

  // The address clients should use for `n` ("ip:port").
  std::string address(const Node& n) const;
  int announced_port() const;
  int bus_port() const;
  int announced_bus_port() const;

 private:
  void refresh_route(unsigned slot);
  bool parse_file(const std::string& text, std::string* error);

  Config& config_;
  int port_;
  std::recursive_mutex mu_;
  std::map<std::string, std::unique_ptr<Node>> nodes_;
  Node* myself_ = nullptr;
  uint64_t current_epoch_ = 0;
  uint64_t last_vote_epoch_ = 0;
  std::array<Node*, kClusterSlots> owner_{};
  std::array<Node*, kClusterSlots> migrating_{};
  std::array<Node*, kClusterSlots> importing_{};
  std::array<std::atomic<uint8_t>, kClusterSlots> route_{};
  std::atomic<bool> ok_{false};
  int size_ = 0;
  bool dirty_ = false;
  int64_t first_update_ms_ = 0;
  std::map<std::string, int64_t> blacklist_;
};

// The process's cluster state, or null when cluster mode is off.
ClusterState* state();
// Called once at startup when cluster-enabled is yes.
bool init(Config& config, int port, std::string* error);

// Parses a slot argument: "ERR Invalid or out of range slot" style errors are the caller's.
bool parse_slot(std::string_view s, unsigned& slot);

}  // namespace cluster
}  // namespace distcache::server
