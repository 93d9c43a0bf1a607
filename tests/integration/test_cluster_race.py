"""Cluster mode (issue 5): the redirection decision and the command run as one
step on the shard that holds the keys. A mover migrates one slot back and
forth between two nodes (SETSLOT IMPORTING/MIGRATING, MIGRATE KEYS, SETSLOT
NODE), while clients that follow MOVED/ASK/TRYAGAIN themselves run MULTI/EXEC,
EVAL, LPUSH and BLPOP on keys of that slot. Every reply must be a correct
result or a redirection, and at the end every key of the slot lives on its
owner only, with nothing lost or counted twice.

Before the fix, a command whose redirection was decided on the connection's
thread (EXEC, scripts, blocking commands) could run on the owning shard after a
MIGRATE took its key away: an INCR then created a fresh counter on the old
node (duplicate replies, a key left on a node that does not serve the slot).

A client must not follow an ASK that is older than the migration it names:
the protocol has no way to tell, so a client thread held up between an ASK
and its ASKING (as Python threads are on a busy machine) could create the key
on a node that has finished importing, given the slot back and started
importing it again while the key still lives on the other node; MIGRATE then
fails with BUSYKEY. Redis behaves the same. MoveEpochs rules that out here
(the mover waits for ASK followers before each move); it is the test's own
coordination, not a server guarantee.
"""

import contextlib
import threading
import unittest

import harness

HOST = harness.HOST
TAG = "{race}"
ROUNDS = 300


class MoveEpochs:
    """Counts finished slot moves. A client follows an ASK only if no move
    finished since it sent the request that got the ASK, and holds a share
    while it does; the mover finishes a move only with no share held. So an
    ASK is followed to a node that still imports the slot, or that has just
    become its owner: never to one importing it again in a later move."""

    def __init__(self):
        self.cond = threading.Condition()
        self.finished = 0
        self.following = 0

    def follow(self, seen):
        """True (and a share held until done_following) if no move finished since `seen`."""
        with self.cond:
            if self.finished != seen:
                return False
            self.following += 1
            return True

    def done_following(self):
        with self.cond:
            self.following -= 1
            self.cond.notify_all()

    def finish_move(self):
        with self.cond:
            self.cond.wait_for(lambda: self.following == 0)
            self.finished += 1


def is_error(reply):
    return isinstance(reply, harness.RespError)


def redirect_of(reply):
    """(kind, port) for MOVED/ASK, ("TRYAGAIN", None), or None."""
    if not is_error(reply):
        return None
    msg = str(reply.message)
    if msg.startswith("MOVED ") or msg.startswith("ASK "):
        return msg.split()[0], int(msg.split()[2].rsplit(":", 1)[1])
    if msg.startswith("TRYAGAIN"):
        return "TRYAGAIN", None
    return None


class Client:
    """One connection per node; follows redirections like `redis-cli -c`."""

    def __init__(self, ports, start_port, epochs):
        self.conns = {p: harness.RawConnection(HOST, p, timeout=60) for p in ports}
        self.port = start_port
        self.redirects = 0
        self.epochs = epochs

    def close(self):
        for c in self.conns.values():
            c.close()

    def run(self, send, may_create=True):
        """`send(conn)` issues the request and returns its final reply.
        `may_create`: the command can create its key, so an ASK is followed
        only while it is current (MoveEpochs); BLPOP never creates one."""
        asking = False
        port = self.port
        seen = self.epochs.finished  # moves finished before the request that got an ASK was sent
        for _ in range(10000):
            conn = self.conns[port]
            following = False
            if asking and may_create:
                following = self.epochs.follow(seen)
                if not following:  # the slot moved since: start again from its owner
                    asking, port = False, self.port
                    conn = self.conns[port]
            if asking:
                assert conn.command("ASKING") == "OK"
            seen = self.epochs.finished
            try:
                reply = send(conn)
            finally:
                if following:
                    self.epochs.done_following()
            r = redirect_of(reply)
            if r is None:
                return reply
            self.redirects += 1
            kind, target = r
            if kind == "MOVED":
                self.port = port = target
                asking = False
            elif kind == "ASK":
                port = target
                asking = True
            else:  # TRYAGAIN: same node again
                asking = False
        raise AssertionError("too many redirections")


