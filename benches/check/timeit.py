#!/usr/bin/env python3
"""Runs one command once (stdout to /dev/null) and prints `WALL_MS CPU_MS PEAK_KB EXIT`.

Wall time from a monotonic clock around the child alone (not this interpreter's start); CPU time
(user + system, every thread) from the child's rusage (wait4), in microseconds where
/usr/bin/time gives hundredths of a second, too coarse for `wc -l`'s 30 ms. CPU time is the
figure a busy machine disturbs least: other processes lengthen the wall time, not the work done.
Peak RSS comes from /usr/bin/time (`%M`), which the command runs under: the rusage of a child of
this interpreter would count the interpreter's own pages, copied before the exec. 0 without it.

Usage: timeit.py CMD [ARGS...]
"""
import os
import sys
import tempfile
import time

TIME = "/usr/bin/time"


def main():
    argv = sys.argv[1:]
    if not argv:
        sys.exit(__doc__)
    rss = None
    if os.access(TIME, os.X_OK):
        fd, rss = tempfile.mkstemp(prefix="timeit-")
        os.close(fd)
        argv = [TIME, "-f", "%M", "-o", rss] + argv
    devnull = os.open(os.devnull, os.O_WRONLY)
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.dup2(devnull, 1)
        try:
            os.execvp(argv[0], argv)
        except OSError as e:
            print(f"timeit.py: {argv[0]}: {e}", file=sys.stderr)
        os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    peak = 0
    if rss:
        with open(rss) as f:
            # /usr/bin/time writes "Command exited with non-zero status N" first when N != 0.
            lines = f.read().split()
        os.unlink(rss)
        peak = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    print(f"{wall * 1e3:.1f} {(ru.ru_utime + ru.ru_stime) * 1e3:.1f} {peak} {code}")


if __name__ == "__main__":
    main()
