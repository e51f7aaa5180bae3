"""What a recorded run did, and what went wrong: the data of ``reactortrace summary``.

The trace's events are fed again through :class:`~reactortrace.core.state.LoopState`
with the thresholds given on the command line, so the findings are the ones
the live TUI showed (or would show with those thresholds). The terminal gets
Rich tables; ``--json`` prints the same data as one JSON document, with these
keys (times and durations are integers in ns, ``ts`` since trace start)::

    {
      "trace": {"path", "program", "reactor", "complete", "events", "dropped",
                "duration", "recording_off": {part: why}, "written_early"},
      "thresholds": {"slow_ms", "late_ms", "pending_s", "idle_s", "leftovers"},
      "warnings": [{"code", "message", "where", "subject", "name", "ts"} (+ "duration",
                    "stack" for a slow callback)],
      "slowest": [{"name", "kind", "ts", "dur", "site", "made_at", "function", "stack"}],
      "callables": [{"name", "kind", "count", "total", "self", "mean", "max", "p95",
                     "errors"}],
      "timers": [{"site", "name", "looping", "interval", "count", "p50", "p95",
                  "max", "mean", "missed"}],
      "connections": [{"conn", "type", "protocol", "local", "peer", "opened",
                       "closed", "lifetime", "bytes_in", "bytes_out", "pauses",
                       "resumes", "peak_buffer", "reason"}],
      "omitted": {"slowest", "callables", "timers", "connections"},
      "deferreds": null or {"total", "omitted", "unscanned", "deadlocks": [[id]],
                    "oldest": [{"id", "kind", "name", "age", "made_at",
                                "suspended_at", "waits_on", "source", "detail",
                                "fired_by", "deadlock"}]}
    }

``warnings`` are every finding, oldest first (see :mod:`reactortrace.core.diagnose`
for the codes). ``slowest``: the longest dispatches, with the stack the watchdog
saw (outermost first) when it saw them. ``callables``: busiest first by total
time; ``self`` is ``total`` less the dispatches it ran itself (Deferred
callbacks it fired). ``timers``: lateness per creation site, latest first; ``missed`` counts
LoopingCall ticks skipped. ``connections``: every connection and port seen
(not the reactor's wakers), most bytes first; ``closed`` is null for those
still open. Lists hold at most ``--top`` entries; ``omitted`` counts the rest.
``deferreds``: the Deferreds still pending when the trace was written (null if
the Deferreds view was off), oldest first (``age`` null: made before recording),
each with what it waits on (``detail``) and what will fire its chain in the end
(``fired_by``); ``deadlocks`` are cycles of Deferreds waiting on each other;
``omitted`` counts the pending ones not listed (``--top``, or beyond the
snapshot's own bound), ``unscanned`` those the recorder did not walk.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..core.awaiting import sorted_infos
from ..core.diagnose import RECORDING_OFF, Thresholds, Warning
from ..core.events import Event
from ..core.snapshot import Snapshot
from ..core.state import LoopState
from ..core.trace import Trace
from ..core.units import duration
from .reader import EventSink, scan

DEFAULT_TOP = 10


class Summarizer:
    """Folds a trace's events into a :class:`LoopState` as they come, keeping none.

    ``thresholds_for(meta)`` gives the thresholds to judge by (by default
    those the trace was recorded with). :meth:`start` is the sink factory of
    :func:`~reactortrace.formats.reader.scan`; each call starts afresh.
    """

    def __init__(self, thresholds_for: Callable[[dict[str, Any]], Thresholds] | None = None):
        self._thresholds_for = thresholds_for or Thresholds.from_meta
        self.thresholds = Thresholds()
        self.state = LoopState(thresholds=self.thresholds)
        #: How many events were folded in.
        self.events = 0

    def start(self, meta: dict[str, Any]) -> EventSink:
        """Begin again, for a trace with this ``meta``; returns the sink of its events."""
        self.thresholds = self._thresholds_for(meta)
        self.state = LoopState(thresholds=self.thresholds)
        self.events = 0
        return self.feed

    def feed(self, events: list[Event]) -> None:
        """Fold in the next events (in ``seq`` order)."""
        self.state.feed(events)
        self.events += len(events)

    def result(self, trace: Trace, top: int = DEFAULT_TOP) -> dict[str, Any]:
        """The summary, once every event of ``trace`` (its meta and snapshot) is in."""
        return _summary(self, trace, top)


def summarize(
    trace: Trace, thresholds: Thresholds | None = None, top: int = DEFAULT_TOP
) -> dict[str, Any]:
    """The summary of a loaded ``trace`` as the JSON document described above."""
    summarizer = Summarizer(None if thresholds is None else lambda meta: thresholds)
    summarizer.start(trace.meta)(trace.events)
    return summarizer.result(trace, top)


def summarize_file(
    path: str | os.PathLike[str],
    thresholds_for: Callable[[dict[str, Any]], Thresholds] | None = None,
    top: int = DEFAULT_TOP,
) -> tuple[Trace, dict[str, Any]]:
    """The summary of the trace at ``path``, read without keeping its events
    (memory stays that of the state, not of the trace); and the trace
    without its events."""
    summarizer = Summarizer(thresholds_for)
    trace = scan(path, summarizer.start)
    return trace, summarizer.result(trace, top)


def _summary(summarizer: Summarizer, trace: Trace, top: int) -> dict[str, Any]:
    state, thresholds = summarizer.state, summarizer.thresholds
    state.dropped = trace.dropped
    end = max(state.last_end, trace.snapshot.ts if trace.snapshot is not None else 0)
    snapshot = state.snapshot(end)
    diagnostics = state.diagnostics
    warnings = [Warning.of(w) for w in snapshot.warnings]
    if trace.dropped and trace.snapshot is not None:
        # Events fell out of the ring: keep what the live run found in them.
        seen = {(w.code, w.where, w.subject) for w in warnings}
        recorded = (Warning.of(w) for w in trace.snapshot.warnings)
        warnings += [w for w in recorded if (w.code, w.where, w.subject) not in seen]
    off = recording_off(trace.meta)
    told = {w.subject for w in warnings if w.code == RECORDING_OFF}
    warnings += [
        Warning(RECORDING_OFF, f"{part} recording was off: {why}", subject=part, name=part, ts=0)
        for part, why in off.items() if part not in told
    ]
    lists = {
        "slowest": diagnostics.slowest(),
        "callables": [_callable(c) for c in snapshot.callables],
        "timers": diagnostics.lateness(),
        "connections": state.connection_history(end),
    }
    meta = trace.meta
    return {
        "trace": {
            "path": trace.path,
            "program": meta.get("program"),
            "reactor": meta.get("reactor"),
            "complete": trace.complete,
            "events": summarizer.events,
            "dropped": trace.dropped,
            "duration": end,
            "recording_off": off,
            "written_early": written_early(meta),
        },
        "thresholds": thresholds.to_dict(),
        "warnings": [w.to_dict() for w in warnings],
        **{key: rows[:top] for key, rows in lists.items()},
        "omitted": {key: max(0, len(rows) - top) for key, rows in lists.items()},
        "deferreds": pending_deferreds(trace.snapshot, top),
    }


_DEFERRED_KEYS = ("id", "kind", "name", "age", "made_at", "suspended_at", "waits_on", "source",
                  "detail", "fired_by", "deadlock")


def pending_deferreds(snapshot: Snapshot | None, top: int) -> dict[str, Any] | None:
    """The trace's last view of pending Deferreds, oldest first (and every one
    in a deadlock), at most ``top`` besides those."""
    pending = snapshot.deferreds if snapshot is not None else None
    if pending is None:
        return None
    listed = sorted_infos(pending)
    shown = listed[:top] + [i for i in listed[top:] if i.deadlock]
    return {
        "total": pending.total,
        "omitted": pending.total - len(shown),
        "unscanned": pending.unscanned,
        "deadlocks": [list(cycle) for cycle in pending.deadlocks],
        "oldest": [{k: getattr(i, k) for k in _DEFERRED_KEYS} for i in shown],
    }


def recording_off(meta: dict[str, Any]) -> dict[str, str]:
    """Parts of the recording that were off when the trace was written, with why."""
    recording = meta.get("recording")
    if not isinstance(recording, dict):
        return {}
    return {
        str(part): str(status.get("why") or "off")
        for part, status in recording.items()
        if isinstance(status, dict) and status.get("on") is False
        and status.get("why") not in (None, "not asked for")
    }


def written_early(meta: dict[str, Any]) -> str | None:
    """Why the trace was written before the program ended, if it was (a stop
    signal while the reactor was blocked, or not stopping), in one sentence."""
    early = meta.get("written_on_signal")
    if not isinstance(early, dict):
        return None
    text = f"written on {early.get('signal') or 'a stop signal'}"
    blocked = early.get("blocked")
    if isinstance(blocked, dict):
        where = f" at {blocked['site']}" if blocked.get("site") else ""
        text += (f" while the reactor was blocked in {blocked.get('name') or '?'}{where}"
                 f" for {duration(blocked.get('elapsed') or 0, spaced=True)}")
    else:
        text += ": the reactor had not stopped a second later"
    return text + "; what came after is not in it"


def _callable(stats: Any) -> dict[str, Any]:
    return {
        "name": stats.name,
        "kind": stats.kind,
        "count": stats.count,
        "total": stats.total,
        "self": stats.self_time,
        "mean": stats.mean,
        "max": stats.max,
        "p95": stats.p95,
        "errors": stats.errors,
    }
