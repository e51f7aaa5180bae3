"""The metrics of a reactor, as plain data: what they are called, and their values.

:data:`METRICS` is the one table of every metric (OpenTelemetry name, type,
unit, labels, help); the Prometheus name is derived from it by the usual
rules (``twisted.reactor.loop.delay`` in ``s`` is
``twisted_reactor_loop_delay_seconds``), so both exporters and the README
say the same thing. :class:`LoopMetrics` folds resolved events into counters
and fixed-bucket histograms; :func:`reading` adds what a snapshot tells now.
Nothing here knows Prometheus, OpenTelemetry or Twisted.
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

COUNTER = "counter"
GAUGE = "gauge"
HISTOGRAM = "histogram"

#: Upper bounds (seconds) of the histograms' buckets: 0.1 ms to 10 s.
BOUNDS: tuple[float, ...] = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)

#: Dispatch kinds counted (a closed set: labels stay low-cardinality).
DISPATCH_KINDS = (ev.TIMER, ev.IO_READ, ev.IO_WRITE, ev.THREAD, ev.DEFERRED, ev.SYSTEM)

_SUFFIXES = {"s": "seconds", "By": "bytes", "1": "ratio"}


@dataclass(frozen=True)
class Metric:
    """One metric: OpenTelemetry ``name``, ``type``, ``unit`` (UCUM), ``labels``, ``help``."""

    name: str
    type: str
    unit: str
    help: str
    labels: tuple[str, ...] = ()

    @property
    def prometheus_name(self) -> str:
        """The name Prometheus sees (without ``_total``, which the client adds)."""
        base = self.name.replace(".", "_")
        suffix = _SUFFIXES.get(self.unit)
        return f"{base}_{suffix}" if suffix and not base.endswith(suffix) else base


def _m(name: str, kind: str, unit: str, help: str, *labels: str) -> Metric:
    return Metric(f"twisted.reactor.{name}", kind, unit, help, labels)


METRICS: tuple[Metric, ...] = (
    _m("loop.delay", HISTOGRAM, "s",
       "how late timers ran: the lag between when work was due and when the loop ran it"),
    _m("utilization", GAUGE, "1",
       "share of the last 2 s the loop was busy rather than waiting in poll"),
    _m("time", COUNTER, "s",
       "time the loop spent running work (state=busy) and waiting in poll (state=idle)",
       "state"),
    _m("iterations", COUNTER, "{iteration}", "passes of the loop"),
    _m("blocked", GAUGE, "s",
       "how long the dispatch running now has been running (0 while the loop waits)"),
    _m("dispatches", COUNTER, "{dispatch}", "dispatches run, by kind", "kind"),
    _m("dispatch.duration", HISTOGRAM, "s", "how long dispatches ran, by kind", "kind"),
    _m("pending_timers", GAUGE, "{timer}", "timers scheduled and not yet run"),
    _m("connections", GAUGE, "{connection}",
       "open connections and listening ports, by type", "type"),
    _m("network.io", COUNTER, "By",
       "bytes read and written by transports (direction: receive, transmit)", "direction"),
    _m("threadpool.queued_jobs", GAUGE, "{job}", "thread-pool jobs waiting for a thread"),
    _m("threadpool.busy_threads", GAUGE, "{thread}", "thread-pool threads running a job"),
    _m("threadpool.threads", GAUGE, "{thread}", "thread-pool threads"),
    _m("threadpool.job.wait", HISTOGRAM, "s", "how long thread-pool jobs waited for a thread"),
    _m("threadpool.job.duration", HISTOGRAM, "s", "how long thread-pool jobs ran"),
    _m("warnings", COUNTER, "{warning}",
       "incidents by warning code: slow dispatches, late timers, Deferred errors, "
       "backpressure, and warnings the recording made", "code"),
    _m("warnings.active", GAUGE, "{warning}", "warnings shown now (as in the TUI), by code",
       "code"),
    _m("events.dropped", COUNTER, "{event}",
       "events lost: fallen out of the ring (reason=ring) or missed by the metrics "
       "reader (reason=metrics)", "reason"),
    _m("export.dropped", COUNTER, "{item}",
       "OTLP items not delivered (signal: spans, metrics; reason: rate, queue, failed)",
       "signal", "reason"),
)
BY_NAME = {metric.name.removeprefix("twisted.reactor."): metric for metric in METRICS}


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
        self._moved: dict[Any, int] = {}  # due time of reset timers, by timer id

    def feed(self, events: list[Event]) -> None:
        """Account for ``events``."""
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
        if slow is not None or (event.dur >= self.slow_ns and kind in TOP_LEVEL_KINDS):
            self._incident(event, slow)

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
        """The watchdog caught a dispatch blocking: its own event comes when it ends."""
        self._waiting[event.ts] = event
        if len(self._waiting) > _MAX_WAITING:
            self._incident(None, self._waiting.pop(next(iter(self._waiting))))

    def flush(self) -> None:
        """The dispatches still blocking (or whose end was lost) count as they are."""
        for slow in list(self._waiting.values()):
            self._incident(None, slow)
        self._waiting.clear()

    def _incident(self, dispatch: Event | None, slow: Event | None) -> None:
        self._warn(SLOW_CALLBACK)
        if not self.keep_incidents:
            return
        if len(self.incidents) >= MAX_INCIDENTS:
            self.incidents_lost += 1
            return
        first = dispatch or slow
        assert first is not None
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
