#!/usr/bin/python3
"""Writes `SET key:NNNNNNNNNNNN <SIZE bytes>` for N = 0 .. COUNT-1 as RESP to
stdout, for `redis-cli --pipe` (the data set of benchmarks/persistence.sh).

    gen_values.py COUNT [--size BYTES]     (default 200-byte values)

The keys are the ones `redis-benchmark -r COUNT` addresses (key: plus the
number zero-padded to 12 digits), so a SET load with -r COUNT overwrites
existing keys only. The values are printable, differ from key to key (so
LZF compression in the RDB has little to gain, as with real data) and never
look like integers.
"""
import sys

CHUNK = 10000
# 4096 pseudo-random printable bytes; each key's value is a slice of it.
_ALPHABET = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"


def _pool(n: int) -> bytes:
    x = 0x9E3779B97F4A7C15
    out = bytearray()
    while len(out) < n:
        x ^= (x << 13) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 7
        x ^= (x << 17) & 0xFFFFFFFFFFFFFFFF
        out.append(_ALPHABET[x & 63])
    return bytes(out)


def main(argv) -> int:
    args = argv[1:]
    size = 200
    if "--size" in args:
        i = args.index("--size")
        size = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 1 or size < 16:
        sys.stderr.write(__doc__)
        return 2
    count = int(args[0])
    pool = _pool(4096 + size)
    head = b"*3\r\n$3\r\nSET\r\n$16\r\n"
    mid = b"\r\n$" + str(size).encode() + b"\r\n"
    out = sys.stdout.buffer
    for base in range(0, count, CHUNK):
        parts = []
        for n in range(base, min(base + CHUNK, count)):
            off = (n * 2654435761) & 4095
            # 'v' + the key's number in the first 12 bytes: never an integer.
            value = b"v%011d" % (n % 10**11) + pool[off:off + size - 12]
            parts.append(head + b"key:%012d" % n + mid + value + b"\r\n")
        out.write(b"".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
