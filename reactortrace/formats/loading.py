"""A trace read on a thread, its events handed over as they are decoded.

``view`` shows a large trace's first screen as soon as its first events are
read, rather than after the whole file (seconds for a million events): the
reading goes on behind, through :func:`~reactortrace.formats.reader.scan`,
with the same checks as :func:`~reactortrace.formats.reader.load`.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ..core.events import Event
from ..core.trace import Trace
from ..errors import TraceFileError
from .reader import EventSink, scan

#: JSON decoded at a time: each batch holds the interpreter a few ms at most,
#: so the UI thread is never kept waiting long while the rest is read.
BATCH_BYTES = 256 * 1024


class _Closed(Exception):
    """Nobody wants the rest of the trace any more."""


class BackgroundLoad:
    """Reads the trace at ``path`` on a daemon thread (a :class:`~reactortrace.core.replay.Loading`).

    :meth:`opening` waits for the first batch of events and for what follows
    (the end of a small trace, or the next batch); reading then waits for the
    first :meth:`take` (the viewer's first poll, once its screen is up: it
    is not kept waiting for the interpreter meanwhile), and hands over the
    rest as they come. A problem found after the first events is kept in
    :attr:`error` (the events before it stay shown); :attr:`done` is set last,
    once :attr:`trace` has its snapshot, ``dropped`` and ``complete``.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.trace = Trace(path=os.fspath(path), complete=False)
        self.error: TraceFileError | None = None
        self.done = False
        self._lock = threading.Lock()
        self._read: list[Event] = []
        self._count = 0  # events read so far
        self._skip = 0  # events read again after a restart, already handed over
        self._closed = False
        self._started = threading.Event()
        self._go_on = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reactortrace-load", daemon=True)
        self._thread.start()

    def opening(self) -> Trace:
        """The trace with its first events (all of them if it is small), once
        read; raises the file's problem if it is found before any event."""
        self._started.wait()
        if self.error is not None and not self._count:
            raise self.error
        self.trace.events = self._take()
        return self.trace

    def take(self) -> list[Event]:
        """The events read since the last call (reading goes on, if it waited)."""
        self._go_on.set()
        return self._take()

    def close(self) -> None:
        """Stop reading (at the next batch)."""
        self._closed = True
        self._go_on.set()

    def _take(self) -> list[Event]:
        with self._lock:
            events, self._read = self._read, []
        return events

    def _run(self) -> None:
        try:
            tail = scan(self.trace.path or "", self._start, batch_bytes=BATCH_BYTES)
        except TraceFileError as exc:
            self.error = exc
        except _Closed:
            pass
        else:
            self.trace.snapshot = tail.snapshot
            self.trace.dropped = tail.dropped
            self.trace.complete = tail.complete
        finally:
            self.done = True
            self._started.set()

    def _start(self, meta: dict[str, Any]) -> EventSink:
        # Read again from the first event (a document decoded whole): those
        # already handed over are the same, and are not handed over twice.
        self.trace.meta = meta
        self._skip = self._count
        return self._add

    def _add(self, events: list[Event]) -> None:
        if self._closed:
            raise _Closed
        if self._skip:
            dropped = min(self._skip, len(events))
            self._skip -= dropped
            events = events[dropped:]
        if not events:
            return
        if self._count:
            # The opening is read (and so is a small trace by now, whole):
            # the rest waits for the viewer's first look.
            self._started.set()
            self._go_on.wait()
            if self._closed:
                raise _Closed
        with self._lock:
            self._read.extend(events)
            self._count += len(events)
