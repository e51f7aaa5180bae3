"""What the UI remembers between polls of a feed; pure Python, no Textual.

A :class:`~reactortrace.core.feed.Feed` hands over the newest snapshot and the
events since the last poll. The widgets need a little more: the latest events
for the log, the recent events of each timer, connection and callable for the
detail screen, a history of utilization and rate for the graph. All of it is
bounded here. (Program output goes straight to its pane, which bounds it.)
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
    log_size: int = 2_000
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
        self.events: deque[Event] = deque(maxlen=self.log_size)
        self.utilization: deque[float] = deque(maxlen=self.history_size)
        self.rate: deque[float] = deque(maxlen=self.history_size)
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
            self.utilization.append(update.snapshot.loop.utilization)
            self.rate.append(update.snapshot.loop.events_per_second)
        self._take_events(update.events)
        return changes

    def _forget_history(self) -> None:
        self.events.clear()
        self.utilization.clear()
        self.rate.clear()
        self._recent.clear()

    def _take_events(self, events: Iterable[Event]) -> None:
        self.events.extend(events)
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

    def filtered_events(self, flt: Filter, limit: int) -> list[Event]:
        """The latest ``limit`` events the filter shows, oldest first."""
        shown: list[Event] = []
        for event in reversed(self.events):
            if flt.shows_event(event):
                shown.append(event)
                if len(shown) >= limit:
                    break
        shown.reverse()
        return shown
