#include "server/server.h"

#include "storage/access_meta.h"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <chrono>
#include <random>
#include <utility>
#include <thread>
#include <mutex>
#include <condition_variable>

#include "server/acl/acl.h"
#include "server/aof.h"
#include "server/cluster/cluster_bus.h"
#include "server/connection.h"
#include "server/log.h"
#include "server/memory_limit.h"
#include "server/ops.h"
#include "server/scripting/scripting.h"
#include "server/shard_thread.h"
#include "server/snapshot.h"

namespace distcache::server {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

int64_t unix_time_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t monotonic_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

// Accepts on the main thread's own loop and hands each new socket to the shards in turn. It
// must not share a shard's loop: a long script or command there would stall every new client
// and the shutdown signal.
class Listener {
 public:
  Listener(Server& server, asio::io_context& io) : server_(server), io_(io) {}

  // Binds every configured address; returns an error message or "".
  std::string bind(const std::vector<std::string>& addresses, int port, int backlog) {
    for (std::string addr : addresses) {
      bool optional = !addr.empty() && addr[0] == '-';
      if (optional) addr.erase(0, 1);
      if (addr == "*") addr = "0.0.0.0";
      if (addr == "::*") addr = "::";
      boost::system::error_code ec;
      auto ip = asio::ip::make_address(addr, ec);
      if (ec) {
        if (optional) continue;
        return fmt::format("Invalid bind address '{}'", addr);
      }
      auto acceptor = std::make_unique<tcp::acceptor>(io_);
      tcp::endpoint ep(ip, static_cast<unsigned short>(port));
      acceptor->open(ep.protocol(), ec);
      if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec && ip.is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
      if (!ec) acceptor->bind(ep, ec);
      if (!ec) acceptor->listen(backlog, ec);
      if (ec) {
        if (optional && ec != asio::error::address_in_use) continue;
        if (ec == asio::error::address_in_use)
          return fmt::format("Could not create server TCP listening socket {}:{}: bind: Address already in use "
                             "(port {} already in use)",
                             addr, port, port);
        return fmt::format("Could not create server TCP listening socket {}:{}: {}", addr, port, ec.message());
      }
      bound_port_ = acceptor->local_endpoint().port();
      acceptors_.push_back(std::move(acceptor));
    }
    if (acceptors_.empty()) return "Failed listening on any configured address";
    return "";
  }

  void start() {
    for (auto& a : acceptors_) accept(*a);
  }

  void stop() {
    for (auto& a : acceptors_) {
      boost::system::error_code ec;
      a->close(ec);
    }
  }

  int bound_port() const { return bound_port_; }

 private:
  void accept(tcp::acceptor& acceptor) {
    acceptor.async_accept([this, &acceptor](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) hand_over(server_.shard(next_++ % server_.shard_count()), std::move(socket));
      accept(acceptor);
    });
  }

  void hand_over(ShardThread& target, tcp::socket socket) {
    auto limit = server_.config().maxclients.load(std::memory_order_relaxed);
    if (server_.stats().connected_clients.load(std::memory_order_relaxed) >= limit) {
      server_.stats().rejected_connections.fetch_add(1, std::memory_order_relaxed);
      boost::system::error_code ec;
      static constexpr std::string_view kMessage = "-ERR max number of clients reached\r\n";
      socket.write_some(asio::buffer(kMessage.data(), kMessage.size()), ec);
      return;
    }
    boost::system::error_code peer_ec;  // protected mode: only loopback clients without a password
    auto peer = socket.remote_endpoint(peer_ec);
    if (!peer_ec && acl::protected_mode_refuses(server_.config(), peer.address().to_string())) {
      socket.write_some(asio::buffer(acl::kProtectedModeDenied.data(), acl::kProtectedModeDenied.size()), peer_ec);
      return;
    }
    // A thread running a script past busy-reply-threshold cannot start new clients: another one takes it.
    ShardThread& chosen = server_.shard(scripting::new_client_thread(target.index(), server_.shard_count()));
    boost::system::error_code release_ec;
    const int fd = socket.release(release_ec);
    if (release_ec) return;  // the socket is in an unknown state: drop the client
    // Started by `chosen`'s event loop, or, if a script keeps that thread busy
    // first, by the script's busy mode: whichever comes first.
    auto taken = std::make_shared<OwnedFd>(fd);
    auto adopt = [&chosen, taken](bool busy) {
      if (taken->fd < 0) return;  // already started by the other path
      auto conn = std::make_shared<Connection>(chosen, std::exchange(taken->fd, -1));
      chosen.add_connection(conn);
      if (busy)
        conn->start_while_busy();
      else
        conn->start();
    };
    auto offer = std::make_shared<uint64_t>(scripting::offer_new_client(chosen.index(), [adopt] { adopt(true); }));
    chosen.post([adopt, offer] {
      scripting::withdraw_new_client(*offer);
      adopt(false);
    });
  }

