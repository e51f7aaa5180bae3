"""The live protocol: newline-delimited JSON, server to viewer only.

Every message is one JSON object on one line, with a ``type``:

``hello`` (first, once)
    ``protocol`` (version), ``meta`` (the trace's meta), ``snapshot`` (now),
    ``events`` (the latest events, oldest first: recent history, not all of
    it), ``interval_ms`` (time between updates).
``update`` (every ``interval_ms`` while the program runs)
    ``events`` (new since the previous update, oldest first, at most a batch),
    ``omitted`` (new events left out of this batch: only the newest are sent),
    ``snapshot`` (now).
``drops`` (to one viewer, before the next update it gets after a stall)
    ``events``: how many events this viewer lost in all because it read too
    slowly (updates thrown away instead of queued).
``end`` (last)
    ``reason``: why the stream ends (``"stopped"``: the reactor stopped,
    ``"exit"``: the process is exiting).
``trace``, ``trace-events``..., ``trace-end`` (to one viewer, after it sent ``save``)
    The whole recording, as a trace file holds it: ``trace`` has ``meta``,
    ``snapshot`` and ``dropped``; each ``trace-events`` up to
    :data:`TRACE_BATCH` ``events``, oldest first; ``trace-end`` closes it, or
    says ``error``.

A viewer sends one request, and only this one: ``{"type": "save"}`` on a
line, answered if the viewer runs as the program's user (or root). Anything
else a viewer sends is read and ignored. Snapshots and events have the JSON
form of the trace file (:meth:`Snapshot.to_dict`, :meth:`Event.to_dict`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Annotated, Any, Literal

import msgspec
import orjson

from reactortrace.core.events import Event
from reactortrace.core.printable import printable
from reactortrace.core.snapshot import Snapshot
from reactortrace.errors import ReactorTraceError
from reactortrace.formats import records

PROTOCOL = 1
HELLO = "hello"
UPDATE = "update"
DROPS = "drops"
END = "end"
TRACE = "trace"
TRACE_EVENTS = "trace-events"
TRACE_END = "trace-end"
TYPES = frozenset({HELLO, UPDATE, DROPS, END, TRACE, TRACE_EVENTS, TRACE_END})
#: What a viewer may ask for.
SAVE = b'{"type": "save"}\n'
#: Events per ``trace-events`` message (well under :data:`MAX_LINE`).
TRACE_BATCH = 5_000
#: Bytes a viewer may send on one line (a request is a few bytes).
MAX_REQUEST = 4_096
#: A longer line is a broken stream, not a message (updates carry at most a
#: batch of events: far less).
MAX_LINE = 16 * 1024 * 1024


class ProtocolError(ReactorTraceError):
    """The server sent something that is not this protocol."""


def _fallback(value: Any) -> Any:
    return str(value)


_dumps = functools.partial(orjson.dumps, default=_fallback)


def encode(message: dict[str, Any]) -> bytes:
    """One message as a line of bytes (events and snapshots may be dataclasses)."""
    return _dumps(message) + b"\n"


def hello(
    meta: dict[str, Any],
    snapshot: Snapshot,
    events: Iterable[Event],
    interval: float,
) -> bytes:
    """The first message a viewer gets."""
    return encode(
        {
            "type": HELLO,
            "protocol": PROTOCOL,
            "meta": meta,
            "snapshot": snapshot,
            "events": list(events),
            "interval_ms": round(interval * 1000),
        }
    )


def update(events: list[Event], omitted: int, snapshot: Snapshot) -> bytes:
    """One periodic update (the same bytes go to every viewer)."""
    return encode({"type": UPDATE, "events": events, "omitted": omitted, "snapshot": snapshot})


def drops(events: int) -> bytes:
    """Tell one viewer how many events it lost by reading too slowly."""
    return encode({"type": DROPS, "events": events})


def end(reason: str) -> bytes:
    """The last message."""
    return encode({"type": END, "reason": reason})


def trace_parts(trace: Any) -> Iterable[bytes]:
    """A whole recording (a :class:`~reactortrace.core.trace.Trace`) as messages."""
    yield encode({"type": TRACE, "meta": trace.meta, "snapshot": trace.snapshot,
                  "dropped": trace.dropped})
    events = trace.events
    for start in range(0, len(events), TRACE_BATCH):
        yield encode({"type": TRACE_EVENTS, "events": events[start : start + TRACE_BATCH]})
    yield encode({"type": TRACE_END})


def trace_failed(reason: str) -> bytes:
    """The recording could not be sent."""
    return encode({"type": TRACE_END, "error": reason})


_Count = Annotated[int, msgspec.Meta(ge=0, le=records.MAX_COUNT)]


class _Fields(msgspec.Struct):
    """The fields of a message other than its events, snapshot and meta, as they must be."""

    type: Literal["hello", "update", "drops", "end", "trace", "trace-events", "trace-end"]
    protocol: int | None = None
    interval_ms: Annotated[int, msgspec.Meta(ge=1, le=3_600_000)] | None = None
    omitted: _Count | None = None
    events: _Count | list[Any] | None = None
    reason: str | None = None
    meta: dict[str, Any] | None = None
    dropped: _Count | None = None
    error: str | None = None


def decode(line: bytes) -> dict[str, Any]:
    """One line back into a message; :class:`ProtocolError` if it is not one."""
    try:
        message = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise _bad("not JSON", exc) from None
    if not isinstance(message, dict) or message.get("type") not in TYPES:
        raise ProtocolError("live stream: not a reactortrace message")
    try:
        fields = msgspec.convert(message, _Fields)
        if fields.meta is not None:
            message["meta"] = records.check_meta(fields.meta)
    except msgspec.ValidationError as exc:
        raise _bad(f"bad {message['type']} message", exc) from None
    return message


def _bad(what: str, exc: Exception) -> ProtocolError:
    """One printable line of at most 300 characters: the server may be anyone."""
    text = printable(f"live stream: {what} ({exc})")
    return ProtocolError(text if len(text) <= 300 else text[:297] + "...")


def read_snapshot(message: dict[str, Any]) -> Snapshot:
    """The snapshot of a hello or update message."""
    try:
        snapshot = records.snapshot_from_dict(message.get("snapshot"))
    except msgspec.ValidationError as exc:
        raise _bad("bad snapshot", exc) from None
    if snapshot is None:
        raise ProtocolError("live stream: no snapshot")
    return snapshot


def read_events(message: dict[str, Any]) -> list[Event]:
    """The events of a hello or update message, checked as a trace file's are."""
    strings: dict[str, str] = {}
    try:
        return [records.event_from_dict(item, strings) for item in message.get("events") or ()]
    except msgspec.ValidationError as exc:
        raise _bad("bad event", exc) from None


class LineSplitter:
    """Cuts a byte stream into lines; keeps the unfinished tail for the next chunk."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self.max_line = max_line
        self._parts: list[bytes] = []
        self._size = 0

    def feed(self, data: bytes) -> list[bytes]:
        """The complete lines in ``data`` (with what was left before)."""
        if b"\n" not in data:
            if data:
                self._parts.append(data)
                self._size += len(data)
                self._check()
            return []
        lines = data.split(b"\n")
        if self._parts:
            lines[0] = b"".join(self._parts) + lines[0]
        tail = lines.pop()
        self._parts = [tail] if tail else []
        self._size = len(tail)
        self._check()
        return lines

    @property
    def pending(self) -> int:
        """Bytes of an unfinished line."""
        return self._size

    def _check(self) -> None:
        if self._size > self.max_line:
            raise ProtocolError("live stream: message too long")
