"""Run the small programs of tests/programs on each reactor and read what they left.

Every program is run in its own interpreter (a reactor installs once per
process) as ``python tests/programs/NAME.py --reactor R --out TRACE [flags]``.
It writes the trace to TRACE and what it observed itself to TRACE.facts.json
(see ``tests/programs/progkit.py``). Lines of a program are found by marker
comments: a line ending in ``# @name`` is ``markers(...)["name"]``.

This folder has no ``__init__.py`` on purpose: as a package it would be
called ``twisted`` and hide the real one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import reactortrace
from reactortrace.core.events import Event
from reactortrace.core.trace import Trace

from ..reactors import REACTORS

PROGRAMS = Path(__file__).resolve().parent.parent / "programs"
TIMEOUT = 60
_MARKER = re.compile(r"#\s*@(\w+)\s*$")


def program_path(name: str) -> Path:
    """The absolute path of a test program (as its code objects name it)."""
    return PROGRAMS / f"{name}.py"


def markers(path: Path) -> dict[str, int]:
    """``{name: line}`` for every ``# @name`` comment in ``path``."""
    found: dict[str, int] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = _MARKER.search(line)
        if match:
            assert match.group(1) not in found, f"marker @{match.group(1)} twice in {path}"
            found[match.group(1)] = number
    return found


@dataclass
class Run:
    """One finished run of a program on one reactor."""

    name: str
    reactor: str
    flags: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    out: Path
    facts: dict[str, Any] = field(default_factory=dict)
    trace: Trace | None = None

    @property
    def path(self) -> Path:
        return program_path(self.name)

    @property
    def program(self) -> dict[str, Any]:
        """What the program observed of its own behaviour."""
        return self.facts.get("program", {})

    @property
    def tracer(self) -> dict[str, Any]:
        """What the program learnt from its tracer (snapshots, failures...)."""
        return self.facts.get("tracer", {})

    def describe(self) -> str:
        return (
            f"{self.name} on {self.reactor} {' '.join(self.flags)}: status {self.returncode}\n"
            f"--- stderr ---\n{self.stderr[-4000:]}"
        )

    def check(self, status: int = 0) -> "Run":
        """Assert the program ended with ``status`` and left a trace; return self."""
        assert self.returncode == status, self.describe()
        assert self.trace is not None, self.describe()
        return self

    def site(self, marker: str) -> str:
        """``file:line`` of the line marked ``# @marker`` in this program."""
        return f"{self.path}:{markers(self.path)[marker]}"

    @property
    def events(self) -> list[Event]:
        assert self.trace is not None, self.describe()
        return self.trace.events

    def of(self, kind: str, name: str | None = None) -> list[Event]:
        """Events of ``kind`` (and ``name``, if given), in order."""
        return [e for e in self.events if e.kind == kind and (name is None or e.name == name)]

    def opened(self, **args: Any) -> list[Event]:
        """conn.open events whose args match all of ``args``."""
        return [
            e for e in self.of("conn.open") if all(e.args.get(k) == v for k, v in args.items())
        ]

    def io(self, conn: int, kind: str = "io.read") -> list[Event]:
        """I/O events of one connection."""
        return [e for e in self.of(kind) if e.args["conn"] == conn]


def start(name: str, reactor: str, out: Path, flags: Iterable[str] = ()) -> subprocess.Popen[str]:
    """Start a program; ``finish`` collects it."""
    command = [sys.executable, str(program_path(name)), "--reactor", reactor, "--out", str(out)]
    return subprocess.Popen(
        [*command, *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(PROGRAMS),
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def finish(
    process: subprocess.Popen[str], name: str, reactor: str, out: Path, flags: tuple[str, ...]
) -> Run:
    """Wait for a program started by :func:`start` and read its trace and facts."""
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        stderr += f"\n[killed after {TIMEOUT} s]"
    run = Run(name, reactor, flags, process.returncode, stdout, stderr, out)
    facts = Path(f"{out}.facts.json")
    if facts.exists():
        run.facts = json.loads(facts.read_text())
    if out.exists():
        run.trace = reactortrace.load(str(out))
    return run


class Runner:
    """Runs programs on every reactor family, in parallel, once per flag set."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._runs: dict[tuple[str, tuple[str, ...], str], Run] = {}

    def run(self, name: str, reactor: str, *flags: str) -> Run:
        """The run of ``name`` on ``reactor`` with ``flags`` (made once, cached).

        The first request for a program and flag set starts it on all four
        reactor families at once, so parametrized tests wait only once.
        """
        key = (name, flags, reactor)
        if key not in self._runs:
            self.run_all([(name, flags)])
        return self._runs[key]

    def run_all(self, programs: Iterable[tuple[str, tuple[str, ...]]]) -> None:
        """Start every (name, flags) on every reactor at once and wait for all."""
        started = []
        for name, flags in programs:
            for reactor in REACTORS:
                if (name, flags, reactor) in self._runs:
                    continue
                tag = "-".join([name, reactor, *(f.strip("-") for f in flags)])
                out = self.workdir / f"{tag}.json"
                started.append((start(name, reactor, out, flags), name, reactor, out, flags))
        for process, name, reactor, out, flags in started:
            self._runs[(name, flags, reactor)] = finish(process, name, reactor, out, flags)


def normalize(text: str) -> str:
    """Log text with what differs from run to run (addresses, ids, ports) taken out."""
    text = re.sub(r"0x[0-9a-fA-F]+", "0x?", text)
    text = re.sub(r"\b\d{9,}\b", "<n>", text)
    return text
