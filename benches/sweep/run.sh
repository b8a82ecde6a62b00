#!/usr/bin/env bash
# Benchmark of `tmon check` on a sweep of many runs (issue 11, "Scale"): a generated sweep of
# RUNS runs of STEPS steps each (default 200 x 50,000, about 1.4 GB; gen_sweep.py), its files
# dated a day back (a finished sweep: the cross-run flags judge it by steps). Measures, in this
# one run, with the page cache warm:
#   tmon check DIR          wall time (best and median of REPEAT), user+sys CPU, cores used
#                           (CPU / wall), peak RSS (/usr/bin/time -f %M), RSS / total size
#   tmon check, one core    the same under `taskset -c 0` (the speed-up of reading across files)
#   cat DIR/*/metrics.jsonl > /dev/null   the cost of reading the bytes at all, for scale
#   one run alone           its peak RSS over a one-line log's: what a run of STEPS steps costs
# and checks that the output names the diverging run (run_007) and the stopped one (run_011).
#
# Usage: RUNS=20 STEPS=5000 benches/sweep/run.sh        (REPEAT=3 by default)
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
RUNS=${RUNS:-200}
STEPS=${STEPS:-50000}
REPEAT=${REPEAT:-3}
DIR="$ROOT/benches/data/sweep_${RUNS}x${STEPS}"

echo "building tmon (release)..." >&2
cargo build --release --quiet --bin tmon
TMON="$ROOT/target/release/tmon"
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed for peak RSS (apt-get install time)" >&2; exit 2; }

if [ ! -s "$DIR/run_$(printf %03d $((RUNS - 1)))/metrics.jsonl" ]; then
    echo "generating $DIR ..." >&2
    python3 benches/sweep/gen_sweep.py "$DIR" --runs "$RUNS" --steps "$STEPS"
fi
find "$DIR" -type f -exec touch -d '1 day ago' {} +
bytes=$(find "$DIR" -name metrics.jsonl -printf '%s\n' | awk '{ s += $1 } END { print s }')
echo "machine: $(nproc) cores, $(uname -sr); tmon $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$DIR: $RUNS runs x $STEPS steps, $(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB"
cat "$DIR"/*/metrics.jsonl >/dev/null

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# bench NAME cmd...: REPEAT runs; prints wall best/median, least CPU, cores used, peak RSS.
bench() {
    local name=$1
    shift
    local walls=() cpus=() peak=0 rc
    for _ in $(seq "$REPEAT"); do
        rc=0
        /usr/bin/time -f '%e %U %S %M' -o "$tmp" "$@" >/dev/null || rc=$?
        [ $rc -le 1 ] || { echo "failed (status $rc): $*" >&2; exit 1; }
        read -r wall user sys rss < <(tail -n 1 "$tmp")
        walls+=("$wall")
        cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')")
        [ "$rss" -gt "$peak" ] && peak=$rss
    done
    local best median cpu
    best=$(printf '%s\n' "${walls[@]}" | sort -g | head -n 1)
    median=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
    cpu=$(printf '%s\n' "${cpus[@]}" | sort -g | head -n 1)
    printf '  %-24s wall best %7.2f s  median %7.2f s   cpu %7.2f s   cores used %4.1f   peak RSS %7.1f MB (%.2f of the files)\n' \
        "$name" "$best" "$median" "$cpu" "$(awk -v c="$cpu" -v w="$best" 'BEGIN { print (w > 0) ? c / w : 0 }')" \
        "$(awk -v k="$peak" 'BEGIN { print k / 1024 }')" "$(awk -v k="$peak" -v b="$bytes" 'BEGIN { print k * 1024 / b }')"
}

bench "cat (read the bytes)" cat "$DIR"/*/metrics.jsonl
bench "tmon check" "$TMON" check "$DIR"
if command -v taskset >/dev/null; then
    bench "tmon check, one core" taskset -c 0 "$TMON" check "$DIR"
fi

# What one run of STEPS steps costs while `check` reads it: the peak RSS of checking that run
# alone, less that of checking a one-line log (the program itself).
printf '{"step": 1, "loss": 1.0}\n' >"$tmp.one.jsonl"
/usr/bin/time -f '%M' -o "$tmp" "$TMON" check "$tmp.one.jsonl" >/dev/null || true
base=$(tail -n 1 "$tmp")
/usr/bin/time -f '%M' -o "$tmp" "$TMON" check "$DIR/run_000/metrics.jsonl" >/dev/null || true
one=$(tail -n 1 "$tmp")
rm -f "$tmp.one.jsonl"
awk -v a="$one" -v b="$base" -v n="$STEPS" 'BEGIN {
    printf "  one run of %d steps: peak RSS %.1f MB, %.1f MB over a one-line log: %.0f bytes a step\n", n, a / 1024, (a - b) / 1024, (a - b) * 1024 / n
}'

# The flags across runs name the right runs.
"$TMON" check --json "$DIR" >"$tmp" || true
python3 - "$tmp" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
flags = sorted((f["run"], f["kind"]) for f in doc["compare"]["flags"])
print("  cross-run flags:", flags)
assert ("run_007", "run_outlier") in flags, flags
assert ("run_011", "run_stopped") in flags, flags
assert all(r in ("run_007", "run_011") for r, _ in flags), flags
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
