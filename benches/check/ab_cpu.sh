#!/usr/bin/env bash
# A/B of `tmon check FILE` between binaries, for a loaded machine: the binaries run alternately,
# RUNS times each, on TMON_THREADS=${T:-1} (one thread by default: its CPU time is the work done,
# which other processes disturb far less than the wall time), through timeit.py. Prints the
# median and least wall and CPU time of each binary, and checks that they print the same bytes.
#
# FIFO=1 runs each timed process under `chrt -f 10` (the real-time FIFO class, which needs
# CAP_SYS_NICE): other processes wait while it runs, so its wall time is close to a quiet
# machine's even under load; with T=2 that is the figure of how well the threads overlap. It
# also times `wc -l` on FILE the same way, for the ratio. Runs are short; the kernel keeps 5% of
# each second for other processes whatever happens.
#
#   benches/check/ab_cpu.sh RUNS FILE BIN_A BIN_B...
#   T=2 benches/check/ab_cpu.sh 9 benches/data/check_peers.jsonl /tmp/tmon-old target/release/tmon
#   FIFO=1 T=2 benches/check/ab_cpu.sh 5 benches/data/check_detr.jsonl /tmp/tmon-old target/release/tmon
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 3 ] || { sed -n '2,16p' "$0" >&2; exit 2; }
runs=$1 file=$2
shift 2
T=${T:-1}
prio=()
[ "${FIFO:-0}" = 1 ] && prio=(chrt -f 10)
declare -A walls cpus
wcw=""
for _ in $(seq "$runs"); do
    for b in "$@"; do
        read -r w c _ _ < <(TMON_THREADS=$T "${prio[@]}" python3 benches/check/timeit.py "$b" check "$file")
        walls[$b]+="$w " cpus[$b]+="$c "
    done
    if [ "${FIFO:-0}" = 1 ]; then
        read -r w _ _ _ < <("${prio[@]}" python3 benches/check/timeit.py wc -l "$file")
        wcw+="$w "
    fi
done
if [ -n "$wcw" ]; then
    python3 -c 'import sys; w = [float(x) for x in sys.argv[1:]]; print(f"wc -l: wall least {min(w):.1f} ms")' $wcw
fi
for b in "$@"; do
    python3 - "$b" "${walls[$b]}" "${cpus[$b]}" <<'PY'
import statistics, sys
b, w, c = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
print(f"{b}: wall median {statistics.median(w):.1f} ms (least {min(w):.1f}), cpu median {statistics.median(c):.1f} ms (least {min(c):.1f})")
PY
done
first=$1
shift
for b in "$@"; do
    if cmp -s <("$first" check "$file" 2>&1) <("$b" check "$file" 2>&1); then
        echo "$b prints what $first prints"
    else
        echo "$b prints other bytes than $first" >&2
        exit 1
    fi
done
