"""A viewer on a quiet and on a busy program: what it costs, and whether it keeps up.

    python benchmarks/viewer.py [--quick] [--rates 100,50000] [--seconds 6] [--repeat 3]

Every run is a fresh ``reactortrace run --no-tui --listen`` of
``viewer_program.py``; the viewer is the real TUI app (headless, 120x40, its
normal poll interval) on a :class:`LiveFeed`, in this process, so this
process's CPU time is the viewer's.

For each RATE (events a second; the program fires zero-delay timers at that
pace for SECONDS), ``--repeat`` rounds of three setups run in turn: traced
(``run --no-tui``), traced with ``--listen`` and nobody watching, and with
the TUI attached. Reported per rate, as medians over the rounds:

- the viewer's own CPU share (user+sys CPU seconds of this process per wall
  second, in the steady part of the run; 1.00 is one core), its polls a
  second (each takes what the program sent and redraws what is due), its
  screen updates (redraws) a second, and the UI time one poll takes;
- the program's CPU seconds in each setup and the ratios with / without a
  viewer (medians of the per-round ratios).

Then one more run at the highest rate presses keys while the TUI watches:
how long switching tabs takes, and how late the UI's event loop runs.
``--work`` adds the wall time of a fixed amount of work run flat out (TIMERS
zero-delay timers) in the three setups.

CPU time, not wall time: the machine may be shared. Progress goes to stderr,
the report to stdout. The exit status is 0 unless ``--check`` is given and
the TUI polled fewer than 10 times a second while a program was busy (at
1,000 events a second or more). It redraws on the polls that bring news:
a busy program sends some every 0.09 s, a quiet one every 0.4 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# From this many events a second the TUI redraws on every poll.
from reactortrace.core.feed import BUSY_RATE

HERE = Path(__file__).resolve().parent
PROGRAM = str(HERE / "viewer_program.py")
DELAY = 1.0  # seconds the program waits before working: the viewer attaches meanwhile
MIN_REFRESHES = 10.0
SIZE = (120, 40)
WORK_TIMERS = 300_000
MAX_EVENTS = 300_000  # ring size: keeps the trace written at exit small


@dataclass
class UiStats:
    """What the headless TUI went through while the program worked."""

    refreshes: list[float] = field(default_factory=list)  # monotonic times
    refresh_cost: list[float] = field(default_factory=list)  # seconds per refresh
    key_latency: list[float] = field(default_factory=list)  # key posted -> tab switched
    loop_lag: list[float] = field(default_factory=list)  # how late a 50 ms sleep woke up
    rates: list[float] = field(default_factory=list)  # events/s the header showed
    cpu: list[float] = field(default_factory=list)  # this process's CPU seconds at each refresh
    redraws: list[float] = field(default_factory=list)  # monotonic times the screen was updated
    viewer_dropped: int = 0
    events_seen: int = 0

    def window(self, start: float, end: float) -> list[float]:
        return [t for t in self.refreshes if start <= t <= end]

    def per_second(self, start: float, end: float) -> float:
        return len(self.window(start, end)) / max(1e-9, end - start)

    def longest_gap(self, start: float, end: float) -> float:
        times = self.window(start, end)
        return max((b - a for a, b in zip(times, times[1:])), default=float("inf"))

    def cpu_share(self, start: float, end: float) -> float:
        """CPU seconds this process used per wall second between ``start`` and ``end``."""
        inside = [i for i, t in enumerate(self.refreshes) if start <= t <= end]
        if len(inside) < 2:
            return float("nan")
        first, last = inside[0], inside[-1]
        wall = self.refreshes[last] - self.refreshes[first]
        return (self.cpu[last] - self.cpu[first]) / max(1e-9, wall)

    def costs(self, start: float, end: float) -> list[float]:
        return [c for c, t in zip(self.refresh_cost, self.refreshes) if start <= t <= end]


def say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


#: The setups compared: name -> (listen, viewer).
SETUPS = {"traced": (False, False), "listening": (True, False), "viewer": (True, True)}


def start_program(
    runtime: str, args: list[str], trace: str, listen: bool = True
) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "reactortrace", "run", "--no-tui", "-q",
               "--max-events", str(MAX_EVENTS), "-o", trace, PROGRAM, *args]
    if listen:
        command.insert(5, "--listen")
    env = dict(os.environ, XDG_RUNTIME_DIR=runtime)
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)


def socket_of(runtime: str, program: subprocess.Popen[str]) -> str:
    from reactortrace.live.paths import socket_path

    path = socket_path(program.pid, os.path.join(runtime, "reactortrace"))
    deadline = time.monotonic() + 30
    while not os.path.exists(path):
        if program.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the program did not start listening")
        time.sleep(0.02)
    return path


def result_of(program: subprocess.Popen[str]) -> dict[str, Any]:
    out, _ = program.communicate(timeout=300)
    if program.returncode != 0:
        raise RuntimeError(f"the program failed with status {program.returncode}")
    return json.loads(out.strip().splitlines()[-1])


async def watch(path: str, program: subprocess.Popen[str], keys: bool = False) -> UiStats:
    """Run the TUI headless on the program until it exits; ``keys``: switch tabs
    twice a second meanwhile (as a user would not while just watching)."""
    from reactortrace.live.client import LiveFeed
    from reactortrace.tui.app import ReactorTraceApp

    stats = UiStats()
    feed = LiveFeed(path)
    app = ReactorTraceApp(feed)
    refresh = app.refresh_feed

    def counted_refresh() -> None:
        started = time.monotonic()
        refresh()
        stats.refresh_cost.append(time.monotonic() - started)
        stats.refreshes.append(started)
        stats.cpu.append(time.process_time())
        stats.rates.append(app.model.snapshot.loop.events_per_second)
        stats.viewer_dropped = app.model.viewer_dropped
        stats.events_seen = app.model.snapshot.loop.events

    app.refresh_feed = counted_refresh  # type: ignore[method-assign]
    async with app.run_test(size=SIZE):
        screen = app.screen
        update_screen = screen._compositor_refresh

        def counted_update() -> None:
            stats.redraws.append(time.monotonic())
            update_screen()

        screen._compositor_refresh = counted_update  # type: ignore[method-assign]
        tabs = [("2", "timers"), ("1", "loop")]
        while program.poll() is None:
            if not keys:
                await asyncio.sleep(0.25)
                continue
            for _ in range(10):
                started = time.monotonic()
                await asyncio.sleep(0.05)
                stats.loop_lag.append(time.monotonic() - started - 0.05)
            key, tab = tabs[0]
            started = time.monotonic()
            app.simulate_key(key)  # as if typed: through the app's bindings
            while app._tabs.active != tab and time.monotonic() - started < 5:
                await asyncio.sleep(0.002)
            stats.key_latency.append(time.monotonic() - started)
            tabs.reverse()
    return stats


def run_once(
    args: list[str], setup: str = "viewer", keys: bool = False
) -> tuple[dict[str, Any], UiStats | None, float]:
    """One run of the program; its result, the UI stats, and when its work began."""
    listen, viewer = SETUPS[setup]
    runtime = tempfile.mkdtemp(prefix="rtb-", dir="/tmp")
    try:
        program = start_program(runtime, args, os.path.join(runtime, "trace.json"), listen)
        began = time.monotonic() + DELAY  # roughly: the program waits DELAY after starting
        stats = None
        if viewer:
            path = socket_of(runtime, program)
            began = time.monotonic() + DELAY
            stats = asyncio.run(watch(path, program, keys))
        return result_of(program), stats, began
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


@dataclass
class Rounds:
    """Results of the rounds at one rate: a value per setup per round, and the viewer's stats."""

    program: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in SETUPS})
    viewer_cpu: list[float] = field(default_factory=list)
    refreshes: list[float] = field(default_factory=list)
    redraws: list[float] = field(default_factory=list)
    refresh_cost: list[float] = field(default_factory=list)
    shown: list[float] = field(default_factory=list)  # events/s the header said
    dropped: list[int] = field(default_factory=list)


