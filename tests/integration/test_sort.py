"""Differential test of SORT and SORT_RO: a reference redis-server and
distcache (four threads, so that sources, destinations and the keys BY and GET
patterns name are spread over shards) get the same commands, and every reply
must be byte-for-byte identical.

The corpus covers lists, sets (intset and hashtable) and sorted sets
(listpack and skiplist); numeric, ALPHA, DESC and LIMIT; BY over string keys,
hash fields, missing keys and keys of other types; BY nosort; GET #, GET of
strings and hash fields, several GETs, missing keys; STORE (then LRANGE,
TYPE, TTL and OBJECT ENCODING of the destination), over existing keys of
other types and with TTLs; SORT_RO; errors and their order; RESP3; MULTI/EXEC,
WATCH, a client blocked on a STORE destination; COMMAND INFO / GETKEYS.

Where Redis's order is not defined by the command (a hashtable set's
iteration order with BY nosort, and ties between equal ALPHA BY values of set
and sorted-set elements, which Redis visits in hash-table order) only the
multiset of the reply, or with LIMIT its length, is compared. Everything else
is exact, including the order of ties in lists, which follows Redis's stable
qsort and its partial quicksort for BY ... LIMIT.

Numbers that overflow or underflow a double ("1e400") are left out on
purpose: Redis reads SORT scores with strtod without clearing errno first, so
once one such value was seen every later numeric SORT of that redis-server
fails until something resets errno. distcache checks each value on its own.

A last test runs only against distcache: SORT ... BY ... GET while other
clients rewrite the weight keys in MULTI/EXEC must always see one consistent
snapshot of all the weights.
"""

import random
import threading
import time
import unittest

import harness

SEED = 20241125
THREADS = "4"

NUMS = [b"3", b"1", b"2", b"10", b"-5", b"2.5", b"0", b"-0", b"1e3", b"007", b"3", b"1", b"0x10", b" 4",
        b"inf", b"-inf", b"+7", b"2", b"0x1p3", b"-2.25"]
WORDS = [b"banana", b"apple", b"Cherry", b"apple", b"date", b"", "\u00e9".encode(), b"zeta", b"Apple",
         b"b\x00z", b"b\x00a", b"b", b"10", b"9", "\u65e5\u672c".encode(), b"\xff\xfe", b"a b", b"x", b"b\x00a"]
SET_WORDS = [b"banana", b"apple", b"Cherry", b"date", b"", "\u00e9".encode(), b"zeta", b"Apple", b"b",
             b"10", b"9", "\u65e5\u672c".encode(), b"\xff\xfe", b"a b", b"x"]

LISTS = ["L:nums", "L:words", "L:mixed", "L:ids", "L:big", "L:bad", "{L:ids}copy"]
INTSETS = ["S:ints"]
HASHSETS = ["S:ids", "S:words"]
ZSETS = ["Z:small", "Z:ids"]
OTHERS = ["str", "hash", "stream", "missing"]
DESTS = ["dst:1", "dst:2", "dst:3", "{L:ids}dst", "L:ids", "dst:blk"]
BY_PATTERNS = [b"w_*", b"h_*->f", b"h_*->name", b"nosort", b"missing_*", b"o_*", b"bad_*", b"h_*->x",
               b"*", b"w_*->f", b"h_*", b"w_*x", b"#"]
GET_PATTERNS = [b"#", b"o_*", b"h_*->name", b"h_*->f", b"w_*", b"nostar", b"*", b"o_*->x", b"h_*->",
                b"#\x00x", b"o_\x00*"]
LIMIT_OFFSETS = ["-2", "0", "0", "1", "3", "10", "39", "50", "1000", "-9223372036854775808"]
LIMIT_COUNTS = ["-1", "0", "1", "2", "5", "10", "100", "9223372036854775807", "-5"]