  // A descriptor closed with its owner unless taken.
  struct OwnedFd {
    explicit OwnedFd(int f) : fd(f) {}
    ~OwnedFd() {
      if (fd >= 0) ::close(fd);
    }
    int fd;
  };

  Server& server_;
  asio::io_context& io_;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
  unsigned next_ = 0;
  int bound_port_ = 0;
};

namespace {

std::string random_hex(size_t n) {
  std::random_device rd;
  std::mt19937_64 gen(rd());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(n, '0');
  for (auto& c : s) c = kHex[gen() & 15];
  return s;
}

// Raises RLIMIT_NOFILE so that maxclients connections fit, as Redis does.
void raise_open_files_limit(int64_t maxclients) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  rlim_t wanted = static_cast<rlim_t>(maxclients + 32);
  if (rl.rlim_cur >= wanted) return;
  rlim_t target = std::min<rlim_t>(wanted, rl.rlim_max);
  rl.rlim_cur = target;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
    log(LogLevel::kWarning, "Could not raise the open files limit to {}", wanted);
}

}  // namespace

Server::Server(Config& config) : config_(config) {
  unsigned threads = config.threads > 0 ? static_cast<unsigned>(config.threads)
                                        : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; ++i)
    shards_.push_back(std::make_unique<ShardThread>(*this, i, static_cast<size_t>(config.databases)));
  run_id_ = random_hex(40);
  aof_ = std::make_unique<Aof>(*this);
  config_.on_set = [this](std::string_view name) {
    aof_->on_config_set(name);
    memory_limit_config_changed(name);  // maxmemory-* / lfu-* (memory_limit.h)
    acl::config_changed(config_, name);  // requirepass -> default user (server/acl/acl.h)
  };
}

Server::~Server() { config_.on_set = nullptr; }

int Server::run() {
  start_time_ms_ = unix_time_ms();
  persistence_.lastsave_s.store(start_time_ms_ / 1000);
  raise_open_files_limit(config_.maxclients.load());
  if (auto acl_error = acl::init_from_config(config_)) {  // users, aclfile, requirepass (server/acl/acl.h)
    log(LogLevel::kWarning, "{}", *acl_error);
    return 1;
  }
  asio::io_context accept_loop;  // run by this (main) thread: accepts and signals only
  // The listener's acceptors belong to accept_loop: destroy them before it on every
  // return (~Server was too late: heap-use-after-free at every exit under ASan).
  struct ListenerReset {
    std::unique_ptr<Listener>& listener;
    ~ListenerReset() { listener.reset(); }
  } listener_reset{listener_};
  post_to_accept_loop_ = [&accept_loop](std::function<void()> fn) { asio::post(accept_loop, std::move(fn)); };
  listener_ = std::make_unique<Listener>(*this, accept_loop);
  std::string error = listener_->bind(config_.bind, config_.port, config_.tcp_backlog);
  if (!error.empty()) {
    log(LogLevel::kWarning, "{}", error);
    return 1;
  }
  bound_port_ = listener_->bound_port();

  // Signals are delivered to the accept loop; shutdown is then an ordinary event.
  asio::signal_set signals(accept_loop, SIGINT, SIGTERM);
  cancel_signal_wait_ = [&signals] {
    boost::system::error_code ec;
    signals.cancel(ec);
  };
  signals.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log(LogLevel::kWarning, "Received {} scheduling shutdown...", signo == SIGINT ? "SIGINT" : "SIGTERM");
    request_shutdown();
  });
  ::signal(SIGPIPE, SIG_IGN);

  if (!load_dataset()) return 1;
  if (config_.cluster_enabled && !cluster::start(*this, &error)) {  // server/cluster/cluster_bus.h
    log(LogLevel::kWarning, "{}", error);
    return 1;
  }
  listener_->start();
  log(LogLevel::kNotice, "Ready to accept connections tcp (port {}, {} threads)", bound_port_, shards_.size());
  ops::notify_supervisor_ready(config_);  // supervised systemd (server/ops.h)
  for (auto& s : shards_) s->start();
  aof_->start();
  accept_loop.run();  // returns once shutdown has closed the acceptors and cancelled the signal wait
  for (auto& s : shards_) s->join();
  post_to_accept_loop_ = nullptr;
  cluster::stop();
  if (shutdown_watchdog_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(shutdown_mutex_);
      threads_exited_ = true;
    }
    shutdown_cv_.notify_all();
    shutdown_watchdog_.join();
  }
  {
    std::lock_guard lock(snapshot_mutex_);
    if (running_snapshot_) {
      log(LogLevel::kWarning, "There is a background save in progress: cancelling it.");
      cancel_snapshot(*running_snapshot_);
      running_snapshot_.reset();
    }
  }
  aof_->shutdown();
  if (save_on_shutdown()) {
    log(LogLevel::kNotice, "Saving the final RDB snapshot before exiting.");
    SnapshotResult r = save_snapshot_stopped(*this);
    if (r.ok)
      log(LogLevel::kNotice, "DB saved on disk");
    else
      log(LogLevel::kWarning, "Error trying to save the DB: {}", r.error);
  }
  log(LogLevel::kWarning, "distcache is now ready to exit, bye bye...");
  return 0;
}

