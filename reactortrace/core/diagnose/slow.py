"""Slow dispatches: what blocked the loop, for how long, and on which line."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from reactortrace.core import events as ev
from reactortrace.core.events import Event

from .codes import KEEP_SLOWEST, SLOW_CALLBACK, TOP_LEVEL_KINDS, Said, short_site, took
from .findings import Findings


class Blocked:
    """One dispatch that ran long: from a ``slow`` event, its own event, or both."""

    __slots__ = ("ts", "dur", "name", "kind", "site", "function", "stack", "where", "counted")

    def __init__(self, ts: int, dur: int, name: str, kind: str | None) -> None:
        self.ts = ts
        self.dur = dur
        self.name = name
        self.kind = kind
        self.site: str | None = None  # the blocking line (from the watchdog)
        self.function: str | None = None
        self.stack: list[str] = []
        self.where: str | None = None  # the dispatch's own site, if no blocking line
        self.counted = False

    def add_stack(self, args: Mapping[str, Any]) -> None:
        """Take what the watchdog saw of this dispatch."""
        self.site = args.get("site") or self.site
        self.function = args.get("function") or self.function
        stack = args.get("stack")
        if isinstance(stack, str):
            stack = [line for line in stack.splitlines() if line.strip()]
        if stack:
            self.stack = list(stack)
        self.kind = args.get("dispatch") or self.kind

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "ts": self.ts,
            "dur": self.dur,
            "site": self.site,  # the blocking line, when the watchdog saw it
            "made_at": self.where,  # a timer's creation site
            "function": self.function,
            "stack": list(self.stack),
        }


class SlowGroup:
    """Every slow dispatch of one callable; the warning shows the longest."""

    __slots__ = ("count", "worst")

    def __init__(self, worst: Blocked) -> None:
        self.count = 0
        self.worst = worst

    def warning(self, code: str, now: int) -> Said:
        worst = self.worst
        line = worst.site or worst.where
        text = f"{worst.name} blocked the reactor for {took(worst.dur)}"
        if worst.site:
            text += f" at {short_site(worst.site)}"
            text += f" in {worst.function}" if worst.function else ""
        else:
            text += f" ({worst.kind or 'dispatch'}; the blocking line was not recorded)"
        if self.count > 1:
            text += f" ({self.count} times, the longest shown)"
        text += ": nothing else ran meanwhile; move the work to a thread or split it"
        return worst.name, line, None, text

    def details(self) -> tuple[int | None, list[str]]:
        """(how long the longest one blocked, ns; the stack it blocked in)."""
        return self.worst.dur, self.worst.stack


class SlowDispatches:
    """Pairs the watchdog's ``slow`` events with the dispatches they were about,
    keeps the longest dispatches, and finds ``slow-callback`` warnings."""

    def __init__(self, findings: Findings, slow_ns: int) -> None:
        self.findings = findings
        self.slow_ns = slow_ns
        self._recent: dict[int, Blocked] = {}  # by start time, to pair slow events and dispatches
        self._open: Blocked | None = None  # a slow event whose dispatch has not ended
        self._top: list[Blocked] = []
        self._top_floor = -1
        self._groups: dict[str, SlowGroup] = {}
        self._blocks: deque[Blocked] = deque(maxlen=32)  # recent slow ones, to blame late timers

    def slow(self, event: Event) -> None:
        """The watchdog saw a dispatch block the loop (ts: when it began)."""
        args = event.args
        blocked = max(args.get("blocked") or 0, event.dur)
        record = self._recent.get(event.ts)
        if record is None:
            record = Blocked(event.ts, blocked, event.name, args.get("dispatch"))
            self._remember(record)
            self._open = record  # its dispatch event comes when it ends
        else:
            record.dur = max(record.dur, blocked)
            if event.name and event.name != record.name:
                self._rename(record, event.name)
        record.add_stack(args)
        self._note(record)

    def _rename(self, record: Blocked, name: str) -> None:
        """Its dispatch (named by what was dispatched to, a protocol class for
        I/O) ended before the watchdog said which callable blocked: use that."""
        old, record.name = record.name, name
        if not record.counted:
            return
        record.counted = False
        group = self._groups.get(old)
        if group is None:
            return
        group.count -= 1
        if group.count <= 0:
            del self._groups[old]
            self.findings.withdraw(SLOW_CALLBACK, old)
        elif group.worst is record:
            group.worst = max((r for r in self._blocks if r.name == old and r.counted),
                              key=lambda r: r.dur, default=record)

    def dispatch(self, event: Event) -> None:
        """A dispatch ended: pair it with its slow event, keep it if among the longest."""
        open_ = self._open
        if open_ is not None and event.ts == open_.ts:
            self._open = None
            if event.dur > open_.dur:
                open_.dur = event.dur
            self._note(open_)
            return
        dur = event.dur
        if dur <= self._top_floor and dur < self.slow_ns:
            return
        kind = event.kind
        if kind not in TOP_LEVEL_KINDS:
            return
        if kind == ev.THREAD and event.args.get("source") == "pool":
            return
        record = self._recent.get(event.ts)
        if record is not None:
            record.dur = max(record.dur, dur)
        else:
            record = Blocked(event.ts, dur, event.name, kind)
            record.where = event.args.get("site") if kind == ev.TIMER else None
            if dur >= self.slow_ns:
                self._remember(record)
        self._note(record)

    def _remember(self, record: Blocked) -> None:
        recent = self._recent
        recent[record.ts] = record
        if len(recent) > 64:
            del recent[next(iter(recent))]

    def _note(self, record: Blocked) -> None:
        """Account for a (new or longer) long dispatch."""
        top = self._top
        if record not in top and (len(top) < KEEP_SLOWEST or record.dur > self._top_floor):
            if len(top) >= KEEP_SLOWEST:
                top.remove(min(top, key=lambda r: r.dur))
            top.append(record)
        if len(top) >= KEEP_SLOWEST:
            self._top_floor = min(r.dur for r in top)
        self._note_slow(record)

    def _note_slow(self, record: Blocked) -> None:
        if record.dur < self.slow_ns:
            return
        group = self._groups.get(record.name)
        if group is None:
            group = SlowGroup(record)
            if not self.findings.add(SLOW_CALLBACK, record.name, record.ts, group):
                return
            self._groups[record.name] = group
        if not record.counted:
            record.counted = True
            group.count += 1
            self._blocks.append(record)
        worst = group.worst
        if record.dur > worst.dur or (record.site and not worst.site):
            group.worst = record

    def blame(self, due: int, fired: int) -> str | None:
        """The long dispatch that held the loop between ``due`` and ``fired``."""
        best = None
        for record in self._blocks:
            if record.ts < fired and record.ts + record.dur > due:
                if best is None or record.dur > best.dur:
                    best = record
        if best is None:
            return None
        where = short_site(best.site or best.where)
        return f"{best.name} ({where})" if where else best.name

    def slowest(self) -> list[dict[str, Any]]:
        """The longest dispatches kept, longest first, with stacks when seen."""
        return [r.to_dict() for r in sorted(self._top, key=lambda r: (-r.dur, r.ts))]
