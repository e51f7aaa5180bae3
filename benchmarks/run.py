"""Overhead of reactortrace: traced versus untraced, measured in one invocation.

    python benchmarks/run.py [--quick] [--only NAME] [--reactor epoll] [--check]
                             [--instructions]

Every measurement runs in a fresh process (a reactor cannot be restarted),
untraced and traced alternately, and the child times only the workload. The
report gives the median of each, the median of the pairwise ratios and their
spread (lowest and highest). The exit status is 0 unless ``--check`` is given
and a target is missed.

On a shared machine the spread is wide. ``--instructions`` adds, for the timed
workloads, the ratio of instructions executed (``valgrind --tool=callgrind``,
which the machine's load does not change): each side runs a tenth and a fifth
of the workload, and the difference, divided by the operations between them,
leaves start-up and shutdown out.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from child import REACTORS  # noqa: E402
from process import PROCESS_PROGRAMS, measure_process, report_processes  # noqa: E402
from workloads import WORKLOADS, Workload  # noqa: E402

FULL_REPEAT = 5
QUICK_REPEAT = 3
CHILD_TIMEOUT = 300


class ChildFailed(Exception):
    """A measurement process did not report a result."""


@dataclass
class Row:
    """The measurements of one workload and what they add up to."""

    workload: Workload
    size: int
    untraced: list[float] = field(default_factory=list)
    traced: list[float] = field(default_factory=list)
    error: str | None = None
    #: traced/untraced instructions per operation, with --instructions
    instructions: float | None = None

    def per_op(self, values: list[float]) -> float | None:
        """Median of ``values`` in the unit shown: µs per operation, or bytes."""
        if not values:
            return None
        median = statistics.median(values)
        return median * 1e6 / self.size if self.workload.measure == "time" else median

    @property
    def ratio(self) -> float | None:
        """Median of traced/untraced over the pairs (time workloads only)."""
        if self.workload.measure != "time" or not self.traced:
            return None
        pairs = zip(self.untraced, self.traced)
        return statistics.median(t / u for u, t in pairs if u > 0)

    @property
    def spread(self) -> tuple[float, float] | None:
        """(lowest, highest) traced/untraced ratio over the pairs."""
        if self.workload.measure != "time" or not self.traced:
            return None
        ratios = [t / u for u, t in zip(self.untraced, self.traced) if u > 0]
        return (min(ratios), max(ratios)) if ratios else None

    @property
    def added(self) -> float | None:
        """µs per operation the traced side takes over the baseline (time workloads)."""
        if self.workload.measure != "time" or not self.traced:
            return None
        traced, untraced = self.per_op(self.traced), self.per_op(self.untraced)
        return None if traced is None or untraced is None else traced - untraced

    @property
    def verdict(self) -> str:
        if self.error:
            return "ERROR"
        if not self.traced:
            return "n/a"
        if self.workload.added_target is not None:
            score = self.added
            return "ok" if score is not None and score <= self.workload.added_target else "FAIL"
        if self.workload.measure == "time":
            score = self.ratio
        else:
            score = self.per_op(self.traced)
        return "ok" if score is not None and score <= self.workload.target else "FAIL"


def child_command(
    name: str, size: int, reactor: str, traced: bool, flag: str | None = None
) -> list[str]:
    """The command line of one measurement process (``flag``: one more option
    of the child, such as ``no-diagnostics``)."""
    command = [sys.executable, str(HERE / "child.py"), name, "--size", str(size)]
    command += ["--reactor", reactor] + (["--traced"] if traced else [])
    return command + ([f"--{flag}"] if flag else [])


def sides(workload: Workload) -> tuple[dict[str, Any], dict[str, Any]]:
    """The child options of the baseline side and of the measured side."""
    if workload.baseline == "untraced":
        return {"traced": False}, {"traced": True}
    if workload.baseline == "traced":  # the measured side adds a part that is off by default
        return {"traced": True}, {"traced": True, "flag": workload.flag}
    return {"traced": True, "flag": workload.baseline}, {"traced": True}


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(HERE.parent), env.get("PYTHONPATH")) if p
    )
    return env


def run_child(name: str, size: int, reactor: str, traced: bool,
              flag: str | None = None) -> float:
    """Run one measurement in a new interpreter and return its ``value``."""
    command = child_command(name, size, reactor, traced, flag)
    done = subprocess.run(
        command, capture_output=True, text=True, env=child_env(), timeout=CHILD_TIMEOUT
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise ChildFailed(f"exit {done.returncode}: {tail or done.stdout.strip()}")
    return float(json.loads(lines[-1])["value"])


def count_instructions(command: list[str]) -> int:
    """Instructions ``command`` executes, counted by callgrind.

    Hash randomization and (where ``setarch`` exists) address randomization
    are off, so that two runs of the same command count the same.
    """
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "callgrind.out")
        prefix = ["setarch", platform.machine(), "-R"] if shutil.which("setarch") else []
        valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        env = child_env()
        env["PYTHONHASHSEED"] = "0"
        done = subprocess.run(
            prefix + valgrind + command, capture_output=True, text=True, env=env,
            timeout=CHILD_TIMEOUT * 20,
        )
        if done.returncode != 0:
            raise ChildFailed(f"callgrind exit {done.returncode}: {done.stderr.strip()[-300:]}")
        with open(out, encoding="utf-8") as counts:
            for line in counts:
                if line.startswith(("totals:", "summary:")):
                    return int(line.split()[1])
    raise ChildFailed("callgrind wrote no totals")


def instruction_ratio(workload: Workload, size: int, args: argparse.Namespace) -> float:
    """Traced/untraced instructions per operation (see the module docstring)."""
    small, large = max(1, size // 10), max(2, size // 5)
    per_op = []
    for side in sides(workload):
        with ThreadPoolExecutor(2) as pool:  # the counts do not depend on timing
            counts = list(pool.map(
                lambda n: count_instructions(
                    child_command(workload.name, n, args.reactor, **side)),
                (small, large),
            ))
        per_op.append((counts[1] - counts[0]) / (large - small))
    return per_op[1] / per_op[0]


def tracing_available() -> str | None:
    """Why traced runs cannot happen, or None if they can."""
    try:
        import reactortrace
    except ImportError as exc:
        return f"reactortrace cannot be imported: {exc}"
    if not callable(getattr(reactortrace, "instrument", None)):
        return "reactortrace.instrument() does not exist yet"
    return None


def measure(workload: Workload, args: argparse.Namespace, traced: bool) -> Row:
    """Alternate untraced and traced runs of one workload."""
    size = max(1, round(workload.size * args.scale))
    row = Row(workload, size)
    for n in range(args.repeat):
        for is_traced in (False, True) if traced else (False,):
            label = "traced" if is_traced else "untraced"
            progress(f"{workload.name}: {label} {n + 1}/{args.repeat}")
            try:
                # The "untraced" side is the baseline: untraced, or traced without a part.
                value = run_child(workload.name, size, args.reactor,
                                  **sides(workload)[is_traced])
            except (ChildFailed, subprocess.TimeoutExpired) as exc:
                row.error = f"{label} run: {exc}"
                return row
            (row.traced if is_traced else row.untraced).append(value)
    if traced and args.instructions and workload.measure == "time":
        progress(f"{workload.name}: counting instructions")
        try:
            row.instructions = instruction_ratio(workload, size, args)
        except (ChildFailed, subprocess.TimeoutExpired, OSError) as exc:
            row.error = f"instruction count: {exc}"
    return row


def progress(message: str) -> None:
    """A transient status line on stderr (stdout holds the report)."""
    if sys.stderr.isatty():
        print(f"\r\033[K{message}", end="", file=sys.stderr, flush=True)
    else:
        print(message, file=sys.stderr, flush=True)


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def report_header(args: argparse.Namespace, why_untraced: str | None) -> None:
    """The machine, the versions and the settings the numbers come from."""
    import twisted

    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr)
    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}")
    print(
        f"python {platform.python_version()} ({platform.python_implementation()}), "
        f"twisted {twisted.__version__}, reactor {args.reactor}"
    )
    print(f"repetitions: {args.repeat} per side, scale {args.scale:g}")
    if why_untraced:
        print(f"untraced only: {why_untraced}")


def report(rows: list[Row], args: argparse.Namespace) -> None:
    header = ("workload", "unit", "untraced", "traced", "added", "ratio", "spread", "target",
              "result")
    if args.instructions:
        header = header[:-2] + ("instr",) + header[-2:]
    table = [header]
    for row in rows:
        w = row.workload
        unit = f"µs/{w.unit}" if w.measure == "time" else f"B/{w.unit}"
        target = f"<= {w.target:g}x" if w.measure == "time" else f"<= {w.target:g} B"
        if w.added_target is not None:
            target = f"<= +{w.added_target:g} µs"
        ratio, spread, added = row.ratio, row.spread, row.added
        cells = [
            w.name,
            unit,
            fmt(row.per_op(row.untraced)),
            fmt(row.per_op(row.traced)),
            "-" if added is None else f"{added:+.2f}",
            "-" if ratio is None else f"{ratio:.3f}x",
            "-" if spread is None else f"{spread[0]:.2f}-{spread[1]:.2f}",
        ]
        if args.instructions:
            cells.append("-" if row.instructions is None else f"{row.instructions:.3f}x")
        table.append((*cells, target, row.verdict))
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    print()
    for i, line in enumerate(table):
        cells = [
            cell.ljust(widths[k]) if k < 2 else cell.rjust(widths[k])
            for k, cell in enumerate(line)
        ]
        print("  ".join(cells).rstrip())
        if i == 0:
            print("  ".join("-" * width for width in widths))
    for row in rows:
        if row.error:
            print(f"\n{row.workload.name} failed: {row.error}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure reactortrace's overhead: traced versus untraced."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_REPEAT} repetitions per side instead of {FULL_REPEAT}",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(WORKLOADS),
        metavar="NAME",
        help="run only this workload (repeatable): " + ", ".join(WORKLOADS),
    )
    parser.add_argument("--reactor", choices=REACTORS, default="epoll")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every workload's size (0.01 makes a smoke run)",
    )
    parser.add_argument(
        "--repeat", type=int, help="repetitions per side (overrides --quick)"
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a target is missed"
    )
    parser.add_argument(
        "--process",
        action="store_true",
        help="also time whole processes: python PROGRAM against reactortrace run -o FILE",
    )
    parser.add_argument(
        "--process-only",
        action="store_true",
        help="only the whole-process measurements",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count instructions with valgrind's callgrind (slow; needs valgrind)",
    )
    args = parser.parse_args(argv)
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind on PATH")
    if args.scale <= 0:
        parser.error("--scale must be positive")
    if args.repeat is None:
        args.repeat = QUICK_REPEAT if args.quick else FULL_REPEAT
    elif args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    why_untraced = tracing_available()
    names = [] if args.process_only else (args.only or list(WORKLOADS))
    rows = [measure(WORKLOADS[name], args, why_untraced is None) for name in names]
    report_header(args, why_untraced)
    if rows:
        report(rows, args)
    missed = any(row.verdict != "ok" for row in rows)
    if (args.process or args.process_only) and why_untraced is None:
        processes = [measure_process(program, args.repeat, args.scale, child_env(), progress)
                     for program in PROCESS_PROGRAMS]
        report_processes(processes)
        missed = missed or any(row.error or (row.ratio("json") or 99) > row.program.target
                               for row in processes)
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
