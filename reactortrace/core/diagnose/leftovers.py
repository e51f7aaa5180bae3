"""Timers and connections left over when the reactor stopped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .codes import (
    LEFTOVER_CONNECTION,
    LEFTOVER_TIMER,
    SHUTDOWN_REASON,
    Said,
    short_site,
    took,
)
from .connections import ConnectionFindings, ConnSource
from .findings import Findings


class Leftovers:
    """Timers made at one site still pending when the reactor shut down."""

    __slots__ = ("site", "name", "timers", "looping", "due_in", "ended")

    def __init__(self, site: str | None, name: str, ended: str) -> None:
        self.ended = ended
        self.site = site
        self.name = name
        self.timers: list[Any] = []
        self.looping = False
        self.due_in: int | None = None

    def warning(self, code: str, now: int) -> Said:
        what = f"{len(self.timers)} timers" if len(self.timers) > 1 else "a timer"
        made = f" made at {short_site(self.site)}" if self.site else ""
        due = self.due_in or 0
        when = f"due in {took(due)}"
        fix = "stop the LoopingCall" if self.looping else "cancel it"
        text = (
            f"{what} for {self.name}{made} still pending {self.ended} ({when}): "
            f"trial calls this a dirty reactor; {fix} when done"
        )
        return self.name, self.site, self.timers[0] if self.timers else None, text




def find_leftovers(
    findings: Findings,
    connections: ConnectionFindings,
    ts: int,
    timers: Mapping[Any, Any],
    conns: Mapping[Any, Any],
    ended: str = "when the reactor stopped",
) -> None:
    """The reactor shut down at ``ts``: what is left is what trial calls dirty.

    ``timers`` and ``conns`` are what is pending and open now, after the
    shutdown triggers ran; connections the reactor itself closed during
    the shutdown (``disconnectAll``) count too. Timers already due then
    were about to run, and timers no user code asked for and the reactor's
    wakers are Twisted's own: none of them counts.
    """
    groups: dict[str, Leftovers] = {}
    for tid, timer in timers.items():
        if timer.due <= ts or timer.own:
            continue  # due already: about to run, not forgotten (asyncio's stop() wake-up)
        key = timer.site or timer.name
        group = groups.get(key)
        if group is None:
            group = groups[key] = Leftovers(timer.site, timer.name, ended)
            findings.add(LEFTOVER_TIMER, key, ts, group)
        group.timers.append(tid)
        group.looping = group.looping or timer.looping
        due_in = timer.due - ts
        if group.due_in is None or due_in < group.due_in:
            group.due_in = due_in
    left = [c for c in connections.closed if c.closed_at is not None and c.closed_at >= ts
            and str(c.reason or "").endswith(SHUTDOWN_REASON)]
    left.extend(conns.values())
    for conn in left:
        if conn.type == "waker" or (conn.type == "unknown" and conn.protocol in ("", "?")):
            continue
        findings.add(LEFTOVER_CONNECTION, conn.id, ts, ConnSource(conn, connections))
