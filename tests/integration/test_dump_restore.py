"""DUMP / RESTORE and RDB files against a reference redis-server 7.0.

Values move between the real redis-server and distcache in both directions:
every payload DUMPed by either server is RESTOREd into both (database 1),
and the two restored keys must have the same content and OBJECT ENCODING
(the encoding a restore produces depends on the configuration, so both
targets are compared with each other), and the same content as the key it
was dumped from. Payloads of deterministic encodings must be byte-identical.
The datasets cover every type and encoding on both sides of every conversion
threshold, big values (LZF), HyperLogLogs and streams with consumer groups,
PELs and deleted entries, plus seeded random datasets. RESTORE's options
(TTL, ABSTTL, REPLACE, IDLETIME, FREQ) and its errors are compared reply by
reply, payloads in the encodings only older Redis versions write (ziplist,
zipmap, linked list, quicklist of ziplists, text scores, stream v1) are built
by hand here, and blocked clients are woken by a restored key.

Whole files: the unit test binary (tests/unit_tests, next to the server; or
$DISTCACHE_UNIT_TESTS) writes an RDB file with RdbWriter, which
redis-check-rdb must accept and redis-server must load with the content the
writer describes in a manifest; and it loads a file the real redis-server
SAVEd with every type, describing what it read in the same manifest form,
which must match what redis-server itself holds after loading the file.
"""

import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RespError  # noqa: E402

# --------------------------------------------------------------------------- RDB bytes

_CRC_POLY = 0x95ac9329ac4bc9b5  # Jones polynomial, reflected
_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _CRC_POLY if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def crc64(data, crc=0):
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xff] ^ (crc >> 8)
    return crc


def payload(body, version=10):
    """A DUMP payload: body + RDB version (2 bytes LE) + CRC-64 (8 bytes LE)."""
    b = body + struct.pack("<H", version)
    return b + struct.pack("<Q", crc64(b))


def b_(s):
    return s.encode() if isinstance(s, str) else s


def rlen(n):
    if n < 64:
        return bytes([n])
    if n < 16384:
        return bytes([0x40 | (n >> 8), n & 0xff])
    if n <= 0xffffffff:
        return b"\x80" + struct.pack(">I", n)
    return b"\x81" + struct.pack(">Q", n)


def rstr(s):
    s = b_(s)
    return rlen(len(s)) + s


def ziplist(items):
    """A ziplist (Redis <= 6.2) of str/bytes/int items."""
    body, prev, tail = b"", 0, 10
    for v in items:
        pl = bytes([prev]) if prev < 254 else b"\xfe" + struct.pack("<I", prev)
        if isinstance(v, int):
            if 0 <= v <= 12:
                enc = bytes([0xF1 + v])
            elif -128 <= v <= 127:
                enc = b"\xfe" + struct.pack("<b", v)
            elif -32768 <= v <= 32767:
                enc = b"\xc0" + struct.pack("<h", v)
            elif -(1 << 23) <= v < (1 << 23):
                enc = b"\xf0" + struct.pack("<i", v)[:3]
            elif -(1 << 31) <= v < (1 << 31):
                enc = b"\xd0" + struct.pack("<i", v)
            else:
                enc = b"\xe0" + struct.pack("<q", v)
        else:
            v = b_(v)
            n = len(v)
            if n < 64:
                enc = bytes([n]) + v
            elif n < 16384:
                enc = bytes([0x40 | (n >> 8), n & 0xff]) + v
            else:
                enc = b"\x80" + struct.pack(">I", n) + v
        tail = 10 + len(body)
        body += pl + enc
        prev = len(pl + enc)
    return struct.pack("<IIH", 10 + len(body) + 1, tail, min(len(items), 65535)) + body + b"\xff"


def zipmap(pairs):
    """A zipmap (Redis <= 2.4 hashes)."""
    def zl(n):
        return bytes([n]) if n < 254 else b"\xfe" + struct.pack("<I", n)
    out = bytes([min(len(pairs), 254)])
    for f, v in pairs:
        f, v = b_(f), b_(v)
        out += zl(len(f)) + f + zl(len(v)) + b"\x00" + v
    return out + b"\xff"


def listpack(items):
    """A listpack of str/bytes/int items (integers as Redis encodes them)."""
    def backlen(n):
        size = 1 if n <= 127 else 2 if n < 16383 else 3 if n < 2097151 else 4 if n < 268435455 else 5
        return bytes(((n >> (7 * (size - 1 - i))) & 127) | (0 if i == 0 else 128) for i in range(size))
    body = b""
    for v in items:
        if isinstance(v, int):
            if 0 <= v <= 127:
                e = bytes([v])
            elif -4096 <= v <= 4095:
                u = v & 0x1fff
                e = bytes([0xC0 | (u >> 8), u & 0xff])
            elif -32768 <= v <= 32767:
                e = b"\xf1" + struct.pack("<h", v)
            elif -(1 << 23) <= v < (1 << 23):
                e = b"\xf2" + struct.pack("<i", v)[:3]
            elif -(1 << 31) <= v < (1 << 31):
                e = b"\xf3" + struct.pack("<i", v)
            else:
                e = b"\xf4" + struct.pack("<q", v)
        else:
            v = b_(v)
            n = len(v)
            if n < 64:
                e = bytes([0x80 | n]) + v
            elif n < 4096:
                e = bytes([0xE0 | (n >> 8), n & 0xff]) + v
            else:
                e = b"\xf0" + struct.pack("<I", n) + v
        body += e + backlen(len(e))
    return struct.pack("<IH", 6 + len(body) + 1, min(len(items), 65535)) + body + b"\xff"


