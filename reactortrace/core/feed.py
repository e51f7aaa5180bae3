"""What the UI reads: one interface for a live program and a recorded trace.

A feed is polled by the UI a few times a second. Each poll returns the newest
snapshot and the events that arrived since the previous poll. Live feeds read a
socket on their own thread; replay feeds walk a loaded trace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .events import Event
from .snapshot import Snapshot

LIVE = "live"
PAUSED = "paused"
REPLAY = "replay"
ENDED = "ended"

#: What the UI returns when the user asks to leave the watched program running.
DETACH = "detach"

#: Events a second from which a program is busy: a live program then sends
#: its viewers news more often, and the UI samples the event log and redraws
#: on every poll; below it, the program is quiet.
BUSY_RATE = 1_000


@dataclass(frozen=True, slots=True)
class FeedUpdate:
    """The result of one poll."""

    snapshot: Snapshot
    events: tuple[Event, ...]  # new since the previous poll, oldest first (bounded)
    state: str  # LIVE, PAUSED, REPLAY or ENDED
    viewer_dropped: int = 0  # events the viewer could not keep up with
    position: int = 0  # ns since trace start the snapshot stands for
    duration: int = 0  # ns: the whole trace (replay) or uptime (live)
    output: tuple[str, ...] = field(default=())  # new lines of program output
    silent: float = 0.0  # seconds since a live program last sent anything


class Feed(Protocol):
    """A source of updates for the UI."""

    meta: dict[str, Any]

    def poll(self) -> FeedUpdate:
        """Return what is new; never blocks for long."""

    def pause(self) -> None:
        """Stop advancing (replay) or stop taking new events (live)."""

    def resume(self) -> None:
        """Advance again."""

    def close(self) -> None:
        """Release the socket or file; idempotent."""
