"""The viewer side of the live stream: a :class:`Feed` over a Unix socket.

:class:`LiveFeed` connects and reads the hello (the program's meta) and the
history the program still holds (for at most :data:`CATCH_UP` seconds) before
it returns, so the UI can be built at once. Then a reader thread takes the
updates: their records are resolved and aggregated here, by a
:class:`~.replica.Replica`, so counts, rates, timers, connections and warnings
are the program's own, exact, however many events the UI shows. It keeps the
newest snapshot and a bounded queue of new events; :meth:`LiveFeed.poll`
only takes what is there.

``viewer_dropped`` counts every event that reached the program's record but
not this viewer's event log: left out of a poll while the program is busy
(the log shows a sample: the newest ``sample`` events of each poll), pushed
out of the queue here because the UI polled too rarely, or lost because
the program's ring dropped records before this viewer read them. The history
the hello brings is not new: what of it does not fit is no drop, so a fresh
attach shows none.
"""

from __future__ import annotations

import bisect
import os
import socket
import threading
import time
from collections import deque
from dataclasses import replace
from typing import Any

from reactortrace.core.events import Event
from reactortrace.core.faultdump import blocked_from_dump, reactor_stack
from reactortrace.core.feed import BUSY_RATE, ENDED, LIVE, PAUSED, FeedUpdate
from reactortrace.core.snapshot import Snapshot
from reactortrace.core.trace import Trace
from reactortrace.errors import ReactorTraceError
from reactortrace.live import paths, protocol
from reactortrace.live.deadman import TIMEOUT, read_dump, stacks_path
from reactortrace.live.replica import Replica

#: Events kept for the next poll at most (the oldest go first, counted).
MAX_EVENTS_QUEUED = 2_000
#: Events one poll hands over at most while the program is busy: the log
#: shows a sample of the rest (counted), so the UI's work stays bounded.
MAX_EVENTS_PER_POLL = 200
CONNECT_TIMEOUT = 5.0
#: Seconds the feed takes at most, before it returns, to read the program's history.
CATCH_UP = 2.0
#: Seconds to wait for a program's whole recording (a million events take a few).
SAVE_TIMEOUT = 60.0
_RECV = 262_144


