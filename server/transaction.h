#pragma once
// Atomic, isolated work over several shards (see docs/architecture.md).
//
// The coordinator (the client's thread) visits the involved shards one after
// another in ascending shard order. On each shard it waits until the shard's
// intent locks allow its request, takes the locks and runs that shard's
// `on_locked` step. Once every shard is locked it runs `body` on the client's
// thread, then posts to each shard its `on_release` step followed by the
// release of the locks. Taking locks in one global order rules out deadlock;
// holding all of them until the body finished makes the whole thing one
// indivisible step for every other client (strict two-phase locking).
#include <functional>
#include <memory>
#include <vector>

#include "server/key_locks.h"

namespace distcache::server {

class ShardThread;
class Server;

struct ShardStep {
  unsigned shard = 0;
  LockRequest lock;
  std::function<void(ShardThread&)> on_locked;   // runs on the shard's thread, under the lock
  std::function<void(ShardThread&)> on_release;  // runs on the shard's thread, before unlocking
};

// For a client's command: the client may be answered (BUSY, a script runs
// past busy-reply-threshold) while its transaction still waits for a lock.
// `claim` runs on `home` once every lock is held and returns false when the
// client was answered meanwhile: the transaction then releases its locks
// without running any on_release step (the body never ran, nothing is
// written) and runs `abandoned` on `home` instead of `body` and `done`
// (which are destroyed there, uncalled). The on_locked steps have run by
// then: with a ClientClaim they may only read (gather copies, check slots).
struct ClientClaim {
  std::function<bool()> claim;
  std::function<void()> abandoned;
};

// Runs the transaction; `body` and then `done` run on `home` once all locks are held.
// `steps` must be sorted by shard and name each shard at most once.
void run_shard_transaction(Server& server, ShardThread& home, std::vector<ShardStep> steps,
                           std::function<void()> body, std::function<void()> done, ClientClaim client = {});

// The same with a body that finishes later (MULTI/EXEC runs its commands one
// after another, some on other threads): `body` runs on `home` once all locks
// are held and must eventually call `release` on `home`, which runs the
// on_release steps, unlocks every shard and then runs `done`.
using ReleaseFn = std::function<void()>;
void run_shard_transaction_async(Server& server, ShardThread& home, std::vector<ShardStep> steps,
                                 std::function<void(ReleaseFn release)> body, std::function<void()> done,
                                 ClientClaim client = {});

}  // namespace distcache::server
