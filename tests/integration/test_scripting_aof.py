"""A script that wrote and then runs past busy-reply-threshold, ended by
SHUTDOWN NOSAVE, with the AOF on (appendfsync always and everysec): Redis
propagates a script's effects only when it completes, so after a restart the
data is as it was before the script (no partial writes). Compared with
redis-server 7.0; distcache runs with --threads 2, the script either on its
keys' shard (learned to keep to its declared keys) or as a global
transaction (first run), and as a function.
"""

import harness
from test_aof import AofTestBase
from test_scripting_busy import DEADLINE, SHARDS, key_on, wait_busy

WRITE_THEN_SPIN = ("for i, k in ipairs(KEYS) do redis.call('incr', k) end "
                   "if ARGV[1] == 'spin' then while true do end end return 1")
LIBRARY = ("#!lua name=spinlib\n"
           "redis.register_function('write_then_spin', function(keys, args) "
           + WRITE_THEN_SPIN.replace("KEYS", "keys").replace("ARGV", "args") + " end)")


class ShutdownNosaveDuringScript(AofTestBase):

    def run_case(self, make, fsync, script):
        """Returns DBSIZE and the keys' values after SHUTDOWN NOSAVE during the script and a restart."""
        workdir = self.new_dir()
        args = ["--appendonly", "yes", "--appendfsync", fsync, "--busy-reply-threshold", "100"]
        inst = make(workdir, *args).start()
        keys = [key_on(0, "k"), key_on(1, "k")]
        client = inst.client()
        for k in keys:
            client.set(k, "0")
        client.function_load(LIBRARY)
        command, declared = script
        declared = keys[:declared]
        for _ in range(3):  # distcache learns that the script keeps to its declared keys
            client.execute_command(*self.script_command(command, declared, "no"))
        client.close()
        with inst.server.raw(timeout=DEADLINE) as runner, inst.server.raw(timeout=DEADLINE) as other:
            if command == "EXEC":  # the script between two writes of the other shard's key
                for queued in (["MULTI"], ["INCR", keys[1]], self.script_command(command, declared, "spin"),
                               ["INCR", keys[1]], ["EXEC"]):
                    runner.send_command(*queued)
            else:
                runner.send_command(*self.script_command(command, declared, "spin"))
            wait_busy(other)
            inst.server.exit_expected = True
            other.send_command("SHUTDOWN", "NOSAVE")
            inst.server.proc.wait(timeout=DEADLINE)
        inst.start()
        client = inst.client()
        data = [client.dbsize()] + [client.get(k) for k in keys]
        client.close()
        inst.stop()
        return data

    @staticmethod
    def script_command(command, keys, mode):
        if command == "FCALL":
            return ["FCALL", "write_then_spin", len(keys), *keys, mode]
        return ["EVAL", WRITE_THEN_SPIN, len(keys), *keys, mode]

    def test_no_partial_writes_after_restart(self):
        # Declared keys on one shard or both (a global transaction); EVAL inside EXEC.
        scripts = [("EVAL", 1), ("EVAL", 2), ("FCALL", 1), ("EXEC", 1)]
        for fsync in ("always", "everysec"):
            for script in scripts:
                with self.subTest(fsync=fsync, script=script):
                    ours = self.run_case(self.ours, fsync, script)
                    ref = self.run_case(self.redis, fsync, script)
                    self.assertEqual(ours, ref)
                    expected = [b"3"] * script[1] + [b"0"] * (SHARDS - script[1])  # the 3 completed runs
                    self.assertEqual(ours, [SHARDS] + expected)


if __name__ == "__main__":
    harness.main()
