#!/usr/bin/env bash
# Latency of following each format (issue 15, "Following"): `tmon check --follow --json` runs on a
# log that holds a few healthy steps; then one step with a NaN loss is appended in one write, and
# the time from that write to tmon's flag line is measured. N times per format, same machine, same
# run: JSON Lines, TensorBoard events, CSV (written by examples/append_step.rs).
#
# Usage: benches/formats/follow_latency.sh        (N=10 by default)
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
N=${N:-10}
cargo build --release --quiet --bin tmon --example append_step
TMON="$ROOT/target/release/tmon"
GEN="$ROOT/target/release/examples/append_step"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# one FORMAT DIR: starts the follower, appends the NaN step, prints the latency in ms.
one() {
    local fmt=$1 dir=$2 log out t0 t1
    mkdir -p "$dir"
    log=$("$GEN" start "$fmt" "$dir")
    out="$dir/out"
    : >"$out"
    "$TMON" check --follow --json "$log" >"$out" 2>/dev/null &
    local pid=$!
    # Let it read the history and settle.
    sleep 1
    t0=$(date +%s%N)
    "$GEN" nan "$fmt" "$dir"
    while ! grep -q nonfinite "$out"; do
        t1=$(date +%s%N)
        if [ $(((t1 - t0) / 1000000)) -gt 10000 ]; then
            echo "no flag within 10 s for $fmt" >&2
            kill "$pid"
            exit 1
        fi
        sleep 0.002
    done
    t1=$(date +%s%N)
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f\n", (b - a) / 1e6 }'
}

printf '%-10s %8s %8s %8s\n' format min_ms median_ms max_ms
for fmt in jsonl tfevents csv; do
    ms=()
    for i in $(seq "$N"); do
        ms+=("$(one "$fmt" "$WORK/$fmt-$i")")
    done
    sorted=$(printf '%s\n' "${ms[@]}" | sort -n)
    printf '%-10s %8s %8s %8s\n' "$fmt" "$(echo "$sorted" | head -n 1)" \
        "$(echo "$sorted" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')" \
        "$(echo "$sorted" | tail -n 1)"
done
