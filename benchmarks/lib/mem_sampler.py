#!/usr/bin/python3
"""Samples the physical memory of a server process and of its children (a
Redis fork child during BGSAVE) until SIGTERM/SIGINT, then prints one line:

    mem samples=N seconds=S first_kb=K peak_kb=K peak_at_s=S peak_children=C
        max_children=C peak_rss_kb=K last_kb=K

    mem_sampler.py PID [--interval SECONDS] [--trace FILE]

Memory = the sum of Pss (proportional set size, /proc/PID/smaps_rollup) of
the process and of every child process: pages shared by the parent and a
fork child are counted once between them, so the sum is the physical memory
the two use together. peak_rss_kb is the largest plain sum of the Rss of the
same processes (pages shared after a fork counted twice), for reference.
--trace writes "seconds pss_kb rss_kb children" per sample. Reading
smaps_rollup walks the page tables: for a 2 GB process (and its fork child)
one sample takes 0.1-0.5 s on a busy 2-core machine, so the interval is a
minimum, not a guarantee.
"""
import os
import signal
import sys
import time


def rollup(pid: int):
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return pss, rss


def children(pid: int):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out += [int(c) for c in f.read().split()]
            except (FileNotFoundError, ProcessLookupError):
                pass
    except FileNotFoundError:
        pass
    return out


def main(argv) -> int:
    args = argv[1:]
    interval = 0.05
    trace = None
    if "--interval" in args:
        i = args.index("--interval")
        interval = float(args[i + 1])
        del args[i:i + 2]
    if "--trace" in args:
        i = args.index("--trace")
        trace = open(args[i + 1], "w", buffering=1)
        del args[i:i + 2]
    if len(args) != 1:
        sys.stderr.write(__doc__)
        return 2
    pid = int(args[0])
    stop = False

    def on_signal(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    t0 = time.monotonic()
    samples = 0
    first = last = peak = peak_rss = None
    peak_at = 0.0
    peak_children = max_children = 0
    next_t = t0
    while not stop:
        # Children first: a fork between reading the parent (all pages its
        # own) and listing the children (half of them in the child's Pss)
        # would count the shared pages one and a half times. A sample
        # during which the set of children changed is taken again.
        kids = children(pid)
        main_mem = rollup(pid)
        if main_mem is None:
            break
        pss, rss = main_mem
        for c in kids:
            m = rollup(c)
            if m is not None:
                pss += m[0]
                rss += m[1]
        if children(pid) != kids:
            continue
        now = time.monotonic() - t0
        samples += 1
        if first is None:
            first = pss
        last = pss
        if peak is None or pss > peak:
            peak, peak_at, peak_children = pss, now, len(kids)
        peak_rss = rss if peak_rss is None else max(peak_rss, rss)
        max_children = max(max_children, len(kids))
        if trace:
            trace.write(f"{now:.3f} {pss} {rss} {len(kids)}\n")
        next_t += interval
        delay = next_t - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_t = time.monotonic()
    if trace:
        trace.close()
    print(f"mem samples={samples} seconds={time.monotonic() - t0:.2f} first_kb={first or 0} "
          f"peak_kb={peak or 0} peak_at_s={peak_at:.2f} peak_children={peak_children} "
          f"max_children={max_children} peak_rss_kb={peak_rss or 0} last_kb={last or 0}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
