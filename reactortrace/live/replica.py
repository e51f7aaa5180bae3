"""The viewer's replica of a traced program's state, built from its raw records.

The program sends its records as they are (see :mod:`.protocol`); a
:class:`Replica` resolves them with what the program said of each object once
(:class:`~reactortrace.instrumentation.capture.Facts`), feeds its own
:class:`~reactortrace.core.state.LoopState`, and makes the snapshots the UI
shows: the same events and aggregates the program would make of the same
records, made here, off the program's interpreter.

The server may be anyone: every field is checked, and a record that does not
decode is a :class:`~.protocol.ProtocolError`, never a traceback.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import struct
from typing import Annotated, Any

import msgspec

from reactortrace.core.diagnose import Thresholds
from reactortrace.core.events import Event
from reactortrace.core.printable import printable
from reactortrace.core.snapshot import Snapshot
from reactortrace.core.state import LoopState
from reactortrace.formats import records as trace_records
from reactortrace.instrumentation.capture import Facts
from reactortrace.instrumentation.capture_writer import TableResolver
from reactortrace.instrumentation.records import PACKED
from reactortrace.live.protocol import UPDATE_RECORDS, ProtocolError, _bad

_SIZES = {code: layout.size for code, layout in PACKED.items()}
_Count = Annotated[int, msgspec.Meta(ge=0, le=trace_records.MAX_COUNT)]
_Ref = Annotated[int, msgspec.Meta(ge=0, le=2**32 - 1)]
_Scalar = str | int | float | None


class _Fact(msgspec.Struct, array_like=True):
    ref: _Ref
    name: str
    cls: str | None
    code: tuple[str, int, list[int], list[int]] | None
    internal: bool
    definition: str | None
    raw: _Scalar


class _Records(msgspec.Struct):
    first: _Count
    count: Annotated[int, msgspec.Meta(ge=1, le=UPDATE_RECORDS)]
    packed: str
    rare: list[tuple[_Count, Any]]
    facts: list[_Fact]
    lost: _Count = 0


class _Clock(msgspec.Struct):
    start: float
    start_wall: float
    before: str | None = None


class Replica:
    """What a viewer knows of a program, from the hello on; see the module doc."""

    def __init__(self, hello: dict[str, Any]) -> None:
        try:
            clock = msgspec.convert(hello.get("clock"), _Clock)
            thresholds = msgspec.convert(hello.get("thresholds") or {}, Thresholds)
        except msgspec.ValidationError as exc:
            raise _bad("bad hello", exc) from None
        before = printable(clock.before) if clock.before is not None else None
        self.resolver = TableResolver(clock.start, clock.start_wall, before)
        self.state = LoopState(thresholds=thresholds)
        #: The sequence number of the next record expected.
        self.next: int = hello.get("first") or 0
        #: Records up to this one were recorded before the viewer came: history.
        self.history_last: int = hello.get("last", -1)
        # Records that left the ring before anyone here saw them still count.
        self.state.events = self.next

    @property
    def caught_up(self) -> bool:
        """Whether every record the hello announced has come."""
        return self.next > self.history_last

    def take(self, message: dict[str, Any]) -> tuple[list[Event], int]:
        """The events of an update's records, fed to the state, and how many
        records the update says were lost before them."""
        if "first" not in message:
            return [], int(message.get("lost") or 0)
        try:
            part = msgspec.convert(message, _Records)
        except msgspec.ValidationError as exc:
            raise _bad("bad records", exc) from None
        if part.first < self.next:
            raise ProtocolError("live stream: records out of order")
        lost = part.first - self.next
        items = self._items(part)
        resolver = self.resolver
        resolver.learn({fact.ref: _facts(fact) for fact in part.facts})
        try:
            events = list(resolver.take(items, part.first))
        except (ValueError, TypeError, KeyError, IndexError, OverflowError,
                AttributeError, struct.error) as exc:
            raise _bad("bad records", exc) from None
        self.state.feed(events)
        self.next = part.first + part.count
        return events, lost

    def _items(self, part: _Records) -> list[Any]:
        """The update's records in order: packed ones as bytes, rare ones as event fields."""
        try:
            packed = base64.b64decode(part.packed, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _bad("bad records", exc) from None
        packed_items = _split(packed)
        items: list[Any] = []
        taken = 0
        strings: dict[str, str] = {}
        for seq, raw in part.rare:
            before = seq - part.first - len(items)  # packed records before this one
            if before < 0 or taken + before > len(packed_items):
                raise ProtocolError("live stream: records do not add up")
            items.extend(packed_items[taken : taken + before])
            taken += before
            if raw is None:
                items.append(None)
                continue
            try:
                event = trace_records.event_from_dict(raw, strings)
            except msgspec.ValidationError as exc:
                raise _bad("bad event", exc) from None
            items.append((seq, event.ts, event.dur, event.kind, event.name, event.args))
        items.extend(packed_items[taken:])
        if len(items) != part.count:
            raise ProtocolError("live stream: records do not add up")
        return items

    def snapshot(self, program: Snapshot) -> Snapshot:
        """The snapshot now: this replica's aggregates, with what only the
        program knows (its clock, its ring's losses, a block, pending Deferreds)."""
        state = self.state
        state.dropped = program.dropped
        snapshot = state.snapshot(program.ts, program.blocked)
        if program.deferreds is not None:
            snapshot = dataclasses.replace(snapshot, deferreds=program.deferreds)
        return snapshot


def _split(packed: bytes) -> list[Any]:
    """Packed records joined end to end, apart again: each ends with its code,
    which tells its size, so they are read from the end."""
    out: list[bytes] = []
    end = len(packed)
    sizes = _SIZES
    while end:
        size = sizes.get(packed[end - 1], 0)
        if not size or size > end:
            raise ProtocolError("live stream: a record of no known layout")
        out.append(packed[end - size : end])
        end -= size
    out.reverse()
    return out


def _facts(fact: _Fact) -> Facts:
    code = None
    if fact.code is not None:
        filename, first_line, offsets, lines = fact.code
        if len(offsets) != len(lines):
            raise ProtocolError("live stream: bad code lines")
        code = (printable(filename), first_line, dict(zip(offsets, lines)))
    raw = printable(fact.raw) if type(fact.raw) is str else fact.raw
    return Facts(printable(fact.name), _maybe(fact.cls), code, fact.internal,
                 _maybe(fact.definition), raw)


def _maybe(text: str | None) -> str | None:
    return printable(text) if text is not None else None
