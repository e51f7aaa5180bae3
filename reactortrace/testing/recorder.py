"""Instrument the reactor once for a whole pytest session and cut its recording per test.

See :mod:`reactortrace.testing.plugin` for how the per-test cut works with
pytest-twisted's reactor greenlet.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import pytest

from ..core.units import short_path

#: Kinds that are one dispatch on the reactor thread (thread-pool jobs,
#: which run elsewhere, are left out by their source).
_BLOCKING_KINDS = frozenset(
    {"timer", "io.read", "io.write", "deferred", "thread", "system", "slow"}
)
_MAX_NAME = 150
_RANK = {"passed": 0, "skipped": 1, "failed": 2}


def trace_file_name(nodeid: str, extension: str, taken: set[str]) -> str:
    """A file name for a test: its id with unsafe characters replaced.

    Long ids are shortened, and a short hash of the full id is added when the
    name would be too long or is already taken, so names stay unique.
    """
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", nodeid.replace("::", "__")).strip("._") or "test"
    digest = hashlib.sha1(nodeid.encode(), usedforsecurity=False).hexdigest()[:10]
    if len(base) > _MAX_NAME:
        base = f"{base[:_MAX_NAME]}-{digest}"
    if base + extension in taken:
        base = f"{base}-{digest}"
    name = base + extension
    taken.add(name)
    return name


@dataclass
class _Recording:
    """What one test did: the events that began while it ran."""

    nodeid: str
    start: int  # ns since trace start
    total_at_start: int  # records the ring had received when it began
    events: list[Any] = field(default_factory=list)
    lost: int = 0


class PerTestRecorder:
    """Instruments the reactor once and cuts its recording per test."""

    def __init__(
        self, directory: str | None, format: str, slow_ms: float | None, *, redact: bool = False
    ) -> None:
        self.directory = directory
        self.format = format
        self.redact = redact
        self.slow_ms = slow_ms
        self.tracer: Any = None
        self.instrumented = False
        self.failure: str | None = None
        #: test id -> (ns the reactor was blocked at most, what blocked it)
        self.blocked: dict[str, tuple[int, str]] = {}
        #: test id -> the warnings its events give (leftovers, unhandled errors...)
        self.warnings: dict[str, list[dict[str, Any]]] = {}
        self._nodeid = ""
        self._current: _Recording | None = None
        self._previous: _Recording | None = None
        self.written: list[str] = []
        self._names: set[str] = set()
        self._outcomes: dict[str, str] = {}
        self._unhook: Callable[[], None] | None = None
        # pytest-twisted's reactor greenlet, and when it was switched out
        self._greenlet: Any = None
        self._previous_trace: Any = None
        self._left_at: int | None = None
        self._away: list[tuple[int, int]] = []

    # -- finding the reactor ------------------------------------------------------

    def start(self) -> None:
        """Instrument the reactor already installed, or the first one installed later."""
        with self._guard():
            self._instrument_installed()
            if self.tracer is None:
                self._hook_install()

    def _instrument_installed(self) -> None:
        from ..instrumentation.installs import installed_reactor

        reactor = installed_reactor()
        if reactor is not None:
            self._reactor_installed(reactor)

    def _hook_install(self) -> None:
        from ..instrumentation.installs import watch_installs

        def installed(reactor: Any) -> None:
            with self._guard():
                self._reactor_installed(reactor)

        self._unhook = watch_installs(installed)

    def _unhook_install(self) -> None:
        unhook, self._unhook = self._unhook, None
        if unhook is not None:
            unhook()

    def _reactor_installed(self, reactor: Any) -> None:
        if self.tracer is not None or self.failure is not None:
            return
        from ..core.diagnose import Thresholds
        from ..errors import ReactorTraceError
        from ..instrumentation.tracer import DEFAULT_SLOW_MS, Tracer, is_real_reactor

        if not is_real_reactor(reactor):
            return
        try:
            self.tracer = Tracer(
                reactor,
                slow_ms=self.slow_ms if self.slow_ms is not None else DEFAULT_SLOW_MS,
                program="pytest",
                argv=list(sys.argv),
                # in a test, what it leaves behind is a fault (trial's dirty reactor)
                thresholds=Thresholds(leftovers=True),
            )
            self.instrumented = True
        except ReactorTraceError as exc:
            self.failure = str(exc)
        self._unhook_install()

    # -- greenlets (pytest-twisted) -------------------------------------------------

    def _watch_greenlet(self) -> None:
        """Note when pytest-twisted's reactor greenlet is switched out, and back in."""
        module = sys.modules.get("pytest_twisted")
        reactor_greenlet = getattr(getattr(module, "_instances", None), "gr_twisted", None)
        if reactor_greenlet is None or reactor_greenlet is self._greenlet:
            return
        import greenlet

        self._greenlet = reactor_greenlet
        self._previous_trace = greenlet.settrace(self._on_switch)

    def _on_switch(self, event: str, args: Any) -> None:
        if event in ("switch", "throw") and self.tracer is not None:
            with self._guard():
                origin, target = args
                if origin is self._greenlet:
                    self._left_at = self.tracer.now()
                elif target is self._greenlet and self._left_at is not None:
                    self._away.append((self._left_at, self.tracer.now()))
                    self._left_at = None
        if self._previous_trace is not None:
            self._previous_trace(event, args)

    def _away_during(self, start: int, end: int) -> int:
        """ns of [start, end] the reactor greenlet spent switched out."""
        away = self._away
        if self._left_at is not None:
            away = [*away, (self._left_at, end)]
        return sum(max(0, min(end, back) - max(start, left)) for left, back in away)

    # -- per test -------------------------------------------------------------------

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """A failure inside reactortrace stops the recording, never the test run."""
        try:
            yield
        except Exception as exc:  # noqa: BLE001
            if self.failure is None:
                self.failure = f"recording stopped: {type(exc).__name__}: {exc}"
            tracer, self.tracer = self.tracer, None
            if tracer is not None:
                with suppress(Exception):
                    tracer.close()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        with self._guard():
            self._begin(item)
        try:
            return (yield)
        finally:
            with self._guard():
                self._end()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """A test's outcome is the worst of its setup, call and teardown."""
        known = self._outcomes.get(report.nodeid, "passed")
        if _RANK.get(report.outcome, 0) > _RANK.get(known, 0):
            known = report.outcome
        self._outcomes[report.nodeid] = known

    def _begin(self, item: pytest.Item) -> None:
        self._nodeid = item.nodeid
        if self.tracer is None:
            self._instrument_installed()
        if self.tracer is None:
            return
        self._watch_greenlet()
        since = self.tracer.new_events()
        if self._previous is not None:  # they began before this test
            self._previous.events.extend(since)
        ring = self.tracer.recorder.ring
        self._current = _Recording(item.nodeid, self.tracer.now(), ring.total)

    def _end(self) -> None:
        """Take this test's events; the previous test's recording is now complete.

        A test's events are those that began during it. Under pytest-twisted
        the dispatch that delivers a test's result is switched out until the
        next test switches the reactor back in: it ends during the next test,
        which is why a test's trace is written when the next one ends.
        """
        current, self._current = self._current, None
        if self.tracer is None:
            return
        if current is None:  # the reactor was installed during this test
            current = _Recording(self._nodeid, 0, 0)
        events = self.tracer.new_events()
        ring = self.tracer.recorder.ring
        # Records appended during the test that the ring overwrote before we read them.
        current.lost = max(0, ring.total - ring.size - current.total_at_start)
        previous = self._previous
        if previous is not None:
            previous.events.extend(e for e in events if e.ts < current.start)
            events = [e for e in events if e.ts >= current.start]
            self._complete(previous)
        current.events = events
        self._previous = current

    def pytest_sessionfinish(self) -> None:
        """The last test, as far as it went, for the summary (its file comes later)."""
        last = self._previous
        if last is not None and self.tracer is not None:
            with self._guard():
                last.events.extend(self.tracer.new_events())
                if self.slow_ms is not None:
                    self._check_blocking(last)
                self._snapshot(last)

    def _complete(self, recording: _Recording) -> None:
        if self.slow_ms is not None:
            self._check_blocking(recording)
        snapshot = self._snapshot(recording)
        if self.directory is not None:
            self._write(recording, snapshot)

    def _snapshot(self, recording: _Recording) -> Any:
        """The state one test left: its pending timers, open connections,
        statistics and warnings (what it left behind counted as leftovers)."""
        from ..core.state import LoopState

        state = LoopState(thresholds=self.tracer.thresholds)
        state.dropped = recording.lost
        state.feed(recording.events)
        end = max(state.last_end, recording.events[-1].ts if recording.events else 0)
        state.finish(end, "when the test ended")
        snapshot = state.snapshot(end)
        if snapshot.warnings:
            self.warnings[recording.nodeid] = list(snapshot.warnings)
        else:
            self.warnings.pop(recording.nodeid, None)
        return snapshot

    def _check_blocking(self, recording: _Recording) -> None:
        """Note the longest time one dispatch of the test blocked the reactor.

        The watchdog's ``slow`` event for a dispatch (same start) tells the
        line of user code that blocked: it is added to the culprit.
        """
        threshold = self.slow_ms * 1e6  # type: ignore[operator]
        worst, culprit = None, None
        sites: dict[int, str] = {}
        for event in recording.events:
            if event.kind == "slow" and event.args.get("site"):
                sites[event.ts] = event.args["site"]
            if event.dur <= threshold or event.kind not in _BLOCKING_KINDS:
                continue
            if event.kind == "thread" and event.args.get("source") == "pool":
                continue
            blocked = event.dur - self._away_during(event.ts, event.ts + event.dur)
            if worst is None or blocked > worst:
                worst, culprit = blocked, event
        if worst is not None and culprit is not None and worst > threshold:
            site = sites.get(culprit.ts)
            described = f"{culprit.kind} {culprit.name}" + (f" at {site}" if site else "")
            self.blocked[recording.nodeid] = (worst, described)

    def _write(self, recording: _Recording, snapshot: Any) -> None:
        from ..core.trace import Trace
        from ..errors import ReactorTraceError
        from ..formats import EXTENSIONS, write

        assert self.directory is not None
        extension = EXTENSIONS[self.format]
        name = trace_file_name(recording.nodeid, extension, self._names)
        path = os.path.join(self.directory, name)
        meta = dict(self.tracer.meta)
        meta["test"] = {
            "nodeid": recording.nodeid,
            "outcome": self._outcomes.get(recording.nodeid, "unknown"),
        }
        try:
            trace = Trace(meta, recording.events, snapshot, dropped=recording.lost)
            if self.redact:
                from ..formats.redact import redact

                trace = redact(trace)
            write(trace, path, self.format)
        except ReactorTraceError as exc:
            self.failure = f"cannot write {path}: {exc}"
            return
        self.written.append(path)

    # -- the end --------------------------------------------------------------------

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        write = terminalreporter.write_line
        if self.slow_ms is not None:
            terminalreporter.section(
                f"reactortrace: tests that blocked the reactor > {self.slow_ms:g} ms"
            )
            if not self.instrumented:
                write("no Twisted reactor was installed: nothing was recorded")
            elif not self.blocked:
                write("none")
            for nodeid, (blocked, culprit) in sorted(self.blocked.items(), key=lambda i: -i[1][0]):
                write(f"{blocked / 1e6:9.1f} ms  {nodeid}  ({culprit})")
        if self.warnings:
            terminalreporter.section("reactortrace: warnings per test")
            for nodeid, warnings in self.warnings.items():
                write(nodeid)
                for warning in warnings:
                    where = warning.get("where")
                    at = f" ({short_path(where)})" if where else ""
                    write(f"    {warning['code']}{at}: {warning['message']}")
        if self.directory is not None:
            recorded = len(self.written) + (self._previous is not None)
            write(f"reactortrace: traces of {recorded} tests in {self.directory}")
        if self.failure is not None:
            write(f"reactortrace: {self.failure}")

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self) -> None:
        """Write the last test's trace, then undo everything.

        Last, so that pytest-twisted has stopped its reactor: the last test's
        final dispatch, switched out until then, has ended.
        """
        last, self._previous = self._previous, None
        if last is not None and self.tracer is not None and self.directory is not None:
            with self._guard():
                last.events.extend(self.tracer.new_events())
                self._write(last, self._snapshot(last))
        self._unhook_install()
        if self._greenlet is not None:
            import greenlet

            greenlet.settrace(self._previous_trace)
            self._greenlet = None
        if self.tracer is not None:
            self.tracer.close()
