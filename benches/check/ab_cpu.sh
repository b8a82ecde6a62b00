#!/usr/bin/env bash
# A/B of `tmon check FILE` between binaries, for a loaded machine: the binaries run alternately,
# RUNS times each, on TMON_THREADS=${T:-1} (one thread by default: its CPU time is the work done,
# which other processes disturb far less than the wall time), through timeit.py. Prints the
# median and least wall and CPU time of each binary, and checks that they print the same bytes.
#
#   benches/check/ab_cpu.sh RUNS FILE BIN_A BIN_B...
#   T=2 benches/check/ab_cpu.sh 9 benches/data/check_peers.jsonl /tmp/tmon-old target/release/tmon
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 3 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
runs=$1 file=$2
shift 2
T=${T:-1}
declare -A walls cpus
for _ in $(seq "$runs"); do
    for b in "$@"; do
        read -r w c _ _ < <(TMON_THREADS=$T python3 benches/check/timeit.py "$b" check "$file")
        walls[$b]+="$w " cpus[$b]+="$c "
    done
done
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
