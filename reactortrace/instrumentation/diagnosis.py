"""Event sources for diagnosis: backpressure, half-closed connections, Deferreds.

These fire rarely (a producer paused, a connection half closed), so their
hooks can afford a little work; tracking every Deferred is an option. They are class-level patches shared by
every tracer: transports are routed to their recorder through ``io.LIVE_CONNS``,
Deferreds to the newest active recorder.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import abstract, defer, tcp

from . import io, pending, specs
from . import records as R
from .recorder import Part, Recorder
from .rewrite import rewrite
from .shared import current, disguise, shared_patch
from .sites import site_of

PART = "diagnosis"


def _conn_record(selectable: Any, code: int, value: Any) -> None:
    """Append a PAUSE/RESUME/HALFCLOSE record for a known connection; never raises."""
    entry = io.LIVE_CONNS.get(id(selectable))
    if entry is not None:
        entry[0].emit(PART, code, entry[1], value)


def _paused(selectable: Any) -> None:
    _conn_record(selectable, R.PAUSE, io.pending_out(selectable))


def _make_pause_hook(original: Any) -> Any:
    """``_maybePauseProducer`` with a record after ``self.producerPaused = True``."""
    return rewrite(original, specs.maybe_pause_producer(), {"_rt_paused": _paused})


def _make_read_half_close(original: Any) -> Any:
    def readConnectionLost(self: Any, reason: Any) -> Any:
        result = original(self, reason)
        if id(self) in io.LIVE_CONNS:  # still open: the protocol kept writing
            _conn_record(self, R.HALFCLOSE, "read")
        return result

    return disguise(readConnectionLost, original)


def _make_write_half_close(original: Any) -> Any:
    def _closeWriteConnection(self: Any) -> Any:
        result = original(self)
        if id(self) in io.LIVE_CONNS:
            _conn_record(self, R.HALFCLOSE, "write")
        return result

    return disguise(_closeWriteConnection, original)


# -- Deferreds --------------------------------------------------------------


def _deferred_record(code: int, *values: Any) -> None:
    rec = current()
    if rec is not None:
        rec.emit(PART, code, *values)


# Where a Deferred is made tells what it waits on.
_WAITS = {
    "deferLater": "timer",
    "deferToThreadPool": "thread",
    "deferToThread": "thread",
    "callFromThread": "thread",
    "getHostByName": "thread",
    "connect": "connection",
    "request": "connection",
    "_cancellableInlineCallbacks": "deferred",
    "gatherResults": "deferred",
    "DeferredList": "deferred",
}


def _deferred_made(deferred: Any, frame: Any) -> None:
    """A Deferred was made by the code of ``frame`` (born-fired ones never come
    here): record where, and what its maker's name says it waits on."""
    rec = current()
    if rec is None:
        return
    try:
        waits = None
        probe: Any = frame
        for _ in range(6):
            if probe is None:
                break
            waits = _WAITS.get(probe.f_code.co_name)
            if waits is not None:
                break
            probe = probe.f_back
        code, offset = site_of(frame)
        _deferred_record(R.DEFERRED_NEW, id(deferred), code, offset, waits)
    except Exception as exc:  # noqa: BLE001
        part = rec.parts.get(PART)
        if part is not None:
            part.fail(exc)


def _make_tracked_start(original: Any) -> Any:
    def _startRunCallbacks(self: Any, result: object) -> None:
        _deferred_record(R.DEFERRED_FIRED, id(self))
        return original(self, result)

    return disguise(_startRunCallbacks, original)


def install(rec: Recorder, track_deferreds: bool) -> Part:
    """Backpressure and half-close records (and, if asked, one record per
    Deferred made and fired)."""
    part = rec.part(PART)
    shared_patch(part, abstract.FileDescriptor, "_maybePauseProducer", _make_pause_hook)
    shared_patch(part, tcp.Connection, "readConnectionLost", _make_read_half_close)
    shared_patch(part, tcp.Connection, "_closeWriteConnection", _make_write_half_close)
    if track_deferreds:
        pending.follow(part, _deferred_made)  # Deferred.__init__ is hooked there, once
        shared_patch(part, defer.Deferred, "_startRunCallbacks", _make_tracked_start)
    return part


