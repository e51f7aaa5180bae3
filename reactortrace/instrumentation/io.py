"""I/O: readiness dispatched to selectables, and connections opening and closing.

On epoll/poll/select the dispatch loop lives in ``doIteration``, which ``loop``
recompiles with each dispatch timed by the hooks made here. asyncio keeps a
bound ``_readOrWrite`` in each of its handles, so there it is wrapped on the
instance and existing descriptors are registered again. Connections are
registered when they start reading (``addReader``) or at their first dispatch,
and their close is seen in the transport class's ``connectionLost``, which
every close path reaches. Byte counts come from ``tcp.Connection``, through
which TCP and UNIX streams read and write.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from typing import Any

from twisted.internet import abstract, endpoints, tcp

from . import records as R
from . import specs
from .owners import MADE_AT, owner_site, recorded_site
from .recorder import Part, Recorder
from .rewrite import rewrite
from .shared import ACTIVE, disguise, shared_patch
from .sites import caller_site, site_of

#: id(selectable) -> (recorder, connection id, selectable, fd) for open
#: connections. The entry keeps the selectable alive, so its id stays its own,
#: until its connectionLost or the end of tracing.
LIVE_CONNS: dict[int, tuple[Recorder, int, Any, int]] = {}
#: fd -> the same entries, newest per fd: the one lookup the epoll and poll
#: dispatch loop makes (by the small int it has at hand); an entry whose
#: selectable is not the one dispatched is stale.
FDS: dict[int, tuple[Recorder, int, Any, int]] = {}
#: id(selectable) of clients registered before they had a protocol (their
#: opening is recorded once they have one); the value keeps their connector
#: alive, so the id stays theirs.
UNNAMED: dict[int, Any] = {}
#: Reactor methods that make a port or a connector, sited at their caller.
MAKERS = (
    "listenTCP", "connectTCP", "listenUNIX", "connectUNIX", "listenUDP",
    "listenSSL", "connectSSL", "listenUNIXDatagram", "connectUNIXDatagram",
)
#: Bytes read and written during the current dispatch, and bytes its last
#: write left in the buffer: 0 once doWrite emptied it, -1 for "not known
#: yet, ask the transport" (reactor thread only).
BYTES = [0, 0, -1]
_conn_ids = itertools.count(1)
#: The recorder part that follows connections and counts bytes.
IO_PART = "io"
# Attributes by which Twisted's wrapping protocols (TLS, endpoints, HTTP's
# protocol switcher) lead to the application's protocol.
_WRAPPER_ATTRS = ("wrappedProtocol", "_wrappedProtocol", "_channel")

IoHook = Callable[[Any, Any, Any, float, "BaseException | None"], None]


def pending_out(selectable: Any) -> int:
    """Bytes a FileDescriptor still holds to write."""
    try:
        return len(selectable.dataBuffer) - selectable.offset + selectable._tempDataLen
    except (AttributeError, TypeError):
        return 0


def _protocol_classes(selectable: Any) -> tuple[Any, bool]:
    """The application's protocol class (a listening port's: its factory's), and
    whether TLS sits in between."""
    protocol = getattr(selectable, "protocol", None)
    if protocol is None:  # process pipes lead to the ProcessProtocol
        protocol = getattr(getattr(selectable, "proc", None), "proto", None)
    factory = getattr(selectable, "factory", None)
    if protocol is None and factory is not None and not hasattr(selectable, "connector"):
        return _factory_class(factory)  # a listening port
    tls = False
    for _ in range(5):
        if protocol is None:
            break
        if any(c.__name__ == "TLSMemoryBIOProtocol" for c in type(protocol).__mro__):
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


def _factory_class(factory: Any) -> tuple[Any, bool]:
    """A listening port's factory class, under wrappers (TLS, policies), or the
    protocol a plain Twisted factory makes; and whether TLS is one of the wrappers."""
    tls = False
    for _ in range(5):
        inner = getattr(factory, "wrappedFactory", None)
        if inner is None:
            break
        tls = tls or type(factory).__name__ == "TLSMemoryBIOFactory"
        factory = inner
    if factory is None:
        return None, tls
    made = getattr(factory, "protocol", None)
    if type(factory).__module__ == "twisted.internet.protocol" and isinstance(made, type):
        return made, tls  # Factory.forProtocol(P): P says more than "Factory"
    return type(factory), tls


def _address(selectable: Any, method: str) -> Any:
    try:
        return getattr(selectable, method)()
    except Exception:  # noqa: BLE001 - ports and pipes may have no such address
        return None


def _fileno(selectable: Any) -> int:
    try:
        return int(selectable.fileno())
    except Exception:  # noqa: BLE001
        return -1


class Connections:
    """Gives selectables stable ids and records their opening and closing."""

    def __init__(self, rec: Recorder, part: Part) -> None:
        self.rec = rec
        self.part = part
        self.patched: set[type] = set()

    def register(self, selectable: Any) -> int:
        """The connection id of ``selectable``, recording its opening if new.

        A selectable that is already closed gets id 0 and no record. A client
        still connecting has no protocol yet: its opening is recorded once it
        has one (when it starts reading) or when it closes, whichever comes
        first.
        """
        key = id(selectable)
        entry = LIVE_CONNS.get(key)
        if entry is not None:
            return entry[1]
        if not self.part.on:
            return 0
        try:
            return self._new(selectable, key)
        except Exception as exc:  # noqa: BLE001 - never raise into the program
            self.part.fail(exc)
            return 0

    def _new(self, selectable: Any, key: int) -> int:
        fd = _fileno(selectable)
        if fd == -1 or getattr(selectable, "disconnected", False):
            return 0
        conn = next(_conn_ids)
        LIVE_CONNS[key] = FDS[fd] = (self.rec, conn, selectable, fd)
        self._watch_close(type(selectable))
        if getattr(selectable, "protocol", True) is None:
            UNNAMED[key] = selectable.connector if hasattr(selectable, "connector") else None
        else:
            announce(self.rec, selectable, conn)
        return conn

    def _watch_close(self, cls: type) -> None:
        if cls in self.patched or not hasattr(cls, "connectionLost"):
            return
        self.patched.add(cls)
        shared_patch(self.part, cls, "connectionLost", _make_connection_lost)


def announce(rec: Recorder, selectable: Any, conn: int) -> None:
    """Record the opening of connection ``conn`` as it looks now."""
    protocol, tls = _protocol_classes(selectable)
    code, offset = made_at(selectable)
    rec.emit(
        IO_PART, R.OPEN, conn, _fileno(selectable), type(selectable), protocol,
        _address(selectable, "getHost"), _address(selectable, "getPeer"), tls,
        getattr(selectable, "bufferSize", None), code, offset,
    )


def made_at(selectable: Any) -> tuple[Any, int]:
    """Where the user's code made ``selectable``: its own ``listenTCP`` (or other
    maker) line, its connector's, its port's (an accepted connection), else
    the nearest user frame now, unless that is past the reactor's loop."""
    found = recorded_site(selectable)
    if found is not None:
        return found if found[0] is not None else (None, -1)
    return caller_site(sys._getframe(2))


