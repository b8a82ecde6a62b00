#!/usr/bin/env python3
"""Appends to every run of a generated sweep (benches/monitor/sweep_gen.py) as live training does: RATE
steps a second to each run, for SECS seconds, each line flushed at once, the runs' lines
interleaved.

    benches/monitor/sweep_live.py SWEEP_DIR RATE SECS

Prints `lines seconds` when done.
"""
import glob
import json
import os
import sys
import time


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    root, rate, secs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    logs = sorted(glob.glob(os.path.join(root, "run_*", "logs.jsonl")))
    files, steps, times = [], [], []
    for path in logs:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 4096))
            last = [l for l in f.read().splitlines() if b'"time"' in l][-1]
        rec = json.loads(last)
        steps.append(int(rec["step"]) + 1)
        times.append(float(rec["time"]))
        files.append(open(path, "a"))
    start = time.monotonic()
    tick = 1.0 / rate
    n = 0
    k = 0
    while time.monotonic() - start < secs:
        for i, f in enumerate(files):
            s = steps[i]
            times[i] += 0.25
            loss = 0.3 + 1.0 / (1 + s / 1000) + 0.01 * ((s * 7919 + i) % 13)
            f.write('{"step":%d,"loss":%.4g,"acc":%.4g,"lr":1e-4,"gnorm":%.4g,"g0":0.5,"g1":0.3,"g2":0.2,'
                    '"tps":12000,"mem":12.5,"dead":0.01,"wd":0.01,"ent":1.1,"time":%.1f}\n'
                    % (s, loss, 1 - loss / 3, 1 + 0.1 * (s % 7), times[i]))
            f.flush()
            steps[i] += 1
            n += 1
        k += 1
        wait = start + k * tick - time.monotonic()
        if wait > 0:
            time.sleep(wait)
    print(n, round(time.monotonic() - start, 2))


if __name__ == "__main__":
    main()
