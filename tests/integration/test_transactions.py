"""MULTI/EXEC/DISCARD/WATCH/UNWATCH: replies compared with a real
redis-server reply by reply, and the guarantees under concurrency with keys
spread over several shards (distcache runs with --threads 4, so even on two
cores most transactions span threads).
"""

import threading

import harness
from test_concurrency import run_threads

# Each script runs on one fresh connection on both servers; replies must be identical.
SCRIPTS = {
    "queueing errors": [
        ("MULTI",), ("MULTI",), ("WATCH", "x"), ("SET", "a"), ("EXEC",), ("EXEC",),
        ("MULTI",), ("GET", "a"), ("NOSUCHCOMMAND",), ("EXEC",), ("DISCARD",),
        ("MULTI",), ("CONFIG", "NOSUCHSUB"), ("EXEC",),
    ],
    "runtime errors do not abort": [
        ("SET", "s", "abc"), ("MULTI",), ("INCR", "s"), ("LPUSH", "s", "x"), ("SET", "t", "1"), ("INCR", "t"),
        ("HMSET", "h", "f"), ("EXEC",), ("GET", "t"),
    ],
    "select inside exec": [
        ("MULTI",), ("SELECT", "1"), ("SET", "a", "1"), ("SELECT", "99"), ("GET", "a"), ("EXEC",),
        ("GET", "a"), ("SELECT", "0"), ("GET", "a"),
    ],
    "blocking commands do not block": [
        ("MULTI",), ("BLPOP", "nolist", "0"), ("BZPOPMIN", "nozset", "0"), ("XREAD", "BLOCK", "0", "STREAMS", "nos", "$"),
        ("LPUSH", "l", "a"), ("BLPOP", "l", "0"), ("EXEC",),
    ],
    "multi-key commands across shards": [
        ("MULTI",), ("MSET", "k1", "1", "k2", "2", "k3", "3", "k4", "4"), ("MGET", "k1", "k2", "k3", "k4"),
        ("RENAME", "k1", "k9"), ("SADD", "s1", "a", "b"), ("SADD", "s2", "b", "c"),
        ("SUNIONSTORE", "s3", "s1", "s2"), ("SCARD", "s3"), ("DEL", "k2", "k3", "nokey"), ("EXISTS", "k1", "k9", "k4"),
        ("EXEC",),
    ],
    "keyspace-wide commands": [
        ("MSET", "a", "1", "b", "2", "c", "3"), ("MULTI",), ("DBSIZE",), ("SET", "d", "4"), ("DBSIZE",),
        ("FLUSHDB",), ("DBSIZE",), ("SET", "e", "5"), ("SWAPDB", "0", "1"), ("DBSIZE",), ("EXEC",),
        ("DBSIZE",), ("SELECT", "1"), ("GET", "e"),
    ],
    "watch: modified, untouched": [
        ("SET", "w", "1"), ("WATCH", "w"), ("SET", "w", "2"), ("MULTI",), ("INCR", "w"), ("EXEC",), ("GET", "w"),
        ("WATCH", "w", "other"), ("MULTI",), ("INCR", "w"), ("EXEC",),
        ("WATCH", "w"), ("SET", "w", "3"), ("UNWATCH",), ("MULTI",), ("INCR", "w"), ("EXEC",),
        ("WATCH", "w"), ("MULTI",), ("DISCARD",), ("SET", "w", "9"), ("MULTI",), ("GET", "w"), ("EXEC",),
        # writes that change nothing do not count
        ("WATCH", "nolist"), ("LPOP", "nolist"), ("LMOVE", "nolist", "dst", "LEFT", "RIGHT"),
        ("DEL", "nolist"), ("SREM", "noset", "x"), ("MULTI",), ("PING",), ("EXEC",),
        ("SET", "p", "1"), ("WATCH", "p"), ("PERSIST", "p"), ("SETNX", "p", "2"), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "{t}a", "{t}b"), ("SMOVE", "{t}a", "{t}b", "x"), ("MSETNX", "p", "1", "q", "2"),
        ("MULTI",), ("PING",), ("EXEC",),
        ("EXEC", "junk"),
    ],
    "watch: flush, swapdb, rename, expire": [
        ("SET", "f", "1"), ("WATCH", "f"), ("FLUSHALL",), ("MULTI",), ("PING",), ("EXEC",),
        ("WATCH", "missing"), ("FLUSHALL",), ("MULTI",), ("PING",), ("EXEC",),
        ("SET", "r", "1"), ("WATCH", "r2"), ("RENAME", "r", "r2"), ("MULTI",), ("PING",), ("EXEC",),
        ("SELECT", "1"), ("SET", "x", "1"), ("SELECT", "0"), ("WATCH", "x"), ("SWAPDB", "0", "1"),
        ("MULTI",), ("PING",), ("EXEC",),
        ("SET", "e", "1"), ("WATCH", "e"), ("EXPIRE", "e", "100"), ("MULTI",), ("PING",), ("EXEC",),
    ],
    "reset and discard": [
        ("WATCH", "z"), ("MULTI",), ("SET", "z", "1"), ("RESET",), ("EXEC",), ("GET", "z"),
        ("MULTI",), ("SET", "z", "2"), ("DISCARD",), ("GET", "z"), ("EXEC",),
    ],
}


