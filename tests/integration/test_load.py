"""Load (issue 7): 10,000 concurrent connections served by one server
(--threads 2). The test raises its own RLIMIT_NOFILE; the server raises its
own to maxclients + 32 as Redis does. Every connection sends commands and
gets its own replies back; the connection past maxclients gets Redis's
error; once they all close, connected_clients returns to zero and the data
written through them is all there.
"""

import os
import resource
import selectors
import socket
import time
import unittest

import harness
from harness import encode_command

CONNECTIONS = int(os.environ.get("DISTCACHE_LOAD_CONNECTIONS", "10000"))
DEADLINE = 120.0


def raise_nofile(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class ManyConnections:
    """Non-blocking sockets driven by one epoll selector."""

    def __init__(self, host, port, n):
        self.socks = []
        self.sel = selectors.DefaultSelector()
        for i in range(n):
            s = socket.create_connection((host, port), timeout=30)
            s.setblocking(False)
            self.socks.append(s)

    def exchange(self, requests, expected, what):
        """Sends requests[i] on connection i and waits until connection i
        has received exactly expected[i] (bytes)."""
        pending_out = {s.fileno(): memoryview(r) for s, r in zip(self.socks, requests)}
        got = {s.fileno(): bytearray() for s in self.socks}
        want = {s.fileno(): e for s, e in zip(self.socks, expected)}
        by_fd = {s.fileno(): s for s in self.socks}
        for s in self.socks:
            self.sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
        remaining = set(by_fd)
        end = time.monotonic() + DEADLINE
        try:
            while remaining:
                if time.monotonic() > end:
                    fd = next(iter(remaining))
                    raise AssertionError(f"{what}: {len(remaining)} connections still waiting; e.g. got "
                                         f"{bytes(got[fd])[:200]!r}, want {want[fd]!r}")
                for key, events in self.sel.select(timeout=1.0):
                    fd = key.fd
                    s = by_fd[fd]
                    if events & selectors.EVENT_WRITE and fd in pending_out:
                        out = pending_out[fd]
                        try:
                            n = s.send(out)
                        except BlockingIOError:
                            n = 0
                        out = out[n:]
                        if len(out):
                            pending_out[fd] = out
                        else:
                            del pending_out[fd]
                            self.sel.modify(s, selectors.EVENT_READ)
                    if events & selectors.EVENT_READ:
                        try:
                            chunk = s.recv(65536)
                        except BlockingIOError:
                            continue
                        if not chunk:
                            raise AssertionError(f"{what}: connection closed by the server; got "
                                                 f"{bytes(got[fd])!r}")
                        got[fd] += chunk
                        if want[fd] is None:  # any one integer reply
                            if got[fd].endswith(b"\r\n"):
                                if not got[fd].startswith(b":"):
                                    raise AssertionError(f"{what}: got {bytes(got[fd])!r}")
                                remaining.discard(fd)
                            continue
                        if len(got[fd]) >= len(want[fd]):
                            if bytes(got[fd]) != want[fd]:
                                raise AssertionError(f"{what}: got {bytes(got[fd])[:200]!r}, "
                                                     f"want {want[fd][:200]!r}")
                            remaining.discard(fd)
        finally:
            for s in self.socks:
                try:
                    self.sel.unregister(s)
                except KeyError:
                    pass

    def close(self):
        for s in self.socks:
            s.close()
        self.sel.close()


def info_field(conn, section, field):
    for line in conn.command("INFO", section).decode().splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    raise AssertionError(f"no {field} in INFO {section}")


class LoadTest(unittest.TestCase):

    def test_ten_thousand_connections(self):
        limit = raise_nofile(CONNECTIONS + 200)
        if limit < CONNECTIONS + 100:
            self.skipTest(f"RLIMIT_NOFILE hard limit {limit} is below {CONNECTIONS + 100}")
        maxclients = CONNECTIONS + 2   # the connections, the checker and one more
        with harness.start_server(extra_args=["--maxclients", str(maxclients)],
                                  distcache_args=["--threads", "2"]) as server:
            checker = server.raw(timeout=60)
            self.assertEqual(int(info_field(checker, "clients", "maxclients")), maxclients)
            conns = ManyConnections(server.host, server.port, CONNECTIONS)
            try:
                n = len(conns.socks)
                conns.exchange([encode_command("PING")] * n, [b"+PONG\r\n"] * n, "PING")
                # SET then GET of its own key.
                conns.exchange([encode_command("SET", f"load:{i}", f"v{i}") + encode_command("GET", f"load:{i}")
                                for i in range(n)],
                               [b"+OK\r\n$%d\r\nv%d\r\n" % (len(f"v{i}"), i) for i in range(n)], "SET+GET")
                conns.exchange([encode_command("INCR", "load:counter") for _ in range(n)],
                               [None] * n, "INCR")
                self.assertEqual(checker.command("GET", "load:counter"), str(n).encode())
                self.assertEqual(int(info_field(checker, "clients", "connected_clients")), n + 1)
                # One more than maxclients: Redis's error, and the connection is closed.
                with server.raw() as extra:
                    self.assertEqual(extra.command("PING"), "PONG")
                    self.assertEqual(int(info_field(checker, "clients", "connected_clients")), maxclients)
                    with server.raw() as over:
                        data = over.read_until_closed()
                    self.assertEqual(data, b"-ERR max number of clients reached\r\n")
                # Everyone is still served after that.
                conns.exchange([encode_command("EXISTS", f"load:{i}") for i in range(n)], [b":1\r\n"] * n,
                               "EXISTS")
            finally:
                conns.close()
            end = time.monotonic() + DEADLINE
            while int(info_field(checker, "clients", "connected_clients")) > 1:
                if time.monotonic() > end:
                    self.fail("connected_clients did not return to 1 after closing every connection")
                time.sleep(0.05)  # poll interval
            self.assertEqual(checker.command("DBSIZE"), CONNECTIONS + 1)  # + load:counter
            checker.close()


if __name__ == "__main__":
    harness.main()
