"""Pub/sub and keyspace notifications against a reference redis-server.

Both servers are started here: distcache with --threads 2, so that the
connections of one test (spread round-robin over the threads) publish and
subscribe across threads, and a real redis-server. Subscriber scripts are
compared reply by reply in RESP2 and RESP3; published messages are compared
per subscriber; keyspace events raised by a script of commands are compared
in order. Slow subscribers must be disconnected at the pubsub output buffer
limits while the publisher and other clients keep working.
"""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Push, RawConnection, RespError  # noqa: E402

THREADS = 2


SENTINEL = b"--sentinel--"


def read_replies_until_ping(conn, resp):
    """Sends PING <sentinel> and returns every reply read before PING's own
    reply (as exact bytes), which marks the end of the previous command's
    replies."""
    conn.send_command("PING", SENTINEL)
    ends = (b"$%d\r\n%s\r\n" % (len(SENTINEL), SENTINEL),
            b"*2\r\n$4\r\npong\r\n$%d\r\n%s\r\n" % (len(SENTINEL), SENTINEL))
    out = []
    while True:
        data = conn.read_reply_bytes()
        if data in ends:
            return out
        out.append(data)


def run_script(conn, script, resp):
    """Runs each command of `script` on `conn` and returns, per command, the
    list of reply bytes it produced (a command may produce several)."""
    results = []
    for cmd in script:
        conn.send_command(*cmd)
        results.append((cmd, read_replies_until_ping(conn, resp)))
    return results


def message_fields(reply):
    """(kind, [pattern], channel, payload) of a message push/array, as bytes."""
    return tuple(reply)


class Pair:
    """The same setup on distcache and on redis-server."""

    def __init__(self, ours, ref):
        self.ours = ours
        self.ref = ref

    def both(self):
        return (("distcache", self.ours), ("redis", self.ref))


class PubSubTestBase(harness.SideBySideTestCase):
    DISTCACHE_ARGS = ("--threads", str(THREADS))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ours = cls.server

    def setUp(self):
        self.conns = []
        for server in (self.ours, self.ref):
            with server.raw() as c:
                self.assertEqual(c.command("FLUSHALL"), "OK")
                self.assertEqual(c.command("CONFIG", "SET", "notify-keyspace-events", ""), "OK")
                self.assertEqual(c.command("CONFIG", "SET", "client-output-buffer-limit",
                                           "pubsub 32mb 8mb 60"), "OK")

    def tearDown(self):
        for c in self.conns:
            c.close()
        # Every subscription of the test must be gone once its connections closed.
        for server in (self.ours, self.ref):
            deadline = time.monotonic() + 10
            with server.raw() as c:
                while True:
                    left = (c.command("PUBSUB", "CHANNELS"), c.command("PUBSUB", "NUMPAT"),
                            c.command("PUBSUB", "SHARDCHANNELS"))
                    if left == ([], 0, []):
                        break
                    if time.monotonic() > deadline:
                        self.fail(f"subscriptions left on {server.binary}: {left}")
                    time.sleep(0.02)
        self.assertTrue(self.ours.alive(), self.ours.output(tail_lines=100))

    def connect(self, server, resp=2, timeout=10.0):
        c = server.raw(timeout=timeout)
        self.conns.append(c)
        if resp == 3:
            reply = c.command("HELLO", "3")
            self.assertIsInstance(reply, dict)
        return c

    def assertSameReplies(self, ours, ref):
        self.assertEqual(len(ours), len(ref))
        for (cmd, a), (_, b) in zip(ours, ref):
            self.assertEqual(a, b, f"command {cmd}")


