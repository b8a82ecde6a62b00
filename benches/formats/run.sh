#!/usr/bin/env bash
# Benchmark of `tmon check` on one run in every format it reads, against the same data as JSON
# Lines (issue 15, "Speed"). The run (STEPS steps of loss, lr, grad_norm, accuracy and a wall
# time) is written by examples/gen_formats.rs into benches/data/formats-STEPS/ when missing:
# run.jsonl, tb/ (events), wandb/run-bench/run-bench.wandb, metrics.csv, mlflow.db, mlruns/.
# For each: best and median wall time of RUNS runs, peak RSS, file size, and the ratio of the
# best time to JSON Lines' best time.
#
# Usage: benches/formats/run.sh            (STEPS=1000000 RUNS=5 by default)
#        STEPS=10000 RUNS=1 benches/formats/run.sh   (a quick check that it works)
#        TMON=/tmp/tmon-old benches/formats/run.sh   (another binary, nothing built when the
#                                                      data exists: before and after in one session)
#        FIFO=1 benches/formats/run.sh               (each run under `chrt -f 10`, the real-time
#                                                      class: near a quiet machine's wall time on a
#                                                      loaded one; needs CAP_SYS_NICE)
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
STEPS=${STEPS:-1000000}
RUNS=${RUNS:-5}
DATA="$ROOT/benches/data/formats-$STEPS"
prio=()
[ "${FIFO:-0}" = 1 ] && prio=(chrt -f 10)

if [ -z "${TMON:-}" ] || [ ! -f "$DATA/run.jsonl" ]; then
    echo "building tmon and the generator (release)..." >&2
    cargo build --release --quiet --bin tmon --example gen_formats
fi
TMON=${TMON:-"$ROOT/target/release/tmon"}
echo "tmon: $TMON; load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [ ! -f "$DATA/run.jsonl" ]; then
    echo "writing $STEPS steps in every format into $DATA ..." >&2
    "$ROOT/target/release/examples/gen_formats" "$DATA" "$STEPS"
fi

have_time=0
[ -x /usr/bin/time ] && have_time=1 || echo "note: /usr/bin/time missing: no peak RSS" >&2
rss_file=$(mktemp)
trap 'rm -f "$rss_file"' EXIT

# one PATH: a run of tmon check; sets MS and RSS (kB). Status 1 (a flag) is fine.
one() {
    local t0 t1 rc=0
    t0=$(date +%s%N)
    if [ $have_time = 1 ]; then
        "${prio[@]}" /usr/bin/time -f '%M' -o "$rss_file" "$TMON" check "$1" >/dev/null || rc=$?
    else
        "${prio[@]}" "$TMON" check "$1" >/dev/null || rc=$?
        echo 0 >"$rss_file"
    fi
    t1=$(date +%s%N)
    [ $rc -le 1 ] || { echo "tmon check $1 failed (status $rc)" >&2; exit 1; }
    MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
    RSS=$(tail -n 1 "$rss_file")
}

size_of() { du -sb "$1" | cut -f1; }

printf '%-12s %8s %10s %10s %10s %9s\n' format MB best_ms median_ms peak_MB vs_jsonl
jsonl_best=
for pair in jsonl:run.jsonl tfevents:tb wandb:wandb/run-bench/run-bench.wandb csv:metrics.csv \
    mlflow-db:mlflow.db mlflow-files:mlruns; do
    name=${pair%%:*}
    path="$DATA/${pair#*:}"
    cat "$path" >/dev/null 2>&1 || find "$path" -type f -exec cat {} + >/dev/null
    times=() peak=0
    for _ in $(seq "$RUNS"); do
        one "$path"
        times+=("$MS")
        [ "$RSS" -gt "$peak" ] && peak=$RSS
    done
    sorted=$(printf '%s\n' "${times[@]}" | sort -n)
    best=$(echo "$sorted" | head -n 1)
    median=$(echo "$sorted" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    [ -z "$jsonl_best" ] && jsonl_best=$best
    printf '%-12s %8.1f %10s %10s %10.1f %9.2f\n' "$name" "$(awk -v b="$(size_of "$path")" 'BEGIN { print b / 1e6 }')" \
        "$best" "$median" "$(awk -v k="$peak" 'BEGIN { print k / 1024 }')" \
        "$(awk -v a="$best" -v b="$jsonl_best" 'BEGIN { print a / b }')"
done
