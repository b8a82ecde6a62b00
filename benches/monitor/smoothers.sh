#!/usr/bin/env bash
# Memory of the monitor while every smoother and every x axis is shown in turn (issue 14, "Big
# logs stay responsive": "memory stays under half the file after cycling every smoother and x
# mode"). Usage:
#
#   benches/monitor/smoothers.sh SIZE      # SIZE in bytes, or 1g / 200m; e.g. 1g for the issue's log
#   TMON=/path/to/tmon benches/monitor/smoothers.sh 50m
#
# Writes benches/data/smoothers_SIZE.jsonl with benches/check/gen_log.py when missing (the same
# generator as the monitor and check benchmarks), opens the release `tmon FILE` in a detached tmux
# server (160x48, benches/monitor/tmux.sh), waits until it is fully loaded and idle, then presses
# `m` four times (EMA -> TWEMA -> Gaussian -> running average -> EMA) on each x axis, pressing `x`
# between them (step -> relative -> wall -> step), waiting after each key until tmon is idle
# again. Prints VmRSS after loading and after each key, VmHWM (peak RSS) at the end, each against
# the file's size, and the load average. Every figure comes from /proc; nothing in tmon is
# instrumented.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
HERE="$ROOT/benches/monitor"
SIZE=${1:?usage: benches/monitor/smoothers.sh SIZE (bytes, or e.g. 200m, 1g)}
case $SIZE in
    *[gG]) BYTES=$((${SIZE%[gG]} * 1000000000)) ;;
    *[mM]) BYTES=$((${SIZE%[mM]} * 1000000)) ;;
    *[kK]) BYTES=$((${SIZE%[kK]} * 1000)) ;;
    *) BYTES=$SIZE ;;
esac
SETTLE_TIMEOUT=${SETTLE_TIMEOUT:-120} # s, per key
for tool in tmux python3 timeout; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done
mkdir -p "$ROOT/benches/data"
FILE="$ROOT/benches/data/smoothers_$BYTES.jsonl"
if [ ! -s "$FILE" ]; then
    echo "generating $FILE ..." >&2
    timeout 3600 python3 benches/check/gen_log.py "$FILE.tmp" --bytes "$BYTES"
    mv "$FILE.tmp" "$FILE"
fi

. "$HERE/tmux.sh" smoothers

header() { tm capture-pane -p -t bench:0 -S 0 -E 0; }
kb() { awk -v k="$1" '$1 == k":" { print $2 }' "/proc/$PID/status"; }
alive() {
    local st
    st=$(sed 's/.*) //' "/proc/$PID/stat" 2>/dev/null | cut -d' ' -f1) || st=
    [ -n "$st" ] && [ "$st" != Z ] || { echo "tmon (pid $PID) died; pane:" >&2; tm capture-pane -p -t bench:0 >&2 || true; exit 1; }
}
# settle: waits until tmon has used no CPU for 1 s (polled every 0.25 s), at most SETTLE_TIMEOUT s.
settle() {
    local last now still=0 t=0
    last=$(cpu_ticks "$PID")
    while [ "$still" -lt 4 ]; do
        sleep 0.25
        alive
        now=$(cpu_ticks "$PID")
        if [ "$now" = "$last" ]; then still=$((still + 1)); else still=0; fi
        last=$now
        t=$((t + 1))
        if [ "$t" -gt $((SETTLE_TIMEOUT * 4)) ]; then
            echo "tmon never went idle" >&2
            exit 1
        fi
    done
}

FSIZE=$(stat -L -c %s "$FILE")
LAST=$(tail -n 1 "$FILE" | python3 -c 'import json, sys; s = json.loads(sys.stdin.read())["step"]; print(int(s) if float(s).is_integer() else s)')
tm respawn-pane -k -t bench:0 "exec $(printf '%q' "$TMON") $(printf '%q' "$FILE")"
PID=$(tm display-message -p -t bench:0 '#{pane_pid}')
T0=$(date +%s)
while :; do
    h=$(header || true)
    [[ $h == *"step $LAST "* && $h != *loading* ]] && break
    if [ $(($(date +%s) - T0)) -gt 1800 ]; then
        echo "not loaded after 1800 s; header: $h" >&2
        exit 1
    fi
    alive
    sleep 0.2
done
settle
mb() { awk -v k="$1" -v f="$FSIZE" 'BEGIN { printf "%8.1f MB  %5.1f%% of the file", k / 1024, k * 1024 * 100 / f }'; }
echo "file: $FILE, $((FSIZE / 1000000)) MB, $(wc -l <"$FILE") lines; tmon $TMON"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
MAXRSS=0
# rss LABEL: prints VmRSS, and keeps the largest seen (VmHWM is synced lazily by the kernel).
rss() {
    local k
    k=$(kb VmRSS)
    [ "$k" -gt "$MAXRSS" ] && MAXRSS=$k
    printf '%-34s VmRSS %s\n' "$1" "$(mb "$k")"
}
rss loaded
SMOOTHERS=(TWEMA Gaussian "running avg" EMA)
AXES=("relative time" "wall time" "step")
for a in 0 1 2; do
    for s in 0 1 2 3; do
        tm send-keys -t bench:0 m
        sleep 0.3
        settle
        rss "m: ${SMOOTHERS[$s]}"
    done
    tm send-keys -t bench:0 x
    sleep 0.3
    settle
    rss "x: ${AXES[$a]}"
done
HWM=$(kb VmHWM)
[ "$MAXRSS" -gt "$HWM" ] && HWM=$MAXRSS
printf '%-34s VmHWM %s\n' "peak over the whole run" "$(mb "$HWM")"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ $((HWM * 1024 * 2)) -le "$FSIZE" ]; then
    echo "peak RSS under half the file: yes"
else
    echo "peak RSS under half the file: NO"
fi
tm send-keys -t bench:0 q
