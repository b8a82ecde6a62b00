#!/usr/bin/env bash
# Soak (issue 10): tmon following a log written at RATE lines/s for SECS, observed from outside
# through /proc/PID/{stat,status}. Two followers, one after the other:
#
#   follow   `tmon check --follow` (headless: the live set alone, the path of alerting)
#   monitor  the full-screen monitor, `tmon LOG`, in a detached tmux server (own socket, 160x48)
#
# The writer is benches/monitor/writer.py (the lines of benches/check/gen_log.py: ~25 fields each).
# Every SAMPLE seconds: tmon's CPU (utime+stime) and resident memory (VmRSS). Reported per
# follower: CPU in % of one core while the writer runs, resident memory at start (after the first
# sample) and at the end, memory per record ((end - start) / lines written), the peak (VmHWM), and
# whether tmon was still alive at the end.
#
# Usage: benches/soak/run.sh [follow] [monitor]     (default: both)
#   SECS=600 RATE=2000 SAMPLE=5   duration, lines/s, sampling period
#   TMON=path                     a prebuilt binary instead of `cargo build --release`
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
SECS=${SECS:-600}
RATE=${RATE:-2000}
SAMPLE=${SAMPLE:-5}
MODES=("$@")
[ ${#MODES[@]} -eq 0 ] && MODES=(follow monitor)
for m in "${MODES[@]}"; do
    case $m in follow | monitor) ;; *) echo "unknown mode '$m' (follow monitor)" >&2; exit 2 ;; esac
done
for tool in python3 timeout; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done
if [ -z "${TMON:-}" ]; then
    echo "building tmon (release)..." >&2
    timeout 1800 cargo build --release --quiet --bin tmon
    TMON="$ROOT/target/release/tmon"
fi
HZ=$(getconf CLK_TCK)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tmon-soak.XXXXXX")
SOCK="tmon-soak-$$-$RANDOM"
cleanup() {
    tmux -L "$SOCK" kill-server 2>/dev/null || true
    [ -n "${TPID:-}" ] && kill "$TPID" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }

soak() {
    local mode=$1 log="$TMP/$1.jsonl"
    : >"$log"
    # A short history, so both followers start from a file with records.
    python3 "$ROOT/benches/monitor/writer.py" "$log" --from 0 --count 2000 --rate 0 >/dev/null
    if [ "$mode" = follow ]; then
        "$TMON" check --follow "$log" >/dev/null 2>"$TMP/follow.err" &
        TPID=$!
    else
        command -v tmux >/dev/null || { echo "tmux is needed for the monitor" >&2; return; }
        tmux -L "$SOCK" -f /dev/null new-session -d -s soak -x 160 -y 48 "exec $TMON $log"
        sleep 0.5
        TPID=$(tmux -L "$SOCK" display-message -p -t soak '#{pane_pid}')
    fi
    sleep 3
    local count=$((SECS * RATE))
    python3 "$ROOT/benches/monitor/writer.py" "$log" --from 2000 --count "$count" --rate "$RATE" >"$TMP/writer.out" &
    local wpid=$!
    local rss0 c0 t0 rss=0 samples=0
    rss0=$(rss_kb "$TPID")
    c0=$(cpu_ticks "$TPID")
    t0=$(date +%s.%N)
    while kill -0 "$wpid" 2>/dev/null; do
        sleep "$SAMPLE"
        kill -0 "$TPID" 2>/dev/null || break
        rss=$(rss_kb "$TPID")
        samples=$((samples + 1))
    done
    wait "$wpid" || true
    local t1 c1 hwm alive=yes
    t1=$(date +%s.%N)
    if kill -0 "$TPID" 2>/dev/null; then
        sleep 2 # let it take the last lines
        c1=$(cpu_ticks "$TPID")
        rss=$(rss_kb "$TPID")
        hwm=$(hwm_kb "$TPID")
    else
        alive=no c1=$c0 hwm=0
    fi
    read -r written wsecs _ <"$TMP/writer.out" || { written=0; wsecs=0; }
    python3 - "$mode" "$written" "$wsecs" "$c0" "$c1" "$HZ" "$t0" "$t1" "$rss0" "$rss" "$hwm" "$alive" "$samples" <<'EOF'
import sys
mode, written, wsecs, c0, c1, hz, t0, t1, rss0, rss, hwm, alive, samples = sys.argv[1:]
written, wsecs = int(written), float(wsecs)
cpu = (int(c1) - int(c0)) / int(hz)
wall = float(t1) - float(t0)
grow = (int(rss) - int(rss0)) * 1024
per = grow / written if written else float("nan")
print(f"soak [{mode}]: {written} lines in {wsecs:.0f} s ({written / max(wsecs, 1e-9):.0f} lines/s); "
      f"CPU {cpu / wall * 100:.1f}% of a core; RSS {int(rss0) / 1024:.1f} -> {int(rss) / 1024:.1f} MiB "
      f"({per:.1f} bytes per record); peak {int(hwm) / 1024:.1f} MiB; alive at the end: {alive}; "
      f"{samples} samples")
EOF
    if [ "$mode" = follow ]; then
        kill "$TPID" 2>/dev/null || true
        wait "$TPID" 2>/dev/null || true
    else
        tmux -L "$SOCK" kill-server 2>/dev/null || true
    fi
    TPID=
}

for m in "${MODES[@]}"; do
    soak "$m"
done
