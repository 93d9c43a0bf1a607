"""Client limits, side by side with a reference redis-server: oversized bulk
and multibulk lengths, an endless command (query buffer limit), a client
that pipelines without reading its replies (client-output-buffer-limit
normal), limits before AUTH, maxclients and timeout. Every misbehaving
client is cut off with Redis's error while another client keeps being served.
"""

import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import RawConnection, RespError  # noqa: E402

DEADLINE = 20.0


def closed_with(conn, payload):
    """Sends payload and returns everything the server sends until it closes."""
    try:
        conn.send(payload)
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        return conn.read_until_closed()
    except ConnectionResetError:
        return b""


class LimitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls._ref_cm = harness.start_server(reference=True)
        cls.ref = cls._ref_cm.__enter__()
        cls._cm = harness.start_server(distcache_args=["--threads", "2"])
        cls.server = cls._cm.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls._cm.__exit__(None, None, None)
        cls._ref_cm.__exit__(None, None, None)

    def servers(self):
        return (self.ref, self.server)

    def assert_other_client_served(self, server):
        with RawConnection(harness.HOST, server.port) as other:
            self.assertEqual(other.command("PING"), "PONG")

    def test_oversized_bulk_length(self):
        for s in self.servers():
            with RawConnection(harness.HOST, s.port) as c:
                out = closed_with(c, b"*2\r\n$3\r\nGET\r\n$536870913\r\n")
                self.assertEqual(out, b"-ERR Protocol error: invalid bulk length\r\n", s.binary)
            self.assert_other_client_served(s)

    def test_proto_max_bulk_len(self):
        for s in self.servers():
            with RawConnection(harness.HOST, s.port) as admin:
                self.assertEqual(admin.command("CONFIG", "SET", "proto-max-bulk-len", "2mb"), "OK")
                with RawConnection(harness.HOST, s.port) as c:
                    out = closed_with(c, b"*2\r\n$3\r\nGET\r\n$3000000\r\n")
                    self.assertEqual(out, b"-ERR Protocol error: invalid bulk length\r\n", s.binary)
                self.assertEqual(admin.command("CONFIG", "SET", "proto-max-bulk-len", "512mb"), "OK")

    def test_invalid_multibulk_length(self):
        for s in self.servers():
            with RawConnection(harness.HOST, s.port) as c:
                out = closed_with(c, b"*2147483648\r\n")
                self.assertEqual(out, b"-ERR Protocol error: invalid multibulk length\r\n", s.binary)
            self.assert_other_client_served(s)

    def test_endless_multibulk_hits_query_buffer_limit(self):
        for s in self.servers():
            with RawConnection(harness.HOST, s.port) as admin:
                self.assertEqual(admin.command("CONFIG", "SET", "client-query-buffer-limit", "1mb"), "OK")
                c = RawConnection(harness.HOST, s.port, timeout=DEADLINE)
                try:
                    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000000\r\n")  # a value that never ends
                    chunk = b"x" * 65536
                    sent, closed = 0, False
                    while sent < 64 * 1024 * 1024:
                        try:
                            c.sock.sendall(chunk)
                        except (BrokenPipeError, ConnectionResetError):
                            closed = True
                            break
                        sent += len(chunk)
                    if not closed:
                        try:
                            self.assertEqual(c.read_until_closed(), b"")
                        except ConnectionResetError:
                            pass
                    self.assertLess(sent, 64 * 1024 * 1024, s.binary)
                finally:
                    c.close()
                self.assertEqual(admin.command("PING"), "PONG")
                self.assertEqual(admin.command("CONFIG", "SET", "client-query-buffer-limit", "1gb"), "OK")

    def test_pipelining_without_reading_is_disconnected(self):
        for s in self.servers():
            with RawConnection(harness.HOST, s.port) as admin:
                self.assertEqual(admin.command("SET", "big", "x" * 100000), "OK")
                self.assertEqual(admin.command("CONFIG", "SET", "client-output-buffer-limit",
                                               "normal 1048576 0 0"), "OK")
                slow = socket.create_connection((harness.HOST, s.port))
                slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                slow.settimeout(DEADLINE)
                request = b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n" * 100
                cut = False
                deadline = time.monotonic() + DEADLINE
                try:
                    while time.monotonic() < deadline:
                        slow.sendall(request)
                        # Meanwhile another client is served.
                        self.assertEqual(admin.command("PING"), "PONG")
                except (BrokenPipeError, ConnectionResetError):
                    cut = True
                finally:
                    slow.close()
                self.assertTrue(cut, f"{s.binary}: the client that does not read was not disconnected")
                self.assertEqual(admin.command("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0"), "OK")

    def test_unauthenticated_limits(self):
        for s in self.servers():
            with RawConnection(harness.HOST, s.port) as admin:
                self.assertEqual(admin.command("CONFIG", "SET", "requirepass", "secret"), "OK")
                try:
                    with RawConnection(harness.HOST, s.port) as c:
                        out = closed_with(c, b"*20\r\n")
                        self.assertEqual(out, b"-ERR Protocol error: unauthenticated multibulk length\r\n")
                    with RawConnection(harness.HOST, s.port) as c:
                        out = closed_with(c, b"*2\r\n$4\r\nAUTH\r\n$20000\r\n")
                        self.assertEqual(out, b"-ERR Protocol error: unauthenticated bulk length\r\n")
                    with RawConnection(harness.HOST, s.port) as c:
                        self.assertEqual(c.command("AUTH", "secret"), "OK")
                        self.assertEqual(c.command("SET", "k", "v" * 20000), "OK")  # no limit once authenticated
                finally:
                    self.assertEqual(admin.command("CONFIG", "SET", "requirepass", ""), "OK")

    def test_maxclients(self):
        for binary in (None, "ref"):
            with harness.start_server(reference=binary == "ref", extra_args=["--maxclients", "4"]) as s:
                conns = []
                try:
                    refused = None
                    for _ in range(10):
                        c = RawConnection(harness.HOST, s.port)
                        conns.append(c)
                        reply = c.command("PING")
                        if isinstance(reply, RespError):
                            refused = reply
                            break
                    self.assertEqual(refused, RespError("ERR max number of clients reached"))
                    self.assertEqual(conns[0].command("PING"), "PONG")
                finally:
                    for c in conns:
                        c.close()

    def test_timeout_closes_idle_clients(self):
        for binary in (None, "ref"):
            with harness.start_server(reference=binary == "ref", extra_args=["--timeout", "1"]) as s:
                with RawConnection(harness.HOST, s.port, timeout=DEADLINE) as idle:
                    self.assertEqual(idle.command("PING"), "PONG")
                    self.assertEqual(idle.read_until_closed(), b"")  # closed by the server after ~1-2 s

    def test_tcp_keepalive_is_set_on_client_sockets(self):
        import shutil
        import subprocess
        if not shutil.which("ss"):
            self.skipTest("ss is not installed")
        with RawConnection(harness.HOST, self.server.port) as c:
            self.assertEqual(c.command("PING"), "PONG")
            out = subprocess.run(["ss", "-tno", "state", "established", f"( sport = :{self.server.port} )"],
                                 capture_output=True, text=True).stdout
            self.assertIn("keepalive", out)


if __name__ == "__main__":
    unittest.main()
