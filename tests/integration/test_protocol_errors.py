"""Wire-level protocol handling over raw sockets: malformed requests get
Redis 7.0's exact error reply and the connection is closed, while other
connections keep working; inline commands; fragmented and huge pipelines;
a RESP3 HELLO handshake. The expected bytes were taken from redis-server 7.0.15.
"""

import socket
import threading

import harness
from harness import RespError, encode_command

PROTO_MAX_BULK_LEN = 512 * 1024 * 1024   # redis-server's default proto-max-bulk-len


class ProtocolErrorTest(harness.ServerTestCase):

    def setUp(self):
        # A bystander connection that must survive every malformed request.
        self.other = self.server.raw()
        self.assertEqual(self.other.command("PING"), "PONG")

    def tearDown(self):
        try:
            self.assertEqual(self.other.command("PING"), "PONG", "other connection broken")
            self.assertEqual(self.other.command("ECHO", "still here"), b"still here")
        finally:
            self.other.close()
        self.assertServerAlive()

    def expect_error_and_close(self, data, error, before=b""):
        """Sends `data` on a new connection; expects exactly `before` +
        `-<error>\\r\\n` and then the server closing the connection."""
        with self.server.raw() as c:
            c.send(data)
            try:
                got = c.read_until_closed()
            except socket.timeout:
                self.fail(f"server did not close the connection after {data[:80]!r}; "
                          f"received so far: {bytes(c.buf)!r}")
            except ConnectionResetError:
                self.fail(f"connection reset after {data[:80]!r} before the error reply was read "
                          "(the server should read what it was sent before closing)")
            self.assertEqual(got, before + b"-" + error.encode() + b"\r\n", f"request {data[:80]!r}")

    # ------------------------------------------------------------ malformed multibulk

    def test_invalid_multibulk_length(self):
        self.expect_error_and_close(b"*abc\r\n", "ERR Protocol error: invalid multibulk length")
        self.expect_error_and_close(b"*1x\r\n", "ERR Protocol error: invalid multibulk length")
        self.expect_error_and_close(b"*2147483648\r\n", "ERR Protocol error: invalid multibulk length")

    def test_expected_dollar(self):
        self.expect_error_and_close(b"*1\r\nX\r\n", "ERR Protocol error: expected '$', got 'X'")
        self.expect_error_and_close(b"*2\r\n$3\r\nGET\r\n:1\r\n",
                                    "ERR Protocol error: expected '$', got ':'")

    def test_invalid_bulk_length(self):
        for header in (b"$-5", b"$-1", b"$abc", b"$+4", b"$2147483648"):
            with self.subTest(header=header):
                self.expect_error_and_close(b"*1\r\n" + header + b"\r\n",
                                            "ERR Protocol error: invalid bulk length")

    def test_oversized_bulk(self):
        """A bulk length above proto-max-bulk-len (512 MB by default) is rejected
        before any payload is sent."""
        self.expect_error_and_close(b"*1\r\n$%d\r\n" % (PROTO_MAX_BULK_LEN + 1),
                                    "ERR Protocol error: invalid bulk length")
        self.expect_error_and_close(b"*1\r\n$1000000000\r\nabc",
                                    "ERR Protocol error: invalid bulk length")

    def test_replies_before_the_error_are_sent(self):
        self.expect_error_and_close(b"PING\r\n*1\r\n$4\r\nPING\r\n*abc\r\n",
                                    "ERR Protocol error: invalid multibulk length",
                                    before=b"+PONG\r\n+PONG\r\n")

    def test_empty_and_negative_multibulk_are_ignored(self):
        with self.server.raw() as c:
            c.send(b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n")
            self.assertEqual(c.read_reply_bytes(), b"+PONG\r\n")

    def test_partial_large_bulk_then_close(self):
        """A client announces a big (but allowed) argument, sends a few bytes
        and disconnects; the server must simply drop the connection."""
        with self.server.raw() as c:
            c.send(b"*2\r\n$4\r\nECHO\r\n$100000000\r\nabc")
        with self.server.raw() as c:
            c.send(b"*1\r\n$%d\r\nabcdef" % PROTO_MAX_BULK_LEN)
        with self.server.raw() as c:
            # Inline: "$1000000000" is an unknown command; the rest is an
            # incomplete inline line.
            c.send(b"$1000000000\r\nabc")
            self.assertEqual(c.read_reply(),
                             RespError("ERR unknown command '$1000000000', with args beginning with: "))
        with self.server.raw() as c:
            self.assertEqual(c.command("PING"), "PONG")

    # ------------------------------------------------------------ inline commands

    def test_inline_ping(self):
        with self.server.raw() as c:
            c.send(b"PING\r\n")
            self.assertEqual(c.read_reply_bytes(), b"+PONG\r\n")
            c.send(b"ping hello\r\n")
            self.assertEqual(c.read_reply_bytes(), b"$5\r\nhello\r\n")
            c.send(b"PING\n")                     # bare LF also ends an inline command
            self.assertEqual(c.read_reply_bytes(), b"+PONG\r\n")
            c.send(b"\r\n\n   \r\nPING\r\n")        # empty lines are ignored
            self.assertEqual(c.read_reply_bytes(), b"+PONG\r\n")

    def test_inline_quoting(self):
        with self.server.raw() as c:
            c.send(b'ECHO "hello world"\r\n')
            self.assertEqual(c.read_reply(), b"hello world")
            c.send(b"ECHO 'single quoted'\r\n")
            self.assertEqual(c.read_reply(), b"single quoted")
            c.send(b'ECHO "\\x41\\x00\\n\\"q\\""\r\n')
            self.assertEqual(c.read_reply(), b'A\x00\n"q"')
            c.send(b'"\\x50ING"\r\n')
            self.assertEqual(c.read_reply(), "PONG")
            c.send(b"SET inline:k v\r\nGET inline:k\r\n")
            self.assertEqual(c.read_reply(), "OK")
            self.assertEqual(c.read_reply(), b"v")
            c.send(b"DEL inline:k\r\n")
            self.assertEqual(c.read_reply(), 1)

    def test_inline_unbalanced_quotes(self):
        self.expect_error_and_close(b'SET "foo bar\r\n', "ERR Protocol error: unbalanced quotes in request")
        self.expect_error_and_close(b"ECHO 'abc\r\n", "ERR Protocol error: unbalanced quotes in request")
        # A closing quote must be followed by a space or the end of the line.
        self.expect_error_and_close(b'ECHO "a"b\r\n', "ERR Protocol error: unbalanced quotes in request")

    def test_too_big_inline_request(self):
        # More than 64 KB without a newline (PROTO_INLINE_MAX_SIZE).
        self.expect_error_and_close(b"x" * (64 * 1024 + 500), "ERR Protocol error: too big inline request")

    # ------------------------------------------------------------ command-level errors keep the connection

    def test_command_errors_keep_connection(self):
        with self.server.raw() as c:
            c.send(encode_command("FOO", "bar") + encode_command("GET") + encode_command("PING"))
            self.assertEqual(c.read_reply_bytes(),
                             b"-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n")
            self.assertEqual(c.read_reply_bytes(),
                             b"-ERR wrong number of arguments for 'get' command\r\n")
            self.assertEqual(c.read_reply_bytes(), b"+PONG\r\n")
            c.send(b"*1\r\n$0\r\n\r\n")
            self.assertEqual(c.read_reply_bytes(),
                             b"-ERR unknown command '', with args beginning with: \r\n")
            c.send(encode_command("GET", ""))
            self.assertEqual(c.read_reply_bytes(), b"$-1\r\n")

    # ------------------------------------------------------------ pipelining

    def test_fragmented_pipeline(self):
        """A pipeline sent one byte per send() is parsed correctly."""
        commands = [
            encode_command("SET", "frag:k", "a\r\nb"),
            encode_command("GET", "frag:k"),
            b"PING\r\n",
            encode_command("INCR", "frag:n"),
            encode_command("MSET", "frag:a", "1", "frag:b", "x" * 40),
            encode_command("MGET", "frag:a", "frag:b", "frag:none"),
            encode_command("ECHO", ""),
            encode_command("DEL", "frag:k", "frag:n", "frag:a", "frag:b"),
        ]
        data = b"".join(commands)
        with self.server.raw() as c:
            for i in range(len(data)):
                c.send(data[i:i + 1])
            self.assertEqual(c.read_reply(), "OK")
            self.assertEqual(c.read_reply(), b"a\r\nb")
            self.assertEqual(c.read_reply(), "PONG")
            self.assertEqual(c.read_reply(), 1)
            self.assertEqual(c.read_reply(), "OK")
            self.assertEqual(c.read_reply(), [b"1", b"x" * 40, None])
            self.assertEqual(c.read_reply(), b"")
            self.assertEqual(c.read_reply(), 4)

    def test_huge_pipeline(self):
        """10,000 commands in one send() are all answered, in order."""
        n = 10_000
        data = b"".join(encode_command("PING") if i % 2 == 0 else encode_command("ECHO", str(i))
                        for i in range(n))
        with self.server.raw(timeout=60) as c:
            # Send from another thread so that neither side can block on a full buffer.
            sender_error = []

            def send():
                try:
                    c.send(data)
                except OSError as e:
                    sender_error.append(e)

            t = threading.Thread(target=send, daemon=True)
            t.start()
            for i in range(n):
                reply = c.read_reply()
                want = "PONG" if i % 2 == 0 else str(i).encode()
                if reply != want:
                    self.fail(f"reply #{i} is {reply!r}, expected {want!r}")
            t.join(timeout=60)
            self.assertFalse(sender_error, sender_error)
            self.assertEqual(c.command("PING"), "PONG")

    def test_inline_pipeline(self):
        with self.server.raw(timeout=60) as c:
            c.send(b"PING\r\n" * 1000)
            for _ in range(1000):
                self.assertEqual(c.read_reply_bytes(), b"+PONG\r\n")

    # ------------------------------------------------------------ RESP3 handshake

    def test_hello_3(self):
        with self.server.raw() as c:
            hello = c.command("HELLO", "3")
            self.assertIsInstance(hello, dict, hello)
            for field in (b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"):
                self.assertIn(field, hello)
            self.assertEqual(hello[b"proto"], 3)
            self.assertIsInstance(hello[b"id"], int)
            self.assertRegex(hello.get(b"version", b"").decode(), r"^\d+\.\d+\.\d+$")
            c.send_command("GET", "resp3:missing")
            self.assertEqual(c.read_reply_bytes(), b"_\r\n")      # RESP3 null
            hello = c.command("HELLO", "2")
            self.assertIsInstance(hello, list)
            c.send_command("GET", "resp3:missing")
            self.assertEqual(c.read_reply_bytes(), b"$-1\r\n")
            self.assertEqual(c.command("HELLO", "4"),
                             RespError("NOPROTO unsupported protocol version"))


if __name__ == "__main__":
    harness.main()
