"""What the UI remembers between polls of a feed; pure Python, no Textual.

A :class:`~reactortrace.core.feed.Feed` hands over the newest snapshot and the
events since the last poll. The widgets need a little more: the last minutes
of events for the log (:class:`~reactortrace.tui.history.EventHistory`), the
recent events of each timer, connection and callable for the detail screen,
a history of utilization and rate for the graph, one sample per second of the
program's time. All of it is bounded here. (Program output goes straight to
its pane, which bounds it.)
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Union

from reactortrace.core import events as ev
from reactortrace.core.events import Event
from reactortrace.core.feed import LIVE, FeedUpdate
from reactortrace.core.snapshot import (
    CallableStats,
    ConnectionInfo,
    Snapshot,
    TimerInfo,
)
from reactortrace.core.units import S
from reactortrace.tui.history import EventHistory
from reactortrace.tui.ids import ShortIds, conn_id

#: What a detail screen is about: ("timer", id), ("conn", id) or ("callable", name).
#: The model files a timer's events under its short id (``t17``), so a
#: LoopingCall is one subject across its ticks; either id finds it.
Subject = tuple[str, Union[int, str]]
Info = Union[TimerInfo, ConnectionInfo, CallableStats]

TIMER_KINDS = frozenset({ev.TIMER, ev.TIMER_SCHEDULE, ev.TIMER_CANCEL, ev.TIMER_RESET})
CONN_KINDS = frozenset({ev.IO_READ, ev.IO_WRITE, ev.CONN_OPEN, ev.CONN_CLOSE})
#: Kinds whose ``name`` is not a callable that ran.
NOT_CALLABLE_KINDS = frozenset(
    {ev.ITERATION, ev.SYSTEM, ev.CONN_OPEN, ev.CONN_CLOSE, ev.WARNING}
)
#: Iterations come once per loop pass and would bury everything else in the log.
DEFAULT_KINDS = frozenset(ev.KINDS) - {ev.ITERATION}
#: Slow threshold when the trace does not say (the recorder's default).
DEFAULT_SLOW_NS = 100_000_000
#: How long the event log keeps events by default, and how many at most.
HISTORY_SECONDS = 300.0
HISTORY_EVENTS = 100_000
#: Program time per sample of the graph's history.
SAMPLE_NS = S
#: Closed connections and fired one-shot timers stay listed (dimmed) this long,
#: the latest MAX_GONE of each at most.
GONE_NS = 2_500_000_000
MAX_GONE = 100
#: Connections opened in events and not yet in a snapshot, remembered at most.
MAX_YOUNG = 1_000
#: Connection types that are the reactor's own plumbing, hidden unless asked for.
INTERNAL_TYPES = frozenset({"waker"})
#: Callables of Twisted itself: its own timers running them are hidden unless asked for.
INTERNAL_PREFIX = "twisted."


def subjects_of(event: Event) -> list[Subject]:
    """The timer, connection and callable an event tells something about."""
    found: list[Subject] = []
    args = event.args
    if event.kind in TIMER_KINDS and args.get("timer") is not None:
        found.append(("timer", args["timer"]))
    if event.kind in CONN_KINDS and args.get("conn") is not None:
        found.append(("conn", args["conn"]))
    if event.kind not in NOT_CALLABLE_KINDS and event.name:
        found.append(("callable", event.name))
    return found


def subject_of_info(info: Info) -> Subject:
    """The subject a snapshot row stands for."""
    if isinstance(info, TimerInfo):
        return ("timer", info.timer)
    if isinstance(info, ConnectionInfo):
        return ("conn", info.conn)
    return ("callable", info.name)


@dataclass(frozen=True)
class Filter:
    """Which events and rows to show: kinds for the log, a text for every table,
    and a text to search for (highlighted, not hiding anything)."""

    kinds: frozenset[str] = DEFAULT_KINDS
    text: str = ""
    search: str = ""

    def shows_kind(self, kind: str) -> bool:
        """Whether the log shows events of ``kind``."""
        return kind in self.kinds

    def shows_text(self, *values: Any) -> bool:
        """Whether any of ``values`` contains the filter text (case-insensitive)."""
        if not self.text:
            return True
        needle = self.text.lower()
        return any(needle in str(v).lower() for v in values if v is not None)

    def shows_event(self, event: Event) -> bool:
        """Whether the log shows ``event``."""
        return self.shows_kind(event.kind) and self.shows_text(
            event.name, event.kind, *event.args.values()
        )

    def describe_kinds(self) -> str:
        """A short label for the kind filter."""
        every = frozenset(ev.KINDS)
        if self.kinds >= every:
            return "all kinds"
        if self.kinds == DEFAULT_KINDS:
            return "all but iteration"
        if len(self.kinds) <= 3:
            return ", ".join(k for k in ev.KINDS if k in self.kinds) or "no kinds"
        return f"{len(self.kinds)} kinds"


@dataclass
class Changes:
    """What one update brought, for widgets that append rather than redraw."""

    events: tuple[Event, ...] = ()
    output: tuple[str, ...] = ()
    reset: bool = False
    snapshot: bool = False


@dataclass
class ViewModel:
    """The bounded memory of the UI, fed with one :class:`FeedUpdate` at a time."""

    meta: dict[str, Any] = field(default_factory=dict)
    history_seconds: float = HISTORY_SECONDS
    history_events: int = HISTORY_EVENTS
    history_size: int = 600
    per_subject: int = 50
    max_subjects: int = 5_000

    def __post_init__(self) -> None:
        self.snapshot = Snapshot(0)
        self.state = LIVE
        self.position = 0
        self.duration = 0
        self.viewer_dropped = 0
        self.silent = 0.0  # seconds the live program has sent nothing
        self.updates = 0
        self.log = EventHistory(int(self.history_seconds * S), self.history_events,
                                Filter().shows_event)
        #: One sample per SAMPLE_NS of program time, the newest last (the
        #: newest one is replaced until its second is over).
        self.utilization: deque[float] = deque(maxlen=self.history_size)
        self.rate: deque[float] = deque(maxlen=self.history_size)
        self._sampled_at: int | None = None  # the sample slot of the newest sample
        self._recent: OrderedDict[Subject, deque[Event]] = OrderedDict()
        self._index: dict[Subject, Info] | None = None
        self.ids = ShortIds()
        #: Whether the views list the reactor's wakers and Twisted's own timers.
        self.show_internal = False
        #: Rows gone by (closed, fired), with when they went, kept GONE_NS.
        self.gone_timers: OrderedDict[int, tuple[TimerInfo, int]] = OrderedDict()
        self.gone_conns: OrderedDict[Any, tuple[ConnectionInfo, int]] = OrderedDict()
        self._young: OrderedDict[Any, ConnectionInfo] = OrderedDict()
        self._cancelled: set[Any] = set()

    @property
    def slow_ns(self) -> int:
        """Dispatches at least this long are highlighted as slow."""
        slow_ms = (self.meta.get("options") or {}).get("slow_ms")
        return int(slow_ms * 1_000_000) if slow_ms else DEFAULT_SLOW_NS

    def apply(self, update: FeedUpdate) -> Changes:
        """Take one poll's result; return what changed."""
        changes = Changes(events=update.events, output=update.output)
        changes.reset = self.updates > 0 and update.position < self.position
        if changes.reset:
            self._forget_history()
        moved = self.updates == 0 or update.position != self.position
        changes.snapshot = update.snapshot is not self.snapshot or changes.reset
        self.updates += 1
        self.state = update.state
        self.position = update.position
        self.duration = update.duration
        self.viewer_dropped = update.viewer_dropped
        self.silent = update.silent
        self._take_events(update.events)
        if changes.snapshot:
            self._note_gone(self.snapshot, update.snapshot)
            self.snapshot = update.snapshot
            self._index = None
            self.ids.see_snapshot(update.snapshot)
        if moved:
            self._sample(update.position, update.snapshot)
        return changes

    def _sample(self, position: int, snapshot: Snapshot) -> None:
        """Keep one graph sample per second of program time (gaps repeat the last)."""
        loop = snapshot.loop
        slot = position // SAMPLE_NS
        last = self._sampled_at
        if last is not None and slot <= last:
            self.utilization[-1], self.rate[-1] = loop.utilization, loop.events_per_second
            return
        if last is not None:  # seconds nobody polled in (a paused UI, a stalled program)
            for _ in range(min(slot - last - 1, self.history_size)):
                self.utilization.append(self.utilization[-1])
                self.rate.append(self.rate[-1])
        self.utilization.append(loop.utilization)
        self.rate.append(loop.events_per_second)
        self._sampled_at = slot

    def _forget_history(self) -> None:
        self.log.clear()
        self.utilization.clear()
        self.rate.clear()
        self._sampled_at = None
        self._recent.clear()
        self.ids = ShortIds()
        self.gone_timers.clear()
        self.gone_conns.clear()
        self._young.clear()

    @property
    def events(self) -> list[Event]:
        """The events the log keeps, in time order."""
        return [entry.event for entry in self.log.entries]

    def _take_events(self, events: Iterable[Event]) -> None:
        self.log.add(events)
        recent = self._recent
        see = self.ids.see_event
        for event in events:
            see(event)
            if event.kind in CONN_KINDS or event.kind == ev.TIMER_CANCEL:
                self._take_lifetime(event)
            for subject in self.subjects_of(event):
                bucket = recent.get(subject)
                if bucket is None:
                    bucket = recent[subject] = deque(maxlen=self.per_subject)
                    if len(recent) > self.max_subjects:
                        recent.popitem(last=False)
                else:
                    recent.move_to_end(subject)
                bucket.append(event)

    def _take_lifetime(self, event: Event) -> None:
        """Remember connections that open and close between two snapshots (a short
        HTTP request), and timers cancelled (they are not fired)."""
        args = event.args
        conn = args.get("conn")
        kind = event.kind
        if kind == ev.TIMER_CANCEL:
            self._cancelled.add(args.get("timer"))
        elif kind == ev.CONN_OPEN and isinstance(conn, int):
            self._young[conn] = ConnectionInfo(
                conn, str(args.get("type") or "unknown"), event.name, args.get("local"),
                args.get("peer"), args.get("fd"), event.ts, 0, 0, 0, 0, 0, None, 0,
                args.get("site"),
            )
            if len(self._young) > MAX_YOUNG:
                self._young.popitem(last=False)
        elif conn in self._young:
            young = self._young[conn]
            size = args.get("bytes") or 0
            if kind == ev.IO_READ:
                young = replace(young, bytes_in=young.bytes_in + size, reads=young.reads + 1,
                                last_activity=event.ts)
            elif kind == ev.IO_WRITE:
                young = replace(young, bytes_out=young.bytes_out + size,
                                writes=young.writes + 1, last_activity=event.ts)
            self._young[conn] = young
            if kind == ev.CONN_CLOSE:
                del self._young[conn]
                self.gone_conns[conn] = (replace(young, age=event.ts - young.opened), event.ts)

    def _note_gone(self, old: Snapshot, new: Snapshot) -> None:
        """Keep the connections and one-shot timers of ``old`` that ``new`` lacks."""
        now = new.ts
        if old.timers:
            pending = {t.timer for t in new.timers}
            for timer in old.timers:
                if timer.timer not in pending and not timer.looping and (
                    timer.timer not in self._cancelled
                ):
                    self.gone_timers[timer.timer] = (timer, now)
        self._cancelled.clear()
        open_now = {c.conn for c in new.connections}
        for conn in old.connections:
            if conn.conn not in open_now:
                self.gone_conns[conn.conn] = (conn, now)
        for opened in open_now:
            self._young.pop(opened, None)
        for gone in (self.gone_timers, self.gone_conns):
            while gone and (
                len(gone) > MAX_GONE or now - next(iter(gone.values()))[1] > GONE_NS
            ):
                gone.popitem(last=False)

    def shows_timer(self, info: TimerInfo) -> bool:
        """Whether the views list this timer: Twisted's own housekeeping (no user
        code asked for it, and it runs Twisted's code) only when asked."""
        return self.show_internal or not (info.own and info.name.startswith(INTERNAL_PREFIX))

    def shows_conn(self, info: ConnectionInfo) -> bool:
        """Whether the views list this connection (wakers only when asked)."""
        return self.show_internal or info.type not in INTERNAL_TYPES

    def subjects_of(self, event: Event) -> list[Subject]:
        """:func:`subjects_of`, a timer named by its short id."""
        return [self.subject(s) for s in subjects_of(event)]

    def subject(self, subject: Subject) -> Subject:
        """The subject as the model files it: a timer by its short id when known."""
        if subject[0] == "timer" and not isinstance(subject[1], str):
            short = self.ids.known(subject[1])
            if short is not None:
                return ("timer", short)
        return subject

    def short_id(self, subject: Subject) -> str:
        """What the views call a timer or connection (``t17``, ``c4``)."""
        kind, ident = self.subject(subject)
        if kind == "conn":
            return conn_id(ident)
        if kind == "timer" and not isinstance(ident, str):
            return f"timer {ident}"  # never seen: its raw id
        return str(ident)

    def timer_id(self, info: TimerInfo) -> str:
        """The short id of a pending timer's row."""
        return self.ids.of_info(info, self.snapshot.ts)

    def event_id(self, event: Event) -> str | None:
        """The short id of the timer or connection an event is about."""
        args = event.args
        if event.kind in TIMER_KINDS and args.get("timer") is not None:
            return self.short_id(("timer", args["timer"]))
        if args.get("conn") is not None:
            return conn_id(args["conn"])
        return None

    def infos(self) -> Iterable[Info]:
        """Every row of the current snapshot."""
        snap = self.snapshot
        yield from snap.timers
        yield from snap.connections
        yield from snap.callables

    def current(self, subject: Subject) -> Info | None:
        """The subject's row in the current snapshot, ``None`` if it is gone.

        The index is built on the first call after a new snapshot: only a
        detail screen asks, so polls without one do not pay for it.
        """
        if self._index is None:
            self._index = {self.subject(subject_of_info(i)): i for i in self.infos()}
        return self._index.get(self.subject(subject))

    def recent(self, subject: Subject) -> list[Event]:
        """The subject's latest events, oldest first (bounded)."""
        return list(self._recent.get(self.subject(subject), ()))
