"""MISCONF: after a background save fails (stop-writes-on-bgsave-error yes and
save points set), writes and PING are refused until a save succeeds, exactly
as redis-server 7.0 refuses them. The save is made to fail by removing the
`dir` directory (as root, permissions would not stop the server)."""

import os
import shutil
import tempfile
import time
import unittest

import harness

DEADLINE = 20.0


def wait_bgsave_done(client):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if client.info("persistence")["rdb_bgsave_in_progress"] == 0:
            return client.info("persistence")["rdb_last_bgsave_status"]
        time.sleep(0.01)  # polling with a deadline, not synchronisation by sleep
    raise AssertionError("BGSAVE did not finish")


def reply(conn, *args):
    try:
        return conn.command(*args)
    except harness.ConnectionClosed:
        return "closed"


class MisconfTest(unittest.TestCase):
    def scenario(self, server, data_dir):
        """Runs the whole story on one server; returns every reply in order."""
        out = []
        c = server.client()
        with harness.RawConnection(harness.HOST, server.port) as raw, \
                harness.RawConnection(harness.HOST, server.port) as tx:
            out.append(reply(raw, "SET", "a", "1"))
            # A transaction queued while the disk was still fine...
            out.append(reply(tx, "MULTI"))
            out.append(reply(tx, "SET", "a", "queued-before"))
            shutil.rmtree(data_dir)
            out.append(reply(raw, "BGSAVE"))
            out.append(wait_bgsave_done(c))
            # ...is discarded at EXEC because it writes.
            out.append(reply(tx, "EXEC"))
            out.append(reply(raw, "SET", "a", "2"))
            out.append(reply(raw, "PING"))
            out.append(reply(raw, "GET", "a"))
            out.append(reply(raw, "INCR", "counter"))
            out.append(reply(raw, "DEL", "a"))
            out.append(reply(raw, "EVAL", "return redis.pcall('set','a','3')", "0"))
            out.append(reply(raw, "EVAL", "return redis.call('get','a')", "0"))
            out.append(reply(raw, "MULTI"))
            out.append(reply(raw, "SET", "a", "4"))
            out.append(reply(raw, "EXEC"))
            out.append(reply(raw, "MULTI"))
            out.append(reply(raw, "GET", "a"))
            out.append(reply(raw, "EXEC"))
            out.append(reply(raw, "CONFIG", "SET", "stop-writes-on-bgsave-error", "no"))
            out.append(reply(raw, "SET", "a", "5"))
            out.append(reply(raw, "CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"))
            out.append(reply(raw, "SET", "a", "6"))
            # A successful save lifts the refusal.
            os.mkdir(data_dir)
            # Redis works inside `dir` (chdir): point it at the new directory.
            out.append(reply(raw, "CONFIG", "SET", "dir", data_dir))
            out.append(reply(raw, "BGSAVE"))
            out.append(wait_bgsave_done(c))
            out.append(reply(raw, "SET", "a", "7"))
            out.append(reply(raw, "GET", "a"))
            # No save points: nothing to refuse writes for.
            shutil.rmtree(data_dir)
            out.append(reply(raw, "BGSAVE"))
            out.append(wait_bgsave_done(c))
            out.append(reply(raw, "CONFIG", "SET", "save", ""))
            out.append(reply(raw, "SET", "a", "8"))
        return out

    def run_on(self, reference):
        parent = tempfile.mkdtemp(prefix="distcache-misconf-")
        data_dir = os.path.join(parent, "data")
        os.mkdir(data_dir)
        try:
            with harness.start_server(reference=reference, extra_args=["--dir", data_dir, "--save", "3600 1",
                                                                    "--enable-protected-configs", "yes"],
                                      distcache_args=["--threads", "2"]) as server:
                return self.scenario(server, data_dir)
        finally:
            shutil.rmtree(parent, ignore_errors=True)

    def test_same_replies_as_redis(self):
        expected = self.run_on(reference=True)
        actual = self.run_on(reference=False)
        self.assertIn("MISCONF", str(expected))  # the scenario does make the reference refuse writes
        self.assertEqual(len(expected), len(actual))
        for i, (e, a) in enumerate(zip(expected, actual)):
            self.assertEqual(e, a, f"step {i}")


if __name__ == "__main__":
    harness.main()
