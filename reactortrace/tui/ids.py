"""Short ids the views show: ``t17`` for a timer, ``c4`` for a connection.

The trace names a timer by the nanosecond it was scheduled at, and a
LoopingCall schedules a new DelayedCall on every tick. :class:`ShortIds` gives
each timer a small number for as long as it lives, and a LoopingCall one
number across its ticks: a tick is known as the next of a LoopingCall with the
same function and ``start`` line whose previous tick is due or gone. Two
LoopingCalls of one function started on one line and due within
:data:`TICK_SLACK_NS` of each other may swap numbers; nothing else can.

Pure Python over events and snapshots (no Textual), bounded in memory.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from reactortrace.core import events as ev
from reactortrace.core.events import Event
from reactortrace.core.snapshot import Snapshot, TimerInfo

#: A LoopingCall's tick is scheduled while its previous tick runs, so that one
#: is due by then; this much leeway covers the two clocks the times come from.
TICK_SLACK_NS = 10_000_000
#: Timers remembered at most (the oldest are forgotten first).
MAX_TIMERS = 50_000


def conn_id(conn: Any) -> str:
    """A connection's short id (connection ids already count from 1)."""
    return f"c{conn}"


def deferred_id(ident: Any) -> str:
    """A pending Deferred's short id."""
    return f"d{ident}"


class _Loop:
    """One LoopingCall: its short id and the tick that carries it now."""

    __slots__ = ("short", "key", "raw", "due", "free")

    def __init__(self, short: str, key: tuple[str, Any], raw: int, due: int) -> None:
        self.short = short
        self.key = key
        self.raw = raw
        self.due = due
        self.free = False  # its current tick fired: the next one is its own


class ShortIds:
    """Timer ids to short ones, in the order they are first seen."""

    def __init__(self, limit: int = MAX_TIMERS) -> None:
        self.limit = limit
        self._timers: OrderedDict[int, str] = OrderedDict()
        self._next = 1
        self._loops: dict[tuple[str, Any], list[_Loop]] = {}
        self._loop_of: dict[str, _Loop] = {}

    def known(self, raw: Any) -> str | None:
        """The short id of timer ``raw`` if it was seen."""
        return self._timers.get(raw)

    def timer(
        self, raw: int, name: str, site: Any, looping: bool, due: int, now: int
    ) -> str:
        """The short id of timer ``raw``, given one on first sight."""
        short = self._timers.get(raw)
        if short is not None:
            return short
        loop = self._next_tick_of((name, site), now) if looping else None
        if loop is None:
            short = f"t{self._next}"
            self._next += 1
            if looping:
                loop = _Loop(short, (name, site), raw, due)
                self._loops.setdefault(loop.key, []).append(loop)
                self._loop_of[short] = loop
        else:
            short = loop.short
            loop.raw, loop.due, loop.free = raw, due, False
        self._timers[raw] = short
        if len(self._timers) > self.limit:
            _, old = self._timers.popitem(last=False)
            loop = self._loop_of.get(old)
            if loop is not None and loop.raw not in self._timers:
                self._end(loop)
        return short

    def _next_tick_of(self, key: tuple[str, Any], now: int) -> _Loop | None:
        """The LoopingCall of ``key`` a tick scheduled at ``now`` continues."""
        best = None
        for loop in self._loops.get(key, ()):
            if loop.free or loop.due <= now + TICK_SLACK_NS:
                if best is None or (loop.free, -loop.due) > (best.free, -best.due):
                    best = loop
        return best

    def _end(self, loop: _Loop) -> None:
        loops = self._loops.get(loop.key, [])
        if loop in loops:
            loops.remove(loop)
        if not loops:
            self._loops.pop(loop.key, None)
        self._loop_of.pop(loop.short, None)

    def see_event(self, event: Event) -> str | None:
        """Take a timer event into account; its timer's short id (None: not a timer's)."""
        kind = event.kind
        if kind not in _TIMER_KINDS:
            return None
        args = event.args
        raw = args.get("timer")
        if not isinstance(raw, int):
            return None
        delay = args.get("delay")
        due = args.get("due")
        if not isinstance(due, int):
            due = raw + (delay if isinstance(delay, int) else 0)
        short = self.timer(raw, event.name, args.get("site"), bool(args.get("looping")),
                           due, event.ts)
        loop = self._loop_of.get(short)
        if loop is not None and loop.raw == raw:
            if kind == ev.TIMER:
                loop.free = True
            elif kind == ev.TIMER_CANCEL:
                self._end(loop)  # stopped: a new start is a new LoopingCall
        return short

    def see_snapshot(self, snapshot: Snapshot) -> None:
        """Number the pending timers the events did not show (a sampled log)."""
        pending = {info.timer for info in snapshot.timers}
        for loop in self._loop_of.values():
            if loop.raw not in pending:
                loop.free = True
        now = snapshot.ts
        for info in snapshot.timers:
            if info.timer not in self._timers:
                self.of_info(info, now)

    def of_info(self, info: TimerInfo, now: int) -> str:
        """The short id of a pending timer's row."""
        return self.timer(info.timer, info.name, info.site, info.looping, now + info.due_in, now)


_TIMER_KINDS = frozenset({ev.TIMER, ev.TIMER_SCHEDULE, ev.TIMER_CANCEL, ev.TIMER_RESET})
