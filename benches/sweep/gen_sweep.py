#!/usr/bin/env python3
"""Writes a learning-rate sweep of many runs, one folder per run, for the `tmon check` many-runs
benchmark (benches/sweep/run.sh).

OUT/run_NNN/metrics.jsonl (a train line a step: step, loss, acc, grad_norm, lr, epoch, tok_s,
time; an eval line every 500 steps) and OUT/run_NNN/params.json. About 140 bytes a line, so 200
runs of 50,000 steps are about 1.4 GB. The learning rates spread over two decades; run 7 diverges
from 60% of its steps (its loss grows until it is inf), run 11 stops at 40% (a crash).

Usage: gen_sweep.py OUT [--runs 200] [--steps 50000] [--seed 1] [--jobs N]
Deterministic for a given seed; runs are written in parallel (--jobs, default all cores).
"""

import argparse
import math
import os
import random
import struct
from multiprocessing import Pool

PACK = struct.Struct("f")
EVAL_EVERY = 500
BATCH = 256


def f32(x):
    return PACK.unpack(PACK.pack(x))[0]


def write_run(job):
    out, i, runs, steps, seed = job
    rng = random.Random(seed * 100003 + i)
    lr = 1e-4 * 10 ** (2.0 * i / max(1, runs - 1))
    folder = os.path.join(out, f"run_{i:03d}")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "params.json"), "w") as f:
        f.write('{"lr": %r, "batch_size": %d, "warmup": 2000, "model": "gpt-small", "seed": %d}\n' % (lr, BATCH, seed))
    stop = int(steps * 0.4) if i == 11 else steps
    diverge = int(steps * 0.6) if i == 7 else None
    floor = 0.9 + 0.3 * abs(math.log10(lr / 1e-3))
    t = 1732600000.0
    lines = []
    for step in range(1, stop + 1):
        trend = 2.2 * math.exp(-step * lr / 0.04) + floor
        if diverge is not None and step > diverge:
            trend *= math.exp((step - diverge) / (steps * 0.02))
        loss = trend * math.exp(rng.gauss(0, 0.06))
        loss_s = "Infinity" if loss > 1e300 else repr(f32(min(loss, 3e38)))
        correct = min(BATCH, max(0, int(BATCH * (0.9 - 0.5 * math.exp(-step / 30000)) + rng.gauss(0, 6))))
        dt = 0.21 + rng.random() * 0.02
        t += dt
        lines.append(
            '{"step": %d, "loss": %s, "acc": %r, "grad_norm": %r, "lr": %r, "epoch": %r, "tok_s": %d, "time": %.3f}\n'
            % (step, loss_s, correct / BATCH, f32(0.8 * math.exp(rng.gauss(0, 0.2))), lr, round(step / 5000, 3),
               int(BATCH * 512 / dt), t)
        )
        if step % EVAL_EVERY == 0:
            lines.append('{"step": %d, "val_loss": %r, "val_acc": %r, "time": %.3f}\n'
                         % (step, f32(min(trend * 1.05, 3e38)), round(correct / BATCH - 0.02, 4), t + 0.5))
        if len(lines) >= 20000:
            with open(os.path.join(folder, "metrics.jsonl"), "a") as f:
                f.writelines(lines)
            lines.clear()
    with open(os.path.join(folder, "metrics.jsonl"), "a") as f:
        f.writelines(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--steps", type=int, default=50000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    jobs = [(a.out, i, a.runs, a.steps, a.seed) for i in range(a.runs)]
    for j in jobs:
        p = os.path.join(a.out, f"run_{j[1]:03d}", "metrics.jsonl")
        if os.path.exists(p):
            os.remove(p)
    with Pool(a.jobs) as pool:
        pool.map(write_run, jobs)


if __name__ == "__main__":
    main()
