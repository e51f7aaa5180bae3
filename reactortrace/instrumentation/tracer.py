"""The Tracer: instrument an installed reactor in place, and undo it exactly."""

from __future__ import annotations

import dataclasses
import os
import platform
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import twisted
from twisted.internet.base import ReactorBase

from ..core import forks
from ..core.diagnose import Thresholds
from ..core.events import Event
from ..core.gcpause import gc_paused
from ..core.ring import DEFAULT_MAX_EVENTS, Keeper
from ..core.snapshot import BlockedInfo, PendingDeferreds, Snapshot
from ..core.state import LoopState
from ..core.trace import Trace
from ..errors import ReactorTraceError
from . import deferreds, diagnosis, io, loop, pending, threads, timers, waits
from . import records as R
from .recorder import Recorder
from .resolve import Resolver
from .shared import ACTIVE
from .watchdog import Watchdog, roots_of

DEFAULT_SLOW_MS = 100.0
#: Records resolved at a time when a trace is exported.
EXPORT_CHUNK = 10_000
#: Records only a running reactor makes (a Deferred fires, a timer is
#: scheduled, without one).
_DISPATCHES = frozenset((R.TIMER, R.READ, R.WRITE, R.ITERATION, R.THREAD, R.SYSTEM))


def is_real_reactor(reactor: Any) -> bool:
    """True for reactors reactortrace can instrument (not test fakes)."""
    return isinstance(reactor, ReactorBase) and (
        hasattr(reactor, "_asyncioEventloop") or hasattr(type(reactor), "_doReadOrWrite")
    )


