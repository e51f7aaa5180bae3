"""I/O: readiness dispatched to selectables, and connections opening and closing.

Every reactor family funnels readiness through one method looked up at call
time (``_doReadOrWrite`` on epoll/poll/select, ``_readOrWrite`` on asyncio);
wrapping it on the instance sees every dispatch. Connections are registered
when they start reading (``addReader``) or at their first dispatch, and their
close is seen in the transport class's ``connectionLost``, which every close
path reaches.
"""

from __future__ import annotations

import itertools
from typing import Any

from twisted.internet import tcp

from . import records as R
from .globals import shared_patch
from .recorder import Part, Recorder

#: id(selectable) -> (recorder, connection id) for open connections.
LIVE_CONNS: dict[int, tuple[Recorder, int]] = {}
#: Bytes handed to protocols during the current dispatch (reactor thread only).
_READ_BYTES = [0]
_conn_ids = itertools.count(1)
_WRAPPER_ATTRS = ("wrappedProtocol", "_wrappedProtocol")


def _pending_out(selectable: Any) -> int:
    """Bytes a FileDescriptor still holds to write."""
    try:
        return len(selectable.dataBuffer) - selectable.offset + selectable._tempDataLen
    except (AttributeError, TypeError):
        return 0


def _protocol_classes(selectable: Any) -> tuple[Any, bool]:
    """The application's protocol class, and whether TLS sits in between."""
    protocol = getattr(selectable, "protocol", None)
    tls = False
    for _ in range(5):
        if protocol is None:
            break
        if type(protocol).__name__ == "TLSMemoryBIOProtocol":
            tls = True
        inner = None
        for attr in _WRAPPER_ATTRS:
            inner = getattr(protocol, attr, None)
            if inner is not None:
                break
        if inner is None:
            break
        protocol = inner
    return (type(protocol) if protocol is not None else None), tls


def _address(selectable: Any, method: str) -> Any:
    try:
        return getattr(selectable, method)()
    except Exception:  # noqa: BLE001 - ports and pipes may have no such address
        return None


class Connections:
    """Gives selectables stable ids and records their opening and closing."""

    def __init__(self, rec: Recorder, part: Part) -> None:
        self.rec = rec
        self.part = part
        self.patched: set[type] = set()

    def register(self, selectable: Any) -> int:
        """The connection id of ``selectable``, recording its opening if new."""
        key = id(selectable)
        entry = LIVE_CONNS.get(key)
        if entry is not None:
            return entry[1]
        conn = next(_conn_ids)
        LIVE_CONNS[key] = (self.rec, conn)
        protocol, tls = _protocol_classes(selectable)
        try:
            fd = selectable.fileno()
        except Exception:  # noqa: BLE001
            fd = -1
        rec = self.rec
        rec.append(
            (
                rec.next_seq(), R.OPEN, rec.clock(), conn, fd, type(selectable), protocol,
                _address(selectable, "getHost"), _address(selectable, "getPeer"), tls,
            )
        )
        self._watch_close(type(selectable))
        return conn

    def _watch_close(self, cls: type) -> None:
        if cls in self.patched or not hasattr(cls, "connectionLost"):
            return
        self.patched.add(cls)
        shared_patch(self.part, cls, "connectionLost", _make_connection_lost)


def _make_connection_lost(original: Any) -> Any:
    def connectionLost(self: Any, *args: Any, **kw: Any) -> Any:
        entry = LIVE_CONNS.pop(id(self), None)
        if entry is not None:
            rec, conn = entry
            part = rec.parts.get("io")
            if part is not None and part.on:
                try:
                    reason = args[0] if args else kw.get("reason")
                    rec.append(
                        (rec.next_seq(), R.CLOSE, rec.clock(), conn, getattr(reason, "type", None))
                    )
                except Exception as exc:  # noqa: BLE001
                    part.fail(exc)
        return original(self, *args, **kw)

    return connectionLost


