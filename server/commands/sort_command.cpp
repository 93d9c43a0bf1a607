// SORT and SORT_RO: the command specs and where the work runs.
//
// The sorting itself is in sort_logic.{h,cpp}. SORT is a connection-level
// command because BY and GET patterns name keys that are only known once the
// source has been read, and those can live on any shard:
//
//  * When every key involved is on one shard (no pattern reads another key,
//    or the server has a single shard, and the STORE destination is on the
//    source's shard), the whole command runs in one step on that shard, like
//    a keyed command: inline when it is the client's own shard, else posted
//    there; it waits while a transaction holds the source or destination.
//  * Otherwise it is a shard transaction (transaction.h): a shared
//    whole-shard lock on every shard when patterns read other keys (the
//    destination's shard exclusively for STORE), or key locks on the source
//    (shared) and the destination (exclusive) on their two shards. Under
//    those locks the source is read on its shard, the pattern keys are
//    fetched from their shards (one message per shard and stage), the
//    elements are sorted on the client's thread, and the STORE result is
//    written on the destination's shard. Clients blocked on the destination
//    are served after the locks are released.
//  * Inside EXEC the transaction already holds its locks and waits for this
//    command: SORT then takes no lock and waits for none (EXEC locks every
//    shard when it holds whole shards; otherwise SORT's own keys are read
//    without locks).
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/aof.h"
#include "server/cluster/slot.h"
#include "server/command.h"
#include "server/command_table.h"
#include "server/commands/sort_logic.h"
#include "server/config.h"
#include "server/connection_context.h"
#include "server/scripting/scripting.h"
#include "server/server.h"
#include "server/shard_thread.h"
#include "server/transaction.h"