class SubscriberScripts(PubSubTestBase):
    """Confirmations, unsubscribe forms, counts, PING and errors, byte for byte."""

    SCRIPT = [
        ("UNSUBSCRIBE",), ("PUNSUBSCRIBE",), ("SUNSUBSCRIBE",),
        ("SUBSCRIBE", "a", "b", "a"), ("PSUBSCRIBE", "p*", "q*", "p*"), ("SSUBSCRIBE", "s1", "s2"),
        ("PING",), ("PING", "hello"), ("GET", "k"), ("CONFIG", "GET", "maxmemory"), ("PUBLISH", "a", "x"),
        ("PUBSUB", "NUMSUB", "a"), ("CLIENT", "GETNAME"), ("HELLO", "2"), ("ECHO", "x"),
        ("UNSUBSCRIBE", "b", "nosuch"), ("PUNSUBSCRIBE", "q*", "p*"), ("PING",),
        ("SUNSUBSCRIBE", "s1", "zz"), ("PING",), ("SUNSUBSCRIBE",), ("PUNSUBSCRIBE",), ("PING",),
        ("UNSUBSCRIBE",), ("PING",), ("GET", "k"), ("SUBSCRIBE", "c"), ("SUBSCRIBE",), ("PSUBSCRIBE",),
        ("UNSUBSCRIBE", "c", "c"), ("SSUBSCRIBE", "x"), ("GET", "k"), ("RESET",), ("GET", "k"),
        ("PUBSUB", "NUMSUB", "a", "b", "c", "x"), ("PUBSUB", "SHARDNUMSUB", "x"),
    ]

    def run_on_both(self, resp, script):
        results = []
        for server in (self.ours, self.ref):
            c = self.connect(server, resp)
            results.append(run_script(c, script, resp))
        return results

    def test_resp2(self):
        ours, ref = self.run_on_both(2, self.SCRIPT)
        self.assertSameReplies(ours, ref)

    def test_resp3(self):
        script = [cmd for cmd in self.SCRIPT if cmd[0] != "HELLO"]
        ours, ref = self.run_on_both(3, script)
        self.assertSameReplies(ours, ref)

    def test_resp3_switch_to_resp2_while_subscribed(self):
        script = [("SUBSCRIBE", "a"), ("GET", "k"), ("HELLO", "2"), ("GET", "k"), ("PING",),
                  ("UNSUBSCRIBE",), ("GET", "k")]
        results = []
        for server in (self.ours, self.ref):
            c = self.connect(server, 3)
            res = []
            for cmd in script:
                c.send_command(*cmd)
                # HELLO's map differs (id); compare everything else.
                replies = read_replies_until_ping(c, 3)
                res.append((cmd, None if cmd[0] == "HELLO" else replies))
            results.append(res)
        self.assertSameReplies(*results)

    def test_pubsub_errors(self):
        script = [("PUBSUB",), ("PUBSUB", "FOO"), ("PUBSUB", "NUMPAT", "x"), ("PUBSUB", "CHANNELS", "a", "b"),
                  ("PUBSUB", "SHARDCHANNELS", "a", "b"), ("PUBSUB", "HELP"), ("PUBSUB", "help", "x"),
                  ("PUBLISH", "a"), ("SPUBLISH", "a", "b", "c"), ("PUBSUB", "NUMSUB"), ("PUBSUB", "SHARDNUMSUB")]
        for resp in (2, 3):
            ours, ref = self.run_on_both(resp, script)
            self.assertSameReplies(ours, ref)


