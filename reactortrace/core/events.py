"""The event model shared by recording, files, aggregation and the UI.

An event is what happened on the reactor: a dispatch (with a duration) or an
instant (``dur == 0``). Times are integers in nanoseconds since the trace
started, on the monotonic clock. ``args`` holds the fields particular to a kind;
they are listed in ``ARGS`` and in the JSON Schema shipped beside this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TIMER = "timer"
TIMER_SCHEDULE = "timer.schedule"
TIMER_CANCEL = "timer.cancel"
TIMER_RESET = "timer.reset"
IO_READ = "io.read"
IO_WRITE = "io.write"
CONN_OPEN = "conn.open"
CONN_CLOSE = "conn.close"
THREAD = "thread"
DEFERRED = "deferred"
SYSTEM = "system"
ITERATION = "iteration"
SLOW = "slow"
WARNING = "warning"

KINDS: tuple[str, ...] = (
    TIMER,
    TIMER_SCHEDULE,
    TIMER_CANCEL,
    TIMER_RESET,
    IO_READ,
    IO_WRITE,
    CONN_OPEN,
    CONN_CLOSE,
    THREAD,
    DEFERRED,
    SYSTEM,
    ITERATION,
    SLOW,
    WARNING,
)

#: The ``args`` keys each kind carries (all times in ns; ``None`` where unknown).
ARGS: dict[str, tuple[str, ...]] = {
    # timer: id unique in the trace, creation site "file:line", delay asked for,
    # lateness of the firing, LoopingCall or not, exception type if it raised.
    TIMER: ("timer", "site", "delay", "late", "looping", "error"),
    TIMER_SCHEDULE: ("timer", "site", "delay", "due", "looping"),
    TIMER_CANCEL: ("timer", "site"),
    TIMER_RESET: ("timer", "site", "due"),
    # io: connection id (never reused, unlike fds), fd, bytes moved if known,
    # bytes still waiting in the write buffer after a write dispatch.
    IO_READ: ("conn", "fd", "bytes", "error"),
    IO_WRITE: ("conn", "fd", "bytes", "buffered", "error"),
    # conn: name is the protocol class (the application's one under TLS).
    CONN_OPEN: ("conn", "fd", "type", "local", "peer", "transport"),
    CONN_CLOSE: ("conn", "reason"),
    # thread: "reactor" for callFromThread, "pool" for thread-pool jobs;
    # wait is the time queued before it ran.
    THREAD: ("source", "wait", "thread", "error"),
    # deferred: outcome "success" or "failure", failure type, errback or not,
    # line where an inlineCallbacks/coroutine function resumed.
    DEFERRED: ("outcome", "failure", "errback", "site", "line"),
    SYSTEM: ("phase",),
    # iteration: time spent waiting in poll; dur - wait is busy time.
    ITERATION: ("wait",),
    SLOW: ("dispatch", "stack", "blocked"),
    WARNING: ("code", "message", "where"),
}

#: Kinds whose ``name`` is a callable that user code supplied.
CALLABLE_KINDS: frozenset[str] = frozenset({TIMER, THREAD, DEFERRED})


@dataclass(slots=True)
class Event:
    """One recorded event, resolved to plain values."""

    seq: int
    ts: int
    dur: int
    kind: str
    name: str
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def end(self) -> int:
        """When the event ended, in ns since trace start."""
        return self.ts + self.dur

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of this event."""
        return {
            "seq": self.seq,
            "ts": self.ts,
            "dur": self.dur,
            "kind": self.kind,
            "name": self.name,
            "args": self.args,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Event":
        """Build an event from its JSON form (validated by the caller)."""
        return cls(
            data["seq"],
            data["ts"],
            data["dur"],
            data["kind"],
            data["name"],
            data.get("args") or {},
        )
