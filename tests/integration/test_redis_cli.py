"""Drives the stock `redis-cli` against the server as a user would: one-shot
commands (raw and --no-raw output), commands piped through stdin, -x, -n,
--scan, and the interactive prompt through a pseudo-terminal."""

import os
import pty
import re
import select
import subprocess
import time

import harness


class RedisCliTest(harness.ServerTestCase):

    def setUp(self):
        self.cli("FLUSHALL")

    def cli(self, *args, **kwargs):
        return self.server.cli(*args, **kwargs).stdout

    def lines(self, *args, **kwargs):
        return self.cli(*args, **kwargs).splitlines()

    # ------------------------------------------------------------ basics

    def test_ping(self):
        self.assertEqual(self.cli("PING"), "PONG\n")
        self.assertEqual(self.cli("ping", "hello world"), "hello world\n")
        self.assertEqual(self.cli("--no-raw", "PING"), "PONG\n")

    def test_set_get(self):
        self.assertEqual(self.cli("SET", "greeting", "hello world"), "OK\n")
        self.assertEqual(self.cli("GET", "greeting"), "hello world\n")
        self.assertEqual(self.cli("--no-raw", "GET", "greeting"), '"hello world"\n')
        self.assertEqual(self.cli("--no-raw", "GET", "missing"), "(nil)\n")
        self.assertEqual(self.cli("set", "greeting", "bye"), "OK\n")   # lower case
        self.assertEqual(self.cli("get", "greeting"), "bye\n")

    def test_incr(self):
        self.assertEqual(self.cli("INCR", "counter"), "1\n")
        self.assertEqual(self.cli("INCR", "counter"), "2\n")
        self.assertEqual(self.cli("--no-raw", "INCR", "counter"), "(integer) 3\n")
        self.assertEqual(self.cli("INCRBY", "counter", "-10"), "-7\n")
        self.cli("SET", "text", "abc")
        self.assertEqual(self.cli("--no-raw", "INCR", "text"),
                         "(error) ERR value is not an integer or out of range\n")

    def test_mset_mget(self):
        self.assertEqual(self.cli("MSET", "a", "1", "b", "two", "c", "3"), "OK\n")
        self.assertEqual(self.lines("--no-raw", "MGET", "a", "b", "missing", "c"),
                         ['1) "1"', '2) "two"', "3) (nil)", '4) "3"'])

    def test_del_exists(self):
        self.cli("MSET", "a", "1", "b", "2", "c", "3")
        self.assertEqual(self.cli("EXISTS", "a", "b", "missing", "a"), "3\n")
        self.assertEqual(self.cli("DEL", "a", "b", "missing"), "2\n")
        self.assertEqual(self.cli("EXISTS", "a"), "0\n")
        self.assertEqual(self.cli("EXISTS", "c"), "1\n")

    def test_expire_ttl(self):
        self.cli("SET", "k", "v")
        self.assertEqual(self.cli("TTL", "k"), "-1\n")
        self.assertEqual(self.cli("TTL", "missing"), "-2\n")
        self.assertEqual(self.cli("EXPIRE", "k", "1000"), "1\n")
        ttl = int(self.cli("TTL", "k"))
        self.assertTrue(0 < ttl <= 1000, ttl)
        pttl = int(self.cli("PTTL", "k"))
        self.assertTrue(1000 < pttl <= 1_000_000, pttl)   # milliseconds
        self.assertEqual(self.cli("EXPIRE", "missing", "10"), "0\n")
        self.assertEqual(self.cli("PERSIST", "k"), "1\n")
        self.assertEqual(self.cli("TTL", "k"), "-1\n")
        self.assertEqual(self.cli("EXPIRE", "k", "-1"), "1\n")   # in the past: deleted
        self.assertEqual(self.cli("EXISTS", "k"), "0\n")

    # ------------------------------------------------------------ key space

    def fill(self, n, prefix="key:"):
        # One MSET through stdin keeps this fast.
        args = " ".join(f"{prefix}{i} v{i}" for i in range(n))
        self.assertEqual(self.cli(input=f"MSET {args}\n"), "OK\n")
        return {f"{prefix}{i}" for i in range(n)}

    def test_scan_with_cli_scan(self):
        keys = self.fill(300) | self.fill(20, prefix="other:")
        self.assertEqual(set(self.lines("--scan")), keys)
        self.assertEqual(set(self.lines("--scan", "--pattern", "other:*")),
                         {k for k in keys if k.startswith("other:")})
        self.assertEqual(set(self.lines("--scan", "--pattern", "key:1?")),
                         {f"key:{i}" for i in range(10, 20)})

    def test_scan_cursor_loop(self):
        keys = self.fill(250)
        seen = []
        cursor = "0"
        for _ in range(10_000):   # bounded: COUNT 10 over 250 keys needs far fewer
            out = self.lines("SCAN", cursor, "COUNT", "10")
            cursor, batch = out[0], out[1:]
            self.assertRegex(cursor, r"^\d+$")
            # A step may find no key (SCAN's contract); redis-cli prints that
            # empty batch as an empty line. No key of this test is empty.
            seen.extend(k for k in batch if k != "")
            if cursor == "0":
                break
        else:
            self.fail("SCAN did not return cursor 0")
        self.assertEqual(set(seen), keys)   # duplicates are allowed by SCAN's contract
        out = self.lines("--no-raw", "SCAN", "0", "MATCH", "nomatch*", "COUNT", "1000")
        self.assertEqual(len(out), 2, out)
        self.assertRegex(out[0], r'^1\) "\d+"$')

    def test_keys_dbsize(self):
        self.assertEqual(self.cli("DBSIZE"), "0\n")
        self.assertEqual(self.cli("--no-raw", "KEYS", "*"), "(empty array)\n")
        self.cli("MSET", "user:1", "a", "user:2", "b", "item:1", "c", "user:10", "d")
        self.assertEqual(self.cli("DBSIZE"), "4\n")
        self.assertEqual(sorted(self.lines("KEYS", "user:*")), ["user:1", "user:10", "user:2"])
        self.assertEqual(sorted(self.lines("KEYS", "user:?")), ["user:1", "user:2"])
        self.assertEqual(sorted(self.lines("KEYS", "*:1")), ["item:1", "user:1"])
        self.assertEqual(sorted(self.lines("KEYS", "[iu]*:1[0]")), ["user:10"])

    def test_select_isolation(self):
        self.cli("SET", "shared", "db0")
        self.assertEqual(self.cli("-n", "1", "GET", "shared"), "\n")   # nil prints an empty line
        self.assertEqual(self.cli("-n", "1", "SET", "shared", "db1"), "OK\n")
        self.assertEqual(self.cli("-n", "1", "SET", "only1", "x"), "OK\n")
        self.assertEqual(self.cli("GET", "shared"), "db0\n")
        self.assertEqual(self.cli("-n", "1", "GET", "shared"), "db1\n")
        self.assertEqual(self.cli("DBSIZE"), "1\n")
        self.assertEqual(self.cli("-n", "1", "DBSIZE"), "2\n")
        self.assertEqual(self.cli("EXISTS", "only1"), "0\n")
        # SELECT inside one session, through stdin.
        out = self.lines(input="SELECT 1\nGET shared\nSELECT 0\nGET shared\n")
        self.assertEqual(out, ["OK", "db1", "OK", "db0"])
        self.assertEqual(self.cli("--no-raw", "SELECT", "16"), "(error) ERR DB index is out of range\n")

    def test_flushdb(self):
        self.cli("MSET", "a", "1", "b", "2")
        self.cli("-n", "3", "SET", "c", "3")
        self.assertEqual(self.cli("FLUSHDB"), "OK\n")
        self.assertEqual(self.cli("DBSIZE"), "0\n")
        self.assertEqual(self.cli("-n", "3", "DBSIZE"), "1\n")   # other databases untouched
        self.assertEqual(self.cli("-n", "3", "FLUSHDB"), "OK\n")
        self.assertEqual(self.cli("-n", "3", "DBSIZE"), "0\n")

    # ------------------------------------------------------------ server / errors

    def test_info(self):
        out = self.cli("INFO")
        self.assertIn("# Server", out)
        self.assertRegex(out, r"(?m)^redis_version:\d+\.\d+\.\d+\r?$")
        out = self.cli("INFO", "server")
        self.assertIn("# Server", out)
        self.assertIn("redis_version:", out)
        self.assertRegex(out, r"(?m)^tcp_port:%d\r?$" % self.server.port)

    def test_unknown_command(self):
        self.assertEqual(
            self.cli("--no-raw", "FOO", "bar"),
            "(error) ERR unknown command 'FOO', with args beginning with: 'bar' \n")
        self.assertIn("ERR unknown command 'FOO', with args beginning with: 'bar' ",
                      self.cli("FOO", "bar"))
        self.assertEqual(self.cli("--no-raw", "FOO"),
                         "(error) ERR unknown command 'FOO', with args beginning with: \n")

    def test_wrong_arity(self):
        self.assertEqual(self.cli("--no-raw", "GET"),
                         "(error) ERR wrong number of arguments for 'get' command\n")
        self.assertEqual(self.cli("--no-raw", "SET", "k"),
                         "(error) ERR wrong number of arguments for 'set' command\n")
        self.assertEqual(self.cli("--no-raw", "GeT", "a", "b"),
                         "(error) ERR wrong number of arguments for 'get' command\n")

    def test_command_count_and_info(self):
        count = int(self.cli("COMMAND", "COUNT"))
        self.assertGreater(count, 0)
        out = self.lines("COMMAND", "INFO", "get")
        self.assertEqual(out[0:2], ["get", "2"], out)           # name, arity
        out = self.lines("--no-raw", "COMMAND", "INFO", "get", "no-such-command")
        self.assertEqual(out[0], '1)  1) "get"')
        self.assertEqual(out[1].strip(), "2) (integer) 2")
        self.assertEqual(out[-1], "2) (nil)")

    # ------------------------------------------------------------ input modes

    def test_piped_stdin(self):
        script = ("SET x 1\n"
                  "INCR x\n"
                  "GET x\n"
                  "FOO bar\n"
                  'SET "key with spaces" "value with spaces"\n'
                  'GET "key with spaces"\n'
                  "MGET x nokey\n"
                  "DEL x\n")
        out = self.lines(input=script)
        self.assertEqual(out[0:3], ["OK", "2", "2"], out)
        self.assertTrue(out[3].startswith("ERR unknown command 'FOO', with args beginning with: 'bar'"),
                        out)
        rest = [line for line in out[4:] if line != ""]
        self.assertEqual(rest, ["OK", "value with spaces", "2", "1"], out)
        self.assertEqual(self.cli("EXISTS", "x"), "0\n")

    def test_stdin_as_last_argument(self):
        value = bytes(range(256)) * 4   # -x passes stdin verbatim, binary-safe
        self.server.cli("-x", "SET", "blob", input=value)
        out = self.server.cli("GET", "blob", binary=True).stdout
        self.assertEqual(out, value + b"\n")
        self.assertEqual(self.cli("STRLEN", "blob"), "1024\n")

    def test_interactive_prompt(self):
        """Interactive mode through a pseudo-terminal: prompt, formatted replies,
        SELECT in the prompt."""
        pid, fd = pty.fork()
        if pid == 0:   # child
            # TERM=dumb: linenoise skips its cursor-position queries and raw mode.
            env = dict(os.environ, TERM="dumb")
            env.pop("REDISCLI_AUTH", None)
            os.execve(harness.REDIS_CLI, [harness.REDIS_CLI, "-h", harness.HOST,
                                          "-p", str(self.server.port)], env)
        buf = bytearray()

        def expect(pattern, deadline=20.0):
            end = time.monotonic() + deadline
            rx = re.compile(pattern.encode())
            while True:
                m = rx.search(buf)
                if m:
                    del buf[:m.end()]
                    return m
                remaining = end - time.monotonic()
                if remaining <= 0:
                    self.fail(f"timed out waiting for {pattern!r}; got {bytes(buf)!r}")
                r, _, _ = select.select([fd], [], [], remaining)
                if r:
                    try:
                        data = os.read(fd, 4096)
                    except OSError:
                        data = b""
                    if not data:
                        self.fail(f"redis-cli exited while waiting for {pattern!r}; got {bytes(buf)!r}")
                    buf.extend(data)

        def send(line):
            os.write(fd, line.encode() + b"\r")

        prompt = re.escape(f"127.0.0.1:{self.server.port}")
        try:
            expect(prompt + "> ")
            send("SET k hello")
            expect(r"OK\r\n")
            expect(prompt + "> ")
            send("INCR n")
            expect(r"\(integer\) 1\r\n")
            expect(prompt + "> ")
            send("GET k")
            expect(r'"hello"\r\n')
            send("FOO bar")
            expect(r"\(error\) ERR unknown command 'FOO', with args beginning with: 'bar' ")
            expect(prompt + "> ")
            send("SELECT 2")
            expect(r"OK\r\n")
            expect(prompt + r"\[2\]> ")
            send("GET k")
            expect(r"\(nil\)\r\n")
            send("quit")
            deadline = time.monotonic() + 20
            while True:
                wpid, status = os.waitpid(pid, os.WNOHANG)
                if wpid:
                    pid = 0
                    self.assertEqual(os.waitstatus_to_exitcode(status), 0)
                    break
                if time.monotonic() > deadline:
                    self.fail("redis-cli did not exit after quit")
                select.select([fd], [], [], 0.05)   # poll interval; drain output
                try:
                    os.read(fd, 4096)
                except OSError:
                    pass
        finally:
            if pid:
                try:
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
                except OSError:
                    pass
            os.close(fd)


if __name__ == "__main__":
    harness.main()
