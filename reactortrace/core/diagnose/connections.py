"""Connections: backpressure, idle, half-closed and left open."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from reactortrace.core.events import Event
from reactortrace.core.units import size

from .codes import (
    BACKPRESSURE,
    DEFAULT_BUFFER_SIZE,
    HALF_CLOSED,
    IDLE_CONNECTION,
    KEEP_CLOSED,
    STREAM_TYPES,
    Said,
    plural,
    took,
)
from .findings import Finding, Findings


def conn_label(conn: Any) -> str:
    """``Echo (tcp 127.0.0.1:8000 <-> 127.0.0.1:51000)`` for messages."""
    where = conn.local or "?"
    if conn.peer:
        where = f"{where} <-> {conn.peer}"
    return f"{conn.protocol} ({conn.type} {where})"


def conn_warning(code: str, conn: Any, now: int, diag: "ConnectionFindings") -> Said:
    """The warning about one connection (``conn`` as LoopState keeps it)."""
    label = conn_label(conn)
    if code == BACKPRESSURE:
        limit = conn.buffer_size or DEFAULT_BUFFER_SIZE
        paused = diag.paused_now(conn, now)
        if conn.pauses:
            longest = max(conn.longest_pause, paused)
            still = " (still paused)" if paused >= diag.pending_ns else ""
            text = (
                f"{label}: its producer stayed paused for {took(longest)}{still} "
                f"(paused {plural(conn.pauses, 'time')}, resumed {conn.resumes}): "
                "the peer stopped reading, or reads far slower than the program writes"
            )
        else:
            text = (
                f"{label}: up to {size(conn.peak_buffer, spaced=True)} waited to be written "
                f"(buffer size {size(limit, spaced=True)}) and kept growing, with no "
                "producer to pause: register one (transport.registerProducer) so the "
                "program waits for the peer instead of buffering without bound"
            )
    elif code == IDLE_CONNECTION:
        current = diag.idle_now(conn, now)
        still = " (still idle)" if current >= diag.idle_ns else ""
        idle = max(conn.idle_longest, current)
        text = f"{label}: no data either way for {took(idle)}{still} while open"
    elif code == HALF_CLOSED:
        until = conn.closed_at if conn.closed_at is not None else now
        side = "we stopped sending"
        if conn.halfclosed_side == "read":
            side = "the peer stopped sending"
        state = "until it closed" if conn.closed_at is not None else "and it is still open"
        text = (
            f"{label}: half-closed ({side}) for {took(until - conn.halfclosed_at)} "
            f"{state}: one side waits for a close that does not come"
        )
    else:  # LEFTOVER_CONNECTION
        listening = conn.type.endswith((".listen", ".port", "udp", ".datagram"))
        fix = "stopListening() it" if listening else "loseConnection() it"
        how = " (the reactor closed it)" if conn.closed_at is not None else ""
        text = (
            f"{label} still open {diag.ended}{how}: "
            f"trial calls this a dirty reactor; {fix} when done"
        )
    return conn.protocol, conn.site, conn.id, text


class ConnSource:
    """A finding about one connection, rendered from its current record."""

    __slots__ = ("conn", "diag")

    def __init__(self, conn: Any, diag: ConnectionFindings) -> None:
        self.conn = conn
        self.diag = diag

    def warning(self, code: str, now: int) -> Said:
        return conn_warning(code, self.conn, now, self.diag)


class ConnectionFindings:
    """Backpressure, idle and half-closed connections, from the records LoopState keeps.

    A record has ``id``, ``type``, ``protocol``, ``local``, ``peer``,
    ``opened``, ``last_activity``, ``buffer_size``, ``peak_buffer``,
    ``pauses``, ``resumes``, ``halfclosed_at``, ``halfclosed_side``,
    ``idle_longest``, ``closed_at``, ``reason`` and byte counts.
    """

    def __init__(self, findings: Findings, idle_ns: int, pending_ns: int) -> None:
        self.findings = findings
        self.idle_ns = idle_ns
        self.pending_ns = pending_ns
        #: How leftover messages say when it ended.
        self.ended = "when the reactor stopped"
        #: Connections closed last (records, oldest first).
        self.closed: deque[Any] = deque(maxlen=KEEP_CLOSED)

    def backpressure(self, event: Event, conn: Any) -> None:
        """The write buffer grew past the buffer size with no producer paused."""
        self.findings.add(BACKPRESSURE, conn.id, event.ts, ConnSource(conn, self))

    def resumed(self, event: Event, conn: Any) -> None:
        """``conn``'s producer was resumed: flow control worked, unless the pause lasted."""
        if conn.paused_at is None:
            return
        self._pause_ended(conn, event.ts)

    def _pause_ended(self, conn: Any, ts: int) -> None:
        since, conn.paused_at = conn.paused_at, None
        conn.longest_pause = max(conn.longest_pause, ts - since)
        if ts - since >= self.pending_ns:
            self.findings.add(BACKPRESSURE, conn.id, since + self.pending_ns,
                              ConnSource(conn, self))

    def paused_now(self, conn: Any, now: int) -> int:
        """How long ``conn``'s producer has been paused at ``now`` (0 if it is not)."""
        return 0 if conn.paused_at is None else max(0, now - conn.paused_at)

    def idle_ended(self, conn: Any, since: int, until: int) -> None:
        """``conn`` moved no data from ``since`` to ``until`` (idle_ns or more)."""
        if not watches_idle(conn):
            return
        conn.idle_longest = max(conn.idle_longest, until - since)
        self.findings.add(IDLE_CONNECTION, conn.id, since + self.idle_ns, ConnSource(conn, self))

    def idle_now(self, conn: Any, now: int) -> int:
        """How long ``conn`` has been silent at ``now`` (0 once closed)."""
        if conn.closed_at is not None:
            return 0
        last = conn.last_activity if conn.last_activity is not None else conn.opened
        return max(0, now - last)

    def closed_conn(self, event: Event, conn: Any) -> None:
        """``conn`` closed (its record is final now)."""
        conn.closed_at = event.ts
        conn.reason = event.args.get("reason")
        if conn.paused_at is not None:
            self._pause_ended(conn, event.ts)
        if conn.halfclosed_at is not None and event.ts - conn.halfclosed_at >= self.pending_ns:
            self.findings.add(HALF_CLOSED, conn.id, conn.halfclosed_at + self.pending_ns,
                              ConnSource(conn, self))
        self.closed.append(conn)

    def live(self, now: int, conns: Mapping[Any, Any]) -> list[Finding]:
        """Idle and half-closed findings true at ``now`` and not kept yet."""
        found = []
        for conn in conns.values():
            if (IDLE_CONNECTION, conn.id) not in self.findings and watches_idle(conn):
                last = conn.last_activity if conn.last_activity is not None else conn.opened
                if now - last >= self.idle_ns:
                    found.append(Finding(IDLE_CONNECTION, last + self.idle_ns,
                                         ConnSource(conn, self)))
            if (
                conn.paused_at is not None
                and (BACKPRESSURE, conn.id) not in self.findings
                and now - conn.paused_at >= self.pending_ns
            ):
                found.append(Finding(BACKPRESSURE, conn.paused_at + self.pending_ns,
                                     ConnSource(conn, self)))
            if (
                conn.halfclosed_at is not None
                and (HALF_CLOSED, conn.id) not in self.findings
                and now - conn.halfclosed_at >= self.pending_ns
            ):
                found.append(Finding(HALF_CLOSED, conn.halfclosed_at + self.pending_ns,
                                     ConnSource(conn, self)))
        return found


def watches_idle(conn: Any) -> bool:
    """Whether silence on ``conn`` means something (streams, not ports or pipes)."""
    return bool(conn.type.removeprefix("tls/") in STREAM_TYPES)