uint64_t Server::sum_counter(std::atomic<uint64_t> ThreadCounters::*field) const {
  uint64_t total = 0;
  for (const auto& s : shards_) total += (s->counters().*field).load(std::memory_order_relaxed);
  return total;
}

bool Server::load_dataset() {
  // Loaded keys' idle times count from the LRU clock: set it before the shards' crons run.
  storage::access::update_clock(unix_time_ms());
  // The AOF is preferred when it is on, as Redis does (dump.rdb is then not read).
  if (!aof_->load_manifest()) return false;
  if (config_.appendonly) return aof_->load_dataset() && aof_->open_on_start();
  SnapshotLoadResult r = load_snapshot_at_startup(*this);
  if (!r.found) return true;
  if (!r.ok) {
    log(LogLevel::kWarning, "Fatal error loading the DB: {}. Exiting.", r.error);
    return false;
  }
  log(LogLevel::kNotice, "Done loading RDB, keys loaded: {}, keys expired: {}.", r.keys_loaded, r.keys_expired);
  log(LogLevel::kNotice, "DB loaded from disk: {:.3f} seconds", r.duration_ms / 1000.0);
  return true;
}

bool Server::save_on_shutdown() const {
  switch (shutdown_save_.load()) {
    case ShutdownSave::kSave: return true;
    case ShutdownSave::kNoSave: return false;
    default: return !config_.get_string(config_.save).empty();
  }
}

uint64_t Server::dirty_count() const {
  return sum_counter(&ThreadCounters::dirty) + stats_.dirty.load(std::memory_order_relaxed);
}

void Server::set_running_snapshot(std::shared_ptr<SnapshotFile> file) {
  std::lock_guard lock(snapshot_mutex_);
  running_snapshot_ = std::move(file);
}

void Server::request_shutdown() {
  if (shutting_down_.exchange(true)) return;
  // Stop accepting, then let each thread flush and close its clients.
  post_to_accept_loop_([this] {
    listener_->stop();
    cancel_signal_wait_();  // the pending signal wait would keep the accept loop alive
    log(LogLevel::kWarning, "User requested shutdown...");
    for (auto& s : shards_) {
      ShardThread* shard = s.get();
      shard->post([shard] { shard->drain(); });
    }
  });
  // A client that never reads its replies must not hold the process up.
  shutdown_watchdog_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(shutdown_mutex_);
    if (!shutdown_cv_.wait_for(lock, std::chrono::seconds(5), [this] { return threads_exited_; }))
      for (auto& s : shards_) s->stop();
  });
}

}  // namespace distcache::server
