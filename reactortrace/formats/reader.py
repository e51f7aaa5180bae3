"""Read a trace file back: JSON or JSON Lines, told apart by content, checked as read.

Nothing in a file is trusted: every part is checked before it becomes a
:class:`~reactortrace.core.trace.Trace`, and a file that is not a trace gets
one :class:`~reactortrace.errors.TraceFileError` naming the first problem.
"""

from __future__ import annotations

import os
from typing import Any

from ..core.encoding import DecodeError, loads
from ..core.events import Event
from ..core.gcpause import gc_paused
from ..core.snapshot import Snapshot
from ..core.trace import Trace
from ..errors import TraceFileError
from .spec import FORMAT, SUPPORTED_VERSIONS


class _Invalid(Exception):
    """A part of the file is malformed; the caller says where."""


def load(path: str | os.PathLike[str]) -> Trace:
    """Read a JSON or JSON Lines trace (told apart by content, not by name)."""
    name = os.fspath(path)
    try:
        with open(name, "rb") as source:
            data = source.read()
    except OSError as exc:
        raise TraceFileError(f"{name}: cannot read trace file: {exc.strerror or exc}") from None
    try:
        with gc_paused():
            return _load_bytes(data, name)
    except _Invalid as exc:
        raise TraceFileError(f"{name}: {exc}") from None


def _load_bytes(data: bytes, name: str) -> Trace:
    start = len(data) - len(data.lstrip())
    if start == len(data):
        raise _Invalid("the file is empty, not a trace")
    newline = data.find(b"\n", start)
    if newline != -1 and data[newline:].strip():
        # Several lines: JSON Lines if the first line is a whole object with a
        # "type"; otherwise an indented JSON document.
        try:
            head = loads(data[start:newline])
        except DecodeError:
            head = None
        if type(head) is dict and "type" in head:
            return _from_lines(head, data[newline + 1 :], name)
    document = _parse_document(data)
    if type(document) is dict and "type" in document:
        return _from_lines(document, b"", name)  # a meta line and nothing else
    return _from_document(document, name)


def _parse_document(data: bytes) -> Any:
    try:
        return loads(data)
    except DecodeError as exc:
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
                record = loads(line)
            except DecodeError:
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
        value: Any = data[key]
        if type(value) is not expected or (key in ("ts", "dur") and isinstance(value, int) and value < 0):
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
