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
from dataclasses import dataclass, field
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

#: What a detail screen is about: ("timer", id), ("conn", id) or ("callable", name).
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
    """Which events and rows to show: kinds for the log, a text for every table."""

    kinds: frozenset[str] = DEFAULT_KINDS
    text: str = ""

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
        if changes.snapshot:
            self.snapshot = update.snapshot
            self._index = None
        if moved:
            self._sample(update.position, update.snapshot)
        self._take_events(update.events)
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

    @property
    def events(self) -> list[Event]:
        """The events the log keeps, in time order."""
        return [entry.event for entry in self.log.entries]

    def _take_events(self, events: Iterable[Event]) -> None:
        self.log.add(events)
        recent = self._recent
        for event in events:
            for subject in subjects_of(event):
                bucket = recent.get(subject)
                if bucket is None:
                    bucket = recent[subject] = deque(maxlen=self.per_subject)
                    if len(recent) > self.max_subjects:
                        recent.popitem(last=False)
                else:
                    recent.move_to_end(subject)
                bucket.append(event)

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
            self._index = {subject_of_info(i): i for i in self.infos()}
        return self._index.get(subject)

    def recent(self, subject: Subject) -> list[Event]:
        """The subject's latest events, oldest first (bounded)."""
        return list(self._recent.get(subject, ()))
