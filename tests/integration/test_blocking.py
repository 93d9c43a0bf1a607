"""Blocking list commands: timeouts, wake-up by a push from another client
(also across shards), FIFO order among waiters, BLMOVE chains, and a client
that disconnects while blocked is never served. A client is known to be
blocked when INFO's blocked_clients says so (polled), never by sleeping.
"""

import functools
import threading

import harness


wait_until = functools.partial(harness.wait_until, deadline=20)


class Blocker:
    """Runs one blocking command on its own connection in a thread."""

    def __init__(self, server, *command):
        self.conn = server.raw()
        self.result = None
        self.thread = threading.Thread(target=self._run, args=(command,), daemon=True)
        self.thread.start()

    def _run(self, command):
        try:
            self.result = self.conn.command(*command)
        except (OSError, harness.ConnectionClosed) as e:  # closed by the test itself
            self.result = e

    def join(self):
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "blocked command did not complete"
        self.conn.close()
        return self.result


class BlockingTest(harness.ServerTestCase):
    DISTCACHE_ARGS = ("--threads", "4")

    def setUp(self):
        self.r = self.server.client()
        self.r.flushall()
        wait_until(lambda: self.blocked() == 0, "no blocked clients left from earlier tests")

    def blocked(self):
        return self.r.info("clients")["blocked_clients"]

    def test_timeout_replies_nil(self):
        self.assertIsNone(self.r.blpop(["empty"], timeout=0.05))
        self.assertIsNone(self.r.blmove("empty", "dst", 0.05, "LEFT", "RIGHT"))

    def test_push_wakes_blocked_client(self):
        b = Blocker(self.server, "BLPOP", "q", "0")
        wait_until(lambda: self.blocked() == 1, "the client to block")
        self.assertEqual(self.r.rpush("q", "job"), 1)
        self.assertEqual(b.join(), [b"q", b"job"])
        self.assertEqual(self.r.llen("q"), 0)

    def test_timeout_centuries_away_still_blocks(self):
        # A timeout whose deadline would overflow a µs clock must not fire at once.
        b = Blocker(self.server, "BLPOP", "far", "9000000000000000")
        wait_until(lambda: self.blocked() == 1, "the client to block")
        self.assertEqual(self.r.rpush("far", "job"), 1)
        self.assertEqual(b.join(), [b"far", b"job"])

    def test_keys_on_different_shards(self):
        keys = [f"list:{i}" for i in range(8)]  # spread over the 4 shards
        b = Blocker(self.server, "BRPOP", *keys, "0")
        wait_until(lambda: self.blocked() == 1, "the client to block")
        self.r.lpush(keys[5], "x")
        self.assertEqual(b.join(), [keys[5].encode(), b"x"])

    def test_waiters_are_served_in_fifo_order(self):
        first = Blocker(self.server, "BLPOP", "fifo", "0")
        wait_until(lambda: self.blocked() == 1, "the first client to block")
        second = Blocker(self.server, "BLPOP", "fifo", "0")
        wait_until(lambda: self.blocked() == 2, "the second client to block")
        self.r.rpush("fifo", "a")
        self.assertEqual(first.join(), [b"fifo", b"a"])
        self.r.rpush("fifo", "b")
        self.assertEqual(second.join(), [b"fifo", b"b"])

    def test_blmove_chain(self):
        # c waits on "b"; a BLMOVE a->b waits on "a"; a push to "a" flows through to c.
        c = Blocker(self.server, "BLPOP", "b", "0")
        wait_until(lambda: self.blocked() == 1, "the BLPOP to block")
        m = Blocker(self.server, "BLMOVE", "a", "b", "LEFT", "RIGHT", "0")
        wait_until(lambda: self.blocked() == 2, "the BLMOVE to block")
        self.r.rpush("a", "item")
        self.assertEqual(m.join(), b"item")
        self.assertEqual(c.join(), [b"b", b"item"])
        self.assertEqual(self.r.exists("a", "b"), 0)

    def test_disconnected_client_is_never_served(self):
        b = Blocker(self.server, "BLPOP", "gone", "0")
        wait_until(lambda: self.blocked() == 1, "the client to block")
        b.conn.close()  # the thread's read fails; it is not joined for a result
        wait_until(lambda: self.blocked() == 0, "the server to notice the disconnect")
        self.r.rpush("gone", "kept")
        self.assertEqual(self.r.lrange("gone", 0, -1), [b"kept"])

    def test_client_unblock(self):
        b = Blocker(self.server, "BLPOP", "never", "0")
        wait_until(lambda: self.blocked() == 1, "the client to block")
        blocked = [c for c in self.r.client_list() if c["cmd"] == "blpop"]
        self.assertEqual(len(blocked), 1)
        client_id = int(blocked[0]["id"])
        self.assertEqual(self.r.client_unblock(client_id, error=True), True)
        result = b.join()
        self.assertIsInstance(result, harness.RespError)
        self.assertIn("UNBLOCKED", str(result))
        self.assertEqual(self.r.client_unblock(client_id), False)

    def test_wait_without_replicas(self):
        self.assertEqual(self.r.execute_command("WAIT", 0, 0), 0)
        self.assertEqual(self.r.execute_command("WAIT", 1, 20), 0)  # times out: no replica acknowledges


if __name__ == "__main__":
    harness.main()
