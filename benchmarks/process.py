"""Whole-process cost: a program run as ``python PROGRAM`` and as
``reactortrace run --no-tui -o FILE PROGRAM``, from start to the prompt back.

Each pair of runs alternates (untraced, traced to json, traced to jsonl) so
that drift in the machine's load hits every side. For each program the report
gives the median wall time untraced, the median of the pairwise ratios
traced/untraced with their spread, the same ratios of CPU time (user + system
of the whole process tree, reactortrace's writer process included: steadier
than wall time on a loaded machine, and what a second core cannot hide), the
peak RSS of each side (from ``wait4``: the largest process of the tree), and
what the traced side adds per event recorded.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PROGRAMS = Path(__file__).resolve().parent / "programs"
TIMEOUT = 600


@dataclass(frozen=True)
class Program:
    """One whole-process benchmark: its script and the target ratio with ``-o trace.json``."""

    name: str
    about: str
    target: float


PROCESS_PROGRAMS = (
    Program("echo_clients", "TCP echo, 10 concurrent loopback clients x 2,000 round trips", 1.25),
    Program("call_later_chain", "100,000 chained callLater(0)", 1.8),
    Program("deferreds", "50,000 Deferreds x 3 callbacks, and an inlineCallbacks loop", 2.0),
)
#: The sides of a pair: None is untraced, else the trace format.
SIDES = (None, "json", "jsonl")


@dataclass
class Run:
    seconds: float
    rss_kb: int
    cpu: float = 0.0
    events: int | None = None


@dataclass
class ProcessRow:
    program: Program
    runs: dict[str | None, list[Run]] = field(default_factory=lambda: {s: [] for s in SIDES})
    error: str | None = None

    def ratios(self, side: str, measure: str = "seconds") -> list[float]:
        pairs = zip(self.runs[None], self.runs[side])
        return [getattr(t, measure) / getattr(u, measure) for u, t in pairs
                if getattr(u, measure) > 0]

    def ratio(self, side: str, measure: str = "seconds") -> float | None:
        ratios = self.ratios(side, measure)
        return statistics.median(ratios) if ratios else None

    def rss(self, side: str | None) -> float | None:
        runs = self.runs[side]
        return statistics.median(r.rss_kb for r in runs) / 1024 if runs else None

    def bytes_per_event(self, side: str) -> float | None:
        """Peak RSS added by tracing, per event recorded."""
        pairs = [(u, t) for u, t in zip(self.runs[None], self.runs[side]) if t.events]
        if not pairs:
            return None
        return statistics.median((t.rss_kb - u.rss_kb) * 1024 / t.events for u, t in pairs)


def command(program: Program, scale: float, side: str | None, out: str) -> list[str]:
    script = [str(PROGRAMS / f"{program.name}.py"), "--scale", str(scale)]
    if side is None:
        return [sys.executable, *script]
    return [sys.executable, "-m", "reactortrace", "run", "--no-tui", "-q", "-o", out,
            "--format", side, *script]


def run_once(argv: list[str], env: dict[str, str]) -> Run:
    """Run ``argv`` to its end: wall time and peak RSS (of that process alone)."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.stderr is not None
    error = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {process.returncode}: {error[-400:]}")
    return Run(seconds, usage.ru_maxrss, usage.ru_utime + usage.ru_stime)


def count_events(path: str) -> int:
    """Events in a JSON Lines trace (every line but the meta and end lines)."""
    with open(path, "rb") as lines:
        return sum(1 for line in lines if line.startswith(b'{"type":"event"'))


def measure_process(program: Program, repeat: int, scale: float, env: dict[str, str],
                    progress) -> ProcessRow:  # type: ignore[no-untyped-def]
    row = ProcessRow(program)
    with tempfile.TemporaryDirectory(prefix="rt-bench-") as scratch:
        for n in range(repeat):
            for side in SIDES:
                progress(f"{program.name}: {side or 'untraced'} {n + 1}/{repeat}")
                out = os.path.join(scratch, f"trace.{side or 'none'}")
                try:
                    run = run_once(command(program, scale, side, out), env)
                except (RuntimeError, OSError) as exc:
                    row.error = str(exc)
                    return row
                if side == "jsonl":
                    run.events = count_events(out)
                    for json_run in row.runs["json"][-1:]:
                        json_run.events = run.events  # the same program: the same events
                row.runs[side].append(run)
    return row


def fmt(value: float | None, pattern: str) -> str:
    return "-" if value is None else format(value, pattern)


def report_processes(rows: list[ProcessRow]) -> None:
    """The whole-process table."""
    header = ("program", "untraced s", "json", "spread", "jsonl", "spread", "target",
              "CPU json", "CPU jsonl", "RSS MB (none/json/jsonl)", "B/event json", "result")
    table = [header]
    for row in rows:
        json_ratio = row.ratio("json")
        spreads = {}
        for side in ("json", "jsonl"):
            ratios = row.ratios(side)
            spreads[side] = f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-"
        untraced = [r.seconds for r in row.runs[None]]
        verdict = ("ERROR" if row.error else
                   "ok" if json_ratio is not None and json_ratio <= row.program.target else "FAIL")
        table.append((
            row.program.name,
            fmt(statistics.median(untraced) if untraced else None, ".2f"),
            fmt(json_ratio, ".2f") + "x",
            spreads["json"],
            fmt(row.ratio("jsonl"), ".2f") + "x",
            spreads["jsonl"],
            f"<= {row.program.target:g}x",
            fmt(row.ratio("json", "cpu"), ".2f") + "x",
            fmt(row.ratio("jsonl", "cpu"), ".2f") + "x",
            "/".join(fmt(row.rss(side), ".0f") for side in SIDES),
            fmt(row.bytes_per_event("json"), ".0f"),
            verdict,
        ))
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    print("\nwhole process (reactortrace run --no-tui -o FILE, start to exit):")
    for i, line in enumerate(table):
        print("  ".join(c.ljust(widths[k]) if k == 0 else c.rjust(widths[k])
                        for k, c in enumerate(line)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    for row in rows:
        if row.error:
            print(f"\n{row.program.name} failed: {row.error}")
