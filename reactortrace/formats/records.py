"""The records of a trace file as types, so that decoding them checks every field.

A trace may come from anywhere (copied from another machine, cut short,
crafted): each record is decoded by :mod:`msgspec` straight into the types
below, which say what every field of the schema (:mod:`.spec`) holds and the
range of each number. A value of the wrong type, a number out of range or an
unknown event kind fails decoding with a message naming the field; keys the
schema does not know are dropped. The types stay inside this module:
:func:`to_event` and :func:`to_snapshot` turn records into the core model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict, Union

import msgspec

from ..core.events import ARGS, KINDS, Event
from ..core.printable import printable, printable_all, printable_args
from ..core.snapshot import (
    BlockedInfo,
    CallableStats,
    ConnectionInfo,
    DeferredInfo,
    LoopStats,
    PendingDeferreds,
    Snapshot,
    TimerInfo,
)

#: The largest time in a trace, ns (about 146 years): sums of times stay exact in 64 bits.
MAX_NS = 2**62
#: The largest count, size or id.
MAX_COUNT = 2**62

Ns = Annotated[int, msgspec.Meta(ge=0, le=MAX_NS)]
SignedNs = Annotated[int, msgspec.Meta(ge=-MAX_NS, le=MAX_NS)]
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
Id = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
Fd = Annotated[int, msgspec.Meta(ge=-1, le=2**31)]
Ratio = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Rate = Annotated[float, msgspec.Meta(ge=0.0, le=1e18)]
Seconds = Annotated[float, msgspec.Meta(ge=0.0, le=1e12)]


# -- args of each event kind (dicts in the model: TypedDicts here) ------------


class TimerArgs(TypedDict, total=False):
    timer: Id | None
    site: str | None
    delay: Ns | None
    late: SignedNs | None
    looping: bool | None
    error: str | None


class TimerScheduleArgs(TypedDict, total=False):
    timer: Id | None
    site: str | None
    delay: Ns | None
    due: SignedNs | None
    looping: bool | None
    own: bool | None


class TimerCancelArgs(TypedDict, total=False):
    timer: Id | None
    site: str | None


class TimerResetArgs(TypedDict, total=False):
    timer: Id | None
    site: str | None
    due: SignedNs | None


class IoReadArgs(TypedDict, total=False):
    conn: Id | None
    fd: Fd | None
    bytes: Count | None
    error: str | None


class IoWriteArgs(TypedDict, total=False):
    conn: Id | None
    fd: Fd | None
    bytes: Count | None
    buffered: Count | None
    error: str | None


class ConnOpenArgs(TypedDict, total=False):
    conn: Id | None
    fd: Fd | None
    type: str | None
    local: str | None
    peer: str | None
    transport: str | None
    buffer_size: Count | None
    site: str | None


class ConnCloseArgs(TypedDict, total=False):
    conn: Id | None
    reason: str | None


class ConnBufferArgs(TypedDict, total=False):
    conn: Id | None
    buffered: Count | None


class ConnHalfcloseArgs(TypedDict, total=False):
    conn: Id | None
    side: Literal["read", "write"] | None


class ThreadArgs(TypedDict, total=False):
    source: Literal["reactor", "pool"] | None
    wait: Ns | None
    thread: str | int | None
    error: str | None


class DeferredArgs(TypedDict, total=False):
    outcome: Literal["success", "failure"] | None
    failure: str | None
    errback: bool | None
    site: str | None
    line: str | int | None


class DeferredNewArgs(TypedDict, total=False):
    deferred: Id | str | None
    site: str | None
    waits: Literal["timer", "thread", "connection", "deferred"] | None


class DeferredIdArgs(TypedDict, total=False):
    deferred: Id | str | None


class DeferredErrorArgs(TypedDict, total=False):
    deferred: Id | str | None
    failure: str | None
    site: str | None


class SystemArgs(TypedDict, total=False):
    phase: str | None


class IterationArgs(TypedDict, total=False):
    wait: Ns | None


class SampledStack(TypedDict):
    stack: list[str]
    samples: Count


class SlowArgs(TypedDict, total=False):
    dispatch: str | None
    site: str | None
    function: str | None
    stack: str | list[str] | None
    blocked: Ns | None
    stacks: list[SampledStack] | None
    cpu: Ns | None
    gc: Ns | None
    made_at: str | None
    ongoing: bool | None


class WarningArgs(TypedDict, total=False):
    code: str | None
    message: str | None
    where: str | None
    subject: Id | str | None


# -- events: one record type per kind, told apart by "kind" ------------------


class _Event(msgspec.Struct, tag_field="kind"):
    seq: Count
    ts: Ns
    dur: Ns
    name: str
    #: Present on the lines of a JSON Lines trace.
    type: Literal["event"] | None = None


def _event_type(kind: str, args: Any) -> type[_Event]:
    """The record type of events of ``kind``, whose args are ``args``."""
    record_type: type[_Event] = msgspec.defstruct(  # type: ignore[assignment]
        "Event_" + kind.replace(".", "_"),
        [("args", args | None, None)],
        bases=(_Event,),
        tag=kind,
    )
    return record_type


_ARGS_TYPES: dict[str, Any] = {
    "timer": TimerArgs,
    "timer.schedule": TimerScheduleArgs,
    "timer.cancel": TimerCancelArgs,
    "timer.reset": TimerResetArgs,
    "io.read": IoReadArgs,
    "io.write": IoWriteArgs,
    "conn.open": ConnOpenArgs,
    "conn.close": ConnCloseArgs,
    "conn.pause": ConnBufferArgs,
    "conn.resume": ConnBufferArgs,
    "conn.halfclose": ConnHalfcloseArgs,
    "thread": ThreadArgs,
    "deferred": DeferredArgs,
    "deferred.new": DeferredNewArgs,
    "deferred.fired": DeferredIdArgs,
    "deferred.error": DeferredErrorArgs,
    "deferred.handled": DeferredIdArgs,
    "system": SystemArgs,
    "iteration": IterationArgs,
    "slow": SlowArgs,
    "warning": WarningArgs,
}
assert set(_ARGS_TYPES) == set(KINDS) == set(ARGS), "every kind has its args type"

_EVENT_TYPES = {kind: _event_type(kind, _ARGS_TYPES[kind]) for kind in KINDS}
_KIND_OF = {record_type: kind for kind, record_type in _EVENT_TYPES.items()}


# -- the snapshot -------------------------------------------------------------


class _Timer(msgspec.Struct):
    timer: Id
    name: str
    site: str | None
    due_in: SignedNs
    delay: SignedNs
    looping: bool
    own: bool = False


class _Connection(msgspec.Struct):
    conn: Id
    type: str
    protocol: str
    local: str | None
    peer: str | None
    fd: Fd | None
    opened: Ns
    age: Ns
    bytes_in: Count
    bytes_out: Count
    reads: Count
    writes: Count
    last_activity: Ns | None
    write_buffer: Count
    site: str | None = None


class _Callable(msgspec.Struct):
    name: str
    kind: str
    count: Count
    total: Ns
    mean: Ns
    max: Ns
    p95: Ns
    errors: Count
    self_time: Ns = 0


class _Loop(msgspec.Struct):
    iterations: Count
    utilization: Ratio
    events_per_second: Rate
    lag: SignedNs
    busy: Ns
    wait: Ns
    events: Count
    uptime: Ns


class WarningRecord(TypedDict, total=False):
    code: str | None
    message: str | None
    where: str | None
    subject: Id | str | None
    name: str | None
    ts: Ns | None
    duration: Ns | None
    stack: list[str] | None


class _Blocked(msgspec.Struct):
    since: Ns
    elapsed: Ns
    name: str
    kind: str
    made_at: str | None = None
    site: str | None = None
    function: str | None = None
    stack: list[str] = []
    user_frames: Count = 0
    cpu: Ns | None = None
    on_cpu: Ratio | None = None
    gc: Ns = 0
    samples: Count = 0
    moves: Count = 0


class _Deferred(msgspec.Struct):
    id: Id
    kind: str
    name: str
    age: Ns | None
    made_at: str | None
    suspended_at: str | None = None
    awaits: list[str] = []
    waits_on: list[Id] = []
    source: str = "nothing"
    detail: str = "nothing known"
    timer: Id | None = None
    conn: Id | None = None
    fired_by: str = "nothing known"
    depth: Count = 0
    deadlock: bool = False


class _Pending(msgspec.Struct):
    deferreds: list[_Deferred] = []
    total: Count = 0
    omitted: Count = 0
    deadlocks: list[list[Id]] = []
    unscanned: Count = 0


class _Snapshot(msgspec.Struct):
    ts: Ns
    timers: list[_Timer] = []
    connections: list[_Connection] = []
    callables: list[_Callable] = []
    loop: _Loop | None = None
    dropped: Count = 0
    warnings: list[WarningRecord] = []
    blocked: _Blocked | None = None
    deferreds: _Pending | None = None


# -- the other parts of a file ---------------------------------------------------


class Header(msgspec.Struct):
    """What tells a trace file from other JSON (checked before the rest)."""

    format: Any = None
    version: Any = None
    type: Any = None
    traceEvents: Any = None  # noqa: N815 - the Chrome trace's key, to say what the file is


class _Options(msgspec.Struct):
    max_events: Count | None = None
    slow_ms: Annotated[float, msgspec.Meta(ge=0.0, le=1e12)] | None = None
    watchdog: bool | None = None
    diagnostics: bool | None = None
    track_deferreds: bool | None = None
    thresholds: dict[str, Annotated[float, msgspec.Meta(ge=0.0, le=1e12)] | bool | None] | None = None


class _PartStatus(msgspec.Struct):
    on: bool | None = None
    why: str | None = None


class _WrittenOnSignal(msgspec.Struct):
    signal: str
    blocked: _Blocked | None = None


class _Meta(msgspec.Struct):
    """The known keys of ``meta`` (others may be present, and are kept)."""

    program: str | None = None
    argv: list[str] | None = None
    pid: Annotated[int, msgspec.Meta(ge=0, le=2**31)] | None = None
    python: str | None = None
    twisted: str | None = None
    reactor: str | None = None
    host: str | None = None
    start_wall: Seconds | None = None
    options: _Options | None = None
    recording: dict[str, _PartStatus] | None = None
    written_on_signal: _WrittenOnSignal | None = None


#: A raw ``null``: what a record without a snapshot holds.
NULL = msgspec.Raw(b"null")


class Document(msgspec.Struct):
    """A JSON trace: events are kept raw and decoded one by one as the model is built."""

    meta: dict[str, Any]
    events: list[msgspec.Raw]
    dropped: Count = 0
    snapshot: msgspec.Raw = NULL


class Tail(msgspec.Struct, forbid_unknown_fields=True):
    """What follows the events of a JSON trace as reactortrace writes it."""

    snapshot: msgspec.Raw = NULL


class MetaLine(msgspec.Struct):
    meta: dict[str, Any]


class SnapshotLine(msgspec.Struct):
    snapshot: msgspec.Raw = NULL


class EndLine(msgspec.Struct):
    dropped: Count = 0


# -- decoders ---------------------------------------------------------------------

Invalid = (msgspec.ValidationError, msgspec.DecodeError)

header_decoder = msgspec.json.Decoder(Header)
document_decoder = msgspec.json.Decoder(Document)
meta_line_decoder = msgspec.json.Decoder(MetaLine)
snapshot_line_decoder = msgspec.json.Decoder(SnapshotLine)
end_line_decoder = msgspec.json.Decoder(EndLine)
tail_decoder = msgspec.json.Decoder(Tail)
_EVENT_UNION: Any = Union[tuple(_EVENT_TYPES.values())]  # noqa: UP007 - built from a tuple
_event_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(_EVENT_UNION)
_events_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(list[_EVENT_UNION])
_snapshot_decoder = msgspec.json.Decoder(_Snapshot | None)


def check_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` once its known keys hold what they should (raises otherwise), printable."""
    msgspec.convert(meta, _Meta)
    cleaned: dict[str, Any] = printable_all(meta)
    return cleaned


