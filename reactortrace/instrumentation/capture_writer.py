"""The writer process of a :class:`~.capture.Capture`: resolve, aggregate, write.

JSON is spooled to a temporary file as it is encoded, JSON Lines streamed to
its file; a Chrome trace, written in start order, is kept as events (at most
the program's ring's worth) and converted when written; it has no snapshot,
so nothing is aggregated for it.

It reads length-prefixed pickled messages from its stdin (only ever from the
traced program that started it): ``start`` (the file, the format, the trace's
clock origin, the ring's size), ``records`` (a batch of raw records with the facts of newly
interned objects), ``write`` (write the trace now; the answer, on stdout, is
``("ok", events written)`` or ``("error", why)``), ``path`` (the file, when
``start`` could not name it yet). At the end of its input
(the program ended, or was killed) it stops: a JSON Lines file not finished
then loads as cut short.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import signal
import sys
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from typing import IO, Any

from ..core.encoding import loads
from ..core.events import Event
from ..core.gcpause import gc_paused
from ..core.state import LoopState
from ..core.trace import Trace
from ..formats.chrome import write_chrome
from ..formats.jsonfile import Parts, encode_events, write_json_encoded
from ..formats.jsonl import JsonlWriter, event_lines
from .facts import FRAME as _FRAME
from .facts import Facts
from .resolve import Resolver

_NO_FACTS = Facts("?", None, None, False, None, None)


class TableResolver(Resolver):
    """A :class:`Resolver` that knows interned objects by their :class:`Facts`
    (the objects stay in the program), and takes rare records resolved there."""

    def __init__(self, start: float, start_wall: float, before: str | None) -> None:
        super().__init__(start, start_wall, [], before)
        self.facts: dict[int, Facts] = {0: Facts("?", None, None, False, None, None)}

    def _fact(self, ref: int) -> Facts:
        return self.facts.get(ref, _NO_FACTS)

    def learn(self, facts: dict[int, Facts]) -> None:
        """The facts of objects interned since the last batch."""
        self.facts.update(facts)
        for ref, known in facts.items():
            self._names[ref] = known.name

    def _name(self, ref: int) -> str:
        name = self._names.get(ref)
        return name if name is not None else self._fact(ref).name

    def _where(self, code_ref: int, offset: int) -> str | None:
        code = self._fact(code_ref).code
        if code is None:
            return None
        filename, first_line, lines = code
        line = lines.get(offset, first_line) if offset >= 0 else first_line
        return f"{filename}:{line}"

    def _class(self, ref: int) -> str | None:
        return self._fact(ref).cls if ref else None

    def _is_internal(self, code_ref: int) -> bool:
        return not code_ref or self._fact(code_ref).internal

    def _object(self, ref: int) -> Any:
        return self._fact(ref).raw if ref else None

    def _definition(self, ref: int) -> str | None:
        return self._fact(ref).definition

    def take(self, items: list[Any], first: int) -> list[Event]:
        """Events of a batch, in order: packed records resolved here, the
        others as the program resolved them (None: a record that makes no event)."""
        packed = self._packed
        events: list[Event] = []
        add = events.append
        seq = first - 1
        for item in items:
            seq += 1
            if type(item) is bytes:
                event = packed[item[-1]](self, seq, item)
                if event is not None:
                    add(event)
            elif item is not None:
                event = Event(*item)
                if event.kind == "conn.open":
                    self._opened(event.args["conn"], event.name, event.args.get("fd"))
                elif event.kind == "conn.close":
                    self._closed(event.args["conn"])
                add(event)
        return events


class Writer:
    """The state of one trace being written."""

    def __init__(self, path: str | None, format: str, meta: dict[str, Any], start: float,
                 start_wall: float, before: str | None, thresholds: Any,
                 held: int = 0) -> None:
        self.path = path
        self.format = format
        self.meta = meta
        self.resolver = TableResolver(start, start_wall, before)
        self.state = LoopState(thresholds=thresholds)
        #: Chrome: the events of (at most) the last ``held`` records, the ring's size.
        self.events: list[Event] = []
        self.ring_size = held
        #: JSON: the events so far, encoded a batch at a time into a spool
        #: file: (first seq, last seq, events, offset, size) of each batch.
        self.batches: deque[tuple[int, int, int, int, int]] = deque()
        self.spool = tempfile.TemporaryFile() if format == "json" else None
        self.held = 0
        self.stream: JsonlWriter | None = None
        #: JSON Lines before the path is known: the lines so far.
        self.early: IO[bytes] | None = None
        self.streamed = 0
        if format == "jsonl":
            if path is None:
                self.early = tempfile.TemporaryFile()
            else:
                self.stream = JsonlWriter(path, meta)

    def set_path(self, path: str) -> None:
        """The file to write (JSON Lines: the stream starts with the lines so far)."""
        self.path = path
        early, self.early = self.early, None
        if early is not None:
            self.stream = JsonlWriter(path, self.meta)
            early.seek(0)
            while block := early.read(1 << 20):
                self.stream.write_lines(block)
            early.close()

    def take(self, first: int, facts: dict[int, Facts], items: list[Any]) -> None:
        self.resolver.learn(facts)
        events = self.resolver.take(items, first)
        if self.format == "chrome":
            self._keep(events, first + len(items))
            return
        self.state.feed(events)
        if self.format == "jsonl":
            if events:
                if self.stream is not None:
                    if self.stream.ended:  # recorded after a final write: written again
                        self.stream.go_on()
                    self.stream.write_events(events)
                else:
                    assert self.early is not None
                    self.early.write(event_lines(events))
                self.streamed += len(events)
        elif events:
            self._spool(events)

    def _keep(self, events: list[Event], total: int) -> None:
        """Chrome: hold ``events``, letting go of those the ring no longer holds
        (``total`` records so far), a quarter of the ring at a time."""
        kept = self.events
        kept.extend(events)
        if self.ring_size and len(kept) > self.ring_size + self.ring_size // 4:
            self._forget_kept_before(total - self.ring_size)

    def _forget_kept_before(self, first_held: int) -> None:
        """Chrome: let go of events of records that fell out of the program's ring."""
        kept = self.events
        if kept and kept[0].seq < first_held:
            self.events = [event for event in kept if event.seq >= first_held]

    def _spool(self, events: list[Any]) -> None:
        spool = self.spool
        assert spool is not None
        encoded = encode_events(events)
        offset = spool.seek(0, os.SEEK_END)
        spool.write(encoded)
        self.batches.append((events[0]["seq"] if type(events[0]) is dict else events[0].seq,
                             events[-1]["seq"] if type(events[-1]) is dict else events[-1].seq,
                             len(events), offset, len(encoded)))
        self.held += len(events)

    def _encoded(self) -> Iterator[bytes]:
        """The spooled batches, in order."""
        spool = self.spool
        assert spool is not None
        for _, _, _, offset, size in list(self.batches):
            spool.seek(offset)
            yield spool.read(size)

    def write(self, meta: dict[str, Any], now: int, blocked: Any, deferreds: Any,
              dropped: int, first_held: int, ongoing: tuple[Any, ...] | None,
              final: bool) -> int:
        if self.format == "chrome":
            return self._write_chrome(meta, dropped, first_held, ongoing)
        state = self.state
        state.dropped = dropped
        snapshot = state.snapshot(now, blocked)
        if deferreds is not None:
            snapshot = dataclasses.replace(snapshot, deferreds=deferreds)
        if self.stream is not None:
            if final:
                if self.stream.ended:
                    self.stream.go_on()
                self.stream.end(snapshot, dropped)
            return self.streamed
        path = self._path()
        self._forget_before(first_held)
        last = _ongoing(ongoing)
        tail = [encode_events([last])] if last is not None else []
        write_json_encoded(path, Parts(meta, _chain(self._encoded(), tail),
                                       lambda: snapshot, dropped))
        return self.held + len(tail)

    def _write_chrome(self, meta: dict[str, Any], dropped: int, first_held: int,
                      ongoing: tuple[Any, ...] | None) -> int:
        path = self._path()
        self._forget_kept_before(first_held)
        last = _ongoing(ongoing)
        events = self.events + [last] if last is not None else self.events
        write_chrome(Trace(meta=meta, events=events, dropped=dropped), path)
        return len(events)

    def _path(self) -> str:
        if self.path is None:
            raise RuntimeError("no path to write to")
        return self.path

    def _forget_before(self, first_held: int) -> None:
        """Let go of events of records that fell out of the program's ring."""
        batches = self.batches
        while batches and batches[0][1] < first_held:
            self.held -= batches.popleft()[2]
        if batches and batches[0][0] < first_held:
            spool = self.spool
            assert spool is not None
            _, _, count, offset, size = batches.popleft()
            self.held -= count
            spool.seek(offset)
            events = loads(b"[" + spool.read(size) + b"]")
            kept = [event for event in events if event["seq"] >= first_held]
            if kept:  # spooled again at the end, and put back first
                self._spool(kept)
                batches.appendleft(batches.pop())

    def end(self) -> None:
        if self.stream is not None:
            self.stream.close()