namespace distcache::server {
namespace {

using sort::PatternRef;
using sort::SortJob;
using sort::SortOptions;
using Values = std::vector<std::optional<std::string>>;

// After the destination was written on its shard (its thread): the AOF,
// WATCH and keyspace notifications. Returns true when a list was stored.
bool after_store(ShardThread& shard, int db, const std::string& dest, sort::StoreOutcome outcome,
                 int64_t now_ms) {
  if (outcome == sort::StoreOutcome::kUnchanged) return false;
  const storage::Value* stored =
      outcome == sort::StoreOutcome::kStored ? shard.keyspace().db(static_cast<size_t>(db)).peek(dest, now_ms)
                                             : nullptr;
  aof_log_replaced_key(db, dest, stored, storage::kNoExpiry);
  if (!shard.watches().empty()) shard.watches().touch(db, dest);
  const uint32_t notify_flags = keyspace_notify_flags(shard.server().config());
  if (outcome == sort::StoreOutcome::kDeleted) {
    if (notify_flags & notify::kGeneric) notify_keyspace_event(notify::kGeneric, "del", dest, db);
    return false;
  }
  if (notify_flags & notify::kList) notify_keyspace_event(notify::kList, "sortstore", dest, db);
  return true;
}

int64_t list_fill(ShardThread& shard) {
  return shard.server().config().list_max_listpack_size.load(std::memory_order_relaxed);
}

// Writes the STORE result on the destination's shard (its thread): a list,
// or no key when the result is empty. Returns true when a list was stored.
bool store_result(ShardThread& shard, int db, const std::string& dest, const SortJob& job, int64_t now_ms) {
  auto outcome =
      sort::store_job_result(job, shard.keyspace().db(static_cast<size_t>(db)), dest, now_ms, list_fill(shard));
  return after_store(shard, db, dest, outcome, now_ms);
}

// Clients blocked on a list the command stored (BLPOP dest ...) get served.
void wake_destination(ShardThread& shard, int db, const std::string& dest) {
  if (shard.blocking().empty()) return;
  shard.blocking().keys_written(shard, db, {std::string_view(dest)});
}

// The whole command on the shard that owns its source, its destination and,
// when patterns read other keys, every key (a single-shard server).
// Returns whether a list was stored.
bool run_on_shard(ShardThread& shard, int db, int64_t now_ms, const std::string& source, SortJob& job,
                  protocol::ReplyBuilder& out) {
  auto outcome = sort::run_job_sync(job, shard.keyspace().db(static_cast<size_t>(db)), source, now_ms,
                                    list_fill(shard), out);
  return job.options().has_store && after_store(shard, db, job.options().store, outcome, now_ms);
}

void run_single_shard(ConnectionContext& ctx, unsigned shard_index, std::shared_ptr<SortJob> job,
                      std::string source, bool in_exec) {
  ShardThread& owner = ctx.server.shard(shard_index);
  ShardThread* home = &ctx.thread;
  const int db = ctx.session.db;
  const int64_t now_ms = ctx.now_ms;
  // The common case: the client's own shard, no transaction holding anything there.
  if (&owner == home && (in_exec || owner.locks().empty())) {
    if (run_on_shard(owner, db, now_ms, source, *job, ctx.reply)) wake_destination(owner, db, job->options().store);
    return;
  }
  const bool write = job->options().has_store;
  std::vector<std::string> names{source};
  if (write) names.push_back(job->options().store);
  auto ready = [&owner, db, names, write] { return !owner.locks().blocks(db, names, write); };
  if (&owner == home && ready()) {
    if (run_on_shard(owner, db, now_ms, source, *job, ctx.reply)) wake_destination(owner, db, job->options().store);
    return;
  }

  protocol::ReplyBuilder* reply = &ctx.reply;
  const int resp = ctx.session.resp;
  // `resume` keeps the connection alive: it travels with the work and is run
  // and dropped on the client's thread only.
  auto work = [&owner, home, reply, resp, db, now_ms, job, source = std::move(source),
               resume = ctx.suspend()]() mutable {
    auto out = std::make_shared<std::string>();
    protocol::ReplyBuilder builder(out.get(), resp);
    if (run_on_shard(owner, db, now_ms, source, *job, builder)) wake_destination(owner, db, job->options().store);
    home->post([reply, out, resume = std::move(resume)]() mutable {
      reply->raw(*out);
      auto finished = std::move(resume);
      finished();
    });
  };
  if (in_exec) {
    owner.post(std::move(work));
    return;
  }
  if (&owner == home) {
    owner.run_when(std::move(ready), std::move(work));
    return;
  }
  owner.post([&owner, ready = std::move(ready), work = std::move(work)]() mutable {
    owner.run_when(std::move(ready), std::move(work));
  });
}

// A SORT whose keys are spread over several shards; see the top of the file.
class SortRun : public std::enable_shared_from_this<SortRun> {
 public:
  SortRun(ConnectionContext& ctx, std::shared_ptr<SortJob> job, std::string source)
      : server_(ctx.server),
        home_(ctx.thread),
        reply_(ctx.reply),
        db_(ctx.session.db),
        now_ms_(ctx.now_ms),
        job_(std::move(job)),
        source_(std::move(source)),
        src_shard_(shard_of_key(source_, server_.shard_count())),
        dst_shard_(job_->options().has_store ? shard_of_key(job_->options().store, server_.shard_count())
                                             : src_shard_) {}

  void start(ConnectionContext& ctx, bool in_exec) {
    resume_ = ctx.suspend();
    auto self = shared_from_this();
    if (in_exec) {
      load();
      return;
    }
    // The source is read when its shard is locked, which saves a round trip.
    auto steps = lock_steps();
    for (auto& step : steps)
      if (step.shard == src_shard_) step.on_locked = [self](ShardThread& shard) { self->load_on(shard); };
    run_shard_transaction_async(
        server_, home_, std::move(steps),
        [self](ReleaseFn release) {
          self->release_ = std::move(release);
          self->after_load();
        },
        [self] { self->after_release(); },
        // Answered BUSY while waiting (a script runs past busy-reply-threshold):
        // it never runs; the on_locked step above only reads.
        scripting::busy_answerable(ctx.connection(), [self] { self->resume_ = nullptr; }));
  }

 private:
  const SortOptions& opts() const { return job_->options(); }

