"""Snapshots (RDB): SAVE/BGSAVE/LASTSAVE, loading at start-up, files
exchanged with a real redis-server in both directions, shutdown saves, and
BGSAVE's point-in-time guarantee while writes keep coming on every thread.
"""

import os
import subprocess
import tempfile
import threading

import harness

REDIS_CHECK_RDB = "/usr/bin/redis-check-rdb"


def populate_every_type(c):
    """One key of every type and encoding (database 0)."""
    c.set("str", "hello")
    c.set("int", 12345)
    c.set("long", "x" * 500)                      # LZF-compressed
    c.set("ttl", "v", ex=1000)
    c.rpush("list:small", *[f"e{i}" for i in range(10)])
    c.rpush("list:big", *[f"element-{i}" for i in range(2000)])
    c.sadd("set:int", *range(20))
    c.sadd("set:str", *[f"m{i}" for i in range(700)])
    c.hset("hash:small", mapping={f"f{i}": f"v{i}" for i in range(10)})
    c.hset("hash:big", mapping={f"f{i}": "v" * 80 for i in range(600)})
    c.zadd("zset:small", {f"m{i}": i / 3 for i in range(10)})
    c.zadd("zset:big", {f"m{i}": i * 1.5 for i in range(300)})
    c.pfadd("hll", *[f"x{i}" for i in range(100)])
    for i in range(30):
        c.xadd("stream", {"f": str(i), "g": "x"}, id=f"{1000 + i}-0")
    c.xgroup_create("stream", "grp", id="0")
    c.xreadgroup("grp", "alice", {"stream": ">"}, count=5)


def dataset(c, databases=(0, 2)):
    """Everything readable about the keys of the given databases."""
    out = {}
    for db in databases:
        c.execute_command("SELECT", db)
        for key in sorted(c.keys("*")):
            t = c.type(key).decode()
            ttl = c.ttl(key)
            if t == "string":
                v = c.get(key)
            elif t == "list":
                v = c.lrange(key, 0, -1)
            elif t == "set":
                v = sorted(c.smembers(key))
            elif t == "hash":
                v = sorted(c.hgetall(key).items())
            elif t == "zset":
                v = c.zrange(key, 0, -1, withscores=True)
            elif t == "stream":
                v = (c.xrange(key), c.xinfo_groups(key), c.xpending(key, "grp"))
            else:
                v = None
            out[(db, key)] = (t, v, ttl > 0)
    c.execute_command("SELECT", 0)
    return out


def fill(port):
    """Every type in database 0, two keys in database 2; returns a db-0 client."""
    import redis
    r = redis.Redis(host=harness.HOST, port=port, db=0)
    populate_every_type(r)
    r2 = redis.Redis(host=harness.HOST, port=port, db=2)
    r2.set("db2:key", "in database 2")
    r2.rpush("db2:list", "a", "b")
    return r


