"""HyperLogLog compatibility with a real redis-server, byte for byte.

distcache stores HyperLogLogs in Redis's own string format (HYLL header,
sparse and dense encodings, cached cardinality), so an HLL can be copied
between the two servers with GET/SET and keeps counting the same way:

  * HLLs of many sizes (empty, sparse, around the sparse->dense promotion,
    dense, large) are built on redis-server, copied to distcache, and both
    servers must then agree on PFCOUNT and on the raw bytes after further
    PFADDs (which exercise the sparse opcode edits, the promotion to dense and
    the cache). The same in the other direction.
  * Building the same HLL independently on both servers gives identical bytes.
  * PFMERGE (sparse/dense mixes) and multi-key PFCOUNT agree.
  * Hand-made values that Redis accepts but never produces itself
    (non-canonical sparse opcodes, dense registers above 51, stale cached
    cardinalities, corrupted sparse data) give the same replies and bytes.

Both servers run with the default hll-sparse-max-bytes (3000).
"""

import random
import struct

import redis

import harness

SIZES = (0, 1, 2, 5, 17, 50, 120, 300, 700, 1000, 1500, 2000, 3000, 5000, 20000, 100000)
BATCH = 1000
HEADER = 16
REGISTERS = 16384
DENSE_SIZE = HEADER + REGISTERS * 6 // 8


def elements(tag, start, count):
    return [("%s:%d" % (tag, i)).encode() for i in range(start, start + count)]


def pfadd_all(client, key, elems):
    """PFADD in batches; returns the list of replies."""
    replies = []
    if not elems:
        return [client.execute_command("PFADD", key)]
    for i in range(0, len(elems), BATCH):
        replies.append(client.execute_command("PFADD", key, *elems[i:i + BATCH]))
    return replies


def header(card=0, valid=True, encoding=1):
    card_bytes = bytearray(struct.pack("<Q", card))
    if not valid:
        card_bytes[7] |= 0x80
    return b"HYLL" + bytes([encoding, 0, 0, 0]) + bytes(card_bytes)


def sparse_opcodes(runs):
    """runs: list of (value, length) covering REGISTERS registers; value 0 runs
    are split into ZERO / XZERO opcodes at random, value runs into VAL
    opcodes of random lengths (1..4)."""
    out = bytearray()
    rng = random.Random(len(runs))
    for value, length in runs:
        while length > 0:
            if value == 0:
                if length > 64 or rng.random() < 0.3:
                    n = min(length, rng.randint(1, 16384))
                    out += bytes([0x40 | ((n - 1) >> 8), (n - 1) & 0xff])   # XZERO, maybe non-canonical
                else:
                    n = min(length, rng.randint(1, 64))
                    out.append(n - 1)                                       # ZERO
            else:
                n = min(length, rng.randint(1, 4))
                out.append(0x80 | ((value - 1) << 2) | (n - 1))             # VAL
            length -= n
    return bytes(out)


def random_sparse(rng, nonzero):
    """A valid (possibly non-canonical) sparse HLL with about `nonzero`
    non-zero registers of values 1..32, with an invalid cache."""
    positions = sorted(rng.sample(range(REGISTERS), nonzero))
    runs = []
    cursor = 0
    for pos in positions:
        if pos > cursor:
            runs.append((0, pos - cursor))
        # occasionally a run of equal values, so that VAL merges happen
        runs.append((rng.randint(1, 32) if rng.random() < 0.8 else 3, 1))
        cursor = pos + 1
    if cursor < REGISTERS:
        runs.append((0, REGISTERS - cursor))
    return header(valid=False) + sparse_opcodes(runs)


