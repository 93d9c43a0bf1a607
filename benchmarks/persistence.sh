#!/usr/bin/env bash
# The issue-4 persistence measurements: what a BGSAVE of a large data set
# costs in memory and write latency, and the write throughput of the AOF
# with appendfsync always (and everysec), distcache against redis-server 7.0
# (whose BGSAVE forks) on this machine.
#
# Usage: benchmarks/persistence.sh [options]
#
#   --distcache PATH   server to measure (default: build/distcache-server)
#   --redis PATH       reference server (default: /usr/bin/redis-server)
#   --quick            short smoke run (128 MB data set, small request counts)
#   --only LIST        run only these sections (comma-separated):
#                        bgsave  fill each server to --dataset-mb of RSS with
#                                SET key:N <200 bytes>; then BGSAVE while a
#                                SET load (50 clients, pipeline 1) overwrites
#                                the same keys: peak extra memory (Pss of the
#                                server plus its fork child, sampled every
#                                50 ms) and write latency, against the same
#                                load without BGSAVE (control)
#                        aof     redis-benchmark SET, 50 clients, pipeline 1,
#                                -r 100000 -d 16 with appendonly yes and
#                                appendfsync always, then everysec: ops/s
#   --dataset-mb N     data set size, MiB of Redis RSS (default 2048; quick 128)
#   --value-size B     bytes per value in the data set (default 200)
#   --threads LIST     distcache --threads for the bgsave section, e.g. 1,2
#                      (default 1; the aof section uses the first one)
#   --rounds K         measure every pair K times, the servers alternating and
#                      which goes first alternating too (default 2, quick 1)
#   --aof-requests N   redis-benchmark -n of the aof section (default 200000;
#                      quick 20000)
#   --clients N        redis-benchmark -c (default 50)
#   --server-cpus L    CPUs of the servers (default 0); a Redis fork child and
#                      distcache's snapshot writer thread run there too
#   --bench-cpus L     CPUs of redis-benchmark, the loader and the memory
#                      sampler (default 1)
#   --results FILE     also keep the raw results (TSV) in FILE
#   --report FILE      only print the report of a results file kept earlier
#
# The report (Markdown) goes to standard output, progress to standard error.
# Every server runs on a free port with its own temporary --dir, removed at
# the end with the rest of the work directory (which also holds the generated
# data set: about 1.2x --dataset-mb of disk). Memory: the bgsave section keeps
# both servers loaded at once, so it needs about 3x --dataset-mb of free RAM
# (plus up to one more while Redis's fork child copies pages). Not part of
# the test suite: see docs/performance.md, section "Persistence".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

DISTCACHE="$REPO_ROOT/build/distcache-server"
REDIS=/usr/bin/redis-server
QUICK=0
ONLY=""
DATASET_MB=""
VALUE_SIZE=200
THREADS_LIST=1
ROUNDS=""
AOF_REQUESTS=""
CLIENTS=50
SERVER_CPUS=0
BENCH_CPUS=1
RESULTS_COPY=""
ALL_SECTIONS="bgsave aof"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --distcache) DISTCACHE="$2"; shift 2 ;;
    --redis) REDIS="$2"; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --only) ONLY="$2"; shift 2 ;;
    --dataset-mb) DATASET_MB="$2"; shift 2 ;;
    --value-size) VALUE_SIZE="$2"; shift 2 ;;
    --threads) THREADS_LIST="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --aof-requests) AOF_REQUESTS="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --server-cpus) SERVER_CPUS="$2"; shift 2 ;;
    --bench-cpus) BENCH_CPUS="$2"; shift 2 ;;
    --results) RESULTS_COPY="$2"; shift 2 ;;
    --report) REPORT_ONLY="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "persistence.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

