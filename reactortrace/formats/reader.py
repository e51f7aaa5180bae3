"""Read a trace file back: JSON or JSON Lines, told apart by content, checked as read.

Nothing in a file is trusted. Every record is decoded into the types of
:mod:`.records`, which check each field's type and range, and a file that is
not a trace gets one :class:`~reactortrace.errors.TraceFileError` naming the
first problem. Memory stays bounded by what the trace holds: JSON Lines are
read a line at a time (a line may hold at most :data:`MAX_LINE` bytes), a JSON
document at most :data:`MAX_DOCUMENT`; devices are refused and a FIFO without
a writer reads as empty rather than waiting.
"""

from __future__ import annotations

import os
import re
import stat
from typing import IO, Any

import msgspec

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


class _Invalid(Exception):
    """A part of the file is malformed; the caller says where."""


def load(path: str | os.PathLike[str]) -> Trace:
    """Read a JSON or JSON Lines trace (told apart by content, not by name)."""
    name = os.fspath(path)
    try:
        with _open(name) as source, gc_paused():
            return _read(source, name)
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


def _read(source: IO[bytes], name: str) -> Trace:
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
        return _from_lines(header, first, number, source, name)
    return _from_document(_read_rest(source, first), name)


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
    header: records.Header, first: bytes, number: int, source: IO[bytes], name: str
) -> Trace:
    _check_header(header)
    if header.type != "meta":
        raise _Invalid(f"line {number} must be the meta line of a JSON Lines trace")
    try:
        meta = _meta(records.meta_line_decoder.decode(first).meta)
    except records.Invalid as exc:
        raise _Invalid(f"line {number}: {_problem(exc)}") from None
    trace = Trace(meta=meta, complete=False, path=name)
    append = trace.events.append
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
    except _Invalid as exc:
        raise _Invalid(f"line {number}: {exc}") from None
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
