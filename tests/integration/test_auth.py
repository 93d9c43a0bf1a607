"""Authentication side by side with a real redis-server 7.0: requirepass (at
start and via CONFIG SET), AUTH in both forms, HELLO AUTH, RESET, NOAUTH,
`user` directives, rename-command, and protected mode's DENIED reply."""

import contextlib
import shutil
import socket
import tempfile
import time
import unittest

import harness

DISTCACHE_ARGS = ("--threads", "2")


def non_loopback_address():
    """A local IPv4 address that is not loopback (None if the machine has none)."""
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        addr = s.getsockname()[0]
        s.close()
    except OSError:
        return None
    if addr.startswith("127.") or addr == "0.0.0.0":
        return None
    return addr


def answers(port):
    """The first reply line to PING, or None if nothing answers yet."""
    try:
        with socket.create_connection((harness.HOST, port), timeout=2.0) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            data = b""
            while not data.endswith(b"\r\n"):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data
    except OSError:
        return None


@contextlib.contextmanager
def start_locked(reference, extra_args):
    """Like harness.start_server, but a server that wants a password (whose PING
    answers -NOAUTH) also counts as ready."""
    binary = harness.REFERENCE_REDIS if reference else harness.server_binary()
    args = list(extra_args) + ([] if harness.is_reference_redis(binary) else list(DISTCACHE_ARGS))
    workdir = tempfile.mkdtemp(prefix="distcache-auth-")
    server = None
    try:
        for attempt in range(3):
            port = harness.free_port()
            server = harness._launch(binary, args, workdir, port)
            deadline = time.monotonic() + harness.STARTUP_DEADLINE
            ready = False
            while time.monotonic() < deadline and server.proc.poll() is None:
                data = answers(port)
                if data and (data == b"+PONG\r\n" or data.startswith(b"-NOAUTH")) and \
                        harness._listens_on(server.proc.pid, port) is not False:
                    ready = True
                    break
                try:
                    server.proc.wait(timeout=0.02)
                except Exception:
                    pass
            if ready:
                break
            server.stop()
            if attempt == 2 or "in use" not in server.output().lower():
                raise harness.ServerError(f"server did not start: {server.args}\n{server.output()}")
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


class Both:
    """The reference and distcache started with the same arguments."""

    def __init__(self, extra_args=()):
        self.extra_args = extra_args

    def __enter__(self):
        self.cms = [start_locked(True, self.extra_args), start_locked(False, self.extra_args)]
        try:
            self.servers = [self.cms[0].__enter__()]
            self.servers.append(self.cms[1].__enter__())
        except BaseException:
            self.cms[0].__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        for cm in reversed(self.cms):
            cm.__exit__(*exc)

    def pair(self):
        return [harness.RawConnection(harness.HOST, s.port) for s in self.servers]


def hello_shape(reply):
    """HELLO's reply without the values that differ between servers (id, version)."""
    if isinstance(reply, harness.RespError):
        return reply
    if isinstance(reply, dict):
        return sorted(reply.keys())
    return sorted(reply[0::2])


