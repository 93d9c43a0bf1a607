"""Differential test of the GEO commands: the same few hundred random GEOADD,
GEOPOS, GEODIST, GEOHASH, GEOSEARCH[STORE] and GEORADIUS[BYMEMBER][_RO]
commands are sent to a reference redis-server and to distcache (two threads,
so that STORE destinations are often on another shard than their source), and
every reply must be byte-for-byte identical: members and their order,
distances (4 decimals), coordinates (17 decimals), hashes and errors. Stored
results are compared with ZRANGE ... WITHSCORES. A second pass repeats a
sample over RESP3.
"""

import random

import harness

SEED = 20240611
CENTERS = [(13.361389, 38.115556), (-122.4194, 37.7749), (2.3522, 48.8566), (139.6917, 35.6895),
           (-58.3816, -34.6037), (151.2093, -33.8688), (179.9, 0.5), (-179.95, -10.0), (0.0, 0.0),
           (25.0, 84.9), (-40.0, -84.5), (100.0, 70.0)]
UNITS = ["m", "km", "mi", "ft", "M", "Km"]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.members = {}  # key -> list of member names ever added

    def coord(self):
        r = self.r
        c = r.random()
        if c < 0.6:
            lon, lat = r.choice(CENTERS)
            spread = r.choice([0.001, 0.05, 0.5, 3.0])
            lon = max(-180.0, min(180.0, lon + r.uniform(-spread, spread)))
            lat = max(-85.05112878, min(85.05112878, lat + r.uniform(-spread, spread)))
        elif c < 0.9:
            lon, lat = r.uniform(-180, 180), r.uniform(-85.05112878, 85.05112878)
        else:
            lon = r.choice([-180, 180, 0, -179.999999, 179.999999, r.uniform(-180, 180)])
            lat = r.choice([-85.05112878, 85.05112878, 0, 85.05, -85.05, r.uniform(-85, 85)])
        fmt = r.choice(["%.6f", "%.3f", "%.10f", "%r"])
        return fmt % lon, fmt % lat

    def key(self):
        return self.r.choice(["geo:a", "geo:b", "{geo}:c", "geo:big"])

    def dst(self):
        return self.r.choice(["dst:1", "dst:2", "{geo}:d", "geo:a"])

    def member(self, key):
        known = self.members.get(key)
        if known and self.r.random() < 0.9:
            return self.r.choice(known)
        return "m%d" % self.r.randrange(100000)

    def radius(self):
        r = self.r
        unit = r.choice(UNITS)
        scale = {"m": 1, "km": 1000, "mi": 1609.34, "ft": 0.3048}[unit.lower()]
        meters = r.choice([0, 10, 500, 5000, 50000, 300000, 1500000, 6000000, 20000000])
        meters *= r.uniform(0.5, 1.5)
        return "%.3f" % (meters / scale), unit

    def options(self, store_ok, search):
        r = self.r
        opts = []
        if r.random() < 0.3:
            opts.append("WITHDIST")
        if r.random() < 0.3:
            opts.append("WITHCOORD")
        if r.random() < 0.2:
            opts.append("WITHHASH")
        if r.random() < 0.5:
            opts.append(r.choice(["ASC", "DESC"]))
        if r.random() < 0.4:
            opts += ["COUNT", str(r.choice([1, 2, 3, 5, 10, 50]))]
            if r.random() < 0.3:
                opts.append("ANY")
        if store_ok and r.random() < 0.3:
            opts = [o for o in opts if not o.startswith("WITH")]
            if search:
                opts.append("STOREDIST") if r.random() < 0.5 else None
            else:
                opts += [r.choice(["STORE", "STOREDIST"]), self.dst()]
        r.shuffle(opts) if r.random() < 0.2 and "COUNT" not in opts else None
        return opts

    def geoadd(self):
        key = self.key()
        n = self.r.randint(1, 8 if key != "geo:big" else 40)
        args = ["GEOADD", key]
        if self.r.random() < 0.2:
            args.append(self.r.choice(["NX", "XX", "CH", "NX CH", "XX CH"]))
            args = args[:2] + args[2].split()
        for _ in range(n):
            lon, lat = self.coord()
            m = self.member(key) if self.r.random() < 0.3 else "m%d" % self.r.randrange(100000)
            self.members.setdefault(key, []).append(m)
            args += [lon, lat, m]
        return args

    def command(self):
        r = self.r
        c = r.random()
        key = self.key()
        if c < 0.25:
            return self.geoadd()
        if c < 0.32:
            return ["GEOPOS", key] + [self.member(key) for _ in range(r.randint(1, 4))]
        if c < 0.39:
            args = ["GEODIST", key, self.member(key), self.member(key)]
            if r.random() < 0.7:
                args.append(r.choice(UNITS + ["yd"]))
            return args
        if c < 0.45:
            return ["GEOHASH", key] + [self.member(key) for _ in range(r.randint(1, 4))]
        if c < 0.70:
            store = r.random() < 0.25
            args = ["GEOSEARCHSTORE", self.dst(), key] if store else ["GEOSEARCH", key]
            if r.random() < 0.5:
                args += ["FROMMEMBER", self.member(key)]
            else:
                args += ["FROMLONLAT", *self.coord()]
            if r.random() < 0.5:
                args += ["BYRADIUS", *self.radius()]
            else:
                w, unit = self.radius()
                h, _ = self.radius()
                args += ["BYBOX", w, h, unit]
            return args + self.options(store, True)
        if c < 0.85:
            name = r.choice(["GEORADIUS", "GEORADIUS_RO"])
            return [name, key, *self.coord(), *self.radius()] + self.options(name == "GEORADIUS", False)
        name = r.choice(["GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"])
        return [name, key, self.member(key), *self.radius()] + self.options(name == "GEORADIUSBYMEMBER", False)