def _site(frame: Any) -> tuple[Any, int]:
    """:func:`site_of` with ``-1`` for an unknown offset."""
    code, offset = site_of(frame)
    return code, -1 if offset is None else offset


def _make_endpoint_connect(original: Any) -> Any:
    """``HostnameEndpoint.connect`` noting the user's line, for the connection it
    makes once the name is resolved."""

    def connect(self: Any, protocolFactory: Any) -> Any:
        try:
            code, offset = _site(sys._getframe(1))
            if code is not None:
                MADE_AT[self] = (code, offset)
        except Exception as exc:  # noqa: BLE001 - never raise into the program
            _io_failed(exc)
        return original(self, protocolFactory)

    return disguise(connect, original)


def _make_maker(original: Any, part: Part, target: list[Any]) -> Any:
    """A reactor method that makes a port or connector, noting the user's line."""

    def make(self: Any, *args: Any, **kw: Any) -> Any:
        result = original(self, *args, **kw)
        if self is target[0] and part.on:
            try:
                frame = sys._getframe(1)
                code, offset = caller_site(frame)
                if code is None:  # Twisted made it later, on behalf of an endpoint?
                    owner = owner_site(frame)
                    code, offset = owner if owner is not None else _site(frame)
                if code is not None:
                    MADE_AT[result] = (code, offset)
            except TypeError:
                pass  # a result that cannot be weakly referenced: no site for it
            except Exception as exc:  # noqa: BLE001 - never raise into the program
                part.fail(exc)
        return result

    return disguise(make, original)


def _make_connection_lost(original: Any) -> Any:
    def connectionLost(self: Any, *args: Any, **kw: Any) -> Any:
        entry = LIVE_CONNS.pop(id(self), None)
        if entry is not None:
            rec, conn, _, fd = entry
            if FDS.get(fd) is entry:
                del FDS[fd]
            if UNNAMED.pop(id(self), False) is not False:
                announce(rec, self, conn)  # a client that never connected
            reason = args[0] if args else kw.get("reason")
            rec.emit(IO_PART, R.CLOSE, conn, getattr(reason, "type", None))
        return original(self, *args, **kw)

    return disguise(connectionLost, original)


def _make_data_received(original: Any) -> Any:
    """``_dataReceived`` recompiled to count bytes first (no extra frame)."""
    return rewrite(original, [], {"_rt_bytes": BYTES, "_rt_len": len},
                   prologue=specs.DATA_RECEIVED)


def _producer_resumed(selectable: Any) -> None:
    entry = LIVE_CONNS.get(id(selectable))
    if entry is not None:
        entry[0].emit(IO_PART, R.RESUME, entry[1], pending_out(selectable))


def _io_failed(exc: BaseException) -> None:
    """A class-level io hook (shared: counting bytes, siting endpoints) failed: io is off
    in every tracer."""
    for rec in list(ACTIVE):
        rec.fail(IO_PART, exc)


