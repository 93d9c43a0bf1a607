#include "server/cluster/cluster_state.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "server/config.h"
#include "server/log.h"

namespace distcache::server::cluster {
namespace {

std::unique_ptr<ClusterState> g_state;

bool parse_uint(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

ClusterState* state() { return g_state.get(); }

bool init(Config& config, int port, std::string* error) {
  g_state = std::make_unique<ClusterState>(config, port);
  if (!g_state->load_or_create(error)) {
    g_state.reset();
    return false;
  }
  return true;
}

bool parse_slot(std::string_view s, unsigned& slot) {
  uint64_t v;
  if (!parse_uint(s, v) || v >= kClusterSlots) return false;
  slot = static_cast<unsigned>(v);
  return true;
}

ClusterState::ClusterState(Config& config, int port) : config_(config), port_(port) {
  for (auto& r : route_) r.store(kUnassigned, std::memory_order_relaxed);
}

std::string ClusterState::random_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(40, '0');
  for (auto& c : id) c = kHex[rng() & 15];
  return id;
}

std::string ClusterState::shard_id_of(const std::string& node_id) {
  // A master is its own shard: a stable id derived from the node id.
  std::string s(node_id.rbegin(), node_id.rend());
  return s;
}

int ClusterState::announced_port() const {
  return config_.cluster_announce_port ? static_cast<int>(config_.cluster_announce_port) : port_;
}
int ClusterState::bus_port() const {
  return config_.cluster_port ? static_cast<int>(config_.cluster_port) : port_ + 10000;
}
int ClusterState::announced_bus_port() const {
  return config_.cluster_announce_bus_port ? static_cast<int>(config_.cluster_announce_bus_port) : bus_port();
}

std::string ClusterState::address(const Node& n) const { return fmt::format("{}:{}", n.ip, n.port); }

Node* ClusterState::find(std::string_view id) {
  auto it = nodes_.find(std::string(id));
  return it == nodes_.end() ? nullptr : it->second.get();
}

std::vector<Node*> ClusterState::nodes_sorted() {
  std::vector<Node*> out;
  if (myself_) out.push_back(myself_);
  for (auto& [id, n] : nodes_)
    if (n.get() != myself_) out.push_back(n.get());
  return out;
}

void ClusterState::refresh_route(unsigned slot) {
  uint8_t r = owner_[slot] == nullptr ? kUnassigned : owner_[slot] == myself_ ? kMine : kOther;
  if (migrating_[slot] || importing_[slot]) r |= kMoving;
  route_[slot].store(r, std::memory_order_relaxed);
}

void ClusterState::assign_slot(unsigned slot, Node* node) {
  if (owner_[slot] == node) return;
  if (owner_[slot]) --owner_[slot]->slot_count;
  owner_[slot] = node;
  if (node) ++node->slot_count;
  refresh_route(slot);
  dirty_ = true;
}

void ClusterState::set_migrating(unsigned slot, Node* to) {
  migrating_[slot] = to;
  refresh_route(slot);
  dirty_ = true;
}

void ClusterState::set_importing(unsigned slot, Node* from) {
  importing_[slot] = from;
  refresh_route(slot);
  dirty_ = true;
}

Node* ClusterState::add_node(std::string id, std::string ip, int port, int cport, uint32_t flags) {
  auto n = std::make_unique<Node>();
  n->id = std::move(id);
  n->ip = std::move(ip);
  n->port = port;
  n->cport = cport;
  n->flags = flags;
  n->created = 0;
  Node* raw = n.get();
  nodes_[raw->id] = std::move(n);
  dirty_ = true;
  return raw;
}

void ClusterState::remove_node(Node* node) {
  for (unsigned s = 0; s < kClusterSlots; ++s) {
    if (owner_[s] == node) assign_slot(s, nullptr);
    if (migrating_[s] == node) set_migrating(s, nullptr);
    if (importing_[s] == node) set_importing(s, nullptr);
  }
  for (auto& [id, n] : nodes_) n->fail_reports.erase(node->id);
  nodes_.erase(node->id);
  dirty_ = true;
}

void ClusterState::rename_node(Node* node, const std::string& new_id) {
  auto it = nodes_.find(node->id);
  auto owned = std::move(it->second);
  nodes_.erase(it);
  owned->id = new_id;
  nodes_[new_id] = std::move(owned);
  dirty_ = true;
}

bool ClusterState::blacklisted(const std::string& id, int64_t now_ms) {
  for (auto it = blacklist_.begin(); it != blacklist_.end();)
    it = it->second < now_ms ? blacklist_.erase(it) : std::next(it);
  return blacklist_.count(id) != 0;
}

void ClusterState::reset(bool hard) {
  for (unsigned s = 0; s < kClusterSlots; ++s) {
    assign_slot(s, nullptr);
    set_migrating(s, nullptr);
    set_importing(s, nullptr);
  }
  std::vector<Node*> others;
  for (auto& [id, n] : nodes_)
    if (n.get() != myself_) others.push_back(n.get());
  for (Node* n : others) remove_node(n);
  blacklist_.clear();
  if (hard) {
    current_epoch_ = 0;
    last_vote_epoch_ = 0;
    myself_->config_epoch = 0;
    rename_node(myself_, random_id());
  }
  myself_->flags = kMyself | kMaster;
  dirty_ = true;
}

bool ClusterState::bump_epoch_without_consensus() {
  uint64_t max_epoch = current_epoch_;
  for (auto& [id, n] : nodes_) max_epoch = std::max(max_epoch, n->config_epoch);
  if (myself_->config_epoch == 0 || myself_->config_epoch != max_epoch) {
    current_epoch_ = max_epoch + 1;
    myself_->config_epoch = current_epoch_;
    dirty_ = true;
    return true;
  }
  return false;
}

void ClusterState::update_state(int64_t now_ms) {
  if (first_update_ms_ == 0) first_update_ms_ = now_ms;
  bool ok = true;
  if (config_.cluster_require_full_coverage) {
    for (unsigned s = 0; s < kClusterSlots; ++s)
      if (!owner_[s] || (owner_[s]->flags & kFail)) {
        ok = false;
        break;
      }
  }
  int size = 0, reachable = 0;
  for (auto& [id, n] : nodes_) {
    if (!(n->flags & kMaster) || n->slot_count == 0) continue;
    ++size;
    if (!(n->flags & (kPfail | kFail))) ++reachable;
  }
  size_ = size;
  if (size > 0 && reachable < size / 2 + 1) ok = false;
  if (size == 0) ok = ok && !config_.cluster_require_full_coverage;
  ok_.store(ok, std::memory_order_relaxed);
}

std::string ClusterState::node_line(const Node& n, int64_t now_ms, bool for_file) {
  std::string flags;
  auto add = [&](std::string_view f) {
    if (!flags.empty()) flags += ',';
    flags += f;
  };
  if (n.flags & kMyself) add("myself");
  if (n.flags & kMaster) add("master");
  if (n.flags & kPfail) add("fail?");
  if (n.flags & kFail) add("fail");
  if (n.flags & kHandshake) add("handshake");
  if (n.flags & kNoAddr) add("noaddr");
  if (flags.empty()) add("noflags");
  const bool me = (n.flags & kMyself) != 0;
  int64_t pong = me ? now_ms / 1000 * 1000 : n.pong_received;
  const bool connected = me || n.link_connected;
  std::string line = fmt::format("{} {}:{}@{} {} - {} {} {} {}", n.id, n.ip, n.port, n.cport, flags,
                                 me ? 0 : n.ping_sent, pong, n.config_epoch, connected ? "connected" : "disconnected");
  (void)for_file;
  unsigned s = 0;
  while (s < kClusterSlots) {
    if (owner_[s] != &n) {
      ++s;
      continue;
    }
    unsigned e = s;
    while (e + 1 < kClusterSlots && owner_[e + 1] == &n) ++e;
    if (e == s)
      fmt::format_to(std::back_inserter(line), " {}", s);
    else
      fmt::format_to(std::back_inserter(line), " {}-{}", s, e);
    s = e + 1;
  }
  if (me) {
    for (unsigned i = 0; i < kClusterSlots; ++i) {
      if (migrating_[i]) fmt::format_to(std::back_inserter(line), " [{}->-{}]", i, migrating_[i]->id);
      if (importing_[i]) fmt::format_to(std::back_inserter(line), " [{}-<-{}]", i, importing_[i]->id);
    }
  }
  line += '\n';
  return line;
}

std::string ClusterState::nodes_text(int64_t now_ms, bool for_file) {
  std::string out;
  for (Node* n : nodes_sorted()) out += node_line(*n, now_ms, for_file);
  return out;
}

std::string ClusterState::info_text() {
  unsigned assigned = 0, ok = 0, pfail = 0, fail = 0;
  for (unsigned s = 0; s < kClusterSlots; ++s) {
    if (!owner_[s]) continue;
    ++assigned;
    if (owner_[s]->flags & kFail)
      ++fail;
    else if (owner_[s]->flags & kPfail)
      ++pfail;
    else
      ++ok;
  }
  std::string out = fmt::format(
      "cluster_state:{}\r\ncluster_slots_assigned:{}\r\ncluster_slots_ok:{}\r\ncluster_slots_pfail:{}\r\n"
      "cluster_slots_fail:{}\r\ncluster_known_nodes:{}\r\ncluster_size:{}\r\ncluster_current_epoch:{}\r\n"
      "cluster_my_epoch:{}\r\n",
      ok_.load() ? "ok" : "fail", assigned, ok, pfail, fail, nodes_.size(), size_, current_epoch_,
      myself_->config_epoch);
  for (const char* type : {"ping", "pong", "meet", "fail", "publish", "update"}) {
    auto it = sent_by_type.find(type);
    if (it != sent_by_type.end() && it->second)
      fmt::format_to(std::back_inserter(out), "cluster_stats_messages_{}_sent:{}\r\n", type, it->second);
  }
  fmt::format_to(std::back_inserter(out), "cluster_stats_messages_sent:{}\r\n", messages_sent.load());
  for (const char* type : {"ping", "pong", "meet", "fail", "publish", "update"}) {
    auto it = received_by_type.find(type);
    if (it != received_by_type.end() && it->second)
      fmt::format_to(std::back_inserter(out), "cluster_stats_messages_{}_received:{}\r\n", type, it->second);
  }
  fmt::format_to(std::back_inserter(out),
                 "cluster_stats_messages_received:{}\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n",
                 messages_received.load());
  return out;
}

namespace {
// cluster-config-file, relative to `dir` as in Redis (which chdirs to its dir).
std::string config_file_path(Config& config) {
  std::lock_guard<std::mutex> lock(config.string_mutex);
  const std::string& file = config.cluster_config_file;
  if (file.empty() || file[0] == '/' || config.dir.empty() || config.dir == ".") return file;
  return config.dir + "/" + file;
}
}  // namespace

bool ClusterState::save() {
  std::string text = nodes_text(0, true);
  fmt::format_to(std::back_inserter(text), "vars currentEpoch {} lastVoteEpoch {}\n", current_epoch_,
                 last_vote_epoch_);
  std::string path = config_file_path(config_);
  std::string tmp = path + ".tmp-" + std::to_string(getpid());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return false;
    f << text;
    f.flush();
    if (!f) return false;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return false;
  }
  dirty_ = false;
  return true;
}

bool ClusterState::parse_file(const std::string& text, std::string* error) {
  std::istringstream in(text);
  std::string line;
  struct Pending {
    Node* node;
    std::vector<std::string> slot_args;
  };
  std::vector<Pending> pending;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto f = split(line, ' ');
    if (f.empty()) continue;
    if (f[0] == "vars") {
      for (size_t i = 1; i + 1 < f.size(); i += 2) {
        uint64_t v = 0;
        parse_uint(f[i + 1], v);
        if (f[i] == "currentEpoch") current_epoch_ = v;
        if (f[i] == "lastVoteEpoch") last_vote_epoch_ = v;
      }
      continue;
    }
    if (f.size() < 8) {
      *error = "Unrecoverable error: corrupted cluster config file.";
      return false;
    }
    std::string_view addr = f[1];
    if (auto comma = addr.find(','); comma != std::string_view::npos) addr = addr.substr(0, comma);
    size_t at = addr.find('@');
    size_t colon = addr.substr(0, at).rfind(':');
    if (colon == std::string_view::npos) {
      *error = "Unrecoverable error: corrupted cluster config file.";
      return false;
    }
    uint64_t port = 0, cport = 0, epoch = 0;
    parse_uint(addr.substr(colon + 1, at == std::string_view::npos ? std::string_view::npos : at - colon - 1), port);
    if (at != std::string_view::npos) parse_uint(addr.substr(at + 1), cport);
    uint32_t flags = 0;
    for (auto fl : split(f[2], ',')) {
      if (fl == "myself") flags |= kMyself;
      if (fl == "master") flags |= kMaster;
      if (fl == "fail?") flags |= kPfail;
      if (fl == "fail") flags |= kFail;
      if (fl == "handshake") flags |= kHandshake;
      if (fl == "noaddr") flags |= kNoAddr;
    }
    if (flags & kHandshake) continue;  // handshakes do not survive a restart
    parse_uint(f[6], epoch);
    Node* n = add_node(std::string(f[0]), std::string(addr.substr(0, colon)), static_cast<int>(port),
                       static_cast<int>(cport), flags | kMaster);
    n->config_epoch = epoch;
    if (flags & kMyself) {
      if (myself_) {
        *error = "Unrecoverable error: corrupted cluster config file.";
        return false;
      }
      myself_ = n;
      n->flags = kMyself | kMaster;
    }
    Pending p{n, {}};
    for (size_t i = 8; i < f.size(); ++i) p.slot_args.emplace_back(f[i]);
    pending.push_back(std::move(p));
  }
  if (!myself_) {
    *error = "Unrecoverable error: corrupted cluster config file.";
    return false;
  }
  for (auto& p : pending) {
    for (auto& s : p.slot_args) {
      if (s.size() > 2 && s.front() == '[') {  // [slot->-id] or [slot-<-id]
        std::string_view body(s);
        body = body.substr(1, body.size() - 2);
        size_t dash = body.find('-');
        unsigned slot;
        if (dash == std::string_view::npos || !parse_slot(body.substr(0, dash), slot)) continue;
        std::string_view rest = body.substr(dash);
        if (rest.substr(0, 3) == "->-") {
          if (Node* t = find(rest.substr(3))) set_migrating(slot, t);
        } else if (rest.substr(0, 3) == "-<-") {
          if (Node* t = find(rest.substr(3))) set_importing(slot, t);
        }
        continue;
      }
      size_t dash = s.find('-');
      unsigned a, b;
      if (dash == std::string::npos) {
        if (parse_slot(s, a)) assign_slot(a, p.node);
      } else if (parse_slot(std::string_view(s).substr(0, dash), a) &&
                 parse_slot(std::string_view(s).substr(dash + 1), b)) {
        for (unsigned x = a; x <= b; ++x) assign_slot(x, p.node);
      }
    }
  }
  return true;
}

bool ClusterState::load_or_create(std::string* error) {
  std::lock_guard lock(mu_);
  std::string path = config_file_path(config_);
  std::ifstream f(path, std::ios::binary);
  bool loaded = false;
  if (f) {
    std::stringstream ss;
    ss << f.rdbuf();
    std::string text = ss.str();
    if (!text.empty()) {
      if (!parse_file(text, error)) return false;
      loaded = true;
      log(LogLevel::kNotice, "Node configuration loaded, I'm {}", myself_->id);
    }
  }
  if (!loaded) {
    myself_ = add_node(random_id(), "", 0, 0, kMyself | kMaster);
    log(LogLevel::kNotice, "No cluster configuration found, I'm {}", myself_->id);
  }
  myself_->port = announced_port();
  myself_->cport = announced_bus_port();
  {
    std::lock_guard<std::mutex> slock(config_.string_mutex);
    if (!config_.cluster_announce_ip.empty()) myself_->ip = config_.cluster_announce_ip;
  }
  update_state(0);
  if (!save()) {
    *error = fmt::format("Could not write the cluster config file {}", path);
    return false;
  }
  return true;
}

}  // namespace distcache::server::cluster
