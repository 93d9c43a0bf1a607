"""BUSY for commands that wait inside a multi-shard transaction, compared
with redis-server 7.0.

A long script runs on shard A (a script learned to keep to its declared key
runs on that key's shard; a first run is a global transaction holding every
shard). Meanwhile other clients, on both threads, send MSET over keys of both
shards, EXEC of a transaction over both shards, a script whose keys are on
both shards, commands that visit every shard, and FLUSHDB, SWAPDB and FLUSHALL. In distcache these wait for locks (possibly already holding the
other shard's); once the script passes busy-reply-threshold they must be
answered BUSY (EXECABORT ... BUSY for EXEC), as redis-server answers them, and
none of them may run: after SCRIPT KILL the keys hold their old values and
everything works again.
"""

import select
import time

import harness
from harness import RespError
from test_scripting_busy import DEADLINE, ReferenceAndDistcache, key_on

SPIN = ("if ARGV[1] == 'spin' then while true do end end "
        "return redis.call('get', KEYS[1])")
CROSS = "redis.call('set', KEYS[1], 'cross') redis.call('set', KEYS[2], 'cross') return 1"
LIBRARY = ("#!lua name=spinlib\n"
           "redis.register_function('spin', function(KEYS, ARGV) " + SPIN + " end)")


def script_command(kind, key, mode):
    """The long script: an EVAL learned to keep to its key (it runs on that
    key's shard in distcache), a new EVAL body (its first run is a global
    transaction), or a function learned to keep to its key."""
    if kind == "function":
        return ["FCALL", "spin", "1", key, mode]
    return ["EVAL", SPIN if kind == "learned" else SPIN + " ", "1", key, mode]


def script_started(reply):
    """FUNCTION STATS: BUSY while an EVAL script runs, running_script set while a function runs."""
    if isinstance(reply, RespError):
        return reply.message.startswith("BUSY")
    return isinstance(reply, list) and reply[1] is not None


