#!/usr/bin/env bash
# Benchmark of the monitor comparing runs (issue 11, "Scale: a sweep of hundreds of runs"), in a
# real terminal: the release `tmon DIR` inside a detached tmux server (own socket, 160x48),
# observed from outside with capture-pane, pipe-pane and /proc/PID/{stat,status}.
#
#   open  a generated sweep (RUNS x STEPS, benches/monitor/sweep_gen.py: 200 x 50,000 steps, twelve
#         metrics a line, ~1.8 GB), page cache warm, OPEN_RUNS times: ms from launch until the
#         runs panel's rows all show their run's last step (each run's newest data; the panel
#         shows the first rows by name), ms until the header no longer says "loading" (every
#         run's history read), `tmon check DIR` wall time on the same files in the same round,
#         and tmon's peak RSS (VmHWM, 1 s after loading) against the files' total size; beside the
#         wall times, the CPU time (user+sys) tmon used until loaded and `tmon check` used, which
#         move much less with the load of a shared machine.
#   live  LIVE_RUNS (50) runs of HISTORY (2000) steps, each appended 10 steps/s for LIVE_SECS (30)
#         by benches/monitor/sweep_live.py: tmon's CPU (utime+stime) and the bytes it writes to the
#         terminal.
# The redraw of a grid of 12 charts overlaying 200 runs is timed in-process: `cargo bench --bench
# overlay` (benches/overlay.rs). Ends with a table of each figure next to its target.
#
# Usage: benches/monitor/sweep.sh [open] [live]        (default: both)
#   QUICK=1        20 runs x 5,000 steps, one round, live 10 runs for 10 s
#   RUNS, STEPS, OPEN_RUNS, LIVE_RUNS, LIVE_SECS override; TMON=path a prebuilt binary
#   HI=1           this script (its poller and `tmon check`), the tmux server and the monitor each
#                  in a session whose scheduler autogroup has nice -20 (root only): on a machine
#                  shared with other sessions' builds they then get the cores about as on a quiet
#                  machine (`nice` alone does not reach across sessions' autogroups; `chrt -f`
#                  would starve the monitor's loop thread behind its loader threads)
# Sweeps go to benches/data/monitor_sweep_RUNSxSTEPS/ (gitignored; not benches/sweep/run.sh's sweep_RUNSxSTEPS/, whose files differ), generated when missing.
set -euo pipefail

if [ "${HI:-0}" = 1 ]; then
    # A session of our own, so that raising its autogroup leaves the caller's alone.
    [ -n "${HI_SESSION:-}" ] || exec setsid -w env HI_SESSION=1 bash "$0" "$@"
    echo -20 >/proc/self/autogroup
fi

cd "$(dirname "$0")/../.."
ROOT=$(pwd)
DATA="$ROOT/benches/data"
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
    RUNS=${RUNS:-20} STEPS=${STEPS:-5000} OPEN_RUNS=${OPEN_RUNS:-1} LIVE_RUNS=${LIVE_RUNS:-10} LIVE_SECS=${LIVE_SECS:-10}
else
    RUNS=${RUNS:-200} STEPS=${STEPS:-50000} OPEN_RUNS=${OPEN_RUNS:-3} LIVE_RUNS=${LIVE_RUNS:-50} LIVE_SECS=${LIVE_SECS:-30}
fi
HISTORY=${HISTORY:-2000}
LIVE_RATE=10
OPEN_TIMEOUT=600
PHASES=("$@")
[ ${#PHASES[@]} -eq 0 ] && PHASES=(open live)
for p in "${PHASES[@]}"; do
    case $p in open | live) ;; *) echo "unknown phase '$p' (open live)" >&2; exit 2 ;; esac
done
for tool in tmux python3 timeout; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done

. "$ROOT/benches/monitor/tmux.sh" sweep
# HI=1: the tmux server (a session of its own, which draws tmon's output and answers the
# poller) raised too.
[ "${HI:-0}" = 1 ] && echo -20 >"/proc/$(tm display-message -p '#{pid}')/autogroup"