SECTIONS=${ONLY//,/ }
SECTIONS=${SECTIONS:-$ALL_SECTIONS}
for s in $SECTIONS; do
  [[ " $ALL_SECTIONS " == *" $s "* ]] || { echo "persistence.sh: unknown section $s (sections: $ALL_SECTIONS)" >&2; exit 2; }
done
wants() { [[ " $SECTIONS " == *" $1 "* ]]; }

if (( QUICK )); then
  DATASET_MB=${DATASET_MB:-128} ROUNDS=${ROUNDS:-1} AOF_REQUESTS=${AOF_REQUESTS:-20000}
else
  DATASET_MB=${DATASET_MB:-2048} ROUNDS=${ROUNDS:-2} AOF_REQUESTS=${AOF_REQUESTS:-200000}
fi
# Redis 7.0 needs about value + 100 bytes per key of this shape (value and
# key sds, dictEntry, robj, hash table slot, jemalloc size classes).
KEYS=$(( DATASET_MB * 1048576 / (VALUE_SIZE + 100) ))
SAMPLE_INTERVAL=0.05

report() {   # results.tsv -> Markdown on stdout
  "$PYTHON" - "$1" <<'EOF'
import statistics, sys
from collections import defaultdict

rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
meta = [(r[1], r[2]) for r in rows if r[0] == "meta"]
sections = [r for r in rows if r[0] == "section"]
# bg: server round phase keys n rps p50 p99 max bgsave_s base_kb peak_kb extra_kb peak_rss_kb load_s children fork_us
bg = [r for r in rows if r[0] == "bg"]
aof = [r for r in rows if r[0] == "aof"]
ds = {r[1]: r[2:] for r in rows if r[0] == "dataset"}

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

def f(x, fmt="{:.2f}"):
    return "-" if x is None else fmt.format(x)

def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b

print("## Persistence measurements\n")
for k, v in meta:
    print(f"- {k}: {v}")
for s in sections:
    print(f"- section {s[1]}: load average {s[2]} at the start, {s[3]} at the end, {s[4]} s")
print()

if bg:
    servers = list(dict.fromkeys(r[1] for r in bg))
    print("### BGSAVE of the data set while 50 clients overwrite its keys (SET, pipeline 1)\n")
    print("Data set per server (after loading, before any BGSAVE):\n")
    print("| server | keys | RSS MB | Pss MB | used_memory MB |")
    print("|---|---:|---:|---:|---:|")
    for s in servers:
        if s in ds:
            keys, rss, pss, used = ds[s]
            print(f"| {s} | {int(keys):,} | {int(rss)/1024:.0f} | {int(pss)/1024:.0f} | {int(used or 0)/1048576:.0f} |")
    print()
    print("Every measurement (extra = peak minus the first sample of the same run; Redis: Pss of parent + fork child):\n")
    print("| server | round | run | requests | ops/s | p50 ms | p99 ms | max ms | BGSAVE s | load s | base MB | peak MB | extra MB | extra % | fork ms |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in bg:
        s, rnd, ph, keys, n, rps, p50, p99, mx, dur, base, peak, extra, prss, loads, kids = r[1:17]
        fork = r[17] if len(r) > 17 and r[17] not in ("", "-") else None
        print(f"| {s} | {rnd} | {ph} | {n} | {rps} | {p50} | {p99} | {mx} | {dur} | {loads} | "
              f"{int(base)/1024:.0f} | {int(peak)/1024:.0f} | {int(extra)/1024:.1f} | {100*int(extra)/max(1,int(base)):.1f} | "
              f"{f(None if fork is None else int(fork)/1000, '{:.1f}')} |")
    print()
    def col(s, ph, i):
        return med([float(r[i]) for r in bg if r[1] == s and r[3] == ph and r[i] not in ("", "-")])
    print("Medians over the rounds:\n")
    print("| server | BGSAVE s (idle) | BGSAVE s (under load) | extra MB (idle BGSAVE) | extra MB under load | extra % of data set | extra MB control (no BGSAVE) | p50 ms control / BGSAVE | p99 ms control / BGSAVE | max ms control / BGSAVE | ops/s control / BGSAVE |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    summary = {}
    for s in servers:
        d = dict(
            dur_idle=col(s, "idle", 10), dur=col(s, "bgsave", 10),
            ex_idle=col(s, "idle", 13), ex=col(s, "bgsave", 13), ex_ctl=col(s, "control", 13),
            base=col(s, "bgsave", 11),
            p50c=col(s, "control", 7), p50b=col(s, "bgsave", 7),
            p99c=col(s, "control", 8), p99b=col(s, "bgsave", 8),
            mxc=col(s, "control", 9), mxb=col(s, "bgsave", 9),
            rpsc=col(s, "control", 6), rpsb=col(s, "bgsave", 6))
        summary[s] = d
        pct = None if d["ex"] is None or not d["base"] else 100 * d["ex"] / d["base"]
        mb = lambda x: None if x is None else x / 1024
        print(f"| {s} | {f(d['dur_idle'],'{:.1f}')} | {f(d['dur'],'{:.1f}')} | {f(mb(d['ex_idle']),'{:.0f}')} | "
              f"{f(mb(d['ex']),'{:.0f}')} | {f(pct,'{:.1f}')}% | {f(mb(d['ex_ctl']),'{:.0f}')} | "
              f"{f(d['p50c'],'{:.3f}')} / {f(d['p50b'],'{:.3f}')} | {f(d['p99c'],'{:.3f}')} / {f(d['p99b'],'{:.3f}')} | "
              f"{f(d['mxc'],'{:.1f}')} / {f(d['mxb'],'{:.1f}')} | {f(d['rpsc'],'{:,.0f}')} / {f(d['rpsb'],'{:,.0f}')} |")
    print()
    if "redis" in summary:
        rd = summary["redis"]
        for s in servers:
            if s == "redis":
                continue
            d = summary[s]
            print(f"- {s} / redis: extra memory under load {f(ratio(d['ex'], rd['ex']))}, "
                  f"p99 during BGSAVE {f(ratio(d['p99b'], rd['p99b']))}, "
                  f"max during BGSAVE {f(ratio(d['mxb'], rd['mxb']))}, "
                  f"BGSAVE duration under load {f(ratio(d['dur'], rd['dur']))}, "
                  f"ops/s during BGSAVE {f(ratio(d['rpsb'], rd['rpsb']))}")
        print()

if aof:
    print("### AOF: redis-benchmark -t set -c 50 -P 1 -r 100000 -d 16\n")
    print("| appendfsync | server | round | requests | ops/s | p50 ms | p99 ms | max ms | AOF bytes |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in aof:
        mode, s, rnd, n, rps, p50, p99, mx, size = r[1:10]
        print(f"| {mode} | {s} | {rnd} | {n} | {rps} | {p50} | {p99} | {mx} | {int(size):,} |")
    print()
    print("Medians:\n")
    print("| appendfsync | redis ops/s | distcache ops/s | distcache / redis | redis p99 ms | distcache p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for mode in dict.fromkeys(r[1] for r in aof):
        sv = [s for s in dict.fromkeys(r[2] for r in aof if r[1] == mode)]
        get = lambda s, i: med([float(r[i]) for r in aof if r[1] == mode and r[2] == s])
        dc = [s for s in sv if s != "redis"]
        d = dc[0] if dc else None
        rr, dr = get("redis", 5), (get(d, 5) if d else None)
        print(f"| {mode} | {f(rr,'{:,.0f}')} | {f(dr,'{:,.0f}')} | {f(ratio(dr, rr))} | "
              f"{f(get('redis', 7),'{:.3f}')} | {f(get(d, 7) if d else None,'{:.3f}')} |")
    print()
EOF
}

if [[ -n "${REPORT_ONLY:-}" ]]; then report "$REPORT_ONLY"; exit 0; fi

require_tools redis-benchmark redis-cli taskset
[[ -x "$DISTCACHE" ]] || die "distcache binary not found: $DISTCACHE (build it, or pass --distcache)"
[[ -x "$REDIS" ]] || die "redis-server not found: $REDIS"

bench_init persistence
RESULTS="$WORKDIR/results.tsv"
: >"$RESULTS"
record() { local IFS=$'\t'; echo "$*" >>"$RESULTS"; }

SECTION_NAME="" SECTION_LOAD="" SECTION_START=0
section_begin() {
  SECTION_NAME="$1" SECTION_LOAD=$(load_average) SECTION_START=$SECONDS
  note "== $1 (load average $SECTION_LOAD)"
}
section_end() { record section "$SECTION_NAME" "$SECTION_LOAD" "$(load_average)" $((SECONDS - SECTION_START)); }

RUN_START=$SECONDS
commit=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$REPO_ROOT" status --porcelain 2>/dev/null | grep -vc '^??' || true)
record meta date "$(date '+%Y-%m-%d %H:%M:%S %Z')"
mode_bgsave="" mode_aof=""
wants bgsave && mode_bgsave="; bgsave: data set $DATASET_MB MiB target ($KEYS keys x $VALUE_SIZE-byte values), distcache --threads $THREADS_LIST"
wants aof && mode_aof="; aof: $AOF_REQUESTS requests per run, distcache --threads ${THREADS_LIST%%,*}"
record meta mode "$( ((QUICK)) && echo quick || echo full ); sections: $SECTIONS; rounds $ROUNDS$mode_bgsave$mode_aof; server CPUs $SERVER_CPUS, client CPUs $BENCH_CPUS"
record meta distcache "$DISTCACHE (built $(date -r "$DISTCACHE" '+%Y-%m-%d %H:%M'))"
record meta commit "$commit of $REPO_ROOT ($dirty files modified in the working tree)"
record meta redis "$("$REDIS" --version | awk '{ print $3, $6 }')"
record meta machine "$(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/^MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo), $(uname -sr), THP $(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo '?'), disk of $WORKDIR: $(df -P "$WORKDIR" | awk 'NR == 2 { print $1 }')"
record meta load_start "$(load_average) ($(uptime | sed 's/^ *//'))"

# A server with its own directory for its files (later options win over
# start_server's --dir).
start_persist_server() {   # label cpus binary args...
  local label="$1" cpus="$2" bin="$3"; shift 3
  mkdir -p "$WORKDIR/dir-$label"
  start_server "$label" "$cpus" "$bin" --dir "$WORKDIR/dir-$label" "$@"
}

# The same for a server that loads a large dump.rdb at start-up: waits
# (up to 10 minutes) until it answers PING with PONG.
start_loading_server() {   # label cpus binary args...
  local label="$1" cpus="$2" bin="$3"; shift 3
  local port; port=$(free_port)
  local log="$WORKDIR/$label.log" t0=$SECONDS
  taskset -c "$cpus" "$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$WORKDIR/dir-$label" "$@" >"$log" 2>&1 &
  local pid=$!
  SRV_PID[$label]=$pid SRV_PORT[$label]=$port
  until [[ "$(redis-cli -p "$port" PING 2>/dev/null)" == "PONG" ]]; do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "$bin exited during start-up"; }
    (( SECONDS < t0 + 600 )) || { cat "$log" >&2; die "$bin did not answer PING within 600 s"; }
    sleep 0.2
  done
  note "   $label answered PING after $((SECONDS - t0)) s"
}

pss_kb() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup"; }

# redis-benchmark in the background; bench_collect parses its --csv row.
BG_BENCH_PID=""
bench_start() {   # port out-file redis-benchmark-args...
  local port="$1" out="$2"; shift 2
  taskset -c "$BENCH_CPUS" redis-benchmark -p "$port" --csv "$@" >"$out" 2>"$out.err" &
  BG_BENCH_PID=$!
}
BENCH_MAX="" BENCH_SECONDS=""
bench_collect() {   # out-file -> BENCH_RPS BENCH_P50 BENCH_P99 BENCH_MAX
  wait "$BG_BENCH_PID" || { cat "$1" "$1.err" >&2; die "redis-benchmark failed"; }
  if grep -qiE 'error|WRONGTYPE' "$1.err"; then cat "$1.err" >&2; die "redis-benchmark reported errors"; fi
  # "test","rps","avg","min","p50","p95","p99","max"
  local row; row=$(awk 'header && !done { print; done = 1 } /^"test","rps"/ { header = 1 }' "$1")
  BENCH_RPS=$(awk -F'","' '{ printf "%.0f", $2 }' <<<"$row")
  BENCH_P50=$(awk -F'","' '{ print $5 }' <<<"$row")
  BENCH_P99=$(awk -F'","' '{ print $7 }' <<<"$row")
  BENCH_MAX=$(awk -F'","' '{ gsub(/"/, "", $8); print $8 }' <<<"$row")
  [[ -n "$BENCH_RPS" && -n "$BENCH_MAX" ]] || { cat "$1" "$1.err" >&2; die "cannot parse redis-benchmark output"; }
}

SAMPLER_PID=""
sampler_start() {   # pid out-file
  taskset -c "$BENCH_CPUS" "$PYTHON" "$BENCH_LIB_DIR/mem_sampler.py" "$1" --interval "$SAMPLE_INTERVAL" \
    --trace "$2.trace" >"$2" 2>&1 &
  SAMPLER_PID=$!
  local deadline=$((SECONDS + 10))
  until [[ -s "$2.trace" ]]; do
    (( SECONDS < deadline )) || die "memory sampler did not start"
    sleep 0.02
  done
}
declare -A MEM=()
sampler_stop() {   # out-file -> MEM[first] MEM[peak] MEM[peak_rss] ...
  kill -TERM "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" || true
  local line kv; line=$(grep '^mem ' "$1") || { cat "$1" >&2; die "memory sampler printed no summary"; }
  MEM=()
  for kv in ${line#mem }; do MEM[${kv%%=*}]=${kv#*=}; done
}

bgsave_in_progress() {   # port pid: 0 when a BGSAVE (or its fork child) is still running
  local v; v=$(info_field "$1" rdb_bgsave_in_progress)
  [[ "$v" == 1 ]] && return 0
  [[ -n "$(cat /proc/"$2"/task/*/children 2>/dev/null | tr -d ' \n')" ]]
}

# One measured run. phase: control (the load, no BGSAVE), bgsave (BGSAVE
# with the load started right after it), idle (BGSAVE alone).
run_phase() {   # label phase round requests
  local label="$1" phase="$2" round="$3" n="$4"
  local port=${SRV_PORT[$label]} pid=${SRV_PID[$label]} out="$WORKDIR/run-$label-$phase-$round"
  local t0 t_end dur="-" loads="-" rps="-" p50="-" p99="-" mx="-" fork_us="-"
  sampler_start "$pid" "$out.mem"
  sleep 0.3
  t0=$(date +%s.%N)
  if [[ $phase != control ]]; then
    local reply; reply=$(redis-cli -p "$port" BGSAVE 2>&1)
    [[ "$reply" == *"started"* ]] || die "$label: BGSAVE replied: $reply"
  fi
  if [[ $phase != idle ]]; then
    bench_start "$port" "$out.bench" -t set -c "$CLIENTS" -P 1 -n "$n" -r "$KEYS" -d "$VALUE_SIZE"
  fi
  if [[ $phase != control ]]; then
    local bench_done=""
    while bgsave_in_progress "$port" "$pid"; do
      if [[ -n "$BG_BENCH_PID" && -z "$bench_done" ]] && ! kill -0 "$BG_BENCH_PID" 2>/dev/null; then
        bench_done=$(date +%s.%N)
      fi
      sleep 0.02
    done
    t_end=$(date +%s.%N)
    dur=$(awk -v a="$t0" -v b="$t_end" 'BEGIN { printf "%.2f", b - a }')
    local status; status=$(info_field "$port" rdb_last_bgsave_status)
    [[ "$status" == ok ]] || die "$label: BGSAVE failed (rdb_last_bgsave_status:$status); see $WORKDIR/$label.log"
    fork_us=$(info_field "$port" latest_fork_usec)
  fi
  # Memory: of a BGSAVE run until the BGSAVE is over (its load may go on a
  # little longer), of a control run until its load is over.
  [[ $phase == control ]] || sampler_stop "$out.mem"
  if [[ $phase != idle ]]; then
    bench_collect "$out.bench"
    [[ $phase != control ]] || sampler_stop "$out.mem"
    local t_bench; t_bench=$(date +%s.%N)
    [[ $phase == bgsave && -n "${bench_done:-}" ]] && t_bench=$bench_done
    loads=$(awk -v a="$t0" -v b="$t_bench" 'BEGIN { printf "%.2f", b - a }')
    rps=$BENCH_RPS p50=$BENCH_P50 p99=$BENCH_P99 mx=$BENCH_MAX
    BG_BENCH_PID=""
  fi
  local extra=$(( MEM[peak_kb] - MEM[first_kb] ))
  record bg "$label" "$round" "$phase" "$KEYS" "$n" "$rps" "$p50" "$p99" "$mx" "$dur" "${MEM[first_kb]}" \
    "${MEM[peak_kb]}" "$extra" "${MEM[peak_rss_kb]}" "$loads" "${MEM[max_children]}" "${fork_us:--}"
  note "   $label round $round $phase: BGSAVE $dur s, load $loads s, memory ${MEM[first_kb]} -> peak ${MEM[peak_kb]} kB (+$((extra / 1024)) MB, children ${MEM[max_children]}), $rps ops/s p50 $p50 p99 $p99 max $mx ms"
}

# ---------------------------------------------------------------- bgsave
if wants bgsave; then
  section_begin bgsave
  DATA_FILE="$WORKDIR/dataset.resp"
  note "   generating $KEYS keys with $VALUE_SIZE-byte values"
  "$PYTHON" "$BENCH_LIB_DIR/gen_values.py" "$KEYS" --size "$VALUE_SIZE" >"$DATA_FILE"
  labels=(redis)
  for t in ${THREADS_LIST//,/ }; do labels+=("distcache-t$t"); done
  for label in "${labels[@]}"; do
    if [[ $label == redis ]]; then
      start_persist_server "$label" "$SERVER_CPUS" "$REDIS"
    else
      t=${label#distcache-t}
      cpus=$SERVER_CPUS
      (( t > 1 )) && cpus="0-$((t - 1))"
      if (( t > 1 )); then
        # distcache --threads 2 or more loads the dump.rdb Redis wrote in its
        # idle BGSAVE at start-up: a client pipelining millions of commands
        # (redis-cli --pipe) is too slow with more than one thread (see
        # docs/performance.md, "Persistence").
        mkdir -p "$WORKDIR/dir-$label"
        cp "$WORKDIR/dir-redis/dump.rdb" "$WORKDIR/dir-$label/dump.rdb"
        note "   $label loads the data set from Redis's dump.rdb at start-up"
        start_loading_server "$label" "$cpus" "$DISTCACHE" --threads "$t"
        rm -f "$WORKDIR/dir-$label/dump.rdb"
      else
        start_persist_server "$label" "$cpus" "$DISTCACHE" --threads "$t"
      fi
    fi
    port=${SRV_PORT[$label]}
    if [[ $label != distcache-t* || ${label#distcache-t} == 1 ]]; then
      note "   loading the data set into $label"
      pipe_file "$port" "$BENCH_CPUS" "$DATA_FILE"
    fi
    keys=$(redis-cli -p "$port" DBSIZE)
    (( keys == KEYS )) || die "$label holds $keys keys after loading, expected $KEYS"
    sleep 1
    record dataset "$label" "$keys" "$(rss_kb "${SRV_PID[$label]}")" "$(pss_kb "${SRV_PID[$label]}")" \
      "$(info_field "$port" used_memory)"
    note "   $label: $keys keys, RSS $(rss_kb "${SRV_PID[$label]}") kB"
    # Redis's BGSAVE without load right away: its file seeds distcache --threads 2+.
    [[ $label == redis ]] && run_phase redis idle 0 0
  done
  rm -f "$DATA_FILE"

  # A BGSAVE with no load first: its duration sizes the load (requests for
  # about 70% of it at the control's rate, so that the load runs inside the
  # BGSAVE), and its extra memory is the snapshot's own cost.
  declare -A LOAD_N=()
  for label in "${labels[@]}"; do
    [[ $label == redis ]] || run_phase "$label" idle 0 0
    idle_s=$(awk -F'\t' -v l="$label" '$1 == "bg" && $2 == l && $4 == "idle" { d = $11 } END { print d }' "$RESULTS")
    calib="$WORKDIR/calib-$label"
    bench_start "${SRV_PORT[$label]}" "$calib" -t set -c "$CLIENTS" -P 1 -n $(( QUICK ? 5000 : 20000 )) -r "$KEYS" -d "$VALUE_SIZE"
    bench_collect "$calib"
    LOAD_N[$label]=$(awk -v r="$BENCH_RPS" -v d="$idle_s" 'BEGIN { n = int(r * d * 0.7 / 1000) * 1000; if (n < 5000) n = 5000; print n }')
    note "   $label: idle BGSAVE $idle_s s, SET at $BENCH_RPS ops/s: load of ${LOAD_N[$label]} requests"
  done

  # Every server once per round; the order rotates from round to round, and
  # whether the control or the BGSAVE run comes first alternates too.
  nl=${#labels[@]}
  for ((round = 1; round <= ROUNDS; round++)); do
    for ((i = 0; i < nl; i++)); do
      label=${labels[$(( (i + round - 1) % nl ))]}
      if (( (round + i) % 2 == 0 )); then
        run_phase "$label" control "$round" "${LOAD_N[$label]}"; run_phase "$label" bgsave "$round" "${LOAD_N[$label]}"
      else
        run_phase "$label" bgsave "$round" "${LOAD_N[$label]}"; run_phase "$label" control "$round" "${LOAD_N[$label]}"
      fi
    done
  done
  for label in "${labels[@]}"; do stop_server "$label"; rm -rf "$WORKDIR/dir-$label"; done
  section_end
fi

# ------------------------------------------------------------------- aof
if wants aof; then
  section_begin aof
  t=${THREADS_LIST%%,*}
  for mode in always everysec; do
    start_persist_server aof-redis "$SERVER_CPUS" "$REDIS" --appendonly yes --appendfsync "$mode"
    start_persist_server aof-distcache "$SERVER_CPUS" "$DISTCACHE" --threads "$t" --appendonly yes --appendfsync "$mode"
    for ((round = 1; round <= ROUNDS; round++)); do
      if (( round % 2 == 1 )); then order=(aof-redis aof-distcache); else order=(aof-distcache aof-redis); fi
      for label in "${order[@]}"; do
        port=${SRV_PORT[$label]}
        redis-cli -p "$port" FLUSHALL >/dev/null
        bench_start "$port" "$WORKDIR/aof-$label-$mode-$round" -t set -c "$CLIENTS" -P 1 -n "$AOF_REQUESTS" -r 100000 -d 16
        bench_collect "$WORKDIR/aof-$label-$mode-$round"
        size=$(du -sb "$WORKDIR/dir-$label" | cut -f1)
        (( size > AOF_REQUESTS * 16 )) || die "$label: only $size bytes in $WORKDIR/dir-$label after $AOF_REQUESTS SETs: is the AOF on?"
        record aof "$mode" "${label#aof-}" "$round" "$AOF_REQUESTS" "$BENCH_RPS" "$BENCH_P50" "$BENCH_P99" "$BENCH_MAX" "$size"
        note "   appendfsync $mode ${label#aof-} round $round: $BENCH_RPS ops/s, p50 $BENCH_P50 p99 $BENCH_P99 max $BENCH_MAX ms, $size bytes on disk"
      done
    done
    stop_server aof-redis; stop_server aof-distcache
    rm -rf "$WORKDIR/dir-aof-redis" "$WORKDIR/dir-aof-distcache"
  done
  section_end
fi

record meta load_end "$(load_average) ($(uptime | sed 's/^ *//'))"
record meta duration "$(( (SECONDS - RUN_START) / 60 )) min $(( (SECONDS - RUN_START) % 60 )) s"
[[ -z "$RESULTS_COPY" ]] || cp "$RESULTS" "$RESULTS_COPY"
report "$RESULTS"
