"""Reading large traces: ``summary`` memory and time, ``view``'s first screen.

    python benchmarks/readers.py [--events N] [--repeat R] [--check]

Writes one synthetic trace of N events (default 1,000,000; the busy-server
shape of ``export.py``) as json and as jsonl, then for each format runs, R
times each (default 3), as fresh processes:

* ``reactortrace summary FILE`` and ``reactortrace summary --json FILE``: wall
  time, CPU time (user + system, from ``wait4``: steadier than wall time on a
  loaded machine) and peak resident set of that process alone;
* ``reactortrace view FILE`` in a pseudo-terminal (160x50): seconds from
  starting the process to the first frame on the terminal (the tab bar with
  the replay bar drawn), then ``q``.

The table gives medians and the lowest and highest run. Targets: summary
under 500 MB and 5 s of CPU time (on a loaded machine wall time measures the
load as much as the reader; it is shown beside), view's first screen under 2 s. Exit status 0 unless
``--check`` is given and a target is missed.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time

from export import synthetic_trace

TARGETS = {"seconds": 5.0, "rss_mb": 500.0, "first_screen": 2.0}
#: On the first frame of ``view``: the tab bar (after the header and replay bar).
FIRST_FRAME = re.compile(rb"Loop\s+Timers\s+\d+")
_CSI = re.compile(rb"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]")
VIEW_TIMEOUT = 60.0


def write_traces(count: int, directory: str) -> dict[str, str]:
    """The trace as json and jsonl in ``directory``, written by a child process:
    a child's peak RSS counts its parent's at the fork, so this one stays small."""
    paths = {fmt: os.path.join(directory, f"trace.{fmt}") for fmt in ("json", "jsonl")}
    subprocess.run([sys.executable, __file__, "--write", directory, "--events", str(count)],
                   check=True)
    return paths


def _write(count: int, directory: str) -> None:
    from reactortrace.formats import write

    trace = synthetic_trace(count)
    for fmt in ("json", "jsonl"):
        write(trace, os.path.join(directory, f"trace.{fmt}"), fmt)


def summary_run(path: str, *flags: str) -> dict[str, float]:
    """One ``summary`` process: wall and CPU seconds, peak RSS in MB."""
    command = [sys.executable, "-m", "reactortrace", "summary", *flags, path]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        error = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"summary failed: {error}")
    return {"seconds": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "rss_mb": usage.ru_maxrss / 1024}


def first_screen(path: str) -> float:
    """Seconds from starting ``view`` in a terminal to its first frame."""
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the viewer on the pseudo-terminal
        os.environ.update(TERM="xterm-256color", COLUMNS="160", LINES="50")
        os.execv(sys.executable, [sys.executable, "-m", "reactortrace", "view", path])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
    seen = b""
    found = None
    try:
        while found is None and time.perf_counter() - started < VIEW_TIMEOUT:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                seen += os.read(fd, 1 << 16)
            except OSError:
                break
            if FIRST_FRAME.search(_CSI.sub(b"", seen)):
                found = time.perf_counter() - started
        os.write(fd, b"q")
        _reap(pid, fd)
    finally:
        os.close(fd)
    if found is None:
        raise SystemExit(f"view showed no first screen within {VIEW_TIMEOUT:.0f} s")
    return found


def _reap(pid: int, fd: int) -> None:
    """Wait for the viewer to quit (reading what it draws meanwhile); kill it after 10 s."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            return
        if select.select([fd], [], [], 0.05)[0]:
            try:
                os.read(fd, 1 << 16)
            except OSError:
                pass
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def spread(values: list[float], fmt: str) -> str:
    return (f"{format(statistics.median(values), fmt)} "
            f"({format(min(values), fmt)}-{format(max(values), fmt)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--write", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.write:
        _write(args.events, args.write)
        return 0
    missed = []
    with tempfile.TemporaryDirectory(prefix="reactortrace-readers-") as directory:
        print(f"writing a {args.events:,}-event trace as json and jsonl...", file=sys.stderr)
        paths = write_traces(args.events, directory)
        print(f"{'what':<22} {'format':<6} {'MB file':>7} {'wall s':>18} {'cpu s':>18} "
              f"{'peak RSS MB':>20}")
        for fmt, path in paths.items():
            size = os.path.getsize(path) / 2**20
            for flags in ((), ("--json",)):
                runs = [summary_run(path, *flags) for _ in range(args.repeat)]
                what = "summary " + " ".join(flags)
                walls = [r["seconds"] for r in runs]
                cpus = [r["cpu"] for r in runs]
                rss = [r["rss_mb"] for r in runs]
                print(f"{what:<22} {fmt:<6} {size:>7.0f} {spread(walls, '.2f'):>18} "
                      f"{spread(cpus, '.2f'):>18} {spread(rss, '.0f'):>20}")
                if statistics.median(cpus) > TARGETS["seconds"]:
                    missed.append(f"{what} {fmt}: {statistics.median(cpus):.2f} s of CPU")
                if statistics.median(rss) > TARGETS["rss_mb"]:
                    missed.append(f"{what} {fmt}: {statistics.median(rss):.0f} MB")
        for fmt, path in paths.items():
            firsts = [first_screen(path) for _ in range(args.repeat)]
            print(f"{'view: first screen':<22} {fmt:<6} {'':>7} {spread(firsts, '.2f'):>18}")
            if statistics.median(firsts) > TARGETS["first_screen"]:
                missed.append(f"view {fmt}: first screen after {statistics.median(firsts):.2f} s")
    for line in missed:
        print(f"missed: {line}")
    return 1 if missed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
