#!/usr/bin/env bash
# `tmon check` on logs built to grow memory without bound (issue 9 "Unbounded growth", issue 10
# item 11): what each bound costs in time and peak memory.
#   distinct   N lines, each with a new metric name (default N=1,000,000: 1M names, 33 MB)
#   epochs     a step counter that resets every epoch: 500 epochs of 20 records
#   rewinds    10,500 rewinds at no regular period (more restart flags than the analyzer keeps)
# Each is run RUNS times (default 3): best wall time and the largest peak RSS (/usr/bin/time).
#
# Usage: benches/check/bounds.sh [distinct] [epochs] [rewinds]   (default: all)   N=... RUNS=...
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DATA="$ROOT/benches/data"
RUNS=${RUNS:-3}
N=${N:-1000000}
CASES=("$@")
[ ${#CASES[@]} -eq 0 ] && CASES=(distinct epochs rewinds)
mkdir -p "$DATA"
cargo build --release --quiet --bin tmon
TMON="$ROOT/target/release/tmon"

gen() {
    local name=$1 file=$2
    [ -s "$file" ] && return
    python3 - "$name" "$N" > "$file" <<'PY'
import sys
name, n = sys.argv[1], int(sys.argv[2])
w = sys.stdout.write
if name == "distinct":
    for i in range(n):
        w('{"step": %d, "m%d": 1.0}\n' % (i, i))
elif name == "epochs":
    for e in range(500):
        for i in range(20):
            w('{"epoch": %d, "step": %d, "loss": %r}\n' % (e, i, 2.0 / (1 + e * 0.01) + 0.01 * ((e * 20 + i) % 7)))
elif name == "rewinds":
    for r in range(10500):
        for i in range(3 + r % 7):
            w('{"step": %d, "loss": 1.0}\n' % (100 + i))
PY
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
printf '%-9s %10s %9s %9s  %s\n' case "file MB" "best ms" "peak MB" "what check says"
for c in "${CASES[@]}"; do
    f="$DATA/bounds_${c}_${N}.jsonl"
    [ "$c" != distinct ] && f="$DATA/bounds_${c}.jsonl"
    gen "$c" "$f"
    cat "$f" > /dev/null
    best=""; peak=0
    for _ in $(seq "$RUNS"); do
        t0=$(date +%s%N)
        /usr/bin/time -f '%M' -o "$out" "$TMON" check "$f" > "$out.txt" || true
        ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        kb=$(tail -1 "$out")
        [ -z "$best" ] || [ "$ms" -lt "$best" ] && best=$ms
        [ "$kb" -gt "$peak" ] && peak=$kb
    done
    said=$(grep -m1 -o 'series cap reached[^(]*\|more info flags were counted[^(]*\|the step resets every [0-9]* records' "$out.txt" || echo '-')
    rm -f "$out.txt"
    printf '%-9s %10.1f %9s %9.1f  %s\n' "$c" "$(echo "$(stat -c %s "$f") / 1048576" | bc -l)" "$best" "$(echo "$peak / 1024" | bc -l)" "$said"
done