def ids(n):
    return [b"id%d" % i for i in range(n)]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def setup_commands(self):
        """Commands that build the data set (replies compared too)."""
        r = self.r
        cmds = [["RPUSH", "L:nums"] + NUMS, ["RPUSH", "L:words"] + WORDS, ["RPUSH", "L:mixed"] + NUMS + WORDS,
                ["RPUSH", "L:bad", "1", "nan", "2"]]
        id_list = ids(40)
        r.shuffle(id_list)
        cmds.append(["RPUSH", "L:ids"] + id_list)
        cmds.append(["RPUSH", "{L:ids}copy"] + id_list[:25])
        big = [b"id%d" % r.randrange(60) for _ in range(300)]
        cmds.append(["RPUSH", "L:big"] + big)
        cmds.append(["SADD", "S:ints"] + [str(r.randrange(-1000, 1000)) for _ in range(30)])
        cmds.append(["SADD", "S:ids"] + ids(60))
        cmds.append(["SADD", "S:words"] + SET_WORDS)
        cmds.append(["ZADD", "Z:small", "3", "id3", "1", "id1", "2", "id2", "5", "id5", "2", "id22", "0", "id0"])
        zargs = ["ZADD", "Z:ids"]
        for m in ids(150):
            zargs += [str(r.choice([r.randrange(20), r.random() * 10])), m]
        cmds.append(zargs)
        # Pattern keys for the ids: weights with ties, some missing, some of other types.
        for i in range(150):
            e = b"id%d" % i
            c = r.random()
            if c < 0.75:
                cmds.append(["SET", b"w_" + e, r.choice([str(r.randrange(10)), str(r.randrange(-50, 50) / 4),
                                                         " 1", "0x1f", "1e2"])])
            elif c < 0.8:
                cmds.append(["RPUSH", b"w_" + e, "5"])  # wrong type: reads as missing
            if r.random() < 0.8:
                cmds.append(["HSET", b"h_" + e, "f", str(r.randrange(-20, 20)), "name",
                             r.choice(["ann", "bob", "Cy", "dee", "", "bob\x00x", "\u00e9"])])
            elif r.random() < 0.5:
                cmds.append(["SET", b"h_" + e, "plain-%d" % i])
            if r.random() < 0.7:
                cmds.append(["SET", b"o_" + e, b"obj-" + e])
            if r.random() < 0.9:
                cmds.append(["SET", b"bad_" + e, str(i) if r.random() < 0.95 else "nope"])
            else:
                cmds.append(["SET", b"bad_" + e, "1.5"])
            if r.random() < 0.05:
                cmds.append(["SET", e, "self-%d" % i])  # GET * / BY *
        # Pattern keys for the words and numbers (mostly missing).
        for e in WORDS + NUMS:
            if r.random() < 0.4:
                cmds.append(["SET", b"w_" + e, str(r.randrange(5))])
            if r.random() < 0.4:
                cmds.append(["HSET", b"h_" + e, "f", str(r.randrange(5)), "name", r.choice(["p", "q", "R"])])
            if r.random() < 0.4:
                cmds.append(["SET", b"o_" + e, b"<" + e + b">"])
        cmds.append(["HSET", "h_id1->", "f", "1"])
        cmds.append(["SET", "h_id2->", "arrow-string"])
        cmds.append(["SET", "str", "value"])
        cmds.append(["HSET", "hash", "a", "1"])
        cmds.append(["XADD", "stream", "1-1", "a", "1"])
        return cmds

    def sort_command(self):
        """Returns (args, mode) with mode 'exact' or 'unordered'."""
        r = self.r
        c = r.random()
        if c < 0.55:
            src = r.choice(LISTS)
        elif c < 0.65:
            src = r.choice(INTSETS)
        elif c < 0.8:
            src = r.choice(HASHSETS)
        elif c < 0.95:
            src = r.choice(ZSETS)
        else:
            src = r.choice(OTHERS)
        ro = r.random() < 0.25
        groups = []
        bys = []
        if r.random() < 0.65:
            bys.append(r.choice(BY_PATTERNS))
            if r.random() < 0.05:
                bys.append(r.choice(BY_PATTERNS))
        for b in bys:
            groups.append([r.choice(["BY", "by"]), b])
        limited = False
        if r.random() < 0.4:
            limited = True
            groups.append(["LIMIT", r.choice(LIMIT_OFFSETS), r.choice(LIMIT_COUNTS)])
        for _ in range(r.choice([0, 0, 1, 1, 2, 3])):
            groups.append([r.choice(["GET", "get"]), r.choice(GET_PATTERNS)])
        if r.random() < 0.5:
            groups.append([r.choice(["ASC", "DESC", "desc"])])
        alpha = r.random() < 0.45
        if alpha:
            groups.append([r.choice(["ALPHA", "alpha"])])
        store = None
        if not ro and r.random() < 0.35:
            store = r.choice(DESTS + [src])
            groups.append(["STORE", store])
        r.shuffle(groups)
        args = ["SORT_RO" if ro else "SORT", src]
        for grp in groups:
            args += grp
        dontsort = any(b"*" not in b.split(b"\x00")[0] for b in bys)
        sorting_by = bys and not dontsort
        mode = "exact"
        if src in HASHSETS and dontsort and store is None:
            mode = "unordered"
        if (src in HASHSETS or src in ZSETS) and sorting_by and alpha:
            mode = "unordered"
        if src in HASHSETS and dontsort and store is not None:
            mode = "exact"  # sorted ALPHA on purpose by Redis
        return args, mode, limited, store

    def mutation(self):
        r = self.r
        e = b"id%d" % r.randrange(150)
        c = r.random()
        if c < 0.3:
            return ["SET", b"w_" + e, str(r.randrange(10))]
        if c < 0.45:
            return ["HSET", b"h_" + e, "f", str(r.randrange(-5, 5)), "name", r.choice(["ann", "zed", "bob"])]
        if c < 0.55:
            return ["DEL", b"w_" + e]
        if c < 0.65:
            return ["RPUSH", r.choice(["L:ids", "L:big"]), e]
        if c < 0.7:
            return ["SADD", "S:ids", e]
        if c < 0.75:
            return ["ZADD", r.choice(ZSETS), str(r.randrange(10)), e]
        if c < 0.85:
            return ["SET", r.choice(DESTS[:4]), "occupied", "EX", "1000"]
        if c < 0.9:
            return ["SADD", r.choice(DESTS[:4]), "a"]
        return ["DEL", r.choice(DESTS[:4])]