def exec_incr(key):
    def send(conn):
        assert conn.command("MULTI") == "OK"
        queued = conn.command("INCR", key)
        reply = conn.command("EXEC")
        if redirect_of(queued):  # refused while queueing: EXEC answers EXECABORT
            assert is_error(reply) and str(reply.message).startswith("EXECABORT"), reply
            return queued
        return reply
    return send


def command(*args):
    return lambda conn: conn.command(*args)


def two_node_cluster(stack):
    """Two nodes (--threads 2), slots 0-8191 on the first, the rest on the second."""
    bus_ports = [harness.free_port() for _ in range(2)]
    nodes = [stack.enter_context(harness.start_server(
        extra_args=["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                    "--cluster-port", str(bus)],
        distcache_args=["--threads", "2"])) for bus in bus_ports]
    a, b = nodes
    ca, cb = a.client(), b.client()
    ca.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 8191)
    cb.execute_command("CLUSTER", "ADDSLOTSRANGE", 8192, 16383)
    ca.execute_command("CLUSTER", "MEET", HOST, b.port, bus_ports[1])
    harness.wait_until(lambda: all(c.execute_command("CLUSTER", "INFO").decode().startswith("cluster_state:ok")
                           and len(c.execute_command("CLUSTER", "NODES").decode().splitlines()) == 2
                           for c in (ca, cb)), "cluster_state:ok", 30, interval=0.02)
    ids = {n.port: n.client().execute_command("CLUSTER", "MYID").decode() for n in nodes}
    return a, b, ids


def move_slot(slot, src, dst, ids, epochs_of_moves):
    cs, cd = src.client(), dst.client()
    cd.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[src.port])
    cs.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[dst.port])
    while True:
        keys = cs.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 5)
        if not keys:
            break
        reply = cs.execute_command("MIGRATE", HOST, dst.port, "", 0, 5000, "KEYS", *keys)
        assert reply in (b"OK", b"NOKEY"), reply
    cd.execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[dst.port])
    cs.execute_command("CLUSTER", "SETSLOT", slot, "NODE", ids[dst.port])
    epochs_of_moves.finish_move()
    # Before the next move, both nodes know each other's config epoch (the
    # importer's bump travels over the bus); otherwise an old claim of the
    # slot could still win there, as it could between Redis nodes.
    harness.wait_until(lambda: len({epochs(cs), epochs(cd)}) == 1, "config epochs to agree", 30, interval=0.02)


def epochs(client):
    lines = client.execute_command("CLUSTER", "NODES").decode().splitlines()
    return tuple(sorted((f[0], f[6]) for f in (line.split() for line in lines)))


