#!/usr/bin/env python3
"""Writes a training log as the tools we are compared with write it, in JSON Lines, for benchmarks.

The key order is W&B's history (`wandb-history.jsonl`, and what `wandb.log` users copy into
their own JSON logs): the metrics first in the order the script logs them (loss, learning rate,
gradient norm, tokens per second), then `_step`, `_runtime` (seconds since the start) and
`_timestamp` (unix seconds). An eval line (`eval/loss`, `eval/ppl`) every EVAL_EVERY steps, and
rare spikes: about one step in 20,000 has its loss multiplied by 3-10 and its gradient norm by
10-50, as a bad batch does. The loss is a float32 `.item()` rounded to 4 decimals as HF's
Trainer rounds it, the gradient norm a full float32 `.item()`; about 176 bytes a line.

Usage: gen_peers.py OUT --lines N | --bytes N   [--seed S]
Deterministic for a given seed.
"""

import argparse
import json
import math
import random
import struct
import sys

EVAL_EVERY = 500
SPIKE_EVERY = 20000
PACK = struct.Struct("f")


def f32(x):
    return PACK.unpack(PACK.pack(x))[0]


def lines(seed, total_steps):
    rng = random.Random(seed)
    t0 = 1732600000.0
    t = t0
    base_lr = 6e-4
    warmup = 2000
    for step in range(1, total_steps + 1):
        progress = step / total_steps
        lr = base_lr * step / warmup if step < warmup else base_lr * (0.1 + 0.45 * (1 + math.cos(math.pi * progress)))
        trend = 7.5 * math.exp(-step / 20000) + 2.8
        loss = trend * math.exp(rng.gauss(0, 0.03))
        grad = 0.6 * math.exp(rng.gauss(0, 0.25))
        if rng.random() < 1 / SPIKE_EVERY:
            loss *= rng.uniform(3, 10)
            grad *= rng.uniform(10, 50)
        dt = 0.35 + rng.random() * 0.03
        t += dt
        rec = {
            "loss": round(f32(loss), 4),
            "lr": lr,
            "grad_norm": f32(grad),
            "tokens_per_s": round(524288 / dt, 1),
            "_step": step,
            "_runtime": round(t - t0, 3),
            "_timestamp": round(t, 3),
        }
        yield json.dumps(rec)
        if step % EVAL_EVERY == 0:
            el = f32(trend * 1.04 * math.exp(rng.gauss(0, 0.005)))
            yield json.dumps(
                {
                    "eval/loss": el,
                    "eval/ppl": math.exp(el),
                    "_step": step,
                    "_runtime": round(t + 4.0 - t0, 3),
                    "_timestamp": round(t + 4.0, 3),
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
    total_steps = args.lines if args.lines else args.bytes // 176 + 1
    written_lines = written_bytes = 0
    buf = []
    with open(args.out, "w", encoding="utf-8") as f:
        for line in lines(args.seed, total_steps * 2):
            buf.append(line)
            written_lines += 1
            written_bytes += len(line) + 1
            if len(buf) >= 10000:
                f.write("\n".join(buf) + "\n")
                buf.clear()
            if (args.lines and written_lines >= args.lines) or (args.bytes and written_bytes >= args.bytes):
                break
        if buf:
            f.write("\n".join(buf) + "\n")
    print(f"{args.out}: {written_lines} lines, {written_bytes} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
