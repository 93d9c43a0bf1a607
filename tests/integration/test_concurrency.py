"""Concurrent clients: atomic counters and atomic multi-key commands.

distcache is started with --threads 4 (ignored for a stock redis-server,
which does not take the flag), so keys spread over several shards and
multi-key commands take the cross-shard paths even on a 2-core machine.
Every loop is bounded; nothing depends on timing.
"""

import threading

import harness

CLIENTS = 8
COUNTERS = [f"counter:{i}" for i in range(4)]
INCRS_PER_CLIENT = 500          # per counter
GROUP = [f"k{i}" for i in range(1, 11)]   # no hash tags: spread over shards
WRITER_ITERATIONS = 2000
READER_MAX_ITERATIONS = 200_000  # safety bound; readers stop when writers finish


def run_threads(targets):
    """Runs the callables in threads; re-raises the first exception."""
    errors = []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as e:   # noqa: BLE001 - reported below
                errors.append(e)
        return run

    threads = [threading.Thread(target=wrap(fn), daemon=True) for fn in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
        if t.is_alive():
            raise AssertionError("a client thread did not finish within 600 s")
    if errors:
        raise errors[0]


class ConcurrencyTest(harness.ServerTestCase):
    DISTCACHE_ARGS = ("--threads", "4")

    def setUp(self):
        c = self.server.client()
        c.flushall()
        c.close()

    def client(self, **kwargs):
        return self.server.client(single_connection_client=True, **kwargs)

    def test_incr_shared_counters(self):
        """8 clients INCR 4 shared counters; every INCR reply is distinct and
        the final values are exact."""
        replies = {k: [] for k in COUNTERS}
        lock = threading.Lock()

        def worker(idx):
            def run():
                c = self.client()
                mine = {k: [] for k in COUNTERS}
                try:
                    for i in range(INCRS_PER_CLIENT):
                        for k in COUNTERS:
                            mine[k].append(c.incr(k))
                finally:
                    c.close()
                with lock:
                    for k in COUNTERS:
                        replies[k].extend(mine[k])
            return run

        run_threads([worker(i) for i in range(CLIENTS)])
        total = CLIENTS * INCRS_PER_CLIENT
        c = self.client()
        try:
            for k in COUNTERS:
                self.assertEqual(int(c.get(k)), total, k)
                self.assertEqual(sorted(replies[k]), list(range(1, total + 1)),
                                 f"INCR replies on {k} are not exactly 1..{total}")
        finally:
            c.close()

    def test_incrby_decrby_incrbyfloat_pipelined(self):
        """INCRBY/DECRBY/INCRBYFLOAT from 8 clients, partly pipelined."""
        def worker(idx):
            def run():
                c = self.client()
                try:
                    for batch in range(20):
                        p = c.pipeline(transaction=False)
                        for i in range(25):
                            p.incrby("sum", idx + 1)
                            p.decrby("neg", 2)
                            p.incrbyfloat("float", 0.5)   # exact in binary floating point
                        p.execute()
                        c.incrby("sum", 1000)
                finally:
                    c.close()
            return run

        run_threads([worker(i) for i in range(CLIENTS)])
        n = 20 * 25
        c = self.client()
        try:
            expected_sum = sum((idx + 1) * n for idx in range(CLIENTS)) + CLIENTS * 20 * 1000
            self.assertEqual(int(c.get("sum")), expected_sum)
            self.assertEqual(int(c.get("neg")), -2 * n * CLIENTS)
            self.assertEqual(float(c.get("float")), 0.5 * n * CLIENTS)
        finally:
            c.close()

    def check_group_atomicity(self, writer_step, writers=4, readers=4):
        """Writers change all of GROUP with one multi-key command per step;
        readers MGET the whole group and must always see one consistent
        state: all values equal (all None counts as one state)."""
        done = threading.Event()
        finished_writers = []
        lock = threading.Lock()
        stats = {"reads": 0, "nonempty": 0}

        def writer(idx):
            def run():
                c = self.client()
                try:
                    for i in range(WRITER_ITERATIONS):
                        writer_step(c, idx, i)
                finally:
                    c.close()
                    with lock:
                        finished_writers.append(idx)
                        if len(finished_writers) == writers:
                            done.set()
            return run

        def reader(idx):
            def run():
                c = self.client()
                reads = nonempty = 0
                try:
                    for _ in range(READER_MAX_ITERATIONS):
                        if done.is_set():
                            break
                        values = c.mget(GROUP)
                        reads += 1
                        if len(set(values)) != 1:
                            raise AssertionError(f"MGET saw a mix of states: {values}")
                        if values[0] is not None:
                            nonempty += 1
                        if idx % 2 == 1:   # half the readers also check EXISTS
                            n = c.exists(*GROUP)
                            if n not in (0, len(GROUP)):
                                raise AssertionError(f"EXISTS over the group returned {n}")
                finally:
                    c.close()
                    with lock:
                        stats["reads"] += reads
                        stats["nonempty"] += nonempty
            return run

        run_threads([writer(i) for i in range(writers)] + [reader(i) for i in range(readers)])
        c = self.client()
        try:
            final = c.mget(GROUP)
        finally:
            c.close()
        self.assertEqual(len(set(final)), 1, f"final state is mixed: {final}")
        self.assertGreater(stats["reads"], 0)
        return final, stats

    def test_mset_mget_atomic_across_shards(self):
        def step(c, idx, i):
            c.mset({k: f"w{idx}:g{i}" for k in GROUP})

        final, _ = self.check_group_atomicity(step)
        self.assertIsNotNone(final[0])
        self.assertRegex(final[0].decode(), r"^w\d:g%d$" % (WRITER_ITERATIONS - 1))

    def test_mset_del_atomic_across_shards(self):
        """Multi-key DEL is atomic too: readers see all keys or none."""
        def step(c, idx, i):
            if idx % 2 == 0:
                c.mset({k: f"w{idx}:g{i}" for k in GROUP})
            else:
                c.delete(*GROUP)

        self.check_group_atomicity(step)

    def test_msetnx_exactly_one_winner(self):
        """Clients race MSETNX on the same group of keys: exactly one wins per
        round, and the group holds the winner's value on every key."""
        rounds = 200
        barrier = threading.Barrier(CLIENTS)
        wins = [[] for _ in range(rounds)]
        lock = threading.Lock()

        def worker(idx):
            def run():
                c = self.client()
                try:
                    for rnd in range(rounds):
                        barrier.wait(timeout=120)
                        keys = [f"{k}:r{rnd}" for k in GROUP]
                        if c.msetnx({k: f"client{idx}" for k in keys}):
                            with lock:
                                wins[rnd].append(idx)
                finally:
                    c.close()
            return run

        run_threads([worker(i) for i in range(CLIENTS)])
        c = self.client()
        try:
            for rnd in range(rounds):
                self.assertEqual(len(wins[rnd]), 1, f"round {rnd}: winners {wins[rnd]}")
                values = c.mget([f"{k}:r{rnd}" for k in GROUP])
                self.assertEqual(set(values), {f"client{wins[rnd][0]}".encode()}, f"round {rnd}")
        finally:
            c.close()


if __name__ == "__main__":
    harness.main()