class Tracer:
    """Records what one reactor does; see :func:`instrument`.

    ``max_events``: the ring's size. ``slow_ms``: a dispatch this long is
    slow. ``watchdog``: a thread takes the stack of slow dispatches while they
    block. ``diagnostics``: the watchdog and the hooks behind backpressure and
    half-close warnings (off only to measure what they cost).
    ``track_deferreds``: record every Deferred made and fired, to find those
    pending too long. ``deferred_view``: keep every Deferred made (weakly) so
    that snapshots list the pending ones and what each waits on (default: on
    with ``track_deferreds``; it costs about 1.7 µs per Deferred made).
    ``thresholds``: when findings become warnings.
    ``metrics``: serve Prometheus metrics on this ``HOST:PORT``; ``otlp``: push
    metrics and slow-dispatch spans to this OTLP/HTTP collector URL (both
    need ``reactortrace[metrics]``; see :meth:`export_metrics`).
    ``before``: the creation site shown for timers made before tracing began
    (``attach`` says "before attach"; unknown by default).
    """

    def __init__(
        self,
        reactor: Any,
        *,
        max_events: int = DEFAULT_MAX_EVENTS,
        slow_ms: float = DEFAULT_SLOW_MS,
        watchdog: bool = True,
        diagnostics: bool = True,
        track_deferreds: bool = False,
        deferred_view: bool | None = None,
        thresholds: Thresholds | None = None,
        program: str | None = None,
        argv: list[str] | None = None,
        metrics: str | None = None,
        otlp: str | None = None,
        before: str | None = None,
    ) -> None:
        if metrics is not None or otlp is not None:
            from ..metrics import check_options

            check_options(metrics, otlp)
        if not is_real_reactor(reactor):
            raise ReactorTraceError(
                f"cannot instrument {type(reactor).__qualname__}: not a real Twisted reactor"
            )
        if any(rec_reactor is reactor for rec_reactor in _instrumented.values()):
            raise ReactorTraceError("this reactor is already instrumented")
        self.reactor = reactor
        # Warnings use the same slow threshold as the watchdog.
        self.thresholds = dataclasses.replace(thresholds or Thresholds(), slow_ms=slow_ms)
        if _runs_tests(program, argv):
            self.thresholds = dataclasses.replace(self.thresholds, leftovers=True)
        if deferred_view is None:
            deferred_view = track_deferreds
        self.options = {
            "max_events": max_events,
            "slow_ms": slow_ms,
            "watchdog": watchdog and diagnostics,
            "diagnostics": diagnostics,
            "track_deferreds": track_deferreds,
            "deferred_view": deferred_view,
            "thresholds": dataclasses.asdict(self.thresholds),
        }
        self.recorder = rec = Recorder(max_events)
        self._resolver = Resolver(rec.start, rec.start_wall, rec.interner.objects, before)
        self._state = LoopState(thresholds=self.thresholds)
        self._seen = -1
        self._lock = threading.Lock()
        # Taken before a fork, before the ring's (as _drain takes them), with
        # the interner's: a child finds them all free.
        forks.hold_across_fork(self)
        forks.hold_across_fork(rec.interner)
        self._subscribers: list[Subscription] = []
        self._default_subscription: Subscription | None = None
        self._closed = False
        self._when_running: list[Callable[[], None]] = []
        self._when_stopped: list[Callable[[], None]] = []
        self._run_wrapped = False
        self._expected_parts = ["timers", "io", "loop", "threads", "deferreds", "watchdog"]
        if diagnostics:
            self._expected_parts.append("diagnosis")
        self.meta = _meta(reactor, rec.start_wall, self.options, program, argv)
        queued: deque[float] = deque()
        # Hooks go on the reactor's class, guarded by an identity check, never
        # on the instance: an instance attribute (or a __class__ change) turns
        # the reactor's inline attribute values into a dict, which slows every
        # attribute access of the program's loop, even after close().
        reactor_class = type(reactor)
        rec.target[0] = reactor
        ACTIVE.append(rec)
        _instrumented[id(self)] = reactor
        conns = io.Connections(rec, rec.part("io"))
        installs: list[tuple[str, Callable[[], object]]] = [
            ("timers", lambda: timers.install(rec, reactor, reactor_class, queued)),
            ("threads", lambda: threads.install(rec, reactor_class, queued)),
            ("io", lambda: io.install(rec, reactor, reactor_class, conns)),
            ("loop", lambda: loop.install(rec, reactor, reactor_class, conns)),
            ("deferreds", lambda: deferreds.install(rec)),
        ]
        if deferred_view:  # before diagnosis: it recompiles Deferred.__init__ itself
            self._expected_parts.append(pending.PART)
            installs.append((pending.PART, lambda: pending.install(rec)))
        if diagnostics:
            installs.append(("diagnosis", lambda: diagnosis.install(rec, track_deferreds)))
        self._watchdog: Watchdog | None = None
        self.exports: Any = None  # reactortrace.metrics.Exports, once exporting
        self._pending_views = waits.PendingViews(rec, reactor, self._resolver.ns)
        try:
            for name, install in installs:
                try:
                    install()
                except Exception as exc:  # noqa: BLE001 - that part alone goes off
                    rec.fail(name, exc)
            self._keeper = Keeper(rec.ring, on_error=rec.fail_everything)
            self._keeper.start()
            if watchdog and diagnostics:
                try:
                    self._watchdog = Watchdog(rec, slow_ms, roots_of(reactor))
                    self._watchdog.start()
                except Exception as exc:  # noqa: BLE001
                    rec.fail("watchdog", exc)
            if metrics is not None or otlp is not None:
                self.export_metrics(metrics=metrics, otlp=otlp)
        except BaseException:
            self.close()
            raise

    # -- reading -------------------------------------------------------------

    def _drain(self) -> list[Event]:
        """Resolve records appended since the last call, feed the state, and
        hand the new events to every subscriber.

        The watchdog looks first: a block that has just ended is recorded
        with the dispatch it belongs to, not after whatever comes next.
        """
        if self._watchdog is not None:
            self._watchdog.refresh()
        with self._lock:
            first, records = self.recorder.ring.since(self._seen)
            if not records:
                return []
            self._seen = first + len(records) - 1
            new = list(self._resolver.resolve(records, first))
            self._publish(new)
            return new

    def _publish(self, new: list[Event]) -> None:
        """Feed ``new`` to the state and to each subscriber (under the lock)."""
        self._state.dropped = self.recorder.ring.dropped
        self._state.feed(new)
        for subscriber in self._subscribers:
            subscriber.take(new)

    def subscribe(self, limit: int = 500_000, *, history: bool = False) -> "Subscription":
        """A reader of every event resolved from now on, its own copy of each.

        Streams and live viewers each subscribe: :meth:`snapshot` and other
        readers no longer take events away from them. A subscriber that does
        not read keeps at most ``limit`` events and counts the rest as lost.
        With ``history``, its first call also returns every event the ring
        still holds (a stream started late, in a forked child say).
        """
        subscription = Subscription(self, limit)
        if history:
            self.events(subscription)
            return subscription
        with self._lock:
            self._subscribers.append(subscription)
        return subscription

    def now(self) -> int:
        """Nanoseconds since the trace started."""
        return self._resolver.ns(self.recorder.clock())

    def snapshot(self) -> Snapshot:
        """Pending timers, open connections and statistics as of now, and the
        dispatch blocking the loop, if one is."""
        self._drain()
        with self._lock:
            now = self.now()
            snapshot = self._state.snapshot(now, self.blocked(now))
        return self._with_deferreds(snapshot)

    def pending_deferreds(self, fresh: bool = False) -> PendingDeferreds | None:
        """The pending Deferreds now and what each waits on (None when the
        Deferreds view is off). Callable from any thread. With thousands
        pending, the view is walked again only when due (see
        :class:`~reactortrace.instrumentation.waits.PendingViews`) unless ``fresh``."""
        part = self.recorder.parts.get(pending.PART)
        if part is None or not part.on:
            return None
        try:
            return self._pending_views(fresh)
        except Exception as exc:  # noqa: BLE001 - the view goes off, said once
            part.fail(exc)
            return None

    def _with_deferreds(self, snapshot: Snapshot, fresh: bool = False) -> Snapshot:
        view = self.pending_deferreds(fresh)
        return snapshot if view is None else dataclasses.replace(snapshot, deferreds=view)

    def blocked(self, now: int | None = None) -> BlockedInfo | None:
        """The dispatch blocking the loop now (run past the slow threshold), if any.

        Callable from any thread: live views ask while the reactor is stuck.
        """
        block = self._watchdog.blocked() if self._watchdog is not None else None
        if block is None:
            return None
        info = block.info(self._resolver.ns)
        if now is not None:
            info = dataclasses.replace(info, elapsed=max(info.elapsed, now - info.since))
        return info

    def events(self, joining: "Subscription | None" = None) -> list[Event]:
        """Every event still in the ring, oldest first.

        ``joining``: a new subscription that gets them all, and every later one.
        """
        with self._lock:
            first, records = self.recorder.ring.since(-1)
            resolver = self._resolver.copy()
            events = list(resolver.resolve(records, first))
            # Bring the running state up to date with the same events instead
            # of resolving the newest records a second time.
            new = [event for event in events if event.seq > self._seen]
            if joining is not None:
                joining.take(events[: len(events) - len(new)])
                self._subscribers.append(joining)
            if records:
                self._seen = max(self._seen, first + len(records) - 1)
                self._resolver = resolver
            self._publish(new)
            return events

    def new_events(self) -> list[Event]:
        """Events recorded since the previous call of this method."""
        if self._default_subscription is None:
            everything = self.events()
            self._default_subscription = self.subscribe()
            return everything
        return self._default_subscription()

    def export_metrics(self, *, metrics: str | None = None, otlp: str | None = None) -> Any:
        """Serve Prometheus metrics on ``metrics`` (``HOST:PORT``) and/or push metrics
        and slow-dispatch spans to the OTLP/HTTP collector at ``otlp``, from
        threads of reactortrace's own; :meth:`close` stops them.

        Returns the running :class:`reactortrace.metrics.Exports`. Raises
        :class:`~reactortrace.errors.UsageError` for a bad address or URL, a
        port in use, or ``reactortrace[metrics]`` not installed.
        """
        from ..metrics import start
        from ..say import say

        if self.exports is not None:
            raise ReactorTraceError("this tracer already exports metrics")
        self.exports = start(self, slow_ms=self.thresholds.slow_ms,
                             late_ms=self.thresholds.late_ms, metrics=metrics, otlp=otlp,
                             say=say)
        return self.exports

    def blocked_for(self) -> float:
        """Seconds the dispatch running on the reactor thread now has run (0 while
        the loop waits in poll, or without the watchdog)."""
        watchdog = self._watchdog
        started = watchdog.running_since() if watchdog is not None else None
        return max(0.0, self.recorder.clock() - started) if started is not None else 0.0

    def pool_stats(self) -> tuple[int, int, int] | None:
        """(jobs queued, threads busy, threads) of the reactor's thread pool, if it
        has one (it is not made for asking)."""
        pool = getattr(self.reactor, "threadpool", None)
        team = getattr(pool, "_team", None)
        if team is None:
            return None
        stats = team.statistics()
        busy = stats.busyWorkerCount
        return stats.backloggedWorkCount, busy, busy + stats.idleWorkerCount

    @property
    def dropped(self) -> int:
        """Events that fell out of the ring."""
        return self.recorder.ring.dropped

    @property
    def failures(self) -> list[str]:
        """Parts that failed and were turned off, with why."""
        return list(self.recorder.failures)

    def recording(self) -> dict[str, dict[str, Any]]:
        """Each part of the recording: on or off, and why (the trace's ``meta.recording``)."""
        return self.recorder.recording(self._expected_parts)

    def trace(self) -> Trace:
        """The recording so far as a :class:`Trace`: what the ring holds, a
        snapshot of now, and the count of what fell out.

        Taken while a dispatch blocks the loop, it ends with that dispatch's
        ``slow`` event as it is so far (``ongoing``), and the snapshot says so.
        """
        with gc_paused():
            block = self._watchdog.refresh() if self._watchdog is not None else None
            with self._lock:
                first, records = self.recorder.ring.since(-1)
                events = list(self._resolved(first, records, block))
                snapshot = self._final_snapshot()
        meta = {**self.meta, "recording": self.recording()}
        return Trace(meta=meta, events=events, snapshot=snapshot, dropped=self.dropped)

    def export(
        self, path: str | os.PathLike[str], format: str | None = None, *,
        meta: dict[str, Any] | None = None,
    ) -> int:
        """Write the trace to ``path`` (format from the extension by default),
        with ``meta``'s keys added to its meta; returns the number of events.

        The same trace as :meth:`trace` gives, but the ring is resolved a
        chunk at a time straight into the file (JSON and JSON Lines): memory
        holds the ring and one chunk of events, never them all. A format
        without a snapshot (Chrome) leaves the state as it was: it is fed
        when next read, as it is after any recording.
        """
        from ..formats import WITH_SNAPSHOT, format_for, write_parts

        publish = format_for(os.fspath(path), format) in WITH_SNAPSHOT
        with gc_paused():
            block = self._watchdog.refresh() if self._watchdog is not None else None
            with self._lock:
                first, records = self.recorder.ring.since(-1)
                dropped = self.dropped
                extra = {**(meta or {}), "recording": self.recording()}
                return write_parts(path, {**self.meta, **extra},
                                   self._resolved(first, records, block, publish),
                                   self._final_snapshot, dropped, format)

    def _resolved(self, first: int, records: list[Any], block: Any,
                  publish: bool = True) -> Iterator[Event]:
        """Events of the ring's ``records`` (the first numbered ``first``),
        resolved a chunk at a time; then the ongoing ``block``'s, if any.

        Called under the lock. With ``publish``, events not fed to the state
        yet are fed (and handed to subscribers) chunk by chunk, as
        :meth:`_drain` would, so a reader that stops early leaves the state as
        far as it read.
        """
        resolver = self._resolver.copy()
        for start in range(0, len(records), EXPORT_CHUNK):
            events = list(resolver.resolve(records[start:start + EXPORT_CHUNK], first + start))
            last = first + min(len(records), start + EXPORT_CHUNK) - 1
            if publish and last > self._seen:
                seen = self._seen
                self._publish(events if not events or events[0].seq > seen else
                              [event for event in events if event.seq > seen])
                self._seen, self._resolver = last, resolver
            yield from events
        if block is not None:
            # the resolver as of the last record, whether or not it was kept
            ongoing = resolver.copy().resolve(
                [block.record(self.recorder.clock())], first + len(records))
            for event in ongoing:
                event.args["ongoing"] = True
                yield event

    def _final_snapshot(self) -> Snapshot:
        """The state now, with the pending Deferreds walked afresh (under the lock)."""
        now = self.now()
        snapshot = self._state.snapshot(now, self.blocked(now))
        return self._with_deferreds(snapshot, fresh=True)

    def dispatched_since(self, total: int) -> tuple[bool, int]:
        """Whether the reactor dispatched anything (a timer, I/O, an iteration)
        after the ``total``-th record; and the total now, for the next call."""
        first, records = self.recorder.ring.since(total - 1)
        for record in records:
            code = record[-1] if isinstance(record, bytes) else record[0]
            if code in _DISPATCHES:
                return True, first + len(records)
        return False, first + len(records)

    def carry_on_in_child(self, parent: int) -> None:
        """In a forked child that goes on with its reactor: record it as its own.

        The recording so far (the parent's, up to the fork) stays; the meta
        names this process and the one it was forked from; the watchdog
        samples again (the ring's keeper already does, in every child).
        """
        self.meta["pid"] = os.getpid()
        self.meta["forked_from"] = parent
        if self._watchdog is not None:
            self._watchdog.restart_in_child()
        if self.exports is not None:
            self.exports.restart_in_child()

    # -- undoing -------------------------------------------------------------

    def close(self) -> None:
        """Restore the reactor and classes exactly as they were. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if getattr(self, "exports", None) is not None:
            self.exports.close()
        for thread in (getattr(self, "_watchdog", None), getattr(self, "_keeper", None)):
            if thread is not None:
                thread.stop()
        if self._subscribers:  # they get the last events; others resolve later, if ever
            self._drain()
        rec = self.recorder
        if rec in ACTIVE:
            ACTIVE.remove(rec)
        _instrumented.pop(id(self), None)
        rec.target[0] = None
        rec.restore()
        rec.timers.clear()  # let go of the DelayedCalls still pending
        for table in (io.LIVE_CONNS, io.FDS):
            for key in [k for k, entry in table.items() if entry[0] is rec]:
                table.pop(key, None)

    def when_stopped(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` when the reactor's ``run()`` returns after a real stop.

        Not after ``crash()`` (trial crashes the reactor after every test).
        The call is made on the reactor's thread, right after ``run()``;
        twistd kills itself with SIGTERM soon after, so ``atexit`` would be late.
        """
        self._wrap_run()
        self._when_stopped.append(callback)

    def when_running(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` once ``run()`` has started the reactor: after the
        startup triggers the program added before ``run()`` (Twisted's signal
        handlers are in place by then, and any the program sets at start-up)."""
        self._wrap_run()
        self._when_running.append(callback)

    def _wrap_run(self) -> None:
        """Patch the reactor class's ``run`` (once) to call the callbacks above."""
        if self._run_wrapped:
            return
        self._run_wrapped = True
        started, stopped = self._when_running, self._when_stopped
        reactor_class = type(self.reactor)
        original = reactor_class.run
        target = self.recorder.target

        def run(reactor: Any, *args: Any, **kw: Any) -> Any:
            ours = reactor is target[0]
            if ours:
                for callback in started:
                    reactor.callWhenRunning(callback)
            try:
                return original(reactor, *args, **kw)
            finally:
                if ours and getattr(reactor, "_stopped", True):
                    for callback in stopped:
                        callback()

        self.recorder.part("session").patcher.set(reactor_class, "run", run)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> "Tracer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Subscription:
    """What :meth:`Tracer.subscribe` returns: call it for the events since the
    previous call; ``lost`` counts what it could not keep."""

    def __init__(self, tracer: Tracer, limit: int) -> None:
        self._tracer = tracer
        self._queue: deque[Event] = deque(maxlen=limit)
        self.lost = 0

    def take(self, events: list[Event]) -> None:
        """Queue ``events`` (called by the tracer, under its lock)."""
        overflow = len(self._queue) + len(events) - (self._queue.maxlen or 0)
        if overflow > 0:
            self.lost += overflow
        self._queue.extend(events)

    def __call__(self) -> list[Event]:
        self._tracer._drain()
        with self._tracer._lock:
            taken = list(self._queue)
            self._queue.clear()
        return taken

    def close(self) -> None:
        """Stop receiving events (idempotent)."""
        with self._tracer._lock:
            if self in self._tracer._subscribers:
                self._tracer._subscribers.remove(self)
            self._queue.clear()


_instrumented: dict[int, Any] = {}


def _runs_tests(program: str | None, argv: list[str] | None) -> bool:
    """Whether the traced program is trial, where leftovers at shutdown are a fault."""
    first = program or (argv[0] if argv else None) or (sys.argv[0] if sys.argv else "")
    first = first.replace(os.sep, "/")
    return os.path.basename(first) == "trial" or first.endswith("twisted/trial/__main__.py")


def _meta(
    reactor: Any,
    start_wall: float,
    options: dict[str, Any],
    program: str | None,
    argv: list[str] | None,
) -> dict[str, Any]:
    return {
        "program": program or (sys.argv[0] if sys.argv else None) or "python",
        "argv": list(argv if argv is not None else sys.argv),
        "pid": os.getpid(),
        "python": platform.python_version(),
        "twisted": twisted.__version__,
        "reactor": f"{type(reactor).__module__}.{type(reactor).__qualname__}",
        "start_wall": start_wall,
        "options": dict(options),
        "host": platform.node(),
    }


def instrument(reactor: Any = None, **options: Any) -> Tracer:
    """Instrument an installed reactor in place (default: the global one)."""
    if reactor is None:
        from twisted.internet import reactor as installed

        reactor = installed
    return Tracer(reactor, **options)