def rounds(args: list[str], repeat: int, key: str, label: str, steady: float) -> Rounds:
    """``repeat`` rounds of one run per setup, in turn; ``key`` of each result.

    ``steady``: seconds of work after which the viewer's figures stop being
    taken (the program's work lasts a little longer)."""
    found = Rounds()
    for n in range(repeat):
        for setup, values in found.program.items():
            result, stats, began = run_once(args, setup)
            values.append(result[key])
            note = ""
            if stats is not None:
                start, end = began + 0.5, began + steady
                found.viewer_cpu.append(stats.cpu_share(start, end))
                found.refreshes.append(stats.per_second(start, end))
                found.redraws.append(len([t for t in stats.redraws if start <= t <= end])
                                     / (end - start))
                found.refresh_cost.extend(stats.costs(start, end))
                found.dropped.append(stats.viewer_dropped)
                found.shown.extend(r for r, t in zip(stats.rates, stats.refreshes)
                                   if start <= t <= end)
                note = (f", viewer CPU {found.viewer_cpu[-1]:.3f},"
                        f" {found.refreshes[-1]:.1f} polls/s, {found.redraws[-1]:.1f} redraws/s")
            say(f"  {label} round {n + 1}/{repeat}, {setup}: {key} {result[key]:.3f}{note}")
    return found