class ClusterRaceTest(unittest.TestCase):
    def test_migrate_races_exec_eval_blpop(self):
        with contextlib.ExitStack() as stack:
            a, b, ids = two_node_cluster(stack)
            ca = a.client()
            slot = ca.execute_command("CLUSTER", "KEYSLOT", TAG)
            owner = a if slot <= 8191 else b
            ports = [a.port, b.port]

            exec_key, eval_key, list_key = f"{TAG}exec", f"{TAG}eval", f"{TAG}list"
            fillers = [f"{TAG}f{i}" for i in range(20)]
            moves_done = MoveEpochs()
            setup = Client(ports, owner.port, moves_done)
            for k in fillers:
                self.assertEqual(setup.run(command("SET", k, k)), "OK")
            setup.run(command("SET", exec_key, 0))
            setup.run(command("SET", eval_key, 0))
            setup.close()

            stop = threading.Event()
            failures = []
            exec_values, eval_values, pushed, popped = [], [], [], []
            lock = threading.Lock()

            def worker(body):
                def loop():
                    client = Client(ports, owner.port, moves_done)
                    try:
                        i = 0
                        while not stop.is_set():
                            body(client, i)
                            i += 1
                    except BaseException as e:  # noqa: BLE001 - reported by the test
                        failures.append(repr(e))
                        stop.set()
                    finally:
                        client.close()
                return threading.Thread(target=loop, daemon=True)

            def do_exec(client, _):
                reply = client.run(exec_incr(exec_key))
                if not (isinstance(reply, list) and len(reply) == 1 and isinstance(reply[0], int)):
                    raise AssertionError(f"EXEC replied {reply!r}")
                with lock:
                    exec_values.append(reply[0])

            def do_eval(client, _):
                reply = client.run(command("EVAL", "return redis.call('INCR', KEYS[1])", 1, eval_key))
                if not isinstance(reply, int):
                    raise AssertionError(f"EVAL replied {reply!r}")
                with lock:
                    eval_values.append(reply)

            def do_push(client, i):
                item = f"item{i}"
                reply = client.run(command("LPUSH", list_key, item))
                if not isinstance(reply, int) or reply < 1:
                    raise AssertionError(f"LPUSH replied {reply!r}")
                with lock:
                    pushed.append(item)

            def do_pop(client, _):
                reply = client.run(command("BLPOP", list_key, 1), may_create=False)
                if reply is None:
                    return
                if not (isinstance(reply, list) and len(reply) == 2 and reply[0] == list_key.encode()):
                    raise AssertionError(f"BLPOP replied {reply!r}")
                with lock:
                    popped.append(reply[1].decode())

            threads = [worker(do_exec), worker(do_exec), worker(do_eval), worker(do_eval),
                       worker(do_push), worker(do_pop)]
            for t in threads:
                t.start()

            src, dst = owner, (b if owner is a else a)
            moves = 0
            try:
                for _ in range(ROUNDS):
                    if stop.is_set():
                        break
                    move_slot(slot, src, dst, ids, moves_done)
                    moves += 1
                    src, dst = dst, src
            finally:
                stop.set()
                for t in threads:
                    t.join(120)
            self.assertEqual(failures, [])
            self.assertFalse(any(t.is_alive() for t in threads), "a client is stuck")

            # Every key of the slot is on its owner only.
            final_owner = src
            other = b if final_owner is a else a
            self.assertEqual(other.client().execute_command("CLUSTER", "COUNTKEYSINSLOT", slot), 0,
                             other.client().execute_command("CLUSTER", "GETKEYSINSLOT", slot, 100))
            co = final_owner.client()
            for k in fillers:
                self.assertEqual(co.get(k), k.encode())
            # Each INCR counted once: the replies are distinct and the counters match.
            self.assertGreater(len(exec_values), 0)
            self.assertEqual(len(set(exec_values)), len(exec_values), "an EXEC INCR counted twice")
            self.assertEqual(int(co.get(exec_key)), len(exec_values))
            self.assertEqual(len(set(eval_values)), len(eval_values), "an EVAL INCR counted twice")
            self.assertEqual(int(co.get(eval_key)), len(eval_values))
            remaining = [v.decode() for v in co.lrange(list_key, 0, -1)]
            self.assertEqual(sorted(popped + remaining), sorted(pushed), "list items lost or duplicated")
            self.assertGreater(moves, 0)
            print(f"\n{moves} moves: {len(exec_values)} EXEC, {len(eval_values)} EVAL, {len(pushed)} LPUSH, "
                  f"{len(popped)} BLPOP served", flush=True)


    def test_blocked_client_follows_its_slot(self):
        # BLPOP 0 blocked on a key whose slot then moves away: the client is
        # unblocked with -MOVED (as Redis's clusterRedirectBlockedClientIfNeeded),
        # follows it, and gets the element pushed on the new owner.
        with contextlib.ExitStack() as stack:
            a, b, ids = two_node_cluster(stack)
            slot = a.client().execute_command("CLUSTER", "KEYSLOT", TAG)
            owner, other = (a, b) if slot <= 8191 else (b, a)
            key = f"{TAG}blocked"
            with harness.RawConnection(HOST, owner.port, timeout=60) as blocked:
                blocked.send_command("BLPOP", key, 0)
                harness.wait_until(lambda: owner.client().info("clients")["blocked_clients"] == 1,
                                   "the client to block", 30, interval=0.02)
                owner.client().set(f"{TAG}other", "x")  # a key to migrate along
                move_slot(slot, owner, other, ids, MoveEpochs())
                reply = blocked.read_reply()
                self.assertTrue(is_error(reply), reply)
                self.assertEqual(str(reply.message), f"MOVED {slot} 127.0.0.1:{other.port}")
            client = Client([a.port, b.port], owner.port, MoveEpochs())
            try:
                self.assertEqual(client.run(command("LPUSH", key, "v")), 1)
                self.assertEqual(client.run(command("BLPOP", key, 0)), [key.encode(), b"v"])
                self.assertEqual(client.port, other.port)
            finally:
                client.close()


if __name__ == "__main__":
    unittest.main()
