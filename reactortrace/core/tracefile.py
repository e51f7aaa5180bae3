"""The reactortrace trace file, version 1: write it, stream it, read it back.

Two layouts hold the same data:

* JSON (``.json``), one object::

    {"format": "reactortrace", "version": 1, "meta": {...}, "dropped": N,
     "events": [{"seq", "ts", "dur", "kind", "name", "args"}, ...],
     "snapshot": {...} | null}

* JSON Lines (``.jsonl``), for long runs and crash safety: a meta line
  ``{"format": "reactortrace", "version": 1, "type": "meta", "meta": {...}}``,
  one ``{"type": "event", ...event}`` line per event, then optionally
  ``{"type": "snapshot", "snapshot": {...}}`` and ``{"type": "end", "dropped": N}``
  last. Without the end line the run was cut short: the complete lines load.

The JSON Schema of the JSON layout ships beside this module (:func:`schema`).
:func:`load` does its own quick structural check rather than run the schema.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from importlib import resources
from itertools import islice
from typing import IO, Any

import orjson

from reactortrace.core.events import Event
from reactortrace.core.snapshot import Snapshot
from reactortrace.core.trace import Trace
from reactortrace.errors import TraceFileError

FORMAT = "reactortrace"
VERSION = 1
SUPPORTED_VERSIONS: tuple[int, ...] = (1,)
SCHEMA_FILE = "trace-v1.schema.json"
#: Events serialized per orjson call: big enough to be fast, small enough
#: that a million events never exist as one bytes object.
CHUNK_EVENTS = 10_000

_Path = str | os.PathLike[str]


def _fallback(value: Any) -> Any:
    """Serialize what orjson does not know (paths, enums, ...) as text."""
    return str(value)


_dumps = functools.partial(orjson.dumps, default=_fallback)
_EVENT_LINE = b'{"type":"event",'


# -- writing ---------------------------------------------------------------


def write_json(
    path: _Path,
    meta: dict[str, Any],
    events: Iterable[dict[str, Any] | Event],
    snapshot: dict[str, Any] | Snapshot | None,
    dropped: int,
) -> None:
    """Write a JSON trace, streaming ``events`` chunk by chunk.

    The file appears at ``path`` only once complete (written beside it, then
    renamed), so a failure never leaves half a file in place of an old one.
    """
    with _replacing(os.fspath(path)) as out:
        out.write(
            b'{"format":'
            + _dumps(FORMAT)
            + b',"version":'
            + _dumps(VERSION)
            + b',"meta":'
            + _dumps(meta)
            + b',"dropped":'
            + _dumps(dropped)
            + b',"events":['
        )
        separator = b""
        for chunk in _chunks(events):
            out.write(separator)
            out.write(_dumps(_plain(chunk))[1:-1])
            separator = b","
        out.write(b'],"snapshot":' + _dumps(snapshot) + b"}\n")


def write_jsonl(
    path: _Path,
    meta: dict[str, Any],
    events: Iterable[dict[str, Any] | Event],
    snapshot: dict[str, Any] | Snapshot | None,
    dropped: int,
) -> None:
    """Write a whole JSON Lines trace at once (replacing ``path`` when done)."""
    target = os.fspath(path)
    with _replacing(target) as out:
        writer = JsonlWriter(out, meta, name=target)
        for chunk in _chunks(events):
            writer.write_events(chunk)
        writer.finish(snapshot, dropped)


class JsonlWriter:
    """Streams a JSON Lines trace: every batch is flushed to the OS at once.

    It writes to ``path`` itself (no rename at the end), so that after the
    process is killed every complete line is there to be read.
    ``path`` may also be an open binary file (which :meth:`finish` leaves open).
    """

    def __init__(
        self, path: _Path | IO[bytes], meta: dict[str, Any], *, name: str | None = None
    ) -> None:
        if isinstance(path, (str, os.PathLike)):
            self.path = os.fspath(path)
            try:
                self._file: IO[bytes] = open(self.path, "wb")
            except OSError as exc:
                raise TraceFileError(_cannot_write(self.path, exc)) from None
            self._owned = True
        else:
            self.path = name or getattr(path, "name", "<stream>")
            self._file = path
            self._owned = False
        self.closed = False
        self._write([{"format": FORMAT, "version": VERSION, "type": "meta", "meta": meta}])

    def write_events(self, events: Iterable[dict[str, Any] | Event]) -> None:
        """Append one line per event and flush."""
        self._write(events, prefix=_EVENT_LINE)

    def finish(self, snapshot: dict[str, Any] | Snapshot | None, dropped: int) -> None:
        """Write the final snapshot and the end line, then close."""
        tail: list[dict[str, Any]] = [{"type": "end", "dropped": dropped}]
        if snapshot is not None:
            tail.insert(0, {"type": "snapshot", "snapshot": snapshot})
        self._write(tail)
        self.close()

    def close(self) -> None:
        """Stop writing; without :meth:`finish` the trace loads as cut short."""
        if not self.closed:
            self.closed = True
            if self._owned:
                with suppress(OSError):
                    self._file.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _write(self, records: Iterable[Any], prefix: bytes = b"{") -> None:
        """One line per record, ``prefix`` in place of its opening brace."""
        if self.closed:
            raise TraceFileError(f"{self.path}: the trace is already finished")
        try:
            lines = [prefix + _dumps(record)[1:] for record in records]
        except orjson.JSONEncodeError as exc:
            raise TraceFileError(_cannot_encode(self.path, exc)) from None
        if not lines:
            return
        lines.append(b"")
        try:
            self._file.write(b"\n".join(lines))
            self._file.flush()
        except OSError as exc:
            raise TraceFileError(_cannot_write(self.path, exc)) from None


def _plain(chunk: list[Any]) -> list[Any]:
    """Events as dicts: orjson writes dicts about twice as fast as dataclasses."""
    return [item.to_dict() if type(item) is Event else item for item in chunk]


def _chunks(events: Iterable[Any]) -> Iterator[list[Any]]:
    iterator = iter(events)
    while chunk := list(islice(iterator, CHUNK_EVENTS)):
        yield chunk


@contextmanager
def _replacing(target: str) -> Iterator[IO[bytes]]:
    """A file to write that replaces ``target`` only if writing succeeds."""
    temporary = target + ".tmp"
    try:
        with open(temporary, "wb") as out:
            yield out
        os.replace(temporary, target)
    except BaseException as exc:
        with suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise TraceFileError(_cannot_write(target, exc)) from None
        if isinstance(exc, orjson.JSONEncodeError):
            raise TraceFileError(_cannot_encode(target, exc)) from None
        raise


def _cannot_write(path: str, exc: OSError) -> str:
    return f"{path}: cannot write trace: {exc.strerror or exc}"


def _cannot_encode(path: str, exc: orjson.JSONEncodeError) -> str:
    return f"{path}: cannot write trace: a value cannot be encoded as JSON ({exc})"


# -- reading ---------------------------------------------------------------


class _Invalid(Exception):
    """A part of the file is malformed; the caller says where."""


def load(path: _Path) -> Trace:
    """Read a JSON or JSON Lines trace (told apart by content, not by name)."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as source:
            data = source.read()
    except OSError as exc:
        raise TraceFileError(f"{name}: cannot read trace file: {exc.strerror or exc}") from None
    try:
        with _gc_paused():
            return _load_bytes(data, name)
    except _Invalid as exc:
        raise TraceFileError(f"{name}: {exc}") from None


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Keep the cyclic GC from rescanning millions of fresh, acyclic objects.

    Parsing a large trace otherwise spends more time in collections than in
    parsing (measured: 3.5 s instead of 1.4 s for a million events).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _load_bytes(data: bytes, name: str) -> Trace:
    start = len(data) - len(data.lstrip())
    if start == len(data):
        raise _Invalid("the file is empty, not a trace")
    newline = data.find(b"\n", start)
    if newline != -1 and data[newline:].strip():
        # Several lines: JSON Lines if the first line is a whole object with a
        # "type"; otherwise an indented JSON document.
        try:
            head = orjson.loads(data[start:newline])
        except orjson.JSONDecodeError:
            head = None
        if type(head) is dict and "type" in head:
            return _from_lines(head, data[newline + 1 :], name)
    document = _parse_document(data)
    if type(document) is dict and "type" in document:
        return _from_lines(document, b"", name)  # a meta line and nothing else
    return _from_document(document, name)


