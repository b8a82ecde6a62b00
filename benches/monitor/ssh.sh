#!/usr/bin/env bash
# Bytes to the terminal while following one live run (issue 14, "Over SSH"): every combination of
# a line rate (10 and 100 lines/s), a history already in the file when tmon opens it (1k and 100k
# lines) and a log's width (9 and 40 metrics a line), at 160x48 in a detached tmux server; the
# bytes tmux receives from tmon (pipe-pane) over SECS seconds of writing, and the frames among them.
#
# Usage: benches/monitor/ssh.sh
#   RATES="10 100" HISTORIES="1000 100000" METRICS="9 40" SECS=30 (defaults)
#   TMON=path/to/tmon   EXTRA="--max-output 50"   (arguments added to tmon's command line)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
RATES=${RATES:-10 100} HISTORIES=${HISTORIES:-1000 100000} METRICS=${METRICS:-9 40} SECS=${SECS:-30}
EXTRA=${EXTRA:-}
for tool in tmux python3 timeout; do
    command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 2; }
done
. "$HERE/tmux.sh" ssh
frames() { python3 -c 'import sys; print(open(sys.argv[1],"rb").read().count(b"\x1b[?2026h"))' "$1"; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); tmon $(git rev-parse --short HEAD 2>/dev/null || echo '?') $EXTRA"
printf '%-8s %-9s %-8s %-10s %-9s %-9s %s\n' lines/s history metrics "KB/s" frames/s "B/frame" "CPU"
for m in $METRICS; do
    for h in $HISTORIES; do
        for r in $RATES; do
            name="m${m}_h${h}_r${r}"
            file="$TMP/logs/$name.jsonl" out="$TMP/terminal/$name.out"
            # Not beside the log: tmon watches the log's folder.
            mkdir -p "$TMP/logs" "$TMP/terminal"
            : >"$out"
            timeout 600 python3 "$HERE/ssh_writer.py" "$file" --metrics "$m" --count "$h" >/dev/null
            # shellcheck disable=SC2086
            tm respawn-pane -k -t bench:0 "exec $(printf '%q' "$TMON") $EXTRA $(printf '%q' "$file")"
            pid=$(tm display-message -p -t bench:0 '#{pane_pid}')
            for _ in $(seq 300); do
                hd=$(tm capture-pane -p -t bench:0 -S 0 -E 0 || true)
                [[ $hd == *tmon* && $hd != *loading* ]] && break
                sleep 0.1
            done
            sleep 2
            tm pipe-pane -o -t bench:0 "cat >> $(printf '%q' "$out")"
            c0=$(cpu_ticks "$pid")
            timeout $((SECS + 60)) python3 "$HERE/ssh_writer.py" "$file" --metrics "$m" --from "$h" \
                --count $((r * SECS)) --rate "$r" >"$TMP/writer.txt" &
            WRITER_PID=$!
            wait "$WRITER_PID"
            WRITER_PID=
            sleep 1 # the last line's frame (the budget may hold it up to a second)
            c1=$(cpu_ticks "$pid")
            tm pipe-pane -t bench:0 || true
            tm send-keys -t bench:0 q || true
            sleep 0.5
            kill "$pid" 2>/dev/null || true
            read -r _ wsecs _ <"$TMP/writer.txt"
            secs=$(awk -v s="$wsecs" 'BEGIN { print s + 1 }')
            bytes=$(stat -c %s "$out")
            fr=$(frames "$out")
            awk -v r="$r" -v h="$h" -v m="$m" -v b="$bytes" -v f="$fr" -v s="$secs" -v d=$((c1 - c0)) -v hz="$HZ" \
                'BEGIN { printf "%-8s %-9s %-8s %-10.1f %-9.1f %-9.0f %.1f%%\n", r, h, m, b / s / 1000, f / s, (f ? b / f : 0), d / hz / s * 100 }'
        done
    done
done