  std::vector<ShardStep> lock_steps() const {
    std::vector<ShardStep> steps;
    if (opts().reads_other_keys()) {
      for (unsigned s = 0; s < server_.shard_count(); ++s) {
        ShardStep step;
        step.shard = s;
        step.lock.whole_shard = true;
        step.lock.exclusive = opts().has_store && s == dst_shard_;
        steps.push_back(std::move(step));
      }
      return steps;
    }
    // Source and destination on two different shards.
    ShardStep src;
    src.shard = src_shard_;
    src.lock.keys.push_back({db_, source_});
    ShardStep dst;
    dst.shard = dst_shard_;
    dst.lock.keys.push_back({db_, opts().store});
    dst.lock.exclusive = true;
    if (src.shard < dst.shard) {
      steps.push_back(std::move(src));
      steps.push_back(std::move(dst));
    } else {
      steps.push_back(std::move(dst));
      steps.push_back(std::move(src));
    }
    return steps;
  }

  // Runs `fn` on shard `index`'s thread, then `then` back on the client's thread.
  void on_shard(unsigned index, std::function<void(ShardThread&)> fn, std::function<void()> then) {
    ShardThread& shard = server_.shard(index);
    ShardThread* home = &home_;
    shard.post([&shard, home, fn = std::move(fn), then = std::move(then)]() mutable {
      fn(shard);
      home->post(std::move(then));
    });
  }

  // On the source's shard.
  void load_on(ShardThread& shard) {
    storage::Db& d = shard.keyspace().db(static_cast<size_t>(db_));
    wrongtype_ = !job_->load(d.find(source_, now_ms_));
  }

  void load() {
    auto self = shared_from_this();
    on_shard(
        src_shard_, [self](ShardThread& shard) { self->load_on(shard); }, [self] { self->after_load(); });
  }

  void after_load() {
    if (wrongtype_) {
      reply_.error(errors::kWrongType);
      finish();
      return;
    }
    auto refs = job_->by_lookups();
    if (refs.empty()) {
      after_by();
      return;
    }
    auto self = shared_from_this();
    resolve(std::move(refs), [self](Values values) {
      self->job_->set_by_values(std::move(values));
      self->after_by();
    });
  }

  void after_by() {
    if (!job_->sort()) {
      reply_.error(sort::kScoreError);
      finish();
      return;
    }
    auto refs = job_->get_lookups();
    if (refs.empty()) {
      output();
      return;
    }
    auto self = shared_from_this();
    resolve(std::move(refs), [self](Values values) {
      self->job_->set_get_values(std::move(values));
      self->output();
    });
  }

  void output() {
    if (!opts().has_store) {
      job_->write_reply(reply_);
      finish();
      return;
    }
    auto self = shared_from_this();
    on_shard(
        dst_shard_,
        [self](ShardThread& shard) {
          self->stored_ = store_result(shard, self->db_, self->opts().store, *self->job_, self->now_ms_);
        },
        [self] {
          self->reply_.integer(static_cast<int64_t>(self->job_->output_length()));
          self->finish();
        });
  }

