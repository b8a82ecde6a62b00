#!/usr/bin/env python3
"""Writes a typical training log in JSON Lines, as a PyTorch loop writes it, for benchmarks.

Each train line has the step, six metrics and a unix timestamp; an eval line comes every
EVAL_EVERY steps. Values are what such loops log: losses and norms from a float32 tensor's
`.item()` (float32-exact doubles, printed by `json.dumps` with Python's shortest repr, so 17-18
digits), the learning rate as a Python double from a cosine schedule, accuracies from counts,
throughput as an integer. About 150 bytes a line, so 1M lines is about 150 MB.

Usage: gen_log.py OUT --lines N | --bytes N   [--seed S]
Deterministic for a given seed.
"""

import argparse
import json
import math
import random
import struct
import sys

EVAL_EVERY = 500
BATCH = 256
PACK = struct.Struct("f")


def f32(x):
    # torch's float32 `.item()`: the nearest float32, widened to a double.
    return PACK.unpack(PACK.pack(x))[0]


def lines(seed, total_steps):
    rng = random.Random(seed)
    t = 1732600000.0
    base_lr = 3e-4
    warmup = 2000
    for step in range(1, total_steps + 1):
        progress = step / total_steps
        lr = base_lr * step / warmup if step < warmup else base_lr * 0.5 * (1 + math.cos(math.pi * progress))
        trend = 2.2 * math.exp(-step / 40000) + 0.9
        loss = trend * math.exp(rng.gauss(0, 0.06))
        correct = min(BATCH, max(0, int(BATCH * (0.9 - 0.5 * math.exp(-step / 30000)) + rng.gauss(0, 6))))
        t += 0.21 + rng.random() * 0.02
        rec = {
            "step": step,
            "loss": f32(loss),
            "acc": correct / BATCH,
            "grad_norm": f32(0.8 * math.exp(rng.gauss(0, 0.2))),
            "lr": lr,
            "epoch": round(step / 5000, 3),
            "tok_s": int(BATCH * 512 / (0.21 + rng.random() * 0.02)),
            "time": round(t, 2),
        }
        yield json.dumps(rec)
        if step % EVAL_EVERY == 0:
            yield json.dumps(
                {
                    "step": step,
                    "eval/loss": f32(trend * 1.05),
                    "eval/acc": f32(0.9 - 0.5 * math.exp(-step / 30000)),
                    "time": round(t + 3.0, 3),
                }
            )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    size = ap.add_mutually_exclusive_group(required=True)
    size.add_argument("--lines", type=int, help="write exactly this many lines")
    size.add_argument("--bytes", type=int, help="write lines until the file reaches this size")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    # The schedule needs a run length: guess one from the size (about 150 bytes a line).
    total_steps = args.lines if args.lines else args.bytes // 150 + 1
    written_lines = 0
    written_bytes = 0
    buf = []
    with open(args.out, "w", encoding="utf-8") as f:
        for line in lines(args.seed, total_steps * 2):
            buf.append(line)
            written_lines += 1
            written_bytes += len(line) + 1
            if len(buf) >= 10000:
                f.write("\n".join(buf) + "\n")
                buf.clear()
            if args.lines and written_lines >= args.lines:
                break
            if args.bytes and written_bytes >= args.bytes:
                break
        if buf:
            f.write("\n".join(buf) + "\n")
    print(f"{args.out}: {written_lines} lines, {written_bytes} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
