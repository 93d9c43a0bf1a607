#include "server/cluster/cluster_bus.h"

#include <fmt/format.h>

#include <boost/asio.hpp>
#include <charconv>
#include <deque>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "server/cluster/cluster_state.h"
#include "server/cluster/redirect.h"
#include "server/cluster/slot.h"
#include "server/config.h"
#include "server/log.h"
#include "server/server.h"
#include "server/shard_thread.h"

namespace distcache::server::cluster {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

int64_t now_ms() { return unix_time_ms(); }

bool to_int(std::string_view s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

class Bus;

struct Link : std::enable_shared_from_this<Link> {
  Link(asio::io_context& io, Bus& bus, bool outbound) : socket(io), bus(bus), outbound(outbound) {}
  tcp::socket socket;
  Bus& bus;
  bool outbound;
  std::string node_id;  // outbound: the node it links to; inbound: the sender once known
  bool connected = false;
  bool closed = false;
  asio::streambuf in{1 << 22};  // a longer line is not ours: the read fails and the link closes
  std::deque<std::string> queue;
  bool writing = false;
  int64_t created = 0;

  void send(std::string msg);
  void write_next();
  void read_next();
  void close();
};

class Bus {
 public:
  Bus(Server& server, ClusterState& st) : server_(server), st_(st), acceptor_(io_), timer_(io_) {}

  bool listen(std::string* error) {
    boost::system::error_code ec;
    // The first `bind` address (like Redis, the bus listens where clients do).
    std::string bind_addr = "0.0.0.0";
    {
      std::lock_guard<std::mutex> slock(st_.config().string_mutex);
      if (!st_.config().bind.empty()) {
        std::string first = st_.config().bind.front();
        if (!first.empty() && first[0] == '-') first.erase(0, 1);
        boost::system::error_code parse_ec;
        asio::ip::make_address(first, parse_ec);
        if (!parse_ec) bind_addr = first;
        else if (first == "::*") bind_addr = "::";
      }
    }
    tcp::endpoint ep(asio::ip::make_address(bind_addr), static_cast<unsigned short>(st_.bus_port()));
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(128, ec);
    if (ec) {
      *error = fmt::format("Could not bind the cluster bus port {}: {}", st_.bus_port(), ec.message());
      return false;
    }
    return true;
  }

  void start() {
    accept();
    schedule();
    thread_ = std::thread([this] { io_.run(); });
  }

  void stop() {
    asio::post(io_, [this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
      timer_.cancel();
      for (auto& [id, l] : outbound_) l->close();
      for (auto& w : inbound_)
        if (auto l = w.lock()) l->close();
      io_.stop();
    });
    if (thread_.joinable()) thread_.join();
  }

  // Our configuration changed (SETSLOT NODE): tell every node now, as Redis's
  // clusterBroadcastPong, instead of waiting for the next PING.
  void broadcast_pong() {
    asio::post(io_, [this] {
      std::lock_guard lock(st_.mutex());
      for (auto& [id, link] : outbound_) {
        if (!link->connected || link->closed) continue;
        Node* n = st_.find(id);
        if (!n || (n->flags & kHandshake)) continue;
        link->send(message("PONG", n));
      }
    });
  }

  void meet(const std::string& ip, int port, int cport) {
    asio::post(io_, [this, ip, port, cport] {
      std::lock_guard lock(st_.mutex());
      // Like Redis: a handshake node with a random name until the peer answers.
      for (auto& [id, n] : st_.nodes())
        if ((n->flags & kHandshake) && n->ip == ip && n->port == port) return;
      Node* n = st_.add_node(ClusterState::random_id(), ip, port, cport, kHandshake | kMeet);
      n->created = now_ms();
      connect(*n);
    });
  }

  ClusterState& state() { return st_; }
  void on_message(const std::shared_ptr<Link>& link, std::string_view line);
  void on_link_closed(Link& link);

 private:
  void accept() {
    auto link = std::make_shared<Link>(io_, *this, false);
    acceptor_.async_accept(link->socket, [this, link](const boost::system::error_code& ec) {
      if (ec) {
        if (ec == asio::error::operation_aborted) return;
        accept();
        return;
      }
      link->connected = true;
      link->created = now_ms();
      boost::system::error_code e2;
      link->socket.set_option(tcp::no_delay(true), e2);
      inbound_.push_back(link);
      link->read_next();
      accept();
    });
  }

  void schedule() {
    timer_.expires_after(std::chrono::milliseconds(100));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      cron();
      schedule();
    });
  }

