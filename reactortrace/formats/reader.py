"""Read a trace file back: JSON or JSON Lines, told apart by content, checked as read.

Nothing in a file is trusted. Every record is decoded into the types of
:mod:`.records`, which check each field's type and range, and a file that is
not a trace gets one :class:`~reactortrace.errors.TraceFileError` naming the
first problem. Memory stays bounded by what the trace holds: JSON Lines are
read a line at a time (a line may hold at most :data:`MAX_LINE` bytes), a JSON
document at most :data:`MAX_DOCUMENT`; devices are refused and a FIFO without
a writer reads as empty rather than waiting.

:func:`scan` reads a trace without keeping its events: they are handed, a
batch at a time, to whoever folds them into something smaller (``summary``,
``view`` as it loads). A JSON trace laid out as reactortrace writes it (one
line, ``"events":[`` then one object per event starting ``{"seq":``) is split
between events and decoded a few megabytes at a time; any other layout of a
valid document, and any problem, sends the reader back to decoding the whole
document, so what is accepted and what is said of a broken file is the same
either way.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from typing import IO, Any

import msgspec

from ..core.events import Event
from ..core.gcpause import gc_paused
from ..core.printable import printable
from ..core.trace import Trace
from ..errors import TraceFileError
from . import records
from .spec import FORMAT, SUPPORTED_VERSIONS

#: The longest line of a JSON Lines trace, bytes.
MAX_LINE = 16 * 1024 * 1024
#: The largest JSON trace document, bytes (longer runs are written as JSON Lines).
MAX_DOCUMENT = 4 * 1024 * 1024 * 1024
_EVENT_LINE = b'{"type":"event",'
_CHUNK = 16 * 1024 * 1024
#: What is said of a broken file is one line of at most this many characters.
MAX_MESSAGE = 300
#: Bytes of a JSON trace read at a time when it is streamed.
STREAM_BYTES = 4 * 1024 * 1024
#: Events of a JSON Lines trace handed over at a time.
LINES_BATCH = 10_000
_EVENTS_AT = b'"events":['
_NEXT_EVENT = b'},{"seq":'
_EVENTS_END = b'],"snapshot":'

#: Takes the events of a trace, a batch at a time, in ``seq`` order.
EventSink = Callable[[list[Event]], None]
#: Given a trace's ``meta``, the sink for its events.
SinkFactory = Callable[[dict[str, Any]], EventSink]


class _Invalid(Exception):
    """A part of the file is malformed; the caller says where."""


class _Layout(Exception):
    """The document is not laid out as streaming expects: decode it whole."""


def load(path: str | os.PathLike[str]) -> Trace:
    """Read a JSON or JSON Lines trace (told apart by content, not by name)."""
    events: list[Event] = []

    def start(meta: dict[str, Any]) -> EventSink:
        events.clear()
        return events.extend

    trace = scan(path, start)
    trace.events = events
    return trace


def scan(
    path: str | os.PathLike[str], start: SinkFactory, *, batch_bytes: int | None = None
) -> Trace:
    """Read a trace as :func:`load` does, without keeping its events.

    ``start(meta)`` is called once the header is checked and returns the sink
    the events go to, in batches; the trace returned has everything else (its
    ``events`` are empty). If a JSON trace turns out to need decoding whole,
    ``start`` is called again and gets every event from the first: whatever
    the first sink built is to be dropped. A broken file raises
    :class:`~reactortrace.errors.TraceFileError`, possibly after some events
    went to the sink. ``batch_bytes``: how much of a JSON trace is decoded
    at a time (default :data:`STREAM_BYTES`); smaller keeps another thread
    waiting less for the interpreter.
    """
    name = os.fspath(path)
    try:
        with _open(name) as source, gc_paused():
            return _read(source, name, start, batch_bytes or STREAM_BYTES)
    except OSError as exc:
        problem = f"cannot read trace file: {exc.strerror or exc}"
    except _Invalid as exc:
        problem = str(exc)
    except RecursionError:
        problem = "not a reactortrace trace (nested too deeply)"
    except MemoryError:
        problem = "the trace is too large to load into memory"
    if len(problem) > MAX_MESSAGE:
        problem = problem[: MAX_MESSAGE - 3] + "..."
    raise TraceFileError(printable(f"{name}: {problem}"))


def _open(name: str) -> IO[bytes]:
    """``name`` opened for reading, if it is a file or a pipe (never waiting for a writer)."""
    fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "Is a directory")
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise _Invalid("cannot read trace file: not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read(source: IO[bytes], name: str, start: SinkFactory, batch_bytes: int) -> Trace:
    number = 0
    first = b""
    while not first.strip():
        first = source.readline(MAX_LINE + 1)
        number += 1
        if not first:
            raise _Invalid("the file is empty, not a trace")
    head = first.lstrip()
    if not head.startswith(b"{"):
        if head.startswith(b"["):
            raise _Invalid("not a reactortrace trace: the top level is a list")
        try:
            head.decode()
        except UnicodeDecodeError:
            raise _Invalid("not a JSON file (not UTF-8 text)") from None
        raise _Invalid("not a JSON file (it does not begin with an object)")
    header = None
    if len(first) <= MAX_LINE:
        try:
            header = records.header_decoder.decode(first)
        except records.Invalid:
            header = None
    if header is not None and header.type is not None:
        return _from_lines(header, first, number, source, name, start)
    if source.seekable():
        try:
            return _stream_document(source, first, name, start, batch_bytes)
        except _Layout:
            source.seek(0)
            first = b""
    trace = _from_document(_read_rest(source, first), name)
    start(trace.meta)(trace.events)
    trace.events = []
    return trace


def _stream_document(
    source: IO[bytes], first: bytes, name: str, start: SinkFactory, batch_bytes: int
) -> Trace:
    """A JSON trace as reactortrace writes it, its events decoded a batch at a time.

    Any departure from that layout, and any problem, raises :class:`_Layout`.
    A batch split where the layout expects but not between two events of the
    list is never valid JSON (its braces do not balance; the split mark
    cannot occur inside a string, whose quotes are escaped), so every batch
    that decodes holds whole events of the list, exactly as decoding the
    whole document would give them.
    """
    buffer = bytearray(first)
    total = len(buffer)

    def more() -> bool:
        nonlocal total
        chunk = source.read(batch_bytes)
        total += len(chunk)
        if total > MAX_DOCUMENT:
            raise _Invalid(f"a JSON trace larger than {MAX_DOCUMENT >> 30} GiB is not read")
        buffer.extend(chunk)
        return bool(chunk)

    while (at := buffer.find(_EVENTS_AT)) < 0:
        if len(buffer) > MAX_LINE or not more():
            raise _Layout
    opening = bytes(buffer[:at]) + b'"events":[]}'
    try:
        _check_header(records.header_decoder.decode(opening))
        head = records.document_decoder.decode(opening)
        meta = _meta(head.meta)
    except (*records.Invalid, _Invalid):
        raise _Layout from None
    if bytes(head.snapshot) != b"null":
        raise _Layout
    del buffer[: at + len(_EVENTS_AT)]
    sink = start(meta)
    strings: dict[str, str] = {}
    last_seq = -1
    ended = False

    def decode(batch: bytes) -> None:
        nonlocal last_seq
        try:
            events = records.to_events(batch, strings)
        except records.Invalid:
            raise _Layout from None
        if events:
            if events[0].seq <= last_seq or any(
                a.seq >= b.seq for a, b in zip(events, events[1:])
            ):
                raise _Layout
            last_seq = events[-1].seq
            sink(events)

    while True:
        if not ended and len(buffer) < batch_bytes:
            ended = not more()
            continue
        if ended and 0 <= buffer.rfind(_EVENTS_END) <= batch_bytes:
            break  # what is left is the last batch
        # Up to about batch_bytes of whole events (or one event longer than that).
        cut = buffer.rfind(_NEXT_EVENT, 0, batch_bytes + len(_NEXT_EVENT))
        if cut < 0:
            cut = buffer.find(_NEXT_EVENT)
        if cut < 0:
            if ended:
                break
            ended = not more()
            continue
        decode(b"[" + bytes(buffer[: cut + 1]) + b"]")
        del buffer[: cut + 2]
    end = buffer.rfind(_EVENTS_END)
    if end < 0:
        raise _Layout
    decode(b"[" + bytes(buffer[:end]) + b"]")
    del buffer[: end + 2]
    try:
        tail = records.tail_decoder.decode(b"{" + bytes(buffer))
        snapshot = _snapshot(tail.snapshot)
    except (*records.Invalid, _Invalid):
        raise _Layout from None
    return Trace(meta=meta, snapshot=snapshot, dropped=head.dropped, complete=True, path=name)


def _read_rest(source: IO[bytes], first: bytes) -> bytearray:
    """``first`` and the rest of ``source``, at most :data:`MAX_DOCUMENT` bytes in all."""
    data = bytearray(first)
    while chunk := source.read(_CHUNK):
        data += chunk
        if len(data) > MAX_DOCUMENT:
            raise _Invalid(f"a JSON trace larger than {MAX_DOCUMENT >> 30} GiB is not read")
    return data


def _check_header(header: records.Header) -> None:
    form = header.format
    if form != FORMAT:
        hint = " (it looks like a Chrome trace)" if header.traceEvents is not None else ""
        got = 'no "format"' if form is None else f'"format" is {_short(form)}'
        raise _Invalid(f'not a reactortrace trace: {got}, expected "reactortrace"{hint}')
    version = header.version
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        supported = ", ".join(map(str, SUPPORTED_VERSIONS))
        if version is None:
            raise _Invalid(f'the trace has no "version" (supported: {supported})')
        raise _Invalid(
            f"trace format version {_short(version)} is not supported (supported: {supported})"
        )


def _from_document(data: bytes | bytearray, name: str) -> Trace:
    try:
        header = records.header_decoder.decode(data)
    except records.Invalid as exc:
        raise _Invalid(_document_problem(exc, data)) from None
    _check_header(header)
    try:
        document = records.document_decoder.decode(data)
    except records.Invalid as exc:
        raise _Invalid(_document_problem(exc, data)) from None
    meta = _meta(document.meta)
    events: list[Any] = document.events
    strings: dict[str, str] = {}
    index = 0
    try:
        # In place: each raw record is dropped as its Event is made.
        for index, raw in enumerate(events):
            events[index] = records.to_event(raw, strings)
    except records.Invalid as exc:
        raise _Invalid(f"event #{index}: {_problem(exc)}") from None
    _check_order(events)
    return Trace(
        meta=meta,
        events=events,
        snapshot=_snapshot(document.snapshot),
        dropped=document.dropped,
        complete=True,
        path=name,
    )


def _from_lines(
    header: records.Header, first: bytes, number: int, source: IO[bytes], name: str,
    start: SinkFactory,
) -> Trace:
    _check_header(header)
    if header.type != "meta":
        raise _Invalid(f"line {number} must be the meta line of a JSON Lines trace")
    try:
        meta = _meta(records.meta_line_decoder.decode(first).meta)
    except records.Invalid as exc:
        raise _Invalid(f"line {number}: {_problem(exc)}") from None
    trace = Trace(meta=meta, complete=False, path=name)
    sink = start(meta)
    batch: list[Event] = []
    append = batch.append
    strings: dict[str, str] = {}
    last_seq = -1
    try:
        while line := source.readline(MAX_LINE + 1):
            number += 1
            if len(line) > MAX_LINE:
                raise _Invalid(f"longer than {MAX_LINE >> 20} MiB")
            if line.isspace():
                continue
            if trace.complete:
                raise _Invalid("data after the end line")
            try:
                if line.startswith(_EVENT_LINE):
                    event = records.to_event(line, strings)
                else:
                    event = _other_line(line, trace, strings)
            except msgspec.ValidationError as exc:
                raise _Invalid(_problem(exc)) from None
            except msgspec.DecodeError:
                if not line.endswith(b"\n"):
                    break  # the last line, cut while being written
                raise _Invalid("not valid JSON") from None
            if event is not None:
                if event.seq <= last_seq:
                    raise _Invalid(f"event seq {event.seq} does not follow {last_seq}")
                last_seq = event.seq
                append(event)
                if len(batch) >= LINES_BATCH:
                    sink(batch)
                    batch = []
                    append = batch.append
    except _Invalid as exc:
        raise _Invalid(f"line {number}: {exc}") from None
    if batch:
        sink(batch)
    return trace


def _other_line(line: bytes, trace: Trace, strings: dict[str, str]) -> Any:
    """The event a line holds, or None after taking in a snapshot or end line."""
    kind = records.header_decoder.decode(line).type
    if kind == "event":
        return records.to_event(line, strings)
    if kind == "snapshot":
        trace.snapshot = _snapshot(records.snapshot_line_decoder.decode(line).snapshot)
    elif kind == "end":
        trace.dropped = records.end_line_decoder.decode(line).dropped
        trace.complete = True
    elif kind is None:
        raise _Invalid('no "type"')
    else:
        raise _Invalid(f"unknown line type {_short(kind)}")
    return None


def _meta(meta: dict[str, Any]) -> dict[str, Any]:
    try:
        return records.check_meta(meta)
    except records.Invalid as exc:
        raise _Invalid(f'"meta": {_problem(exc)}') from None


def _snapshot(raw: msgspec.Raw) -> Any:
    try:
        return records.to_snapshot(raw)
    except records.Invalid as exc:
        raise _Invalid(f"malformed snapshot: {_problem(exc)}") from None


def _check_order(events: list[Any]) -> None:
    """Events are in the order they were recorded: each ``seq`` above the one before."""
    last = -1
    for index, event in enumerate(events):
        if event.seq <= last:
            raise _Invalid(f"event #{index}: seq {event.seq} does not follow {last}")
        last = event.seq


def _document_problem(exc: Exception, data: bytes | bytearray) -> str:
    text = str(exc)
    if not isinstance(exc, msgspec.ValidationError):
        if "truncated" in text:
            return f"the file is cut short (JSON ends at byte {len(data)} before the document does)"
        if "UTF-8" in text or "utf-8" in text:
            return "not a JSON file (not UTF-8 text)"
        return f"not a JSON file ({text})"
    return _problem(exc)


def _problem(exc: Exception) -> str:
    """msgspec's message in the words of a trace file: ``"ts": expected an integer >= 0``."""
    text = _TYPE_NAME.sub(_type_words, str(exc))
    what, _, where = text.partition(" - at `$")
    where = where.rstrip("`").lstrip(".")
    if where == "kind" and what.startswith("Invalid value"):
        return f"unknown event kind {what.removeprefix('Invalid value ')}"
    if what.startswith("Object missing required field"):
        missing = what.removeprefix("Object missing required field ")
        what = f"no {missing!r} field"
    what = what[:1].lower() + what[1:]
    return f'"{where}": {what}' if where else what


_TYPE_NAME = re.compile(r"`([^`$]+)`")
_TYPE_WORDS = {
    "object": "an object", "array": "a list", "int": "an integer", "str": "a string",
    "float": "a number", "bool": "a boolean",
}


def _type_words(found: re.Match[str]) -> str:
    """msgspec's ``int | null`` as "an integer or null"."""
    return " or ".join(_TYPE_WORDS.get(part, part) for part in found[1].split(" | "))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
