"""Builds hand-made event sequences for the core tests."""

from __future__ import annotations

from typing import Any

from reactortrace.core.events import Event


class EventLog:
    """Appends events with increasing ``seq``; times are given in ns."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, kind: str, ts: int, dur: int = 0, name: str = "app.f", **args: Any) -> Event:
        event = Event(len(self.events), ts, dur, kind, name, args)
        self.events.append(event)
        return event