  void connect(Node& n) {
    if (n.cport <= 0 || n.ip.empty()) return;
    auto link = std::make_shared<Link>(io_, *this, true);
    link->node_id = n.id;
    link->created = now_ms();
    outbound_[n.id] = link;
    if (n.ping_sent == 0) n.ping_sent = now_ms();  // unanswered until the first pong
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(n.ip, ec);
    if (ec) {
      link->closed = true;
      return;
    }
    tcp::endpoint ep(addr, static_cast<unsigned short>(n.cport));
    link->socket.async_connect(ep, [this, link](const boost::system::error_code& ec2) {
      if (link->closed) return;
      if (ec2) {
        link->close();
        return;
      }
      boost::system::error_code e;
      link->socket.set_option(tcp::no_delay(true), e);
      link->connected = true;
      std::lock_guard lock(st_.mutex());
      Node* node = st_.find(link->node_id);
      if (!node) {
        link->close();
        return;
      }
      learn_my_ip(link->socket.local_endpoint(e).address().to_string());
      node->link_connected = true;
      node->link_created = link->created;
      link->send(message(node->flags & kMeet ? "MEET" : "PING", node));
      node->flags &= ~kMeet;
      last_ping_[node->id] = now_ms();
      link->read_next();
    });
  }

  void learn_my_ip(const std::string& ip) {
    Node* me = st_.myself();
    if (!me->ip.empty()) return;
    {
      std::lock_guard<std::mutex> slock(st_.config().string_mutex);
      if (!st_.config().cluster_announce_ip.empty()) return;
    }
    me->ip = ip;
    st_.mark_dirty();
  }

  std::string slots_of_myself() {
    std::string out;
    Node* me = st_.myself();
    unsigned s = 0;
    while (s < kClusterSlots) {
      if (st_.owner(s) != me) {
        ++s;
        continue;
      }
      unsigned e = s;
      while (e + 1 < kClusterSlots && st_.owner(e + 1) == me) ++e;
      if (!out.empty()) out += ',';
      out += e == s ? std::to_string(s) : fmt::format("{}-{}", s, e);
      s = e + 1;
    }
    return out.empty() ? "-" : out;
  }

 public:
  // Requires the state's mutex held.
  std::string message(std::string_view type, const Node* to, std::string_view extra = {}) {
    Node* me = st_.myself();
    std::string announce;
    {
      std::lock_guard<std::mutex> slock(st_.config().string_mutex);
      announce = st_.config().cluster_announce_ip;
    }
    std::string msg = fmt::format("DCB1 {} {} {} {} {} {} {} {} ", type, me->id, announce.empty() ? "-" : announce,
                                  me->port, me->cport, me->config_epoch, st_.current_epoch(), slots_of_myself());
    std::string gossip;
    size_t count = 0;
    for (auto& [id, n] : st_.nodes()) {
      if (n.get() == me || n.get() == to || (n->flags & (kHandshake | kNoAddr)) || n->ip.empty()) continue;
      const char* flag = (n->flags & kFail) ? "fail" : (n->flags & kPfail) ? "pfail" : "ok";
      fmt::format_to(std::back_inserter(gossip), " {} {} {} {} {}", n->id, n->ip, n->port, n->cport, flag);
      ++count;
    }
    msg += std::to_string(count);
    msg += gossip;
    if (!extra.empty()) {
      msg += ' ';
      msg += extra;
    }
    msg += '\n';
    ++st_.sent_by_type[lower(type)];
    ++st_.messages_sent;
    return msg;
  }

 private:
  static std::string lower(std::string_view s) {
    std::string o(s);
    for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return o;
  }

  void broadcast_fail(const std::string& failing) {
    for (auto& [id, link] : outbound_) {
      if (!link->connected || link->closed) continue;
      Node* n = st_.find(id);
      if (!n || (n->flags & kHandshake)) continue;
      link->send(message("FAIL", n, failing));
    }
  }