ERROR_CASES = [
    ["SORT", "L:nums", "LIMIT", "1"],
    ["SORT", "L:nums", "LIMIT", "1", "x"],
    ["SORT", "L:nums", "LIMIT", "x", "1"],
    ["SORT", "L:nums", "LIMIT", "1.5", "1"],
    ["SORT", "L:nums", "LIMIT", "a", "b", "FOO"],
    ["SORT", "L:nums", "FOO", "LIMIT", "a", "b"],
    ["SORT", "L:nums", "FOO"],
    ["SORT", "L:nums", "BY"],
    ["SORT", "L:nums", "GET"],
    ["SORT", "L:nums", "STORE"],
    ["SORT", "L:nums", "ALPHA", "ASC", "DESC", "junk"],
    ["SORT_RO", "L:nums", "STORE", "dst:1"],
    ["SORT_RO", "L:nums", "ALPHA", "STORE"],
    ["SORT", "str"],
    ["SORT", "str", "FOO"],
    ["SORT", "str", "LIMIT", "x", "1"],
    ["SORT", "hash", "BY", "w_*"],
    ["SORT", "stream", "STORE", "dst:1"],
    ["SORT_RO", "hash", "BY", "nosort"],
    ["SORT", "L:words"],
    ["SORT", "L:bad"],
    ["SORT", "L:bad", "BY", "nosort"],
    ["SORT", "L:bad", "LIMIT", "0", "1"],
    ["SORT", "L:ids", "BY", "bad_*"],
    ["SORT", "L:ids", "BY", "o_*", "STORE", "dst:1"],
    ["SORT"],
    ["SORT_RO"],
    ["sort", "missing"],
    ["sort", "missing", "STORE", "dst:1"],
    ["SORT", "L:nums", "desc\x00junk"],
    ["SORT", "L:nums", "LIMIT", "0", "3", "LIMIT", "2", "-1"],
    ["SORT", "L:ids", "BY", "nosort", "BY", "w_*"],
    ["SORT", "L:ids", "BY", "w_*", "BY", "nosort", "GET", "#", "GET", "w_*"],
    ["SORT", "L:ids", "BY", "w_*", "BY", "w_*"],
    ["SORT", "L:ids", "BY", "w_\x00*"],
    ["SORT", "L:ids", "STORE", "dst:1", "STORE", "dst:2"],
    ["EXISTS", "dst:1", "dst:2"],
]


class SortDifferentialTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._ref_cm = harness.start_server(reference=True)
        cls.ref = cls._ref_cm.__enter__()
        try:
            cls._test_cm = harness.start_server(distcache_args=["--threads", THREADS])
            cls.test = cls._test_cm.__enter__()
        except BaseException:
            cls._ref_cm.__exit__(None, None, None)
            raise
        cls.cases = 0

    @classmethod
    def tearDownClass(cls):
        cls._test_cm.__exit__(None, None, None)
        cls._ref_cm.__exit__(None, None, None)
        print("\nSORT side-by-side: %d commands compared" % cls.cases)

    def connections(self, resp3=False, flush=True):
        conns = [self.ref.raw(), self.test.raw()]
        for c in conns:
            self.addCleanup(c.close)
            if flush:
                c.command("FLUSHALL")
            if resp3:
                c.command("HELLO", "3")
        return conns

    def run_both(self, conns, args):
        replies = []
        for c in conns:
            c.send_command(*args)
            replies.append(c.read_reply_bytes())
        self.assertEqual(replies[0], replies[1], "command: %r" % (args,))
        type(self).cases += 1
        return replies[0]

    def run_unordered(self, conns, args, limited):
        replies = []
        for c in conns:
            c.send_command(*args)
            replies.append(c.read_reply())
        ref, test = replies
        type(self).cases += 1
        if isinstance(ref, list) and isinstance(test, list):
            if limited:
                self.assertEqual(len(ref), len(test), "command: %r\nref: %r\ntest: %r" % (args, ref, test))
            else:
                key = lambda v: (v is None, v or b"")
                self.assertEqual(sorted(ref, key=key), sorted(test, key=key),
                                 "command: %r" % (args,))
        else:
            self.assertEqual(ref, test, "command: %r" % (args,))
        return ref

    def compare_key(self, conns, key, mode="exact", limited=False):
        if mode == "exact":
            self.run_both(conns, ["LRANGE", key, "0", "-1"])
        else:
            self.run_unordered(conns, ["LRANGE", key, "0", "-1"], limited)
        self.run_both(conns, ["TYPE", key])
        self.run_both(conns, ["OBJECT", "ENCODING", key])
        self.run_both(conns, ["TTL", key])

    def repair(self, conns, key):
        """After a result whose order (or, with LIMIT, whose elements) Redis
        leaves undefined was stored: give both servers the reference's list."""
        items = conns[0].command("LRANGE", key, "0", "-1")
        for c in conns:
            c.command("DEL", key)
            if items:
                c.command("RPUSH", key, *items)

    def load(self, conns, gen):
        for args in gen.setup_commands():
            self.run_both(conns, args)

    def test_errors(self):
        conns = self.connections()
        self.load(conns, Gen(SEED))
        for args in ERROR_CASES:
            self.run_both(conns, args)
        self.compare_key(conns, "dst:1")
        self.compare_key(conns, "dst:2")

    def test_fixed_cases(self):
        conns = self.connections()
        self.load(conns, Gen(SEED))
        cases = [
            ["SORT", "L:nums"], ["SORT", "L:nums", "DESC"], ["SORT", "L:words", "ALPHA"],
            ["SORT", "L:words", "ALPHA", "DESC"], ["SORT", "L:mixed", "ALPHA", "LIMIT", "3", "10"],
            ["SORT", "L:ids", "BY", "w_*", "GET", "#", "GET", "w_*"],
            ["SORT", "L:ids", "BY", "h_*->f", "DESC", "GET", "h_*->name", "GET", "o_*"],
            ["SORT", "L:ids", "BY", "h_*->name", "ALPHA", "LIMIT", "5", "10", "GET", "#", "GET", "h_*->name"],
            ["SORT", "L:ids", "BY", "missing_*", "ALPHA", "LIMIT", "0", "7"],
            ["SORT", "L:big", "BY", "w_*", "ALPHA", "LIMIT", "20", "30"],
            ["SORT", "L:big", "BY", "w_*", "ALPHA", "DESC", "LIMIT", "100", "50"],
            ["SORT", "L:big", "BY", "h_*->name", "ALPHA", "LIMIT", "0", "1"],
            ["SORT", "L:big", "BY", "w_*", "LIMIT", "10", "10"],
            ["SORT", "L:big", "BY", "nosort", "DESC", "LIMIT", "5", "5", "GET", "o_*"],
            ["SORT", "S:ints"], ["SORT", "S:ints", "BY", "nosort"], ["SORT", "S:ints", "BY", "nosort", "DESC"],
            ["SORT", "S:ints", "ALPHA", "DESC", "LIMIT", "2", "5"],
            ["SORT", "S:ids", "BY", "w_*", "GET", "#", "GET", "w_*"], ["SORT", "S:ids", "ALPHA"],
            ["SORT", "S:ids", "BY", "nosort", "STORE", "dst:1"], ["LRANGE", "dst:1", "0", "-1"],
            ["SORT", "S:ids", "BY", "nosort", "DESC", "LIMIT", "3", "4", "STORE", "dst:2"],
            ["LRANGE", "dst:2", "0", "-1"],
            ["SORT", "S:words", "ALPHA"], ["SORT", "S:words", "ALPHA", "STORE", "dst:3"],
            ["OBJECT", "ENCODING", "Z:small"], ["SORT", "Z:small", "BY", "nosort"],
            ["OBJECT", "ENCODING", "Z:small"], ["SORT", "Z:small", "BY", "nosort", "DESC", "LIMIT", "1", "2"],
            ["SORT", "Z:ids", "BY", "nosort", "LIMIT", "10", "5", "GET", "#", "GET", "w_*"],
            ["SORT", "Z:ids", "BY", "w_*", "LIMIT", "10", "5"], ["SORT", "Z:ids", "ALPHA", "DESC"],
            ["SORT_RO", "Z:ids", "BY", "h_*->f", "GET", "h_*->f"],
            ["SORT", "L:ids", "BY", "w_*", "STORE", "{L:ids}dst"], ["LRANGE", "{L:ids}dst", "0", "-1"],
            ["SORT", "L:ids", "ALPHA", "STORE", "L:ids"], ["LRANGE", "L:ids", "0", "-1"],
            ["SORT", "L:ids", "BY", "w_*", "GET", "nostar", "GET", "#", "STORE", "dst:1"],
            ["LRANGE", "dst:1", "0", "-1"],
            ["SET", "dst:2", "x", "EX", "100"], ["SORT", "L:nums", "STORE", "dst:2"], ["TTL", "dst:2"],
            ["TYPE", "dst:2"], ["OBJECT", "ENCODING", "dst:2"],
            ["SORT", "missing", "STORE", "dst:2"], ["EXISTS", "dst:2"],
            ["SORT", "L:nums", "LIMIT", "100", "1", "STORE", "dst:3"], ["EXISTS", "dst:3"],
            ["SORT", "L:ids", "BY", "*", "GET", "*"], ["SORT", "L:ids", "BY", "nosort", "GET", "h_*->"],
            ["SORT", "L:ids", "BY", "nosort", "GET", "#\x00junk", "GET", "o_\x00*", "LIMIT", "0", "3"],
            ["SORT_RO", "L:ids", "BY", "w_*", "DESC", "LIMIT", "1", "5", "GET", "#"],
            ["SORT", "L:ids", "LIMIT", "0", "0", "GET", "#"],
        ]
        for args in cases:
            self.run_both(conns, args)

    def random_session(self, seed, ops, resp3=False):
        conns = self.connections(resp3)
        gen = Gen(seed)
        self.load(conns, gen)
        for _ in range(ops):
            if gen.r.random() < 0.15:
                self.run_both(conns, gen.mutation())
                continue
            args, mode, limited, store = gen.sort_command()
            if mode == "exact":
                self.run_both(conns, args)
            else:
                self.run_unordered(conns, args, limited)
            if store is not None:
                self.compare_key(conns, store, mode, limited)
                if mode != "exact":
                    self.repair(conns, store)
            if args[1] in ZSETS and gen.r.random() < 0.3:
                self.run_both(conns, ["OBJECT", "ENCODING", args[1]])
        for key in LISTS + DESTS:
            self.compare_key(conns, key)

    def test_random_resp2(self):
        self.random_session(SEED, 1500)

    def test_random_more_seeds(self):
        for seed in range(1, 6):
            self.random_session(SEED + seed, 400)

    def test_random_resp3(self):
        self.random_session(SEED + 100, 500, resp3=True)

    def test_small_zset_encoding(self):
        conns = self.connections()
        for args in (["ZADD", "z", "1", "a", "2", "b"], ["OBJECT", "ENCODING", "z"], ["SORT_RO", "z", "ALPHA"],
                     ["OBJECT", "ENCODING", "z"], ["ZADD", "z2", "1", "a"], ["SORT", "z2"],
                     ["OBJECT", "ENCODING", "z2"], ["ZADD", "z3", "1", "a"], ["SORT", "z3", "BY", "w_*", "GET", "o_*"],
                     ["OBJECT", "ENCODING", "z3"], ["SET", "s", "x"], ["SORT", "s"]):
            self.run_both(conns, args)

    def test_transactions(self):
        conns = self.connections()
        self.load(conns, Gen(SEED))
        script = [
            ["MULTI"], ["SET", "w_id1", "100"], ["SORT", "L:ids", "BY", "w_*", "GET", "w_*", "STORE", "dst:1"],
            ["LRANGE", "dst:1", "0", "3"], ["SORT_RO", "S:ids", "BY", "h_*->f", "LIMIT", "0", "5"], ["EXEC"],
            ["MULTI"], ["SORT", "L:nums", "STORE", "{L:ids}dst"], ["SORT", "L:ids", "LIMIT", "0", "2"],
            ["FLUSHDB"], ["SORT", "L:ids"], ["EXEC"],
            ["MULTI"], ["SORT", "L:ids", "LIMIT", "x"], ["EXEC"],
            ["MULTI"], ["SORT", "str"], ["SORT", "L:words"], ["EXEC"],
        ]
        for args in script:
            self.run_both(conns, args)
        # A client watching the destination: SORT ... STORE from another client aborts its EXEC.
        self.load(conns, Gen(SEED + 7))
        others = self.connections(flush=False)
        for dest in ("dst:2", "{L:ids}dst"):
            self.run_both(conns, ["WATCH", dest])
            self.run_both(others, ["SORT", "L:ids", "BY", "w_*", "STORE", dest])
            self.run_both(conns, ["MULTI"])
            self.run_both(conns, ["LLEN", dest])
            self.run_both(conns, ["EXEC"])
        # An empty result deletes an existing destination: also a modification.
        self.run_both(conns, ["WATCH", "dst:2"])
        self.run_both(others, ["SORT", "missing", "STORE", "dst:2"])
        self.run_both(conns, ["MULTI"])
        self.run_both(conns, ["EXISTS", "dst:2"])
        self.run_both(conns, ["EXEC"])
        # SORT_RO and SORT without STORE modify nothing.
        self.run_both(conns, ["WATCH", "L:ids"])
        self.run_both(others, ["SORT_RO", "L:ids", "BY", "w_*"])
        self.run_both(conns, ["MULTI"])
        self.run_both(conns, ["LLEN", "L:ids"])
        self.run_both(conns, ["EXEC"])

    def test_blocked_client_on_destination(self):
        conns = self.connections()
        self.load(conns, Gen(SEED))
        others = self.connections(flush=False)
        for dest, sort_args in (("dst:blk", ["SORT", "L:ids", "BY", "w_*", "GET", "o_*"]),
                                ("{L:ids}dst", ["SORT", "L:ids", "ALPHA", "DESC"]),
                                ("dst:3", ["SORT", "S:ints", "LIMIT", "2", "3"])):
            for c in conns:
                c.send_command("BLPOP", dest, "5")
            time.sleep(0.2)
            self.run_both(others, sort_args + ["STORE", dest])
            replies = [c.read_reply_bytes() for c in conns]
            self.assertEqual(replies[0], replies[1], "BLPOP %s" % dest)
            self.compare_key(conns, dest)

    def test_command_introspection(self):
        conns = self.connections()
        for name in ("sort", "sort_ro"):
            replies = [c.command("COMMAND", "INFO", name)[0][:7] for c in conns]
            self.assertEqual(replies[0], replies[1], name)
        for line in ("sort a", "sort a store b store c", "sort a limit 0 1 store b", "sort a store",
                     "sort a get store b", "sort a limit store b", "sort a limit 1 store b", "sort a by store b",
                     "sort a STORE b junk", "sort a xyz store b", "sort_ro a store b", "sort a store b get",
                     "sort a store a", "sort a by w_* get o_* store d"):
            self.run_both(conns, ["COMMAND", "GETKEYS"] + line.split())


