# Sourced by the monitor benchmarks (run.sh, sweep.sh, ssh.sh, smoothers.sh, view.sh): a detached tmux server of their
# own (`tmux -L tmon-NAME-PID-RANDOM`) with a 160x48 session `bench` whose placeholder pane tmon
# replaces (respawn-pane -k; the pane stays when tmon quits), a scratch folder $TMP, and their
# cleanup on exit, with the writer $WRITER_PID if one is running. Before that, the release
# binary: $TMON if given, else built from $ROOT; and $HZ, the clock ticks of /proc/PID/stat.
# Usage: . "$HERE/tmux.sh" NAME
if [ -z "${TMON:-}" ]; then
    echo "building tmon (release)..." >&2
    timeout 1800 cargo build --release --quiet --bin tmon
    TMON="$ROOT/target/release/tmon"
fi
[ -x "$TMON" ] || { echo "no tmon binary at $TMON" >&2; exit 2; }
HZ=$(getconf CLK_TCK)

SOCK="tmon-$1-$$-$RANDOM"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tmon-$1.XXXXXX")
WRITER_PID=
cleanup() {
    [ -n "$WRITER_PID" ] && kill "$WRITER_PID" 2>/dev/null || true
    timeout 5 tmux -L "$SOCK" kill-server 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

tm() { timeout 5 tmux -L "$SOCK" "$@"; }
tm -f /dev/null new-session -d -s bench -x 160 -y 48 'sleep 86400'
tm set-option -g remain-on-exit on
tm set-option -g history-limit 0

# cpu_ticks PID: utime+stime (fields 14, 15; after the `(comm)` field, which may hold spaces).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
