"""The warning codes, the bounds on what findings keep, and the words messages share."""

from __future__ import annotations

from typing import Any

from reactortrace.core import events as ev
from reactortrace.core.units import duration

SLOW_CALLBACK = "slow-callback"
LATE_TIMER = "late-timer"
MISSED_TICKS = "missed-ticks"
DEFERRED_ERROR = "deferred-error"
DEFERRED_PENDING = "deferred-pending"
BACKPRESSURE = "backpressure"
IDLE_CONNECTION = "idle-connection"
HALF_CLOSED = "half-closed"
LEFTOVER_TIMER = "leftover-timer"
LEFTOVER_CONNECTION = "leftover-connection"
TOO_MANY = "too-many-warnings"
#: A part of the recording turned itself off (recorded by the tracer, with why).
RECORDING_OFF = "recording-off"
CODES: tuple[str, ...] = (
    SLOW_CALLBACK,
    LATE_TIMER,
    MISSED_TICKS,
    DEFERRED_ERROR,
    DEFERRED_PENDING,
    BACKPRESSURE,
    IDLE_CONNECTION,
    HALF_CLOSED,
    LEFTOVER_TIMER,
    LEFTOVER_CONNECTION,
    TOO_MANY,
    RECORDING_OFF,
)

#: Findings kept per code; more are counted in a ``too-many-warnings`` one.
MAX_PER_CODE = 100
#: The longest dispatches kept, with their stacks, for ``summary``.
KEEP_SLOWEST = 50
#: Creation sites (of timers, Deferreds) followed apart; the rest share one.
MAX_SITES = 5_000
OTHER_SITES = "(other sites)"
#: Deferreds followed (pending, or holding an error) at most.
MAX_DEFERREDS = 100_000
#: Closed connections remembered, for leftovers at shutdown and ``summary``.
KEEP_CLOSED = 10_000
#: Twisted's default ``FileDescriptor.bufferSize``, when a trace lacks it.
DEFAULT_BUFFER_SIZE = 65_536
#: Connection types whose silence means something (not ports, pipes, wakers).
STREAM_TYPES = frozenset({"tcp", "tcp.client", "unix", "unix.client"})
#: Dispatches the reactor runs itself; Deferred callbacks run inside them and
#: thread-pool jobs run on other threads, so neither blocks the loop alone.
TOP_LEVEL_KINDS = frozenset({ev.TIMER, ev.IO_READ, ev.IO_WRITE, ev.THREAD})
#: ``conn.close`` reason of what the reactor's own ``disconnectAll`` closes.
SHUTDOWN_REASON = "ConnectionLost"

#: What a finding's source says about it: (name, where, subject, message).
Said = tuple[str, str | None, Any, str]


def took(ns: int | float) -> str:
    """A duration as messages write it: ``12.5 ms``."""
    return duration(max(0, ns), spaced=True)


def short_site(site: str | None) -> str | None:
    """``file.py:12`` for ``/long/path/to/file.py:12``: messages stay short, ``where`` is whole."""
    if not site:
        return site
    return site.replace("\\", "/").rsplit("/", 1)[-1]


def plural(n: int, word: str) -> str:
    """``1 tick``, ``3 ticks``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
