"""Client-side caching (CLIENT TRACKING) side by side with redis-server.

Each scenario drives raw connections (RESP3 pushes, RESP2 + REDIRECT to a
__redis__:invalidate subscriber) against distcache (--threads 2 and 4, so
readers, writers and keys sit on different threads) and against redis-server,
and compares every byte each connection received (client ids normalised).
"""
import re
import socket
import time
import unittest

import harness


def enc(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.s.settimeout(0.05)

    def read(self, wait=0.12):
        time.sleep(wait)
        out = b""
        try:
            while True:
                d = self.s.recv(65536)
                if not d:
                    break
                out += d
        except socket.timeout:
            pass
        return out

    def cmd(self, *args, wait=0.12):
        self.s.sendall(enc(*args))
        return self.read(wait)

    def id(self):
        return int(self.cmd("CLIENT", "ID")[1:-2])

    def close(self):
        self.s.close()


def scenario_default_and_modes(port, log):
    a, b = Conn(port), Conn(port)
    ids = {}
    a.cmd("HELLO", "3")
    log("flush", b.cmd("FLUSHALL"))
    for args in [("CLIENT", "TRACKING", "foo"), ("CLIENT", "TRACKING", "on", "PREFIX", "a"),
                 ("CLIENT", "TRACKING", "on", "optin", "optout"), ("CLIENT", "TRACKING", "on", "bcast", "optin"),
                 ("CLIENT", "TRACKING", "on", "redirect"), ("CLIENT", "TRACKING", "on", "redirect", "x"),
                 ("CLIENT", "TRACKING", "on", "redirect", "99999"),
                 ("CLIENT", "TRACKING", "on", "redirect", "99999", "prefix", "a"),
                 ("CLIENT", "TRACKING", "on", "bcast", "prefix", "ab", "prefix", "a"),
                 ("CLIENT", "TRACKING", "off", "bogus"), ("CLIENT", "CACHING", "yes"), ("CLIENT", "GETREDIR"),
                 ("CLIENT", "TRACKINGINFO")]:
        log(args, a.cmd(*args, wait=0.03))
    log("on", a.cmd("CLIENT", "TRACKING", "on"), a.cmd("CLIENT", "TRACKINGINFO"))
    log("switch bcast", a.cmd("CLIENT", "TRACKING", "on", "bcast"))
    log("get", a.cmd("GET", "k"), b.cmd("SET", "k", "1"), a.read())
    log("db1", a.cmd("GET", "k"), b.cmd("SELECT", "1"), b.cmd("SET", "k", "x"), a.read(), b.cmd("SELECT", "0"))
    log("own", a.cmd("GET", "k"), a.cmd("SET", "k", "2"), a.read())
    a.cmd("GET", "k")
    a.s.sendall(enc("SET", "k", "3") + enc("GET", "k") + enc("SET", "k", "4"))
    log("pipeline", a.read())
    # Keys of one MSET on several shards: one push per key, in any order.
    log("mget", a.cmd("MGET", "k", "j", "x1", "x2"), b.cmd("MSET", "k", "1", "j", "2", "x1", "3", "x2", "4"),
        sorted(a.read().split(b">2\r\n")))
    log("readonly", a.cmd("STRLEN", "s"), a.cmd("EXISTS", "s"), b.cmd("SET", "s", "y"), a.read())
    log("multi", a.cmd("GET", "n"), a.cmd("MULTI"), a.cmd("SET", "n", "1"), a.cmd("GET", "n"), a.cmd("SET", "n", "5"),
        a.cmd("EXEC"), a.read())
    log("multi other", a.cmd("GET", "m"), b.cmd("MULTI"), b.cmd("SET", "m", "1"), b.cmd("INCR", "cnt"),
        b.cmd("EXEC"), a.read())
    log("flushall", a.cmd("GET", "k"), b.cmd("FLUSHALL"), a.read())
    log("flushdb own", a.cmd("FLUSHDB"), a.read())
    log("off", a.cmd("CLIENT", "TRACKING", "off"), a.cmd("CLIENT", "TRACKINGINFO"), a.cmd("GET", "k"),
        b.cmd("SET", "k", "1"), a.read())
    # NOLOOP
    log("noloop", a.cmd("CLIENT", "TRACKING", "on", "noloop"), a.cmd("GET", "n"), a.cmd("SET", "n", "1"), a.read(),
        a.cmd("GET", "n"), b.cmd("SET", "n", "2"), a.read())
    a.cmd("CLIENT", "TRACKING", "off")
    # OPTIN / OPTOUT
    log("optin", a.cmd("CLIENT", "TRACKING", "on", "optin"), a.cmd("CLIENT", "CACHING", "no"),
        a.cmd("GET", "o1"), a.cmd("CLIENT", "CACHING", "yes"), a.cmd("CLIENT", "TRACKINGINFO"), a.cmd("GET", "o2"),
        a.cmd("GET", "o3"), b.cmd("DEL", "o1"), b.cmd("SET", "o1", "1"), b.cmd("SET", "o2", "1"),
        b.cmd("SET", "o3", "1"), a.read())
    log("optin ping", a.cmd("CLIENT", "CACHING", "yes"), a.cmd("PING"), a.cmd("GET", "o1"), b.cmd("SET", "o1", "2"),
        a.read())
    log("optin multi", a.cmd("CLIENT", "CACHING", "yes"), a.cmd("MULTI"), a.cmd("GET", "m1"), a.cmd("GET", "m2"),
        a.cmd("EXEC"), a.cmd("GET", "m3"), b.cmd("SET", "m1", "1"), b.cmd("SET", "m2", "1"), b.cmd("SET", "m3", "1"),
        a.read())
    a.cmd("CLIENT", "TRACKING", "off")
    log("optout", a.cmd("CLIENT", "TRACKING", "on", "optout"), a.cmd("CLIENT", "CACHING", "yes"),
        a.cmd("CLIENT", "CACHING", "no"), a.cmd("GET", "q1"), a.cmd("GET", "q2"), b.cmd("SET", "q1", "1"),
        b.cmd("SET", "q2", "1"), a.read())
    a.cmd("CLIENT", "TRACKING", "off")
    # BCAST
    log("bcast", a.cmd("CLIENT", "TRACKING", "on", "bcast", "prefix", "a", "prefix", "b"),
        b.cmd("SET", "a1", "1"), a.read(), b.cmd("SET", "c1", "1"), a.read(), b.cmd("DEL", "b1"), a.read(),
        b.cmd("SET", "b1", "1"), a.read(), a.cmd("SET", "a5", "1"), a.read())
    log("bcast prefixes", a.cmd("CLIENT", "TRACKING", "on", "bcast", "prefix", "c"),
        a.cmd("CLIENT", "TRACKING", "on", "bcast", "prefix", "cc"), a.cmd("CLIENT", "TRACKING", "on", "bcast"),
        a.cmd("CLIENT", "TRACKINGINFO"), b.cmd("FLUSHALL"), a.read())
    a.cmd("CLIENT", "TRACKING", "off")
    log("bcast noloop", a.cmd("CLIENT", "TRACKING", "on", "bcast", "noloop"), a.cmd("SET", "zz", "1"), a.read(),
        b.cmd("SET", "zz", "2"), a.read(), b.cmd("DEL", "zz", "nonexist"), a.read())
    log("reset", a.cmd("RESET"), a.cmd("CLIENT", "TRACKINGINFO"), b.cmd("SET", "zz", "3"), a.read())
    a.close()
    b.close()


def scenario_redirect(port, log):
    a, b, r = Conn(port), Conn(port), Conn(port)
    rid = r.id()
    b.cmd("FLUSHALL")
    log("redirect", a.cmd("CLIENT", "TRACKING", "on", "redirect", rid), a.cmd("CLIENT", "GETREDIR") == b":%d\r\n" % rid)
    log("not subscribed", a.cmd("GET", "k"), b.cmd("SET", "k", "1"), r.read(), a.read())
    log("subscribe", r.cmd("SUBSCRIBE", "__redis__:invalidate"))
    log("message", a.cmd("GET", "k"), b.cmd("SET", "k", "2"), r.read(), a.read())
    log("own write", a.cmd("GET", "k"), a.cmd("SET", "k", "3"), r.read(), a.read())
    log("flush", b.cmd("FLUSHALL"), r.read(), a.read())
    log("bcast", a.cmd("CLIENT", "TRACKING", "off"), a.cmd("CLIENT", "TRACKING", "on", "bcast", "redirect", rid),
        b.cmd("SET", "x", "1"), r.read())
    r3 = Conn(port)
    r3.cmd("HELLO", "3")
    rid3 = r3.id()
    a.cmd("CLIENT", "TRACKING", "off")
    log("resp3 target", a.cmd("CLIENT", "TRACKING", "on", "redirect", rid3), a.cmd("GET", "k"),
        b.cmd("SET", "k", "1"), r3.read(), b.cmd("FLUSHDB"), r3.read())
    a.cmd("CLIENT", "TRACKING", "off")
    # The target goes away: a RESP3 client is told.
    a.cmd("HELLO", "3")
    t = Conn(port)
    tid = t.id()
    a.cmd("CLIENT", "TRACKING", "on", "redirect", tid)
    a.cmd("GET", "k")
    t.close()
    time.sleep(0.1)
    log("broken", b.cmd("SET", "k", "1"), re.sub(rb":\d+\r\n", b":ID\r\n", a.read()))
    log("broken info", re.sub(rb":\d+\r\n", b":ID\r\n", a.cmd("CLIENT", "TRACKINGINFO")))
    log("redirect reset", a.cmd("CLIENT", "TRACKING", "on"), a.cmd("CLIENT", "GETREDIR"))
    for c in (a, b, r, r3):
        c.close()


class TrackingTest(unittest.TestCase):
    THREADS = 2

    @classmethod
    def setUpClass(cls):
        cls._ours_cm = harness.start_server(distcache_args=["--threads", str(cls.THREADS)])
        cls.ours = cls._ours_cm.__enter__()
        cls._ref_cm = harness.start_server(reference=True)
        cls.ref = cls._ref_cm.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls._ref_cm.__exit__(None, None, None)
        cls._ours_cm.__exit__(None, None, None)

    def compare(self, scenario):
        results = []
        for server in (self.ours, self.ref):
            lines = []
            scenario(server.port, lambda label, *vals: lines.append((label, vals)))
            results.append(lines)
        ours, ref = results
        self.assertEqual(len(ours), len(ref))
        for o, r in zip(ours, ref):
            self.assertEqual(o, r)

    def test_default_bcast_optin_optout_noloop(self):
        self.compare(scenario_default_and_modes)

    def test_redirect(self):
        self.compare(scenario_redirect)

    def test_clients_come_and_go(self):
        # Tracking state of closed clients is dropped: the server stays healthy and
        # a later client sees only its own invalidations.
        for _ in range(50):
            c = Conn(self.ours.port)
            c.cmd("HELLO", "3", wait=0)
            c.cmd("CLIENT", "TRACKING", "on", "bcast", "prefix", "gone:", wait=0)
            c.close()
        w = Conn(self.ours.port)
        w.cmd("SET", "gone:1", "1")
        c = Conn(self.ours.port)
        c.cmd("HELLO", "3")
        self.assertEqual(c.cmd("CLIENT", "TRACKING", "on"), b"+OK\r\n")
        c.cmd("GET", "gone:1")
        w.cmd("SET", "gone:1", "2")
        self.assertEqual(c.read(), b">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\ngone:1\r\n")
        c.close()
        w.close()
        self.assertTrue(self.ours.alive())


class TrackingTest4Threads(TrackingTest):
    THREADS = 4


if __name__ == "__main__":
    unittest.main()
