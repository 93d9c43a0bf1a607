#pragma once
// The event loop of one shard thread: level-triggered epoll over its client
// sockets (as Redis's ae), closures posted from any thread (woken through an
// eventfd), and timers.
//
// It replaces Boost.Asio on the shard threads. Asio (Boost 1.74) starts every
// read with a speculative recv() that fails with EAGAIN when a client waits
// for its reply, which is always the case at pipeline 1: one system call of
// three per request (docs/performance.md). Here a socket is read only when
// epoll reports it readable, once per report, and replies are sent at once.
// Reads also happen synchronously in the loop, so no read has completed
// without being handled (which a script in busy mode must respect).
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace distcache::server {

class EventLoop {
 public:
  // Told that a watched file descriptor is ready (on the loop's thread).
  class Handler {
   public:
    virtual void on_ready(bool readable, bool writable) = 0;
    // When a turn finds several descriptors readable, each is first
    // prepared, all of them stage by stage: stage 0 may read input, stages
    // 1..kPrepareStages-1 ask the memory system for what handling it will
    // touch, so that the cache misses of all the clients overlap instead of
    // queueing one after another. on_ready then handles what was read.
    virtual void prepare(int stage) { (void)stage; }
    // Work a handler asked to finish at the end of the turn (at_turn_end).
    virtual void on_turn_end() {}

   protected:
    ~Handler() = default;
  };

  static constexpr int kPrepareStages = 4;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Any thread: `fn` runs on the loop's thread, in FIFO order with
  // everything posted before it.
  void post(std::function<void()> fn);
  // Any thread: run() returns as soon as it notices.
  void stop();

  // The loop's thread only, from here on (or before run() started).
  // Runs until stop(), or, after drain(), until nothing is left to do: no
  // watched descriptor, no timer and no posted work.
  void run();
  void drain() { draining_ = true; }

  // Watches `fd`: readable reports always, writable ones while asked for
  // (want_write). `owner` is kept alive while the descriptor is watched.
  void watch(int fd, Handler* handler, std::shared_ptr<void> owner);
  void want_write(int fd, bool on);
  // Stops watching (before the descriptor is closed).
  void unwatch(int fd);

  // From a handler's on_ready: calls its on_turn_end() once every descriptor
  // ready in this turn has been handled (at once when called outside a
  // turn). Connections send their replies so, as Redis does before it
  // sleeps: the replies of a turn leave in one burst, and a client on
  // another core is woken once per turn instead of once per reply (waking
  // a sleeping thread costs the sender an interprocessor interrupt).
  void at_turn_end(Handler* handler);
  // Runs the turn-end work asked for so far now (a script about to keep
  // the thread busy must not hold back replies already made).
  void run_turn_end();

  using TimerId = uint64_t;
  // Runs `fn` once, `ms` milliseconds from now; returns an id for cancel().
  TimerId run_after(int64_t ms, std::function<void()> fn);
  // No effect when the timer already ran or was cancelled.
  void cancel(TimerId id);

 private:
  struct Watched {
    Handler* handler = nullptr;
    std::shared_ptr<void> owner;
    uint32_t events = 0;
  };
  struct Ready {
    int fd;
    Handler* handler;
    uint32_t events;
  };
  bool still_watched(const Ready& r) const { return watched_[static_cast<size_t>(r.fd)].handler == r.handler; }

  void run_posted();
  void run_due_timers();
  int next_timeout_ms() const;
  bool idle() const;
  void wake();

  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: posted work is waiting
  std::atomic<bool> stopped_{false};
  bool draining_ = false;

  mutable std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> running_;  // the batch being run (reused)
  std::atomic<bool> wake_pending_{false};        // the eventfd was written and not yet read

  std::vector<Watched> watched_;  // by descriptor number
  std::vector<Ready> ready_;      // this turn's reports (reused)
  std::vector<Handler*> turn_end_;  // see at_turn_end (their owners outlive the turn)
  bool in_turn_ = false;            // handling this turn's reports
  size_t watched_count_ = 0;
  // Owners of descriptors unwatched during this turn: released after it, so
  // that a handler never destroys the object it runs in.
  std::vector<std::shared_ptr<void>> released_;

  // Timers ordered by (deadline in µs of the steady clock, id).
  std::map<std::pair<int64_t, TimerId>, std::function<void()>> timers_;
  std::unordered_map<TimerId, int64_t> timer_deadlines_;
  TimerId next_timer_id_ = 0;
};

}  // namespace distcache::server