def run_script(port, script):
    with harness.RawConnection(harness.HOST, port) as conn:
        return [conn.command(*cmd) for cmd in script]


class TransactionRepliesTest(harness.ServerTestCase):
    DISTCACHE_ARGS = ("--threads", "4")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._ref_cm = harness.start_server(binary=harness.REFERENCE_REDIS, reference=True)
        cls.reference = cls._ref_cm.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls._ref_cm.__exit__(None, None, None)
        super().tearDownClass()

    def test_scripts_match_redis(self):
        for name, script in SCRIPTS.items():
            with self.subTest(script=name):
                for server in (self.server, self.reference):
                    run_script(server.port, [("FLUSHALL",)])
                ours = run_script(self.server.port, script)
                theirs = run_script(self.reference.port, script)
                for cmd, a, b in zip(script, ours, theirs):
                    self.assertEqual(a, b, f"{name}: {cmd}")
        self.assertServerAlive()

    def test_resp3_aborted_exec_is_null(self):
        with harness.RawConnection(harness.HOST, self.server.port) as conn:
            conn.command("HELLO", "3")
            conn.command("WATCH", "n")
            conn.command("SET", "n", "1")
            conn.command("MULTI")
            conn.command("PING")
            conn.send_command("EXEC")
            self.assertEqual(conn.read_reply_bytes(), b"_\r\n")


class TransactionConcurrencyTest(harness.ServerTestCase):
    DISTCACHE_ARGS = ("--threads", "4")

    def setUp(self):
        c = self.server.client()
        c.flushall()
        c.close()

    def client(self):
        return self.server.client(single_connection_client=True)

    def test_watch_increment_loops_are_exact(self):
        """8 clients add to 4 counters (on different shards) in WATCH/MULTI/EXEC
        retry loops, each transaction moving 1 from `pool` to a counter: the
        totals are exact, so no lost update and no half-applied transaction."""
        counters = [f"wc:{i}" for i in range(4)]
        per_client = 60
        self.client().set("pool", 8 * per_client * len(counters))

        def worker(idx):
            def run():
                c = self.client()
                import redis
                try:
                    for i in range(per_client):
                        for key in counters:
                            while True:
                                with c.pipeline(transaction=True) as p:
                                    try:
                                        p.watch(key, "pool")
                                        value = int(p.get(key) or 0)
                                        pool = int(p.get("pool"))
                                        p.multi()
                                        p.set(key, value + 1)
                                        p.set("pool", pool - 1)
                                        p.execute()
                                        break
                                    except redis.WatchError:
                                        continue
                finally:
                    c.close()
            return run

        run_threads([worker(i) for i in range(8)])
        c = self.client()
        for key in counters:
            self.assertEqual(int(c.get(key)), 8 * per_client)
        self.assertEqual(int(c.get("pool")), 0)

    def test_no_client_observes_a_partial_transaction(self):
        """Writers move units between 6 accounts on different shards inside
        MULTI/EXEC; readers read all accounts inside MULTI/EXEC (and with one
        MGET) and must always see the same total."""
        accounts = [f"acct:{i}" for i in range(6)]
        c = self.client()
        c.mset({a: 100 for a in accounts})
        total = 100 * len(accounts)
        done = threading.Event()
        bad = []

        def writer(idx):
            def run():
                w = self.client()
                try:
                    for i in range(300):
                        src = accounts[(idx + i) % len(accounts)]
                        dst = accounts[(idx + 2 * i + 1) % len(accounts)]
                        p = w.pipeline(transaction=True)
                        p.decrby(src, 3)
                        p.incrby(dst, 3)
                        p.execute()
                finally:
                    w.close()
            return run

        def reader():
            r = self.client()
            try:
                while not done.is_set():
                    p = r.pipeline(transaction=True)
                    for a in accounts:
                        p.get(a)
                    values = p.execute()
                    if sum(int(v) for v in values) != total:
                        bad.append(values)
                    values = r.mget(accounts)
                    if sum(int(v) for v in values) != total:
                        bad.append(values)
            finally:
                r.close()

        writers = [writer(i) for i in range(4)]
        readers = [threading.Thread(target=reader, daemon=True) for _ in range(3)]
        for t in readers:
            t.start()
        try:
            run_threads(writers)
        finally:
            done.set()
            for t in readers:
                t.join(timeout=60)
        self.assertEqual(bad, [])
        self.assertEqual(sum(int(v) for v in c.mget(accounts)), total)

    def test_exec_wakes_blocked_client_after_the_transaction(self):
        """A client blocked on a list is served by a push inside MULTI/EXEC,
        and only after the whole transaction: it never sees an element the
        same transaction popped again."""
        blocked = self.client()
        result = []
        t = threading.Thread(target=lambda: result.append(blocked.blpop("jobs", 30)), daemon=True)
        t.start()
        waiter = self.client()
        # Wait until the BLPOP is registered (CLIENT LIST shows it as blpop).
        for _ in range(10000):
            if any(cl.get("cmd") == "blpop" for cl in waiter.client_list()):
                break
        p = waiter.pipeline(transaction=True)
        p.rpush("jobs", "first", "second")
        p.lpop("jobs")
        p.execute()
        t.join(timeout=30)
        self.assertEqual(result, [(b"jobs", b"second")])


if __name__ == "__main__":
    harness.main()
