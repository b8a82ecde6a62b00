#!/usr/bin/env python3
"""Timeline of tmon's threads while it loads (issue 11: are both cores busy the whole time?).

    benches/monitor/threads.py check BIN DIR [OUT]   `BIN check DIR`, until it exits
    benches/monitor/threads.py mon BIN DIR [OUT]     `BIN DIR` in a 160x48 tmux of its own, until
                                                     the header no longer says "loading"

Every DT seconds (default 0.02) it reads /proc/PID/task/*/{stat,schedstat}: each thread's state
(R running or runnable, D in the kernel, S waiting) and its CPU. On a shared machine a thread's
CPU share says little, but whether it wants a core does not: the time during which fewer than
two of tmon's threads were R or D is the time a core would have idled on a quiet 2-core machine.
Prints, per thread, its life, CPU, run-queue wait and time off the CPU, then that idle time and
the moments it fell in. With OUT, writes every sample to OUT.csv (t_ms,tid,comm,state,ticks,
run_ns,wait_ns). HI=1 runs tmon, the tmux server and this sampler at autogroup nice -20 (as
`HI=1 benches/monitor/sweep.sh`; root only). The header is looked at every 100 ms, so "end" is
up to 100 ms late, and the idle time at the end includes that wait.
"""
import collections
import os
import random
import subprocess
import sys
import time

DT = float(os.environ.get("DT", "0.02"))
HZ = os.sysconf("SC_CLK_TCK")
HI = os.environ.get("HI") == "1"
RAISE = "echo -20 >/proc/self/autogroup && " if HI else ""


def raise_self():
    """At HI=1, this sampler in a session of its own at autogroup nice -20 (the caller's session
    is left alone: when this process leads a process group and cannot start a session, it stays
    as it is)."""
    if not HI:
        return
    try:
        os.setsid()
    except OSError:
        return
    with open("/proc/self/autogroup", "w") as f:
        f.write("-20")


def threads(pid):
    out = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                s = f.read()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run_ns, wait_ns, _ = f.read().split()
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        comm = s[s.index("(") + 1 : s.rindex(")")]
        f = s[s.rindex(")") + 2 :].split()
        out.append((int(tid), comm, f[0], int(f[11]) + int(f[12]), int(run_ns), int(wait_ns)))
    return out


def sample_check(binp, d):
    rows = []
    t0 = time.monotonic_ns()
    p = subprocess.Popen(["bash", "-c", RAISE + 'exec "$0" check "$1"', binp, d],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while p.poll() is None:
        t = (time.monotonic_ns() - t0) / 1e6
        rows += [(t,) + r for r in threads(p.pid)]
        time.sleep(DT)
    return rows, (time.monotonic_ns() - t0) / 1e6


def sample_mon(binp, d):
    sock = f"tmon-threads-{os.getpid()}-{random.randint(0, 99999)}"

    def tm(*a):
        return subprocess.run(["timeout", "5", "tmux", "-L", sock, *a], capture_output=True, text=True).stdout

    tm("-f", "/dev/null", "new-session", "-d", "-s", "b", "-x", "160", "-y", "48", "sleep 86400")
    tm("set-option", "-g", "remain-on-exit", "on")
    if HI:
        with open(f"/proc/{tm('display-message', '-p', '#{pid}').strip()}/autogroup", "w") as f:
            f.write("-20")
    rows, end = [], None
    try:
        t0 = time.monotonic_ns()
        tm("respawn-pane", "-k", "-t", "b:0", f"{RAISE}exec {binp} {d}")
        pid = int(tm("display-message", "-p", "-t", "b:0", "#{pane_pid}").strip())
        looked, seen_loading = -1e9, False
        while True:
            t = (time.monotonic_ns() - t0) / 1e6
            rows += [(t,) + r for r in threads(pid)]
            if t - looked >= 100:
                looked = t
                head = tm("capture-pane", "-p", "-t", "b:0").split("\n")[0]
                seen_loading |= "loading" in head
                if "tmon" in head and "loading" not in head and (seen_loading or t > 3000):
                    end = t
                    break
            if t > 600_000:
                break
            time.sleep(DT)
        tm("send-keys", "-t", "b:0", "q")
        time.sleep(0.3)
    finally:
        tm("kill-server")
    return rows, end


def report(rows, end):
    by = collections.defaultdict(list)
    for t, tid, comm, st, ticks, rn, wn in rows:
        by[(tid, comm)].append((t, st, ticks, rn, wn))
    print(f"end {end:.0f} ms")
    total = 0.0
    for (tid, comm), v in sorted(by.items(), key=lambda kv: kv[1][0][0]):
        run, wait = v[-1][3] / 1e6, v[-1][4] / 1e6
        total += run
        if run < 5:
            continue
        life = v[-1][0] - v[0][0]
        c = collections.Counter(x[1] for x in v)
        print(f"  {comm:16} {v[0][0]:7.0f}-{v[-1][0]:7.0f} ms  CPU {run:6.0f}  run-queue {wait:6.0f}"
              f"  off-CPU {max(life - run - wait, 0):6.0f}  samples R {c['R']:4} D {c['D']:3} S {c['S']:4}")
    print(f"  CPU {total:.0f} ms over {end:.0f} ms: {total / end:.2f} cores")
    at = collections.defaultdict(list)
    for t, tid, comm, st, *_ in rows:
        at[t].append((comm, st))
    ts = sorted(at)
    short, spans = 0.0, []
    for a, b in zip(ts, ts[1:]):
        want = [c for c, s in at[a] if s in "RD"]
        if len(want) < 2:
            short += b - a
            spans.append(f"{a:.0f}:{'+'.join(want) or '-'}")
    print(f"  fewer than 2 threads R/D for {short:.0f} ms of {ts[-1]:.0f} ({100 * short / ts[-1]:.1f}%)"
          f" over {len(ts)} samples, at (ms:threads): {' '.join(spans)}")


def main():
    if len(sys.argv) < 4 or sys.argv[1] not in ("check", "mon"):
        sys.exit(__doc__)
    mode, binp, d = sys.argv[1:4]
    raise_self()
    rows, end = (sample_check if mode == "check" else sample_mon)(binp, d)
    if len(sys.argv) > 4:
        with open(sys.argv[4] + ".csv", "w") as f:
            f.write("t_ms,tid,comm,state,ticks,run_ns,wait_ns\n")
            f.writelines(",".join(map(str, r)) + "\n" for r in rows)
    if not rows or end is None:
        sys.exit("no samples, or the monitor never finished loading")
    print(f"{mode}: {binp} {d}")
    report(rows, end)


if __name__ == "__main__":
    main()