def stream_id_raw(ms, seq):
    return struct.pack(">QQ", ms, seq)


# --------------------------------------------------------------------------- datasets

def big_pattern(n):
    return bytes((i * 7 + (i >> 8)) & 0xff for i in range(n))


def dataset_commands():
    """Commands building one key of every type and encoding, both sides of
    every threshold (Redis 7.0 defaults), as lists of arguments."""
    cmds = []
    add = cmds.append
    # strings
    add(["SET", "str:short", "hello"])
    add(["SET", "str:int", "12345"])
    add(["SET", "str:int8", "-100"])
    add(["SET", "str:int16", "30000"])
    add(["SET", "str:int32max", "2147483647"])
    add(["SET", "str:int33", "2147483648"])
    add(["SET", "str:int64", "-9223372036854775808"])
    add(["SET", "str:notint", "007"])
    add(["SET", "str:empty", ""])
    add(["SET", "str:embstr", "e" * 44])
    add(["SET", "str:raw", "r" * 45])
    add(["SET", "str:lzf", "abcdefgh" * 300])
    add(["SET", "str:lzf21", "a" * 21])
    add(["SET", "str:incompressible", bytes(random.Random(7).getrandbits(8) for _ in range(300))])
    add(["SET", "str:binary", bytes(range(256))])
    add(["SET", "str:big", big_pattern(600_000)])
    add(["SET", "str:appended", "12"])
    add(["APPEND", "str:appended", "34"])
    # HyperLogLogs (strings in Redis's sparse and dense formats)
    add(["PFADD", "hll:sparse", "a", "b", "c"])
    add(["PFADD", "hll:dense"] + [f"e{i}" for i in range(3000)])
    # lists
    add(["RPUSH", "list:small", "a", "b", "1", "300", "-5000", "100000", "-100000000", "12345678901234", "x" * 70])
    add(["RPUSH", "list:ints"] + [str(v) for v in (0, 127, 128, -1, 4095, -4096, 4096, 32767, -32768, 32768,
                                                  8388607, -8388608, 8388608, 2**31 - 1, -2**31, 2**31,
                                                  2**63 - 1, -2**63)])
    add(["RPUSH", "list:nodes"] + [f"element-{i}" for i in range(3000)])
    add(["LPUSH", "list:lpushed"] + [str(i) for i in range(1000)])
    add(["RPUSH", "list:bigelems", "small", "y" * 10000, "z" * 100_000, "tail"])
    # sets
    add(["SADD", "set:int16"] + [str(i) for i in range(-50, 50)])
    add(["SADD", "set:int32", "1", "70000", "-70000"])
    add(["SADD", "set:int64", "1", str(2**40), str(-2**62)])
    add(["SADD", "set:intset512"] + [str(i * 3) for i in range(512)])
    add(["SADD", "set:ht513"] + [str(i * 3) for i in range(513)])
    add(["SADD", "set:strings", "apple", "banana", "cherry", "d" * 100])
    add(["SADD", "set:mixed", "1", "2", "three"])
    add(["SADD", "set:shrunk"] + [str(i) for i in range(600)])
    add(["SREM", "set:shrunk"] + [str(i) for i in range(10, 600)])
    # sorted sets
    add(["ZADD", "zset:lp", "1", "a", "2.5", "b", "-3", "c", "inf", "d", "-inf", "e", "0.1", "f", "1e20", "g",
         "9007199254740992", "h", "-0", "i", "1.5e-7", "j", "123456789012", "k", "4503599627370496", "l"])
    add(["ZADD", "zset:lp128"] + sum([[str(i), f"m{i}"] for i in range(128)], []))
    add(["ZADD", "zset:sl129"] + sum([[str(i * 0.5), f"m{i}"] for i in range(129)], []))
    add(["ZADD", "zset:member64", "1", "m" * 64, "2", "n"])
    add(["ZADD", "zset:member65", "1", "m" * 65, "2", "n"])
    add(["ZADD", "zset:shrunk"] + sum([[str(i), f"m{i}"] for i in range(200)], []))
    add(["ZREMRANGEBYRANK", "zset:shrunk", "5", "-1"])
    add(["ZADD", "zset:samescore"] + sum([["7", f"x{i}"] for i in range(300)], []))
    # hashes
    add(["HSET", "hash:lp", "f", "v", "n", "5", "neg", "-300", "big", "10000000000", "e", ""])
    add(["HSET", "hash:lp512"] + sum([[f"f{i}", f"v{i}"] for i in range(512)], []))
    add(["HSET", "hash:ht513"] + sum([[f"f{i}", f"v{i}"] for i in range(513)], []))
    add(["HSET", "hash:value64", "f", "v" * 64])
    add(["HSET", "hash:value65", "f", "v" * 65])
    add(["HSET", "hash:field65", "f" * 65, "v"])
    add(["HSET", "hash:shrunk"] + sum([[f"f{i}", str(i)] for i in range(600)], []))
    add(["HDEL", "hash:shrunk"] + [f"f{i}" for i in range(5, 600)])
    # streams
    for i in range(1, 8):
        add(["XADD", "stream:simple", f"{i}-0", "sensor", str(i), "reading", str(i * 1.5)])
    for i in range(1, 301):
        if i % 25 == 0:
            add(["XADD", "stream:groups", f"{i}-0", "other", "shape", "x", "y" * (i % 13)])
        else:
            add(["XADD", "stream:groups", f"{i}-{i % 3}", "a", str(i), "b", "v" * (i % 7)])
    add(["XDEL", "stream:groups", "5-2", "7-1", "150-0", "300-0"])
    add(["XGROUP", "CREATE", "stream:groups", "readers", "0"])
    add(["XGROUP", "CREATE", "stream:groups", "late", "$"])
    add(["XGROUP", "CREATE", "stream:groups", "pinned", "100-0", "ENTRIESREAD", "90"])
    add(["XREADGROUP", "GROUP", "readers", "alice", "COUNT", "5", "STREAMS", "stream:groups", ">"])
    add(["XREADGROUP", "GROUP", "readers", "bob", "COUNT", "3", "STREAMS", "stream:groups", ">"])
    add(["XREADGROUP", "GROUP", "pinned", "carol", "COUNT", "2", "STREAMS", "stream:groups", ">"])
    add(["XGROUP", "CREATECONSUMER", "stream:groups", "readers", "dave"])
    add(["XACK", "stream:groups", "readers", "1-1"])
    add(["XCLAIM", "stream:groups", "readers", "dave", "0", "2-2"])
    add(["XTRIM", "stream:groups", "MAXLEN", "250"])
    add(["XSETID", "stream:groups", "1000-5", "ENTRIESADDED", "400", "MAXDELETEDID", "999-0"])
    add(["XADD", "stream:emptied", "1-1", "f", "v"])
    add(["XDEL", "stream:emptied", "1-1"])
    add(["XGROUP", "CREATE", "stream:onlygroup", "g", "$", "MKSTREAM"])
    return cmds


