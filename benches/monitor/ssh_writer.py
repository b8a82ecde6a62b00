#!/usr/bin/env python3
"""Writes a training log of M metrics a line, as a live run over SSH would, for the byte budget.

The first metrics are the usual ones (loss, lr, grad_norm, acc, tokens/s, epoch, eval loss every
200 steps); the rest are per-layer gradient norms, so a log of 40 metrics looks like a run that
logs its layers. Values are printed rounded, as training scripts print them. The same seed and
`--from K` continue a history written with `--from 0 --count K --rate 0` seamlessly.

Usage: ssh_writer.py OUT --metrics M --from K --count N --rate R    (R lines/s; 0 = no pacing)
Prints `LINES SECONDS LAST_STEP` when done.
"""

import argparse
import json
import math
import random
import time


def record(step, metrics, rng):
    trend = 2.4 * math.exp(-step / 3000) + 0.7
    rec = {
        "step": step,
        "loss": round(trend * math.exp(rng.gauss(0, 0.05)), 4),
        "lr": round(3e-4 * min(1.0, step / 500) * (0.5 + 0.5 * math.cos(math.pi * step / 400000)), 8),
        "grad_norm": round(0.9 * math.exp(rng.gauss(0, 0.25)), 4),
        "acc": round(min(1.0, 0.95 - 0.6 * math.exp(-step / 4000) + rng.gauss(0, 0.01)), 4),
        "tokens_per_s": int(52000 + rng.gauss(0, 900)),
        "epoch": round(step / 2500, 3),
        "step_time": round(0.31 + abs(rng.gauss(0, 0.01)), 4),
        "mem_gb": round(21.5 + rng.gauss(0, 0.05), 2),
    }
    for i in range(max(0, metrics - len(rec) + 1)):
        rec[f"grad_norm/layer{i}"] = round(0.05 * (1 + i % 7) * math.exp(rng.gauss(0, 0.2)), 5)
    return rec


def lines(metrics, seed=7):
    rng = random.Random(seed)
    step = 0
    while True:
        step += 1
        yield json.dumps(record(step, metrics, rng))
        if step % 200 == 0:
            yield json.dumps({"step": step, "eval_loss": round(2.4 * math.exp(-step / 3000) + 0.75, 4)})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--metrics", type=int, default=9)
    ap.add_argument("--from", dest="start", type=int, default=0)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--rate", type=float, default=0.0)
    args = ap.parse_args()
    gen = lines(args.metrics)
    for _ in range(args.start):
        next(gen)
    t0 = time.monotonic()
    last = None
    with open(args.out, "a", encoding="utf-8") as f:
        batch = []
        for i in range(args.count):
            line = next(gen)
            last = json.loads(line)["step"]
            if args.rate > 0:
                due = t0 + i / args.rate
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                f.write(line + "\n")
                f.flush()
            else:
                batch.append(line)
                if len(batch) >= 4096:
                    f.write("\n".join(batch) + "\n")
                    batch = []
        if batch:
            f.write("\n".join(batch) + "\n")
    print(args.count, round(time.monotonic() - t0, 3), last)


if __name__ == "__main__":
    main()
