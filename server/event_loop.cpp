#include "server/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

namespace distcache::server {
namespace {

thread_local EventLoop* t_running = nullptr;  // the loop whose run() this thread is in

int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

[[noreturn]] void fail(const char* what) {
  throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

}  // namespace

EventLoop::EventLoop() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) fail("epoll_create1");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) fail("eventfd");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) fail("epoll_ctl");
}

EventLoop::~EventLoop() {
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(fn));
  }
  // The loop's own thread looks at the queue before it sleeps; another
  // thread wakes it, once until the loop has read the wake-up.
  if (t_running != this && !wake_pending_.exchange(true, std::memory_order_acq_rel)) wake();
}

void EventLoop::wake() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

void EventLoop::stop() {
  stopped_.store(true, std::memory_order_release);
  wake();
}

void EventLoop::watch(int fd, Handler* handler, std::shared_ptr<void> owner) {
  if (fd < 0) return;
  if (static_cast<size_t>(fd) >= watched_.size()) watched_.resize(static_cast<size_t>(fd) + 1);
  Watched& w = watched_[static_cast<size_t>(fd)];
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) fail("epoll_ctl(ADD)");
  if (!w.handler) ++watched_count_;
  w.handler = handler;
  w.owner = std::move(owner);
  w.events = EPOLLIN;
}

void EventLoop::want_write(int fd, bool on) {
  if (fd < 0 || static_cast<size_t>(fd) >= watched_.size()) return;
  Watched& w = watched_[static_cast<size_t>(fd)];
  if (!w.handler) return;
  const uint32_t events = on ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
  if (events == w.events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0) w.events = events;
}

void EventLoop::unwatch(int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= watched_.size()) return;
  Watched& w = watched_[static_cast<size_t>(fd)];
  if (!w.handler) return;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  w.handler = nullptr;
  w.events = 0;
  released_.push_back(std::move(w.owner));
  --watched_count_;
}

void EventLoop::at_turn_end(Handler* handler) {
  if (in_turn_)
    turn_end_.push_back(handler);
  else
    handler->on_turn_end();
}

void EventLoop::run_turn_end() {
  // A handler unwatched during the turn is still alive: its owner waits in
  // released_ until the next turn begins.
  for (size_t i = 0; i < turn_end_.size(); ++i) turn_end_[i]->on_turn_end();
  turn_end_.clear();
}

EventLoop::TimerId EventLoop::run_after(int64_t ms, std::function<void()> fn) {
  const TimerId id = ++next_timer_id_;
  // A blocking command's timeout may be centuries away (BLPOP k 9000000000000):
  // kept under 2^40 ms (~35 years), the deadline in µs cannot overflow.
  constexpr int64_t kMaxDelayMs = int64_t{1} << 40;
  const int64_t deadline = steady_us() + std::clamp<int64_t>(ms, 0, kMaxDelayMs) * 1000;
  timers_.emplace(std::make_pair(deadline, id), std::move(fn));
  timer_deadlines_.emplace(id, deadline);
  return id;
}

void EventLoop::cancel(TimerId id) {
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return;
  timers_.erase({it->second, id});
  timer_deadlines_.erase(it);
}

void EventLoop::run_posted() {
  {
    std::lock_guard lock(posted_mutex_);
    if (posted_.empty()) return;
    running_.swap(posted_);
  }
  for (auto& fn : running_) fn();
  running_.clear();
}

void EventLoop::run_due_timers() {
  if (timers_.empty()) return;
  const int64_t now = steady_us();
  // Only timers due now: one that a callback adds waits for the next turn.
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto node = timers_.extract(timers_.begin());
    timer_deadlines_.erase(node.key().second);
    node.mapped()();
  }
}

int EventLoop::next_timeout_ms() const {
  {
    std::lock_guard lock(posted_mutex_);
    if (!posted_.empty()) return 0;
  }
  if (timers_.empty()) return -1;
  const int64_t left_us = timers_.begin()->first.first - steady_us();
  if (left_us <= 0) return 0;
  return static_cast<int>(std::min<int64_t>((left_us + 999) / 1000, 1 << 30));
}

bool EventLoop::idle() const {
  std::lock_guard lock(posted_mutex_);
  return watched_count_ == 0 && timers_.empty() && posted_.empty();
}

void EventLoop::run() {
  t_running = this;
  constexpr int kMaxEvents = 256;
  epoll_event events[kMaxEvents];
  while (!stopped_.load(std::memory_order_acquire)) {
    run_posted();
    run_due_timers();
    released_.clear();
    if (stopped_.load(std::memory_order_acquire) || (draining_ && idle())) break;
    const int n = epoll_wait(epoll_fd_, events, kMaxEvents, next_timeout_ms());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("epoll_wait");
    }
    ready_.clear();
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t count;
        [[maybe_unused]] ssize_t r = ::read(wake_fd_, &count, sizeof(count));
        wake_pending_.store(false, std::memory_order_release);  // before the queue is looked at again
        continue;
      }
      if (static_cast<size_t>(fd) >= watched_.size() || !watched_[static_cast<size_t>(fd)].handler) continue;
      ready_.push_back({fd, watched_[static_cast<size_t>(fd)].handler, events[i].events});
    }
    // A handler may unwatch any descriptor (closing a client): each one is
    // checked again before it is called (an unwatched handler's owner lives
    // on in released_ until the turn ends, so no other takes its address).
    if (ready_.size() > 1)
      for (int stage = 0; stage < kPrepareStages; ++stage)
        for (const Ready& r : ready_)
          if ((r.events & EPOLLIN) && still_watched(r)) r.handler->prepare(stage);
    in_turn_ = true;
    for (const Ready& r : ready_) {
      if (!still_watched(r)) continue;
      r.handler->on_ready((r.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0,
                          (r.events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0);
    }
    run_turn_end();
    in_turn_ = false;
  }
  released_.clear();
  t_running = nullptr;
}

}  // namespace distcache::server