class LiveFeed:
    """The live state of a program that serves the stream on ``path``.

    ``shows_output`` is False: the program's output goes wherever the program
    writes it, not into the stream (``run`` shows it, through its own feed).

    Raises :class:`ReactorTraceError` if nothing answers there with a hello
    within ``timeout`` seconds.
    """

    shows_output = False

    def __init__(
        self,
        path: str,
        *,
        timeout: float = CONNECT_TIMEOUT,
        max_events: int = MAX_EVENTS_QUEUED,
        sample: int = MAX_EVENTS_PER_POLL,
    ) -> None:
        if max_events < 1 or sample < 1:
            raise ValueError("max_events and sample must be positive")
        self.path = path
        self._sock = _connect(path, timeout)
        self._splitter = protocol.LineSplitter()
        self._lock = threading.Lock()
        self._events: deque[Event] = deque()
        self._max_events = max_events
        self._sample = sample
        self._polled = False
        self._snapshot = Snapshot(0)
        self._heard = time.monotonic()  # when the program last sent something
        self._shown: Snapshot = self._snapshot  # what the latest poll returned
        self._shown_position = 0  # and the position it said (frozen while paused)
        self._position = 0
        self._lost = 0
        self._overflow = 0
        self._history = 0  # events of the hello still queued (never counted as drops)
        self._paused = False
        self._ended = False
        self._closed = False
        #: Why the stream ended: the server's reason, or "connection closed".
        self.end_reason: str | None = None
        self._error: str | None = None
        self._pending: list[bytes] = []  # lines that came with the hello
        self._saving: SavedTrace | None = None  # the recording asked for, as it arrives
        try:
            hello = self._read_hello(timeout)
            if hello.get("protocol") != protocol.PROTOCOL:
                raise protocol.ProtocolError(
                    f"live stream: protocol {hello.get('protocol')!r}, this viewer reads "
                    f"{protocol.PROTOCOL} (reactortrace versions differ)")
            self._replica = Replica(hello)
            self._catch_up(min(timeout, CATCH_UP))
        except BaseException:
            self._sock.close()
            raise
        self.meta: dict[str, Any] = hello.get("meta") or {}
        self.interval = (hello.get("interval_ms") or 100) / 1000
        self._thread = threading.Thread(target=self._read, name="reactortrace-viewer", daemon=True)
        self._thread.start()

    # -- Feed --------------------------------------------------------------

    def poll(self) -> FeedUpdate:
        """What arrived since the last poll (never blocks on the socket)."""
        with self._lock:
            if self._error is not None:
                raise ReactorTraceError(self._error)
            if not self._paused:
                self._shown = self._snapshot
                self._shown_position = self._position
            events = tuple(self._events)
            self._events.clear()
            cut = len(events) - self._sample
            if cut > 0 and self._polled and self._snapshot.loop.events_per_second >= BUSY_RATE:
                self._overflow += max(0, cut - self._history)  # history is no drop
                events = events[cut:]
            self._polled = True
            silent = 0.0 if self._ended else time.monotonic() - self._heard
            self._history = 0
            return FeedUpdate(
                snapshot=held_lock(self._shown, self.path, silent),
                events=events,
                state=self.state,
                viewer_dropped=self.viewer_dropped,
                position=self._shown_position,
                duration=self._position,
                silent=silent,
            )

    def save_trace(self, timeout: float = SAVE_TIMEOUT) -> Trace:
        """The program's whole recording (its ring, and a snapshot of now), asked
        for over the socket; :class:`ReactorTraceError` if it does not come."""
        saving = SavedTrace(self.path)
        with self._lock:
            if self._ended:
                raise ReactorTraceError("the program's live stream has ended")
            self._saving = saving
        try:
            self._sock.sendall(protocol.SAVE)
        except OSError as exc:
            raise ReactorTraceError(f"cannot ask the program for its trace: {exc}") from None
        if not saving.done.wait(timeout):
            raise ReactorTraceError(f"the program did not send its trace within {timeout:g}s")
        self._saving = None
        return saving.result()

    def pause(self) -> None:
        """Keep showing the present snapshot; events arriving from now on are skipped."""
        with self._lock:
            if not self._paused:
                self._paused = True
                self._shown = self._snapshot
                self._shown_position = self._position

    def resume(self) -> None:
        """Show the live state again."""
        with self._lock:
            self._paused = False

    def close(self) -> None:
        """Disconnect; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        if self._thread is not threading.current_thread():
            self._thread.join(1.0)
        self._sock.close()

    # -- state -------------------------------------------------------------

    @property
    def state(self) -> str:
        """``ended`` once the stream is over, else ``paused`` or ``live``."""
        if self._ended:
            return ENDED
        return PAUSED if self._paused else LIVE

    @property
    def ended(self) -> bool:
        """Whether the program's stream is over (it stopped, or went away)."""
        return self._ended

    @property
    def latest(self) -> Snapshot:
        """The newest snapshot received (paused or not)."""
        return self._snapshot

    @property
    def viewer_dropped(self) -> int:
        """Events this viewer did not get (see the module docstring)."""
        return self._lost + self._overflow

    # -- reading (the reader thread) ---------------------------------------

    def _read_hello(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ReactorTraceError(f"no answer from {self.path}")
            self._sock.settimeout(left)
            try:
                data = self._sock.recv(_RECV)
            except socket.timeout:
                continue
            except OSError as exc:
                raise ReactorTraceError(f"cannot read from {self.path}: {exc.strerror or exc}")
            if not data:
                raise ReactorTraceError(f"{self.path} closed the connection (too many viewers?)")
            lines = self._splitter.feed(data)
            if lines:
                hello = protocol.decode(lines[0])
                if hello["type"] != protocol.HELLO:
                    raise protocol.ProtocolError("live stream: no hello")
                self._sock.settimeout(None)
                self._pending = lines[1:]
                return hello

    def _catch_up(self, wait: float) -> None:
        """Take the history the hello announced, for at most ``wait`` seconds
        (the reader thread takes the rest)."""
        lines, self._pending = self._pending, []
        deadline = time.monotonic() + wait
        while not (self._replica.caught_up or self._ended):
            if lines:
                self._handle(protocol.decode(lines.pop(0)))
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._sock.settimeout(left)
            try:
                data = self._sock.recv(_RECV)
            except socket.timeout:
                break
            except OSError:
                data = b""
            if not data:
                self._end("connection closed")
                break
            lines = self._splitter.feed(data)
        self._pending = lines
        self._sock.settimeout(None)

    def _read(self) -> None:
        try:
            for line in self._pending:
                self._handle(protocol.decode(line))
            self._pending = []
            while not self._ended:
                try:
                    data = self._sock.recv(_RECV)
                except OSError:
                    data = b""
                if not data:
                    self._end("connection closed")
                    return
                for line in self._splitter.feed(data):
                    self._handle(protocol.decode(line))
        except Exception as exc:  # noqa: BLE001 - said once by poll(), never a thread traceback
            with self._lock:
                self._error = str(exc) if isinstance(exc, ReactorTraceError) else (
                    f"live stream from {self.path} failed: {type(exc).__name__}"
                )
                self._ended = True

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        self._heard = time.monotonic()
        if kind == protocol.UPDATE:
            replica = self._replica
            events, lost = replica.take(message)
            snapshot = None
            if "snapshot" in message:
                snapshot = replica.snapshot(protocol.read_snapshot(message))
            elif events:  # history on its way: its aggregates so far
                snapshot = replica.snapshot(replace(self._snapshot, ts=replica.state.last_end))
            old = _history(events, replica.history_last)
            with self._lock:
                self._lost += lost
                if snapshot is not None:
                    self._take_snapshot(snapshot)
                self._take_history(events[:old])
                self._take_events(events[old:])
        elif kind == protocol.END:
            self._end(str(message.get("reason") or "ended"))
        elif kind == protocol.HELLO:
            raise protocol.ProtocolError("live stream: a second hello")
        elif self._saving is not None:
            self._saving.take(kind, message)

    def _take_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._position = max(self._position, snapshot.ts)

    def _take_history(self, events: list[Event]) -> None:
        """Events recorded before this viewer came: the newest that fit are
        queued, and none counts as dropped."""
        if not events:
            return
        queue = self._events
        queue.extend(events[-self._max_events :])
        while len(queue) > self._max_events:
            queue.popleft()
        self._history = len(queue)

    def _take_events(self, events: list[Event]) -> None:
        if self._paused or not events:
            return
        excess = len(self._events) + len(events) - self._max_events
        if excess > 0:
            history = min(excess, self._history)  # the oldest queued: pushed out first
            self._history -= history
            self._overflow += excess - history
            if excess >= len(self._events):
                self._events.clear()
                events = events[-self._max_events :]
            else:
                for _ in range(excess):
                    self._events.popleft()
        self._events.extend(events)

    def _end(self, reason: str) -> None:
        with self._lock:
            if self._closed:
                return  # our own close(), not the program's end
            if self.end_reason is None:
                self.end_reason = reason
            self._ended = True


class SavedTrace:
    """A recording arriving in parts (``trace``, ``trace-events``..., ``trace-end``)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.done = threading.Event()
        self.meta: dict[str, Any] = {}
        self.snapshot: Snapshot | None = None
        self.dropped = 0
        self.events: list[Event] = []
        self.error: str | None = None

    def take(self, kind: str, message: dict[str, Any]) -> None:
        """One part (on the reader thread)."""
        if kind == protocol.TRACE:
            self.meta = dict(message.get("meta") or {})
            self.snapshot = protocol.read_snapshot(message)
            self.dropped = int(message.get("dropped") or 0)
        elif kind == protocol.TRACE_EVENTS:
            self.events.extend(protocol.read_events(message))
        elif kind == protocol.TRACE_END:
            self.error = message.get("error")
            self.done.set()

    def result(self) -> Trace:
        if self.error is not None:
            raise ReactorTraceError(f"the program could not send its trace: {self.error}")
        return Trace(meta=self.meta, events=self.events, snapshot=self.snapshot,
                     dropped=self.dropped)


def _connect(path: str, timeout: float) -> socket.socket:
    """A connection to the server on ``path``, once :func:`paths.check_socket`
    and the server's credentials say it is the user's own program."""
    if os.path.exists(path):
        owner = paths.check_socket(path)
    else:
        raise ReactorTraceError(f"no such socket: {path}")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except FileNotFoundError:
        sock.close()
        raise ReactorTraceError(f"no such socket: {path}") from None
    except ConnectionRefusedError:
        sock.close()
        raise ReactorTraceError(f"nothing listens on {path} (the program has ended?)") from None
    except OSError as exc:
        sock.close()
        raise ReactorTraceError(f"cannot connect to {path}: {exc.strerror or exc}") from None
    peer = paths.peer_uid(sock)
    if peer is not None and peer not in (owner, 0):
        sock.close()
        raise ReactorTraceError(
            f"{path} is served by a process of another user (uid {peer}): not trusted"
        )
    return sock


def held_lock(snapshot: Snapshot, socket: str, silent: float) -> Snapshot:
    """``snapshot`` with the block faulthandler saw, when the program has been
    silent longer than its dead man's switch waits (C code holding the GIL:
    see :mod:`reactortrace.live.deadman`); as it is otherwise."""
    if silent < TIMEOUT:
        return snapshot
    stack = reactor_stack(read_dump(stacks_path(socket)))
    if stack is None:
        return snapshot
    now = snapshot.ts + int(silent * 1e9)
    seen = snapshot.blocked
    since = seen.since if seen is not None else snapshot.ts
    blocked = blocked_from_dump(stack, since, now - since)
    if seen is not None:  # the watchdog saw it start: it knows what was dispatched
        blocked = replace(blocked, name=seen.name, kind=seen.kind, made_at=seen.made_at)
    return replace(snapshot, blocked=blocked)


def _history(events: list[Event], last: int) -> int:
    """How many of ``events`` (in order) are history: numbered ``last`` or lower."""
    if not events or events[0].seq > last:
        return 0
    if events[-1].seq <= last:
        return len(events)
    return bisect.bisect_right(events, last, key=lambda event: event.seq)
