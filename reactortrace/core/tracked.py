"""What LoopState keeps about each pending timer, open connection and callable."""

from __future__ import annotations

from typing import Any

from reactortrace.core.snapshot import CallableStats
from reactortrace.core.stats import LogHistogram


class TimerRecord:
    """A pending timer."""

    __slots__ = ("name", "site", "delay", "due", "looping", "own")

    def __init__(
        self, name: str, site: str | None, delay: int, due: int, looping: bool,
        own: bool = False,
    ):
        self.own = own  # Twisted made it, no user code asked: never a leftover
        self.name = name
        self.site = site
        self.delay = delay
        self.due = due
        self.looping = looping


class ConnRecord:
    """An open (or recently closed) connection; Diagnostics reads it too."""

    __slots__ = (
        "id",
        "type",
        "protocol",
        "local",
        "peer",
        "fd",
        "opened",
        "bytes_in",
        "bytes_out",
        "reads",
        "writes",
        "last_activity",
        "write_buffer",
        "site",
        # read by Diagnostics
        "buffer_size",
        "peak_buffer",
        "pauses",
        "resumes",
        "paused_at",
        "longest_pause",
        "halfclosed_at",
        "halfclosed_side",
        "idle_longest",
        "closed_at",
        "reason",
    )

    def __init__(
        self, id_: Any, type_: str, protocol: str, local: Any, peer: Any, fd: Any, opened: int
    ):
        self.id = id_
        self.type = type_
        self.protocol = protocol
        self.local = local
        self.peer = peer
        self.fd = fd
        self.opened = opened
        self.bytes_in = 0
        self.bytes_out = 0
        self.reads = 0
        self.writes = 0
        self.last_activity: int | None = None
        self.write_buffer = 0
        self.site: str | None = None
        self.buffer_size: int | None = None
        self.peak_buffer = 0
        self.pauses = 0
        self.resumes = 0
        self.paused_at: int | None = None  # paused now, since
        self.longest_pause = 0
        self.halfclosed_at: int | None = None
        self.halfclosed_side: str | None = None
        self.idle_longest = 0
        self.closed_at: int | None = None
        self.reason: str | None = None


class CallableRecord(LogHistogram):
    """Durations of one callable, its error count, its self time (ns, its
    durations less the nested dispatches it ran) and its cached summary."""

    __slots__ = ("errors", "self_total", "summary")

    def __init__(self) -> None:
        super().__init__()
        self.errors = 0
        self.self_total = 0
        self.summary: CallableStats | None = None
