"""The event model shared by recording, files, aggregation and the UI.

An event is what happened on the reactor: a dispatch (with a duration) or an
instant (``dur == 0``). Times are integers in nanoseconds since the trace
started, on the monotonic clock. ``args`` holds the fields particular to a kind;
they are listed in ``ARGS`` and in the JSON Schema shipped beside this module.
"""

from __future__ import annotations

from typing import Any

import msgspec

TIMER = "timer"
TIMER_SCHEDULE = "timer.schedule"
TIMER_CANCEL = "timer.cancel"
TIMER_RESET = "timer.reset"
IO_READ = "io.read"
IO_WRITE = "io.write"
CONN_OPEN = "conn.open"
CONN_CLOSE = "conn.close"
CONN_PAUSE = "conn.pause"
CONN_RESUME = "conn.resume"
CONN_HALFCLOSE = "conn.halfclose"
THREAD = "thread"
DEFERRED = "deferred"
DEFERRED_NEW = "deferred.new"
DEFERRED_FIRED = "deferred.fired"
DEFERRED_ERROR = "deferred.error"
DEFERRED_HANDLED = "deferred.handled"
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
    CONN_PAUSE,
    CONN_RESUME,
    CONN_HALFCLOSE,
    THREAD,
    DEFERRED,
    DEFERRED_NEW,
    DEFERRED_FIRED,
    DEFERRED_ERROR,
    DEFERRED_HANDLED,
    SYSTEM,
    ITERATION,
    SLOW,
    WARNING,
)

#: The ``args`` keys each kind carries (all times in ns; ``None`` where unknown).
ARGS: dict[str, tuple[str, ...]] = {
    # timer: id unique in the trace, creation site "file:line", delay asked for,
    # lateness of the firing, LoopingCall or not, exception type if it raised;
    # own: true when no user code asked for it (Twisted's housekeeping, sited
    # at Twisted's line), absent otherwise: such a timer is never a leftover.
    TIMER: ("timer", "site", "delay", "late", "looping", "error"),
    TIMER_SCHEDULE: ("timer", "site", "delay", "due", "looping", "own"),
    TIMER_CANCEL: ("timer", "site"),
    TIMER_RESET: ("timer", "site", "due"),
    # io: connection id (never reused, unlike fds), fd, bytes moved if known,
    # bytes still waiting in the write buffer after a write dispatch.
    IO_READ: ("conn", "fd", "bytes", "error"),
    IO_WRITE: ("conn", "fd", "bytes", "buffered", "error"),
    # conn: name is the protocol class (the application's one under TLS);
    # buffer_size is the transport's write buffer size (backpressure above it).
    # site: where the user's code made it (listenTCP, connectTCP, an endpoint),
    # an accepted connection its port's.
    CONN_OPEN: ("conn", "fd", "type", "local", "peer", "transport", "buffer_size", "site"),
    CONN_CLOSE: ("conn", "reason"),
    # The transport paused / resumed the producer writing into it (its write
    # buffer went above bufferSize / drained); buffered is the buffer then.
    CONN_PAUSE: ("conn", "buffered"),
    CONN_RESUME: ("conn", "buffered"),
    # One direction closed while the other stays open: side "read" (the peer
    # stopped sending) or "write" (we stopped sending).
    CONN_HALFCLOSE: ("conn", "side"),
    # thread: "reactor" for callFromThread, "pool" for thread-pool jobs;
    # wait is the time queued before it ran.
    THREAD: ("source", "wait", "thread", "error"),
    # deferred: outcome "success" or "failure", failure type, errback or not,
    # line where an inlineCallbacks/coroutine function resumed.
    DEFERRED: ("outcome", "failure", "errback", "site", "line"),
    # With Deferred tracking on (an option: it costs per Deferred): made, with
    # where (user code) and what it waits on ("timer", "thread", "connection",
    # "deferred", or None); fired (its first result arrived).
    DEFERRED_NEW: ("deferred", "site", "waits"),
    DEFERRED_FIRED: ("deferred",),
    # Always on: a Deferred finished its callbacks holding a Failure nobody
    # handles yet ("error in flight"; name: the failure's type), and
    # the moment something handled it after all.
    DEFERRED_ERROR: ("deferred", "failure", "site"),
    DEFERRED_HANDLED: ("deferred",),
    SYSTEM: ("phase",),
    # iteration: time spent waiting in poll; dur - wait is busy time.
    ITERATION: ("wait",),
    # The watchdog saw one dispatch block the loop past the slow threshold;
    # ts is when the dispatch began, dur how long it was seen blocking. name:
    # the callable dispatched; site and function: the innermost line of user
    # code in the stack sampled most; stack: that stack, "file:line function"
    # strings, outermost first; blocked: dur again; stacks: every distinct
    # stack sampled, [{stack, samples}]; cpu: ns of CPU the reactor thread
    # used meanwhile (null if unknown); gc: ns collecting garbage meanwhile;
    # made_at: where the timer dispatched was scheduled, if known; ongoing:
    # true when the trace was written while it still blocked.
    SLOW: ("dispatch", "site", "function", "stack", "blocked", "stacks", "cpu", "gc", "made_at",
           "ongoing"),
    # A finding with a one-line explanation; where: the file:line to look at;
    # subject: the timer / connection / deferred id it is about, if any.
    WARNING: ("code", "message", "where", "subject"),
}

class Event(msgspec.Struct, gc=False):
    """One recorded event, resolved to plain values.

    A :class:`msgspec.Struct`: made and encoded to JSON about twice as fast as
    a slotted dataclass, which counts when a trace holds millions. Not tracked
    by the garbage collector: an event refers to plain values only (its
    ``args`` dict is tracked on its own).
    """

    seq: int
    ts: int
    dur: int
    kind: str
    name: str
    args: dict[str, Any] = {}

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
