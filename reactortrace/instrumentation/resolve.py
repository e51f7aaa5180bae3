"""Turn raw ring records into :class:`Event` objects, in order, off the hot path."""

from __future__ import annotations

import struct
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
    if hasattr(addr, "name"):  # UNIX: None when the socket has no name
        name = addr.name
        if name is None:
            return None
        return name.decode(errors="replace") if isinstance(name, bytes) else str(name)
    return str(addr)


_UNKNOWN = ("?", None)
_UNSET: Any = object()
_CLOSED_KEPT = 1024


class Resolver:
    """Stateful: remembers each open connection's protocol and fd.

    ``start`` is the recorder's clock at the start of the trace (seconds);
    ``objects`` is the recorder's interner table, to turn references back
    into the objects they stand for. ``before`` is the site shown for timers
    made before tracing began (none by default).
    """

    def __init__(
        self, start: float, start_wall: float, objects: list[Any], before: str | None = None
    ) -> None:
        self.start = start
        self.before = before
        self.start_wall = start_wall
        self.objects = objects
        #: connection id -> (protocol name, fd) of open connections
        self.conns: dict[int, tuple[str, int | None]] = {}
        #: the same for the connections closed last (oldest first)
        self.closed: dict[int, tuple[str, int | None]] = {}
        self._names: dict[int, str] = {}
        self._sites: dict[tuple[int, int], str | None] = {}
        self._defined: dict[int, str | None] = {}
        self._internals: dict[int, bool] = {}
        self._schedule_sites: dict[bytes, tuple[str, str | None, int, bool]] = {}
        #: callable ref -> (name, where it was defined)
        self._callbacks: dict[int, tuple[str, str | None]] = {}
        # A timer's id is the time of its schedule record (or of its firing,
        # if the schedule was not seen), in ns since the start: unique, and
        # the same whichever resolver reads the records.
        self.last_wait_end = 0

    def copy(self) -> "Resolver":
        """A resolver that knows what this one knows, to resolve a ring anew."""
        other = Resolver(self.start, self.start_wall, self.objects, self.before)
        other.conns = dict(self.conns)
        other.closed = dict(self.closed)
        other._names = self._names
        other._sites = self._sites
        other._defined = self._defined
        other._internals = self._internals
        other._schedule_sites = self._schedule_sites
        other._callbacks = self._callbacks
        return other

    def ns(self, t: float) -> int:
        """Nanoseconds since the start for a recorder clock reading."""
        return int((t - self.start) * 1e9)

    def _due(self, wall: float) -> int:
        return int((wall - self.start_wall) * 1e9)

    def _name(self, ref: int) -> str:
        name = self._names.get(ref)
        if name is None:
            name = self._names[ref] = key_name(self.objects[ref])
        return name

    def _site(self, code_ref: int, offset: int) -> str | None:
        """``file:line`` for an interned code object and an offset (cached)."""
        if not code_ref:
            return self.before if offset == R.BEFORE_OFFSET else None
        key = (code_ref, offset)
        where = self._sites.get(key)
        if where is None:
            where = self._sites[key] = self._where(code_ref, offset)
        return where

    def _where(self, code_ref: int, offset: int) -> str | None:
        return site(self.objects[code_ref], offset)

    def _class(self, ref: int) -> str | None:
        return class_name(self.objects[ref]) if ref else None

    def _internal(self, code_ref: int) -> bool:
        """Whether no user code is at ``code_ref`` (none at all, or Twisted's; cached)."""
        internal = self._internals.get(code_ref)
        if internal is None:
            internal = self._internals[code_ref] = self._is_internal(code_ref)
        return internal

    def _is_internal(self, code_ref: int) -> bool:
        # Imported here: the writer process knows it from Facts, without Twisted.
        from .sites import internal_code

        return not code_ref or internal_code(self.objects[code_ref])

    def _object(self, ref: int) -> Any:
        """The interned object itself (a thread's name), None for 0."""
        return self.objects[ref] if ref else None

    def _definition(self, ref: int) -> str | None:
        """Where the callable at ``ref`` was defined (cached)."""
        where = self._defined.get(ref, _UNSET)
        if where is _UNSET:
            where = self._defined[ref] = definition_site(self.objects[ref])
        return where

    def _opened(self, conn: int, protocol: str, fd: int | None) -> None:
        self.conns[conn] = (protocol, fd)

    def _closed(self, conn: int) -> tuple[str, int | None]:
        """What was known of ``conn``; kept a while (its last dispatch ends after)."""
        known = self.conns.pop(conn, _UNKNOWN)
        self.closed[conn] = known
        if len(self.closed) > _CLOSED_KEPT:
            del self.closed[next(iter(self.closed))]
        return known

    def resolve(self, records: Iterable[Any], first: int) -> Iterator[Event]:
        """Events for ``records`` (oldest first, the first numbered ``first``);
        records that make no event (asyncio's calls from threads) are skipped."""
        handlers = self._handlers
        packed = self._packed
        for seq, record in enumerate(records, first):
            if type(record) is bytes:
                event = packed[record[-1]](self, seq, record)
            else:
                handler = handlers.get(record[0])
                event = handler(self, seq, record) if handler is not None else None
            if event is not None:
                yield event

    def _scheduled(self, record: bytes) -> tuple[int, str, str | None, int, int, float, float] | None:
        """(timer id, name, site, delay ns, origin, queued_at, t) of a SCHEDULE record."""
        if record == R.NO_SCHEDULE:
            return None
        t, delay, queued = _SCHEDULE_TIMES.unpack_from(record)
        name, where, origin, _ = self._schedule_site(record)
        return int((t - self.start) * 1e9), name, where, int(delay * 1e9), origin, queued, t

    def _schedule_site(self, record: bytes) -> tuple[str, str | None, int, bool]:
        """(name, site, origin, internal) of a SCHEDULE record: the same for
        every timer one line of code makes, so found once per line (cached)."""
        key = record[_SCHEDULE_SITE_AT:]
        known = self._schedule_sites.get(key)
        if known is None:
            _, _, _, key_ref, code_ref, offset, origin, _ = R.SCHEDULE_FMT.unpack(record)
            known = self._schedule_sites[key] = (
                self._name(key_ref), self._site(code_ref, offset), origin,
                self._internal(code_ref))
        return known

    def _timer(self, seq: int, record: bytes) -> Event:
        t0, t1, now, due_wall, error, scheduled_as, _ = _TIMER(record)
        start = self.start
        ts = int((t0 - start) * 1e9)
        dur = int((t1 - start) * 1e9) - ts
        if scheduled_as == R.NO_SCHEDULE:
            tid, name, where, delay, origin, queued = ts, "?", None, 0, R.ORIGIN_TIMER, 0.0
        else:
            t, delay_s, queued = _SCHEDULE_TIMES.unpack_from(scheduled_as)
            name, where, origin, _ = self._schedule_site(scheduled_as)
            tid, delay = int((t - start) * 1e9), int(delay_s * 1e9)
        if origin == R.ORIGIN_THREAD:
            return Event(seq, ts, dur, E.THREAD, name, {
                "source": "reactor",
                "wait": (ts - self.ns(queued)) if queued else None,
                "thread": None,
                "error": self._class(error),
            })
        late = int((now - due_wall) * 1e9)
        return Event(seq, ts, dur, E.TIMER, name, {
            "timer": tid,
            "site": where,
            "delay": delay,
            "late": late if late > 0 else 0,
            "looping": origin == R.ORIGIN_LOOPING,
            "error": self._class(error) if error else None,
        })

    def _schedule(self, seq: int, record: bytes) -> Event | None:
        name, where, origin, internal = self._schedule_site(record)
        if origin == R.ORIGIN_THREAD:
            return None
        t, delay, _ = _SCHEDULE_TIMES.unpack_from(record)
        delay_ns = int(delay * 1e9)
        ts = int((t - self.start) * 1e9)
        args = {
            "timer": ts,
            "site": where,
            "delay": delay_ns,
            "due": ts + delay_ns,
            "looping": origin == R.ORIGIN_LOOPING,
        }
        if internal:
            args["own"] = True  # no user code asked for it: Twisted's housekeeping
        return Event(seq, ts, 0, E.TIMER_SCHEDULE, name, args)

    def _cancel(self, seq: int, r: tuple[Any, ...]) -> Event | None:
        _, t, scheduled_as, code, offset = r
        info = self._scheduled(scheduled_as)
        if info is None:
            return None
        return Event(seq, self.ns(t), 0, E.TIMER_CANCEL, info[1], {
            "timer": info[0],
            "site": site(code, offset),
        })

    def _reset(self, seq: int, r: tuple[Any, ...]) -> Event | None:
        _, t, scheduled_as, due_wall = r
        info = self._scheduled(scheduled_as)
        if info is None:
            return None
        return Event(seq, self.ns(t), 0, E.TIMER_RESET, info[1], {
            "timer": info[0],
            "site": info[2],
            "due": self._due(due_wall),
        })

    def _io(self, seq: int, record: bytes) -> Event:
        t0, t1, nbytes, buffered, conn, code = _IO(record)
        name, fd = self.conns.get(conn) or self.closed.get(conn, _UNKNOWN)
        start = self.start
        ts = int((t0 - start) * 1e9)
        dur = int((t1 - start) * 1e9) - ts
        if code == R.READ:
            return Event(seq, ts, dur, E.IO_READ, name, {
                "conn": conn or None, "fd": fd, "bytes": nbytes, "error": None,
            })
        return Event(seq, ts, dur, E.IO_WRITE, name, {
            "conn": conn or None, "fd": fd, "bytes": nbytes, "buffered": buffered, "error": None,
        })

    def _open(self, seq: int, r: tuple[Any, ...]) -> Event:
        _, t, conn, fd, transport_cls, protocol_cls, local, peer, tls, buffer_size, code, at = r
        transport = class_name(transport_cls)
        protocol = class_name(protocol_cls) or transport or "?"
        self._opened(conn, protocol, fd)
        return Event(seq, self.ns(t), 0, E.CONN_OPEN, protocol, {
            "conn": conn,
            "fd": fd,
            "type": transport_type(transport, tls),
            "local": address(local),
            "peer": address(peer),
            "transport": transport,
            "buffer_size": buffer_size,
            "site": site(code, at),
        })

    def _close(self, seq: int, r: tuple[Any, ...]) -> Event:
        _, t, conn, reason = r
        name = self._closed(conn)[0]
        return Event(seq, self.ns(t), 0, E.CONN_CLOSE, name, {
            "conn": conn, "reason": class_name(reason),
        })

    def _thread(self, seq: int, record: bytes) -> Event:
        t0, t1, queued, key_ref, thread_ref, error, source, _ = _THREAD(record)
        ts = self.ns(t0)
        return Event(seq, ts, self.ns(t1) - ts, E.THREAD, self._name(key_ref), {
            "source": "pool" if source else "reactor",
            "wait": (ts - self.ns(queued)) if queued else None,
            "thread": self._object(thread_ref),
            "error": self._class(error),
        })

    def _deferred(self, seq: int, record: bytes) -> Event:
        t0, t1, key_ref, failed, line, errback, _ = _DEFERRED(record)
        known = self._callbacks.get(key_ref)
        if known is None:
            known = self._callbacks[key_ref] = (self._name(key_ref), self._definition(key_ref))
        start = self.start
        ts = int((t0 - start) * 1e9)
        return Event(seq, ts, int((t1 - start) * 1e9) - ts, E.DEFERRED, known[0], {
            "outcome": "failure" if failed else "success",
            "failure": self._class(failed) if failed else None,
            "errback": errback != 0,
            "site": known[1],
            "line": line if line >= 0 else None,
        })

    def _conn_change(self, seq: int, r: tuple[Any, ...]) -> Event:
        code, t, conn, value = r
        kind, key = _CONN_CHANGES[code]
        return Event(seq, self.ns(t), 0, kind, self.conns.get(conn, _UNKNOWN)[0], {
            "conn": conn, key: value,
        })

    def _deferred_state(self, seq: int, r: tuple[Any, ...]) -> Event:
        code, t, did, *rest = r
        ts = self.ns(t)
        if code == R.DEFERRED_NEW:
            code_obj, offset, waits = rest
            return Event(seq, ts, 0, E.DEFERRED_NEW, "Deferred", {
                "deferred": did, "site": site(code_obj, offset), "waits": waits,
            })
        if code == R.DEFERRED_ERROR:
            failure, where = rest
            return Event(seq, ts, 0, E.DEFERRED_ERROR, class_name(failure) or "?", {
                "deferred": did, "failure": class_name(failure), "site": where,
            })
        kind = E.DEFERRED_FIRED if code == R.DEFERRED_FIRED else E.DEFERRED_HANDLED
        return Event(seq, ts, 0, kind, "Deferred", {"deferred": did})

    def _slow(self, seq: int, r: tuple[Any, ...]) -> Event:
        _, t0, seen, key, dispatch, where, function, stack, stacks, cpu, gc_ns, made_at = r
        ts = self.ns(t0)
        blocked = self.ns(seen) - ts
        return Event(seq, ts, blocked, E.SLOW, key_name(key), {
            "dispatch": dispatch,
            "site": where,
            "function": function,
            "stack": list(stack),
            "blocked": blocked,
            "stacks": [{"stack": list(s), "samples": n} for s, n in stacks],
            "cpu": cpu if cpu >= 0 else None,
            "gc": gc_ns,
            "made_at": made_at,
            "ongoing": False,
        })

    def _warning(self, seq: int, r: tuple[Any, ...]) -> Event:
        _, t, code, message, where, subject, name = r
        return Event(seq, self.ns(t), 0, E.WARNING, name, {
            "code": code, "message": message, "where": where, "subject": subject,
        })

    def _system(self, seq: int, r: tuple[Any, ...]) -> Event:
        _, t0, t1, event_type = r
        ts = self.ns(t0)
        return Event(seq, ts, self.ns(t1) - ts, E.SYSTEM, event_type, {"phase": event_type})

    def _iteration(self, seq: int, record: bytes) -> Event:
        wait_start, wait_end, _ = _ITERATION(record)
        origin = self.start
        end = int((wait_end - origin) * 1e9)
        waited = int((wait_start - origin) * 1e9)
        start = self.last_wait_end or waited
        self.last_wait_end = end
        return Event(seq, start, end - start, E.ITERATION, "iteration", {"wait": end - waited})

    #: Tuple records: code -> handler(self, seq, record).
    _handlers = {
        R.CANCEL: _cancel,
        R.RESET: _reset,
        R.OPEN: _open,
        R.CLOSE: _close,
        R.SYSTEM: _system,
        R.PAUSE: _conn_change,
        R.RESUME: _conn_change,
        R.HALFCLOSE: _conn_change,
        R.DEFERRED_NEW: _deferred_state,
        R.DEFERRED_FIRED: _deferred_state,
        R.DEFERRED_ERROR: _deferred_state,
        R.DEFERRED_HANDLED: _deferred_state,
        R.SLOW: _slow,
        R.WARNING: _warning,
    }
    #: Packed records: code (their last byte) -> handler(self, seq, bytes),
    #: which unpacks them.
    _packed = {
        R.TIMER: _timer,
        R.SCHEDULE: _schedule,
        R.READ: _io,
        R.WRITE: _io,
        R.THREAD: _thread,
        R.DEFERRED: _deferred,
        R.ITERATION: _iteration,
    }


_TIMER = R.TIMER_FMT.unpack
_IO = R.IO_FMT.unpack
_THREAD = R.THREAD_FMT.unpack
_DEFERRED = R.DEFERRED_FMT.unpack
_ITERATION = R.ITERATION_FMT.unpack
#: A SCHEDULE record's times, and where the rest (what made it) begins.
_SCHEDULE_TIMES = struct.Struct("ddd")
_SCHEDULE_SITE_AT = _SCHEDULE_TIMES.size
_CONN_CHANGES = {
    R.PAUSE: (E.CONN_PAUSE, "buffered"),
    R.RESUME: (E.CONN_RESUME, "buffered"),
    R.HALFCLOSE: (E.CONN_HALFCLOSE, "side"),
}