def to_event(raw: bytes | msgspec.Raw, strings: dict[str, str]) -> Event:
    """The event one record holds, its strings printable (:mod:`reactortrace.core.printable`).

    ``strings`` keeps one copy of each name, the same for every event named so.
    """
    return _event(_event_decoder.decode(raw), strings)


def to_events(raw: bytes, strings: dict[str, str]) -> list[Event]:
    """:func:`to_event` for a JSON list of records, decoded at once."""
    return [_event(record, strings) for record in _events_decoder.decode(raw)]


def event_from_dict(data: Any, strings: dict[str, str]) -> Event:
    """:func:`to_event` for a record already parsed (as the live stream has it)."""
    return _event(msgspec.convert(data, _EVENT_UNION), strings)


def snapshot_from_dict(data: Any) -> Snapshot | None:
    """:func:`to_snapshot` for a record already parsed."""
    return _snapshot(msgspec.convert(data, _Snapshot | None))


def _event(record: Any, strings: dict[str, str]) -> Event:
    name = record.name
    shown = strings.get(name)
    if shown is None:
        shown = strings[name] = printable(name)
    return Event(
        record.seq,
        record.ts,
        record.dur,
        _KIND_OF[type(record)],
        shown,
        printable_args(record.args) if record.args else {},
    )


