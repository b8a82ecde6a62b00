#!/usr/bin/env python3
"""Appends training-log lines to a file at a steady rate, as a live training run would.

The lines are those of benches/check/gen_log.py (same generator, same seed), so a history written
with `--from 0 --count K --rate 0` is continued seamlessly by `--from K`. Writes whole lines only
(one write per batch), flushed at once, on a fixed schedule from the start time so a slow tick
is caught up instead of drifting.

Usage: writer.py OUT --from K --count N --rate R     (R lines/s; 0 = as fast as possible)
Prints `LINES SECONDS LAST_STEP` on stdout when done.
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "check"))
import gen_log  # noqa: E402

# The generator's schedule length: long enough for any benchmark run (it only shapes the lr curve).
TOTAL_STEPS = 10_000_000
TICK = 0.01


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--from", dest="start", type=int, default=0, help="skip this many lines first")
    ap.add_argument("--count", type=int, required=True, help="lines to write")
    ap.add_argument("--rate", type=float, default=0.0, help="lines per second (0: no pacing)")
    args = ap.parse_args()

    gen = gen_log.lines(1, TOTAL_STEPS)
    for _ in range(args.start):
        next(gen)
    written = 0
    last_step = None
    t0 = time.monotonic()
    with open(args.out, "a", encoding="utf-8") as f:
        while written < args.count:
            if args.rate > 0:
                due = min(args.count, int((time.monotonic() - t0) * args.rate) + 1)
                if due <= written:
                    # Sleep until the next line is due, in ticks of at most TICK.
                    next_at = t0 + written / args.rate
                    time.sleep(max(0.0, min(TICK, next_at - time.monotonic())))
                    continue
            else:
                due = min(args.count, written + 10000)
            batch = []
            while written < due:
                line = next(gen)
                batch.append(line)
                written += 1
            last_step = json.loads(batch[-1])["step"]
            f.write("\n".join(batch) + "\n")
            f.flush()
    print(f"{written} {time.monotonic() - t0:.3f} {last_step}")


if __name__ == "__main__":
    main()
