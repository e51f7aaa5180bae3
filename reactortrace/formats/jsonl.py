"""The JSON Lines trace file: one line per event, flushed as it goes (crash-safe)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import suppress
from typing import IO, Any

from ..core.encoding import EncodeError, dumps, encode
from ..core.events import Event
from ..core.snapshot import Snapshot
from ..core.trace import Trace
from ..errors import TraceFileError
from .files import cannot_encode, cannot_write, open_stream, replacing
from .jsonfile import Parts, chunks
from .spec import FORMAT, VERSION

_EVENT_LINE = b'{"type":"event",'


def write_jsonl(trace: Trace, path: str | os.PathLike[str]) -> None:
    """Write a whole JSON Lines trace at once (replacing ``path`` when done)."""
    write_jsonl_parts(path, Parts.of(trace))


def write_jsonl_parts(path: str | os.PathLike[str], parts: Parts) -> int:
    """:func:`~.jsonfile.write_json_parts` for JSON Lines."""
    target = os.fspath(path)
    written = 0
    with replacing(target) as out:
        writer = JsonlWriter(out, parts.meta, name=target)
        for chunk in chunks(parts.events):
            writer.write_events(chunk)
            written += len(chunk)
        writer.finish(parts.snapshot(), parts.dropped)
    return written


class JsonlWriter:
    """Streams a JSON Lines trace: every batch is flushed to the OS at once.

    It writes to ``path`` itself (no rename at the end), so that after the
    process is killed every complete line is there to be read.
    ``path`` may also be an open binary file (which :meth:`finish` leaves open).
    """

    def __init__(
        self, path: str | os.PathLike[str] | IO[bytes], meta: dict[str, Any], *,
        name: str | None = None,
    ) -> None:
        if isinstance(path, (str, os.PathLike)):
            self.path = os.fspath(path)
            self._file: IO[bytes] = open_stream(self.path)
            self._owned = True
        else:
            self.path = name or str(getattr(path, "name", "<stream>"))
            self._file = path
            self._owned = False
        self.closed = False
        #: Where the lines :meth:`end` wrote begin (None: not ended).
        self._ended_at: int | None = None
        self._write([{"format": FORMAT, "version": VERSION, "type": "meta", "meta": meta}])

    def write_events(self, events: Iterable[dict[str, Any] | Event]) -> None:
        """Append one line per event and flush."""
        self._write(events, prefix=_EVENT_LINE, dump=encode)

    def finish(self, snapshot: dict[str, Any] | Snapshot | None, dropped: int) -> None:
        """Write the final snapshot and the end line, then close."""
        self.end(snapshot, dropped)
        self.close()

    def end(self, snapshot: dict[str, Any] | Snapshot | None, dropped: int) -> None:
        """Write the final snapshot and the end line, leaving the file open:
        :meth:`go_on` takes them back if more events come after all."""
        tail: list[dict[str, Any]] = [{"type": "end", "dropped": dropped}]
        if snapshot is not None:
            tail.insert(0, {"type": "snapshot", "snapshot": snapshot})
        try:
            self._ended_at = self._file.tell()
        except OSError as exc:
            raise TraceFileError(cannot_write(self.path, exc)) from None
        self._write(tail)

    @property
    def ended(self) -> bool:
        """Whether the file ends with the lines :meth:`end` wrote."""
        return self._ended_at is not None

    def go_on(self) -> None:
        """Take back the snapshot and end lines :meth:`end` wrote (events follow)."""
        at, self._ended_at = self._ended_at, None
        if at is None or self.closed:
            return
        try:
            self._file.truncate(at)
            self._file.seek(at)
        except OSError as exc:
            raise TraceFileError(cannot_write(self.path, exc)) from None

    def close(self) -> None:
        """Stop writing; without :meth:`finish` the trace loads as cut short."""
        if not self.closed:
            self.closed = True
            if self._owned:
                with suppress(OSError):
                    self._file.close()

    def disown(self) -> None:
        """Let go of the file without writing to it (a forked child's copy of a
        parent's stream): its descriptor now leads to /dev/null, so nothing
        left in a buffer can reach the parent's file, whenever it is flushed."""
        self.closed = True
        if not self._owned:
            return
        with suppress(OSError, ValueError):
            null = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.dup2(null, self._file.fileno(), inheritable=False)
            finally:
                os.close(null)
            self._file.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def write_lines(self, data: bytes) -> None:
        """Append lines already encoded (as :func:`event_lines` makes them) and flush."""
        if self.closed:
            raise TraceFileError(f"{self.path}: the trace is already finished")
        if not data:
            return
        try:
            self._file.write(data)
            self._file.flush()
        except OSError as exc:
            raise TraceFileError(cannot_write(self.path, exc)) from None

    def _write(self, records: Iterable[Any], prefix: bytes = b"{",
               dump: Callable[[Any], bytes] = dumps) -> None:
        """One line per record, ``prefix`` in place of its opening brace."""
        if self.closed:
            raise TraceFileError(f"{self.path}: the trace is already finished")
        try:
            data = _lines(records, prefix, dump)
        except EncodeError as exc:
            raise TraceFileError(cannot_encode(self.path, exc)) from None
        self.write_lines(data)


def event_lines(events: Iterable[dict[str, Any] | Event]) -> bytes:
    """The lines of ``events`` in a JSON Lines trace, each ending in a newline."""
    return _lines(events, _EVENT_LINE, encode)


def _lines(records: Iterable[Any], prefix: bytes, dump: Callable[[Any], bytes]) -> bytes:
    """One line per record, ``prefix`` in place of its opening brace."""
    lines = [prefix + dump(record)[1:] for record in records]
    if not lines:
        return b""
    lines.append(b"")
    return b"\n".join(lines)
