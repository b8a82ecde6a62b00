#!/usr/bin/env bash
# The monitor's full load against `tmon check`, in CPU time (what a loaded machine disturbs
# least; benches/monitor/run.sh gives the wall times): for each binary, RUNS times alternately,
# `tmon check FILE` through timeit.py, then `tmon FILE` in a detached tmux (160x48) read WAIT
# seconds after launch (loaded and idle by then) for the CPU time of the whole process, every
# thread, from /proc. Prints the medians and their ratio.
#
#   benches/monitor/load_cpu.sh FILE RUNS BIN...
#   WAIT=4 benches/monitor/load_cpu.sh benches/data/check_1m.jsonl 4 target/release/tmon
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 3 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
command -v tmux >/dev/null || { echo "needs tmux" >&2; exit 2; }
file=$(realpath "$1") runs=$2
shift 2
TMP=$(mktemp -d)
SOCK="tmon-load-cpu-$$"
trap 'tmux -L "$SOCK" kill-server 2>/dev/null || true; rm -rf "$TMP"' EXIT
tick_ms=$((1000 / $(getconf CLK_TCK)))
for _ in $(seq "$runs"); do
    for b in "$@"; do
        b=$(realpath "$b")
        read -r _ c _ _ < <(python3 benches/check/timeit.py "$b" check "$file")
        tmux -L "$SOCK" new-session -d -x 160 -y 48 "exec '$b' '$file'"
        sleep "${WAIT:-4}"
        pid=$(tmux -L "$SOCK" list-panes -F '#{pane_pid}' | head -n 1)
        # utime + stime of the process (fields 14 and 15; after the `(comm)` field).
        m=$(sed 's/.*) //' "/proc/$pid/stat" | awk -v t="$tick_ms" '{ print ($12 + $13) * t }')
        echo "$c $m" >>"$TMP/$(basename "$b")"
        tmux -L "$SOCK" send-keys q
        sleep 0.5
        tmux -L "$SOCK" kill-server 2>/dev/null || true
    done
done
for b in "$@"; do
    python3 - "$TMP/$(basename "$b")" "$b" <<'PY'
import statistics, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
c, m = [r[0] for r in rows], [r[1] for r in rows]
print(f"{sys.argv[2]}: check cpu median {statistics.median(c):.0f} ms; monitor cpu to full load median "
      f"{statistics.median(m):.0f} ms; ratio {statistics.median(m) / statistics.median(c):.2f} "
      f"(per run {', '.join(f'{y / x:.2f}' for x, y in zip(c, m))})")
PY
done
