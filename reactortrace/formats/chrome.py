"""The Chrome Trace Event format, for Perfetto UI and chrome://tracing.

What a reactortrace trace becomes:

* one process (the traced program); the reactor thread is track ``REACTOR_TID``;
* one complete (``X``) slice per dispatch on the reactor thread (timers, I/O,
  ``callFromThread`` calls, system event phases) with the Deferred callbacks
  they ran nested inside; thread-pool jobs on one track per worker thread;
  ``slow`` events (the watchdog's) on a track of their own;
* flow arrows (``s``/``f``) from where a timer was scheduled to where it fired,
  when a dispatch encloses both ends (an arrow needs a slice at each end);
* connections as async slices (``b``/``e``, ``id`` = the connection id, never
  the fd) from ``conn.open`` to ``conn.close`` or the end of the trace, with
  backpressure and half-close marked on them (``n``);
* instants for the Deferred life cycle (on the reactor thread) and warnings
  (process-wide);
* counters (``C``) per 100 ms: loop utilization, events per second and
  pending timers;
* ``process_name``/``thread_name`` metadata (``M``).

Times are microseconds from trace start. Perfetto requires the slices of a
thread to nest properly, so events are written in start order (longest first
on ties) and a child that outlasts its parent (clock reads taken at slightly
different places) is cut at the parent's end. Timestamps are floats chosen so
that a reader that converts them back to nanoseconds, rounding or truncating,
gets the recorded integers: nesting then holds in nanoseconds as well.

The output is written in chunks; the only full-size structure besides the
input is the sorted list of references to its events.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from itertools import compress, count, islice
from operator import add, attrgetter, eq
from typing import IO, Any

from ..core import events as E
from ..core.encoding import dumps
from ..core.events import Event
from ..core.trace import Trace
from .files import replacing

REACTOR_TID = 1
SLOW_TID = 2
FIRST_POOL_TID = 10
#: Counter sample period; grown for long traces so that no counter track
#: holds more than MAX_BUCKETS samples.
BUCKET_NS = 100_000_000
MAX_BUCKETS = 100_000
#: Output events per orjson call.
CHUNK = 10_000
#: Kinds drawn as slices on the reactor thread, with their category and the
#: prefix of their slice name.
_REACTOR_SLICES = {
    E.TIMER: ("timer", ""),
    E.IO_READ: ("io", "read "),
    E.IO_WRITE: ("io", "write "),
    E.DEFERRED: ("deferred", ""),
    E.SYSTEM: ("system", "system "),
    E.THREAD: ("thread", ""),
}

_TS = attrgetter("ts")
_DUR = attrgetter("dur")
_Out = Callable[[dict[str, Any]], None]
_UNKNOWN: Any = object()


def micros(ns: int) -> float:
    """``ns`` in microseconds, as a float that converts back to exactly ``ns``.

    Readers turn microseconds back into nanoseconds as ``x * 1000``, then
    round (Perfetto) or truncate (older readers): the plain quotient is
    sometimes a hair below and truncates one nanosecond short.
    """
    value = ns / 1000
    if int(value * 1000) != ns:
        value = math.nextafter(value, math.inf)
    return value


def _sorted(events: list[Event]) -> tuple[list[Event], int]:
    """Events by start time, the longest first on ties (parents before their
    children), and the time the last one ends."""
    if not events:
        return [], 0
    end = max(map(add, map(_TS, events), map(_DUR, events)))
    ordered = sorted(events, key=_TS)  # nearly sorted already: fast
    starts = list(map(_TS, ordered))
    # Runs of events that start at the same time (rare in recorded traces):
    # the longest first. ``tied`` holds i where ordered[i] and [i + 1] tie.
    tied = list(compress(count(), map(eq, starts, islice(starts, 1, None))))
    first = None
    for position, index in enumerate(tied):
        if first is None:
            first = index
        if position + 1 == len(tied) or tied[position + 1] != index + 1:
            ordered[first : index + 2] = sorted(ordered[first : index + 2], key=_longest_first)
            first = None
    return ordered, end


def _longest_first(event: Event) -> int:
    return -event.dur


def write_chrome(trace: Trace, path: str | os.PathLike[str]) -> None:
    """Write a Chrome trace of ``trace`` to ``path`` (replaced only when done).

    The Chrome format has no place for the final snapshot beyond what the
    counters show.
    """
    events = trace.events if isinstance(trace.events, list) else list(trace.events)
    ordered, end = _sorted(events)
    meta = trace.meta
    with replacing(os.fspath(path)) as out:
        out.write(b'{"traceEvents":[')
        _Converter(meta, end, _ChunkWriter(out)).convert(ordered)
        other = {"reactortrace": {"meta": meta, "events": len(ordered), "dropped": trace.dropped}}
        out.write(b'],"otherData":' + dumps(other) + b"}\n")


class _ChunkWriter:
    """Collects output events and writes them, comma-separated, a chunk at a time."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.first = True
        self.chunk: list[dict[str, Any]] = []

    def flush(self) -> None:
        if self.chunk:
            if not self.first:
                self.out.write(b",")
            self.out.write(dumps(self.chunk)[1:-1])
            self.first = False
            self.chunk = []