DETERMINISTIC_DUMP = (  # keys whose DUMP bytes must be equal on both servers
    "str:", "hll:", "list:small", "list:ints", "list:bigelems", "set:int", "set:intset512", "zset:", "hash:lp",
    "hash:value64", "stream:simple", "stream:emptied")


def random_commands(seed, n=400):
    """A seeded random dataset: writes (and some deletions) over a few keys
    of every type, small enough to stay compact or crossing thresholds."""
    rnd = random.Random(seed)
    cmds = []

    def member():
        r = rnd.random()
        if r < 0.3:
            return str(rnd.randint(-300, 300))
        if r < 0.4:
            return str(rnd.randint(-2**63, 2**63 - 1))
        if r < 0.5:
            return "w" * rnd.randint(0, 90)
        return f"m{rnd.randint(0, 700)}"

    stream_ms = {}
    for _ in range(n):
        t = rnd.randrange(7)
        k = rnd.randrange(3)
        if t == 0:
            cmds.append(["SET", f"s{k}", member()])
        elif t == 1:
            cmds.append([rnd.choice(["RPUSH", "LPUSH"]), f"l{k}"] + [member() for _ in range(rnd.randint(1, 60))])
            if rnd.random() < 0.2:
                cmds.append(["LTRIM", f"l{k}", str(rnd.randint(0, 5)), str(rnd.randint(-5, -1))])
        elif t == 2:
            cmds.append(["SADD", f"set{k}"] + [member() for _ in range(rnd.randint(1, 80))])
            if rnd.random() < 0.3:
                cmds.append(["SREM", f"set{k}"] + [member() for _ in range(20)])
        elif t == 3:
            args = []
            for _ in range(rnd.randint(1, 50)):
                args += [rnd.choice([str(rnd.randint(-100, 100)), repr(rnd.uniform(-1e6, 1e6)), "inf", "-inf"]),
                         member()]
            cmds.append(["ZADD", f"z{k}"] + args)
            if rnd.random() < 0.3:
                cmds.append(["ZREMRANGEBYRANK", f"z{k}", "0", str(rnd.randint(0, 30))])
        elif t == 4:
            args = []
            for _ in range(rnd.randint(1, 60)):
                args += [member(), member()]
            cmds.append(["HSET", f"h{k}"] + args)
            if rnd.random() < 0.3:
                cmds.append(["HDEL", f"h{k}"] + [member() for _ in range(20)])
        elif t == 5:
            key = f"x{k}"
            for _ in range(rnd.randint(1, 30)):
                stream_ms[key] = stream_ms.get(key, 0) + rnd.randint(0, 3)
                fields = ["f", member()] if rnd.random() < 0.7 else [member(), member(), "g", member()]
                cmds.append(["XADD", key, f"{stream_ms[key]}-*"] + fields)
            if rnd.random() < 0.3:
                cmds.append(["XDEL", key] + [f"{rnd.randint(0, stream_ms[key])}-{rnd.randint(0, 2)}"
                                             for _ in range(5)])
            if rnd.random() < 0.3:
                cmds.append(["XGROUP", "CREATE", key, f"g{rnd.randint(0, 2)}", "0"])
                cmds.append(["XREADGROUP", "GROUP", f"g{rnd.randint(0, 2)}", f"c{rnd.randint(0, 3)}", "COUNT",
                             str(rnd.randint(1, 10)), "STREAMS", key, ">"])
        else:
            cmds.append(["PFADD", f"hll{k}"] + [member() for _ in range(rnd.randint(1, 200))])
    return cmds


# --------------------------------------------------------------------------- reading values back

