"""Turn raw ring records into :class:`Event` objects, in order, off the hot path."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..core import events as E
from ..core.events import Event
from ..core.names import class_name, definition_site, key_name, site
from . import records as R

# Transport classes by "module.Class" -> the connection type shown to users.
_TYPES = {
    "twisted.internet.tcp.Server": "tcp",
    "twisted.internet.tcp.Client": "tcp.client",
    "twisted.internet.tcp.Port": "tcp.listen",
    "twisted.internet.udp.Port": "udp",
    "twisted.internet.udp.MulticastPort": "udp",
    "twisted.internet.unix.Server": "unix",
    "twisted.internet.unix.Client": "unix.client",
    "twisted.internet.unix.Port": "unix.listen",
    "twisted.internet.unix.DatagramPort": "unix.datagram",
    "twisted.internet.unix.ConnectedDatagramPort": "unix.datagram",
    "twisted.internet.process.ProcessWriter": "process",
    "twisted.internet.process.ProcessReader": "process",
    "twisted.internet.process.PTYProcess": "process",
    "twisted.internet.posixbase._UnixWaker": "waker",
    "twisted.internet.posixbase._SocketWaker": "waker",
    "twisted.internet.posixbase._SIGCHLDWaker": "waker",
    "twisted.internet._signals._UnixWaker": "waker",
    "twisted.internet._signals._SocketWaker": "waker",
    "twisted.internet._signals._SIGCHLDWaker": "waker",
}


def transport_type(transport: str | None, tls: bool) -> str:
    """The user-facing connection type for a transport class name."""
    base = _TYPES.get(transport or "")
    if base is None:
        short = (transport or "unknown").rsplit(".", 1)[-1]
        base = "waker" if "Waker" in short else short.lower()
    return f"tls/{base}" if tls else base


def address(addr: Any) -> str | None:
    """``host:port`` for IP addresses, the path for UNIX ones."""
    if addr is None:
        return None
    host = getattr(addr, "host", None)
    port = getattr(addr, "port", None)
    if host is not None and port is not None:
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    name = getattr(addr, "name", None)
    if name is not None:
        return name.decode(errors="replace") if isinstance(name, bytes) else str(name)
    return str(addr)


class Resolver:
    """Stateful: remembers connections' protocols and iteration boundaries."""

    def __init__(self, start_ns: int, start_wall: float) -> None:
        self.start_ns = start_ns
        self.start_wall = start_wall
        self.protocols: dict[int, str] = {}
        self._io_starts: list[int] = []

    def _due(self, wall: float) -> int:
        return int((wall - self.start_wall) * 1e9)

    def resolve(self, records: Iterable[tuple[Any, ...]]) -> Iterator[Event]:
        """Events for ``records`` (oldest first); unknown records are skipped."""
        handlers = self._handlers
        for record in records:
            handler = handlers.get(record[1])
            if handler is not None:
                yield handler(self, record)

    def _timer(self, r: tuple[Any, ...]) -> Event:
        seq, _, t0, t1, info, now, due_wall, error = r
        tid, key, code, line, delay, origin, queued = info
        ts, dur = t0 - self.start_ns, t1 - t0
        if origin == R.ORIGIN_THREAD:
            return Event(seq, ts, dur, E.THREAD, key_name(key), {
                "source": "reactor",
                "wait": (t0 - queued) if queued is not None else None,
                "thread": None,
                "error": class_name(error),
            })
        return Event(seq, ts, dur, E.TIMER, key_name(key), {
            "timer": tid,
            "site": site(code, line),
            "delay": int(delay * 1e9),
            "late": max(0, int((now - due_wall) * 1e9)),
            "looping": origin == R.ORIGIN_LOOPING,
            "error": class_name(error),
        })

    def _schedule(self, r: tuple[Any, ...]) -> Event:
        seq, _, t, info, due_wall = r
        tid, key, code, line, delay, origin, _queued = info
        return Event(seq, t - self.start_ns, 0, E.TIMER_SCHEDULE, key_name(key), {
            "timer": tid,
            "site": site(code, line),
            "delay": int(delay * 1e9),
            "due": self._due(due_wall),
            "looping": origin == R.ORIGIN_LOOPING,
        })

    def _cancel(self, r: tuple[Any, ...]) -> Event:
        seq, _, t, info, code, line = r
        return Event(seq, t - self.start_ns, 0, E.TIMER_CANCEL, key_name(info[1]), {
            "timer": info[0],
            "site": site(code, line),
        })

    def _reset(self, r: tuple[Any, ...]) -> Event:
        seq, _, t, info, due_wall = r
        return Event(seq, t - self.start_ns, 0, E.TIMER_RESET, key_name(info[1]), {
            "timer": info[0],
            "site": site(info[2], info[3]),
            "due": self._due(due_wall),
        })

    def _io(self, r: tuple[Any, ...]) -> Event:
        seq, code, t0, t1, conn, fd, nbytes, buffered = r
        self._io_starts.append(t0)
        name = self.protocols.get(conn, "?")
        if code == R.READ:
            return Event(seq, t0 - self.start_ns, t1 - t0, E.IO_READ, name, {
                "conn": conn, "fd": fd, "bytes": nbytes, "error": None,
            })
        return Event(seq, t0 - self.start_ns, t1 - t0, E.IO_WRITE, name, {
            "conn": conn, "fd": fd, "bytes": nbytes, "buffered": buffered, "error": None,
        })

    def _open(self, r: tuple[Any, ...]) -> Event:
        seq, _, t, conn, fd, transport_cls, protocol_cls, local, peer, tls = r
        transport = class_name(transport_cls)
        protocol = class_name(protocol_cls) or transport or "?"
        self.protocols[conn] = protocol
        return Event(seq, t - self.start_ns, 0, E.CONN_OPEN, protocol, {
            "conn": conn,
            "fd": fd,
            "type": transport_type(transport, tls),
            "local": address(local),
            "peer": address(peer),
            "transport": transport,
        })

    def _close(self, r: tuple[Any, ...]) -> Event:
        seq, _, t, conn, reason = r
        name = self.protocols.pop(conn, "?")
        return Event(seq, t - self.start_ns, 0, E.CONN_CLOSE, name, {
            "conn": conn, "reason": class_name(reason),
        })

    def _thread(self, r: tuple[Any, ...]) -> Event:
        seq, _, t0, t1, key, source, queued, thread, error = r
        return Event(seq, t0 - self.start_ns, t1 - t0, E.THREAD, key_name(key), {
            "source": source,
            "wait": (t0 - queued) if queued is not None else None,
            "thread": thread,
            "error": class_name(error),
        })

    def _deferred(self, r: tuple[Any, ...]) -> Event:
        seq, _, t0, t1, key, errback, failed, line = r
        return Event(seq, t0 - self.start_ns, t1 - t0, E.DEFERRED, key_name(key), {
            "outcome": "failure" if failed is not None else "success",
            "failure": class_name(failed),
            "errback": errback,
            "site": definition_site(key),
            "line": line,
        })

    def _system(self, r: tuple[Any, ...]) -> Event:
        seq, _, t0, t1, event_type = r
        return Event(seq, t0 - self.start_ns, t1 - t0, E.SYSTEM, event_type, {"phase": event_type})

    def _iteration(self, r: tuple[Any, ...]) -> Event:
        seq, _, t0, t1, wait_from = r
        first_io = min((t for t in self._io_starts if t >= wait_from), default=t1)
        self._io_starts.clear()
        return Event(seq, t0 - self.start_ns, t1 - t0, E.ITERATION, "iteration", {
            "wait": max(0, first_io - wait_from),
        })

    _handlers = {
        R.TIMER: _timer,
        R.SCHEDULE: _schedule,
        R.CANCEL: _cancel,
        R.RESET: _reset,
        R.READ: _io,
        R.WRITE: _io,
        R.OPEN: _open,
        R.CLOSE: _close,
        R.THREAD: _thread,
        R.DEFERRED: _deferred,
        R.SYSTEM: _system,
        R.ITERATION: _iteration,
    }
