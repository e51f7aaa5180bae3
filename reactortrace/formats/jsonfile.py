"""The JSON trace file: one document, written chunk by chunk."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any, NamedTuple

from ..core.encoding import dumps, encode
from ..core.events import Event
from ..core.snapshot import Snapshot
from ..core.trace import Trace
from .files import replacing
from .spec import FORMAT, VERSION

#: Events serialized per encoder call: big enough to be fast, small enough
#: that a million events never exist as one bytes object.
CHUNK_EVENTS = 10_000


class Parts(NamedTuple):
    """A trace to write, given in parts: ``events`` are read once, in order, a
    chunk at a time, and ``snapshot()`` is asked for after the last of them
    (a live tracer resolves its ring as it goes)."""

    meta: dict[str, Any]
    #: Events or their dicts (encoded chunks for :func:`write_json_encoded`).
    events: Iterable[Any]
    snapshot: Callable[[], Snapshot | dict[str, Any] | None]
    dropped: int

    @classmethod
    def of(cls, trace: Trace) -> Parts:
        """The parts of a trace in memory."""
        return cls(trace.meta, trace.events, lambda: trace.snapshot, trace.dropped)


def write_json(trace: Trace, path: str | os.PathLike[str]) -> None:
    """Write ``trace`` as a JSON document; it appears at ``path`` only once complete."""
    write_json_parts(path, Parts.of(trace))


def write_json_parts(path: str | os.PathLike[str], parts: Parts) -> int:
    """Write a JSON trace given in parts; returns the number of events."""
    written = 0

    def encoded() -> Iterator[bytes]:
        nonlocal written
        for chunk in chunks(parts.events):
            written += len(chunk)
            yield encode_events(chunk)

    write_json_encoded(path, parts._replace(events=encoded()))
    return written


def write_json_encoded(path: str | os.PathLike[str], parts: Parts) -> None:
    """:func:`write_json_parts` for events already encoded: ``parts.events``
    are chunks of them, each as :func:`encode_events` makes it."""
    with replacing(os.fspath(path)) as out:
        out.write(
            b'{"format":' + dumps(FORMAT)
            + b',"version":' + dumps(VERSION)
            + b',"meta":' + dumps(parts.meta)
            + b',"dropped":' + dumps(parts.dropped)
            + b',"events":['
        )
        separator = b""
        for chunk in parts.events:
            if chunk:
                out.write(separator)
                out.write(chunk)
                separator = b","
        out.write(b'],"snapshot":' + dumps(parts.snapshot()) + b"}\n")


def encode_events(chunk: Iterable[Event | dict[str, Any]]) -> bytes:
    """Events as the comma-separated JSON objects of the document's event list."""
    return encode(chunk if isinstance(chunk, list) else list(chunk))[1:-1]


def chunks(events: Iterable[Any], size: int = CHUNK_EVENTS) -> Iterator[list[Any]]:
    """``events`` in lists of at most ``size``."""
    iterator = iter(events)
    while chunk := list(islice(iterator, size)):
        yield chunk