  void cron() {
    redirect_blocked_clients(server_);  // (posted to the shards; like Redis's clientsCron)
    std::lock_guard lock(st_.mutex());
    const int64_t now = now_ms();
    const int64_t timeout = std::max<int64_t>(st_.config().cluster_node_timeout, 100);
    const int64_t interval = std::clamp<int64_t>(timeout / 4, 100, 1000);
    // Links of nodes that are gone.
    for (auto it = outbound_.begin(); it != outbound_.end();) {
      Node* n = st_.find(it->first);
      if (!n || it->second->closed) {
        if (!it->second->closed) it->second->close();
        if (n) n->link_connected = false;
        it = outbound_.erase(it);
      } else {
        ++it;
      }
    }
    inbound_.erase(std::remove_if(inbound_.begin(), inbound_.end(), [](auto& w) { return w.expired(); }),
                   inbound_.end());
    std::vector<Node*> all;
    for (auto& [id, n] : st_.nodes()) all.push_back(n.get());
    for (Node* n : all) {
      if (n == st_.myself()) continue;
      if ((n->flags & kHandshake) && now - n->created > std::max<int64_t>(timeout, 1000)) {
        auto it = outbound_.find(n->id);
        if (it != outbound_.end()) {
          it->second->close();
          outbound_.erase(it);
        }
        st_.remove_node(n);
        continue;
      }
      auto it = outbound_.find(n->id);
      if (it == outbound_.end()) {
        connect(*n);
        continue;
      }
      Link& link = *it->second;
      if (!link.connected) continue;
      // An old unanswered ping: the link may be stuck; reconnect.
      if (n->ping_sent && now - n->ping_sent > timeout / 2 && now - link.created > timeout / 2) {
        link.close();
        outbound_.erase(it);
        n->link_connected = false;
        continue;
      }
      if (n->ping_sent == 0 && now - last_ping_[n->id] >= interval) {
        link.send(message("PING", n));
        n->ping_sent = now;
        last_ping_[n->id] = now;
      }
    }
    // Failure detection.
    int size = 0;
    for (auto& [id, n] : st_.nodes())
      if ((n->flags & kMaster) && n->slot_count > 0) ++size;
    const int quorum = size / 2 + 1;
    for (Node* n : all) {
      if (n == st_.myself() || !st_.find(n->id)) continue;
      if (n->flags & kHandshake) continue;
      if (n->ping_sent && now - n->ping_sent > timeout && !(n->flags & (kPfail | kFail))) {
        n->flags |= kPfail;
        log(LogLevel::kNotice, "*** NODE {} possibly failing", n->id);
      }
      for (auto r = n->fail_reports.begin(); r != n->fail_reports.end();)
        r = now - r->second > timeout * 2 ? n->fail_reports.erase(r) : std::next(r);
      if ((n->flags & kPfail) && !(n->flags & kFail)) {
        int votes = 0;
        for (auto& [reporter, t] : n->fail_reports) {
          Node* rn = st_.find(reporter);
          if (rn && (rn->flags & kMaster) && rn->slot_count > 0) ++votes;
        }
        Node* me = st_.myself();
        if (me->slot_count > 0) ++votes;
        if (votes >= quorum || size == 0) {
          n->flags &= ~kPfail;
          n->flags |= kFail;
          n->fail_time = now;
          log(LogLevel::kNotice, "Marking node {} as failing (quorum reached).", n->id);
          broadcast_fail(n->id);
          st_.mark_dirty();
        }
      }
      if ((n->flags & kFail) && n->ping_sent == 0 &&
          (n->slot_count == 0 || now - n->fail_time > timeout * 2)) {
        n->flags &= ~kFail;
        log(LogLevel::kNotice, "Clear FAIL state for node {}: is reachable again.", n->id);
        st_.mark_dirty();
      }
    }
    st_.update_state(now);
    if (st_.take_dirty()) st_.save();
  }

  Server& server_;
  ClusterState& st_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::steady_timer timer_;
  std::thread thread_;
  std::map<std::string, std::shared_ptr<Link>> outbound_;
  std::vector<std::weak_ptr<Link>> inbound_;
  std::map<std::string, int64_t> last_ping_;

  friend struct Link;

 public:
  std::map<std::string, std::shared_ptr<Link>>& outbound() { return outbound_; }
};

void Link::send(std::string msg) {
  if (closed) return;
  queue.push_back(std::move(msg));
  if (!writing) write_next();
}

void Link::write_next() {
  if (queue.empty() || closed) {
    writing = false;
    return;
  }
  writing = true;
  auto self = shared_from_this();
  asio::async_write(socket, asio::buffer(queue.front()), [self](const boost::system::error_code& ec, size_t) {
    if (ec) {
      self->close();
      return;
    }
    self->queue.pop_front();
    self->write_next();
  });
}

