"""Stream commands against a reference redis-server.

resp-diff covers XADD/XRANGE/XREAD/XTRIM/XDEL with random data; this test
covers what it leaves out: consumer groups (XGROUP, XREADGROUP, XACK,
XPENDING, XCLAIM, XAUTOCLAIM), XINFO, XSETID, node-level (approximate)
trimming, RESP3 reply types and blocking reads. Each scenario is a script of
commands run on flushed servers, the real redis-server and distcache (both
started here on free ports); every reply is compared after normalising the
values that legitimately differ (idle times, delivery and seen times).
"""

import os
import re
import shlex
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RespError, RawConnection  # noqa: E402

AUTO_ID = re.compile(rb"\d+-\d+")


def line_args(line):
    return line if isinstance(line, list) else shlex.split(line)


class Normaliser:
    """Makes replies comparable: idle times in whole seconds, absolute unix
    times (delivery-time, seen-time) as whole seconds relative to now."""

    def __init__(self):
        self.now_ms = int(time.time() * 1000)

    def walk(self, x):
        if isinstance(x, bool):
            return x
        if isinstance(x, int) and x > 10**12:            # an absolute unix time in ms
            return ("time", round((x - self.now_ms) / 1000.0))
        if isinstance(x, list):
            return [self.walk(y) for y in x]
        if isinstance(x, dict):
            return {k: self.walk(v) for k, v in x.items()}
        return x

    def idle_after_key(self, x, key=b"idle"):
        if isinstance(x, dict):
            return {k: (v // 1000 if k == key and isinstance(v, int) else self.idle_after_key(v, key))
                    for k, v in x.items()}
        if isinstance(x, list):
            out = []
            for i, y in enumerate(x):
                if i > 0 and x[i - 1] == key and isinstance(y, int):
                    out.append(y // 1000)
                else:
                    out.append(self.idle_after_key(y, key))
            return out
        return x

    def __call__(self, args, reply):
        name = args[0].upper() if isinstance(args[0], str) else args[0].decode().upper()
        if isinstance(reply, RespError):
            return reply
        if name == "XPENDING" and len(args) >= 6 and isinstance(reply, list):
            reply = [[e[0], e[1], e[2] // 1000, e[3]] if isinstance(e, list) and len(e) == 4 else e
                     for e in reply]
        if name == "XINFO" and len(args) >= 2 and str(args[1]).upper() == "CONSUMERS":
            reply = self.idle_after_key(reply)
        return self.walk(reply)


def run_script(test, ref, dut, name, lines):
    """Runs `lines` on both connections and compares the replies. A line
    starting with '!' is run on both without comparing (HELLO, CONFIG ...);
    '~' compares only the shape of an auto-generated stream ID."""
    norm = Normaliser()
    for line in lines:
        compare = "exact"
        if isinstance(line, str) and line[:1] in "!~":
            compare = {"!": "none", "~": "id"}[line[0]]
            line = line[1:]
        args = line_args(line)
        r = ref.command(*args)
        t = dut.command(*args)
        if compare == "none":
            continue
        if compare == "id":
            ok = all(isinstance(x, bytes) and AUTO_ID.fullmatch(x) for x in (r, t))
            test.assertTrue(ok, f"[{name}] {line!r}: expected IDs, ref {r!r}, distcache {t!r}")
            continue
        nr, nt = norm(args, r), norm(args, t)
        test.assertEqual(nr, nt, f"[{name}] {line!r}\n  redis:     {r!r}\n  distcache: {t!r}")


# --------------------------------------------------------------------------- scenarios

def entries(key, first_ms, n, fields=("f", "v"), step=1):
    return [f"XADD {key} {first_ms + i * step}-0 " + " ".join(
        (f"{fields[j]} {fields[j + 1]}{i}" if j % 2 == 0 else "") for j in range(0, len(fields), 2)).strip()
            for i in range(n)]


SCENARIOS = {}

GROUP_SETUP = entries("s", 1, 6) + ["XGROUP CREATE s g 0"]

SCENARIOS["xadd_ids_and_errors"] = [
    "XADD s 0-* f v", "XADD s 0-* f v", "XADD s 0 f v", "XADD s 0-0 f v", "XADD s2 0 f v", "XADD s2 0-0 f v",
    "XADD s 5-5 f v", "XADD s 5-5 f v", "XADD s 5-* a b c d", "XADD s 4-* f v", "XADD s 4-9 f v",
    "XADD s 007-+3 f v", "XADD s \"8- 3\" f v", "XADD s 9--0 f v", "XADD s 10--3 f v", "XADD s \" 11\" f v",
    "XADD s 12-18446744073709551616 f v", "XADD s 13-18446744073709551615 f v", "XADD s 13-* f v",
    "XADD s 14- f v", "XADD s -14 f v", "XADD s 15.5 f v", "XADD s 16-*- f v", "XADD s +18 f v",
    "XADD s - f v", "XADD s + f v", "XADD s 19--18446744073709551615 f v", "XADD s " + "1" * 130 + " f v",
    "XADD s * f", "XADD s 20-1 f v g", "XADD s nomkstream", "XADD s NOMKSTREAM 20-1 f",
    "XADD nokey NOMKSTREAM * f v", "EXISTS nokey", "XADD nokey NOMKSTREAM MAXLEN 1 20-1 f v",
    "XADD s NOMKSTREAM 20-1 f v", "XADD s 20-* same fields",
    "XADD s LIMIT 0 * f v", "XADD s LIMIT 5 * f v", "XADD s MAXLEN 5 LIMIT 5 * f v", "XADD s MAXLEN -1 * f v",
    "XADD s MINID 5 MAXLEN 3 * f v", "XADD s MAXLEN 5 MAXLEN 3 * f v", "XADD s LIMIT -1 * f v",
    "XADD s MAXLEN abc * f v", "XADD s MAXLEN ~ * f v", "XADD s MINID ~ abc * f v", "XADD s MAXLEN",
    "XADD s MINID - 30-0 f v", "XADD s MINID + 30-0 f v",
    "XLEN s", "XRANGE s - +", "XREVRANGE s + -",
    "XADD s 18446744073709551615-18446744073709551615 f v", "XADD s * f v", "XADD s 18446744073709551615-* f v",
    "XLEN s", "XLEN nokey", "XINFO STREAM s", "OBJECT ENCODING s", "TYPE s",
    "~XADD auto * f v", "~XADD auto * f v", "XLEN auto",
]

SCENARIOS["xrange"] = entries("s", 10, 20) + [
    "XADD s 15-1 f x", "XADD s 15-2 g y h z",
    "XRANGE s - +", "XRANGE s - + COUNT 3", "XRANGE s - + COUNT 0", "XRANGE nokey - + COUNT 0",
    "XRANGE s - + COUNT -5", "XRANGE s - + count", "XRANGE s - + foo 1", "XRANGE s - + COUNT 1 COUNT 2",
    "XRANGE s 15 15", "XRANGE s 15-1 15-2", "XRANGE s (15-1 +", "XRANGE s (15 +", "XRANGE s - (15-2",
    "XRANGE s - (15", "XRANGE s (15-0 (16", "XRANGE s ( +", "XRANGE s (- +", "XRANGE s - (+", "XRANGE s - (0-0",
    "XRANGE s (18446744073709551615-18446744073709551615 +", "XRANGE s 20 10", "XRANGE s abc +",
    "XREVRANGE s + -", "XREVRANGE s + - COUNT 2", "XREVRANGE s (15-2 -", "XREVRANGE s 15 (14",
    "XREVRANGE s + (27", "XREVRANGE s - +", "XREVRANGE s + - COUNT 0", "XREVRANGE nokey + -",
    "XRANGE s 18446744073709551615 18446744073709551615",
]

SCENARIOS["xdel_and_first_id"] = entries("s", 1, 8) + [
    "XDEL s 1-0", "XINFO STREAM s", "XDEL s 1-0 2-0 3-0 99-0", "XINFO STREAM s", "XDEL s abc 4-0", "XLEN s",
    "XDEL s - 4-0", "XDEL nokey abc", "XDEL s 6-0", "XINFO STREAM s", "XDEL s 4-0 5-0 7-0 8-0", "XLEN s",
    "XINFO STREAM s", "EXISTS s", "XRANGE s - +", "XADD s 3-0 f v", "XADD s 9-0 f v", "XINFO STREAM s",
]

SCENARIOS["xsetid"] = entries("s", 1, 3) + [
    "XSETID s 1-1", "XSETID nokey 1-1", "XSETID s 5-0 ENTRIESADDED -1", "XSETID s 5-0 ENTRIESADDED 2",
    "XSETID s 5-0 ENTRIESADDED 10", "XINFO STREAM s", "XSETID s 5-0 MAXDELETEDID 6-0",
    "XSETID s 6-0 MAXDELETEDID 5-0", "XINFO STREAM s", "XSETID s 5-5", "XSETID s 6-0 foo", "XSETID s 6-0 MAXDELETEDID",
    "XSETID s abc", "XSETID s - ", "XDEL s 2-0", "XSETID s 1-9", "XSETID s 18446744073709551615-18446744073709551615",
    "XADD s * f v", "XINFO STREAM s", "XSETID s 7-0", "XADD e 1-1 f v", "XDEL e 1-1", "XSETID e 0-5",
    "XSETID e 1-0", "XINFO STREAM e", "XSETID e 0-0 ENTRIESADDED 0", "XSETID e 1-1 ENTRIESADDED 0",
    "XINFO STREAM e", "SET str x", "XSETID str 1-1",
]

SCENARIOS["xtrim_exact"] = entries("s", 1, 30) + [
    "XTRIM s MAXLEN 25", "XLEN s", "XTRIM s MAXLEN = 20", "XTRIM s MINID 15", "XTRIM s MINID = 15-0",
    "XTRIM s MINID (16", "XTRIM s MAXLEN", "XTRIM s", "XTRIM s foo 1", "XTRIM s LIMIT 1", "XTRIM s MAXLEN 1 LIMIT 1",
    "XTRIM nokey MAXLEN 1 LIMIT 1", "XTRIM nokey MAXLEN 1", "XTRIM s MAXLEN ~ 1 LIMIT 1", "XTRIM s MAXLEN -1",
    "XTRIM s NOMKSTREAM MAXLEN 1", "XTRIM s MAXLEN 10 MINID 5", "XINFO STREAM s", "XTRIM s MAXLEN 0", "XLEN s",
    "EXISTS s", "XINFO STREAM s", "XADD s 40-0 f v", "XINFO STREAM s", "XTRIM s MINID 100", "XINFO STREAM s",
]


def node_scenario():
    lines = ["CONFIG SET stream-node-max-entries 10"] + entries("s", 1, 95)
    lines += ["XINFO STREAM s", "XTRIM s MAXLEN ~ 80", "XLEN s", "XINFO STREAM s", "XTRIM s MAXLEN ~ 80 LIMIT 5",
              "XTRIM s MAXLEN ~ 50 LIMIT 10", "XLEN s", "XTRIM s MAXLEN ~ 50 LIMIT 100", "XLEN s",
              "XTRIM s MINID ~ 62", "XRANGE s - + COUNT 1", "XTRIM s MINID ~ 62 LIMIT 0", "XRANGE s - + COUNT 1",
              "XDEL s 70-0 71-0 72-0 73-0 74-0 75-0 76-0 77-0 78-0 79-0", "XINFO STREAM s", "XTRIM s MINID ~ 85",
              "XINFO STREAM s", "XDEL s 81-0 83-0", "XTRIM s MINID 84", "XINFO STREAM s",
              "XADD s MAXLEN ~ 5 96-0 f v", "XLEN s", "XADD s MINID ~ 90 100-0 f v", "XLEN s",
              "CONFIG SET stream-node-max-entries 0", "XTRIM s MAXLEN ~ 1", "XLEN s",
              "CONFIG SET stream-node-max-entries 100"]
    # Node size by bytes (Redis's listpack bytes): mixed value sizes and field sets.
    lines += ["CONFIG SET stream-node-max-bytes 300"]
    for i in range(60):
        val = "x" * (i % 7 * 11) if i % 3 else str(i * 1000)
        if i % 4 == 0:
            lines.append(f"XADD b {i + 1}-{i % 3} f {val}")
        elif i % 4 == 1:
            lines.append(f"XADD b {i + 1}-{i % 3} f {val} g {i}")
        else:
            lines.append(f"XADD b {i + 1}-{i % 3} other {val}")
    lines += ["XINFO STREAM b", "XTRIM b MAXLEN ~ 40", "XLEN b", "XINFO STREAM b", "XTRIM b MINID ~ 35", "XLEN b",
              "XINFO STREAM b", "CONFIG SET stream-node-max-bytes 0", "XADD b 100-0 f v", "XINFO STREAM b",
              "CONFIG SET stream-node-max-bytes 4096"]
    # Many nodes with IDs spread over the key space (radix-tree-nodes).
    lines += ["CONFIG SET stream-node-max-entries 2"]
    ms = 1
    for i in range(200):
        ms = ms * 3 + i if ms < 10**15 else ms + 7919 * i
        lines.append(f"XADD r {ms}-{i % 5} f v")
    lines += ["XINFO STREAM r", "XTRIM r MAXLEN ~ 111", "XINFO STREAM r", "XTRIM r MAXLEN 57", "XINFO STREAM r",
              "CONFIG SET stream-node-max-entries 100"]
    return lines


SCENARIOS["node_trimming"] = node_scenario()


def node_bytes_scenario():
    # Only the byte limit: nodes hold a few hundred small entries, so the
    # node's entry counters cross the listpack integer-size boundaries.
    lines = ["CONFIG SET stream-node-max-entries 0"]
    ms = 1000
    for i in range(1200):
        ms += (i * 37) % 300
        if i % 5 == 0:
            lines.append(f"XADD s {ms}-{i % 4} f {i} g {'v' * (i % 9)}")
        else:
            lines.append(f"XADD s {ms}-{i % 4} f {i * 7919}")
        if i % 97 == 50:
            lines.append(f"XINFO STREAM s")
    lines += ["XDEL s " + " ".join(f"{1000 + k}-0" for k in range(0, 3000, 7)), "XINFO STREAM s",
              "XTRIM s MAXLEN ~ 700", "XINFO STREAM s", "XTRIM s MAXLEN ~ 300 LIMIT 350", "XINFO STREAM s",
              "CONFIG SET stream-node-max-entries 100", "CONFIG SET stream-node-max-bytes 1", "XADD s 999999-0 f v",
              "XADD s 999999-1 f v", "XINFO STREAM s", "CONFIG SET stream-node-max-bytes 4096"]
    return lines


SCENARIOS["node_bytes"] = node_bytes_scenario()

# Exact MINID trimming can empty a node whose last (deleted) entry is >= the
# minimum: Redis keeps that empty node, and counts it when appending.
SCENARIOS["empty_node_quirk"] = ["CONFIG SET stream-node-max-entries 3"] + entries("s", 1, 3) + [
    "XDEL s 3-0", "XTRIM s MINID 3", "XINFO STREAM s", "XLEN s", "XADD s 4-0 f v", "XINFO STREAM s",
    "XADD s 5-0 f v", "XADD s 6-0 f v", "XADD s 7-0 f v", "XINFO STREAM s", "XTRIM s MAXLEN ~ 1", "XINFO STREAM s",
    "XTRIM s MINID ~ 7", "XINFO STREAM s", "XRANGE s - +", "XREVRANGE s + -",
    "XDEL s 4-0 5-0", "XTRIM s MAXLEN 1", "XINFO STREAM s FULL", "CONFIG SET stream-node-max-entries 100",
]

SCENARIOS["consumers_and_history"] = GROUP_SETUP + [
    "XREADGROUP GROUP g a COUNT 2 STREAMS s >", "XREADGROUP GROUP g b COUNT 2 STREAMS s >",
    "XREADGROUP GROUP g a STREAMS s 0", "XREADGROUP GROUP g a COUNT 1 STREAMS s (1-0", "XPENDING s g - + 10",
    "XGROUP DELCONSUMER s g a", "XPENDING s g", "XPENDING s g - + 10", "XINFO CONSUMERS s g",
    "XREADGROUP GROUP g a STREAMS s 0", "XGROUP SETID s g 1-0", "XREADGROUP GROUP g b STREAMS s >",
    "XPENDING s g - + 10", "XREADGROUP GROUP g b NOACK STREAMS s 0", "XDEL s 3-0", "XREADGROUP GROUP g b STREAMS s 0",
    "XREADGROUP GROUP g b COUNT 2 STREAMS s 3-0", "XACK s g 3-0", "XREADGROUP GROUP g b STREAMS s 0",
    "XINFO STREAM s FULL COUNT 1", "XGROUP CREATECONSUMER s g zed", "XGROUP CREATECONSUMER s g \"\"",
    "XINFO CONSUMERS s g", "XGROUP DESTROY s g", "XINFO STREAM s FULL",
]

SCENARIOS["xread"] = entries("a", 1, 5) + entries("b", 3, 5) + [
    "XREAD STREAMS a 0", "XREAD COUNT 2 STREAMS a b 0 0", "XREAD STREAMS a b 3 4-0", "XREAD STREAMS a b $ $",
    "XREAD STREAMS a nokey 0 0", "XREAD STREAMS nokey 0", "XREAD COUNT 0 STREAMS a 2", "XREAD COUNT -1 STREAMS a 2",
    "XREAD STREAMS a a 0 3", "XREAD STREAMS a 5-0", "XREAD STREAMS a 18446744073709551615-18446744073709551615",
    "XREAD STREAMS a b 0", "XREAD STREAMS a", "XREAD COUNT 1", "XREAD COUNT x STREAMS a 0", "XREAD FOO STREAMS a 0",
    "XREAD GROUP g c STREAMS a 0", "XREAD NOACK STREAMS a 0", "XREAD STREAMS a >", "XREAD STREAMS a -",
    "XREAD STREAMS a +", "XREAD STREAMS a abc", "XREAD BLOCK -1 STREAMS a $", "XREAD BLOCK x STREAMS a $",
    "XREAD BLOCK 10 STREAMS a $", "XREAD BLOCK 10 STREAMS a 0", "XREAD BLOCK 10 COUNT 1 STREAMS a b 0 $",
    "XREAD COUNT 1 BLOCK 10 STREAMS nokey $", "XREAD BLOCK 10 STREAMS a 9223372036854775807",
    "XREAD BLOCK 9223372036854775807 STREAMS a 0", "XREAD BLOCK 9223372036854775808 STREAMS a 0",
    "XREAD STREAMS streams 0", "XREAD STREAMS STREAMS STREAMS 0 0", "XDEL a 5-0", "XREAD STREAMS a 4-0",
    "XREAD STREAMS a 3-5", "SET str x", "XREAD STREAMS a str 0 0", "XREAD STREAMS str a 0 abc",
    "COMMAND GETKEYS XREAD COUNT 1 BLOCK 1 STREAMS a b 0 0", "COMMAND GETKEYS XREAD STREAMS a b 0",
    "COMMAND GETKEYS XREADGROUP GROUP g c NOACK COUNT 1 STREAMS x y > >",
]

SCENARIOS["xgroup"] = entries("s", 1, 3) + [
    "XGROUP CREATE s g 0", "XGROUP CREATE s g 0", "XGROUP CREATE s g2 $", "XGROUP CREATE s g3 2-0 ENTRIESREAD 1",
    "XGROUP CREATE s g4 0 ENTRIESREAD -2", "XGROUP CREATE s g4 0 ENTRIESREAD x", "XGROUP CREATE s g4 0 FOO",
    "XGROUP CREATE s g4 0 ENTRIESREAD", "XGROUP CREATE s g4 abc", "XGROUP CREATE s g4 -", "XGROUP CREATE s g4 +",
    "XGROUP CREATE s g4 99 MKSTREAM", "XGROUP CREATE nokey g 0", "XGROUP CREATE nokey g $ MKSTREAM",
    "XINFO STREAM nokey", "XGROUP CREATE nokey2 g 5-5 MKSTREAM ENTRIESREAD 3", "XINFO GROUPS nokey2",
    "XGROUP CREATE s g5 0 MKSTREAM MKSTREAM MKSTREAM MKSTREAM", "XGROUP CREATE s g5 0 ENTRIESREAD 1 ENTRIESREAD 2",
    "XGROUP CREATE s", "XGROUP", "XGROUP FOO", "XGROUP FOO s g", "XGROUP HELP", "XGROUP HELP x",
    "XINFO GROUPS s",
    "XGROUP SETID s g 2-0", "XGROUP SETID s g $", "XGROUP SETID s g - ", "XGROUP SETID s g +",
    "XGROUP SETID s g 1 ENTRIESREAD 1", "XGROUP SETID s g 1 ENTRIESREAD", "XGROUP SETID s g 1 MKSTREAM",
    "XGROUP SETID s nogroup 0", "XGROUP SETID nokey g 0", "XGROUP SETID s g abc", "XINFO GROUPS s",
    "XGROUP CREATECONSUMER s g c1", "XGROUP CREATECONSUMER s g c1", "XGROUP CREATECONSUMER s nogroup c1",
    "XGROUP CREATECONSUMER nokey g c1", "XGROUP CREATECONSUMER s g", "XINFO CONSUMERS s g",
    "XGROUP DELCONSUMER s g c1", "XGROUP DELCONSUMER s g c1", "XGROUP DELCONSUMER s nogroup c1",
    "XGROUP DESTROY s g", "XGROUP DESTROY s g", "XGROUP DESTROY nokey g", "XGROUP DESTROY s g x",
    "XINFO GROUPS s", "SET str x", "XGROUP CREATE str g 0", "XGROUP CREATE str g 0 MKSTREAM",
    "XGROUP DESTROY str g", "xgroup create s lower 0", "XGROUP CrEaTe s mixed 0 mkstream", "XINFO GROUPS s",
]

SCENARIOS["xreadgroup"] = GROUP_SETUP + entries("t", 1, 3) + ["XGROUP CREATE t g $"] + [
    "XREADGROUP GROUP g c1 COUNT 2 STREAMS s >", "XREADGROUP GROUP g c2 COUNT 1 STREAMS s >",
    "XREADGROUP GROUP g c1 STREAMS s 0", "XREADGROUP GROUP g c1 COUNT 1 STREAMS s 0",
    "XREADGROUP GROUP g c1 STREAMS s 1-0", "XREADGROUP GROUP g c2 STREAMS s 0", "XREADGROUP GROUP g c3 STREAMS s 0",
    "XINFO CONSUMERS s g", "XREADGROUP GROUP g c3 STREAMS s >", "XINFO CONSUMERS s g",
    "XREADGROUP GROUP g c3 NOACK COUNT 1 STREAMS s >", "XPENDING s g", "XREADGROUP GROUP g c3 STREAMS s >",
    "XREADGROUP GROUP g c4 STREAMS s >", "XINFO CONSUMERS s g", "XINFO GROUPS s",
    "XREADGROUP GROUP g c1 STREAMS s t > >", "XADD t 10-0 f v", "XADD s 10-0 f v",
    "XREADGROUP GROUP g c1 STREAMS s t > >", "XREADGROUP GROUP g c1 STREAMS s t 0 0",
    "XDEL s 1-0 2-0", "XREADGROUP GROUP g c1 STREAMS s 0", "XINFO GROUPS s",
    "XREADGROUP GROUP g c1 STREAMS s 18446744073709551615-18446744073709551615",
    "XGROUP SETID s g 0", "XREADGROUP GROUP g c2 COUNT 3 STREAMS s >", "XPENDING s g - + 10",
    "XREADGROUP GROUP nog c1 STREAMS s >", "XREADGROUP GROUP g c1 STREAMS nokey >", "XREADGROUP GROUP g c1 STREAMS s $",
    "XREADGROUP GROUP g c1 STREAMS s", "XREADGROUP STREAMS s >", "XREADGROUP GROUP g STREAMS s >",
    "XREADGROUP GROUP g c1 STREAMS s abc", "XREADGROUP GROUP g c1 COUNT x STREAMS s >",
    "XREADGROUP GROUP g c1 BLOCK 10 STREAMS s >", "XREADGROUP GROUP g c1 BLOCK 10 STREAMS s 0",
    "XREADGROUP GROUP g c9 BLOCK 10 STREAMS s >", "XINFO CONSUMERS s g",
    "XREADGROUP GROUP g c1 NOACK NOACK STREAMS s 0", "xreadgroup group g c1 count 1 streams s 0",
    "SET str x", "XREADGROUP GROUP g c1 STREAMS str >", "XREADGROUP GROUP g c1 STREAMS s str > >",
    "XINFO STREAM s FULL",
]

SCENARIOS["xack_xpending"] = GROUP_SETUP + [
    "XREADGROUP GROUP g alice COUNT 3 STREAMS s >", "XREADGROUP GROUP g bob COUNT 2 STREAMS s >", "XPENDING s g",
    "XPENDING s g - + 10", "XPENDING s g - + 10 alice", "XPENDING s g - + 10 nobody", "XPENDING s g (1-0 (5-0 10",
    "XPENDING s g - + 2", "XPENDING s g - + 0", "XPENDING s g - + -3", "XPENDING s g IDLE 0 - + 10",
    "XPENDING s g IDLE 100000 - + 10", "XPENDING s g IDLE 0 - + 10 bob", "XPENDING s g IDLE 1 - +",
    "XPENDING s g - +", "XPENDING s g - + 10 alice extra", "XPENDING s g - + 10 alice extra more",
    "XPENDING s g IDLE x - + 10", "XPENDING s g - + x", "XPENDING s g abc + 10", "XPENDING s g - abc 10",
    "XPENDING s g (18446744073709551615-18446744073709551615 + 10", "XPENDING s g - (0-0 10",
    "XPENDING s nogroup", "XPENDING nokey g", "XPENDING nokey g - + x", "XPENDING s g x",
    "XACK s g 1-0", "XACK s g 1-0 2-0 9-0", "XACK s g abc 3-0", "XACK s g 3-0 abc", "XACK s nogroup 3-0",
    "XACK nokey g abc", "XPENDING s g", "XACK s g 3-0 4-0 5-0", "XPENDING s g", "XPENDING s g - + 10",
    "SET str x", "XPENDING str g", "XACK str g 1-0",
]

SCENARIOS["xclaim"] = GROUP_SETUP + [
    "XREADGROUP GROUP g c1 COUNT 4 STREAMS s >",
    "XCLAIM s g c2 0 1-0", "XPENDING s g - + 10", "XCLAIM s g c2 100000 2-0", "XINFO CONSUMERS s g",
    "XCLAIM s g c3 100000 2-0", "XINFO CONSUMERS s g", "XCLAIM s g c3 0 5-0", "XCLAIM s g c3 0 5-0 FORCE",
    "XPENDING s g - + 10", "XCLAIM s g c3 0 6-0 FORCE JUSTID", "XPENDING s g - + 10",
    "XCLAIM s g c4 0 1-0 2-0 3-0 JUSTID", "XPENDING s g - + 10", "XCLAIM s g c4 0 1-0 RETRYCOUNT 7",
    "XCLAIM s g c4 0 2-0 IDLE 5500", "XCLAIM s g c4 0 3-0 IDLE -5", "XCLAIM s g c4 0 3-0 TIME 1000",
    "XCLAIM s g c4 0 3-0 TIME 99999999999999", "XPENDING s g - + 10", "XCLAIM s g c5 4000 1-0 2-0 3-0 JUSTID",
    "XPENDING s g - + 10", "XCLAIM s g c4 0 1-0 LASTID 50-0 JUSTID", "XINFO GROUPS s",
    "XCLAIM s g c4 0 1-0 LASTID 2-0 JUSTID", "XINFO GROUPS s", "XDEL s 1-0", "XCLAIM s g c4 0 1-0 2-0",
    "XPENDING s g - + 10", "XCLAIM s g c4 0 1-0 FORCE", "XCLAIM s g c4 0 abc", "XCLAIM s g c4 0 1-0 foo",
    "XCLAIM s g c4 abc 1-0", "XCLAIM s g c4 -5 2-0 JUSTID", "XCLAIM s g c4 0 2-0 IDLE x", "XCLAIM s g c4 0 2-0 TIME x",
    "XCLAIM s g c4 0 2-0 RETRYCOUNT x", "XCLAIM s g c4 0 2-0 LASTID x", "XCLAIM s g c4 0 2-0 IDLE",
    "XCLAIM s g c4 0 2-0 RETRYCOUNT -1 JUSTID", "XCLAIM s nogroup c4 abc 1-0", "XCLAIM nokey g c4 abc 1-0",
    "XCLAIM s g c4 0 2-0 JUSTID force idle 7000 retrycount 3", "XPENDING s g - + 10", "XINFO CONSUMERS s g",
    "SET str x", "XCLAIM str g c 0 1-0", "XINFO STREAM s FULL",
]

SCENARIOS["xautoclaim"] = GROUP_SETUP + [
    "XREADGROUP GROUP g c1 COUNT 3 STREAMS s >", "XREADGROUP GROUP g c2 COUNT 3 STREAMS s >",
    "XAUTOCLAIM s g c3 1000000 0", "XINFO CONSUMERS s g", "XAUTOCLAIM s g c3 0 0 COUNT 2",
    "XAUTOCLAIM s g c3 0 3-0 COUNT 2 JUSTID", "XAUTOCLAIM s g c3 0 (3-0 COUNT 1", "XAUTOCLAIM s g c3 0 5-0",
    "XPENDING s g - + 10", "XDEL s 2-0 4-0", "XAUTOCLAIM s g c4 0 0 COUNT 1", "XAUTOCLAIM s g c4 0 0 COUNT 2",
    "XPENDING s g - + 10", "XAUTOCLAIM s g c4 0 - JUSTID", "XAUTOCLAIM s g c4 0 0 COUNT 0",
    "XAUTOCLAIM s g c4 0 0 COUNT -1", "XAUTOCLAIM s g c4 0 0 COUNT x", "XAUTOCLAIM s g c4 0 0 COUNT",
    "XAUTOCLAIM s g c4 0 0 COUNT 1152921504606846975", "XAUTOCLAIM s g c4 0 0 COUNT 576460752303423488",
    "XAUTOCLAIM s g c4 0 0 FOO", "XAUTOCLAIM s g c4 x 0", "XAUTOCLAIM s g c4 -100 0", "XAUTOCLAIM s g c4 0 abc",
    "XAUTOCLAIM s g c4 0 (18446744073709551615-18446744073709551615", "XAUTOCLAIM s nogroup c4 0 0",
    "XAUTOCLAIM nokey g c4 0 0", "XAUTOCLAIM nokey g c4 0 0 COUNT 0", "XAUTOCLAIM s g c4 0 +",
    "SET str x", "XAUTOCLAIM str g c 0 0", "XINFO CONSUMERS s g",
]


def many_pending():
    lines = entries("m", 1, 40) + ["XGROUP CREATE m g 0", "XREADGROUP GROUP g c1 STREAMS m >"]
    lines += ["XDEL m " + " ".join(f"{i}-0" for i in range(3, 40, 3))]
    lines += ["XAUTOCLAIM m g c2 0 0 COUNT 4", "XAUTOCLAIM m g c2 0 0 COUNT 4 JUSTID", "XAUTOCLAIM m g c2 0 10-0 COUNT 3",
              "XAUTOCLAIM m g c2 0 0", "XPENDING m g", "XINFO STREAM m FULL COUNT 3", "XINFO STREAM m FULL COUNT 0",
              "XINFO STREAM m FULL COUNT -1", "XINFO STREAM m FULL"]
    return lines


SCENARIOS["xautoclaim_many"] = many_pending()

SCENARIOS["xinfo"] = GROUP_SETUP + [
    "XINFO STREAM s", "XINFO STREAM s FULL", "XINFO STREAM s FULL COUNT 2", "XINFO STREAM s FULL COUNT x",
    "XINFO STREAM s FULL COUNT", "XINFO STREAM s FULL x 1", "XINFO STREAM s FOO", "XINFO STREAM s full count 1 x",
    "XINFO STREAM nokey", "XINFO GROUPS nokey", "XINFO CONSUMERS nokey g", "XINFO CONSUMERS s nog",
    "XINFO CONSUMERS s", "XINFO GROUPS s x", "XINFO HELP", "XINFO HELP x", "XINFO FOO s", "XINFO", "XINFO STREAM",
    "XREADGROUP GROUP g c1 COUNT 2 STREAMS s >", "XGROUP CREATE s g2 $", "XGROUP CREATE s g3 3-0",
    "XINFO GROUPS s", "XINFO CONSUMERS s g", "XINFO STREAM s FULL",
    "XADD empty 1-0 f v", "XDEL empty 1-0", "XINFO STREAM empty", "XINFO STREAM empty FULL",
    "XGROUP CREATE fresh g $ MKSTREAM", "XINFO STREAM fresh", "XINFO GROUPS fresh", "XINFO STREAM fresh FULL",
    "SET str x", "XINFO STREAM str", "XINFO GROUPS str", "XINFO CONSUMERS str g", "XLEN str",
    "XRANGE str - +", "XREVRANGE str + -", "XADD str 1-1 f v", "XADD str NOMKSTREAM 1-1 f v", "XDEL str 1-1",
    "XDEL str abc", "XTRIM str MAXLEN 1", "XTRIM str MAXLEN x", "XGROUP SETID str g 0", "XGROUP HELP",
]

# Lag and entries-read as XDEL, trimming, XSETID and SETID move things around.
SCENARIOS["lag"] = entries("s", 1, 10) + [
    "XGROUP CREATE s g0 0", "XGROUP CREATE s gmid 5-0", "XGROUP CREATE s gend $", "XGROUP CREATE s gfut 100-0",
    "XGROUP CREATE s gread 3-0 ENTRIESREAD 3", "XINFO GROUPS s",
    "XREADGROUP GROUP g0 c COUNT 3 STREAMS s >", "XREADGROUP GROUP gmid c COUNT 1 STREAMS s >", "XINFO GROUPS s",
    "XDEL s 2-0", "XINFO GROUPS s", "XDEL s 8-0", "XINFO GROUPS s", "XREADGROUP GROUP g0 c COUNT 1 STREAMS s >",
    "XREADGROUP GROUP gmid c STREAMS s >", "XINFO GROUPS s", "XADD s 11-0 f v", "XINFO GROUPS s",
    "XTRIM s MINID 9", "XINFO GROUPS s", "XREADGROUP GROUP gread c STREAMS s >", "XINFO GROUPS s",
    "XGROUP SETID s g0 0", "XINFO GROUPS s", "XGROUP SETID s g0 0 ENTRIESREAD 0", "XINFO GROUPS s",
    "XGROUP SETID s g0 $ ENTRIESREAD 5", "XINFO GROUPS s", "XSETID s 20-0 ENTRIESADDED 50 MAXDELETEDID 15-0",
    "XINFO GROUPS s", "XINFO STREAM s", "XREADGROUP GROUP gfut c STREAMS s >", "XADD s 101-0 f v",
    "XREADGROUP GROUP gfut c STREAMS s >", "XINFO GROUPS s", "XTRIM s MAXLEN 0", "XINFO GROUPS s",
    "XINFO STREAM s FULL", "XADD s 200-0 f v", "XINFO GROUPS s",
]

# A stream with several distinct field sets (entries that do not share the
# node's master fields), binary-safe values and big values.
SCENARIOS["fields_and_binary"] = [
    ["XADD", "s", "1-0", "f", "a\x00b", "\r\n", ""], ["XADD", "s", "2-0", "f", "x"], ["XADD", "s", "3-0", "", ""],
    ["XADD", "s", "4-0", "f", "y", "f", "dup"], ["XADD", "s", "5-0", "big", "z" * 5000],
    ["XADD", "s", "6-0", "n", "12345678901234567890", "m", "-9223372036854775808"],
    "XRANGE s - +", "XREVRANGE s + -", "XINFO STREAM s", "XREAD STREAMS s 2", "COPY s s2", "XRANGE s2 - +",
    "RENAME s2 s3", "XRANGE s3 - +", "XINFO STREAM s3", "DEL s3", "EXISTS s3",
]

SCENARIOS["copy_with_groups"] = GROUP_SETUP + [
    "XREADGROUP GROUP g c1 COUNT 2 STREAMS s >", "COPY s s2", "XINFO STREAM s2 FULL", "XACK s2 g 1-0",
    "XPENDING s g", "XPENDING s2 g", "XREADGROUP GROUP g c1 COUNT 1 STREAMS s2 >", "XINFO GROUPS s",
    "XINFO GROUPS s2", "RENAME s2 s3", "XINFO STREAM s3 FULL",
]

# Several keys per command: with two shards most of these run on copies of
# keys gathered from both threads and written back.
SCENARIOS["multi_key_groups"] = sum((entries(f"k{i}", 1, 3) + [f"XGROUP CREATE k{i} g 0"] for i in range(6)), []) + [
    "XREADGROUP GROUP g c COUNT 1 STREAMS k0 k1 k2 k3 k4 k5 > > > > > >",
    "XREADGROUP GROUP g c STREAMS k0 k1 k2 k3 k4 k5 0 0 0 0 0 0",
    "XREADGROUP GROUP g d STREAMS k5 k4 k3 k2 k1 k0 > > > > > >",
    "XREAD COUNT 2 STREAMS k0 k1 k2 k3 k4 k5 nokey 0 1 2 3 4 5 0", "XREAD STREAMS k0 k1 k2 $ $ $",
    "XADD k3 9-0 f v", "XREADGROUP GROUP g c STREAMS k2 k3 > >", "XPENDING k3 g", "XPENDING k0 g - + 10 c",
    "XINFO GROUPS k3", "XREADGROUP GROUP g c STREAMS k0 nokey > >", "XINFO CONSUMERS k0 g",
]

SCENARIOS["resp3"] = GROUP_SETUP + [
    "!HELLO 3", "XRANGE s - + COUNT 2", "XRANGE s - + COUNT 0", "XREAD STREAMS s 4", "XREAD STREAMS s nokey 4 0",
    "XREAD STREAMS s $", "XREAD BLOCK 10 STREAMS s $", "XREADGROUP GROUP g c COUNT 2 STREAMS s >",
    "XREADGROUP GROUP g c STREAMS s 0", "XPENDING s g", "XPENDING s g - + 10", "XPENDING nokey g",
    "XGROUP CREATE s g2 $", "XPENDING s g2", "XINFO STREAM s", "XINFO STREAM s FULL", "XINFO GROUPS s",
    "XINFO CONSUMERS s g", "XAUTOCLAIM s g c2 0 0 COUNT 1", "XCLAIM s g c3 0 2-0", "XDEL s 2-0",
    "XREADGROUP GROUP g c3 STREAMS s 0", "XAUTOCLAIM s g c3 0 0", "XADD e 1-0 f v", "XDEL e 1-0",
    "XINFO STREAM e", "XINFO HELP", "XADD nokey NOMKSTREAM * f v", "!HELLO 2",
]


class StreamsCompatTest(harness.SideBySideTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dut = cls.server

    def connections(self):
        r = RawConnection(self.ref.host, self.ref.port)
        d = RawConnection(self.dut.host, self.dut.port)
        self.addCleanup(r.close)
        self.addCleanup(d.close)
        for c in (r, d):
            self.assertEqual(c.command("FLUSHALL"), "OK")
        return r, d

    def test_scenarios(self):
        for name, lines in SCENARIOS.items():
            with self.subTest(scenario=name):
                r, d = self.connections()
                run_script(self, r, d, name, lines)

    # ----------------------------------------------------------------- blocking

    def blocked_read(self, port, setup, blocking, writes, delay=0.2):
        """Runs `blocking` on one connection, then `writes` on another after
        `delay`; returns (blocked reply, seconds it took, write replies)."""
        a = RawConnection(harness.HOST, port)
        b = RawConnection(harness.HOST, port)
        try:
            for cmd in setup:
                b.command(*line_args(cmd))
            start = time.monotonic()
            a.send_command(*line_args(blocking))
            time.sleep(delay)
            write_replies = [b.command(*line_args(cmd)) for cmd in writes]
            reply = a.read_reply()
            return reply, time.monotonic() - start, write_replies
        finally:
            a.close()
            b.close()

    def compare_blocking(self, setup, blocking, writes, expect_wait=True):
        results = []
        for server in (self.ref, self.dut):
            c = RawConnection(server.host, server.port)
            c.command("FLUSHALL")
            c.close()
            results.append(self.blocked_read(server.port, setup, blocking, writes))
        (r_reply, r_took, r_writes), (d_reply, d_took, d_writes) = results
        self.assertEqual(r_writes, d_writes)
        if isinstance(r_reply, RespError) and isinstance(d_reply, RespError):
            self.assertEqual(r_reply.message.split()[0], d_reply.message.split()[0])
        else:
            self.assertEqual(r_reply, d_reply, f"{blocking}: redis {r_reply!r}, distcache {d_reply!r}")
        if expect_wait:
            self.assertGreater(d_took, 0.15, "distcache answered before the write")
        return d_reply

    def test_block_timeout(self):
        for server in (self.ref, self.dut):
            c = RawConnection(server.host, server.port)
            try:
                c.command("FLUSHALL")
                c.command("XADD", "s", "1-0", "f", "v")
                start = time.monotonic()
                self.assertIsNone(c.command("XREAD", "BLOCK", "150", "STREAMS", "s", "$"))
                self.assertGreaterEqual(time.monotonic() - start, 0.14)
                self.assertIsNone(c.command("XREAD", "BLOCK", "50", "STREAMS", "nokey", "s", "0", "$"))
            finally:
                c.close()

    def test_block_xread_dollar(self):
        self.compare_blocking(["XADD s 1-0 f v"], "XREAD BLOCK 5000 STREAMS s $", ["XADD s 2-0 g w"])
        self.compare_blocking([], "XREAD BLOCK 5000 STREAMS nokey $", ["XADD nokey 7-7 a b"])
        # Several keys (on different shards): the first written one wakes the reader.
        self.compare_blocking(["XADD a 1-0 f v", "XADD b 1-0 f v", "XADD c 1-0 f v"],
                              "XREAD BLOCK 5000 COUNT 1 STREAMS a b c $ $ $", ["XADD c 2-0 x y"])
        self.compare_blocking(["XADD s 1-0 f v"], "XREAD BLOCK 0 STREAMS s 1-0", ["XADD s 3-0 g w"])

    def test_block_xreadgroup(self):
        self.compare_blocking(["XGROUP CREATE s g $ MKSTREAM"], "XREADGROUP GROUP g c BLOCK 5000 STREAMS s >",
                              ["XADD s 1-0 f v", "XPENDING s g"])
        r = RawConnection(self.dut.host, self.dut.port)
        try:
            self.assertEqual(r.command("XPENDING", "s", "g", "-", "+", "10")[0][:2], [b"1-0", b"c"])
        finally:
            r.close()
        self.compare_blocking(["XGROUP CREATE s g $ MKSTREAM"],
                              "XREADGROUP GROUP g c BLOCK 5000 NOACK STREAMS s >", ["XADD s 1-0 f v"])
        # The group is destroyed while the client waits: an error (NOGROUP).
        self.compare_blocking(["XGROUP CREATE s g $ MKSTREAM"], "XREADGROUP GROUP g c BLOCK 5000 STREAMS s >",
                              ["XGROUP DESTROY s g"])


if __name__ == "__main__":
    harness.main()
