#!/usr/bin/python3
"""Turns the raw results of benchmarks/bench.sh into Markdown tables and the
PASS/FAIL lines of the issue-9 targets.

    report.py RESULTS.tsv

RESULTS.tsv has one tab-separated record per line; the first field says what
it is (written by bench.sh):

    meta    KEY VALUE
    tput    TABLE SERVER TEST PIPELINE REQUESTS OPS CPU_US P50_MS P99_MS
    mem     KIND SERVER COUNT RSS_BEFORE_KB RSS_AFTER_KB USED_BEFORE USED_AFTER ENCODING
    lat     SERVER PHASE KEYS LOAD_S SAMPLES P50_US P99_US P999_US MAX_US MAX_AT_S OVER_1MS OVER_10MS LONGEST
    idle    SERVER THREADS CLIENTS SECONDS CPU_NS TICKS
    hop     PIPELINE KEY SHARD PLACEMENT REQUESTS OPS CPU_US P50_MS P99_MS THREAD_CPU
    section NAME LOAD_BEFORE LOAD_AFTER SECONDS

A measurement repeated (--repeat) appears several times: the report uses the
median of each column.
"""
import math
import statistics
import sys
from collections import OrderedDict, defaultdict

TEST_ORDER = ["set", "get", "incr", "lpush", "lpop", "sadd", "hset", "zadd", "mset"]
TEST_NAMES = {"mset": "MSET (10 keys)"}


def fnum(x, digits=2):
    if x is None:
        return "-"
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return "-"
    return f"{x:.{digits}f}"


def fint(x):
    return "-" if x is None else f"{x:,.0f}"


