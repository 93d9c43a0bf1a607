"""CLIENT NO-TOUCH (issue 6). Redis 7.0.15 does not know the subcommand
(checked below); distcache implements Redis 7.2's semantics: the commands of a
client with NO-TOUCH on do not update the LRU/LFU access information of the
keys they read - plain commands, commands over keys of several shards, EXEC's
commands, and redis.call() in scripts - except TOUCH, which still does.

LFU counters make this deterministic: with lfu-log-factor 0 every access adds
exactly one to OBJECT FREQ. Idle times are checked once with LRU (polling until
the key is idle, no timing assertion beyond "a read resets it")."""

import time
import unittest

import harness

DISTCACHE_ARGS = ("--threads", "2")
KEYS = [f"nt:{i}" for i in range(8)]  # spread over both shards
DEADLINE = 10.0


class ClientNoTouch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._cm = harness.start_server(distcache_args=DISTCACHE_ARGS)
        cls.server = cls._cm.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls._cm.__exit__(None, None, None)

    def setUp(self):
        self.admin = harness.RawConnection(harness.HOST, self.server.port)
        self.nt = harness.RawConnection(harness.HOST, self.server.port)
        self.admin.command("FLUSHALL")
        self.admin.command("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu", "lfu-log-factor", "0")
        for k in KEYS:
            self.admin.command("SET", k, "v")
        self.assertEqual(self.nt.command("CLIENT", "NO-TOUCH", "ON"), "OK")

    def tearDown(self):
        self.admin.command("CONFIG", "SET", "maxmemory-policy", "noeviction", "lfu-log-factor", "10")
        self.nt.close()
        self.admin.close()

    def freqs(self):
        return [self.admin.command("OBJECT", "FREQ", k) for k in KEYS]

    def test_redis_7_0_does_not_know_it(self):
        with harness.start_server(reference=True) as ref:
            with harness.RawConnection(harness.HOST, ref.port) as c:
                err = c.command("CLIENT", "NO-TOUCH", "ON")
                self.assertIsInstance(err, harness.RespError)
                self.assertEqual(err.message, "ERR unknown subcommand 'NO-TOUCH'. Try CLIENT HELP.")

    def test_flag_and_errors(self):
        self.assertIn("T", self.nt.command("CLIENT", "INFO").decode().split("flags=")[1].split(" ")[0])
        err = self.nt.command("CLIENT", "NO-TOUCH", "maybe")
        self.assertIsInstance(err, harness.RespError)
        self.assertEqual(self.nt.command("CLIENT", "NO-TOUCH", "OFF"), "OK")
        self.assertNotIn("T", self.nt.command("CLIENT", "INFO").decode().split("flags=")[1].split(" ")[0])

    def test_reads_do_not_touch(self):
        before = self.freqs()
        for k in KEYS:
            self.nt.command("GET", k)
        self.nt.command("MGET", *KEYS)  # keys of both shards
        self.nt.command("EXISTS", *KEYS)
        self.nt.command("MULTI")
        for k in KEYS:
            self.nt.command("GET", k)
        self.nt.command("MGET", *KEYS)
        self.nt.command("STRLEN", KEYS[0])
        self.assertEqual(len(self.nt.command("EXEC")), len(KEYS) + 2)
        script = "for i, k in ipairs(KEYS) do redis.call('get', k) end return 1"
        self.assertEqual(self.nt.command("EVAL", script, str(len(KEYS)), *KEYS), 1)
        self.assertEqual(self.nt.command("EVAL", "return redis.call('get', KEYS[1])", "1", KEYS[1]), b"v")
        self.nt.command("MULTI")
        self.nt.command("EVAL", script, str(len(KEYS)), *KEYS)
        self.nt.command("EXEC")
        self.assertEqual(self.freqs(), before)
        # Control: another client's reads count.
        self.admin.command("MGET", *KEYS)
        self.assertEqual(self.freqs(), [f + 1 for f in before])

    def test_touch_still_touches(self):
        before = self.freqs()
        self.assertEqual(self.nt.command("TOUCH", KEYS[0], KEYS[1]), 2)
        self.nt.command("MULTI")
        self.nt.command("TOUCH", KEYS[2])
        self.nt.command("GET", KEYS[3])
        self.nt.command("EXEC")
        expected = list(before)
        for i in (0, 1, 2):
            expected[i] += 1
        self.assertEqual(self.freqs(), expected)

    def test_off_touches_again(self):
        before = self.freqs()
        self.nt.command("GET", KEYS[0])
        self.assertEqual(self.nt.command("CLIENT", "NO-TOUCH", "OFF"), "OK")
        self.nt.command("GET", KEYS[0])
        self.nt.command("MGET", KEYS[1], KEYS[2], KEYS[3])
        expected = list(before)
        for i in (0, 1, 2, 3):
            expected[i] += 1
        self.assertEqual(self.freqs(), expected)

    def wait_blocked(self, count):
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            info = self.admin.command("INFO", "clients").decode()
            if f"blocked_clients:{count}" in info:
                return
        self.fail("the client never blocked")

    def test_blocked_pop_served_later_does_not_touch(self):
        """A BLPOP that blocks and is served when another client pushes: the
        pop (run on the key's thread) leaves access information alone for a
        no-touch client and counts for a normal one."""
        freqs = {}
        for name, client in (("nt:listA", self.nt), ("nt:listB", None)):
            c = client or harness.RawConnection(harness.HOST, self.server.port)
            c.send_command("BLPOP", name, "0")
            self.wait_blocked(1)
            self.admin.command("RPUSH", name, "x", "y")
            self.assertEqual(c.read_reply(), [name.encode(), b"x"])
            freqs[name] = self.admin.command("OBJECT", "FREQ", name)
            if client is None:
                c.close()
        self.assertEqual(freqs["nt:listA"] + 1, freqs["nt:listB"])

    def test_idletime_is_kept(self):
        self.admin.command("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        key = KEYS[0]
        self.admin.command("SET", key, "fresh")  # access time: now
        self.assertLessEqual(self.admin.command("OBJECT", "IDLETIME", key), 1)
        deadline = time.monotonic() + DEADLINE
        while self.admin.command("OBJECT", "IDLETIME", key) < 2:
            self.assertLess(time.monotonic(), deadline, "the key never became idle")
            time.sleep(0.1)  # waiting for the clock to advance, not for another client
        self.nt.command("GET", key)
        self.nt.command("MGET", *KEYS)
        self.assertGreaterEqual(self.admin.command("OBJECT", "IDLETIME", key), 2)
        self.admin.command("GET", key)
        self.assertLessEqual(self.admin.command("OBJECT", "IDLETIME", key), 1)


if __name__ == "__main__":
    harness.main()
