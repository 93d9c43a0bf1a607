"""Shared helpers for the integration tests (Python standard library only;
redis-py is imported lazily by Server.client()).

Environment:
  DISTCACHE_SERVER      path of the server binary under test. If unset, the
                        harness looks for build/distcache-server in the source
                        tree. Point it at /usr/bin/redis-server to validate the
                        tests themselves against real Redis.
  RESP_DIFF             path of the resp-diff differential tester. If unset:
                        $DISTCACHE_SOURCE_DIR/../shared/tools/resp-diff.
  DISTCACHE_SOURCE_DIR  root of the source tree (default: two levels up).
  DISTCACHE_LONG_TESTS  set to 1 to run the long tests (skipped otherwise).

Conventions: every test_*.py file is a unittest module that ends with
`harness.main()`, so it can be run directly (`/usr/bin/python3 test_x.py`)
and exits non-zero on failure. Servers are started with start_server(), a
context manager, or ServerTestCase, which starts one server per test class.
Readiness is detected by polling (connect + PING) with an overall deadline,
never by sleeping.
"""

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

REFERENCE_REDIS = "/usr/bin/redis-server"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
STARTUP_DEADLINE = 20.0   # seconds until the server must answer PING
STOP_DEADLINE = 10.0      # seconds between SIGTERM and SIGKILL
HOST = "127.0.0.1"

