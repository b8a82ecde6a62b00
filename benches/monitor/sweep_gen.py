#!/usr/bin/env python3
"""Writes a generated sweep for the compare-runs benchmarks: RUNS runs of STEPS steps each, one
folder per run as sweep launchers write them (`run_<k>/logs.jsonl` and the run's `config.json`).

    benches/monitor/sweep_gen.py OUT_DIR [RUNS] [STEPS]        (default 200 runs x 50,000 steps, ~1.5 GB)

Each line holds twelve metrics (a loss, an accuracy, the learning rate, a global and three
per-layer gradient norms, throughput, memory, a dead-unit fraction, weight decay, an entropy) and
a unix time, written compactly (no spaces, 3-4 significant digits), about 150 bytes; an eval line
(`val_loss`) every 500 steps. Runs differ in their learning rate and seed (their configs say so);
every 17th run diverges to NaN past 60% of its steps. Deterministic: the same arguments write the
same bytes. Files that exist with the right size are kept.
"""
import json
import math
import os
import random
import sys


def run_lines(k, steps):
    rng = random.Random(1000 + k)
    lr = [1e-4, 3e-4, 1e-3, 3e-3][k % 4] * (1 + (k // 4) % 5 * 0.1)
    rate = 3.0 + 40.0 * lr * 100
    diverge = k % 17 == 16
    t = 1767225600.0 + k * 3.0
    out = []
    for s in range(steps):
        p = s / steps
        noise = rng.gauss(0.0, 1.0)
        loss = 0.3 + 2.0 * math.exp(-rate * p) + 0.03 * noise
        if diverge and p > 0.6:
            loss = float("nan") if p > 0.65 else loss + (p - 0.6) * 200
        acc = 1.0 - 0.6 * math.exp(-rate * p) + 0.01 * noise
        cur_lr = lr * min(1.0, (s + 1) / 1000) * (0.5 + 0.5 * math.cos(math.pi * p))
        g = 1.0 + 0.3 * abs(noise)
        t += 0.25 + 0.01 * rng.random()
        vals = {
            "step": s,
            "loss": loss,
            "acc": acc,
            "lr": cur_lr,
            "gnorm": g,
            "g0": g * 0.5,
            "g1": g * 0.3,
            "g2": g * 0.2,
            "tps": int(12000 + 500 * noise),
            "mem": 12.5 + 0.01 * (s % 100),
            "dead": 0.01 + 0.002 * noise,
            "wd": 0.01,
            "ent": 2.3 * math.exp(-p) + 0.05 * noise,
        }
        parts = []
        for key, v in vals.items():
            if isinstance(v, int):
                parts.append(f'"{key}":{v}')
            elif v != v:
                parts.append(f'"{key}":NaN')
            elif key in ("loss", "acc", "lr", "gnorm"):
                parts.append(f'"{key}":{v:.4g}')
            else:
                parts.append(f'"{key}":{v:.3g}')
        parts.append(f'"time":{t:.1f}')
        out.append("{" + ",".join(parts) + "}")
        if s % 500 == 499:
            val = loss + 0.1 if loss == loss else float("nan")
            out.append('{"step":%d,"val_loss":%s}' % (s, "NaN" if val != val else f"{val:.4g}"))
    return out, {"lr": round(lr, 6), "seed": 1000 + k, "batch_size": 64, "optimizer": "adamw"}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 50_000
    total = 0
    for k in range(runs):
        folder = os.path.join(out_dir, f"run_{k:03d}")
        os.makedirs(folder, exist_ok=True)
        log = os.path.join(folder, "logs.jsonl")
        size_file = os.path.join(folder, ".size")
        if os.path.exists(log) and os.path.exists(size_file):
            with open(size_file) as f:
                if f.read().strip() == f"{steps} {os.path.getsize(log)}":
                    total += os.path.getsize(log)
                    continue
        lines, config = run_lines(k, steps)
        with open(log, "w") as f:
            f.write("\n".join(lines) + "\n")
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config, f)
        with open(size_file, "w") as f:
            f.write(f"{steps} {os.path.getsize(log)}")
        total += os.path.getsize(log)
    print(f"{runs} runs x {steps} steps in {out_dir}: {total / 1e6:.0f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
