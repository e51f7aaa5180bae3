"""Frozen views of the reactor's state at one moment, for the UI and files.

A snapshot is computed by :class:`reactortrace.core.state.LoopState` from the
events alone, so a live program and a replayed trace give the same picture;
two fields are live views the tracer adds, read from the program as it is:
``blocked`` (the dispatch blocking the loop) and ``deferreds`` (the pending
Deferreds; a replay shows the trace's own at its end).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TimerInfo:
    """A DelayedCall still pending."""

    timer: int
    name: str
    site: str | None
    due_in: int  # ns from the snapshot time; negative when overdue
    delay: int  # ns asked for at scheduling
    looping: bool
    own: bool = False  # Twisted's own housekeeping: no user code asked for it


@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """A transport or listening port that is open."""

    conn: int
    type: str
    protocol: str
    local: str | None
    peer: str | None
    fd: int | None
    opened: int  # ns since trace start
    age: int  # ns
    bytes_in: int
    bytes_out: int
    reads: int
    writes: int
    last_activity: int | None  # ns since trace start
    write_buffer: int
    site: str | None = None  # where the user's code made it (newer traces)


@dataclass(frozen=True, slots=True)
class CallableStats:
    """How often and how long one callable ran."""

    name: str
    kind: str
    count: int
    total: int  # ns
    mean: int
    max: int
    p95: int
    errors: int
    #: ns: ``total`` less the time in the dispatches it ran itself (Deferred
    #: callbacks fired from a timer, ...): where the time really went.
    self_time: int = 0


@dataclass(frozen=True, slots=True)
class LoopStats:
    """The reactor loop as a whole."""

    iterations: int
    utilization: float  # busy / elapsed over the recent window, 0..1
    events_per_second: float  # over the recent window
    lag: int  # ns: mean timer lateness over the recent window
    busy: int  # ns, whole trace
    wait: int  # ns, whole trace
    events: int  # events seen in all
    uptime: int  # ns since trace start


@dataclass(frozen=True, slots=True)
class BlockedInfo:
    """The dispatch blocking the loop right now (a live view; never in a replay)."""

    since: int  # ns since trace start: when the dispatch began
    elapsed: int  # ns it has run so far
    name: str  # the callable that was dispatched
    kind: str  # timer, io, deferred
    made_at: str | None  # where the timer (or Deferred) was made, when known
    site: str | None  # the blocking line, file:line
    function: str | None  # the function holding that line
    stack: tuple[str, ...] = ()  # "file:line function", user frames first
    user_frames: int = 0  # how many of ``stack`` are the program's own
    cpu: int | None = None  # ns of CPU the reactor thread used during the block
    on_cpu: float | None = None  # share of the last samples spent on CPU, 0..1
    gc: int = 0  # ns of garbage collection during the block
    samples: int = 0  # stacks sampled so far
    moves: int = 0  # times the blocking line changed

    @property
    def waiting(self) -> bool | None:
        """True when the thread waits (system call, lock, sleep), False when it
        burns CPU, None when that cannot be told."""
        # A thread that spins on a busy machine gets a share of a core, not
        # all of it; one that waits gets next to none.
        return None if self.on_cpu is None else self.on_cpu < 0.1


@dataclass(frozen=True, slots=True)
class DeferredInfo:
    """A Deferred still waiting for its result, or an ``inlineCallbacks``
    generator or coroutine suspended in one (a live view; see
    :class:`PendingDeferreds`)."""

    id: int  # stable while the Deferred lives (1, 2, ... in the order seen)
    kind: str  # "deferred", "inlineCallbacks", "coroutine" or "DeferredList"
    name: str  # the generator's or coroutine's function, else what made the Deferred
    age: int | None  # ns since it was made (None: made before recording began)
    made_at: str | None  # "file:line" of the first user frame that made it
    suspended_at: str | None = None  # inlineCallbacks / coroutine: the line it waits at
    awaits: tuple[str, ...] = ()  # coroutines: "file:line function" per await, outermost first
    waits_on: tuple[int, ...] = ()  # ids of the pending Deferreds it waits on
    source: str = "nothing"  # deferred, timer, thread, connection or nothing: what fires it next
    detail: str = "nothing known"  # that, in words ("timer 1234 due in 2.0s", ...)
    timer: int | None = None  # the timer's id in the Timers view, when a timer fires it
    conn: int | None = None  # the connection's id, when its data fires it
    fired_by: str = "nothing known"  # the end of the chain: what will fire the first link
    depth: int = 0  # links from it down to that end
    deadlock: bool = False  # in a cycle of Deferreds waiting on each other


@dataclass(frozen=True, slots=True)
class PendingDeferreds:
    """Pending Deferreds and what each waits on, oldest first, bounded."""

    deferreds: tuple[DeferredInfo, ...] = ()
    total: int = 0  # pending Deferreds found
    omitted: int = 0  # of those, left out of ``deferreds`` (the youngest)
    deadlocks: tuple[tuple[int, ...], ...] = ()  # the ids in each cycle found
    unscanned: int = 0  # Deferreds not looked at: the walk stopped at its bound

    def by_id(self) -> dict[int, DeferredInfo]:
        """The listed Deferreds by id."""
        return {info.id: info for info in self.deferreds}


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything known at time ``ts`` (ns since trace start)."""

    ts: int
    timers: tuple[TimerInfo, ...] = ()
    connections: tuple[ConnectionInfo, ...] = ()
    callables: tuple[CallableStats, ...] = ()
    loop: LoopStats = field(
        default_factory=lambda: LoopStats(0, 0.0, 0.0, 0, 0, 0, 0, 0)
    )
    dropped: int = 0
    warnings: tuple[dict[str, Any], ...] = ()
    blocked: BlockedInfo | None = None
    #: Pending Deferreds (live, while the Deferreds view is on; None otherwise).
    deferreds: PendingDeferreds | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of this snapshot."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Snapshot":
        """Rebuild a snapshot from :meth:`to_dict` output."""
        return cls(
            ts=data["ts"],
            timers=tuple(_build(TimerInfo, t) for t in data.get("timers", ())),
            connections=tuple(
                _build(ConnectionInfo, c) for c in data.get("connections", ())
            ),
            callables=tuple(
                _build(CallableStats, c) for c in data.get("callables", ())
            ),
            loop=_build(LoopStats, data["loop"]) if "loop" in data else Snapshot(0).loop,
            dropped=data.get("dropped", 0),
            warnings=tuple(data.get("warnings", ())),
            blocked=_blocked(data.get("blocked")),
            deferreds=_pending(data.get("deferreds")),
        )


def _blocked(data: Any) -> BlockedInfo | None:
    if not isinstance(data, dict):
        return None
    return _build(BlockedInfo, {**data, "stack": tuple(data.get("stack") or ())})


def _pending(data: Any) -> PendingDeferreds | None:
    if not isinstance(data, dict):
        return None
    infos = tuple(
        _build(DeferredInfo, {**d, "awaits": tuple(d.get("awaits") or ()),
                              "waits_on": tuple(d.get("waits_on") or ())})
        for d in data.get("deferreds") or ()
    )
    return _build(PendingDeferreds, {
        **data,
        "deferreds": infos,
        "deadlocks": tuple(tuple(cycle) for cycle in data.get("deadlocks") or ()),
    })


def _build(cls: type[T], data: dict[str, Any]) -> T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})