# The clock and the process's state from bash's builtins: wait_open polls them while tmon loads,
# on the same cores, and a `date`, `sed` and `cut` a poll (with `sleep`, `head` and the
# subshells) cost about 12 ms of CPU every 100 ms, an eighth of a core taken from tmon (and not
# from `tmon check`, timed without a poller). Now a poll is the tmux client alone (about 3 ms).
now_ns() { echo $((${EPOCHREALTIME//[.,]/} * 1000)); }
ms_since() { echo $(((${EPOCHREALTIME//[.,]/} * 1000 - $1) / 1000000)); }
screen() { tm capture-pane -p -t bench:0 || true; }
launch() {
    T0=$(now_ns)
    local hi=
    [ "${HI:-0}" = 1 ] && hi='echo -20 >/proc/self/autogroup && '
    tm respawn-pane -k -t bench:0 "${hi}exec $(printf '%q' "$TMON") $(printf '%q' "$1")"
    PID=$(tm display-message -p -t bench:0 '#{pane_pid}')
}
running() {
    local stat st
    { read -r stat <"/proc/$PID/stat"; } 2>/dev/null || return 1
    st=${stat##*) } st=${st%% *}
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
quit() {
    tm send-keys -t bench:0 q || true
    local i
    for i in $(seq 100); do
        running || return 0
        sleep 0.05
    done
    kill "$PID" 2>/dev/null || true
}
alive() { running || { echo "tmon (pid $PID) died; pane:" >&2; screen >&2; exit 1; }; }
vm_hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }
fsize() { stat -c %s "$1" 2>/dev/null || echo 0; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
verdict() { awk "BEGIN { print ($1) ? \"ok\" : \"MISS\" }"; }
RESULTS=()
result() { RESULTS+=("$1|$2|$3|$4"); }

# panel_rows_at SCREEN LAST: how many rows of the runs panel show step LAST.
panel_rows_at() {
    local line n=0 re="^│.{3} run_[0-9]+ .* $2 "
    while IFS= read -r line; do
        [[ $line =~ $re ]] && n=$((n + 1))
    done <<<"$1"
    echo "$n"
}

# wait_open LAST ROWS: polls until ROWS panel rows show LAST (FIRST_MS) and the header no longer
# says loading (LOADED_MS). Between polls, a `read` with a timeout on a pipe nobody writes to
# (bash's own sleep, no process a poll).
wait_open() {
    local last=$1 rows=$2 s el poll=0.02 nap
    FIRST_MS= LOADED_MS=
    exec {nap}<> <(:)
    while :; do
        s=$(screen)
        el=$(((${EPOCHREALTIME//[.,]/} * 1000 - T0) / 1000000))
        if [ -z "$FIRST_MS" ] && [ "$(panel_rows_at "$s" "$last")" -ge "$rows" ]; then
            FIRST_MS=$el poll=0.1
        fi
        if [ -n "$FIRST_MS" ] && [[ ${s%%$'\n'*} != *loading* ]]; then
            LOADED_MS=$el
            exec {nap}>&-
            return 0
        fi
        [ "$el" -gt $((OPEN_TIMEOUT * 1000)) ] && { echo "timeout; screen:" >&2; printf '%s\n' "$s" >&2; return 1; }
        alive
        read -r -t "$poll" -u "$nap" || true
    done
}

echo "machine: $(nproc) cores, $(uname -sr); tmon $(git rev-parse --short HEAD 2>/dev/null || echo '?'); binary $TMON"
echo "uptime: $(uptime)"
echo "tmux $(tmux -V | cut -d' ' -f2), 160x48, QUICK=$QUICK"

for phase in "${PHASES[@]}"; do
    case $phase in
    open)
        dir="$DATA/monitor_sweep_${RUNS}x${STEPS}"
        timeout 7200 python3 benches/monitor/sweep_gen.py "$dir" "$RUNS" "$STEPS"
        bytes=$(cat "$dir"/run_*/logs.jsonl | wc -c)
        last=$((STEPS - 1))
        # The panel's rows at 160x48: a third of the body, less its frame and title row.
        rows=$((RUNS < 12 ? RUNS : 12))
        echo
        echo "== open: $RUNS runs x $STEPS steps, $(awk -v b="$bytes" 'BEGIN { printf "%.0f MB", b / 1e6 }')"
        cat "$dir"/run_*/logs.jsonl >/dev/null # the page cache warm, for tmon and check alike
        firsts=() loadeds=() checks=() hwm=0 check_kb=0
        for round in $(seq "$OPEN_RUNS"); do
            t=$(now_ns)
            rc=0
            timeout 1800 /usr/bin/time -f '%M %U %S' -o "$TMP/check_rss" "$TMON" check "$dir" >/dev/null 2>&1 || rc=$?
            checks+=("$(ms_since "$t")")
            [ $rc -le 1 ] || { echo "tmon check failed (status $rc)" >&2; exit 1; }
            read -r kb cu cs < <(tail -n 1 "$TMP/check_rss")
            [ "$kb" -gt "$check_kb" ] && check_kb=$kb
            check_cpu=$(awk -v u="$cu" -v s="$cs" 'BEGIN { printf "%d", (u + s) * 1000 }')
            launch "$dir"
            wait_open "$last" "$rows"
            cpu_ms=$(($(cpu_ticks "$PID") * 1000 / HZ))
            sleep 1
            kb=$(vm_hwm_kb "$PID")
            [ "$kb" -gt "$hwm" ] && hwm=$kb
            quit
            firsts+=("$FIRST_MS") loadeds+=("$LOADED_MS")
            echo "   round $round: every panel row at its last step ${FIRST_MS} ms; all loaded ${LOADED_MS} ms;" \
                "tmon check ${checks[-1]} ms; tmon peak RSS $((kb / 1024)) MB;" \
                "CPU until loaded ${cpu_ms} ms (tmon check ${check_cpu} ms)"
        done
        first_max=$(printf '%s\n' "${firsts[@]}" | sort -g | tail -n 1)
        loaded_med=$(median "${loadeds[@]}")
        check_med=$(median "${checks[@]}")
        result "sweep: newest data on screen" "${first_max} ms (worst)" "<= 300 ms" "$(verdict "$first_max <= 300")"
        limit=$(awk -v c="$check_med" 'BEGIN { printf "%d", c * 1.2 + 200 }')
        result "sweep: all loaded" "${loaded_med} ms (median)" "<= check ${check_med} ms x1.2+200 = ${limit} ms" \
            "$(verdict "$loaded_med <= $limit")"
        ratio=$(awk -v k="$hwm" -v b="$bytes" 'BEGIN { printf "%.2f", k * 1024 / b }')
        result "sweep: peak RSS / files" "$((hwm / 1024)) MB = ${ratio}x" "< 0.5x (check: $((check_kb / 1024)) MB)" \
            "$(verdict "$ratio < 0.5")"
        ;;
    live)
        dir="$TMP/live"
        timeout 600 python3 benches/monitor/sweep_gen.py "$dir" "$LIVE_RUNS" "$HISTORY"
        mkdir -p "$TMP/terminal"
        out="$TMP/terminal/live.out"
        : >"$out"
        echo
        echo "== live: $LIVE_RUNS runs of $HISTORY steps, each appended $LIVE_RATE steps/s for $LIVE_SECS s, at 160x48"
        launch "$dir"
        T0=$(now_ns)
        wait_open $((HISTORY - 1)) $((LIVE_RUNS < 12 ? LIVE_RUNS : 12))
        sleep 2
        tm pipe-pane -o -t bench:0 "cat >> $(printf '%q' "$out")"
        c0=$(cpu_ticks "$PID")
        timeout $((LIVE_SECS + 60)) python3 benches/monitor/sweep_live.py "$dir" "$LIVE_RATE" "$LIVE_SECS" >"$TMP/writer.txt" &
        WRITER_PID=$!
        wait "$WRITER_PID"
        WRITER_PID=
        c1=$(cpu_ticks "$PID")
        at_stop=$(fsize "$out")
        alive
        tm pipe-pane -t bench:0 || true
        quit
        read -r wlines wsecs <"$TMP/writer.txt"
        cpu=$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v s="$wsecs" 'BEGIN { printf "%.2f", d / hz / s * 100 }')
        bps=$(awk -v b="$at_stop" -v s="$wsecs" 'BEGIN { printf "%.0f", b / s }')
        echo "   writer: $wlines lines in $wsecs s; tmon: cpu ${cpu}% of a core, $at_stop bytes (${bps} B/s) to the terminal"
        result "live $LIVE_RUNS runs x $LIVE_RATE steps/s: CPU" "${cpu}% of a core" "< 2%" "$(verdict "$cpu < 2")"
        result "live $LIVE_RUNS runs: to the terminal" "$(awk -v b="$bps" 'BEGIN { printf "%.1f KB/s", b / 1000 }')" \
            "<= ~20 KB/s" "$(verdict "$bps <= 20000")"
        ;;
    esac
done

echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '%-40s %-22s %-44s %s\n' "figure" "measured" "target" "verdict"
printf '%-40s %-22s %-44s %s\n' "------" "--------" "------" "-------"
for r in "${RESULTS[@]}"; do
    IFS='|' read -r name got want ok <<<"$r"
    printf '%-40s %-22s %-44s %s\n' "$name" "$got" "$want" "$ok"
done