class AuthTests(unittest.TestCase):
    def same(self, conns, *args, norm=lambda r: r):
        ref = norm(conns[0].command(*args))
        got = norm(conns[1].command(*args))
        self.assertEqual(got, ref, f"command {args}")
        return got

    def test_requirepass_at_runtime(self):
        with Both() as both:
            admin = both.pair()
            self.same(admin, "AUTH", "whatever")
            self.same(admin, "AUTH", "default", "whatever")
            self.same(admin, "AUTH", "nouser", "x")
            self.same(admin, "AUTH", "a", "b", "c")
            self.same(admin, "CONFIG", "SET", "requirepass", "s3cret")
            self.same(admin, "PING")  # an existing connection stays authenticated
            self.same(admin, "ACL", "LIST")
            self.same(admin, "CONFIG", "GET", "requirepass")
            fresh = both.pair()
            unauthenticated = both.pair()
            self.same(unauthenticated, "PING")
            self.same(fresh, "PING")
            self.same(fresh, "GET", "k")
            self.same(fresh, "HELLO", "3", norm=hello_shape)
            self.same(fresh, "HELLO", "3", "AUTH", "default", "bad", norm=hello_shape)
            self.same(fresh, "AUTH", "bad")
            self.same(fresh, "AUTH", "default", "bad")
            self.same(fresh, "AUTH", "s3cret")
            self.same(fresh, "PING")
            self.same(fresh, "ACL", "WHOAMI")
            self.same(fresh, "RESET")
            self.same(fresh, "PING")
            other = both.pair()
            self.same(other, "HELLO", "3", "AUTH", "default", "s3cret", norm=hello_shape)
            self.same(other, "PING")
            self.same(other, "ACL", "LOG", norm=lambda r: [sorted((k, v) for k, v in e.items()
                                                                  if k in (b"reason", b"object", b"username",
                                                                           b"context", b"count"))
                                                           for e in r])
            self.same(other, "CONFIG", "SET", "requirepass", "")
            self.same(other, "ACL", "LIST")
            again = both.pair()
            self.same(again, "PING")
            # Without a password for the default user, even connections that never
            # authenticated may run commands (HELLO still wants authentication).
            self.same(unauthenticated, "PING")
            self.same(unauthenticated, "HELLO", "2", norm=hello_shape)
            self.same(unauthenticated, "ACL", "WHOAMI")
            for c in admin + fresh + other + again + unauthenticated:
                c.close()

    def test_requirepass_at_start_and_users(self):
        with Both(("--requirepass", "pw")) as both:
            c = both.pair()
            self.same(c, "PING")
            self.same(c, "ACL", "WHOAMI")
            self.same(c, "QUIT")
            for x in c:
                x.close()
            c = both.pair()
            self.same(c, "AUTH", "pw")
            self.same(c, "ACL", "SETUSER", "app", "on", ">apppw", "~app:*", "+@string", "+@hash", "+flushall")
            self.same(c, "ACL", "LIST")
            u = both.pair()
            self.same(u, "AUTH", "app", "wrong")
            self.same(u, "AUTH", "app", "apppw")
            self.same(u, "ACL", "WHOAMI")
            self.same(u, "SET", "app:1", "v")
            self.same(u, "GET", "app:1")
            self.same(u, "GET", "other")
            self.same(u, "FLUSHALL")
            self.same(c, "ACL", "SETUSER", "app", "off")
            v = both.pair()
            self.same(v, "AUTH", "app", "apppw")
            self.same(u, "GET", "app:1")  # an authenticated connection keeps working
            self.same(u, "RESET")  # back to the default user (password required again)
            self.same(u, "GET", "app:1")
            self.same(u, "AUTH", "pw")
            self.same(u, "GET", "other")  # the default user's permissions, not app's
            self.same(c, "ACL", "SETUSER", "app", "on", "nopass")
            self.same(v, "AUTH", "app", "anything")
            for x in c + u + v:
                x.close()

    def test_user_directives(self):
        args = ("--user", "alice", "on", ">pw", "~*", "&*", "+@all", "--user", "default", "off")
        with Both(args) as both:
            c = both.pair()
            self.same(c, "PING")
            self.same(c, "AUTH", "alice", "pw")
            self.same(c, "ACL", "LIST")
            for x in c:
                x.close()

    def test_rename_command(self):
        args = ("--rename-command", "get", "fetch", "--rename-command", "flushall", "")
        with Both(args) as both:
            c = both.pair()
            self.same(c, "SET", "k", "v")
            self.same(c, "GET", "k")
            self.same(c, "FETCH", "k")
            self.same(c, "fetch", "k")
            self.same(c, "FLUSHALL")
            self.same(c, "DBSIZE")
            self.same(c, "EVAL", "return redis.pcall('fetch', 'k')", "0")
            err = [x.command("EVAL", "return redis.pcall('get', 'k')", "0") for x in c]
            self.assertEqual(err[1], err[0])
            for x in c:
                x.close()

    def test_protected_mode(self):
        addr = non_loopback_address()
        if addr is None:
            self.skipTest("no non-loopback local address")
        replies = []
        for reference in (True, False):
            with harness.start_server(reference=reference, extra_args=("--bind", "127.0.0.1", addr),
                                      distcache_args=DISTCACHE_ARGS) as server:
                with harness.RawConnection(addr, server.port) as c:  # refused at accept, before any input
                    replies.append(c.read_until_closed())
                with harness.RawConnection(harness.HOST, server.port) as c:  # loopback is fine
                    replies.append(c.command("PING"))
                    replies.append(c.command("CONFIG", "SET", "requirepass", "x"))
                with harness.RawConnection(addr, server.port) as c:  # with a password: accepted
                    replies.append(c.command("PING"))
                    replies.append(c.command("AUTH", "x"))
                    replies.append(c.command("PING"))
        self.assertTrue(replies[0].startswith(b"-DENIED Redis is running in protected mode"))
        half = len(replies) // 2
        self.assertEqual(replies[half:], replies[:half])


if __name__ == "__main__":
    harness.main()
