"""The server through redis-py (Debian's python3-redis): strings, keys,
expiry, pipelining, binary safety, connection commands, databases and large
values."""

import time
import unittest

import redis

import harness

TEN_MB = 10 * 1024 * 1024


class PythonClientTest(harness.ServerTestCase):

    def setUp(self):
        self.r = self.server.client()                        # bytes replies
        self.s = self.server.client(decode_responses=True)   # str replies
        self.r.flushall()

    def tearDown(self):
        self.r.close()
        self.s.close()

    # ------------------------------------------------------------ strings

    def test_set_options(self):
        s = self.s
        self.assertTrue(s.set("k", "v1"))
        self.assertIsNone(s.set("k", "v2", nx=True))
        self.assertEqual(s.get("k"), "v1")
        self.assertTrue(s.set("k", "v2", xx=True))
        self.assertIsNone(s.set("missing", "v", xx=True))
        self.assertEqual(s.exists("missing"), 0)
        self.assertTrue(s.set("new", "v", nx=True))

        self.assertTrue(s.set("k", "v3", ex=1000))
        self.assertTrue(0 < s.ttl("k") <= 1000)
        self.assertTrue(s.set("k", "v4", px=2_000_000))
        self.assertTrue(1_000_000 < s.pttl("k") <= 2_000_000)
        self.assertTrue(s.set("k", "v5", keepttl=True))
        self.assertTrue(1_000_000 < s.pttl("k") <= 2_000_000)
        self.assertEqual(s.get("k"), "v5")
        self.assertTrue(s.set("k", "v6"))             # plain SET clears the TTL
        self.assertEqual(s.ttl("k"), -1)
        at = int(time.time()) + 5000
        self.assertTrue(s.set("k", "v7", exat=at))
        self.assertEqual(s.expiretime("k"), at)
        self.assertTrue(s.set("k", "v8", pxat=at * 1000 + 123))
        self.assertEqual(s.pexpiretime("k"), at * 1000 + 123)

        self.assertEqual(s.set("k", "v9", get=True), "v8")
        self.assertIsNone(s.set("fresh", "x", get=True))
        self.assertEqual(s.get("fresh"), "x")
        # Redis 7.0 allows NX with GET: returns the old value, sets nothing.
        self.assertEqual(s.set("fresh", "y", nx=True, get=True), "x")
        self.assertEqual(s.get("fresh"), "x")
        self.assertIsNone(s.set("fresh2", "y", nx=True, get=True))
        self.assertEqual(s.get("fresh2"), "y")

        with self.assertRaises(redis.ResponseError):
            s.execute_command("SET", "k", "v", "NX", "XX")
        with self.assertRaises(redis.ResponseError):
            s.execute_command("SET", "k", "v", "EX", "0")
        with self.assertRaises(redis.ResponseError):
            s.execute_command("SET", "k", "v", "EX", "notanumber")

    def test_getex_getdel(self):
        s = self.s
        s.set("k", "v")
        self.assertEqual(s.getex("k", ex=1000), "v")
        self.assertTrue(0 < s.ttl("k") <= 1000)
        self.assertEqual(s.getex("k", persist=True), "v")
        self.assertEqual(s.ttl("k"), -1)
        self.assertEqual(s.getex("k", px=5_000_000), "v")
        self.assertTrue(1000 < s.pttl("k") <= 5_000_000)
        at = int(time.time()) + 7000
        self.assertEqual(s.getex("k", exat=at), "v")
        self.assertEqual(s.expiretime("k"), at)
        self.assertIsNone(s.getex("missing", ex=10))
        self.assertEqual(s.getdel("k"), "v")
        self.assertEqual(s.exists("k"), 0)
        self.assertIsNone(s.getdel("k"))

    def test_incr_family(self):
        s = self.s
        self.assertEqual(s.incr("n"), 1)
        self.assertEqual(s.incrby("n", 41), 42)
        self.assertEqual(s.decr("n"), 41)
        self.assertEqual(s.decrby("n", 50), -9)
        s.set("max", str(2**63 - 1))
        with self.assertRaises(redis.ResponseError) as cm:
            s.incr("max")
        self.assertIn("increment or decrement would overflow", str(cm.exception))
        s.set("text", "abc")
        with self.assertRaises(redis.ResponseError) as cm:
            s.incr("text")
        self.assertIn("value is not an integer or out of range", str(cm.exception))

    def test_incrbyfloat(self):
        s = self.s
        self.assertEqual(s.incrbyfloat("f", 10.5), 10.5)
        self.assertAlmostEqual(s.incrbyfloat("f", 0.1), 10.6)
        self.assertEqual(s.get("f"), "10.6")
        self.assertEqual(s.incrbyfloat("f", -5), 5.6)
        self.assertEqual(s.get("f"), "5.6")
        s.set("g", "3.0e3")
        self.assertEqual(s.incrbyfloat("g", 200), 3200)
        self.assertEqual(s.get("g"), "3200")
        s.set("h", "1")
        self.assertEqual(s.incrbyfloat("h", 1.5), 2.5)
        s.set("text", "abc")
        with self.assertRaises(redis.ResponseError):
            s.incrbyfloat("text", 1)

    def test_append_strlen(self):
        s = self.s
        self.assertEqual(s.append("a", "Hello"), 5)
        self.assertEqual(s.append("a", " World"), 11)
        self.assertEqual(s.get("a"), "Hello World")
        self.assertEqual(s.strlen("a"), 11)
        self.assertEqual(s.strlen("missing"), 0)

    def test_setrange_getrange(self):
        r = self.r
        r.set("k", "Hello World")
        self.assertEqual(r.setrange("k", 6, "Redis"), 11)
        self.assertEqual(r.get("k"), b"Hello Redis")
        self.assertEqual(r.setrange("pad", 5, "x"), 6)            # zero padding
        self.assertEqual(r.get("pad"), b"\x00\x00\x00\x00\x00x")
        self.assertEqual(r.getrange("k", 0, 4), b"Hello")
        self.assertEqual(r.getrange("k", -5, -1), b"Redis")
        self.assertEqual(r.getrange("k", 0, -1), b"Hello Redis")
        self.assertEqual(r.getrange("k", 5, 3), b"")
        self.assertEqual(r.getrange("k", 100, 200), b"")
        self.assertEqual(r.getrange("missing", 0, -1), b"")
        self.assertEqual(r.substr("k", 0, 0), b"H")

    def test_lcs(self):
        s = self.s
        s.mset({"key1": "ohmytext", "key2": "mynewtext"})
        self.assertEqual(s.lcs("key1", "key2"), "mytext")
        self.assertEqual(s.lcs("key1", "key2", len=True), 6)
        self.assertEqual(s.lcs("key1", "key2", idx=True),
                         ["matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], "len", 6])
        self.assertEqual(s.lcs("key1", "key2", idx=True, minmatchlen=4, withmatchlen=True),
                         ["matches", [[[4, 7], [5, 8], 4]], "len", 6])
        self.assertEqual(s.lcs("key1", "missing"), "")

    def test_msetnx(self):
        s = self.s
        self.assertTrue(s.msetnx({"a": "1", "b": "2"}))
        self.assertFalse(s.msetnx({"b": "x", "c": "3"}))
        self.assertEqual(s.mget("a", "b", "c"), ["1", "2", None])

    # ------------------------------------------------------------ keys

    def test_rename_copy_move(self):
        s = self.s
        s.set("a", "1", ex=1000)
        self.assertTrue(s.rename("a", "b"))
        self.assertEqual(s.get("b"), "1")
        self.assertEqual(s.exists("a"), 0)
        self.assertTrue(0 < s.ttl("b") <= 1000)                  # TTL moves with the key
        with self.assertRaises(redis.ResponseError) as cm:
            s.rename("missing", "x")
        self.assertIn("no such key", str(cm.exception))
        s.set("c", "3")
        self.assertFalse(s.renamenx("b", "c"))
        self.assertTrue(s.renamenx("b", "d"))

        self.assertTrue(s.copy("d", "e"))
        self.assertFalse(s.copy("d", "e"))
        s.set("d", "changed")
        self.assertTrue(s.copy("d", "e", replace=True))
        self.assertEqual(s.get("e"), "changed")
        self.assertTrue(s.copy("d", "e", destination_db=3))
        other = self.server.client(db=3, decode_responses=True)
        try:
            self.assertEqual(other.get("e"), "changed")
            self.assertTrue(s.move("c", 3))
            self.assertEqual(s.exists("c"), 0)
            self.assertEqual(other.get("c"), "3")
            s.set("c", "again")
            self.assertFalse(s.move("c", 3))                       # exists in the target db
            self.assertFalse(s.move("missing", 3))
        finally:
            other.close()

    def test_type_touch_unlink_randomkey(self):
        s = self.s
        self.assertIsNone(s.randomkey())
        s.mset({"a": "1", "b": "2", "c": "3"})
        self.assertEqual(s.type("a"), "string")
        self.assertEqual(s.type("missing"), "none")
        self.assertEqual(s.touch("a", "b", "missing"), 2)
        self.assertIn(s.randomkey(), {"a", "b", "c"})
        self.assertEqual(s.unlink("a", "b", "missing"), 2)
        self.assertEqual(s.randomkey(), "c")
        self.assertEqual(s.dbsize(), 1)

    def test_scan_iter(self):
        s = self.s
        s.mset({f"user:{i}": i for i in range(500)})
        s.mset({f"item:{i}": i for i in range(100)})
        self.assertEqual(set(s.scan_iter()), {f"user:{i}" for i in range(500)} |
                         {f"item:{i}" for i in range(100)})
        self.assertEqual(set(s.scan_iter(match="item:*", count=7)), {f"item:{i}" for i in range(100)})
        self.assertEqual(set(s.scan_iter(match="user:4?", count=1000)),
                         {f"user:{i}" for i in range(40, 50)})
        self.assertEqual(len(set(s.scan_iter(_type="string", count=50))), 600)
        self.assertEqual(set(s.scan_iter(_type="hash")), set())
        self.assertEqual(set(s.scan_iter(match="item:1*", _type="string")),
                         {f"item:{i}" for i in [1] + list(range(10, 20))})
        self.assertEqual(sorted(s.keys("item:9*")), sorted(["item:9"] + [f"item:{i}" for i in range(90, 100)]))

    # ------------------------------------------------------------ expiry

    def test_expire_options(self):
        s = self.s
        s.set("k", "v")
        self.assertFalse(s.expire("k", 100, xx=True))            # no TTL yet
        self.assertFalse(s.expire("k", 100, gt=True))            # no TTL counts as infinite
        self.assertTrue(s.expire("k", 100, lt=True))
        self.assertFalse(s.expire("k", 200, nx=True))
        self.assertTrue(s.expire("k", 200, xx=True))
        self.assertTrue(s.expire("k", 300, gt=True))
        self.assertFalse(s.expire("k", 250, gt=True))
        self.assertTrue(s.expire("k", 250, lt=True))
        self.assertFalse(s.expire("k", 260, lt=True))
        self.assertTrue(200 < s.ttl("k") <= 250)
        self.assertFalse(s.expire("missing", 100))
        with self.assertRaises(redis.ResponseError):
            s.execute_command("EXPIRE", "k", "100", "NX", "XX")
        with self.assertRaises(redis.ResponseError):
            s.execute_command("EXPIRE", "k", "100", "GT", "LT")
        with self.assertRaises(redis.ResponseError):
            s.execute_command("EXPIRE", "k", "100", "BOGUS")

    def test_absolute_expiry(self):
        s = self.s
        s.set("k", "v")
        self.assertEqual(s.expiretime("k"), -1)
        self.assertEqual(s.expiretime("missing"), -2)
        self.assertEqual(s.pexpiretime("missing"), -2)
        at_ms = (int(time.time()) + 10_000) * 1000 + 456
        self.assertTrue(s.pexpireat("k", at_ms))
        self.assertEqual(s.pexpiretime("k"), at_ms)
        self.assertEqual(s.expiretime("k"), at_ms // 1000)
        self.assertFalse(s.pexpireat("k", at_ms + 1, nx=True))
        self.assertTrue(s.pexpireat("k", at_ms + 1, gt=True))
        self.assertEqual(s.pexpiretime("k"), at_ms + 1)
        self.assertTrue(s.expireat("k", at_ms // 1000 + 5))
        self.assertEqual(s.expiretime("k"), at_ms // 1000 + 5)
        self.assertTrue(s.persist("k"))
        self.assertFalse(s.persist("k"))
        self.assertEqual(s.ttl("k"), -1)
        self.assertTrue(s.pexpireat("k", 1000))                  # in the past: deleted
        self.assertEqual(s.exists("k"), 0)

    def test_expired_key_is_gone(self):
        """A key whose expiry time has passed is never returned. Uses PEXPIREAT
        in the past, so no waiting is involved."""
        s = self.s
        s.set("k", "v")
        s.pexpire("k", 10_000_000)
        self.assertTrue(s.pexpireat("k", int(time.time() * 1000) - 1))
        self.assertIsNone(s.get("k"))
        self.assertEqual(s.dbsize(), 0)
        self.assertEqual(s.set("gone", "v", pxat=1), True)
        self.assertIsNone(s.get("gone"))

    # ------------------------------------------------------------ pipelining

    def test_pipeline_10000(self):
        pipe = self.r.pipeline(transaction=False)
        expected = []
        for i in range(10_000):
            m = i % 4
            if m == 0:
                pipe.set(f"p:{i}", f"value-{i}")
                expected.append(True)
            elif m == 1:
                pipe.get(f"p:{i - 1}")
                expected.append(f"value-{i - 1}".encode())
            elif m == 2:
                pipe.incr("p:counter")
                expected.append(i // 4 + 1)
            else:
                pipe.exists(f"p:{i - 3}", f"p:missing:{i}")
                expected.append(1)
        results = pipe.execute()
        self.assertEqual(len(results), len(expected))
        for i, (got, want) in enumerate(zip(results, expected)):
            if got != want:
                self.fail(f"pipeline reply #{i} is {got!r}, expected {want!r}")
        self.assertEqual(self.r.get("p:counter"), b"2500")

    def test_pipeline_with_errors(self):
        pipe = self.s.pipeline(transaction=False)
        pipe.set("a", "x")
        pipe.incr("a")
        pipe.get("a")
        results = pipe.execute(raise_on_error=False)
        self.assertEqual(results[0], True)
        self.assertIsInstance(results[1], redis.ResponseError)
        self.assertEqual(results[2], "x")

    # ------------------------------------------------------------ RESP3

    def test_hello_3(self):
        version = tuple(int(p) for p in redis.__version__.split(".")[:2])
        if version < (5, 0):
            self.skipTest(f"redis-py {redis.__version__} has no protocol=3 (needs 5.0)")
        c = redis.Redis(host=self.server.host, port=self.server.port, protocol=3,
                        decode_responses=True)
        try:
            c.set("k", "v")
            self.assertEqual(c.get("k"), "v")
            self.assertEqual(c.mget("k", "missing"), ["v", None])
        finally:
            c.close()

    # ------------------------------------------------------------ binary / large

    def test_binary_safe(self):
        r = self.r
        every_byte = bytes(range(256))
        r.set(every_byte, every_byte)
        self.assertEqual(r.get(every_byte), every_byte)
        self.assertIn(every_byte, r.keys("*"))
        for b in range(256):
            key = b"bin:" + bytes([b])
            r.set(key, bytes([b]) * 3)
        for b in range(256):
            self.assertEqual(r.get(b"bin:" + bytes([b])), bytes([b]) * 3, b)
        self.assertEqual(r.append(every_byte, b"\r\n\x00"), 259)
        self.assertEqual(r.getrange(every_byte, 254, -1), b"\xfe\xff\r\n\x00")
        self.assertEqual(r.set(b"", b""), True)                  # empty key and value
        self.assertEqual(r.get(b""), b"")
        self.assertEqual(r.strlen(b""), 0)

    def test_large_values(self):
        r = self.r
        value = bytes(range(256)) * (TEN_MB // 256)
        self.assertTrue(r.set("big", value))
        self.assertEqual(r.strlen("big"), TEN_MB)
        self.assertEqual(r.get("big"), value)
        self.assertEqual(r.append("big", b"tail"), TEN_MB + 4)
        self.assertEqual(r.getrange("big", TEN_MB - 2, -1), b"\xfe\xfftail")
        self.assertEqual(r.setrange("big2", TEN_MB - 1, b"!"), TEN_MB)
        self.assertEqual(r.getrange("big2", 0, 3), b"\x00\x00\x00\x00")
        r.delete("big", "big2")

    # ------------------------------------------------------------ connection / databases

    def test_client_name_and_id(self):
        a = self.server.client(single_connection_client=True, decode_responses=True)
        b = self.server.client(single_connection_client=True, decode_responses=True)
        try:
            self.assertIsNone(a.client_getname())
            self.assertTrue(a.client_setname("worker-1"))
            self.assertEqual(a.client_getname(), "worker-1")
            self.assertIsNone(b.client_getname())
            ida, idb = a.client_id(), b.client_id()
            self.assertIsInstance(ida, int)
            self.assertNotEqual(ida, idb)
            self.assertEqual(a.client_id(), ida)
            with self.assertRaises(redis.ResponseError):
                a.client_setname("has space")
        finally:
            a.close()
            b.close()

    def test_select_db(self):
        db2 = self.server.client(db=2, decode_responses=True)
        try:
            db2.set("where", "two")
            self.s.set("where", "zero")
            self.assertEqual(db2.get("where"), "two")
            self.assertEqual(self.s.get("where"), "zero")
            self.assertEqual(db2.dbsize(), 1)
            db2.flushdb()
            self.assertEqual(db2.dbsize(), 0)
            self.assertEqual(self.s.get("where"), "zero")
        finally:
            db2.close()
        with self.assertRaises(redis.ResponseError):
            self.s.execute_command("SELECT", "16")

    def test_ping_echo(self):
        self.assertTrue(self.s.ping())
        self.assertEqual(self.s.echo("hello"), "hello")


if __name__ == "__main__":
    harness.main()