  // Reads the keys of `refs` on their shards, then calls `then` on the client's thread.
  void resolve(std::vector<PatternRef> refs, std::function<void(Values)> then) {
    struct Batch {
      std::vector<PatternRef> refs;
      Values values;
      std::atomic<unsigned> remaining{0};
      std::function<void(Values)> then;
    };
    auto batch = std::make_shared<Batch>();
    batch->refs = std::move(refs);
    batch->values.resize(batch->refs.size());
    batch->then = std::move(then);
    const unsigned shard_count = server_.shard_count();
    std::vector<std::vector<uint32_t>> per_shard(shard_count);
    for (size_t i = 0; i < batch->refs.size(); ++i)
      per_shard[shard_of_key(batch->refs[i].key, shard_count)].push_back(static_cast<uint32_t>(i));
    unsigned busy = 0;
    for (const auto& v : per_shard) busy += v.empty() ? 0 : 1;
    batch->remaining = busy;
    auto self = shared_from_this();
    for (unsigned s = 0; s < shard_count; ++s) {
      if (per_shard[s].empty()) continue;
      ShardThread& shard = server_.shard(s);
      shard.post([self, batch, &shard, indexes = std::move(per_shard[s])] {
        storage::Db& d = shard.keyspace().db(static_cast<size_t>(self->db_));
        for (uint32_t i : indexes)
          batch->values[i] = sort::pattern_value(d.find(batch->refs[i].key, self->now_ms_), batch->refs[i]);
        if (batch->remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
        self->home_.post([batch] { batch->then(std::move(batch->values)); });
      });
    }
  }

  void finish() {
    if (release_) {
      auto release = std::move(release_);
      release();  // unlocks every shard, then runs after_release()
    } else {
      after_release();
    }
  }

  void after_release() {
    if (stored_) {
      ShardThread& shard = server_.shard(dst_shard_);
      shard.post([&shard, db = db_, dest = opts().store] { wake_destination(shard, db, dest); });
    }
    auto resume = std::move(resume_);
    if (resume) resume();
  }

  Server& server_;
  ShardThread& home_;
  protocol::ReplyBuilder& reply_;
  const int db_;
  const int64_t now_ms_;
  std::shared_ptr<SortJob> job_;
  const std::string source_;
  const unsigned src_shard_;
  const unsigned dst_shard_;
  bool wrongtype_ = false;
  bool stored_ = false;
  ReleaseFn release_;
  std::function<void()> resume_;
};

void sort_generic(ConnectionContext& ctx, bool readonly) {
  SortOptions opts;
  if (auto error = sort::parse_sort_options(ctx.args, readonly, opts); !error.empty()) {
    ctx.reply.error(error);
    return;
  }
  auto job = std::make_shared<SortJob>(std::move(opts));
  const SortOptions& o = job->options();
  const unsigned shard_count = ctx.server.shard_count();
  std::string source(ctx.args[1]);
  const unsigned src_shard = shard_of_key(source, shard_count);
  const unsigned dst_shard = o.has_store ? shard_of_key(o.store, shard_count) : src_shard;
  // EXEC holds its locks until this command finishes: take none, wait for none.
  const bool in_exec = ctx.holds_all_shards || static_cast<bool>(ctx.suspend_override);
  if (src_shard == dst_shard && (shard_count == 1 || !o.reads_other_keys())) {
    run_single_shard(ctx, src_shard, std::move(job), std::move(source), in_exec);
    return;
  }
  std::make_shared<SortRun>(ctx, std::move(job), std::move(source))->start(ctx, in_exec);
}

void sort_command(ConnectionContext& ctx) { sort_generic(ctx, false); }
void sort_ro_command(ConnectionContext& ctx) { sort_generic(ctx, true); }

constexpr uint64_t kSortAcl = kAclSet | kAclSortedSet | kAclList | kAclSlow | kAclDangerous;
constexpr std::string_view kSortComplexity =
    "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned "
    "elements. When the elements are not sorted, complexity is O(N).";

// Key positions as Redis 7.0 reports them: the source (1 1 1) and movable
// keys; COMMAND GETKEYS adds SORT's STORE destination.
const CommandSpec kSortCommands[] = {
    {.name = "sort",
     .arity = -2,
     .flags = kCmdWrite | kCmdDenyOom,
     .acl = kAclWrite | kSortAcl,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .connection = sort_command,
     .find_keys = sort::sort_find_keys,
     .group = "generic",
     .summary = "Sorts the elements of a list, set or sorted set, optionally by or with other keys' values.",
     .since = "1.0.0",
     .complexity = kSortComplexity},
    {.name = "sort_ro",
     .arity = -2,
     .flags = kCmdReadonly | kCmdMovableKeys,
     .acl = kAclRead | kSortAcl,
     .first_key = 1,
     .last_key = 1,
     .key_step = 1,
     .connection = sort_ro_command,
     .group = "generic",
     .summary = "Sorts the elements of a list, set or sorted set; read-only SORT (no STORE).",
     .since = "7.0.0",
     .complexity = kSortComplexity},
};

}  // namespace

std::span<const CommandSpec> sort_command_specs() { return kSortCommands; }

}  // namespace distcache::server