def pairs(flat):
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def content(c, key):
    """(type, content) of a key over a RawConnection; exact for every type
    (stream: XINFO STREAM FULL, whose times are restored exactly)."""
    t = c.command("TYPE", key)
    if t == "string":
        return t, c.command("GET", key)
    if t == "list":
        return t, c.command("LRANGE", key, 0, -1)
    if t == "set":
        return t, sorted(c.command("SMEMBERS", key))
    if t == "zset":
        return t, c.command("ZRANGE", key, 0, -1, "WITHSCORES")
    if t == "hash":
        return t, sorted(pairs(c.command("HGETALL", key)))
    if t == "stream":
        return t, c.command("XINFO", "STREAM", key, "FULL", "COUNT", 0)
    return t, None


def encoding(c, key):
    return c.command("OBJECT", "ENCODING", key)


def fmt_score(x):
    return "%.17g" % x


def hexs(b):
    return b_(b).hex()


def manifest_line(c, db, key):
    """The line the unit tests' manifest writer produces for a key (see
    test_rdb.cpp: manifest_line)."""
    c.command("SELECT", db)
    t = c.command("TYPE", key)
    enc = c.command("OBJECT", "ENCODING", key).decode()
    exp = c.command("PEXPIRETIME", key)
    if t == "string":
        body = hexs(c.command("GET", key))
    elif t == "list":
        body = ",".join(hexs(e) for e in c.command("LRANGE", key, 0, -1))
    elif t == "set":
        body = ",".join(sorted(hexs(e) for e in c.command("SMEMBERS", key)))
    elif t == "zset":
        flat = c.command("ZRANGE", key, 0, -1, "WITHSCORES")
        body = ",".join(hexs(m) + ":" + fmt_score(float(s)) for m, s in pairs(flat))
    elif t == "hash":
        body = ",".join(sorted(hexs(f) + "=" + hexs(v) for f, v in pairs(c.command("HGETALL", key))))
    else:
        info = dict(pairs(c.command("XINFO", "STREAM", key, "FULL", "COUNT", 0)))
        entries = ",".join(e[0].decode() + ":" + "|".join(hexs(f) + "=" + hexs(v) for f, v in pairs(e[1]))
                           for e in info[b"entries"])
        groups = []
        for g in info[b"groups"]:
            g = dict(pairs(g))
            er = g[b"entries-read"]
            pel = "|".join(f"{p[0].decode()}/{p[2]}/{p[3]}/{hexs(p[1])}" for p in g[b"pending"])
            cons = "|".join(f"{hexs(cd[b'name'])}/{cd[b'seen-time']}/{cd[b'pel-count']}"
                            for cd in (dict(pairs(x)) for x in g[b"consumers"]))
            groups.append(f"{hexs(g[b'name'])}:{g[b'last-delivered-id'].decode()}:"
                          f"{-1 if er is None else er}:{pel}:{cons}")
        body = (f"len={info[b'length']};last={info[b'last-generated-id'].decode()};"
                f"first={info[b'recorded-first-entry-id'].decode()};"
                f"maxdel={info[b'max-deleted-entry-id'].decode()};added={info[b'entries-added']};"
                f"entries={entries};groups={','.join(groups)}")
    return f"{db}\t{hexs(key)}\t{t}\t{enc}\t{exp}\t{body}"


def server_manifest(c, databases=16):
    """Every key of every database, plus function libraries, as manifest lines."""
    lines = []
    for db in range(databases):
        c.command("SELECT", db)
        cursor, keys = b"0", []
        while True:
            cursor, batch = c.command("SCAN", cursor, "COUNT", 1000)
            keys += batch
            if cursor == b"0":
                break
        for k in sorted(set(keys)):
            lines.append(manifest_line(c, db, k))
    c.command("SELECT", 0)
    for lib in c.command("FUNCTION", "LIST", "WITHCODE"):
        lib = dict(pairs(lib))
        lines.append("F\t" + hexs(lib[b"library_code"]))
    return sorted(lines)


def unit_tests_binary():
    path = os.environ.get("DISTCACHE_UNIT_TESTS")
    if not path:
        path = os.path.join(os.path.dirname(harness.server_binary()), "tests", "unit_tests")
    return path


REDIS_CHECK_RDB = shutil.which("redis-check-rdb") or "/usr/bin/redis-check-rdb"


# --------------------------------------------------------------------------- tests

class DumpRestoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._stack = []
        cm = harness.start_server(reference=True)
        cls.redis = cm.__enter__()
        cls._stack.append(cm)
        cm = harness.start_server(distcache_args=["--threads", "2"])
        cls.dc = cm.__enter__()
        cls._stack.append(cm)
        cls.r = cls.redis.raw(timeout=60)
        cls.d = cls.dc.raw(timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.r.close()
        cls.d.close()
        for cm in reversed(cls._stack):
            cm.__exit__(None, None, None)

    def setUp(self):
        for c in (self.r, self.d):
            c.command("SELECT", 0)
            c.command("FLUSHALL")

    # ---- helpers

    def both(self, *args):
        return self.r.command(*args), self.d.command(*args)

    def run_on(self, c, cmds):
        for cmd in cmds:
            reply = c.command(*cmd)
            self.assertNotIsInstance(reply, RespError, f"{cmd[:3]}: {reply}")

    def keys(self, c):
        return sorted(c.command("KEYS", "*"))

    def restore_both(self, key, data, *options):
        """RESTOREs a payload into database 1 of both servers; compares the
        replies, and for a restored key the content and encoding."""
        replies = []
        for c in (self.r, self.d):
            c.command("SELECT", 1)
            replies.append(c.command("RESTORE", key, 0, data, "REPLACE", *options))
        self.assertEqual(replies[0], replies[1], f"RESTORE {key!r}")
        if replies[0] == "OK":
            self.assertEqual(content(self.r, key), content(self.d, key), f"restored {key!r}")
            self.assertEqual(encoding(self.r, key), encoding(self.d, key), f"encoding of restored {key!r}")
        for c in (self.r, self.d):
            c.command("SELECT", 0)
        return replies[0]

    def cross_check(self, what):
        """Both directions for every key of database 0 (same keys on both)."""
        keys = self.keys(self.r)
        self.assertEqual(keys, self.keys(self.d), what)
        for key in keys:
            with self.subTest(key=key, what=what):
                src = {"redis": self.r, "distcache": self.d}
                for name, c in src.items():
                    data = c.command("DUMP", key)
                    self.assertIsInstance(data, bytes)
                    self.assertEqual(self.restore_both(key, data), "OK", f"{name} payload of {key!r}")
                    original = content(c, key)
                    self.d.command("SELECT", 1)
                    restored = content(self.d, key)
                    self.d.command("SELECT", 0)
                    self.assertEqual(original, restored, f"{name} payload of {key!r} restored into distcache")

    # ---- both directions, every type and encoding

    def test_every_type_and_encoding_both_directions(self):
        cmds = dataset_commands()
        self.run_on(self.r, cmds)
        self.run_on(self.d, cmds)
        for key in self.keys(self.r):
            self.assertEqual(encoding(self.r, key), encoding(self.d, key), f"dataset encoding of {key!r}")
        self.cross_check("dataset")

    def test_deterministic_payloads_are_byte_identical(self):
        cmds = [c for c in dataset_commands() if not c[0].startswith("X") or "simple" in c[1] or "emptied" in c[1]]
        self.run_on(self.r, cmds)
        self.run_on(self.d, cmds)
        checked = 0
        for key in self.keys(self.r):
            if key.decode().startswith(DETERMINISTIC_DUMP):
                with self.subTest(key=key):
                    self.assertEqual(self.r.command("DUMP", key).hex(), self.d.command("DUMP", key).hex())
                    checked += 1
        self.assertGreater(checked, 30)

    def test_random_datasets(self):
        for seed in range(1, 9):
            with self.subTest(seed=seed):
                self.setUp()
                cmds = random_commands(seed)
                for cmd in cmds:
                    a, b = self.both(*cmd)
                    if isinstance(a, RespError) or cmd[0] == "XADD":
                        continue  # XADD ...-* IDs are compared through the content below
                    self.assertEqual(a, b, f"seed {seed}: {cmd[:3]}")
                self.cross_check(f"random seed {seed}")

    def test_hyperloglog_counts(self):
        self.r.command("PFADD", "h", *[f"v{i}" for i in range(5000)])
        self.r.command("PFADD", "s", "x", "y")
        for key in ("h", "s"):
            data = self.r.command("DUMP", key)
            self.assertEqual(self.d.command("RESTORE", key, 0, data), "OK")
            self.assertEqual(self.d.command("PFCOUNT", key), self.r.command("PFCOUNT", key))
            self.both("PFADD", key, "new-1", "new-2")
            self.assertEqual(self.d.command("PFCOUNT", key), self.r.command("PFCOUNT", key))
            self.assertEqual(self.d.command("GET", key), self.r.command("GET", key))

    def test_streams_keep_working_after_restore(self):
        cmds = [c for c in dataset_commands() if c[1] == "stream:groups" or (len(c) > 2 and c[2] == "stream:groups")]
        self.run_on(self.r, cmds)
        data = self.r.command("DUMP", "stream:groups")
        self.assertEqual(self.d.command("RESTORE", "stream:groups", 0, data), "OK")
        for cmd in (["XINFO", "STREAM", "stream:groups", "FULL", "COUNT", 0],
                    ["XINFO", "GROUPS", "stream:groups"],
                    ["XPENDING", "stream:groups", "readers"],
                    ["XPENDING", "stream:groups", "readers", "-", "+", 100],
                    ["XRANGE", "stream:groups", "-", "+", "COUNT", 20],
                    ["XREVRANGE", "stream:groups", "+", "-", "COUNT", 20],
                    ["XLEN", "stream:groups"],
                    ["XREADGROUP", "GROUP", "readers", "alice", "COUNT", "4", "STREAMS", "stream:groups", ">"],
                    ["XREADGROUP", "GROUP", "pinned", "carol", "COUNT", "4", "STREAMS", "stream:groups", "0"],
                    ["XACK", "stream:groups", "readers", "2-2", "3-0", "4-1"],
                    ["XDEL", "stream:groups", "60-0", "61-1"],
                    ["XADD", "stream:groups", "2000-0", "a", "b"],
                    ["XADD", "stream:groups", "1000-5", "a", "b"],
                    ["XTRIM", "stream:groups", "MINID", "~", "120"],
                    ["XINFO", "STREAM", "stream:groups"],
                    ["XGROUP", "DELCONSUMER", "stream:groups", "readers", "bob"],
                    ["XINFO", "STREAM", "stream:groups", "FULL", "COUNT", 0]):
            a, b = self.both(*cmd)
            if cmd[0] in ("XPENDING",) and isinstance(a, list) and len(cmd) > 3:
                a = [e[:2] + e[3:] for e in a]  # idle times differ
                b = [e[:2] + e[3:] for e in b]
            if cmd[0] == "XREADGROUP" or (cmd[:2] == ["XINFO", "STREAM"] and "FULL" in cmd) or cmd[1] == "GROUPS":
                a, b = self.strip_times(a), self.strip_times(b)
            self.assertEqual(a, b, f"{cmd}")

    def strip_times(self, x):
        """Drops absolute times that are set by commands run after the restore."""
        if isinstance(x, list):
            out = []
            skip = False
            for i, e in enumerate(x):
                if skip:
                    skip = False
                    out.append("<time>")
                    continue
                if e in (b"seen-time", b"delivery-time"):
                    skip = True
                out.append(self.strip_times(e))
            return out
        if isinstance(x, int) and x >= 10 ** 12:  # a unix time in ms (the delivery time of a PEL entry)
            return "<time>"
        return x

    def test_configured_thresholds_apply_on_restore(self):
        cmds = dataset_commands()
        self.run_on(self.r, cmds)
        payloads = {k: self.r.command("DUMP", k) for k in self.keys(self.r)}
        settings = [("hash-max-listpack-entries", "4"), ("hash-max-listpack-value", "8"),
                    ("zset-max-listpack-entries", "5"), ("zset-max-listpack-value", "6"),
                    ("set-max-intset-entries", "10"), ("list-max-listpack-size", "5")]
        try:
            for name, value in settings:
                self.assertEqual(self.both("CONFIG", "SET", name, value), ("OK", "OK"))
            for key, data in payloads.items():
                with self.subTest(key=key):
                    self.assertEqual(self.restore_both(key, data), "OK")
        finally:
            for name, value in (("hash-max-listpack-entries", "512"), ("hash-max-listpack-value", "64"),
                                ("zset-max-listpack-entries", "128"), ("zset-max-listpack-value", "64"),
                                ("set-max-intset-entries", "512"), ("list-max-listpack-size", "-2")):
                self.both("CONFIG", "SET", name, value)

    # ---- RESTORE options and errors

    def test_ttl_absttl_replace(self):
        self.r.command("SET", "src", "value")
        data = self.r.command("DUMP", "src")
        now_ms = int(time.time() * 1000)
        self.assertEqual(self.both("RESTORE", "k1", 5000, data), ("OK", "OK"))
        pttl = self.d.command("PTTL", "k1")
        self.assertTrue(4000 < pttl <= 5000, pttl)
        self.assertEqual(self.both("RESTORE", "k2", now_ms + 100_000, data, "ABSTTL"), ("OK", "OK"))
        self.assertEqual(self.d.command("PEXPIRETIME", "k2"), now_ms + 100_000)
        # An absolute TTL in the past: OK, but no key (an old one is deleted with REPLACE).
        self.assertEqual(self.both("RESTORE", "k3", 1000, data, "ABSTTL"), ("OK", "OK"))
        self.assertEqual(self.both("EXISTS", "k3"), (0, 0))
        self.both("SET", "k4", "old")
        self.assertEqual(self.both("RESTORE", "k4", 1000, data, "ABSTTL", "REPLACE"), ("OK", "OK"))
        self.assertEqual(self.both("EXISTS", "k4"), (0, 0))
        # A relative TTL so big that the sum wraps: already expired for both.
        self.assertEqual(self.both("RESTORE", "k5", 2**63 - 1, data), ("OK", "OK"))
        self.assertEqual(self.both("EXISTS", "k5"), (0, 0))
        # REPLACE over another type, TTL dropped by a 0 TTL.
        self.both("RPUSH", "k6", "a")
        self.both("EXPIRE", "k6", 100)
        self.assertEqual(self.both("RESTORE", "k6", 0, data, "REPLACE"), ("OK", "OK"))
        self.assertEqual(self.both("TYPE", "k6"), ("string", "string"))
        self.assertEqual(self.both("TTL", "k6"), (-1, -1))
        self.assertEqual(self.both("RESTORE", "k6", 0, data, "REPLACE", "IDLETIME", 100), ("OK", "OK"))
        self.assertEqual(self.both("RESTORE", "k6", 0, data, "REPLACE", "FREQ", 100), ("OK", "OK"))
        self.assertEqual(self.both("GET", "k6"), (b"value", b"value"))
        # An expired key does not count as existing.
        self.both("SET", "k7", "x", "PX", 1)
        time.sleep(0.01)
        self.assertEqual(self.both("RESTORE", "k7", 0, data), ("OK", "OK"))

    def test_errors_match_redis(self):
        self.r.command("SET", "src", "value")
        good = self.r.command("DUMP", "src")
        self.r.command("RPUSH", "lsrc", "a", "b")
        lgood = self.r.command("DUMP", "lsrc")
        body = good[:-10]
        bad_crc = good[:-1] + bytes([good[-1] ^ 1])
        v11 = payload(body, 11)
        v1 = payload(body, 1)
        truncated_list = payload(lgood[:-14])
        self.both("SET", "exists", "x")
        cases = [
            ["RESTORE", "exists", 0, good],
            ["RESTORE", "exists", "notanumber", b"garbage"],
            ["RESTORE", "exists", 0, good, "REPLACE", "bogus"],
            ["RESTORE", "new", "notanumber", b"garbage"],
            ["RESTORE", "new", -1, b"garbage"],
            ["RESTORE", "new", 0, b"garbage"],
            ["RESTORE", "new", 0, b""],
            ["RESTORE", "new", 0, bad_crc],
            ["RESTORE", "new", 0, v11],
            ["RESTORE", "v1", 0, v1],
            ["RESTORE", "new", 0, truncated_list],
            ["RESTORE", "new", 0, payload(b"\x02\x00")],              # empty set
            ["RESTORE", "new", 0, payload(b"\x12\x00")],              # empty quicklist
            ["RESTORE", "new", 0, payload(b"\x07" + b"\x00" * 9)],    # module value
            ["RESTORE", "new", 0, payload(b"\x08\x00")],              # unknown type
            ["RESTORE", "new", 0, payload(b"\x14\x00")],              # type 20 (Redis 7.2)
            ["RESTORE", "new", 0, payload(b"\x00")],                  # string without length
            ["RESTORE", "new", 0, payload(b"\x00\xc3\x05\x10abcde")],  # LZF that does not decompress
            ["RESTORE", "new", 0, payload(b"\x00\x05hello" + b"trailing")],  # bytes after the value: ignored
            ["RESTORE", "new2", 0, good, "IDLETIME", -1],
            ["RESTORE", "new2", 0, good, "IDLETIME", "x"],
            ["RESTORE", "new2", 0, good, "IDLETIME"],
            ["RESTORE", "new2", 0, good, "FREQ", 256],
            ["RESTORE", "new2", 0, good, "FREQ", -1],
            ["RESTORE", "new2", 0, good, "FREQ", 1, "IDLETIME", 5],
            ["RESTORE", "new2", 0, good, "IDLETIME", 1, "FREQ", 5],
            ["RESTORE", "new2", 0, good, "FREQ", 1, "FREQ", 5, "ABSTTL"],
            ["RESTORE", "new3", 0, good, "idletime", 1, "idletime", 5, "replace"],
            ["RESTORE", "new3", 0],
            ["RESTORE", "new4", 9223372036854775808, good],
            ["DUMP", "missing"],
            ["DUMP"],
            ["DUMP", "a", "b"],
            ["RESTORE-ASKING", "ra", 0, good],
            ["GET", "ra"],
        ]
        for cmd in cases:
            a, b = self.both(*cmd)
            self.assertEqual(a, b, f"{[x if not isinstance(x, bytes) or len(x) < 40 else x[:20] for x in cmd]}")

    def test_old_encodings(self):
        """Payloads in encodings Redis 7.0 reads but no longer writes, built by
        hand, restore to the same content and encoding on both servers."""
        z = [("c", -7), ("a", 1), ("b", "2.5"), ("d", "inf")]  # sorted, as Redis keeps them
        cases = {
            "list-linked": b"\x01" + rlen(3) + rstr("a") + rstr("bb") + b"\xc0\x05",
            "list-ziplist": b"\x0a" + rstr(ziplist(["a", 5, 1000, "x" * 300, -1 << 40, "y" * 20000, 12, 13,
                                                    -128, 127, 1 << 20, -(1 << 31)])),
            "quicklist-v1": b"\x0e" + rlen(3) + rstr(ziplist(["a", "b"])) + rstr(ziplist([]))
                            + rstr(ziplist([7] * 100)),
            "hash-zipmap": b"\x09" + rstr(zipmap([("a", "1"), ("b", "2"), ("", "")])),
            "hash-zipmap-long": b"\x09" + rstr(zipmap([("a", "1"), ("b", "x" * 300)])),
            "hash-ziplist": b"\x0d" + rstr(ziplist(["f", 5, "g", -100000, "h", 1 << 40, "long", "v" * 100])),
            "zset-ziplist": b"\x0c" + rstr(ziplist([x for p in z for x in p])),
            "zset-text": b"\x03" + rlen(3) + rstr("a") + b"\x031.5" + rstr("b") + b"\xfe" + rstr("c") + b"\xff",
            "zset-text-many": b"\x03" + rlen(200) + b"".join(rstr(f"m{i}") + bytes([len(str(i))]) + str(i).encode()
                                                             for i in range(200)),
            "set-intset-wide": b"\x0b" + rstr(struct.pack("<IIqq", 8, 2, 3, 5)),
            "hash-v4-small": b"\x04" + rlen(2) + rstr("f") + rstr("1") + rstr("g") + rstr("2"),
            "zset2-small": b"\x05" + rlen(1) + rstr("m") + struct.pack("<d", 2.5),
            "set-v2-ints": b"\x02" + rlen(3) + rstr("3") + rstr("1") + rstr("2"),
            "list-quicklist2-plain": b"\x12" + rlen(2) + rlen(1) + rstr("plain element") + rlen(2)
                                     + rstr(listpack(["a", 1])),
        }
        # A stream in the version 1 format (no first/max-deleted/entries-added, no entries-read).
        lp = listpack([2, 1, 1, "f", 0,            # master: 2 live, 1 deleted, fields [f], terminator
                       2, 0, 0, "v1", 4,           # 1-1: same fields
                       3, 0, 1, "v2", 4,           # 1-2: deleted
                       0, 1, 0, 2, "g", "x", "h", "y", 8])  # 2-1: own fields
        stream_v1 = (b"\x0f" + rlen(1) + rstr(stream_id_raw(1, 1)) + rstr(lp) + rlen(2) + rlen(2) + rlen(1)
                     + rlen(1) + rstr("grp") + rlen(1) + rlen(1)
                     + rlen(1) + stream_id_raw(1, 1) + struct.pack("<Q", 1700000000000) + rlen(3)
                     + rlen(1) + rstr("cons") + struct.pack("<Q", 1700000000500) + rlen(1) + stream_id_raw(1, 1))
        cases["stream-v1"] = stream_v1
        for name, body in cases.items():
            with self.subTest(case=name):
                self.assertEqual(self.restore_both(name, payload(body)), "OK")
        # And corrupt variants are rejected by both.
        bad = {
            "ziplist-bad-tail": b"\x0a" + rstr(ziplist(["a", "b"])[:4] + b"\x00\x00\x00\x00" + ziplist(["a", "b"])[8:]),
            "zipmap-count": b"\x09" + rstr(b"\x05" + zipmap([("a", "1")])[1:]),
            "listpack-count": b"\x10" + rstr(listpack(["a", "b"])[:4] + b"\x07\x00" + listpack(["a", "b"])[6:]),
            "hash-odd": b"\x10" + rstr(listpack(["a", "b", "c"])),
            "zset-dup": b"\x11" + rstr(listpack(["a", 1, "a", 2])),
            "intset-empty": b"\x0b" + rstr(struct.pack("<II", 2, 0)),
            "stream-empty-node": b"\x13" + rlen(1) + rstr(stream_id_raw(1, 1)) + rstr(listpack([])) + b"\x00" * 9,
        }
        # distcache always validates as deeply as Redis's sanitize-dump-payload yes.
        self.r.command("CONFIG", "SET", "sanitize-dump-payload", "yes")
        try:
            for name, body in bad.items():
                with self.subTest(case=name):
                    self.assertEqual(self.both("RESTORE", name, 0, payload(body)),
                                     (RespError("ERR Bad data format"), RespError("ERR Bad data format")))
        finally:
            self.r.command("CONFIG", "SET", "sanitize-dump-payload", "no")

    def test_restore_wakes_blocked_client(self):
        self.r.command("RPUSH", "q", "job1", "job2")
        data = self.r.command("DUMP", "q")
        result = {}

        def blocker():
            with self.dc.raw(timeout=30) as c:
                result["reply"] = c.command("BLPOP", "q", 20)

        t = threading.Thread(target=blocker, daemon=True)
        t.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            info = self.d.command("INFO", "clients").decode()
            if "blocked_clients:1" in info:
                break
            time.sleep(0.01)  # polling interval, not synchronisation
        self.assertEqual(self.d.command("RESTORE", "q", 0, data), "OK")
        t.join(timeout=30)
        self.assertEqual(result.get("reply"), [b"q", b"job1"])
        self.assertEqual(self.d.command("LRANGE", "q", 0, -1), [b"job2"])

    # ---- whole files

    def run_unit_test(self, tag, env):
        binary = unit_tests_binary()
        if not os.path.isfile(binary):
            self.skipTest(f"unit test binary not found at {binary} (set DISTCACHE_UNIT_TESTS)")
        proc = subprocess.run([binary, tag], env={**os.environ, **env}, capture_output=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stdout.decode(errors="replace")[-3000:])

    def test_rdb_file_written_by_distcache_loads_in_redis(self):
        tmp = tempfile.mkdtemp(prefix="distcache-rdb-")
        try:
            self.run_unit_test("[rdb-file-writer]", {"DISTCACHE_RDB_OUT_DIR": tmp})
            rdb = os.path.join(tmp, "written.rdb")
            check = subprocess.run([REDIS_CHECK_RDB, rdb], capture_output=True, timeout=120)
            out = check.stdout.decode(errors="replace")
            self.assertEqual(check.returncode, 0, out)
            self.assertIn("RDB looks OK", out)
            self.assertIn("Checksum OK", out)
            with open(os.path.join(tmp, "written.manifest"), encoding="ascii") as f:
                expected = sorted(line.rstrip("\n") for line in f if line.strip())
            with harness.start_server(reference=True, extra_args=["--dir", tmp, "--dbfilename", "written.rdb"]) as s:
                with s.raw(timeout=60) as c:
                    got = server_manifest(c)
            self.assertEqual(len(got), len(expected))
            for a, b in zip(got, expected):
                self.assertEqual(a, b)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_rdb_file_saved_by_redis_loads_in_distcache(self):
        tmp = tempfile.mkdtemp(prefix="distcache-rdb-")
        try:
            with harness.start_server(reference=True, extra_args=["--dir", tmp]) as s:
                with s.raw(timeout=60) as c:
                    self.run_on(c, dataset_commands())
                    for cmd in random_commands(42, 200):
                        c.command(*cmd)
                    c.command("SELECT", 7)
                    self.run_on(c, [["SET", "db7:ttl", "v", "PX", 3_600_000], ["RPUSH", "db7:list", "a"],
                                    ["HSET", "db7:hash", "f", "v"], ["EXPIRE", "db7:hash", 7200]])
                    c.command("SELECT", 0)
                    c.command("FUNCTION", "LOAD", "#!lua name=mylib\n"
                              "redis.register_function('f1', function() return 1 end)")
                    self.assertEqual(c.command("SAVE"), "OK")
            rdb = os.path.join(tmp, "dump.rdb")
            # What redis-server itself holds after loading the file.
            with harness.start_server(reference=True, extra_args=["--dir", tmp]) as s:
                with s.raw(timeout=60) as c:
                    expected = server_manifest(c)
            out = os.path.join(tmp, "loaded.manifest")
            self.run_unit_test("[rdb-file-loader]", {"DISTCACHE_RDB_IN": rdb, "DISTCACHE_RDB_MANIFEST_OUT": out})
            with open(out, encoding="ascii") as f:
                got = sorted(line.rstrip("\n") for line in f if line.strip())
            self.assertEqual(len(got), len(expected))
            for a, b in zip(got, expected):
                self.assertEqual(a, b)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