def _ongoing(record: tuple[Any, ...] | None) -> Event | None:
    """The event of the dispatch blocking the loop as the trace is written."""
    if record is None:
        return None
    event = Event(*record)
    event.args["ongoing"] = True
    return event


def _chain(*parts: Iterable[bytes]) -> Iterator[bytes]:
    for part in parts:
        yield from part


def _read(stream: IO[bytes], size: int) -> bytes | None:
    data = stream.read(size)
    return data if len(data) == size else None


def serve(source: IO[bytes], answers: IO[bytes]) -> None:
    """Take messages from ``source`` until it ends, answering ``write``s on ``answers``."""
    writer: Writer | None = None
    while (head := _read(source, _FRAME.size)) is not None:
        body = _read(source, _FRAME.unpack(head)[0])
        if body is None:
            break
        kind, *args = pickle.loads(body)
        if kind == "start":
            writer = Writer(**args[0])
        elif kind == "records" and writer is not None:
            writer.take(*args)
        elif kind == "path" and writer is not None:
            writer.set_path(*args)
        elif kind == "write" and writer is not None:
            try:
                answer: tuple[str, Any] = ("ok", writer.write(**args[0]))
            except Exception as exc:  # noqa: BLE001 - the program writes in-process instead
                answer = ("error", f"{type(exc).__name__}: {exc}")
            data = pickle.dumps(answer)
            answers.write(_FRAME.pack(len(data)) + data)
            answers.flush()
    if writer is not None:
        writer.end()


def main() -> None:
    """Run as the writer process (see :func:`.capture.writer_command`)."""
    # Signals to the program's terminal or group are the program's: this
    # process ends when the program's side of the pipe closes.
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    with gc_paused():
        serve(sys.stdin.buffer, sys.stdout.buffer)
