"""A recorded trace in memory: what :func:`reactortrace.load` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reactortrace.core.diagnose import Thresholds
from reactortrace.core.events import Event
from reactortrace.core.snapshot import Snapshot
from reactortrace.core.state import LoopState


@dataclass
class Trace:
    """Events of one run, its metadata and the snapshot taken when it ended.

    ``complete`` is False when the file was cut short (a streamed trace whose
    program was killed): the events are those written before the cut.
    """

    meta: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    snapshot: Snapshot | None = None
    dropped: int = 0
    complete: bool = True
    path: str | None = None

    def by_kind(self, kind: str) -> list[Event]:
        """The events of one kind, in ``seq`` order."""
        return [event for event in self.events if event.kind == kind]

    @property
    def duration(self) -> int:
        """ns from trace start to the end of the latest event (0 if none)."""
        return max((event.ts + event.dur for event in self.events), default=0)

    def state_at(self, ts: int) -> Snapshot:
        """The state at ``ts``, replayed from the events that ended by then."""
        state = LoopState(thresholds=Thresholds.from_meta(self.meta))
        state.dropped = self.dropped
        state.feed(event for event in self.events if event.ts + event.dur <= ts)
        return state.snapshot(ts)

    def final_snapshot(self) -> Snapshot:
        """The snapshot recorded at the end, or one replayed from all events."""
        if self.snapshot is not None:
            return self.snapshot
        return self.state_at(self.duration)
