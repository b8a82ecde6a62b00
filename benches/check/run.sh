#!/usr/bin/env bash
# Benchmark of `tmon check` against `wc -l` (issue 2 "Speed and memory", issue 12 "Read at the
# speed of the disk").
#
# Generates the logs into benches/data/ when missing (benches/check/gen.sh: our 1M-line and 1 GB
# logs, a peers-style log, a 200-metric log, the real corpus repeated), builds tmon in release
# mode, warms the page cache, then for each file measures in this one run:
#   wc -l            wall time (best and median of RUNS), least CPU time (user+sys of every
#                    thread, to the microsecond: benches/check/timeit.py)
#   tmon check       the same, and peak RSS (/usr/bin/time -f %M), on every core
#   TMON_THREADS=N   tmon check again on N threads, for each N in THREADS (scaling with cores)
#   python json.loads per line, jq -c .   (one run each, for context; 1M file only unless CONTEXT_ALL=1)
# and prints tmon/wc and peak RSS / file size.
#
# Usage: benches/check/run.sh [1m] [1g] [peers] [wide] [detr] [corpus]   (default: all)
#   RUNS=5 runs each; THREADS="1 2" (default: 1, 2 and every core; empty: no scaling runs);
#   TMON=path: a prebuilt binary instead of `cargo build --release`; BEFORE=path: another binary
#   (an older commit's) timed in the same run, for before/after ratios.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DATA="$ROOT/benches/data"
RUNS=${RUNS:-5}
CONTEXT_ALL=${CONTEXT_ALL:-0}
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(1m 1g peers wide detr corpus)
CORES=$(nproc)
THREADS=${THREADS-1 2 $CORES}
# Each count once (on a 2-core machine "every core" is 2).
THREADS=$(printf '%s\n' $THREADS | awk '!seen[$0]++' | tr '\n' ' ')

mkdir -p "$DATA"
if [ -z "${TMON:-}" ]; then
    echo "building tmon (release)..." >&2
    cargo build --release --quiet --bin tmon
    TMON="$ROOT/target/release/tmon"
fi

if [ ! -x /usr/bin/time ]; then echo "note: /usr/bin/time missing: no peak RSS" >&2; fi

# time_once cmd...: one run, through timeit.py: wall ms (the child alone, to 0.1 ms), CPU ms
# (user + system of every thread, to the microsecond) and peak RSS in kB.
# Exit status 1 is accepted (tmon check's "a flag reached --fail-on").
time_once() {
    local rc
    read -r LAST_MS LAST_CPU LAST_RSS rc < <(python3 benches/check/timeit.py "$@")
    if [ "${rc:-2}" -gt 1 ]; then
        echo "command failed (status ${rc:-?}): $*" >&2
        exit 1
    fi
}

# bench NAME cmd...: RUNS runs; sets BEST MEDIAN (wall ms), CPU (least user+sys ms, which other
# processes on a busy machine disturb less than the wall time) and PEAK (max RSS over runs, kB).
bench() {
    local name=$1
    shift
    local times=() peak=0 cpu=
    for _ in $(seq "$RUNS"); do
        time_once "$@"
        times+=("$LAST_MS")
        [ "$LAST_RSS" -gt "$peak" ] && peak=$LAST_RSS
        if [ -z "$cpu" ] || awk -v a="$LAST_CPU" -v b="$cpu" 'BEGIN { exit !(a < b) }'; then cpu=$LAST_CPU; fi
    done
    CPU=$cpu
    BEST=$(printf '%s\n' "${times[@]}" | sort -g | head -n 1)
    MEDIAN=$(printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
    PEAK=$peak
    printf '  %-28s wall best %9.1f ms  median %9.1f ms   cpu %9.1f ms   peak RSS %7.1f MB\n' \
        "$name" "$BEST" "$MEDIAN" "$CPU" "$(awk -v k="$PEAK" 'BEGIN { print k / 1024 }')"
}

echo "machine: $(nproc) cores, $(uname -sr); tmon $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for size in "${SIZES[@]}"; do
    file="$DATA/check_$size.jsonl"
    benches/check/gen.sh "$size" "$file"
    bytes=$(stat -L -c %s "$file")
    lines=$(wc -l <"$file")
    echo
    echo "$file: $lines lines, $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB"
    cat "$file" >/dev/null # warm the page cache
    bench "wc -l" wc -l "$file"
    wc_best=$BEST wc_median=$MEDIAN wc_cpu=$CPU
    if [ -n "${BEFORE:-}" ]; then
        bench "before: tmon check" "$BEFORE" check "$file"
        awk -v b="$BEST" -v w="$wc_best" -v c="$CPU" -v wc="$wc_cpu" -v p="$PEAK" -v s="$bytes" \
            'BEGIN { printf "    before: %.1fx wc -l (best wall); cpu %.1fx; peak RSS / file %.2f\n", b / w, (wc > 0 ? c / wc : 0), p * 1024 / s }'
    fi
    bench "tmon check ($CORES threads)" "$TMON" check "$file"
    t_best=$BEST t_median=$MEDIAN t_peak=$PEAK t_cpu=$CPU
    for n in $THREADS; do
        bench "TMON_THREADS=$n tmon check" env TMON_THREADS="$n" "$TMON" check "$file"
        awk -v b="$BEST" -v w="$wc_best" -v t="$t_best" -v c="$CPU" -v wc="$wc_cpu" \
            'BEGIN { printf "    %.1fx wc -l (best wall), cpu %.1fx; every core is %.2fx this\n", b / w, c / wc, t / b }'
    done
    if [ "$size" = 1m ] || [ "$CONTEXT_ALL" = 1 ]; then
        RUNS_SAVED=$RUNS RUNS=1
        bench "python json.loads per line" python3 -c \
            'import json, sys
for line in open(sys.argv[1], "rb"): json.loads(line)' "$file"
        if command -v jq >/dev/null; then bench "jq -c ." jq -c . "$file"; fi
        RUNS=$RUNS_SAVED
    fi
    awk -v tb="$t_best" -v wb="$wc_best" -v tm="$t_median" -v wm="$wc_median" -v p="$t_peak" -v b="$bytes" \
        -v tc="$t_cpu" -v wcc="$wc_cpu" 'BEGIN {
        printf "  tmon/wc wall: %.1fx (best), %.1fx (median)", tb / wb, tm / wm
        if (wcc > 0) printf "; cpu: %.1fx", tc / wcc
        printf "; tmon peak RSS / file size: %.2f\n", p * 1024 / b
    }'
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