def random_dense(rng, max_value=63):
    regs = [rng.choice((0, 0, 1, 2, 3, 5, rng.randint(0, max_value))) for _ in range(REGISTERS)]
    data = bytearray(REGISTERS * 6 // 8 + 1)
    for i, v in enumerate(regs):
        bit = i * 6
        byte, shift = bit >> 3, bit & 7
        data[byte] |= (v << shift) & 0xff
        data[byte + 1] |= v >> (8 - shift)
    return header(valid=False, encoding=0) + bytes(data[:-1])


class HllCompatTest(harness.SideBySideTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.test_server, cls.ref_server = cls.server, cls.ref

    def setUp(self):
        self.ref = self.ref_server.client()
        self.test = self.test_server.client()
        self.ref.flushall()
        self.test.flushall()

    def tearDown(self):
        self.ref.close()
        self.test.close()

    # ------------------------------------------------------------ helpers

    def both(self, *args):
        """Runs a command on both servers; returns (ref, test) replies or
        exceptions (as their messages)."""
        out = []
        for c in (self.ref, self.test):
            try:
                out.append(c.execute_command(*args))
            except redis.ResponseError as e:
                out.append("ERROR: %s" % e)
        return out[0], out[1]

    def assertSame(self, *args):
        r, t = self.both(*args)
        self.assertEqual(r, t, "command %r" % (args[:4],))
        return r

    def assertSameBytes(self, key, context=""):
        r, t = self.ref.get(key), self.test.get(key)
        self.assertEqual(r is None, t is None, "%s: key %r exists on one side only" % (context, key))
        if r is not None:
            self.assertEqual(len(r), len(t), "%s: %r lengths differ" % (context, key))
            self.assertEqual(r, t, "%s: %r bytes differ" % (context, key))
        return r

    def copy(self, src, dst, key):
        value = src.get(key)
        dst.delete(key)
        if value is not None:
            dst.set(key, value)
        return value

    def check_after_copy(self, key, size, tag):
        """Both servers hold the same value: compare PFCOUNT and bytes, then
        add more elements on both and compare again."""
        ctx = "%s size %d" % (tag, size)
        self.assertSameBytes(key, ctx + " after copy")
        self.assertSame("PFCOUNT", key)
        self.assertSameBytes(key, ctx + " after PFCOUNT")
        # Re-adding known elements changes nothing; new ones do.
        for extra in (elements("again", 0, 3), elements("more", size, 10), elements("bulk", size, 2500)):
            r = pfadd_all(self.ref, key, extra)
            t = pfadd_all(self.test, key, extra)
            self.assertEqual(r, t, ctx + " PFADD replies")
            self.assertSameBytes(key, ctx + " after PFADD")
            self.assertSame("PFCOUNT", key)
            self.assertSameBytes(key, ctx + " after PFCOUNT")

    # ------------------------------------------------------------ tests

    def test_redis_to_distcache(self):
        for size in SIZES:
            key = "h:%d" % size
            pfadd_all(self.ref, key, elements("e", 0, size))
            self.copy(self.ref, self.test, key)
            self.check_after_copy(key, size, "redis->distcache")

    def test_distcache_to_redis(self):
        for size in SIZES:
            key = "h:%d" % size
            pfadd_all(self.test, key, elements("e", 0, size))
            self.copy(self.test, self.ref, key)
            self.check_after_copy(key, size, "distcache->redis")

    def test_independent_builds_are_identical(self):
        rng = random.Random(7)
        for size in SIZES:
            key = "h:%d" % size
            elems = elements("x", 0, size)
            rng.shuffle(elems)
            r = pfadd_all(self.ref, key, elems)
            t = pfadd_all(self.test, key, elems)
            self.assertEqual(r, t)
            self.assertSameBytes(key, "independent size %d" % size)
            self.assertSame("PFCOUNT", key)
            self.assertSameBytes(key, "independent size %d after PFCOUNT" % size)

    def test_single_element_steps_around_promotion(self):
        # One element per PFADD across the sparse -> dense boundary, comparing
        # every reply and, every 25 steps, the bytes.
        key = "steps"
        for i in range(0, 2600):
            elem = b"s:%d" % i
            self.assertEqual(self.ref.pfadd(key, elem), self.test.pfadd(key, elem), "PFADD #%d" % i)
            if i % 25 == 0:
                self.assertSameBytes(key, "step %d" % i)
                self.assertSame("PFCOUNT", key)
        self.assertSameBytes(key, "final")
        self.assertEqual(len(self.ref.get(key)), DENSE_SIZE)

    def test_pfmerge_and_multikey_pfcount(self):
        sizes = {"a": 10, "b": 400, "c": 3000, "d": 50000, "e": 0}
        for name, size in sizes.items():
            pfadd_all(self.ref, name, elements(name, 0, size))
            self.copy(self.ref, self.test, name)
        combos = [("a",), ("a", "b"), ("b", "a"), ("a", "b", "c"), ("c", "d"), ("d", "a"), ("e", "a"),
                  ("missing", "a"), ("a", "missing", "b", "c", "d", "e")]
        for combo in combos:
            self.assertSame("PFCOUNT", *combo)
            dest = "m:" + "".join(combo)
            self.assertSame("PFMERGE", dest, *combo)
            self.assertSameBytes(dest, "PFMERGE %r" % (combo,))
            self.assertSame("PFCOUNT", dest)
            self.assertSameBytes(dest, "PFMERGE %r after PFCOUNT" % (combo,))
        # Merging into an existing destination that is also a source.
        for dest, srcs in (("a", ("b",)), ("b", ("c",)), ("e", ("d",)), ("a", ("a", "a"))):
            self.assertSame("PFMERGE", dest, *srcs)
            self.assertSameBytes(dest, "PFMERGE into %s" % dest)
            self.assertSame("PFCOUNT", dest)

    def test_random_sparse_values(self):
        # Sparse values with non-canonical opcodes (XZERO of any length,
        # split ZERO runs, adjacent VALs of equal value): the opcode edits
        # and merges must produce exactly Redis's bytes.
        rng = random.Random(11)
        for round_ in range(40):
            nonzero = rng.choice((0, 1, 3, 20, 100, 300, 600))
            value = random_sparse(rng, nonzero)
            if len(value) > 3000:
                continue
            key = "r:%d" % round_
            self.ref.set(key, value)
            self.test.set(key, value)
            self.assertSame("PFCOUNT", key)
            pipe_r = self.ref.pipeline(transaction=False)
            pipe_t = self.test.pipeline(transaction=False)
            elems = elements("rs%d" % round_, 0, rng.choice((10, 100, 400)))
            for e in elems:
                pipe_r.pfadd(key, e)
                pipe_t.pfadd(key, e)
            self.assertEqual(pipe_r.execute(), pipe_t.execute(), "round %d PFADD replies" % round_)
            self.assertSameBytes(key, "random sparse round %d" % round_)
            self.assertSame("PFCOUNT", key)
            self.assertSame("PFCOUNT", key, "missing")
            self.assertSame("PFMERGE", "merged:%d" % round_, key)
            self.assertSameBytes("merged:%d" % round_, "random sparse merge round %d" % round_)

    def test_dense_values_with_any_register(self):
        # Registers above 51 cannot come from hashing; Redis's estimator
        # ignores them, and so must we.
        rng = random.Random(5)
        for round_ in range(6):
            value = random_dense(rng, max_value=63 if round_ % 2 else 51)
            key = "d:%d" % round_
            self.ref.set(key, value)
            self.test.set(key, value)
            self.assertSame("PFCOUNT", key)
            self.assertSameBytes(key, "dense round %d" % round_)
            self.assertSame("PFADD", key, *elements("dd", 0, 200))
            self.assertSameBytes(key, "dense round %d after PFADD" % round_)
            self.assertSame("PFCOUNT", key, "h-missing")
            self.assertSame("PFMERGE", "dm:%d" % round_, key, "d:0")
            self.assertSameBytes("dm:%d" % round_)

    def test_cached_cardinality_is_trusted(self):
        empty_sparse = bytes([0x7f, 0xff])
        self.ref.set("c", header(card=12345) + empty_sparse)
        self.test.set("c", header(card=12345) + empty_sparse)
        self.assertEqual(self.assertSame("PFCOUNT", "c"), 12345)
        self.assertEqual(self.assertSame("PFCOUNT", "c", "missing"), 0)  # the union ignores the cache
        self.assertSame("PFADD", "c", "x")
        self.assertSameBytes("c")
        self.assertEqual(self.assertSame("PFCOUNT", "c"), 1)

    def test_invalid_values(self):
        values = {
            "short": b"HYLL",
            "magic": b"HYLX" + bytes(12) + bytes([0x7f, 0xff]),
            "encoding": header(encoding=2) + bytes([0x7f, 0xff]),
            "dense_size": header(encoding=0) + bytes(100),
            "no_opcodes": header(),
            "too_few": header(valid=False) + bytes([0x7f, 0xfe]),
            "too_many": header(valid=False) + bytes([0x7f, 0xff, 0x00]),
            "truncated_xzero": header(valid=False) + bytes([0x7f]),
            "val_overflow": header(valid=False) + bytes([0x7f, 0xfe, 0x83]),
            "plain": b"hello world, not an HLL",
        }
        for key, value in values.items():
            self.ref.set(key, value)
            self.test.set(key, value)
        for key in values:
            self.assertSame("PFCOUNT", key)
            self.assertSame("PFCOUNT", key, "missing")
            self.assertSame("PFMERGE", "dst:" + key, key)
            self.assertSame("PFADD", key, "a", "b", "c")
            self.assertSameBytes(key, "invalid value %s" % key)
            self.assertSameBytes("dst:" + key)


if __name__ == "__main__":
    harness.main()
