"""DEBUG RELOAD: save, empty, load back. Compared with redis-server 7.0 on a
dataset of every type and encoding (contents, encodings and TTLs after the
reload), its options and errors, and checked to lose no write acknowledged
while it runs (it is one indivisible step across the shards)."""

import threading
import unittest

import harness

DEBUG_ARGS = ["--enable-debug-command", "yes"]


def build_dataset(c):
    c.set("str", "hello")
    c.set("int", "12345")
    c.set("long", "x" * 100)
    c.set("{t}volatile", "v", px=600000)
    c.rpush("list", *[f"e{i}" for i in range(50)])
    c.rpush("biglist", *[f"e{i}" * 10 for i in range(300)])
    c.sadd("intset", *range(20))
    c.sadd("set", *[f"m{i}" for i in range(20)])
    c.sadd("shrunk", *range(600))
    c.srem("shrunk", *range(1, 600))
    c.hset("hash", mapping={f"f{i}": i for i in range(10)})
    c.hset("bighash", mapping={f"f{i}": "v" * 80 for i in range(10)})
    c.zadd("zset", {f"m{i}": i / 3 for i in range(30)})
    c.zadd("bigzset", {f"m{i}": i for i in range(200)})
    c.xadd("stream", {"a": "1"}, id="1-1")
    c.xadd("stream", {"a": "2", "b": "3"}, id="2-1")
    c.xgroup_create("stream", "g", id="0")
    c.xreadgroup("g", "consumer", {"stream": ">"}, count=1)
    c.pfadd("hll", *[f"u{i}" for i in range(100)])
    c.execute_command("SELECT", 3)
    c.set("in-db-3", "x")
    c.execute_command("SELECT", 0)


def describe(c):
    """Every key of databases 0 and 3: type, encoding, DUMP-independent content, TTL set."""
    out = {}
    for db in (0, 3):
        c.execute_command("SELECT", db)
        for key in sorted(c.keys("*")):
            t = c.type(key)
            enc = c.object("encoding", key)
            if t == b"string":
                val = c.get(key)
            elif t == b"list":
                val = c.lrange(key, 0, -1)
            elif t == b"set":
                val = sorted(c.smembers(key))
            elif t == b"hash":
                val = sorted(c.hgetall(key).items())
            elif t == b"zset":
                val = c.zrange(key, 0, -1, withscores=True)
            else:
                val = (c.xrange(key), c.xinfo_groups(key)[0]["pending"])
            out[(db, key)] = (t, enc, val, c.pttl(key) > 0)
    c.execute_command("SELECT", 0)
    return out


class DebugReloadTest(unittest.TestCase):
    def story(self, server):
        c = server.client()
        c.config_set("save", "")
        build_dataset(c)
        before = describe(c)
        replies = [c.execute_command("DEBUG", "RELOAD")]
        after = describe(c)
        self.assertEqual(before.keys(), after.keys())
        for k in before:
            self.assertEqual(before[k][0], after[k][0], k)
            self.assertEqual(before[k][2], after[k][2], k)
            self.assertEqual(before[k][3], after[k][3], k)
        raw = harness.RawConnection(harness.HOST, server.port)
        replies.append(raw.command("DEBUG", "RELOAD", "BOGUS"))
        replies.append(raw.command("DEBUG", "RELOAD", "NOSAVE", "MERGE"))
        raw.command("SET", "only-in-memory", "1")
        replies.append(raw.command("DEBUG", "RELOAD", "NOSAVE"))  # loads the file saved above
        replies.append(raw.command("EXISTS", "only-in-memory"))
        raw.command("SET", "only-in-memory", "2")
        replies.append(raw.command("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"))
        replies.append(raw.command("GET", "only-in-memory"))
        replies.append(raw.command("DBSIZE"))
        raw.close()
        return after, replies

    def test_matches_redis(self):
        with harness.start_server(reference=True, extra_args=DEBUG_ARGS) as ref:
            expected, expected_replies = self.story(ref)
        with harness.start_server(extra_args=DEBUG_ARGS, distcache_args=["--threads", "2"]) as server:
            actual, actual_replies = self.story(server)
        self.assertEqual(expected, actual)  # encodings included
        self.assertEqual(expected_replies, actual_replies)

    def test_function_libraries_come_back(self):
        lib = "#!lua name=mylib\nredis.register_function('answer', function(keys, args) return 42 end)"
        with harness.start_server(extra_args=DEBUG_ARGS, distcache_args=["--threads", "2"]) as server:
            c = server.client()
            c.execute_command("FUNCTION", "LOAD", lib)
            self.assertTrue(c.execute_command("DEBUG", "RELOAD"))
            self.assertEqual(c.execute_command("FCALL", "answer", 0), 42)
            c.execute_command("FUNCTION", "FLUSH")
            self.assertTrue(c.execute_command("DEBUG", "RELOAD", "NOSAVE"))  # back from the file
            self.assertEqual(c.execute_command("FCALL", "answer", 0), 42)

    def test_no_acknowledged_write_lost_while_reloading(self):
        with harness.start_server(extra_args=DEBUG_ARGS, distcache_args=["--threads", "2"]) as server:
            stop = threading.Event()
            acknowledged = {}

            def writer(key):
                c = server.client()
                n = 0
                while not stop.is_set():
                    c.incr(key)
                    n += 1
                acknowledged[key] = n

            threads = [threading.Thread(target=writer, args=(f"counter:{i}",)) for i in range(4)]
            for t in threads:
                t.start()
            c = server.client()
            for _ in range(5):
                self.assertTrue(c.execute_command("DEBUG", "RELOAD"))
            stop.set()
            for t in threads:
                t.join()
            for key, n in acknowledged.items():
                self.assertEqual(int(c.get(key)), n, key)


if __name__ == "__main__":
    harness.main()