def to_snapshot(raw: bytes | msgspec.Raw) -> Snapshot | None:
    """The snapshot one record holds (None for ``null``)."""
    return _snapshot(_snapshot_decoder.decode(raw))


def _snapshot(record: _Snapshot | None) -> Snapshot | None:
    if record is None:
        return None
    return Snapshot(
        ts=record.ts,
        timers=tuple(TimerInfo(*_fields(t)) for t in record.timers),
        connections=tuple(ConnectionInfo(*_fields(c)) for c in record.connections),
        callables=tuple(CallableStats(*_fields(c)) for c in record.callables),
        loop=LoopStats(*_fields(record.loop)) if record.loop else Snapshot(0).loop,
        dropped=record.dropped,
        warnings=tuple(printable_args(dict(w)) for w in record.warnings),
        blocked=_blocked(record.blocked),
        deferreds=_pending(record.deferreds),
    )


def _pending(record: _Pending | None) -> PendingDeferreds | None:
    if record is None:
        return None
    infos = []
    for info in record.deferreds:
        fields = _fields(info)
        fields[6] = tuple(printable(line) for line in info.awaits)  # awaits
        fields[7] = tuple(info.waits_on)  # waits_on
        infos.append(DeferredInfo(*fields))
    return PendingDeferreds(
        deferreds=tuple(infos),
        total=record.total,
        omitted=record.omitted,
        deadlocks=tuple(tuple(cycle) for cycle in record.deadlocks),
        unscanned=record.unscanned,
    )


def _blocked(record: _Blocked | None) -> BlockedInfo | None:
    if record is None:
        return None
    fields = _fields(record)
    fields[7] = tuple(printable(frame) for frame in record.stack)  # stack
    return BlockedInfo(*fields)


def _fields(record: msgspec.Struct) -> list[Any]:
    """A record's fields in order, strings made printable."""
    return [printable(v) if type(v) is str else v for v in msgspec.structs.astuple(record)]
