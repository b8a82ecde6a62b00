#!/usr/bin/env python3
"""Writes a wide training log (200 metrics a line) in JSON Lines, for benchmarks.

What a detection or large-model script writes when it logs everything: per line the step, the
total loss and 24 loss terms (DETR's `loss_ce`, `loss_bbox`, `loss_giou` and their copies per
decoder layer), the learning rate, the global gradient norm, 96 per-layer gradient norms
(`grad_norm/layers.N`), 76 activation statistics (`act/layers.N.mean`, `.std`), throughput and a
unix time; an eval line (10 metrics) every EVAL_EVERY steps. Values are float32 `.item()`s
(17-18 digits) as PyTorch logs them. About 8.5 kB a line.

Usage: gen_wide.py OUT --lines N | --bytes N   [--seed S]
Deterministic for a given seed.
"""

import argparse
import json
import math
import random
import struct
import sys

EVAL_EVERY = 500
PACK = struct.Struct("f")
LOSS_TERMS = ["loss_ce", "loss_bbox", "loss_giou"]
DECODERS = ["", "_0", "_1", "_2", "_3", "_4", "_5"]
LAYERS = 96
STATS = 38


def f32(x):
    return PACK.unpack(PACK.pack(x))[0]


def lines(seed, total_steps):
    rng = random.Random(seed)
    t = 1732600000.0
    terms = [t + d for t in LOSS_TERMS for d in DECODERS]
    terms += ["loss_aux", "loss_mask", "loss_dn"]
    for step in range(1, total_steps + 1):
        trend = 2.0 * math.exp(-step / 30000) + 0.5
        rec = {"step": step}
        parts = {k: f32(trend * (0.3 + 0.05 * i) * math.exp(rng.gauss(0, 0.05))) for i, k in enumerate(terms)}
        rec["loss"] = f32(sum(parts.values()))
        rec.update(parts)
        rec["lr"] = 1e-4 * (0.5 * (1 + math.cos(math.pi * step / total_steps)))
        rec["grad_norm"] = f32(3.0 * math.exp(rng.gauss(0, 0.2)))
        for i in range(LAYERS):
            rec[f"grad_norm/layers.{i}"] = f32(0.05 * (1 + i / 20) * math.exp(rng.gauss(0, 0.2)))
        for i in range(STATS):
            rec[f"act/layers.{i}.mean"] = f32(rng.gauss(0, 0.1))
            rec[f"act/layers.{i}.std"] = f32(1.0 + abs(rng.gauss(0, 0.1)))
        t += 0.9 + rng.random() * 0.1
        rec["samples_per_s"] = round(64 / 0.95 * math.exp(rng.gauss(0, 0.02)), 2)
        rec["time"] = round(t, 3)
        yield json.dumps(rec)
        if step % EVAL_EVERY == 0:
            ev = {"step": step, "eval/loss": f32(trend * 1.1)}
            for k in ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100"]:
                ev[f"eval/bbox/{k}"] = f32(0.5 - 0.3 * math.exp(-step / 30000) + rng.gauss(0, 0.01))
            ev["time"] = round(t + 30, 3)
            yield json.dumps(ev)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    size = ap.add_mutually_exclusive_group(required=True)
    size.add_argument("--lines", type=int, help="write exactly this many lines")
    size.add_argument("--bytes", type=int, help="write lines until the file reaches this size")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    total_steps = args.lines if args.lines else args.bytes // 8500 + 1
    written_lines = written_bytes = 0
    buf = []
    with open(args.out, "w", encoding="utf-8") as f:
        for line in lines(args.seed, total_steps * 2):
            buf.append(line)
            written_lines += 1
            written_bytes += len(line) + 1
            if len(buf) >= 1000:
                f.write("\n".join(buf) + "\n")
                buf.clear()
            if (args.lines and written_lines >= args.lines) or (args.bytes and written_bytes >= args.bytes):
                break
        if buf:
            f.write("\n".join(buf) + "\n")
    print(f"{args.out}: {written_lines} lines, {written_bytes} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
