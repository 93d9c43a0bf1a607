#!/usr/bin/python3
"""Writes Redis protocol (RESP) commands to stdout, for `redis-cli --pipe`.

    gen_load.py strings COUNT [--pad WIDTH] [--start N]
        SET key:N vNNNNNNNNNNNNNNN   (16-byte values; key:N zero-padded to WIDTH
                                      digits when --pad is given)
    gen_load.py list COUNT [--key K]
        RPUSH K e1 e2 ... (16-byte elements, 1000 per command)
    gen_load.py hashes|sets|zsets KEYS ELEMENTS
        KEYS collections h:I / s:I / z:I, each with ELEMENTS short elements:
        HSET h:I field:J val:JJJJJ..., SADD s:I member:J ..., ZADD z:I J member:J ...

Values never look like integers, so neither server can store them as numbers.
Output is generated in chunks: about 10M SETs per 10 s of one core.
"""
import sys

CHUNK = 10000


def bulk(s: str) -> str:
    return f"${len(s)}\r\n{s}\r\n"


def strings(out, count: int, pad: int, start: int) -> None:
    for base in range(start, start + count, CHUNK):
        end = min(base + CHUNK, start + count)
        if pad:
            keys = [f"key:{i:0{pad}d}" for i in range(base, end)]
        else:
            keys = [f"key:{i}" for i in range(base, end)]
        out.write("".join(
            f"*3\r\n$3\r\nSET\r\n${len(k)}\r\n{k}\r\n$16\r\nv{i:015d}\r\n"
            for i, k in zip(range(base, end), keys)).encode())


def push_list(out, count: int, key: str) -> None:
    per = 1000
    for base in range(0, count, per):
        n = min(per, count - base)
        parts = [f"*{n + 2}\r\n$5\r\nRPUSH\r\n", bulk(key)]
        parts += [f"$16\r\ne{i:015d}\r\n" for i in range(base, base + n)]
        out.write("".join(parts).encode())


def collections(out, kind: str, keys: int, elements: int) -> None:
    for i in range(keys):
        if kind == "hashes":
            head = ["HSET", f"h:{i}"]
            body = [x for j in range(elements) for x in (f"field:{j}", f"val:{i * elements + j}")]
        elif kind == "sets":
            head = ["SADD", f"s:{i}"]
            body = [f"member:{j}" for j in range(elements)]
        else:
            head = ["ZADD", f"z:{i}"]
            body = [x for j in range(elements) for x in (str(j), f"member:{j}")]
        args = head + body
        out.write((f"*{len(args)}\r\n" + "".join(bulk(a) for a in args)).encode())


def main(argv) -> int:
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    out = sys.stdout.buffer
    kind = argv[1]
    opts = {}
    rest = []
    it = iter(argv[2:])
    for a in it:
        if a.startswith("--"):
            opts[a[2:]] = next(it)
        else:
            rest.append(a)
    if kind == "strings":
        strings(out, int(rest[0]), int(opts.get("pad", 0)), int(opts.get("start", 0)))
    elif kind == "list":
        push_list(out, int(rest[0]), opts.get("key", "mylist"))
    elif kind in ("hashes", "sets", "zsets"):
        collections(out, kind, int(rest[0]), int(rest[1]))
    else:
        sys.stderr.write(__doc__)
        return 2
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