class SortConcurrencyTest(unittest.TestCase):
    """SORT BY/GET over weight keys on every shard stays consistent while
    other clients rewrite all the weights atomically."""

    def test_consistent_snapshots(self):
        with harness.start_server(distcache_args=["--threads", THREADS]) as server:
            n = 24
            elements = [b"e%d" % i for i in range(n)]
            setup = server.raw()
            setup.command("RPUSH", "items", *elements)
            setup.command("MSET", *[x for i, e in enumerate(elements) for x in (b"wt_" + e, str(i))])
            setup.command("HSET", "meta", "x", "1")
            stop = threading.Event()
            errors = []

            def writer(seed):
                r = random.Random(seed)
                c = server.raw()
                try:
                    while not stop.is_set():
                        perm = list(range(n))
                        r.shuffle(perm)
                        c.send_command("MULTI")
                        for e, w in zip(elements, perm):
                            c.send_command("SET", b"wt_" + e, str(w))
                        c.send_command("EXEC")
                        replies = [c.read_reply() for _ in range(n + 2)]
                        if not isinstance(replies[-1], list):
                            errors.append("EXEC failed: %r" % (replies[-1],))
                finally:
                    c.close()

            threads = [threading.Thread(target=writer, args=(s,)) for s in range(2)]
            for t in threads:
                t.start()
            reader = server.raw()
            try:
                deadline = time.monotonic() + 4
                checks = 0
                while time.monotonic() < deadline:
                    if checks % 3 == 2:
                        count = reader.command("SORT", "items", "BY", "wt_*", "GET", "wt_*", "STORE", "snap")
                        self.assertEqual(count, n)
                        got = reader.command("LRANGE", "snap", "0", "-1")
                    else:
                        got = reader.command("SORT", "items", "BY", "wt_*", "GET", "wt_*")
                    # Sorted by weight and the weights of one snapshot: exactly 0..n-1.
                    self.assertEqual(got, [str(i).encode() for i in range(n)])
                    checks += 1
            finally:
                stop.set()
                for t in threads:
                    t.join()
                reader.close()
                setup.close()
            self.assertEqual(errors, [])
            self.assertGreater(checks, 20)


if __name__ == "__main__":
    harness.main()