def ratio(base: list[float], other: list[float]) -> float:
    return statistics.median(o / b for b, o in zip(base, other) if b > 0)


def spread(values: list[float]) -> str:
    return f"{min(values):.3f}-{max(values):.3f}"


def cost_line(label: str, found: dict[str, list[float]]) -> str:
    medians = "  ".join(f"{statistics.median(found[s]):>10.3f}" for s in SETUPS)
    return (f"{label:<22}{medians}  {ratio(found['traced'], found['viewer']):>10.2f}"
            f"  {ratio(found['listening'], found['viewer']):>10.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="100,50000",
                        help="events a second of the paced programs, comma-separated")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of a paced run")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the three setups")
    parser.add_argument("--work", action="store_true", help="also time flat-out work")
    parser.add_argument("--timers", type=int, default=WORK_TIMERS, help="flat-out work size")
    parser.add_argument("--quick", action="store_true", help="3 s paced runs, 1 round")
    parser.add_argument("--check", action="store_true",
                        help=f"status 1 if the TUI polls a busy program under {MIN_REFRESHES:g}"
                             " times a second")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.repeat = 3.0, 1
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    steady = args.seconds - 0.2

    import textual
    import twisted

    print(f"reactortrace viewer benchmark (python {sys.version.split()[0]}, "
          f"twisted {twisted.__version__}, textual {textual.__version__}, "
          f"{os.cpu_count()} CPUs; medians of {args.repeat} rounds, min-max after)")
    print(f"{'rate asked':>10}  {'ev/s shown':>10}  {'viewer CPU':>17}  {'polls/s':>17}  {'redraws/s':>9}"
          f"  {'ms/poll':>10}  {'program CPU s: traced':>21}  {'--listen':>8}  {'+ TUI':>8}"
          f"  {'TUI/traced':>10}  {'TUI/listen':>10}  {'dropped':>8}")
    slow = False
    for rate in rates:
        say(f"program paced at {rate:,.0f} events/s for {args.seconds:g} s")
        paced = ["paced", str(rate), str(args.seconds), str(DELAY)]
        found = rounds(paced, args.repeat, "cpu", f"{rate:,.0f}/s", steady)
        cpu = found.program
        if rate >= BUSY_RATE:
            slow = slow or statistics.median(found.refreshes) < MIN_REFRESHES
        print(f"{rate:>10,.0f}  {statistics.median(found.shown or [0]):>10,.0f}"
              f"  {statistics.median(found.viewer_cpu):>5.3f} {spread(found.viewer_cpu):>11}"
              f"  {statistics.median(found.refreshes):>5.1f} {spread(found.refreshes):>11}"
              f"  {statistics.median(found.redraws):>9.1f}"
              f"  {statistics.median(found.refresh_cost) * 1000:>10.1f}"
              f"  {statistics.median(cpu['traced']):>21.3f}"
              f"  {statistics.median(cpu['listening']):>8.3f}"
              f"  {statistics.median(cpu['viewer']):>8.3f}"
              f"  {ratio(cpu['traced'], cpu['viewer']):>10.2f}"
              f"  {ratio(cpu['listening'], cpu['viewer']):>10.2f}"
              f"  {statistics.median(found.dropped):>8,.0f}", flush=True)

    say(f"keys: tab switches while the TUI watches {max(rates):,.0f} events/s")
    paced = ["paced", str(max(rates)), str(args.seconds), str(DELAY)]
    _, stats, began = run_once(paced, "viewer", keys=True)
    assert stats is not None
    keys, lags = sorted(stats.key_latency), sorted(stats.loop_lag)
    if keys and lags:
        print(f"key to tab switch at {max(rates):,.0f}/s: median "
              f"{statistics.median(keys) * 1000:.0f} ms, max {keys[-1] * 1000:.0f} ms "
              f"({len(keys)} tab switches)")
        print(f"UI event loop lag:   median {statistics.median(lags) * 1000:.1f} ms, "
              f"p95 {lags[int(len(lags) * 0.95)] * 1000:.1f} ms, max {lags[-1] * 1000:.1f} ms")

    if args.work:
        say("flat-out work")
        work = ["work", str(args.timers), str(DELAY)]
        wall = rounds(work, args.repeat, "seconds", "work", steady).program
        print(f"{'':<22}{'traced':>10}  {'--listen':>10}  {'+ TUI':>10}  {'TUI/traced':>10}"
              f"  {'TUI/listen':>10}")
        print(cost_line(f"wall, {args.timers // 1000}k timers", wall))
    if args.check and slow:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
