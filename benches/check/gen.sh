#!/usr/bin/env bash
# Writes one of the benchmark logs: benches/check/gen.sh NAME FILE (nothing when FILE exists).
#
#   1m       gen_log.py: our own generated log, 1,000,000 lines (182 MB)
#   1g       gen_log.py: the same, about 1 GB
#   peers    gen_peers.py: written like the tools we are compared with (W&B's key order: loss,
#            lr, grad_norm, tokens_per_s, then _step, _runtime, _timestamp), 1,000,000 lines
#   wide     gen_wide.py: 200 metrics a line, 20,000 lines (166 MB)
#   detr     the largest real corpus file (detr/detr-300ep-log.txt: 300 epochs, 141 keys, 4.3 kB a
#            line) written 128 times one after the other (167 MB): each copy is a run appended to
#            the file, so the step goes back 127 times
#   corpus   the five largest JSON Lines files of the real corpus (DETR, detectron2's
#            Mask2Former metrics, stable-baselines3's progress, LLaMA-Factory's two-writer log,
#            mmengine's scalars), concatenated, the whole written 64 times (about 150 MB)
# The real corpus is read from ../shared/corpus/real (beside the repository).
set -euo pipefail
cd "$(dirname "$0")/../.."
name=$1 file=$2
[ -s "$file" ] && exit 0
REAL=${REAL:-../shared/corpus/real}
echo "generating $file ..." >&2
repeat() {
    local times=$1
    shift
    for f in "$@"; do [ -s "$f" ] || { echo "missing $f (the real corpus, ../shared)" >&2; exit 2; }; done
    local one
    one=$(mktemp)
    # Each file ends with a newline here, even one whose last line has none.
    for f in "$@"; do cat "$f"; [ -z "$(tail -c 1 "$f")" ] || echo; done >"$one"
    for _ in $(seq "$times"); do cat "$one"; done >"$file.tmp"
    rm -f "$one"
}
case $name in
    1m) python3 benches/check/gen_log.py "$file.tmp" --lines 1000000 ;;
    1g) python3 benches/check/gen_log.py "$file.tmp" --bytes 1000000000 ;;
    peers) python3 benches/check/gen_peers.py "$file.tmp" --lines 1000000 ;;
    wide) python3 benches/check/gen_wide.py "$file.tmp" --lines 20000 ;;
    detr) repeat 128 "$REAL/detr/detr-300ep-log.txt" ;;
    corpus)
        repeat 64 "$REAL/detr/detr-300ep-log.txt" "$REAL/detectron2/mask2former-wide-segm-eval.json" \
            "$REAL/sb3/ddpg-humanoid-progress.json" "$REAL/llama-factory/sft-two-gpu-duplicated-trainer_log.jsonl" \
            "$REAL/mmengine/mmpose-keys-with-spaces-scalars.json"
        ;;
    *) echo "unknown log $name (1m 1g peers wide detr corpus)" >&2; exit 2 ;;
esac
mv "$file.tmp" "$file"