class Delivery(PubSubTestBase):
    """Messages reach subscribers on every thread, in publish order, with
    Redis's counts and formats."""

    def subscribers(self, server, count, setup):
        subs = []
        for i in range(count):
            resp = 3 if i % 2 else 2
            c = self.connect(server, resp)
            for cmd in setup(i):
                c.send_command(*cmd)
                expected = len(cmd) - 1
                for _ in range(expected):
                    c.read_reply()
            subs.append(c)
        return subs

    def test_channels_patterns_and_counts(self):
        def setup(i):
            cmds = [("SUBSCRIBE", "news", f"own{i}")]
            if i % 3 == 0:
                cmds.append(("PSUBSCRIBE", "n*", "*s"))
            if i % 4 == 1:
                cmds.append(("SSUBSCRIBE", "news"))
            return cmds

        channels = ["news", "own0", "own1", "nope", "ns", "own5"]
        collected = {}
        for name, server in (("ours", self.ours), ("ref", self.ref)):
            subs = self.subscribers(server, 6, setup)
            pub = self.connect(server, 2)
            counts = []
            for n in range(50):
                ch = channels[n % len(channels)]
                counts.append(pub.command("PUBLISH", ch, f"m{n}"))
                counts.append(pub.command("SPUBLISH", ch, f"s{n}"))
            counts.append(pub.command("PUBLISH", "end", "end"))
            # What each subscriber received, in order, up to a final marker.
            received = []
            for c in subs:
                c.send_command("UNSUBSCRIBE")
                got = []
                while True:
                    r = c.read_reply_bytes()
                    if b"unsubscribe" in r:
                        break
                    got.append(r)
                received.append(got)
            collected[name] = (counts, received)
        self.assertEqual(collected["ours"][0], collected["ref"][0])
        for i, (a, b) in enumerate(zip(collected["ours"][1], collected["ref"][1])):
            # Redis lists a client's matching patterns in an order of its own;
            # compare the messages of each publish as a sorted group.
            self.assertEqual(sorted(a), sorted(b), f"subscriber {i}")
            self.assertEqual([x for x in a if b"pmessage" not in x], [x for x in b if b"pmessage" not in x],
                             f"subscriber {i}: channel messages in order")

    def test_publish_order_from_several_publishers(self):
        # Subscribers and publishers on both threads; every subscriber must
        # see each publisher's messages in that publisher's order.
        subs = []
        for i in range(4):
            c = self.connect(self.ours, 2 + i % 2)
            c.command("SUBSCRIBE", "ordered")
            subs.append(c)
        publishers = [self.connect(self.ours) for _ in range(4)]
        per_publisher = 300
        errors = []

        def publish(idx, conn):
            try:
                for n in range(per_publisher):
                    conn.send_command("PUBLISH", "ordered", f"{idx}:{n}")
                    if n % 50 == 49:  # pipelined bursts
                        for _ in range(50):
                            r = conn.read_reply()
                            if r != 4:
                                errors.append(f"publisher {idx} got count {r!r}")
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        threads = [threading.Thread(target=publish, args=(i, p)) for i, p in enumerate(publishers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        for s in subs:
            last = {i: -1 for i in range(len(publishers))}
            for _ in range(per_publisher * len(publishers)):
                msg = s.read_reply()
                self.assertEqual(msg[0], b"message")
                idx, n = map(int, msg[2].split(b":"))
                self.assertEqual(n, last[idx] + 1, f"publisher {idx} out of order")
                last[idx] = n

    def test_pattern_matching(self):
        patterns = ["h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo", "*", "\\*x", "news.*", "a\\?c",
                    "[", "\\"]
        channels = ["hello", "hallo", "hxllo", "hllo", "heeeello", "*x", "ax", "news.art", "news", "a?c",
                    "abc", "[", "\\", "h\\llo"]
        results = {}
        for name, server in (("ours", self.ours), ("ref", self.ref)):
            subs = []
            for i, p in enumerate(patterns):
                c = self.connect(server, 2 + i % 2)
                c.command("PSUBSCRIBE", p)
                subs.append(c)
            pub = self.connect(server)
            counts = [pub.command("PUBLISH", ch, "x") for ch in channels]
            numpat = pub.command("PUBSUB", "NUMPAT")
            got = []
            for c in subs:
                c.send_command("PUNSUBSCRIBE")
                msgs = []
                while True:
                    r = c.read_reply()
                    if r[0] == b"punsubscribe":
                        break
                    msgs.append(r)
                got.append(msgs)
            results[name] = (counts, numpat, got)
        self.assertEqual(results["ours"], results["ref"])

    def test_introspection(self):
        def setup(server):
            subs = []
            layout = [("SUBSCRIBE", "a", "b", "c"), ("SUBSCRIBE", "a", "news.1"), ("PSUBSCRIBE", "n*", "a*"),
                      ("PSUBSCRIBE", "n*"), ("SSUBSCRIBE", "sa", "sb"), ("SSUBSCRIBE", "sa")]
            for i, cmd in enumerate(layout):
                c = self.connect(server, 2 + i % 2)
                c.send_command(*cmd)
                for _ in range(len(cmd) - 1):
                    c.read_reply()
                subs.append(c)
            return subs

        queries = [("PUBSUB", "CHANNELS"), ("PUBSUB", "CHANNELS", "*"), ("PUBSUB", "CHANNELS", "n*"),
                   ("PUBSUB", "CHANNELS", "[ab]"), ("PUBSUB", "NUMSUB", "a", "b", "news.1", "n*", "sa"),
                   ("PUBSUB", "NUMPAT"), ("PUBSUB", "SHARDCHANNELS"), ("PUBSUB", "SHARDCHANNELS", "*b"),
                   ("PUBSUB", "SHARDNUMSUB", "sa", "sb", "a")]
        results = {}
        for name, server in (("ours", self.ours), ("ref", self.ref)):
            subs = setup(server)
            out = []
            for resp in (2, 3):
                c = self.connect(server, resp)
                for q in queries:
                    r = c.command(*q)
                    if q[1] in ("CHANNELS", "SHARDCHANNELS"):
                        r = sorted(r)
                    out.append((resp, q, r))
            # Dropping subscribers updates the counts.
            subs[0].close()
            subs[4].send_command("RESET")
            subs[4].read_reply()
            c = self.connect(server)
            deadline = time.monotonic() + 5
            while c.command("PUBSUB", "NUMSUB", "b")[1] != 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            for q in queries:
                r = c.command(*q)
                if q[1] in ("CHANNELS", "SHARDCHANNELS"):
                    r = sorted(r)
                out.append(("after", q, r))
            results[name] = out
        self.assertEqual(results["ours"], results["ref"])

    def test_client_list_shows_subscriptions(self):
        c = self.connect(self.ours)
        c.send_command("SUBSCRIBE", "a", "b")
        c.read_reply()
        c.read_reply()
        c.command("PSUBSCRIBE", "p")
        c.command("SSUBSCRIBE", "s")
        other = self.connect(self.ours)
        listing = other.command("CLIENT", "LIST").decode()
        line = [l for l in listing.splitlines() if "sub=2" in l]
        self.assertEqual(len(line), 1, listing)
        self.assertIn("flags=P", line[0])
        self.assertIn("psub=1", line[0])
        self.assertIn("ssub=1", line[0])


KEYSPACE_SCRIPT = [
    # strings
    "SET a 1", "SET a 2 EX 100", "SET a 3 KEEPTTL", "SET a 4 NX", "SET b 5 XX", "SET a 5 GET", "SET a 6 EXAT 1",
    "SETNX a 1", "SETNX a 2", "SETEX a 100 v", "PSETEX a 100000 v", "GETSET a w", "GETSET nk w", "GETDEL a",
    "GETDEL a", "SET a 1", "GETEX a", "GETEX a EX 100", "GETEX a PERSIST", "GETEX a PXAT 1", "MSET a 1 b 2",
    "MSETNX c 1 d 2", "MSETNX c 1 e 2", "APPEND a xyz", "APPEND z xyz", "SETRANGE a 1 Q", "SETRANGE y 0 \"\"",
    "SETRANGE y 2 ab", "INCR n", "DECR n", "INCRBY n 5", "DECRBY n 5", "INCRBYFLOAT n 1.5", "INCR a",
    # generic
    "DEL a b c", "UNLINK nope", "SET a 1", "RENAME a b", "RENAME b b", "RENAMENX b c", "SET d 1", "RENAMENX c d",
    "SET r1 x", "RENAME r1 d", "COPY c e", "COPY c e", "COPY c e REPLACE", "COPY c e DB 1", "MOVE e 2", "SET e x",
    "MOVE e 2", "EXPIRE e 100", "EXPIRE e 100 NX", "PEXPIRE e 100000 XX", "EXPIREAT e 99999999999", "PERSIST e",
    "PERSIST e", "EXPIRE e -1", "SET f 1", "PEXPIREAT f 1", "EXPIRE nokey 10",
    # lists
    "LPUSH l a b c", "RPUSH l d", "LPUSHX l e", "RPUSHX l f", "LPUSHX nol e", "LPOP l", "RPOP l 2", "LPOP l 0",
    "LINSERT l BEFORE b x", "LINSERT l BEFORE zz x", "LSET l 0 y", "LREM l 1 y", "LREM l 5 nothing", "LTRIM l 0 1",
    "LTRIM l 0 -1", "LMOVE l m LEFT RIGHT", "RPOPLPUSH l m", "LMOVE m m LEFT LEFT", "LMPOP 1 m LEFT COUNT 1",
    "LMPOP 2 x m RIGHT COUNT 5", "RPUSH l2 a b", "BLPOP l2 0.01", "BRPOP l2 0.01", "RPUSH l6 a",
    "BLMOVE l6 l7 LEFT LEFT 0.01", "BRPOPLPUSH l7 l8 0.01", "BLMPOP 0.01 1 l8 LEFT", "RPUSH l4 a",
    "LTRIM l4 1 -1",
    # hashes
    "HSET h a 1 b 2", "HSET h a 1", "HMSET h c 3", "HSETNX h c 4", "HSETNX h d 4", "HDEL h a zz", "HDEL h zz",
    "HINCRBY h n 5", "HINCRBYFLOAT h f 1.5", "HDEL h b c d n f",
    # sets
    "SADD s a b c", "SADD s a", "SREM s a zz", "SREM s zz", "SPOP s 0", "SPOP s 10", "SADD s q", "SPOP s",
    "SADD s a b", "SADD s2 q", "SMOVE s s2 nope", "SMOVE s2 s3 q", "SMOVE s3 s3 q", "SMOVE s3 s4 q", "SADD s4 q",
    "SADD s5 1 2 3", "SADD s6 3 4", "SINTERSTORE sd s5 s6", "SINTERSTORE sd s5 nokey", "SUNIONSTORE sd s5 s6",
    "SDIFFSTORE sd s5 s6", "SDIFFSTORE sd s5 s5", "SET sd x", "SUNIONSTORE sd s5", "SUNIONSTORE sd nokey",
    # sorted sets and geo
    "ZADD z 1 a 2 b 3 c", "ZADD z 1 a", "ZADD z 5 a", "ZADD z NX 9 a", "ZADD z XX 10 a", "ZADD z INCR 1 a",
    "ZADD z NX INCR 1 a", "ZADD z GT CH 1 b", "ZINCRBY z 2 b", "ZINCRBY z 0 b", "ZINCRBY nz 2 b", "ZREM z a nosuch",
    "ZREMRANGEBYSCORE z 100 200", "ZREMRANGEBYSCORE z 0 3", "ZADD z 1 a 2 b 3 c 4 d", "ZREMRANGEBYRANK z 0 0",
    "ZREMRANGEBYLEX z [a [b", "ZADD zl 0 a 0 b", "ZREMRANGEBYLEX zl - +", "ZADD z2 1 x 2 y", "ZPOPMIN z2",
    "ZPOPMAX z2 5", "ZADD z3 1 x 2 y 3 z", "BZPOPMIN z3 0.01", "BZPOPMAX z3 0.01", "ZMPOP 1 z3 MIN",
    "ZADD a1 1 x 2 y", "ZADD a2 2 y 3 z", "ZUNIONSTORE zd 2 a1 a2", "ZINTERSTORE zd 2 a1 a2", "ZDIFFSTORE zd 2 a1 a2",
    "ZDIFFSTORE zd 2 a1 a1", "ZINTERSTORE zd 2 a1 nokey", "ZRANGESTORE zd2 a1 0 -1", "ZRANGESTORE zd2 a1 5 10",
    "GEOADD g 13.361389 38.115556 Palermo", "GEOADD g 15.087269 37.502669 Catania",
    "GEOADD g XX 15.087269 37.502669 Catania", "GEOSEARCHSTORE gs g FROMLONLAT 15 37 BYRADIUS 200 km",
    "GEOSEARCHSTORE gs g FROMLONLAT 0 0 BYRADIUS 1 km", "GEORADIUS g 15 37 200 km STORE gr",
    "GEORADIUS g 0 0 1 km STORE gr",
    # streams
    "XADD x 1-1 a 1", "XADD x 2-1 b 2", "XADD x MAXLEN 2 3-1 c 3", "XADD x MAXLEN 5 4-1 d 4", "XDEL x 3-1 99-1",
    "XDEL x 99-1", "XTRIM x MAXLEN 10", "XADD x 6-1 f 6", "XGROUP CREATE x g 0", "XGROUP CREATE x2 g 0 MKSTREAM",
    "XGROUP CREATECONSUMER x g c1", "XGROUP CREATECONSUMER x g c1", "XREADGROUP GROUP g c2 COUNT 1 STREAMS x >",
    "XGROUP SETID x g 0", "XGROUP DELCONSUMER x g c1", "XGROUP DELCONSUMER x g nope", "XGROUP CREATE x g2 $",
    "XGROUP DESTROY x g2", "XSETID x 10-1", "XTRIM x MAXLEN 0",
    # bitmaps and HyperLogLog
    "SETBIT bb 7 1", "SETBIT bb 7 1", "SETBIT bb 100 0", "SET s1 abc", "SET s2 xyz", "BITOP AND bd s1 s2",
    "BITOP AND bd nokey nokey2", "BITFIELD bf SET u8 0 255", "BITFIELD bf GET u8 0",
    "BITFIELD bf OVERFLOW FAIL INCRBY u8 0 255", "PFADD hl a b c", "PFADD hl a", "PFADD hl2", "PFMERGE hm hl hl2",
    # another database
    "SELECT 3", "SET a 1", "RPUSH l a", "SELECT 0",
    # expiry, lazy and active
    "SET k v PX 50", "SLEEP 0.3", "GET k", "SET k v PX 50", "SLEEP 0.3", "SET k w",
]


class KeyspaceNotifications(PubSubTestBase):
    """Events of a script of commands, in order, compared with Redis's."""

    def capture(self, server, script, flags, subscribers=1, patterns=("__key*__:*",)):
        import shlex
        client = self.connect(server)
        self.assertEqual(client.command("CONFIG", "SET", "notify-keyspace-events", flags), "OK")
        subs = []
        for i in range(subscribers):
            sub = self.connect(server, 2 + i % 2)
            for p in patterns:
                sub.command("PSUBSCRIBE", p)
            sub.command("SUBSCRIBE", "--mark--")
            subs.append(sub)
        replies = []
        for i, line in enumerate(script):
            args = shlex.split(line)
            if args[0] == "SLEEP":
                time.sleep(float(args[1]))
                replies.append((line, None))
            else:
                reply = client.command(*args)
                if args[0].upper() == "SPOP" and isinstance(reply, list):
                    reply = sorted(reply)  # members of a whole set, in an order of its own
                replies.append((line, reply))
            client.command("PUBLISH", "--mark--", str(i))
        per_sub = []
        for sub in subs:
            events = []
            for i, line in enumerate(script):
                while True:
                    m = sub.read_reply()
                    if m[0] == b"message":
                        self.assertEqual(m[2], str(i).encode())
                        break
                    events.append((i, m[2], m[3]))
            per_sub.append(events)
        client.command("CONFIG", "SET", "notify-keyspace-events", "")
        client.command("SELECT", "0")
        return replies, per_sub

    def compare(self, script, flags, **kw):
        ours = self.capture(self.ours, script, flags, **kw)
        ref = self.capture(self.ref, script, flags, **kw)
        self.assertEqual(ours[0], ref[0], "replies differ")
        for events in ours[1]:
            # Active expiry may report a key a command earlier or later: compare the sequence.
            flat_ours = [(ch, msg) for _, ch, msg in events]
            flat_ref = [(ch, msg) for _, ch, msg in ref[1][0]]
            if flat_ours != flat_ref:
                by_cmd = {}
                for i, ch, msg in events:
                    by_cmd.setdefault(i, [[], []])[0].append((ch, msg))
                for i, ch, msg in ref[1][0]:
                    by_cmd.setdefault(i, [[], []])[1].append((ch, msg))
                diffs = [(script[i], v) for i, v in sorted(by_cmd.items()) if v[0] != v[1]]
                self.fail(f"events differ with flags {flags!r} (ours, redis): {diffs[:10]}")
        return ours

    def test_all_classes_with_new(self):
        self.compare(KEYSPACE_SCRIPT, "KEAn")

    def test_all_classes_keyevent_only(self):
        self.compare(KEYSPACE_SCRIPT, "EA")

    def test_some_classes(self):
        for flags in ("Kgx", "E$lz", "Kshtn", "KEd", "K"):
            self.compare(KEYSPACE_SCRIPT[:60] + KEYSPACE_SCRIPT[-6:], flags)

    def test_every_thread_gets_the_events(self):
        # Four subscribers (two per thread) with channel and pattern subscriptions.
        script = ["SET a 1", "RPUSH {t}l x", "DEL a {t}l", "HSET h f v", "SET b 2 PX 20", "SLEEP 0.2", "GET b"]
        _, per_sub = self.capture(self.ours, script, "KEA", subscribers=4,
                                  patterns=("__keyevent@0__:*", "__keyspace@0__:[ab]"))
        self.assertTrue(per_sub[0])
        for events in per_sub[1:]:
            self.assertEqual([e[1:] for e in events], [e[1:] for e in per_sub[0]])
        _, ref = self.capture(self.ref, script, "KEA", subscribers=1,
                              patterns=("__keyevent@0__:*", "__keyspace@0__:[ab]"))
        self.assertEqual(sorted(e[1:] for e in per_sub[0]), sorted(e[1:] for e in ref[0]))

    def test_notifications_off_publish_nothing(self):
        _, per_sub = self.capture(self.ours, ["SET a 1", "DEL a", "SET b 1 PX 10", "SLEEP 0.2"], "")
        self.assertEqual(per_sub, [[]])
        _, per_sub = self.capture(self.ours, ["SET a 1", "DEL a"], "A")  # classes but neither K nor E
        self.assertEqual(per_sub, [[]])

    def test_config_round_trip(self):
        for flags, shown in (("KEn", "nKE"), ("A", "A"), ("Ansm", "Am"), ("Kgn", "gnK"), ("AKEmn", "AKEm"),
                             ("ndtg", "gtdn"), ("g$lshzxetd", "A"), ("", "")):
            for server in (self.ours, self.ref):
                with server.raw() as c:
                    self.assertEqual(c.command("CONFIG", "SET", "notify-keyspace-events", flags), "OK")
                    self.assertEqual(c.command("CONFIG", "GET", "notify-keyspace-events"),
                                     [b"notify-keyspace-events", shown.encode()], server.binary)
        for server in (self.ours, self.ref):
            with server.raw() as c:
                self.assertEqual(c.command("CONFIG", "SET", "notify-keyspace-events", "KEQ"),
                                 RespError("ERR CONFIG SET failed (possibly related to argument "
                                           "'notify-keyspace-events') - Invalid event class character. "
                                           "Use 'Ag$lshzxeKEtmdn'."))


class Clients(PubSubTestBase):
    """Pub/sub through redis-py, and RESP3 clients that keep running commands."""

    def test_redis_py_pubsub(self):
        results = {}
        for name, server in (("ours", self.ours), ("ref", self.ref)):
            r = server.client()
            ps = r.pubsub()
            ps.subscribe("a", "b")
            ps.psubscribe("c*")
            got = [ps.get_message(timeout=5) for _ in range(3)]
            counts = [r.publish("a", "1"), r.publish("cx", "2"), r.publish("zz", "3"), r.publish("b", "4")]
            for _ in range(3):
                got.append(ps.get_message(timeout=5))
            got.append(r.pubsub_numsub("a", "b", "c"))
            got.append(r.pubsub_numpat())
            ps.unsubscribe()
            ps.punsubscribe()
            # UNSUBSCRIBE without channels lists them in an order of the server's own.
            unsubscribed = [ps.get_message(timeout=5) for _ in range(3)]
            got.append(sorted(m["channel"] for m in unsubscribed[:2]))
            got.append(sorted(m["data"] for m in unsubscribed[:2]))
            got.append([m["type"] for m in unsubscribed] + [unsubscribed[2]["data"]])
            ps.close()
            r.close()
            results[name] = (counts, got)
        self.assertEqual(results["ours"], results["ref"])

    def test_resp3_subscriber_gets_messages_while_blocked(self):
        for server in (self.ours, self.ref):
            sub = self.connect(server, 3)
            sub.command("SUBSCRIBE", "news")
            sub.send_command("BLPOP", "blk", "5")
            time.sleep(0.1)
            other = self.connect(server)
            self.assertEqual(other.command("PUBLISH", "news", "during"), 1)
            self.assertEqual(sub.read_reply(), Push([b"message", b"news", b"during"]), server.binary)
            self.assertEqual(other.command("RPUSH", "blk", "x"), 1)
            self.assertEqual(sub.read_reply(), [b"blk", b"x"])
            self.assertEqual(sub.command("GET", "blk"), None)
            sub.command("UNSUBSCRIBE")

    def test_quit_while_subscribed(self):
        for server in (self.ours, self.ref):
            sub = self.connect(server)
            sub.command("SUBSCRIBE", "q")
            self.assertEqual(sub.command("QUIT"), "OK")
            self.assertEqual(sub.read_until_closed(), b"")
            with server.raw() as c:
                deadline = time.monotonic() + 5
                while c.command("PUBSUB", "NUMSUB", "q") != [b"q", 0]:
                    self.assertLess(time.monotonic(), deadline)
                    time.sleep(0.01)
                self.assertEqual(c.command("PUBLISH", "q", "x"), 0)


class SlowSubscribers(PubSubTestBase):
    """client-output-buffer-limit pubsub: hard and soft limits."""

    def slow_subscriber(self, server, channel):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # keep the kernel from absorbing much
        s.connect((server.host, server.port))
        s.sendall(harness.encode_command("SUBSCRIBE", channel))
        data = b""
        while not data.endswith(b":1\r\n"):
            data += s.recv(4096)
        return s

    def wait_closed(self, sock, timeout=20):
        sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not sock.recv(1 << 16):
                    return True
        except (ConnectionResetError, socket.timeout):
            return not isinstance(sys.exc_info()[1], socket.timeout)
        return False

    def check_limit(self, server, limits, publish_count, delay):
        admin = self.connect(server)
        self.assertEqual(admin.command("CONFIG", "SET", "client-output-buffer-limit", limits), "OK")
        slow = self.slow_subscriber(server, "firehose")
        healthy = self.connect(server, 3)
        healthy.command("SUBSCRIBE", "firehose")
        pub = self.connect(server)
        payload = "x" * 16384
        received = 0
        dropped_at = None
        for n in range(publish_count):
            count = pub.command("PUBLISH", "firehose", payload)
            msg = healthy.read_reply()  # the healthy subscriber keeps up
            self.assertEqual(msg[0], b"message")
            received += 1
            if count == 1 and dropped_at is None:
                dropped_at = n
                break
            if delay:
                time.sleep(delay)
        self.assertIsNotNone(dropped_at, "the slow subscriber was never disconnected")
        self.assertTrue(self.wait_closed(slow), "the slow subscriber's connection stayed open")
        slow.close()
        # Everybody else keeps working.
        self.assertEqual(pub.command("PUBLISH", "firehose", "after"), 1)
        self.assertEqual(healthy.read_reply(), Push([b"message", b"firehose", b"after"]))
        self.assertEqual(admin.command("PING"), "PONG")
        self.assertEqual(admin.command("PUBSUB", "NUMSUB", "firehose"), [b"firehose", 1])
        healthy.command("UNSUBSCRIBE")
        return dropped_at

    def test_hard_limit(self):
        for server in (self.ours, self.ref):
            # 16 KiB messages: 16 of them fill the limit; the kernel's socket
            # buffers take some more before the server's own output grows.
            dropped_at = self.check_limit(server, "pubsub 256kb 0 0", 3000, 0)
            self.assertLess(dropped_at, 1000, server.binary)

    def test_soft_limit(self):
        for server in (self.ours, self.ref):
            start = time.monotonic()
            self.check_limit(server, "pubsub 0 128kb 1", 20000, 0.005)
            elapsed = time.monotonic() - start
            self.assertGreater(elapsed, 1.0, server.binary)
            self.assertLess(elapsed, 15, server.binary)


if __name__ == "__main__":
    harness.main()