def _parse_document(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if exc.pos >= len(data.rstrip()):
            raise _Invalid(
                f"the file is cut short (JSON ends at byte {len(data)} before the document does)"
            ) from None
        if "UTF-8" in exc.msg:
            raise _Invalid("not a JSON file (not UTF-8 text)") from None
        raise _Invalid(f"not a JSON file ({exc})") from None


def _check_header(header: dict[str, Any]) -> None:
    form = header.get("format")
    if form != FORMAT:
        hint = " (it looks like a Chrome trace)" if "traceEvents" in header else ""
        got = 'no "format"' if form is None else f'"format" is {form!r}'
        raise _Invalid(f'not a reactortrace trace: {got}, expected "reactortrace"{hint}')
    version = header.get("version")
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        supported = ", ".join(map(str, SUPPORTED_VERSIONS))
        if version is None:
            raise _Invalid(f'the trace has no "version" (supported: {supported})')
        raise _Invalid(
            f"trace format version {version!r} is not supported (supported: {supported})"
        )


def _check_meta(meta: Any) -> dict[str, Any]:
    if type(meta) is not dict:
        raise _Invalid(f'"meta" must be an object, not {_json_type(meta)}')
    return meta


def _check_dropped(dropped: Any) -> int:
    if type(dropped) is not int or dropped < 0:
        raise _Invalid(f'"dropped" must be a non-negative integer, not {dropped!r}')
    return dropped


def _from_document(document: Any, name: str) -> Trace:
    if type(document) is not dict:
        raise _Invalid(f"not a reactortrace trace: the top level is {_json_type(document)}")
    _check_header(document)
    meta = _check_meta(document.get("meta"))
    events = document.get("events")
    if type(events) is not list:
        raise _Invalid(f'"events" must be a list, not {_json_type(events)}')
    # Built in place, so each dict is freed as its Event is made.
    index = 0
    strings: dict[str, str] = {}
    try:
        for index, raw in enumerate(events):
            events[index] = _event(raw, strings)
    except _Invalid as exc:
        raise _Invalid(f"event #{index}: {exc}") from None
    return Trace(
        meta=meta,
        events=events,
        snapshot=_snapshot(document.get("snapshot")),
        dropped=_check_dropped(document.get("dropped", 0)),
        complete=True,
        path=name,
    )


def _from_lines(header: dict[str, Any], body: bytes, name: str) -> Trace:
    _check_header(header)
    if header.get("type") != "meta":
        raise _Invalid("line 1 must be the meta line of a JSON Lines trace")
    trace = Trace(meta=_check_meta(header.get("meta")), complete=False, path=name)
    lines = body.split(b"\n")
    last = len(lines) - 1
    append = trace.events.append
    strings: dict[str, str] = {}
    number = 1
    try:
        for index, line in enumerate(lines):
            if not line or line.isspace():
                continue
            number = index + 2
            if trace.complete:
                raise _Invalid("data after the end line")
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                if index == last:  # no newline after it: cut while being written
                    break
                raise _Invalid("not valid JSON") from None
            if type(record) is not dict:
                raise _Invalid(f"{_json_type(record)}, not an object")
            kind = record.pop("type", None)
            if kind == "event":
                append(_event(record, strings))
            elif kind == "snapshot":
                trace.snapshot = _snapshot(record.get("snapshot"))
            elif kind == "end":
                trace.dropped = _check_dropped(record.get("dropped", 0))
                trace.complete = True
            else:
                raise _Invalid(f"unknown line type {kind!r}")
    except _Invalid as exc:
        raise _Invalid(f"line {number}: {exc}") from None
    return trace


def _event(data: Any, strings: dict[str, str]) -> Event:
    """One event from its JSON form, checked field by field.

    Kinds and names repeat a lot: ``strings`` keeps one copy of each.
    """
    if type(data) is not dict:
        raise _Invalid(f"{_json_type(data)}, not an object")
    try:
        seq = data["seq"]
        ts = data["ts"]
        dur = data["dur"]
        kind = data["kind"]
        name = data["name"]
    except KeyError as exc:
        raise _Invalid(f"no {exc.args[0]!r} field") from None
    args = data.get("args")
    if (
        type(seq) is not int
        or type(ts) is not int
        or type(dur) is not int
        or type(kind) is not str
        or type(name) is not str
        or (args is not None and type(args) is not dict)
        or ts < 0
        or dur < 0
    ):
        raise _Invalid(_wrong_field(data))
    return Event(
        seq,
        ts,
        dur,
        strings.setdefault(kind, kind),
        strings.setdefault(name, name),
        args if args is not None else {},
    )


_FIELD_TYPES: tuple[tuple[str, type, str], ...] = (
    ("seq", int, "an integer"),
    ("ts", int, "a non-negative integer"),
    ("dur", int, "a non-negative integer"),
    ("kind", str, "a string"),
    ("name", str, "a string"),
)


def _wrong_field(data: dict[str, Any]) -> str:
    """Which field of an event that failed the quick check is wrong, and how."""
    for key, expected, description in _FIELD_TYPES:
        value = data[key]
        if type(value) is not expected or (key in ("ts", "dur") and value < 0):
            return f"{key!r} is {_short(value)}, expected {description}"
    return f'"args" is {_json_type(data["args"])}, expected an object'


def _snapshot(data: Any) -> Snapshot | None:
    if data is None:
        return None
    if type(data) is not dict or type(data.get("ts")) is not int:
        raise _Invalid('malformed snapshot (expected an object with an integer "ts")')
    try:
        return Snapshot.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _Invalid(f"malformed snapshot ({exc})") from None


def _json_type(value: Any) -> str:
    names = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the JSON trace file, version 1."""
    resource = resources.files("reactortrace.core").joinpath(SCHEMA_FILE)
    return orjson.loads(resource.read_bytes())
