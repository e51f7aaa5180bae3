"""The event log's memory: the last minutes of events, in time order, nested.

Events are recorded when they end, so a dispatch arrives after the Deferred
callbacks and timers it ran. :class:`EventHistory` puts each event where it
began and gives it a depth: a dispatch that contains events already here
becomes their parent, and they move one level in. The log then reads in time
order with nested dispatches indented under the one that ran them.

It is bounded twice: by age (events that began ``keep_ns`` before the newest
one go) and by count. Pure Python, no Textual: the widget draws from it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Callable, Iterable

from reactortrace.core import events as ev
from reactortrace.core.events import Event

#: Kinds that never contain other events: an iteration holds every dispatch
#: of its loop pass, and a slow event repeats the dispatch it is about.
NOT_PARENTS = frozenset({ev.ITERATION, ev.SLOW})
#: LoopingCall's own callables, named in the log by the function it calls.
LOOPING_PLUMBING = {
    "twisted.internet.task.LoopingCall.__call__.<locals>.cb": "LoopingCall: next tick scheduled",
    "twisted.internet.task.LoopingCall.__call__.<locals>.eb": "LoopingCall: stopped by a failure",
    "twisted.internet.defer.passthru": "LoopingCall: result passed on",
}
#: Entries over the count bound before they are removed, at once (amortizes
#: the move): at most this many, and a tenth of the bound.
TRIM_SLACK = 1_000


class Entry:
    """One event of the log, its place in the nesting and what it is shown as."""

    __slots__ = ("event", "depth", "parent")

    def __init__(self, event: Event) -> None:
        self.event = event
        self.depth = 0
        self.parent: Entry | None = None

    def contains(self, other: Entry) -> bool:
        """Whether ``other`` ran inside this dispatch."""
        mine, theirs = self.event, other.event
        return (can_parent(mine) and mine.ts <= theirs.ts
                and theirs.ts + theirs.dur <= mine.ts + mine.dur)

    @property
    def name(self) -> str:
        """The name to show: LoopingCall's plumbing takes its tick's function's."""
        event, parent = self.event, self.parent
        if (parent is not None and event.kind == ev.DEFERRED and event.name in LOOPING_PLUMBING
                and parent.event.kind == ev.TIMER and parent.event.args.get("looping")):
            return parent.event.name
        return event.name

    @property
    def note(self) -> str | None:
        """What a renamed row is, said instead of its own details (None: not renamed)."""
        if self.name is self.event.name:
            return None
        return LOOPING_PLUMBING[self.event.name]


def can_parent(event: Event) -> bool:
    """Whether other events can run inside ``event``."""
    return (event.dur > 0 and event.kind not in NOT_PARENTS
            and not (event.kind == ev.THREAD and event.args.get("source") == "pool"))


def _ts(entry: Entry) -> int:
    return entry.event.ts


class EventHistory:
    """The latest events in time order, at most ``keep_ns`` old and ``max_events`` many.

    ``shown`` holds the entries ``accept`` lets through (the log's filter),
    in the same order: kept alongside, so a filter is applied once per event.
    """

    def __init__(self, keep_ns: int, max_events: int,
                 accept: Callable[[Event], bool] = lambda event: True) -> None:
        if keep_ns <= 0 or max_events < 1:
            raise ValueError("the history must keep something")
        self.keep_ns = keep_ns
        self.max_events = max_events
        self.entries: list[Entry] = []
        self.shown: list[Entry] = []
        self._accept = accept
        #: Bumped when rows already shown moved or changed (not on appends).
        self.reshaped = 0

    def __len__(self) -> int:
        return len(self.entries)

    def clear(self) -> None:
        self.entries.clear()
        self.shown.clear()
        self.reshaped += 1

    def set_filter(self, accept: Callable[[Event], bool]) -> None:
        """Show what ``accept`` lets through, from now and in what is kept."""
        self._accept = accept
        self.shown = [entry for entry in self.entries if accept(entry.event)]
        self.reshaped += 1

    def add(self, events: Iterable[Event]) -> None:
        """Take new events (in the order they were recorded: by end)."""
        for event in events:
            self._insert(Entry(event))
        self._trim()

    def _insert(self, entry: Entry) -> None:
        entries, ts = self.entries, entry.event.ts
        if not entries or entries[-1].event.ts <= ts:
            at = len(entries)  # the usual case: it began after everything here
        elif can_parent(entry.event):
            at = bisect_left(entries, ts, key=_ts)  # before what it may contain
        else:
            at = bisect_right(entries, ts, key=_ts)
        if at:  # inside a dispatch already here? (a slow event arriving after its dispatch)
            above: Entry | None = entries[at - 1]
            while above is not None and not above.contains(entry):
                above = above.parent
            if above is not None:
                entry.parent, entry.depth = above, above.depth + 1
        moved = at < len(entries)
        if moved and can_parent(entry.event):
            self._adopt(entry, at)
        entries.insert(at, entry)
        if self._accept(entry.event):
            shown = self.shown
            if moved and shown and shown[-1].event.ts >= ts:
                finder = bisect_left if can_parent(entry.event) else bisect_right
                shown.insert(finder(shown, ts, key=_ts), entry)
            else:
                shown.append(entry)
        if moved:
            self.reshaped += 1

    def _adopt(self, parent: Entry, at: int) -> None:
        """Move the events from ``at`` on that ran inside ``parent`` one level in."""
        entries, end = self.entries, parent.event.ts + parent.event.dur
        for index in range(at, len(entries)):
            child = entries[index]
            if child.event.ts > end:
                break
            if parent.contains(child):
                child.depth += 1
                if child.parent is parent.parent:
                    child.parent = parent

    def _trim(self) -> None:
        entries = self.entries
        if not entries:
            return
        oldest = entries[-1].event.ts - self.keep_ns
        cut = bisect_left(entries, oldest, key=_ts) if entries[0].event.ts < oldest else 0
        if len(entries) - cut > self.max_events + min(TRIM_SLACK, self.max_events // 10):
            cut = len(entries) - self.max_events
        if not cut:
            return
        gone = {id(entry) for entry in entries[:cut]}
        del entries[:cut]
        shown, drop = self.shown, 0
        while drop < len(shown) and id(shown[drop]) in gone:
            drop += 1
        del shown[:drop]
        self.reshaped += 1

    def index_of(self, entry: Entry) -> int | None:
        """Where ``entry`` is in ``shown`` (None once it is gone or filtered out)."""
        shown = self.shown
        at = bisect_left(shown, entry.event.ts, key=_ts)
        while at < len(shown) and shown[at].event.ts == entry.event.ts:
            if shown[at] is entry:
                return at
            at += 1
        return None