def _make_do_write(original: Any) -> Any:
    """``FileDescriptor.doWrite`` recompiled: count bytes written and still
    buffered, note resumes."""
    return rewrite(
        original,
        specs.do_write(),
        {"_rt_bytes": BYTES, "_rt_resumed": _producer_resumed, "_rt_failed": _io_failed},
    )


def make_hook(rec: Recorder, reactor: Any, conns: Connections, part: Part) -> IoHook:
    """The hook timing one dispatch: ``hook(selectable, how, entry, t0, exc)``.

    ``how`` is what the reactor family passes: a poll event mask (epoll,
    poll), ``"doRead"``/``"doWrite"`` (select) or a bool ``read`` (asyncio).
    It records into ``part`` (the loop's); connections are ``conns``' (io).
    """
    append, clock = rec.append, rec.clock
    counts = BYTES
    register = conns.register
    pack = R.IO_FMT.pack
    poll_in = getattr(reactor, "_POLL_IN", None)
    if poll_in is not None:
        reading: Callable[[Any], bool] = lambda how: bool(how & poll_in)  # noqa: E731
    else:
        reading = lambda how: how is True or how == "doRead"  # noqa: E731

    def dispatched(
        selectable: Any, how: Any, entry: Any, t0: float, exc: BaseException | None
    ) -> None:
        """``entry``: the connection's LIVE_CONNS or FDS entry, looked up
        before the dispatch (which may close it)."""
        t1 = clock()
        if not part.on or rec.target[0] is None:
            return
        if entry is not None and entry[2] is not selectable:
            entry = None  # a stale FDS entry: its fd was reused
        try:
            conn = entry[1] if entry is not None else register(selectable)
            if reading(how):
                append(pack(t0, t1, counts[0], -1, conn, R.READ))
                if counts[1]:  # epoll and poll read and write in one dispatch
                    buffered = counts[2] if counts[2] >= 0 else pending_out(selectable)
                    append(pack(t1, t1, counts[1], buffered, conn, R.WRITE))
            else:
                buffered = counts[2] if counts[2] >= 0 else pending_out(selectable)
                append(pack(t0, t1, counts[1], buffered, conn, R.WRITE))
            counts[0] = counts[1] = 0
            counts[2] = -1
        except Exception as error:  # noqa: BLE001 - never raise into the program
            part.fail(error)

    return dispatched


def install(rec: Recorder, reactor: Any, reactor_class: Any, conns: Connections) -> None:
    """Connections of ``reactor`` (opened, closed) and the bytes they move."""
    part = conns.part
    target = rec.target
    live = LIVE_CONNS
    register = conns.register

    def add_reader_hook(original: Any) -> Any:
        def addReader(self: Any, reader: Any) -> Any:
            result = original(self, reader)
            if self is target[0] and part.on:
                key = id(reader)
                try:
                    if key not in live:
                        register(reader)
                    elif UNNAMED.pop(key, False) is not False:
                        announce(rec, reader, live[key][1])  # a client, connected
                except Exception as exc:  # noqa: BLE001
                    part.fail(exc)
            return result

        return disguise(addReader, original)

    part.patcher.set(reactor_class, "addReader", add_reader_hook(reactor_class.addReader))
    for name in MAKERS:
        original = getattr(reactor_class, name, None)
        if original is not None:
            part.patcher.set(reactor_class, name, _make_maker(original, part, target))
    shared_patch(part, endpoints.HostnameEndpoint, "connect", _make_endpoint_connect)
    shared_patch(part, tcp.Connection, "_dataReceived", _make_data_received)
    shared_patch(part, abstract.FileDescriptor, "doWrite", _make_do_write)
    for selectable in list(reactor.getReaders()) + list(reactor.getWriters()):
        try:  # made before we came: where is not known (not the line instrumenting)
            MADE_AT[selectable] = (None, -1)
        except TypeError:
            pass
        register(selectable)


def install_asyncio(part: Part, reactor: Any, reactor_class: Any, dispatched: IoHook) -> None:
    """asyncio: wrap ``_readOrWrite`` and add existing descriptors anew.

    asyncio keeps the bound ``_readOrWrite`` in each handle, so descriptors
    added before (or after, on restore) must be added again to switch.
    """
    original = reactor_class._readOrWrite
    clock = part.recorder.clock
    target = part.recorder.target
    live = LIVE_CONNS.get

    def _readOrWrite(self: Any, selectable: Any, read: bool) -> Any:
        if self is not target[0]:
            return original(self, selectable, read)
        entry = live(id(selectable))
        _rt_t0 = clock()  # named so the watchdog can read when this began
        try:
            result = original(self, selectable, read)
        except BaseException as exc:
            dispatched(selectable, read, entry, _rt_t0, exc)
            raise
        dispatched(selectable, read, entry, _rt_t0, None)
        return result

    def cycle() -> None:
        for reader in list(reactor._readers):
            reactor.removeReader(reader)
            reactor.addReader(reader)
        for writer in list(reactor._writers):
            reactor.removeWriter(writer)
            reactor.addWriter(writer)

    part.patcher.on_restore(cycle)  # runs after _readOrWrite is restored
    part.patcher.set(reactor_class, "_readOrWrite", disguise(_readOrWrite, original))
    cycle()
