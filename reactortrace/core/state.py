"""Aggregate a stream of events into the state of the reactor at one moment.

:class:`LoopState` is the single place where events become pending timers,
open connections and statistics, for a live program and for a replayed trace
alike. Everything it keeps is bounded: per-callable histograms have a fixed
number of buckets, the number of callables is capped, the recent window is a
fixed number of time buckets and warnings are a bounded queue. Only pending
timers and open connections grow, as they do in the program itself.

Findings (slow callbacks, late timers, leaks, ...) are made by the
:class:`~reactortrace.core.diagnose.Diagnostics` it holds, from the same
events and the same timer and connection records, so ``Snapshot.warnings``
is the same live and in replay.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from reactortrace.core import events as ev
from reactortrace.core.diagnose import DEFAULT_BUFFER_SIZE, Diagnostics, Thresholds
from reactortrace.core.events import Event
from reactortrace.core.nesting import Nesting
from reactortrace.core.snapshot import (
    BlockedInfo,
    CallableStats,
    ConnectionInfo,
    LoopStats,
    Snapshot,
    TimerInfo,
)
from reactortrace.core.tracked import CallableRecord, ConnRecord, TimerRecord
from reactortrace.core.window import (
    BUSY,
    DEFAULT_WINDOW_NS,
    EVENTS,
    LATE_N,
    LATE_SUM,
    WAIT,
    RecentWindow,
)

#: Callables beyond this many are counted together under :data:`OTHER`.
MAX_CALLABLES = 10_000
OTHER = "(other)"
MAX_WARNINGS = 500
#: Closed connection ids remembered, so late I/O events do not revive them.
MAX_CLOSED = 4096
#: Names that say "not known": they never replace a known protocol name.
UNKNOWN_NAMES = frozenset({"", "?"})


class LoopState:
    """Consumes events in ``seq`` order; :meth:`snapshot` tells the state at a time.

    ``dropped`` (events lost before they reached this object) and ``ended``
    (the program or the trace has finished) are set by the owner.
    ``thresholds`` say when findings become warnings.
    """

    def __init__(
        self,
        window_ns: int = DEFAULT_WINDOW_NS,
        *,
        max_callables: int = MAX_CALLABLES,
        max_warnings: int = MAX_WARNINGS,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.window = RecentWindow(window_ns)
        self.max_callables = max_callables
        self.dropped = 0
        self.ended = False
        #: Events fed in all, and the latest end time among them (ns).
        self.events = 0
        #: Events skipped because their args had the wrong types.
        self.malformed = 0
        self.last_end = 0
        self.iterations = 0
        self.busy = 0
        self.wait = 0
        self._timers: dict[Any, TimerRecord] = {}
        self._conns: dict[Any, ConnRecord] = {}
        self._closed: set[Any] = set()
        self._closed_order: deque[Any] = deque()
        self._callables: dict[tuple[str, str], CallableRecord] = {}
        self._nesting = Nesting()
        self._warnings: deque[dict[str, Any]] = deque(maxlen=max_warnings)
        self.diagnostics = Diagnostics(thresholds)
        self._idle_ns = self.diagnostics.idle_ns
        self._bucket_index: int | None = None
        self._bucket: list[int] = [0] * 5
        self._handlers: dict[str, Callable[[Event, list[int]], None]] = {
            ev.TIMER: self._on_timer,
            ev.TIMER_SCHEDULE: self._on_schedule,
            ev.TIMER_CANCEL: self._on_cancel,
            ev.TIMER_RESET: self._on_reset,
            ev.IO_READ: self._on_read,
            ev.IO_WRITE: self._on_write,
            ev.CONN_OPEN: self._on_open,
            ev.CONN_CLOSE: self._on_close,
            ev.CONN_PAUSE: self._on_pause,
            ev.CONN_RESUME: self._on_resume,
            ev.CONN_HALFCLOSE: self._on_halfclose,
            ev.THREAD: self._on_thread,
            ev.DEFERRED: self._on_deferred,
            ev.DEFERRED_NEW: self._on_deferred_state,
            ev.DEFERRED_FIRED: self._on_deferred_state,
            ev.DEFERRED_ERROR: self._on_deferred_state,
            ev.DEFERRED_HANDLED: self._on_deferred_state,
            ev.ITERATION: self._on_iteration,
            ev.SLOW: self._on_slow,
            ev.SYSTEM: self._on_system,
            ev.WARNING: self._on_warning,
        }
        diagnostics = self.diagnostics
        self._deferred_states: dict[str, Callable[[Event], None]] = {
            ev.DEFERRED_NEW: diagnostics.deferred_new,
            ev.DEFERRED_FIRED: diagnostics.deferred_fired,
            ev.DEFERRED_ERROR: diagnostics.deferred_error,
            ev.DEFERRED_HANDLED: diagnostics.deferred_handled,
        }

    # -- feeding ---------------------------------------------------------

    def feed(self, events: Iterable[Event]) -> None:
        """Account for ``events``, which come after every event fed before."""
        handlers = self._handlers
        window_bucket = self.window.bucket
        bucket_ns = self.window.bucket_ns
        index = self._bucket_index
        bucket = self._bucket
        last_end = self.last_end
        count = 0
        for event in events:
            count += 1
            end = event.ts + event.dur
            if end > last_end:
                last_end = end
            if end // bucket_ns != index:
                index = end // bucket_ns
                bucket = window_bucket(index)
            bucket[0] += 1
            handler = handlers.get(event.kind)
            if handler is not None:
                try:
                    handler(event, bucket)
                except (TypeError, ValueError, AttributeError):
                    # Args of the wrong type (a foreign or damaged file): skip the event.
                    self.malformed += 1
        self._bucket_index = index
        self._bucket = bucket
        self.last_end = last_end
        self.events += count

    def _on_timer(self, event: Event, bucket: list[int]) -> None:
        args = event.args
        timer = self._timers.pop(args.get("timer"), None)
        late = args.get("late")
        if late is not None:
            if timer is not None and event.ts - timer.due > late:
                # Twisted reads the clock once per pass over due timers: one
                # that runs after a slow one in the same pass is later than that.
                late = event.ts - timer.due
            bucket[LATE_SUM] += late
            bucket[LATE_N] += 1
        self._count_call(event, args.get("error") is not None)
        self.diagnostics.timer(event, late)
        self.diagnostics.dispatch(event)

    def _on_schedule(self, event: Event, bucket: list[int]) -> None:
        args = event.args
        delay = args.get("delay")
        due = args.get("due")
        if due is None:
            due = event.ts + (delay or 0)
        timer = self._timers[args.get("timer")] = TimerRecord(
            event.name,
            args.get("site"),
            delay if delay is not None else due - event.ts,
            due,
            bool(args.get("looping")),
            args.get("own") is True,
        )
        if timer.looping:
            self.diagnostics.looping_scheduled(timer.site or timer.name, timer.delay)

    def _on_cancel(self, event: Event, bucket: list[int]) -> None:
        self._timers.pop(event.args.get("timer"), None)

    def _on_reset(self, event: Event, bucket: list[int]) -> None:
        args = event.args
        due = args.get("due")
        if due is None:
            return
        timer = self._timers.get(args.get("timer"))
        if timer is None:
            # Scheduled before the oldest event we have: it is pending all the same.
            self._timers[args.get("timer")] = TimerRecord(
                event.name, args.get("site"), due - event.ts, due, False
            )
        else:
            timer.due = due

    def _known_conn(self, event: Event) -> ConnRecord | None:
        """The connection an event is about, created if its open was lost."""
        conn_id = event.args.get("conn")
        conn = self._conns.get(conn_id)
        if conn is None:
            if conn_id is None or conn_id in self._closed:
                return None  # unattributable, or its dispatch ended after the close
            conn = ConnRecord(
                conn_id, "unknown", event.name, None, None, event.args.get("fd"), event.ts
            )
            self._conns[conn_id] = conn
        elif event.name != conn.protocol and event.name not in UNKNOWN_NAMES:
            conn.protocol = event.name
        return conn

    def _conn_for(self, event: Event) -> ConnRecord | None:
        """The connection an I/O event is about, its activity brought up to date."""
        conn = self._known_conn(event)
        if conn is not None:
            last = conn.last_activity if conn.last_activity is not None else conn.opened
            if event.ts - last >= self._idle_ns:
                self.diagnostics.idle_ended(conn, last, event.ts)
            conn.last_activity = event.ts + event.dur
        return conn

    def _on_read(self, event: Event, bucket: list[int]) -> None:
        conn = self._conn_for(event)
        if conn is not None:
            conn.reads += 1
            size = event.args.get("bytes")
            if size:
                conn.bytes_in += size
        self._count_call(event, False)
        self.diagnostics.dispatch(event)

    def _on_write(self, event: Event, bucket: list[int]) -> None:
        conn = self._conn_for(event)
        if conn is not None:
            args = event.args
            conn.writes += 1
            size = args.get("bytes")
            if size:
                conn.bytes_out += size
            buffered = args.get("buffered")
            if buffered is not None and buffered >= 0:
                before, conn.write_buffer = conn.write_buffer, buffered
                limit = conn.buffer_size or DEFAULT_BUFFER_SIZE
                if buffered > limit:
                    conn.peak_buffer = max(conn.peak_buffer, buffered)
                    if before > limit and buffered > before and not conn.pauses:
                        # over the limit and still growing, and no producer throttled
                        self.diagnostics.backpressure(event, conn)
        self._count_call(event, False)
        self.diagnostics.dispatch(event)

    def _on_open(self, event: Event, bucket: list[int]) -> None:
        args = event.args
        conn = self._conns[args.get("conn")] = ConnRecord(
            args.get("conn"),
            args.get("type") or "unknown",
            event.name,
            args.get("local"),
            args.get("peer"),
            args.get("fd"),
            event.ts,
        )
        conn.buffer_size = args.get("buffer_size")
        site = args.get("site")
        conn.site = site if isinstance(site, str) else None

    def _on_close(self, event: Event, bucket: list[int]) -> None:
        conn_id = event.args.get("conn")
        conn = self._conns.pop(conn_id, None)
        if conn is not None:
            last = conn.last_activity if conn.last_activity is not None else conn.opened
            if event.ts - last >= self._idle_ns:
                self.diagnostics.idle_ended(conn, last, event.ts)
            self.diagnostics.closed_conn(event, conn)
        if conn_id not in self._closed:
            self._closed.add(conn_id)
            self._closed_order.append(conn_id)
            if len(self._closed_order) > MAX_CLOSED:
                self._closed.discard(self._closed_order.popleft())

    def _on_pause(self, event: Event, bucket: list[int]) -> None:
        conn = self._known_conn(event)
        if conn is not None:
            conn.pauses += 1
            conn.peak_buffer = max(conn.peak_buffer, event.args.get("buffered") or 0)
            if conn.paused_at is None:
                conn.paused_at = event.ts

    def _on_resume(self, event: Event, bucket: list[int]) -> None:
        conn = self._known_conn(event)
        if conn is not None:
            conn.resumes += 1
            self.diagnostics.resumed(event, conn)

    def _on_halfclose(self, event: Event, bucket: list[int]) -> None:
        conn = self._known_conn(event)
        if conn is not None and conn.halfclosed_at is None:
            conn.halfclosed_at = event.ts
            conn.halfclosed_side = event.args.get("side")

    def _on_thread(self, event: Event, bucket: list[int]) -> None:
        self._count_call(event, event.args.get("error") is not None)
        self.diagnostics.dispatch(event)

    def _on_deferred(self, event: Event, bucket: list[int]) -> None:
        self._count_call(event, event.args.get("outcome") == "failure")
        self.diagnostics.dispatch(event)

    def _on_deferred_state(self, event: Event, bucket: list[int]) -> None:
        self._deferred_states[event.kind](event)

    def _on_slow(self, event: Event, bucket: list[int]) -> None:
        self.diagnostics.slow(event)

    def _on_system(self, event: Event, bucket: list[int]) -> None:
        if event.args.get("phase") == "shutdown":
            self.diagnostics.shutdown(event.ts, self._timers, self._conns)

    def finish(self, ts: int | None = None, ended: str = "when the recording ended") -> None:
        """Take what is pending and open now as left over at shutdown.

        For a trace that ends without the reactor's ``shutdown`` event (the
        program was killed, or written while running, or a test ended:
        ``ended`` says which in messages); a no-op after one.
        """
        self.diagnostics.shutdown(
            self.last_end if ts is None else ts, self._timers, self._conns, ended
        )

    def _count_call(self, event: Event, failed: bool) -> None:
        """Count a dispatch for hot callables: its total and its self time.

        Thread-pool jobs run on their own threads: they nest in nothing.
        """
        if event.kind == ev.THREAD and event.args.get("source") == "pool":
            own = event.dur
        else:
            own = self._nesting.self_time(event.ts, event.dur)
        key = (event.name, event.kind)
        stats = self._callables.get(key)
        if stats is None:
            if len(self._callables) >= self.max_callables:
                key = (OTHER, event.kind)
                stats = self._callables.get(key)
            if stats is None:
                stats = self._callables[key] = CallableRecord()
        stats.add(event.dur)
        stats.self_total += own
        if failed:
            stats.errors += 1
        stats.summary = None

    def _on_iteration(self, event: Event, bucket: list[int]) -> None:
        self.iterations += 1
        self._nesting.clear()
        wait = event.args.get("wait") or 0
        busy = event.dur - wait
        if busy < 0:
            busy = 0
        self.busy += busy
        self.wait += wait
        bucket[BUSY] += busy
        bucket[WAIT] += wait

    def _on_warning(self, event: Event, bucket: list[int]) -> None:
        self._warnings.append({**event.args, "ts": event.ts, "name": event.name})

    # -- reading ---------------------------------------------------------

    def snapshot(self, ts: int | None = None, blocked: BlockedInfo | None = None) -> Snapshot:
        """The state at ``ts`` (default: the end of the latest event fed).

        Meant for ``ts`` at or after the events fed; to look at an earlier
        moment, feed a fresh LoopState only the events up to it. ``blocked``:
        the dispatch running now, long enough to block the loop; the loop's
        numbers then count it (its event comes only when it ends).
        """
        if ts is None:
            ts = self.last_end
        timers = sorted(self._timers.items(), key=lambda item: item[1].due)
        return Snapshot(
            ts=ts,
            timers=tuple(
                TimerInfo(tid, t.name, t.site, t.due - ts, t.delay, t.looping, t.own)
                for tid, t in timers
            ),
            connections=tuple(
                ConnectionInfo(
                    cid,
                    c.type,
                    c.protocol,
                    c.local,
                    c.peer,
                    c.fd,
                    c.opened,
                    ts - c.opened,
                    c.bytes_in,
                    c.bytes_out,
                    c.reads,
                    c.writes,
                    c.last_activity,
                    c.write_buffer,
                    c.site,
                )
                for cid, c in self._conns.items()
            ),
            callables=self._callable_stats(),
            loop=self._loop_stats(ts, blocked),
            dropped=self.dropped,
            warnings=self._all_warnings(ts),
            blocked=blocked,
        )

    def connection_history(self, ts: int | None = None) -> list[dict[str, Any]]:
        """Every connection seen (the recently closed ones, then those open at
        ``ts``; not the reactor's wakers), most bytes moved first."""
        if ts is None:
            ts = self.last_end
        rows = []
        for conn in [*self.diagnostics.closed, *self._conns.values()]:
            if conn.type == "waker":
                continue
            rows.append({
                "conn": conn.id,
                "type": conn.type,
                "protocol": conn.protocol,
                "local": conn.local,
                "peer": conn.peer,
                "opened": conn.opened,
                "closed": conn.closed_at,
                "lifetime": (conn.closed_at if conn.closed_at is not None else ts) - conn.opened,
                "bytes_in": conn.bytes_in,
                "bytes_out": conn.bytes_out,
                "pauses": conn.pauses,
                "resumes": conn.resumes,
                "peak_buffer": conn.peak_buffer,
                "reason": conn.reason,
            })
        rows.sort(key=lambda row: (-(row["bytes_in"] + row["bytes_out"]), row["opened"]))
        return rows

    def _all_warnings(self, ts: int) -> tuple[dict[str, Any], ...]:
        """Warnings recorded in the trace, as they are, and the findings now, by time.

        A finding the trace already recorded (same code, and same place or
        subject) is shown once, in the recorded words.
        """
        found = self.diagnostics.warnings(ts, self._conns)
        if not self._warnings:
            return tuple(found)
        recorded = set()
        for warning in self._warnings:
            code = warning.get("code")
            for about in (warning.get("where"), warning.get("subject")):
                if about is not None:
                    recorded.add((code, about))
        merged = [*self._warnings]
        for warning in found:
            code = warning["code"]
            if not {(code, warning["where"]), (code, warning["subject"])} & recorded:
                merged.append(warning)
        merged.sort(key=lambda w: w.get("ts") or 0)
        return tuple(merged)

    def _callable_stats(self) -> tuple[CallableStats, ...]:
        """Per-callable summaries, busiest first; only changed ones are recomputed."""
        out = []
        for (name, kind), stats in self._callables.items():
            if stats.summary is None:
                stats.summary = CallableStats(
                    name,
                    kind,
                    stats.count,
                    stats.total,
                    stats.mean,
                    stats.max,
                    stats.quantile(0.95),
                    stats.errors,
                    stats.self_total,
                )
            out.append(stats.summary)
        out.sort(key=lambda s: (-s.total, s.name))
        return tuple(out)

    def _loop_stats(self, ts: int, blocked: BlockedInfo | None = None) -> LoopStats:
        """Whole-trace totals and rates over the window ending at ``ts``.

        While a dispatch blocks, the loop is busy now (utilization 1) and the
        lag is at least how long it has blocked: anything due meanwhile waits
        that long.
        """
        totals, span = self.window.totals(ts)
        elapsed = totals[BUSY] + totals[WAIT]
        utilization = totals[BUSY] / elapsed if elapsed else 0.0
        lag = totals[LATE_SUM] // totals[LATE_N] if totals[LATE_N] else 0
        if blocked is not None:
            utilization = 1.0
            lag = max(lag, blocked.elapsed)
        return LoopStats(
            iterations=self.iterations,
            utilization=utilization,
            events_per_second=totals[EVENTS] * 1e9 / span if span > 0 else 0.0,
            lag=lag,
            busy=self.busy,
            wait=self.wait,
            events=self.events,
            uptime=ts,
        )