SOURCE_DIR = os.path.abspath(os.environ.get("DISTCACHE_SOURCE_DIR") or
                             os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def long_tests_enabled():
    """True when DISTCACHE_LONG_TESTS=1 (long, optional test runs)."""
    return os.environ.get("DISTCACHE_LONG_TESTS", "") == "1"


# Set by scripts/sanitize-ci.sh (and sanitize-test.sh): the server under test
# is an ASan/UBSan build, whose allocators bypass distcache's memory
# accounting (used_memory stays 0, so maxmemory never triggers) and keep
# freed memory in a quarantine (RSS says nothing).
SANITIZER_BUILD = bool(os.environ.get("DISTCACHE_SANITIZER_BUILD"))
NO_MEMORY_ACCOUNTING = "used_memory is not counted under the sanitizer allocators"


def wait_until(predicate, what, deadline, interval=0.01):
    """Calls predicate() every `interval` seconds until it returns something
    true, and returns that; after `deadline` seconds fails the test, naming
    `what` and the last value. (Polling with a deadline: no sleep as
    synchronisation, no timing assertion.)"""
    end = time.monotonic() + deadline
    last = None
    while time.monotonic() < end:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def server_binary():
    """Path of the server under test ($DISTCACHE_SERVER, else build/distcache-server)."""
    path = os.environ.get("DISTCACHE_SERVER") or os.path.join(SOURCE_DIR, "build", "distcache-server")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError(f"server binary not found or not executable: {path!r} "
                           "(set DISTCACHE_SERVER to the built distcache-server)")
    return path


def is_reference_redis(binary):
    """Whether `binary` is a stock redis-server (decided by its file name).
    Used to leave out distcache-only flags such as --threads."""
    return os.path.basename(binary).startswith("redis-server")


def resp_diff_path():
    path = os.environ.get("RESP_DIFF") or os.path.join(SOURCE_DIR, "..", "shared", "tools", "resp-diff")
    if not os.path.isfile(path):
        raise RuntimeError(f"resp-diff not found at {path!r} (set RESP_DIFF)")
    return os.path.abspath(path)


# --------------------------------------------------------------------------- ports

def free_port():
    """A TCP port that is free on 127.0.0.1 right now.

    Ports are drawn at random from 20000-32767, below Linux's ephemeral range
    (32768-60999), so that they do not collide with the source ports of
    outgoing connections. The port is checked by binding it (without
    SO_REUSEADDR, so ports in TIME_WAIT are skipped too). Another process could
    still take it before our server binds; start_server() retries in that case.
    """
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(20000, 32768)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                continue
            return port
    # Fall back to a kernel-chosen port.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- servers

class ServerError(RuntimeError):
    pass


class Server:
    """A running server process. Use start_server() to create one."""

    def __init__(self, binary, port, workdir, proc, log_path, args):
        self.binary = binary
        self.host = HOST
        self.port = port
        self.dir = workdir
        self.proc = proc
        self.log_path = log_path
        self.args = args
        self.is_reference = is_reference_redis(binary)
        self.exit_expected = False   # set by tests that stop the server themselves (SHUTDOWN)

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    @property
    def pid(self):
        return self.proc.pid

    def output(self, tail_lines=None):
        """The server's combined stdout/stderr so far."""
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        if tail_lines is not None:
            text = "\n".join(text.splitlines()[-tail_lines:])
        return text

    def alive(self):
        return self.proc.poll() is None

    def client(self, **kwargs):
        """A redis-py client connected to this server."""
        import redis  # Debian's python3-redis
        kwargs.setdefault("socket_timeout", 60)
        return redis.Redis(host=self.host, port=self.port, **kwargs)

    def raw(self, timeout=10.0):
        """A RawConnection (wire-level RESP client) to this server."""
        return RawConnection(self.host, self.port, timeout=timeout)

    def cli(self, *args, **kwargs):
        """Runs redis-cli against this server; see redis_cli()."""
        return redis_cli(self.port, *args, **kwargs)

    def stop(self):
        """SIGTERM, wait up to STOP_DEADLINE, then SIGKILL. Returns the exit status."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                sys.stderr.write(f"harness: server pid {self.proc.pid} ignored SIGTERM for "
                                 f"{STOP_DEADLINE}s; sending SIGKILL\n")
                self.proc.kill()
                self.proc.wait()
            except ProcessLookupError:
                self.proc.wait()
        return self.proc.returncode


def _listens_on(pid, port):
    """Whether process `pid` owns a socket listening on TCP `port` (from
    /proc). None when that cannot be determined."""
    try:
        inodes = set()
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    next(f)
                    for line in f:
                        fields = line.split()
                        local_port = int(fields[1].rsplit(":", 1)[1], 16)
                        if local_port == port and fields[3] == "0A" and fields[9] in inodes:
                            return True
            except OSError:
                continue
        return False
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _wait_for_ping(proc, port, deadline):
    """Polls until the server answers PING with +PONG. Returns None when ready,
    or a reason string when the process exited or the deadline passed."""
    last_error = "no attempt made"
    while True:
        if proc.poll() is not None:
            return f"server exited with status {proc.returncode} before answering PING"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return f"server did not answer PING within {STARTUP_DEADLINE}s (last error: {last_error})"
        try:
            with socket.create_connection((HOST, port), timeout=min(2.0, remaining)) as s:
                s.settimeout(min(2.0, max(0.1, remaining)))
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                data = b""
                while not data.endswith(b"\r\n"):
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                if data == b"+PONG\r\n":
                    if _listens_on(proc.pid, port) is not False:
                        return None
                    # Somebody else's server answered on this port; ours will
                    # fail to bind and exit, which the next round detects.
                    last_error = f"port {port} is served by another process"
                last_error = f"PING answered {data!r}"   # e.g. -LOADING; keep polling
        except OSError as e:
            last_error = repr(e)
        # Poll interval: wait for the process to exit, for at most 20 ms.
        try:
            proc.wait(timeout=0.02)
        except subprocess.TimeoutExpired:
            pass


def _die_with_parent():
    """preexec_fn: the server gets SIGKILL when the test process dies (for
    example when CTest kills a test at its timeout), so no server is leaked."""
    try:
        import ctypes
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:   # noqa: BLE001 - best effort (non-Linux, no libc.so.6)
        pass


def _launch(binary, extra_args, workdir, port):
    args = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
            "--dir", workdir] + list(extra_args)
    log_path = os.path.join(workdir, f"server-{port}.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                cwd=workdir, start_new_session=True, preexec_fn=_die_with_parent)
    return Server(binary, port, workdir, proc, log_path, args)


@contextlib.contextmanager
def start_server(binary=None, extra_args=(), distcache_args=(), reference=False, port=None):
    """Starts a server on a free port, waits until it answers PING, yields a
    Server and stops it on exit.

    binary          server path; default: the server under test (server_binary()),
                    or REFERENCE_REDIS when reference=True.
    extra_args      extra flags for any kind of server (redis-server syntax).
    distcache_args  extra flags passed only when the binary is not a stock
                    redis-server (e.g. ["--threads", "4"]).

    Each server gets its own temporary --dir, removed afterwards. If the server
    died during the block, its output is printed and an error is raised.
    """
    if binary is None:
        binary = REFERENCE_REDIS if reference else server_binary()
    args = list(extra_args)
    if not is_reference_redis(binary):
        args += list(distcache_args)
    workdir = tempfile.mkdtemp(prefix="distcache-it-")
    server = None
    try:
        for attempt in range(3):
            use_port = port if port is not None else free_port()
            server = _launch(binary, args, workdir, use_port)
            failure = _wait_for_ping(server.proc, use_port, time.monotonic() + STARTUP_DEADLINE)
            if failure is None:
                break
            server.stop()
            out = server.output()
            port_taken = "in use" in out.lower() or "could not create server tcp" in out.lower()
            if port_taken and port is None and attempt < 2:
                continue  # somebody took the port between free_port() and bind(); retry
            raise ServerError(f"{failure}\ncommand: {server.args}\n--- server output ---\n{out}"
                              "\n--- end of server output ---")
        try:
            yield server
        except BaseException:
            if not server.alive():
                sys.stderr.write(f"harness: server {server.binary} (port {server.port}) died with status "
                                 f"{server.proc.returncode}\n--- server output ---\n"
                                 f"{server.output(tail_lines=200)}\n--- end of server output ---\n")
            raise
        if not server.alive() and not server.exit_expected:
            raise ServerError(f"server {server.binary} (port {server.port}) died during the test "
                              f"with status {server.proc.returncode}\n--- server output ---\n"
                              f"{server.output(tail_lines=200)}\n--- end of server output ---")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


class ServerTestCase(unittest.TestCase):
    """Base class: starts one server under test for the whole class
    (self.server / cls.server). Subclasses may set EXTRA_ARGS and
    DISTCACHE_ARGS. A server that dies during the tests is reported as an
    error with its output."""

    EXTRA_ARGS = ()
    DISTCACHE_ARGS = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._server_cm = start_server(extra_args=cls.EXTRA_ARGS, distcache_args=cls.DISTCACHE_ARGS)
        cls.server = cls._server_cm.__enter__()

    @classmethod
    def tearDownClass(cls):
        cm = cls.__dict__.get("_server_cm")
        if cm is not None:
            cls._server_cm = None
            cm.__exit__(None, None, None)
        super().tearDownClass()

    def assertServerAlive(self):
        if not self.server.alive():
            self.fail(f"server died with status {self.server.proc.returncode}:\n"
                      f"{self.server.output(tail_lines=200)}")


class SideBySideTestCase(unittest.TestCase):
    """Base class for tests that compare distcache with redis-server reply by
    reply: starts the reference redis-server (cls.ref) and distcache
    (cls.server) for the whole class, both with extra_args() (EXTRA_ARGS by
    default), distcache also with DISTCACHE_ARGS (two threads by default, so
    the cross-thread paths run)."""

    EXTRA_ARGS = ()
    DISTCACHE_ARGS = ("--threads", "2")

    @classmethod
    def extra_args(cls):
        return list(cls.EXTRA_ARGS)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        args = cls.extra_args()
        cls._ref_cm = start_server(reference=True, extra_args=args)
        cls.ref = cls._ref_cm.__enter__()
        try:
            cls._server_cm = start_server(extra_args=args, distcache_args=list(cls.DISTCACHE_ARGS))
            cls.server = cls._server_cm.__enter__()
        except BaseException:
            cls._ref_cm.__exit__(None, None, None)
            raise

    @classmethod
    def tearDownClass(cls):
        cls._server_cm.__exit__(None, None, None)
        cls._ref_cm.__exit__(None, None, None)
        super().tearDownClass()


# --------------------------------------------------------------------------- raw RESP client

class RespError:
    """An error reply (-ERR ... / !... in RESP3). Returned, not raised."""

    def __init__(self, message):
        self.message = message  # str, without the leading '-'

    def __eq__(self, other):
        return isinstance(other, RespError) and other.message == self.message

    def __repr__(self):
        return f"RespError({self.message!r})"


class Push(list):
    """A RESP3 push message (>)."""


class ConnectionClosed(Exception):
    pass


def encode_command(*args):
    """Encodes a command as a RESP multibulk request (str/int/float/bytes args)."""
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, bytes):
            b = a
        elif isinstance(a, str):
            b = a.encode()
        else:
            b = str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(parts)


class RawConnection:
    """A minimal RESP2/RESP3 client over a plain socket, for tests that need
    exact wire bytes. Replies: +simple -> str, -error -> RespError, :n -> int,
    $bulk -> bytes, $-1 / *-1 / _ -> None, * -> list, % -> dict, ~ -> set
    (as list), , -> float, # -> bool, ( -> int, = -> bytes, > -> Push."""

    def __init__(self, host, port, timeout=10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.buf = bytearray()
        self._recording = None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def send_command(self, *args):
        self.sock.sendall(encode_command(*args))

    def command(self, *args):
        """Sends one command and returns its reply."""
        self.send_command(*args)
        return self.read_reply()

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionClosed(f"connection closed by the server (unread: {bytes(self.buf)!r})")
        self.buf += chunk

    def read_line(self):
        """One line without its CRLF (bytes)."""
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                if self._recording is not None:
                    self._recording += self.buf[:i + 2]
                del self.buf[:i + 2]
                return line
            self._fill()

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data = bytes(self.buf[:n])
        if self._recording is not None:
            self._recording += data
        del self.buf[:n]
        return data

    def read_reply_bytes(self):
        """The exact bytes of the next complete reply."""
        self._recording = bytearray()
        try:
            self.read_reply()
            return bytes(self._recording)
        finally:
            self._recording = None

    def read_reply(self):
        line = self.read_line()
        if not line:
            raise ValueError("empty reply line")
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode("utf-8", "replace")
        if t == b"-":
            return RespError(rest.decode("utf-8", "replace"))
        if t == b":":
            return int(rest)
        if t in (b"$", b"=", b"!"):
            n = int(rest)
            if n < 0:
                return None
            data = self.read_exact(n + 2)
            if data[-2:] != b"\r\n":
                raise ValueError(f"bulk string not terminated by CRLF: {data[-2:]!r}")
            if t == b"!":
                return RespError(data[:-2].decode("utf-8", "replace"))
            return data[:-2]
        if t in (b"*", b"~", b">"):
            n = int(rest)
            if n < 0:
                return None
            items = [self.read_reply() for _ in range(n)]
            return Push(items) if t == b">" else items
        if t == b"%" or t == b"|":
            n = int(rest)
            result = {}
            for _ in range(n):
                k = self.read_reply()
                v = self.read_reply()
                result[k if not isinstance(k, list) else tuple(k)] = v
            if t == b"|":   # attribute: the real reply follows
                return self.read_reply()
            return result
        if t == b"_":
            return None
        if t == b",":
            return float(rest)
        if t == b"#":
            return rest == b"t"
        if t == b"(":
            return int(rest)
        raise ValueError(f"unknown RESP type byte in line {line!r}")

    def read_until_closed(self, limit=1 << 20):
        """Everything the server sends until it closes the connection (bytes).
        Raises socket.timeout if it does not close within the socket timeout."""
        data = bytes(self.buf)
        self.buf.clear()
        while len(data) < limit:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                return data
            data += chunk
        raise AssertionError(f"server sent more than {limit} bytes without closing")


# --------------------------------------------------------------------------- redis-cli

def redis_cli(port, *args, input=None, timeout=60, check=True, host=HOST, binary=False):
    """Runs `redis-cli -h HOST -p PORT args...` with stdin from `input`
    (str/bytes; default: empty stdin, not a tty) and returns the
    CompletedProcess (stdout/stderr as str unless binary=True). Note that
    redis-cli prints raw replies when stdout is not a tty; pass --no-raw for
    the interactive formatting."""
    cmd = [REDIS_CLI, "-h", host, "-p", str(port)] + [str(a) for a in args]
    if input is None:
        input = b""
    if isinstance(input, str):
        input = input.encode()
    proc = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout)
    if not binary:
        proc.stdout = proc.stdout.decode("utf-8", "replace")
        proc.stderr = proc.stderr.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited with {proc.returncode}\nstdout: {proc.stdout!r}\n"
                             f"stderr: {proc.stderr!r}")
    return proc


# --------------------------------------------------------------------------- runner

def main():
    """unittest.main() with verbose output; exits non-zero on failure."""
    unittest.main(verbosity=2)