def geomean(values):
    values = [v for v in values if v is not None and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def table(headers, rows, align=None):
    """A Markdown table, padded so that it also reads well in a terminal."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    align = align or ["l"] + ["r"] * (len(headers) - 1)

    def line(values):
        out = []
        for v, w, a in zip(values, widths, align):
            out.append(v.ljust(w) if a == "l" else v.rjust(w))
        return "| " + " | ".join(out) + " |"

    sep = "|" + "|".join(("-" * (w + 1) + ":") if a == "r" else ("-" * (w + 2)) for w, a in zip(widths, align)) + "|"
    return "\n".join([line(headers), sep] + [line(r) for r in cells])


def verdict(ok):
    return "PASS" if ok else "FAIL"


class Results:
    def __init__(self, path):
        self.meta = OrderedDict()
        self.tput = defaultdict(list)   # (table, server, test, p) -> [(requests, ops, cpu, p50, p99)]
        self.mem = OrderedDict()        # (kind, server) -> record
        self.lat = OrderedDict()        # (server, phase) -> record
        self.idle = OrderedDict()       # (server, clients) -> record
        self.hop = defaultdict(list)    # (p, placement) -> [record]
        self.sections = []
        with open(path) as f:
            for raw in f:
                raw = raw.rstrip("\n")
                if not raw:
                    continue
                r = raw.split("\t")
                kind = r[0]
                if kind == "meta":
                    self.meta[r[1]] = r[2] if len(r) > 2 else ""
                elif kind == "tput":
                    self.tput[(r[1], r[2], r[3], int(r[4]))].append(
                        (int(r[5]), float(r[6]), float(r[7]), float(r[8]), float(r[9])))
                elif kind == "mem":
                    self.mem[(r[1], r[2])] = dict(count=int(r[3]), rss0=int(r[4]), rss1=int(r[5]),
                                                  used0=int(r[6]), used1=int(r[7]), encoding=r[8])
                elif kind == "lat":
                    self.lat[(r[1], r[2])] = dict(keys=int(r[3]), load_s=float(r[4]), samples=int(r[5]),
                                                  p50=float(r[6]), p99=float(r[7]), p999=float(r[8]),
                                                  max=float(r[9]), max_at=float(r[10]), over1=int(r[11]),
                                                  over10=int(r[12]), longest=r[13] if len(r) > 13 else "")
                elif kind == "idle":
                    self.idle[(r[1], r[3])] = dict(threads=r[2], clients=int(r[3]), seconds=float(r[4]),
                                                   cpu_ns=float(r[5]), ticks=int(r[6]),
                                                   switches=int(r[7]) if len(r) > 7 else None)
                elif kind == "hop":
                    self.hop[(int(r[1]), r[4])].append(dict(key=r[2], shard=r[3], requests=int(r[5]),
                                                            ops=float(r[6]), cpu=float(r[7]), p50=float(r[8]),
                                                            p99=float(r[9]), threads=r[10] if len(r) > 10 else ""))
                elif kind == "section":
                    self.sections.append(dict(name=r[1], load0=r[2], load1=r[3], seconds=r[4]))

    def tput_cell(self, table_name, server, test, p):
        rows = self.tput.get((table_name, server, test, p))
        if not rows:
            return None
        med = lambda i: statistics.median(x[i] for x in rows)  # noqa: E731
        return dict(ops=med(1), cpu=med(2), p50=med(3), p99=med(4), runs=len(rows), requests=rows[0][0])

    def tests_and_pipelines(self, table_name):
        keys = [k for k in self.tput if k[0] == table_name]
        tests = sorted({k[2] for k in keys}, key=lambda t: (TEST_ORDER.index(t) if t in TEST_ORDER else 99, t))
        pipelines = sorted({k[3] for k in keys})
        return tests, pipelines


def throughput_section(res, out, checks, table_name, base, ours, base_label, ours_label, title, with_targets):
    tests, pipelines = res.tests_and_pipelines(table_name)
    if not tests:
        return
    out.append(f"### {title}\n")
    headers = ["test", "P", f"{base_label} ops/s", f"{ours_label} ops/s", "ops ratio",
               f"{base_label} CPU µs/req", f"{ours_label} CPU µs/req", "CPU ratio",
               f"{base_label} p50 ms", f"{ours_label} p50 ms", f"{base_label} p99 ms", f"{ours_label} p99 ms"]
    rows = []
    geo = {}
    all_cpu = []
    for p in pipelines:
        ops_ratios, cpu_ratios = [], []
        for t in tests:
            b = res.tput_cell(table_name, base, t, p)
            o = res.tput_cell(table_name, ours, t, p)
            if b is None or o is None:
                continue
            orat = ratio(o["ops"], b["ops"])
            crat = ratio(b["cpu"], o["cpu"])
            ops_ratios.append((t, orat))
            cpu_ratios.append(crat)
            rows.append([TEST_NAMES.get(t, t.upper()), p, fint(b["ops"]), fint(o["ops"]), fnum(orat),
                         fnum(b["cpu"]), fnum(o["cpu"]), fnum(crat),
                         fnum(b["p50"], 3), fnum(o["p50"], 3), fnum(b["p99"], 3), fnum(o["p99"], 3)])
        g_ops = geomean([r for _, r in ops_ratios])
        g_cpu = geomean(cpu_ratios)
        all_cpu += cpu_ratios
        geo[p] = dict(ops=g_ops, cpu=g_cpu, ops_ratios=ops_ratios)
        rows.append([f"**geomean P{p}**", "", "", "", f"**{fnum(g_ops)}**", "", "", f"**{fnum(g_cpu)}**",
                     "", "", "", ""])
    g_all = geomean(all_cpu)
    if len(pipelines) > 1:
        rows.append(["**geomean all**", "", "", "", "", "", "", f"**{fnum(g_all)}**", "", "", "", ""])
    out.append(table(headers, rows))
    runs = {res.tput_cell(table_name, ours, t, p)["runs"] for t in tests for p in pipelines
            if res.tput_cell(table_name, ours, t, p)}
    reqs = sorted({res.tput_cell(table_name, ours, t, p)["requests"] for t in tests for p in pipelines
                   if res.tput_cell(table_name, ours, t, p)})
    out.append("")
    out.append(f"ops ratio = {ours_label}/{base_label} ops/s; CPU ratio = {base_label}/{ours_label} server CPU "
               f"per request (> 1: {ours_label} is cheaper); latencies as measured by redis-benchmark "
               f"(client side). Requests per run: {', '.join(f'{r:,}' for r in reqs)}; "
               f"{'median of ' + str(max(runs)) + ' runs' if max(runs) > 1 else 'one run'} per cell.")
    out.append("")
    if not with_targets:
        return
    if g_all is not None:
        per = ", ".join(f"P{p} {fnum(geo[p]['cpu'])}" for p in pipelines)
        checks.append((g_all >= 1.3, f"server CPU per request: Redis/distcache geomean {fnum(g_all)} "
                                     f"({per}); target >= 1.30"))
    if 16 in geo and geo[16]["ops"] is not None:
        worst_t, worst = min(geo[16]["ops_ratios"], key=lambda x: x[1] if x[1] is not None else 0)
        checks.append((geo[16]["ops"] >= 1.3, f"ops/s at P16: distcache/Redis geomean {fnum(geo[16]['ops'])}; "
                                               f"target >= 1.30"))
        below = [f"{TEST_NAMES.get(t, t.upper())} {fnum(r)}" for t, r in geo[16]["ops_ratios"]
                 if r is not None and r < 1.0]
        checks.append((not below, "ops/s at P16 never below Redis: "
                                  + (("below on " + ", ".join(below)) if below
                                     else f"lowest {TEST_NAMES.get(worst_t, worst_t.upper())} {fnum(worst)}")))
    b = res.tput_cell(table_name, base, "get", 1)
    o = res.tput_cell(table_name, ours, "get", 1)
    if b and o:
        checks.append((o["p99"] <= b["p99"], f"p99 of GET at P1: distcache {fnum(o['p99'], 3)} ms, "
                                             f"Redis {fnum(b['p99'], 3)} ms; target <= Redis"))


def hop_section(res, out):
    if not res.hop:
        return
    out.append("### Cross-thread hop (distcache --threads 2, redis-benchmark -c 1, GET of one key)\n")
    headers = ["P", "key owned by", "key", "runs", "ops/s", "CPU µs/req", "p50 ms", "p99 ms",
               "per run: CPU share and wake-ups per request of main/thread/thread"]
    rows = []
    pipelines = sorted({p for p, _ in res.hop})
    for p in pipelines:
        cells = {}
        for placement in ("own", "other"):
            recs = res.hop.get((p, placement), [])
            if not recs:
                continue
            med = lambda k: statistics.median(r[k] for r in recs)  # noqa: E731
            cells[placement] = dict(cpu=med("cpu"), ops=med("ops"), p50=med("p50"))
            keys = ", ".join(sorted({r["key"] for r in recs}))
            splits = "; ".join(r["threads"].replace("main/threads: ", "") for r in recs)
            rows.append([p, "connection's thread" if placement == "own" else "the other thread",
                         keys, len(recs), fint(med("ops")), fnum(med("cpu")), fnum(med("p50"), 3),
                         fnum(med("p99"), 3), splits])
        if "own" in cells and "other" in cells:
            d = cells["other"]["cpu"] - cells["own"]["cpu"]
            rows.append([p, "**hop cost**", "", "", "", f"**{d:+.2f}** ({fnum(ratio(cells['other']['cpu'], cells['own']['cpu']))}x)",
                         f"{cells['other']['p50'] - cells['own']['p50']:+.3f}", "", ""])
    out.append(table(headers, rows, align=["r", "l", "l", "r", "r", "r", "r", "r", "l"]))
    out.append("")
    out.append("Medians over the runs. The owner of a key is CRC16(key) mod threads; a connection's thread "
               "is whichever one it was handed to round-robin, so each run is classified from the per-thread "
               "wake-ups: the other shard thread wakes about once per request when the GETs are sent to it, "
               "and only for its cron when they are not. Server and redis-benchmark share CPUs 0-1.")
    out.append("")


def memory_section(res, out, checks):
    if not res.mem:
        return
    out.append("### Memory\n")
    headers = ["data set", "elements", "Redis RSS B/elem", "distcache RSS B/elem", "RSS ratio",
               "Redis used_memory B/elem", "distcache used_memory B/elem", "Redis encoding", "distcache encoding"]
    rows = []
    kinds = []
    for kind, _ in res.mem:
        if kind not in kinds:
            kinds.append(kind)
    labels = {"strings": "SET key:N (16-byte values)", "hashes": "hashes of 100 fields",
              "sets": "sets of 100 members", "zsets": "zsets of 100 members"}
    for kind in kinds:
        r = res.mem.get((kind, "redis"))
        d = res.mem.get((kind, "distcache"))

        def per(rec, a, b):
            if rec is None:
                return None
            return (rec[b] - rec[a]) * (1024 if a == "rss0" else 1) / rec["count"]

        r_rss, d_rss = per(r, "rss0", "rss1"), per(d, "rss0", "rss1")
        r_used, d_used = per(r, "used0", "used1"), per(d, "used0", "used1")
        rat = ratio(d_rss, r_rss)
        count = (r or d)["count"]
        rows.append([labels.get(kind, kind), f"{count:,}", fnum(r_rss, 1), fnum(d_rss, 1), fnum(rat),
                     fnum(r_used, 1), fnum(d_used, 1), r["encoding"] if r else "-", d["encoding"] if d else "-"])
        if rat is not None:
            limit = 0.7 if kind == "strings" else 1.0
            what = "bytes per key" if kind == "strings" else f"bytes per element of {kind}"
            checks.append((rat <= limit, f"memory, {what}: distcache/Redis RSS growth {fnum(rat)} "
                                         f"({fnum(d_rss, 1)} vs {fnum(r_rss, 1)} B); target <= {limit:.2f}"))
    out.append(table(headers, rows))
    out.append("")
    out.append("RSS growth = VmRSS after loading minus VmRSS of the freshly started, empty server, divided "
               "by the number of keys (strings) or elements (collections: 10,000 keys x 100 elements). "
               "used_memory is each server's own INFO accounting (Redis: jemalloc's allocated bytes; distcache: "
               "glibc's, from mallinfo2).")
    out.append("")


def latency_section(res, out, checks):
    if not res.lat:
        return
    out.append("### Latency while the key table grows (prober: GET at pipeline 1, one connection)\n")
    headers = ["server", "phase", "keys loaded", "load s", "round trips", "p50 µs", "p99 µs", "p99.9 µs",
               "max ms", "max at s", "> 1 ms", "> 10 ms", "longest round trips"]
    rows = []
    for (server, phase), r in res.lat.items():
        rows.append([server, phase, f"{r['keys']:,}", fnum(r["load_s"], 1), f"{r['samples']:,}", fnum(r["p50"], 1),
                     fnum(r["p99"], 1), fnum(r["p999"], 1), fnum(r["max"] / 1000, 2), fnum(r["max_at"], 1),
                     r["over1"], r["over10"], r["longest"]])
        if server == "distcache" and phase == "grow":
            idle = res.lat.get((server, "idle"))
            over = res.lat.get((server, "overwrite"))
            context = []
            if over:
                context.append(f"{fnum(over['max'] / 1000, 2)} ms while overwriting the same keys")
            if idle:
                context.append(f"{fnum(idle['max'] / 1000, 2)} ms with the server idle")
            note = ""
            if r["max"] > 10000 and idle and idle["max"] > 10000:
                note = " (inconclusive: the machine itself pauses over 10 ms, see the idle phase)"
            checks.append((r["max"] <= 10000, f"latency: longest round trip while {r['keys']:,} keys load: "
                                              f"{fnum(r['max'] / 1000, 2)} ms ({'; '.join(context)}); "
                                              f"target <= 10 ms{note}"))
    out.append(table(headers, rows, align=["l", "l"] + ["r"] * 11 + ["l"]))
    out.append("")
    out.append("idle = the prober alone against the empty server (the machine's and the prober's own "
               "jitter); grow = while `redis-cli --pipe` loads SET key:N for N new keys, so the key table "
               "grows from 0 to N; overwrite = while the same N keys are loaded again (the same work "
               "without growth). A pause seen in 'grow' only is the table's growth. 'max at s' counts "
               "from the prober's start; 'load s' is the loader's duration.")
    out.append("")


def idle_section(res, out, checks):
    if not res.idle:
        return
    out.append("### Idle CPU\n")
    headers = ["server", "threads", "idle clients", "seconds", "CPU ms", "CPU % of one core", "wake-ups/s"]
    rows = []
    for (server, clients), r in res.idle.items():
        pct = r["cpu_ns"] / 1e9 / r["seconds"] * 100
        wake = None if r["switches"] is None else r["switches"] / r["seconds"]
        rows.append([server, r["threads"], clients, fnum(r["seconds"], 1), fnum(r["cpu_ns"] / 1e6, 2), fnum(pct, 3),
                     fnum(wake, 1)])
        if server == "distcache":
            ref = res.idle.get(("redis", clients))
            ref_text = ""
            if ref:
                ref_text = f", Redis {fnum(ref['cpu_ns'] / 1e9 / ref['seconds'] * 100, 3)}%"
            checks.append((pct <= 0.5, f"idle CPU, distcache --threads {r['threads']} with {clients} idle clients: "
                                       f"{fnum(r['cpu_ns'] / 1e6, 2)} ms in {fnum(r['seconds'], 0)} s "
                                       f"({fnum(pct, 3)}% of a core{ref_text}); target ~0 (< 0.5%, "
                                       f"what top shows as 0.0-0.3%)"))
    out.append(table(headers, rows))
    out.append("")
    out.append("CPU = on-CPU time of all the server's threads (/proc/PID/task/*/schedstat, ns), measured "
               "after the start-up wait; wake-ups = context switches of all its threads (each timer or "
               "event wake-up is one). Redis runs its cron 10 times a second (hz 10); a busy-polling "
               "thread would show ~100% and thousands of wake-ups or none at all.")
    out.append("")


def main(argv):
    res = Results(argv[1])
    out, checks = [], []
    m = res.meta
    out.append(f"## Run of {m.get('date', '?')}\n")
    for key, label in [("mode", "mode"), ("distcache", "distcache"), ("commit", "source tree at run time"),
                       ("redis", "reference"), ("machine", "machine"), ("load_start", "load average at start"),
                       ("load_end", "load average at end"), ("duration", "duration")]:
        if key in m:
            out.append(f"- {label}: {m[key]}")
    if res.sections:
        out.append("- load average (1/5/15 min) before -> after each section: "
                   + "; ".join(f"{s['name']} {s['load0']} -> {s['load1']} ({s['seconds']} s)" for s in res.sections))
    out.append("")
    throughput_section(res, out, checks, "main", "redis", "distcache", "Redis", "distcache",
                       "Throughput, one core each (server on CPU 0, redis-benchmark on CPU 1; "
                       "50 clients, -r 100000, -d 16)", True)
    throughput_section(res, out, checks, "threads", "t1", "t2", "t1", "t2",
                       "distcache --threads 2 (t2: server on CPUs 0-1 and redis-benchmark sharing them) next "
                       "to --threads 1 (t1: server on CPU 0, redis-benchmark on CPU 1)", False)
    hop_section(res, out)
    memory_section(res, out, checks)
    latency_section(res, out, checks)
    idle_section(res, out, checks)
    if checks:
        out.append("### Issue-9 targets\n")
        out.append("```")
        for ok, text in checks:
            out.append(f"{verdict(ok)}  {text}")
        out.append("```")
        out.append("")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