class BusyWhileWaitingForShards(ReferenceAndDistcache):

    THRESHOLD_MS = "500"  # room to send the commands after the script started, before the threshold

    def wait_script_started(self, probes):
        """Sends FUNCTION STATS on the probes until one tells that the script
        runs (distcache: at once from the other thread; redis-server: at the
        threshold). Returns the probes whose
        FUNCTION STATS is still unanswered: in distcache a command read by
        Asio in the same event-loop turn as the EVAL, but not yet handled,
        waits for the script's end (see busy_clients.cpp); their replies are
        read after the script."""
        waiting = set()
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            for p in probes:
                if p not in waiting:
                    p.send_command("FUNCTION", "STATS")
                    waiting.add(p)
            readable, _, _ = select.select([p.sock for p in waiting], [], [], 0.2)
            for p in [p for p in waiting if p.sock in readable]:
                reply = p.read_reply()
                waiting.discard(p)
                if script_started(reply):
                    return waiting
        raise AssertionError("the script never started")  # pragma: no cover

    def scenario(self, server, script_key, kind):
        keys = [key_on(0, "a"), key_on(1, "a")]
        other = [key_on(0, "b"), key_on(1, "b")]
        sort_source, sort_dest = key_on(0, "l"), key_on(1, "d")
        setup = server.raw(timeout=DEADLINE)
        for k in keys + other:
            setup.command("SET", k, "old")
        setup.command("RPUSH", sort_source, "b", "a")
        setup.command("FUNCTION", "LOAD", "REPLACE", LIBRARY)
        if kind != "global":
            for _ in range(3):  # distcache learns that the script keeps to its key
                setup.command(*script_command(kind, script_key, "no"))
        clients = [server.raw(timeout=DEADLINE) for _ in range(4)]  # on both threads
        exec_clients = [server.raw(timeout=DEADLINE) for _ in range(2)]
        # Commands that visit every shard (DBSIZE, KEYS, SCAN) or lock two (SORT ... STORE).
        readers = [server.raw(timeout=DEADLINE) for _ in range(4)]
        # Commands that write every shard under all of their locks: none may run.
        # Then keyless commands that visit every shard's thread: two that change
        # something there and one that reads.
        flushers = [server.raw(timeout=DEADLINE) for _ in range(6)]
        for c in clients + exec_clients + readers + flushers:
            c.command("PING")
        for c in exec_clients:  # queued before the script starts
            c.command("MULTI")
            c.command("SET", other[0], "exec")
            c.command("SET", other[1], "exec")
        probes = [server.raw(timeout=DEADLINE) for _ in range(2)]
        runner = server.raw(timeout=DEADLINE)
        runner.send_command(*script_command(kind, script_key, "spin"))
        unanswered = self.wait_script_started(probes)
        for i, c in enumerate(clients):
            if i % 2 == 0:
                c.send_command("MSET", keys[0], "new", keys[1], "new")
            else:
                c.send_command("EVAL", CROSS, "2", keys[0], keys[1])
        for c in exec_clients:
            c.send_command("EXEC")
        readers[0].send_command("DBSIZE")
        readers[1].send_command("KEYS", "*")
        readers[2].send_command("SORT", sort_source, "ALPHA", "STORE", sort_dest)
        readers[3].send_command("SCAN", "0")
        flushers[0].send_command("FLUSHDB")
        flushers[1].send_command("SWAPDB", "0", "1")
        flushers[2].send_command("FLUSHALL")
        flushers[3].send_command("CONFIG", "RESETSTAT")
        flushers[4].send_command("CLIENT", "UNBLOCK", "999999")
        flushers[5].send_command("MEMORY", "STATS")
        out = [c.read_reply() for c in clients + exec_clients + readers + flushers]
        out.append(clients[0].command("FUNCTION" if kind == "function" else "SCRIPT", "KILL"))
        out.append(runner.read_reply())
        for p in unanswered:
            p.read_reply()
        out.append([setup.command("GET", k) for k in keys + other])
        out.append(setup.command("EXISTS", sort_dest))
        out.append([c.command("PING") for c in clients + exec_clients + readers + flushers + probes + [runner]])
        out.append(clients[0].command("MSET", keys[0], "after", keys[1], "after"))
        out.append(exec_clients[0].command("MULTI"))
        out.append(exec_clients[0].command("SET", other[0], "after"))
        out.append(exec_clients[0].command("SET", other[1], "after"))
        out.append(exec_clients[0].command("EXEC"))
        out.append(clients[1].command("EVAL", CROSS, "2", other[0], keys[1]))
        out.append([setup.command("GET", k) for k in keys + other])
        for c in clients + exec_clients + readers + flushers + probes + [runner, setup]:
            c.close()
        return out

    def test_multi_shard_commands_get_busy_and_never_run(self):
        cases = [(key_on(0, "s"), "learned"), (key_on(1, "s"), "learned"), (key_on(0, "g"), "global"),
                 (key_on(1, "f"), "function")]
        results = {}
        for server in (self.ref, self.test):
            results[server] = []
            for script_key, kind in cases:
                server.client().flushall()
                results[server].append(self.scenario(server, script_key, kind))
        self.assertEqual(results[self.test], results[self.ref])
        first = results[self.test][0]
        self.assertTrue(first[0].message.startswith("BUSY"), first[0])
        self.assertTrue(first[4].message.startswith("EXECABORT"), first)  # the first EXEC
        # DBSIZE, KEYS, SORT ... STORE, SCAN, FLUSHDB, SWAPDB, FLUSHALL, CONFIG RESETSTAT, CLIENT UNBLOCK, MEMORY STATS
        for reader in first[6:16]:
            self.assertTrue(reader.message.startswith("BUSY"), first)
        function = results[self.test][-1]
        self.assertIn("FUNCTION KILL", function[0].message)


if __name__ == "__main__":
    harness.main()