# Malformed commands: every error path must answer as Redis does.
ERROR_CASES = [
    ["GEOADD", "geo:a", "200", "10", "x"],
    ["GEOADD", "geo:a", "10", "86", "x"],
    ["GEOADD", "geo:a", "abc", "10", "x"],
    ["GEOADD", "geo:a", "NX", "XX", "1", "2", "x"],
    ["GEOADD", "geo:a", "NX", "1", "2"],
    ["GEOADD", "geo:a", "CH", "CH", "CH"],
    ["GEODIST", "geo:a", "a", "b", "furlong"],
    ["GEODIST", "geo:a", "a", "b", "km", "x"],
    ["GEORADIUS", "geo:a", "15", "37", "-1", "km"],
    ["GEORADIUS", "geo:a", "15", "37", "x", "km"],
    ["GEORADIUS", "geo:a", "15", "37", "1", "xx"],
    ["GEORADIUS", "geo:a", "15", "37", "1", "km", "COUNT", "0"],
    ["GEORADIUS", "geo:a", "15", "37", "1", "km", "COUNT", "x"],
    ["GEORADIUS", "geo:a", "15", "37", "1", "km", "STORE"],
    ["GEORADIUS", "geo:a", "15", "37", "1", "km", "STORE", "d", "WITHDIST"],
    ["GEORADIUS", "geo:a", "15", "37", "1", "km", "ANY"],
    ["GEORADIUS_RO", "geo:a", "15", "37", "1", "km", "STORE", "d"],
    ["GEORADIUSBYMEMBER", "geo:a", "no-such-member", "1", "km"],
    ["GEORADIUSBYMEMBER", "nokey", "m", "abc", "km"],
    ["GEOSEARCH", "geo:a", "FROMMEMBER", "x", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km"],
    ["GEOSEARCH", "geo:a", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "BYBOX", "1", "1", "km"],
    ["GEOSEARCH", "geo:a", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "ANY"],
    ["GEOSEARCH", "geo:a", "BYRADIUS", "1", "km", "WITHDIST", "ASC"],
    ["geoSearch", "geo:a", "FROMLONLAT", "1", "2", "WITHDIST", "ASC"],
    ["GEOSEARCH", "geo:a", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "STORE", "d"],
    ["GEOSEARCH", "geo:a", "FROMMEMBER", "no-such-member", "BYRADIUS", "1", "km"],
    ["GEOSEARCH", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "1", "km"],
    ["GEOSEARCHSTORE", "dst:1", "nokey", "FROMMEMBER", "nope", "BYRADIUS", "1", "km"],
    ["GEOSEARCHSTORE", "dst:1", "geo:a", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "WITHHASH"],
    ["GEOSEARCH", "geo:a", "FROMLONLAT", "200", "1", "BYRADIUS", "1", "km"],
    ["GEOSEARCH", "geo:a", "FROMLONLAT", "1", "1", "BYBOX", "-1", "1", "km"],
    ["GEOSEARCH", "geo:a", "FROMLONLAT", "1", "1", "BYBOX", "x", "1", "km"],
    ["GEOSEARCH", "geo:a", "FROMLONLAT", "1", "1", "BYBOX", "1", "x", "km"],
    ["GEOSEARCH", "geo:a", "FROMLONLAT", "1", "1", "BYRADIUS", "x", "km"],
    ["GEOSEARCH", "geo:a", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "parsec"],
    ["SET", "str", "x"],
    ["GEOADD", "str", "1", "2", "x"],
    ["GEOPOS", "str", "x"],
    ["GEOSEARCH", "str", "FROMLONLAT", "1", "1", "BYRADIUS", "1", "km"],
    ["GEORADIUS", "str", "1", "1", "1", "km"],
]


class GeoDifferentialTest(harness.SideBySideTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.test = cls.server

    def connections(self, resp3=False):
        conns = [self.ref.raw(), self.test.raw()]
        for c in conns:
            self.addCleanup(c.close)
            c.command("FLUSHALL")
            if resp3:
                c.command("HELLO", "3")
        return conns

    def run_both(self, conns, args):
        replies = []
        for c in conns:
            c.send_command(*args)
            replies.append(c.read_reply_bytes())
        self.assertEqual(replies[0], replies[1], "command: %r" % (args,))
        return replies[0]

    def compare_key(self, conns, key):
        self.run_both(conns, ["ZRANGE", key, "0", "-1", "WITHSCORES"])
        self.run_both(conns, ["TYPE", key])

    def test_known_places(self):
        conns = self.connections()
        cmds = [
            ["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
            ["GEODIST", "Sicily", "Palermo", "Catania"],
            ["GEODIST", "Sicily", "Palermo", "Catania", "km"],
            ["GEOPOS", "Sicily", "Palermo", "Catania", "NonExisting"],
            ["GEOHASH", "Sicily", "Palermo", "Catania"],
            ["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH", "ASC"],
            ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "ASC", "WITHCOORD",
             "WITHDIST"],
            ["GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "300", "km", "STOREDIST"],
            ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
        ]
        for args in cmds:
            self.run_both(conns, args)

    def test_errors(self):
        conns = self.connections()
        self.run_both(conns, ["GEOADD", "geo:a", "13.361389", "38.115556", "Palermo"])
        for args in ERROR_CASES:
            self.run_both(conns, args)

    def random_session(self, seed, ops, resp3):
        conns = self.connections(resp3)
        g = Gen(seed)
        for _ in range(6):  # a populated start, one key beyond the listpack limit
            self.run_both(conns, g.geoadd())
        for _ in range(6):
            args = ["GEOADD", "geo:big"]
            for i in range(40):
                lon, lat = g.coord()
                args += [lon, lat, "b%d" % g.r.randrange(10 ** 6)]
            self.run_both(conns, args)
        for _ in range(ops):
            args = g.command()
            self.run_both(conns, args)
            if args[0] in ("GEOSEARCHSTORE", "GEORADIUS", "GEORADIUSBYMEMBER"):
                for k in ("dst:1", "dst:2", "{geo}:d", "geo:a"):
                    self.compare_key(conns, k)
        for k in ("geo:a", "geo:b", "{geo}:c", "geo:big", "dst:1", "dst:2", "{geo}:d"):
            self.compare_key(conns, k)

    def test_random_resp2(self):
        self.random_session(SEED, 400, resp3=False)

    def test_random_resp2_more_seeds(self):
        for seed in range(1, 4):
            self.random_session(SEED + seed, 150, resp3=False)

    def test_random_resp3(self):
        self.random_session(SEED + 100, 200, resp3=True)


if __name__ == "__main__":
    harness.main()