class SnapshotRoundTripTest(harness.ServerTestCase):
    DISTCACHE_ARGS = ("--threads", "3")

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="distcache-persist-")
        cls.EXTRA_ARGS = ("--dir", cls.dir, "--save", "")
        super().setUpClass()

    def test_save_restart_and_redis_loads_our_file(self):
        c = fill(self.server.port)
        before = dataset(c)
        self.assertTrue(c.execute_command("SAVE"))
        path = os.path.join(self.dir, "dump.rdb")
        check = subprocess.run([REDIS_CHECK_RDB, path], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertIn("RDB looks OK", check.stdout)

        # Our own server with another thread count loads it.
        with harness.start_server(extra_args=("--dir", self.dir, "--save", ""),
                                  distcache_args=("--threads", "2")) as other:
            self.assertEqual(dataset(other.client()), before)
        # So does Redis.
        with harness.start_server(binary=harness.REFERENCE_REDIS, reference=True,
                                  extra_args=("--dir", self.dir, "--save", "")) as ref:
            self.assertEqual(dataset(ref.client()), before)

    def test_bgsave_lastsave_info(self):
        c = self.server.client()
        c.set("k", "v")
        first = c.lastsave()
        reply = c.execute_command("BGSAVE")
        self.assertTrue(reply)   # redis-py turns "Background saving started" into True
        info = c.info("persistence")
        for _ in range(100000):
            info = c.info("persistence")
            if info["rdb_bgsave_in_progress"] == 0 and info["rdb_saves"] >= 1:
                break
        self.assertEqual(info["rdb_last_bgsave_status"], "ok")
        self.assertEqual(info["rdb_changes_since_last_save"], 0)
        self.assertGreaterEqual(c.lastsave(), first)
        with self.assertRaises(Exception) as e:
            c.execute_command("BGSAVE", "NOW")
        self.assertIn("syntax error", str(e.exception))


class LoadRedisFileTest(harness.ServerTestCase):
    """A dump.rdb written by redis-server 7.0 loads with the same content."""

    def test_load_file_written_by_redis(self):
        workdir = tempfile.mkdtemp(prefix="distcache-redis-rdb-")
        with harness.start_server(binary=harness.REFERENCE_REDIS, reference=True,
                                  extra_args=("--dir", workdir, "--save", "")) as ref:
            r = fill(ref.port)
            expected = dataset(r)
            r.save()
        with harness.start_server(extra_args=("--dir", workdir, "--save", ""),
                                  distcache_args=("--threads", "2")) as ours:
            self.assertEqual(dataset(ours.client()), expected)


class ShutdownSaveTest(harness.ServerTestCase):
    def test_shutdown_saves_when_save_points_exist(self):
        workdir = tempfile.mkdtemp(prefix="distcache-shutdown-")
        args = ("--dir", workdir, "--save", "3600 1")
        with harness.start_server(extra_args=args, distcache_args=("--threads", "2")) as s:
            s.client().set("survivor", "yes")
            s.exit_expected = True
            self.assertEqual(s.stop(), 0)   # SIGTERM, as a service manager does
        with harness.start_server(extra_args=args, distcache_args=("--threads", "2")) as s:
            self.assertEqual(s.client().get("survivor"), b"yes")
            c = s.client()
            c.set("survivor", "changed")
            s.exit_expected = True
            try:
                c.execute_command("SHUTDOWN", "NOSAVE")
            except Exception:   # the connection closes without a reply, as with Redis
                pass
            self.assertEqual(s.proc.wait(timeout=30), 0)
        with harness.start_server(extra_args=args, distcache_args=("--threads", "2")) as s:
            self.assertEqual(s.client().get("survivor"), b"yes")


class PointInTimeTest(harness.ServerTestCase):
    """BGSAVE while clients keep writing: the file holds exactly the state of
    one instant. One writer overwrites key i with "1" in order i = 0..N, so
    every consistent cut is a prefix; cross-shard MSET pairs stay equal."""

    DISTCACHE_ARGS = ("--threads", "4")
    KEYS = 60000

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="distcache-pit-")
        cls.EXTRA_ARGS = ("--dir", cls.dir, "--save", "")
        super().setUpClass()

    def test_snapshot_is_one_instant(self):
        c = self.server.client()
        pipe = c.pipeline(transaction=False)
        for i in range(self.KEYS):
            pipe.set(f"seq:{i}", "0")
            if i % 1000 == 999:
                pipe.execute()
        pipe.execute()
        c.mset({f"pairA:{i}": 0 for i in range(200)} | {f"pairB:{i}": 0 for i in range(200)})

        stop = threading.Event()

        def pair_writer():
            w = self.server.client()
            n = 1
            while not stop.is_set():
                i = n % 200
                w.mset({f"pairA:{i}": n, f"pairB:{i}": n})
                n += 1

        t = threading.Thread(target=pair_writer, daemon=True)
        t.start()
        w = self.server.client()
        pipe = w.pipeline(transaction=False)
        started = False
        for i in range(self.KEYS):
            pipe.set(f"seq:{i}", "1")
            if i % 200 == 199:
                pipe.execute()
            if i == self.KEYS // 10 and not started:
                pipe.execute()
                w.execute_command("BGSAVE")
                started = True
        pipe.execute()
        for _ in range(1000000):
            if c.info("persistence")["rdb_bgsave_in_progress"] == 0:
                break
        stop.set()
        t.join(timeout=60)

        with harness.start_server(extra_args=("--dir", self.dir, "--save", ""),
                                  distcache_args=("--threads", "2")) as loaded:
            r = loaded.client()
            values = r.mget([f"seq:{i}" for i in range(self.KEYS)])
            self.assertNotIn(None, values)
            ones = [v == b"1" for v in values]
            m = ones.index(False) if False in ones else len(ones)
            self.assertTrue(all(ones[:m]) and not any(ones[m:]),
                            f"not a prefix: first 0 at {m}, later 1s at "
                            f"{[i for i in range(m, len(ones)) if ones[i]][:10]}")
            # The instant is when BGSAVE was accepted: the writes sent before it
            # are in, none of those sent after it.
            self.assertEqual(m, self.KEYS // 10 + 1)
            a = r.mget([f"pairA:{i}" for i in range(200)])
            b = r.mget([f"pairB:{i}" for i in range(200)])
            self.assertEqual(a, b)


if __name__ == "__main__":
    harness.main()
