"""The live protocol: newline-delimited JSON, server to viewer only.

The program sends its raw records, and the viewer resolves them and keeps the
aggregates (:mod:`reactortrace.live.replica`): watching costs the program
little more than recording. Every message is one JSON object on one line,
with a ``type``:

``hello`` (first, once)
    ``protocol`` (version), ``meta`` (the trace's meta), ``interval_ms``
    (time between updates), ``clock`` (``start``, ``start_wall``, ``before``:
    what turns a record's times and sites into an event's), ``thresholds``
    (when findings become warnings), ``first`` and ``last`` (the sequence
    numbers of the oldest record the program still holds and of the newest
    one now: the updates up to ``last`` are history, not news).
``update`` (from the oldest record held on, then every ``interval_ms``)
    ``first`` and ``count``: the records numbered ``first`` .. ``first +
    count - 1``, every one of them, in order; ``packed``: the packed ones
    among them (base64 of the program's ``struct`` layouts, joined; each ends
    with its code byte, which tells its size); ``rare``: ``[seq, event]`` for
    the others, resolved by the program (``null``: no event); ``facts``:
    ``[ref, name, class, code, internal, definition, raw]`` for each object
    the records name that this viewer has not been told of (``code``:
    ``[file, first line, offsets, lines]``); ``lost``: records that left the
    program's ring before this viewer got them; ``snapshot`` (in the last
    update of an interval): what only the program knows now, as a snapshot
    (``ts``, ``dropped``, ``blocked``, ``deferreds``).
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

import base64
from collections.abc import Iterable
from typing import Annotated, Any, Literal

import msgspec
import orjson

from reactortrace.core.encoding import dumps
from reactortrace.core.events import Event
from reactortrace.core.printable import printable
from reactortrace.core.snapshot import Snapshot
from reactortrace.errors import ReactorTraceError
from reactortrace.formats import records

PROTOCOL = 2
HELLO = "hello"
UPDATE = "update"
END = "end"
TRACE = "trace"
TRACE_EVENTS = "trace-events"
TRACE_END = "trace-end"
TYPES = frozenset({HELLO, UPDATE, END, TRACE, TRACE_EVENTS, TRACE_END})
#: What a viewer may ask for.
SAVE = b'{"type": "save"}\n'
#: Events per ``trace-events`` message (well under :data:`MAX_LINE`).
TRACE_BATCH = 5_000
#: Records per ``update`` at most (a few MB at most: well under :data:`MAX_LINE`).
UPDATE_RECORDS = 20_000
#: Bytes a viewer may send on one line (a request is a few bytes).
MAX_REQUEST = 4_096
#: A longer line is a broken stream, not a message.
MAX_LINE = 16 * 1024 * 1024


class ProtocolError(ReactorTraceError):
    """The server sent something that is not this protocol."""


def encode(message: dict[str, Any]) -> bytes:
    """One message as a line of bytes (events may be structs, snapshots dataclasses)."""
    return dumps(message) + b"\n"


def hello(meta: dict[str, Any], interval: float, clock: dict[str, Any], thresholds: Any,
          first: int, last: int) -> bytes:
    """The first message a viewer gets."""
    return encode({
        "type": HELLO,
        "protocol": PROTOCOL,
        "meta": meta,
        "interval_ms": round(interval * 1000),
        "clock": clock,
        "thresholds": thresholds,
        "first": first,
        "last": last,
    })


def update(shipment: Any, facts: Iterable[tuple[int, Any]], snapshot: Snapshot | None,
           lost: int) -> bytes:
    """Records (a :class:`~reactortrace.instrumentation.shipping.Shipment`, or
    None for none), the facts a viewer lacks as ``(ref, Facts)``, and the
    program's part of the snapshot."""
    message: dict[str, Any] = {"type": UPDATE, "lost": lost}
    if shipment is not None:
        message.update(
            first=shipment.first,
            count=shipment.size,
            packed=base64.b64encode(shipment.packed).decode("ascii"),
            rare=shipment.rare,
            facts=[_fact(ref, known) for ref, known in facts],
        )
    if snapshot is not None:
        message["snapshot"] = _program_part(snapshot)
    return encode(message)


def _program_part(snapshot: Snapshot) -> dict[str, Any]:
    """The fields of ``snapshot`` that only the program knows, and only those
    that say something (the others are the viewer's, or their defaults)."""
    part: dict[str, Any] = {"ts": snapshot.ts, "dropped": snapshot.dropped}
    if snapshot.blocked is not None:
        part["blocked"] = snapshot.blocked
    if snapshot.deferreds is not None:
        part["deferreds"] = snapshot.deferreds
    return part


def _fact(ref: int, known: Any) -> list[Any]:
    code = known.code
    if code is not None:
        filename, first_line, lines = code
        code = [filename, first_line, list(lines), list(lines.values())]
    return [ref, known.name, known.cls, code, known.internal, known.definition, known.raw]


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

    type: Literal["hello", "update", "end", "trace", "trace-events", "trace-end"]
    protocol: int | None = None
    interval_ms: Annotated[int, msgspec.Meta(ge=1, le=3_600_000)] | None = None
    events: list[Any] | None = None
    reason: str | None = None
    meta: dict[str, Any] | None = None
    dropped: _Count | None = None
    error: str | None = None
    first: _Count | None = None
    last: Annotated[int, msgspec.Meta(ge=-1, le=records.MAX_COUNT)] | None = None
    lost: _Count | None = None


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
