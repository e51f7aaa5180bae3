"""A viewer on a busy program: does the TUI keep up, and what does it cost the program?

    python benchmarks/viewer.py [--quick] [--rate 50000] [--seconds 6] [--repeat 3]

Every run is a fresh ``reactortrace run --no-tui --listen`` of
``viewer_program.py``; the viewer is the real TUI app (headless, 120x40, its
normal 0.2 s poll interval) on a :class:`LiveFeed`, in this process.

1. **Responsiveness** (paced): the program fires zero-delay timers at RATE
   events a second for SECONDS while the TUI watches. Reported: refreshes a
   second (target: at least 4), the longest gap between two refreshes, the
   UI time one refresh takes (median and max), how long a key press takes to
   be handled (switching tabs), and the event rate the TUI showed.
2. **Cost to the program**: the program's CPU seconds for the paced run
   above, and the wall time of a fixed amount of work run flat out (TIMERS
   zero-delay timers), each in three setups run in turn: traced (``run
   --no-tui``), traced with ``--listen`` and nobody watching, and with the TUI
   attached. Ratios are medians of the per-round ratios.

Progress goes to stderr, the report to stdout. The exit status is 0 unless
``--check`` is given and the TUI made fewer than 4 refreshes a second.
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

HERE = Path(__file__).resolve().parent
PROGRAM = str(HERE / "viewer_program.py")
DELAY = 1.0  # seconds the program waits before working: the viewer attaches meanwhile
MIN_REFRESHES = 4.0
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
    viewer_dropped: int = 0
    events_seen: int = 0

    def window(self, start: float, end: float) -> list[float]:
        return [t for t in self.refreshes if start <= t <= end]

    def per_second(self, start: float, end: float) -> float:
        return len(self.window(start, end)) / max(1e-9, end - start)

    def longest_gap(self, start: float, end: float) -> float:
        times = self.window(start, end)
        return max((b - a for a, b in zip(times, times[1:])), default=float("inf"))


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


async def watch(path: str, program: subprocess.Popen[str]) -> UiStats:
    """Run the TUI headless on the program until it exits."""
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
        stats.rates.append(app.model.snapshot.loop.events_per_second)
        stats.viewer_dropped = app.model.viewer_dropped
        stats.events_seen = app.model.snapshot.loop.events

    app.refresh_feed = counted_refresh  # type: ignore[method-assign]
    async with app.run_test(size=SIZE):
        tabs = [("2", "timers"), ("1", "loop")]
        while program.poll() is None:
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
    args: list[str], setup: str = "viewer"
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
            stats = asyncio.run(watch(path, program))
        return result_of(program), stats, began
    finally:
        shutil.rmtree(runtime, ignore_errors=True)


def rounds(args: list[str], repeat: int, key: str, label: str) -> dict[str, list[float]]:
    """``repeat`` rounds of one run per setup, in turn; ``key`` of each result."""
    found: dict[str, list[float]] = {setup: [] for setup in SETUPS}
    for n in range(repeat):
        for setup, values in found.items():
            result, _, _ = run_once(args, setup)
            values.append(result[key])
            say(f"  {label} round {n + 1}/{repeat}, {setup}: {key} {result[key]:.3f}")
    return found


def ratio(base: list[float], other: list[float]) -> float:
    return statistics.median(o / b for b, o in zip(base, other) if b > 0)


def cost_line(label: str, found: dict[str, list[float]]) -> str:
    medians = "  ".join(f"{statistics.median(found[s]):>10.3f}" for s in SETUPS)
    return (f"{label:<22}{medians}  {ratio(found['traced'], found['viewer']):>10.2f}"
            f"  {ratio(found['listening'], found['viewer']):>10.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=50_000, help="events a second (paced)")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of the paced run")
    parser.add_argument("--repeat", type=int, default=3, help="pairs of runs for the ratios")
    parser.add_argument("--timers", type=int, default=WORK_TIMERS, help="flat-out work size")
    parser.add_argument("--quick", action="store_true", help="3 s paced run, 1 pair")
    parser.add_argument("--check", action="store_true", help="status 1 if under 4 refreshes/s")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.repeat = 3.0, 1
    paced = ["paced", str(args.rate), str(args.seconds), str(DELAY)]
    work = ["work", str(args.timers), str(DELAY)]

    say(f"1. TUI on a program paced at {args.rate:,.0f} events/s for {args.seconds:g} s")
    result, stats, began = run_once(paced, "viewer")
    assert stats is not None
    start, end = began + 0.5, began + args.seconds - 0.2  # steady state only
    refreshes = stats.per_second(start, end)
    produced = result["timers"] * 2 / result["seconds"]
    busy_rates = [r for r, t in zip(stats.rates, stats.refreshes) if start <= t <= end]

    say("2. cost to the program: paced CPU, then flat-out work")
    cpu = rounds(paced, args.repeat, "cpu", "paced")
    wall = rounds(work, args.repeat, "seconds", "work")

    print(f"reactortrace viewer benchmark (python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs)")
    print(f"program: {produced:,.0f} events/s recorded (asked {args.rate:,.0f}), "
          f"TUI showed {statistics.median(busy_rates or [0]):,.0f} events/s (median)")
    print(f"TUI refreshes:       {refreshes:.2f}/s (target >= {MIN_REFRESHES:g}), "
          f"longest gap {stats.longest_gap(start, end) * 1000:.0f} ms")
    cost = sorted(stats.refresh_cost)
    print(f"UI time per refresh: median {statistics.median(cost) * 1000:.1f} ms, "
          f"max {cost[-1] * 1000:.1f} ms")
    keys = sorted(stats.key_latency)
    print(f"key to tab switch:   median {statistics.median(keys) * 1000:.0f} ms, "
          f"max {keys[-1] * 1000:.0f} ms ({len(keys)} tab switches)")
    lags = sorted(stats.loop_lag)
    print(f"UI event loop lag:   median {statistics.median(lags) * 1000:.1f} ms, "
          f"p95 {lags[int(len(lags) * 0.95)] * 1000:.1f} ms, max {lags[-1] * 1000:.1f} ms")
    print(f"events the viewer did not get (sampled out, counted): {stats.viewer_dropped:,} "
          f"of {stats.events_seen:,}")
    print()
    print(f"cost to the program (median of {args.repeat}; seconds)")
    print(f"{'':<22}{'traced':>10}  {'--listen':>10}  {'+ TUI':>10}  {'TUI/traced':>10}"
          f"  {'TUI/listen':>10}")
    print(cost_line(f"CPU, paced {args.seconds:g} s", cpu))
    print(cost_line(f"wall, {args.timers // 1000}k timers", wall))
    if args.check and refreshes < MIN_REFRESHES:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