def _make_data_received(original: Any) -> Any:
    counter = _READ_BYTES

    def _dataReceived(self: Any, data: Any) -> Any:
        if data:
            counter[0] += len(data)
        return original(self, data)

    return _dataReceived


def install(rec: Recorder, reactor: Any) -> None:
    """Record the I/O dispatches and connections of ``reactor``."""
    part = rec.part("io")
    conns = Connections(rec, part)
    append, next_seq, clock = rec.append, rec.next_seq, rec.clock
    live = LIVE_CONNS
    read_bytes = _READ_BYTES
    register = conns.register

    def conn_of(selectable: Any) -> int:
        entry = live.get(id(selectable))
        return entry[1] if entry is not None else register(selectable)

    def record(selectable: Any, conn: int, reading: bool, t0: int, before: int) -> None:
        t1 = clock()
        try:
            fd = selectable.fileno()
        except Exception:  # noqa: BLE001
            fd = -1
        got = read_bytes[0]
        if reading:
            append((next_seq(), R.READ, t0, t1, conn, fd, got, None))
        else:
            after = _pending_out(selectable)
            append((next_seq(), R.WRITE, t0, t1, conn, fd, max(0, before - after), after))

    def add_reader_hook(original: Any) -> Any:
        def addReader(reader: Any) -> Any:
            result = original(reader)
            if part.on and id(reader) not in live:
                try:
                    register(reader)
                except Exception as exc:  # noqa: BLE001
                    part.fail(exc)
            return result

        return addReader

    if hasattr(reactor, "_asyncioEventloop"):
        original_rw = reactor._readOrWrite

        def _readOrWrite(selectable: Any, read: bool) -> Any:
            if not part.on:
                return original_rw(selectable, read)
            read_bytes[0] = 0
            before = 0 if read else _pending_out(selectable)
            conn = conn_of(selectable)
            t0 = clock()
            try:
                return original_rw(selectable, read)
            finally:
                try:
                    record(selectable, conn, read, t0, before)
                except Exception as exc:  # noqa: BLE001
                    part.fail(exc)

        _reregister_asyncio(reactor, part, _readOrWrite)
    else:
        original_drw = reactor._doReadOrWrite
        poll_in = getattr(reactor, "_POLL_IN", None)

        def _doReadOrWrite(selectable: Any, *how: Any) -> Any:
            if not part.on:
                return original_drw(selectable, *how)
            read_bytes[0] = 0
            # select passes ("doRead"|"doWrite"); poll/epoll pass (fd, event)
            reading = how[0] == "doRead" if poll_in is None else bool(how[1] & poll_in)
            before = 0 if reading else _pending_out(selectable)
            conn = conn_of(selectable)
            t0 = clock()
            try:
                return original_drw(selectable, *how)
            finally:
                try:
                    record(selectable, conn, reading, t0, before)
                except Exception as exc:  # noqa: BLE001
                    part.fail(exc)

        part.patcher.set(reactor, "_doReadOrWrite", _doReadOrWrite)
    part.patcher.set(reactor, "addReader", add_reader_hook(reactor.addReader))
    shared_patch(part, tcp.Connection, "_dataReceived", _make_data_received)
    for selectable in list(reactor.getReaders()) + list(reactor.getWriters()):
        register(selectable)


def _reregister_asyncio(reactor: Any, part: Part, hook: Any) -> None:
    """Install ``hook`` as ``_readOrWrite`` and re-add existing descriptors.

    asyncio keeps the bound ``_readOrWrite`` in each handle, so descriptors
    added before (or after, on restore) must be added again to switch.
    """

    def cycle() -> None:
        for reader in list(reactor._readers):
            reactor.removeReader(reader)
            reactor.addReader(reader)
        for writer in list(reactor._writers):
            reactor.removeWriter(writer)
            reactor.addWriter(writer)

    part.patcher.on_restore(cycle)  # runs after _readOrWrite is restored
    part.patcher.set(reactor, "_readOrWrite", hook)
    cycle()
