"""Stream a JSON Lines trace while the program runs, from a thread of our own.

The reactor thread only appends to the tracer's ring; every ``interval``
seconds a daemon thread takes what is new (``drain``), writes one line per
event and flushes the batch to the OS. Memory stays bounded however long the
run (one batch at a time), and a program killed with SIGKILL leaves a file
whose complete lines all load: at most the last interval is lost, and
:func:`reactortrace.load` reports the trace as cut short (no end line).

``drain`` is normally a :meth:`Tracer.subscribe` subscription, so the
stream gets every event whoever else reads them (the live server, snapshots).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from ..core import forks
from ..core.events import Event
from ..core.snapshot import Snapshot
from ..errors import TraceFileError
from .jsonl import JsonlWriter

log = logging.getLogger("reactortrace")

DEFAULT_INTERVAL = 0.2

SnapshotLike = dict[str, Any] | Snapshot | None
Drain = Callable[[], Sequence[Event | dict[str, Any]]]


class StreamWriter:
    """Writes the events ``drain()`` returns to ``path`` as they come.

    ``drain`` returns the events recorded since its previous call (a
    tracer subscription); it is called from the writer's thread, and from
    the caller's in :meth:`close`, never from both at once.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        meta: dict[str, Any],
        drain: Drain,
        interval: float = DEFAULT_INTERVAL,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("the stream interval must be positive")
        self.path = os.fspath(path)
        self.interval = interval
        self.events_written = 0
        self._drain = drain
        self._writer = JsonlWriter(self.path, meta)  # the meta line is out at once
        self._stop = threading.Event()
        self._lock = threading.Lock()
        # Held while bytes go out: a fork waits for a whole batch, so that no
        # half-written buffer is left in a child's copy of the file.
        self._writing = threading.Lock()
        forks.hold_across_fork(self, "_writing")
        self._closed = False
        self._error: str | None = None
        self._on_error = on_error or (lambda text: log.warning("reactortrace: %s", text))
        self._thread = threading.Thread(
            target=self._run, name="reactortrace-stream", daemon=True
        )
        self._thread.start()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def error(self) -> str | None:
        """Why streaming stopped early, if it did."""
        return self._error

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if not self._pump():
                return

    def _pump(self) -> bool:
        """Write what is new; False (and streaming off) if that failed."""
        if self._error is not None:
            return False
        try:
            events = self._drain()
            if events:
                with self._writing:
                    self._writer.write_events(events)
                self.events_written += len(events)
        except Exception as exc:  # noqa: BLE001 - never raise into the program
            if isinstance(exc, TraceFileError):
                self._error = str(exc)  # names the file already
            else:
                self._error = f"{self.path}: streaming failed: {type(exc).__name__}: {exc}"
            self._on_error(self._error)
            self._writer.close()
            return False
        return True

    def close(
        self,
        snapshot: SnapshotLike | Callable[[], SnapshotLike] = None,
        dropped: int = 0,
    ) -> None:
        """Write the last events, the final snapshot and the end line. Idempotent.

        ``snapshot`` may be a function, called after the last events were
        taken: a tracer's ``snapshot()`` takes pending events for itself, so
        calling it before would keep them out of the file.
        Raises :class:`TraceFileError` if streaming had failed (the file then
        loads as cut short).
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop.set()
            if self._thread is not threading.current_thread():
                self._thread.join()
            if self._pump():
                try:
                    final = snapshot() if callable(snapshot) else snapshot
                except Exception as exc:  # noqa: BLE001 - the end line matters more
                    log.warning("reactortrace: no final snapshot: %s: %s", type(exc).__name__, exc)
                    final = None
                try:
                    with self._writing:
                        self._writer.finish(final, dropped)
                except TraceFileError as exc:
                    self._error = str(exc)
            if self._error is not None:
                raise TraceFileError(self._error)

    def abandon(self) -> None:
        """In a forked child: the stream is the parent's. Stop without writing
        a byte to it (the child's copy of the file is pointed at /dev/null)."""
        self._closed = True
        self._stop.set()
        self._writer.disown()
        stop_reading = getattr(self._drain, "close", None)
        if stop_reading is not None:
            stop_reading()

    def __enter__(self) -> StreamWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
