"""The values of the metrics (named in :mod:`.table`), as plain data.

:class:`LoopMetrics` folds resolved events into counters, fixed-bucket
histograms and slow-dispatch incidents; :func:`reading` adds what a snapshot
tells now. Nothing here knows Prometheus, OpenTelemetry or Twisted.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from reactortrace.core import events as ev
from reactortrace.core.diagnose.codes import (
    BACKPRESSURE,
    DEFERRED_ERROR,
    LATE_TIMER,
    SLOW_CALLBACK,
    TOP_LEVEL_KINDS,
)
from reactortrace.core.events import Event
from reactortrace.core.snapshot import Snapshot

from .table import BOUNDS

#: Dispatch kinds counted (a closed set: labels stay low-cardinality).
DISPATCH_KINDS = (ev.TIMER, ev.IO_READ, ev.IO_WRITE, ev.THREAD, ev.DEFERRED, ev.SYSTEM)


class Histogram:
    """Counts of values (ns) in the fixed :data:`BOUNDS` (seconds), with sum and extremes."""

    __slots__ = ("counts", "count", "sum", "min", "max", "_bounds_ns")

    def __init__(self) -> None:
        self._bounds_ns = [round(bound * 1e9) for bound in BOUNDS]
        self.counts = [0] * (len(BOUNDS) + 1)  # the last one: above every bound
        self.count = 0
        self.sum = 0.0  # seconds
        self.min = 0.0
        self.max = 0.0

    def observe(self, ns: int) -> None:
        """Count one value of ``ns`` nanoseconds (negative values count as 0)."""
        ns = max(0, ns)
        self.counts[bisect.bisect_left(self._bounds_ns, ns)] += 1
        seconds = ns / 1e9
        if self.count == 0 or seconds < self.min:
            self.min = seconds
        if seconds > self.max:
            self.max = seconds
        self.count += 1
        self.sum += seconds

    def copy(self) -> "Histogram":
        other = Histogram()
        other.counts = list(self.counts)
        other.count, other.sum, other.min, other.max = self.count, self.sum, self.min, self.max
        return other


@dataclass
class Incident:
    """A slow dispatch, as a span will tell it: when it ran and what blocked."""

    ts: int  # ns since the trace started
    dur: int  # ns
    name: str  # the callable dispatched
    kind: str | None
    site: str | None = None  # where the timer, Deferred callback... was created or defined
    blocking_site: str | None = None  # the line that blocked, from the watchdog
    function: str | None = None
    stack: list[str] = field(default_factory=list)
    seen: int | None = None  # ns: when the watchdog caught it blocking


#: Slow events waiting for the dispatch they are about, at most.
_MAX_WAITING = 64
#: Reset timers whose due time is remembered, at most.
_MAX_MOVED = 10_000
#: Incidents kept for the span exporter to take, at most (more are counted).
MAX_INCIDENTS = 256


class LoopMetrics:
    """Counters and histograms folded from events, in ``seq`` order.

    ``slow_ns`` and ``late_ns`` are the thresholds of slow dispatches and
    late timers. Slow dispatches also become :class:`Incident` objects for
    spans, their watchdog stack attached, until :meth:`take_incidents`.
    """

    def __init__(self, slow_ns: int, late_ns: int, incidents: bool = False) -> None:
        self.slow_ns = slow_ns
        self.late_ns = late_ns
        self.keep_incidents = incidents
        self.dispatches = {kind: 0 for kind in DISPATCH_KINDS}
        self.durations = {kind: Histogram() for kind in DISPATCH_KINDS}
        self.delay = Histogram()
        self.pool_wait = Histogram()
        self.pool_run = Histogram()
        self.received = 0
        self.transmitted = 0
        self.warnings: dict[str, int] = {}
        self.incidents: list[Incident] = []
        self.incidents_lost = 0
        self._waiting: dict[int, Event] = {}  # slow events by the ts of their dispatch
        #: long dispatches waiting for their slow event, by ts: from this call
        #: of feed(), and from the one before
        self._unpaired: dict[int, Event] = {}
        self._unpaired_before: dict[int, Event] = {}
        self._told: dict[int, None] = {}  # ts of the dispatches made incidents, the latest
        self._moved: dict[Any, int] = {}  # due time of reset timers, by timer id

    def feed(self, events: list[Event]) -> None:
        """Account for ``events``.

        A long dispatch usually ends before the watchdog's ``slow`` event about
        it is recorded (that event holds the whole block): it waits for it until
        the end of the next call, then counts without it.
        """
        for event in events:
            kind = event.kind
            if kind in self.dispatches:
                self._dispatch(event)
            elif kind == ev.SLOW:
                self._slow(event)
            elif kind == ev.TIMER_RESET:
                self._reset(event)
            elif kind == ev.TIMER_CANCEL:
                self._moved.pop(event.args.get("timer"), None)
            elif kind == ev.DEFERRED_ERROR:
                self._warn(DEFERRED_ERROR)
            elif kind == ev.CONN_PAUSE:
                self._warn(BACKPRESSURE)
            elif kind == ev.WARNING:
                self._warn(str(event.args.get("code") or "unknown"))
        for dispatch in self._unpaired_before.values():
            self._incident(dispatch, None, counted=True)
        self._unpaired_before, self._unpaired = self._unpaired, {}

    def _warn(self, code: str) -> None:
        self.warnings[code] = self.warnings.get(code, 0) + 1

    def _dispatch(self, event: Event) -> None:
        kind = event.kind
        args = event.args
        self.dispatches[kind] += 1
        self.durations[kind].observe(event.dur)
        if kind == ev.TIMER:
            late = self._late(event)
            if late is not None:
                self.delay.observe(late)
                if late >= self.late_ns:
                    self._warn(LATE_TIMER)
        elif kind == ev.IO_READ:
            self.received += args.get("bytes") or 0
        elif kind == ev.IO_WRITE:
            self.transmitted += args.get("bytes") or 0
        elif kind == ev.THREAD and args.get("source") == "pool":
            wait = args.get("wait")
            if isinstance(wait, int):
                self.pool_wait.observe(wait)
            self.pool_run.observe(event.dur)
            return  # a pool job runs on its own thread: it never blocks the loop
        slow = self._slow_within(event)
        if slow is not None:
            self._incident(event, slow)
        elif event.dur >= self.slow_ns and kind in TOP_LEVEL_KINDS:
            self._warn(SLOW_CALLBACK)  # counted now; its span waits for the stack
            self._unpaired[event.ts] = event

    def _late(self, event: Event) -> int | None:
        """How late a timer ran (ns). Twisted reads the clock once per pass over
        due timers, so the recorded lateness of one that ran after a slow one in
        the same pass is too small: its due time (scheduled at its id, plus its
        delay, or as reset) tells the truth."""
        args = event.args
        late = args.get("late")
        timer, delay = args.get("timer"), args.get("delay")
        due = self._moved.pop(timer, None)
        if due is None and isinstance(timer, int) and isinstance(delay, int):
            due = timer + delay
        if due is not None:
            late = max(late if isinstance(late, int) else 0, event.ts - due)
        return late if isinstance(late, int) else None

    def _reset(self, event: Event) -> None:
        due = event.args.get("due")
        if isinstance(due, int):
            self._moved[event.args.get("timer")] = due
            if len(self._moved) > _MAX_MOVED:
                del self._moved[next(iter(self._moved))]

    def _slow_within(self, event: Event) -> Event | None:
        """The slow event about ``event``: the one that started when it did, or within it."""
        waiting = self._waiting
        if not waiting:
            return None
        slow = waiting.pop(event.ts, None)
        if slow is None and event.kind in TOP_LEVEL_KINDS:
            end = event.ts + event.dur
            for ts in [ts for ts in waiting if event.ts <= ts <= end]:
                slow = waiting.pop(ts)
        return slow

    def _slow(self, event: Event) -> None:
        """The watchdog saw a dispatch block: pair it with that dispatch's event,
        which usually came first (or comes when it ends, for a block still going on)."""
        for unpaired in (self._unpaired, self._unpaired_before):
            dispatch = unpaired.pop(event.ts, None)
            if dispatch is not None:
                self._incident(dispatch, event, counted=True)
                return
        if event.ts in self._told:
            return  # its dispatch was told already, without the stack
        self._waiting[event.ts] = event
        if len(self._waiting) > _MAX_WAITING:
            self._incident(None, self._waiting.pop(next(iter(self._waiting))))

    def flush(self) -> None:
        """The dispatches still blocking (or whose end was lost) count as they are."""
        for slow in list(self._waiting.values()):
            self._incident(None, slow)
        self._waiting.clear()
        for unpaired in (self._unpaired_before, self._unpaired):
            for dispatch in unpaired.values():
                self._incident(dispatch, None, counted=True)
            unpaired.clear()

    def _incident(self, dispatch: Event | None, slow: Event | None, counted: bool = False) -> None:
        if not counted:
            self._warn(SLOW_CALLBACK)
        first = dispatch or slow
        assert first is not None
        self._told[first.ts] = None
        if len(self._told) > _MAX_WAITING:
            del self._told[next(iter(self._told))]
        if not self.keep_incidents:
            return
        if len(self.incidents) >= MAX_INCIDENTS:
            self.incidents_lost += 1
            return
        args = dispatch.args if dispatch is not None else {}
        incident = Incident(first.ts, first.dur, first.name, dispatch.kind if dispatch else None,
                            site=args.get("site"))
        if slow is not None:
            slow_args = slow.args
            incident.blocking_site = slow_args.get("site")
            incident.function = slow_args.get("function")
            incident.stack = [str(line) for line in slow_args.get("stack") or ()]
            incident.seen = slow.ts + slow.dur
            incident.kind = incident.kind or slow_args.get("dispatch")
            if dispatch is None:
                incident.name = slow.name
            else:
                incident.name = slow.name if slow.name not in ("", "?") else dispatch.name
        self.incidents.append(incident)

    def take_incidents(self) -> list[Incident]:
        """The incidents since the previous call."""
        taken, self.incidents = self.incidents, []
        return taken


@dataclass
class Reading:
    """Every metric's value at one moment: ``values[short name]`` is a list of
    ``(labels, value)``, a value being a number or a :class:`Histogram`."""

    values: dict[str, list[tuple[dict[str, str], Any]]]


def reading(
    loop: LoopMetrics,
    snapshot: Snapshot,
    *,
    blocked: float,
    pool: tuple[int, int, int] | None,
    dropped: dict[str, int],
    export_dropped: dict[tuple[str, str], int],
) -> Reading:
    """Every metric now: ``loop``'s counters (copied) and what ``snapshot`` tells.

    ``blocked``: seconds the running dispatch has run; ``pool``: (queued, busy,
    threads) of the reactor's thread pool, if it has one.
    """
    stats = snapshot.loop
    connections: dict[str, int] = {}
    for conn in snapshot.connections:
        if conn.type != "waker":
            connections[conn.type] = connections.get(conn.type, 0) + 1
    active: dict[str, int] = {}
    for warning in snapshot.warnings:
        code = str(warning.get("code") or "unknown")
        active[code] = active.get(code, 0) + 1
    values: dict[str, list[tuple[dict[str, str], Any]]] = {
        "loop.delay": [({}, loop.delay.copy())],
        "utilization": [({}, stats.utilization)],
        "time": [({"state": "busy"}, stats.busy / 1e9), ({"state": "idle"}, stats.wait / 1e9)],
        "iterations": [({}, stats.iterations)],
        "blocked": [({}, blocked)],
        "dispatches": [({"kind": k}, n) for k, n in loop.dispatches.items()],
        "dispatch.duration": [({"kind": k}, h.copy()) for k, h in loop.durations.items()],
        "pending_timers": [({}, len(snapshot.timers))],
        "connections": [({"type": t}, n) for t, n in sorted(connections.items())],
        "network.io": [({"direction": "receive"}, loop.received),
                       ({"direction": "transmit"}, loop.transmitted)],
        "threadpool.job.wait": [({}, loop.pool_wait.copy())],
        "threadpool.job.duration": [({}, loop.pool_run.copy())],
        "warnings": [({"code": c}, n) for c, n in sorted(loop.warnings.items())],
        "warnings.active": [({"code": c}, n) for c, n in sorted(active.items())],
        "events.dropped": [({"reason": r}, n) for r, n in dropped.items()],
        "export.dropped": [({"signal": s, "reason": r}, n)
                           for (s, r), n in sorted(export_dropped.items())],
    }
    if pool is not None:
        values["threadpool.queued_jobs"] = [({}, pool[0])]
        values["threadpool.busy_threads"] = [({}, pool[1])]
        values["threadpool.threads"] = [({}, pool[2])]
    return Reading(values)
