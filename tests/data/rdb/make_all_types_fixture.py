"""Regenerates all-types-7.0.15.rdb.bin and all-types-7.0.15.manifest.

Starts a real redis-server (7.0.15), builds the dataset of
tests/integration/test_dump_restore.py (every type and encoding; the 600 KB
string left out to keep the file small) plus a seeded random dataset, keys
with TTLs (far in the future) in database 7 and a function library, SAVEs,
and records the manifest of what redis-server holds after loading the file
again. tests/unit/test_rdb.cpp loads the file and compares its own manifest.
To keep the manifest small, a content longer than 200 characters is replaced
by "crc64:<hex of CRC-64 of the content>:<length>" (the unit test does the
same before comparing).

    /usr/bin/python3 tests/data/rdb/make_all_types_fixture.py
"""
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration"))
import harness  # noqa: E402
import test_dump_restore as t  # noqa: E402

NAME = "all-types-7.0.15"


def digest(line):
    head, sep, body = line.rpartition("\t")
    if not sep or len(body) <= 200:
        return line
    return f"{head}\tcrc64:{t.crc64(body.encode()):016x}:{len(body)}"


def main():
    tmp = tempfile.mkdtemp(prefix="rdb-fixture-")
    try:
        with harness.start_server(reference=True, extra_args=["--dir", tmp]) as s:
            with s.raw(timeout=60) as c:
                for cmd in t.dataset_commands():
                    if cmd[1] != "str:big":
                        assert not isinstance(c.command(*cmd), harness.RespError), cmd
                for cmd in t.random_commands(42, 200):
                    c.command(*cmd)
                c.command("SELECT", 7)
                for cmd in (["SET", "db7:ttl", "v"], ["PEXPIREAT", "db7:ttl", 4102444800000],
                            ["RPUSH", "db7:list", "a"], ["HSET", "db7:hash", "f", "v"],
                            ["PEXPIREAT", "db7:hash", 4102444800123]):
                    c.command(*cmd)
                c.command("SELECT", 0)
                c.command("FUNCTION", "LOAD", "#!lua name=mylib\n"
                          "redis.register_function('f1', function() return 1 end)")
                assert c.command("SAVE") == "OK"
        with harness.start_server(reference=True, extra_args=["--dir", tmp]) as s:
            with s.raw(timeout=60) as c:
                manifest = t.server_manifest(c)
        shutil.copyfile(os.path.join(tmp, "dump.rdb"), os.path.join(HERE, NAME + ".rdb.bin"))
        with open(os.path.join(HERE, NAME + ".manifest"), "w", encoding="ascii") as f:
            for line in manifest:
                f.write(digest(line) + "\n")
        print(f"{len(manifest)} lines, {os.path.getsize(os.path.join(HERE, NAME + '.rdb.bin'))} bytes")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