class _Counters:
    """Per-bucket sums behind the counter tracks."""

    def __init__(self, end: int) -> None:
        self.bucket_ns = max(BUCKET_NS, -(-end // MAX_BUCKETS))
        size = end // self.bucket_ns + 1
        self.events = [0] * size
        self.busy = [0] * size
        self.covered = [0] * size
        #: pending timers after the last change within each bucket (-1: none)
        self.pending = [-1] * size

    def spread(self, start: int, stop: int, into: list[int]) -> None:
        """Add the interval [start, stop) to the buckets it overlaps."""
        size = self.bucket_ns
        while start < stop:
            index = start // size
            cut = min(stop, (index + 1) * size)
            into[index] += cut - start
            start = cut

    def iteration(self, event: Event) -> None:
        """An iteration is busy, then waits in poll for its last ``wait`` ns."""
        wait = event.args.get("wait") or 0
        start = event.ts
        stop = start + event.dur
        busy_end = stop - wait if stop - wait > start else start
        index = start // self.bucket_ns
        if stop <= (index + 1) * self.bucket_ns:  # within one bucket, as most are
            self.busy[index] += busy_end - start
            self.covered[index] += stop - start
        else:
            self.spread(start, busy_end, self.busy)
            self.spread(start, stop, self.covered)

    def samples(self, pid: int, tid: int, out: _Out) -> None:
        size = self.bucket_ns
        per_second = 1e9 / size
        first = next((index for index, n in enumerate(self.events) if n), None)
        if first is None:
            return
        pending = 0
        for index in range(first, len(self.events)):
            ts = micros(index * size)
            if self.covered[index]:
                busy = round(100.0 * self.busy[index] / self.covered[index], 3)
                out(_counter("loop utilization (%)", ts, pid, tid, "busy", busy))
            rate = self.events[index] * per_second
            out(_counter("events per second", ts, pid, tid, "events", rate))
            if self.pending[index] >= 0:
                pending = self.pending[index]
            out(_counter("pending timers", ts, pid, tid, "timers", pending))


def _counter(name: str, ts: float, pid: int, tid: int, key: str, value: float) -> dict[str, Any]:
    return {"name": name, "cat": "loop", "ph": "C", "ts": ts, "pid": pid, "tid": tid,
            "args": {key: value}}


class _Converter:
    """Turns events, in start order, into Chrome events written through ``sink``."""

    def __init__(self, meta: dict[str, Any], end: int, sink: _ChunkWriter) -> None:
        pid = meta.get("pid")
        self.pid = pid if type(pid) is int and pid > 0 else 1
        self.meta = meta
        self.end = end
        self.sink = sink
        self.counters = _Counters(end)
        #: per track: end times (ns) of the slices open at the current time
        self.stacks: dict[int, list[int]] = {REACTOR_TID: []}
        self.pool_tids: dict[str, int] = {}
        #: timer id -> ts of its schedule if a slice encloses it, else None
        self.scheduled: dict[Any, int | None] = {}
        self.flow_ids = count(1)
        #: open connection id -> its async slice name
        self.conns: dict[Any, str] = {}

    def out(self, record: dict[str, Any]) -> None:
        self.sink.chunk.append(record)

    def convert(self, ordered: list[Event]) -> None:
        """The hot loop: reactor slices inline, everything rarer through a method."""
        pid = self.pid
        sink = self.sink
        reactor_stack = self.stacks[REACTOR_TID]
        pop, push = reactor_stack.pop, reactor_stack.append
        bucket_ns = self.counters.bucket_ns
        counted = self.counters.events
        reactor_slices = _REACTOR_SLICES
        rare = self._rare
        scheduled = self.scheduled
        scheduled_pop = scheduled.pop
        pending = self.counters.pending
        flow_ids = self.flow_ids
        nextafter, inf = math.nextafter, math.inf
        timer, thread, schedule, iteration = E.TIMER, E.THREAD, E.TIMER_SCHEDULE, E.ITERATION
        chunk_size, tid = CHUNK, REACTOR_TID
        chunk = sink.chunk
        append = chunk.append
        for event in ordered:
            kind = event.kind
            ts = event.ts
            end = ts + event.dur
            counted[end // bucket_ns] += 1  # by end time, as LoopState counts
            slice_kind = reactor_slices.get(kind)
            if slice_kind is not None and (kind != thread or event.args.get("source") != "pool"):
                while reactor_stack and reactor_stack[-1] <= ts:
                    pop()
                if reactor_stack and end > reactor_stack[-1]:
                    end = reactor_stack[-1]
                push(end)
                # micros(), inlined: this runs once per dispatch
                start_us = ts / 1000
                if int(start_us * 1000) != ts:
                    start_us = nextafter(start_us, inf)
                dur_us = (end - ts) / 1000
                if int(dur_us * 1000) != end - ts:
                    dur_us = nextafter(dur_us, inf)
                category, prefix = slice_kind
                args = event.args
                append({
                    "name": prefix + event.name if prefix else event.name,
                    "cat": category,
                    "ph": "X",
                    "ts": start_us,
                    "dur": dur_us,
                    "pid": pid,
                    "tid": tid,
                    "args": args,
                })
                if kind == timer:
                    # the arrow from where it was scheduled, if both ends are drawn
                    origin = scheduled_pop(args.get("timer"), _UNKNOWN)
                    if origin is not _UNKNOWN:
                        pending[ts // bucket_ns] = len(scheduled)
                        if origin is not None and end > ts:
                            flow = next(flow_ids)
                            append({"name": "timer", "cat": "timer.flow", "ph": "s", "bp": "e",
                                    "id": flow, "ts": micros(origin), "pid": pid, "tid": tid})
                            append({"name": "timer", "cat": "timer.flow", "ph": "f", "bp": "e",
                                    "id": flow, "ts": start_us, "pid": pid, "tid": tid})
            elif kind == schedule:
                while reactor_stack and reactor_stack[-1] <= ts:
                    pop()
                scheduled[event.args.get("timer")] = ts if reactor_stack else None
                pending[ts // bucket_ns] = len(scheduled)
            elif kind == iteration:
                self.counters.iteration(event)
            else:
                handler = rare.get(kind)
                if handler is not None:
                    handler(self, event)
            if len(chunk) >= chunk_size:
                sink.flush()
                chunk = sink.chunk
                append = chunk.append
        self._finish()
        sink.flush()

    def _pool_job(self, event: Event) -> None:
        name = event.args.get("thread") or "thread pool"
        tid = self.pool_tids.get(name)
        if tid is None:
            tid = self.pool_tids[name] = FIRST_POOL_TID + len(self.pool_tids)
        self._slice(event, "thread", tid)

    def _slice(self, event: Event, category: str, tid: int) -> None:
        stack = self.stacks.setdefault(tid, [])
        ts = event.ts
        while stack and stack[-1] <= ts:
            stack.pop()
        end = ts + event.dur
        if stack and end > stack[-1]:
            end = stack[-1]
        stack.append(end)
        self.out({"name": event.name, "cat": category, "ph": "X", "ts": micros(ts),
                  "dur": micros(end - ts), "pid": self.pid, "tid": tid, "args": event.args})

    def _pending_changed(self, ts: int) -> None:
        self.counters.pending[ts // self.counters.bucket_ns] = len(self.scheduled)

    def _cancelled(self, event: Event) -> None:
        if self.scheduled.pop(event.args.get("timer"), _UNKNOWN) is not _UNKNOWN:
            self._pending_changed(event.ts)

    def _thread(self, event: Event) -> None:
        self._pool_job(event)  # reactor-side calls never get here

    def _open(self, event: Event) -> None:
        conn = event.args.get("conn")
        name = f"{event.args.get('type') or 'connection'} {event.name}"
        self.conns[conn] = name
        self._async("b", name, conn, event.ts, event.args)

    def _close(self, event: Event) -> None:
        conn = event.args.get("conn")
        name = self.conns.pop(conn, None)
        if name is None:  # opened before the oldest event kept: draw it from there
            name = f"connection {event.name}"
            self._async("b", name, conn, 0, {"conn": conn, "opened": "before the trace"})
        self._async("e", name, conn, event.ts, event.args)

    def _async(self, phase: str, name: str, conn: Any, ts: int, args: dict[str, Any]) -> None:
        self.out({"name": name, "cat": "connection", "ph": phase, "id": conn, "ts": micros(ts),
                  "pid": self.pid, "tid": REACTOR_TID, "args": args})

    def _conn_instant(self, event: Event) -> None:
        """Backpressure and half-close: a mark on the connection's own track."""
        conn = event.args.get("conn")
        if conn in self.conns:
            self.out({"name": event.kind.partition(".")[2], "cat": "connection", "ph": "n",
                      "id": conn, "ts": micros(event.ts), "pid": self.pid, "tid": REACTOR_TID,
                      "args": event.args})

    def _instant(self, event: Event) -> None:
        """A moment on the reactor thread (the Deferred life cycle)."""
        self.out({"name": f"{event.kind} {event.name}", "cat": "deferred", "ph": "i", "s": "t",
                  "ts": micros(event.ts), "pid": self.pid, "tid": REACTOR_TID,
                  "args": event.args})

    def _warning(self, event: Event) -> None:
        self.out({"name": f"warning: {event.name}", "cat": "warning", "ph": "i", "s": "p",
                  "ts": micros(event.ts), "pid": self.pid, "tid": REACTOR_TID,
                  "args": event.args})

    def _slow(self, event: Event) -> None:
        self._slice(event, "slow", SLOW_TID)

    _rare: dict[str, Callable[[_Converter, Event], None]] = {
        E.THREAD: _thread,
        E.TIMER_CANCEL: _cancelled,
        E.CONN_OPEN: _open,
        E.CONN_CLOSE: _close,
        E.CONN_PAUSE: _conn_instant,
        E.CONN_RESUME: _conn_instant,
        E.CONN_HALFCLOSE: _conn_instant,
        E.DEFERRED_NEW: _instant,
        E.DEFERRED_FIRED: _instant,
        E.DEFERRED_ERROR: _instant,
        E.DEFERRED_HANDLED: _instant,
        E.SLOW: _slow,
        E.WARNING: _warning,
    }

    def _finish(self) -> None:
        """Connections still open, counters, and the names of everything."""
        for conn, name in self.conns.items():
            self._async("e", name, conn, self.end, {"conn": conn, "reason": "still open"})
        self.conns.clear()
        pid, out = self.pid, self.out
        self.counters.samples(pid, REACTOR_TID, out)
        program = os.path.basename(str(self.meta.get("program") or "python"))
        out(_metadata("process_name", pid, REACTOR_TID, f"{program} (reactortrace)"))
        names = {REACTOR_TID: "reactor"}
        if SLOW_TID in self.stacks:
            names[SLOW_TID] = "slow dispatches"
        for name, tid in self.pool_tids.items():
            names[tid] = name
        for tid, name in names.items():
            out(_metadata("thread_name", pid, tid, name))
            out({"name": "thread_sort_index", "ph": "M", "pid": pid, "tid": tid,
                 "args": {"sort_index": tid}})


def _metadata(kind: str, pid: int, tid: int, name: str) -> dict[str, Any]:
    return {"name": kind, "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}}