void Link::read_next() {
  auto self = shared_from_this();
  asio::async_read_until(socket, in, '\n', [self](const boost::system::error_code& ec, size_t n) {
    if (ec || self->closed) {
      self->close();
      return;
    }
    std::string line(asio::buffers_begin(self->in.data()), asio::buffers_begin(self->in.data()) + n - 1);
    self->in.consume(n);
    self->bus.on_message(self, line);
    if (!self->closed) self->read_next();
  });
}

void Link::close() {
  if (closed) return;
  closed = true;
  boost::system::error_code ec;
  socket.close(ec);
  bus.on_link_closed(*this);
}

void Bus::on_link_closed(Link& link) {
  std::lock_guard lock(st_.mutex());
  if (link.node_id.empty()) return;
  Node* n = st_.find(link.node_id);
  if (!n) return;
  if (link.outbound)
    n->link_connected = false;
  else
    n->inbound_connected = false;
}

void Bus::on_message(const std::shared_ptr<Link>& link, std::string_view line) {
  auto f = split_ws(line);
  if (f.size() < 10 || f[0] != "DCB1") {
    link->close();
    return;
  }
  std::string type(f[1]);
  std::string sender_id(f[2]);
  std::string_view hdr_ip = f[3];
  int64_t port = 0, cport = 0, cfg_epoch = 0, cur_epoch = 0, ngossip = 0;
  if (!to_int(f[4], port) || !to_int(f[5], cport) || !to_int(f[6], cfg_epoch) || !to_int(f[7], cur_epoch) ||
      !to_int(f[9], ngossip) || ngossip < 0 || static_cast<uint64_t>(ngossip) > (f.size() - 10) / 5) {
    link->close();
    return;
  }
  std::string_view slots = f[8];
  const int64_t now = now_ms();
  boost::system::error_code ec;
  std::string remote_ip = link->socket.remote_endpoint(ec).address().to_string();
  std::string local_ip = link->socket.local_endpoint(ec).address().to_string();

  std::lock_guard lock(st_.mutex());
  ++st_.messages_received;
  ++st_.received_by_type[lower(type)];
  Node* me = st_.myself();
  if (sender_id == me->id) return;
  Node* sender = st_.find(sender_id);

  if (!link->outbound) {
    if (type == "MEET") {
      learn_my_ip(local_ip);
      if (!sender && !st_.blacklisted(sender_id, now)) {
        sender = st_.add_node(sender_id, hdr_ip == "-" ? remote_ip : std::string(hdr_ip), static_cast<int>(port),
                              static_cast<int>(cport), kMaster);
        sender->pong_received = now;
      }
    }
    if (type == "MEET" || type == "PING") link->send(message("PONG", sender));
    if (sender) {
      link->node_id = sender_id;
      if (!sender->inbound_connected) sender->inbound_created = link->created;
      sender->inbound_connected = true;
    }
  } else {
    Node* linked = st_.find(link->node_id);
    if (!linked) return;
    if (type == "PONG" && (linked->flags & kHandshake)) {
      // The handshake is complete: the node gets its real name.
      if (sender && sender != linked) {
        auto it = outbound_.find(linked->id);
        st_.remove_node(linked);
        if (it != outbound_.end()) {
          it->second->closed = true;
          boost::system::error_code e;
          it->second->socket.close(e);
          outbound_.erase(it);
        }
        return;
      }
      if (st_.blacklisted(sender_id, now)) return;
      auto owned = outbound_[linked->id];
      outbound_.erase(linked->id);
      st_.rename_node(linked, sender_id);
      linked->flags = kMaster;
      link->node_id = sender_id;
      outbound_[sender_id] = owned;
      sender = linked;
    } else if (sender != linked) {
      return;  // the peer is not who we thought (its id changed)
    }
  }
  if (!sender) return;

  // Address and liveness.
  sender->port = static_cast<int>(port);
  sender->cport = static_cast<int>(cport);
  if (hdr_ip != "-")
    sender->ip = std::string(hdr_ip);
  else if (sender->ip.empty() || (sender->flags & kNoAddr))
    sender->ip = remote_ip;
  sender->flags &= ~kNoAddr;
  if (type == "PONG") {
    sender->pong_received = now;
    sender->ping_sent = 0;
    if (sender->flags & kPfail) sender->flags &= ~kPfail;
  }

  // Epochs.
  if (static_cast<uint64_t>(cur_epoch) > st_.current_epoch()) {
    st_.set_current_epoch(static_cast<uint64_t>(cur_epoch));
    st_.mark_dirty();
  }
  if (static_cast<uint64_t>(cfg_epoch) > sender->config_epoch) {
    sender->config_epoch = static_cast<uint64_t>(cfg_epoch);
    st_.mark_dirty();
  }

  // Slot claims: a claim with a greater config epoch wins.
  if (type != "FAIL" && slots != "-") {
    size_t i = 0;
    while (i <= slots.size()) {
      size_t j = slots.find(',', i);
      if (j == std::string_view::npos) j = slots.size();
      std::string_view r = slots.substr(i, j - i);
      i = j + 1;
      size_t dash = r.find('-');
      int64_t a = 0, b = 0;
      if (dash == std::string_view::npos) {
        if (!to_int(r, a)) continue;
        b = a;
      } else if (!to_int(r.substr(0, dash), a) || !to_int(r.substr(dash + 1), b)) {
        continue;
      }
      if (a < 0 || b >= static_cast<int64_t>(kClusterSlots) || a > b) continue;
      for (int64_t s = a; s <= b; ++s) {
        unsigned slot = static_cast<unsigned>(s);
        Node* owner = st_.owner(slot);
        if (owner == sender) continue;
        if (st_.importing_from(slot)) continue;
        if (!owner || owner->config_epoch < sender->config_epoch) {
          if (owner == me && st_.migrating_to(slot)) st_.set_migrating(slot, nullptr);
          st_.assign_slot(slot, sender);
        }
      }
    }
  }
  // Config epoch collision: the node with the smaller id takes a new epoch.
  if (sender->config_epoch == me->config_epoch && me->id < sender->id && sender->slot_count + me->slot_count > 0) {
    st_.set_current_epoch(st_.current_epoch() + 1);
    me->config_epoch = st_.current_epoch();
    st_.mark_dirty();
  }

  // Gossip.
  const bool sender_votes = (sender->flags & kMaster) && sender->slot_count > 0;
  for (int64_t g = 0; g < ngossip; ++g) {
    size_t base = 10 + static_cast<size_t>(g) * 5;
    std::string gid(f[base]);
    std::string_view gip = f[base + 1];
    int64_t gport = 0, gcport = 0;
    to_int(f[base + 2], gport);
    to_int(f[base + 3], gcport);
    std::string_view gflags = f[base + 4];
    if (gid == me->id) continue;
    Node* n = st_.find(gid);
    if (n) {
      if (sender_votes) {
        if (gflags == "pfail" || gflags == "fail")
          n->fail_reports[sender->id] = now;
        else
          n->fail_reports.erase(sender->id);
      }
      continue;
    }
    if (gip == "-" || st_.blacklisted(gid, now) || gflags == "fail") continue;
    Node* added = st_.add_node(gid, std::string(gip), static_cast<int>(gport), static_cast<int>(gcport), kMaster);
    added->pong_received = 0;
  }

  if (type == "FAIL") {
    size_t idx = 10 + static_cast<size_t>(ngossip) * 5;
    if (idx < f.size()) {
      Node* failing = st_.find(f[idx]);
      if (failing && failing != me && !(failing->flags & kFail)) {
        failing->flags |= kFail;
        failing->flags &= ~kPfail;
        failing->fail_time = now;
        st_.mark_dirty();
      }
    }
  }
  st_.update_state(now);
}

Bus* g_bus = nullptr;  // never destroyed: its thread and sockets live until the process exits

}  // namespace

bool start(Server& server, std::string* error) {
  if (!init(server.config(), server.tcp_port(), error)) return false;
  // The per-slot key index (COUNTKEYSINSLOT, GETKEYSINSLOT, SETSLOT NODE): cluster
  // mode has database 0 only. Called before the shard threads start.
  for (unsigned i = 0; i < server.shard_count(); ++i)
    server.shard(i).keyspace().db(0).enable_key_groups(&key_hash_slot, kClusterSlots);
  g_bus = new Bus(server, *state());
  if (!g_bus->listen(error)) return false;
  g_bus->start();
  return true;
}

void stop() {
  if (!g_bus) return;
  g_bus->stop();
  if (ClusterState* st = state()) {
    std::lock_guard lock(st->mutex());
    if (st->take_dirty()) st->save();
  }
}

void meet(const std::string& ip, int port, int cport) {
  if (g_bus) g_bus->meet(ip, port, cport);
}

void broadcast_config() {
  if (g_bus) g_bus->broadcast_pong();
}

}  // namespace distcache::server::cluster
