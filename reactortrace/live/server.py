"""The server side of the live stream: runs in the traced process, on its own thread.

:class:`LiveServer` listens on a Unix socket with plain ``socket`` and
``selectors`` in a daemon thread: nothing is added to the program's reactor.
Every ``interval`` it has its :class:`Source` take the new records, and sends
each viewer the records it has not had yet, as they are (the viewer resolves
them: see :mod:`.replica`), with what only the program knows now.

Nothing a viewer does can make the program wait or grow. Sockets are
non-blocking; each viewer has a place in the record sequence and a bounded
send queue: records are encoded for it only while its queue has room, so a
slow viewer falls behind (it catches up when it reads again) and, only once
the ring has dropped what it had not read, is told how many records it lost.
A viewer that goes away is forgotten. The one request a viewer can send is
``save``: the program's user (or root) gets the whole recording, taken on
this thread (a blocked reactor does not stop it). Anything else viewers send
is read and ignored.
"""

from __future__ import annotations

import os
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from reactortrace.core.feed import BUSY_RATE
from reactortrace.core.snapshot import Snapshot
from reactortrace.live import protocol
from reactortrace.live.paths import peer_uid, private_dir, remove_stale, socket_ident

#: Seconds between two updates while someone watches.
INTERVAL = 0.09
#: Seconds between two updates while someone watches a quiet program (fewer
#: than BUSY_RATE records a second): each costs the program a little.
QUIET_INTERVAL = 0.4
#: Seconds between two looks at the program while nobody watches (keeps the
#: work of taking records, and of the first look, small and even).
IDLE_INTERVAL = 1.0
#: Bytes waiting to be sent to one viewer at most (records are encoded for it
#: only while its queue holds less).
MAX_QUEUE = 4 * 1024 * 1024
MAX_VIEWERS = 32
#: Seconds the last update and the end message may take to leave at the end.
LINGER = 0.25
_RECV = 65_536


class Source(Protocol):
    """What the server streams: a traced program's records, seen from another thread
    (:class:`~reactortrace.instrumentation.shipping.RecordShipper`)."""

    meta: dict[str, Any]
    #: What turns records' times and sites into events' (see :mod:`.protocol`).
    clock: dict[str, Any]
    thresholds: Any

    @property
    def first_held(self) -> int:
        """The sequence number of the oldest record still held."""

    @property
    def last(self) -> int:
        """The sequence number of the last record taken (-1: none yet)."""

    def advance(self) -> int:
        """Take the records recorded since the last call; the last one's number."""

    def take(self, after: int, limit: int) -> Any:
        """A shipment of at most ``limit`` taken records numbered above ``after``, or None."""

    def facts(self, start: int, stop: int) -> list[Any]:
        """What is known of interned objects ``start`` .. ``stop - 1``."""

    def extras(self) -> Snapshot:
        """What only the program knows now: its clock, losses, a block, pending Deferreds."""


class Viewer:
    """One connected viewer: its socket, its bounded send queue, its place."""

    __slots__ = ("sock", "fd", "queue", "queued", "offset", "lost", "greeted", "writing",
                 "inbox", "next", "facts")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.queue: deque[bytes] = deque()
        self.queued = 0  # bytes in the queue not sent yet
        self.offset = 0  # bytes of queue[0] already sent
        self.lost = 0  # records that left the ring before this viewer had them
        self.greeted = False
        self.writing = False  # registered for EVENT_WRITE
        self.inbox = b""  # an unfinished request line
        self.next = 0  # the number of the next record it is to get
        self.facts = 0  # interned objects it has been told of

    def push(self, data: bytes) -> None:
        self.queue.append(data)
        self.queued += len(data)

    def send(self) -> None:
        """Send what the socket takes now; raises OSError if the viewer is gone."""
        while self.queue:
            head = self.queue[0]
            try:
                sent = self.sock.send(memoryview(head)[self.offset :])
            except (BlockingIOError, InterruptedError):
                return
            self.offset += sent
            self.queued -= sent
            if self.offset < len(head):
                return
            self.queue.popleft()
            self.offset = 0


class LiveServer:
    """Serve ``source`` to viewers on the Unix socket ``path``.

    ``say`` reports, once, a failure that stopped the server (the program goes
    on). :meth:`finish` is idempotent and does nothing in a forked child,
    which calls :meth:`abandon` instead. ``orphans``: sockets ``(path, pid,
    ident)`` of the processes this one was forked from, removed from the
    thread once their owner has ended (``twistd``'s parents end with
    ``os._exit``, leaving theirs behind).
    """

    def __init__(
        self,
        source: Source,
        path: str,
        *,
        interval: float = INTERVAL,
        quiet_interval: float = QUIET_INTERVAL,
        idle_interval: float = IDLE_INTERVAL,
        max_queue: int = MAX_QUEUE,
        max_viewers: int = MAX_VIEWERS,
        linger: float = LINGER,
        say: Callable[[str], None] | None = None,
        orphans: list[tuple[str, int, tuple[int, int, int] | None]] | None = None,
    ) -> None:
        if interval <= 0 or idle_interval <= 0 or max_queue < 1:
            raise ValueError("intervals and queue sizes must be positive")
        self.source = source
        self.path = path
        self.interval = interval
        self.quiet_interval = max(interval, quiet_interval)
        self._busy = False
        self._looked = (time.monotonic(), -1)  # when the last tick looked, and the last record
        self.idle_interval = idle_interval
        self.max_queue = max_queue
        self.max_viewers = max_viewers
        self.linger = linger
        self._say = say or (lambda message: None)
        self._viewers: dict[int, Viewer] = {}
        self._selector = selectors.DefaultSelector()
        self._listener: socket.socket | None = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._stop = threading.Event()
        self._reason = "exit"
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self._finished = False
        self._lock = threading.Lock()
        self.failed: str | None = None
        #: (device, inode, ctime) of the socket once bound, to tell it from a later one.
        self.ident: tuple[int, int, int] | None = None
        self.orphans = list(orphans or [])

    # -- control (any thread) ---------------------------------------------

    def start(self) -> None:
        """Bind the socket (0600, in a private directory) and start the thread.

        The socket is bound and listening under a temporary name, then renamed
        into place: a viewer that sees the path can always connect. (No umask
        games: the umask is the whole process's, and the program's.)
        """
        private_dir(os.path.dirname(self.path))
        if os.path.exists(self.path):
            os.unlink(self.path)  # left by a process with the same pid that was killed
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        binding = f"{self.path}.new"
        try:
            listener.bind(binding)
            os.chmod(binding, 0o600)
            listener.listen(8)
            listener.setblocking(False)
            os.rename(binding, self.path)
            self.ident = socket_ident(self.path)
        except BaseException:
            listener.close()
            if os.path.exists(binding):
                os.unlink(binding)
            self._close_all()
            raise
        self._listener = listener
        self._selector.register(listener, selectors.EVENT_READ, self._accept)
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, self._woken)
        self._thread = threading.Thread(target=self._run, name="reactortrace-live", daemon=True)
        self._thread.start()

    def finish(self, reason: str = "exit", timeout: float = 2.0) -> None:
        """Send the last update and an end message, close everything, remove the socket."""
        with self._lock:
            if self._finished or os.getpid() != self._pid:
                return
            self._finished = True
        self._reason = reason
        self._stop.set()
        thread = self._thread
        if thread is None:
            self._close_all()
            return
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if thread is not threading.current_thread():
            thread.join(timeout)

    def abandon(self) -> None:
        """In a forked child: this server is the parent's. Close the child's
        copies of its sockets (so viewers see the parent go when it goes)
        without a word to them and without removing the parent's socket."""
        with self._lock:
            if self._finished or os.getpid() == self._pid:
                return
            self._finished = True
        self._stop.set()
        socks = [viewer.sock for viewer in self._viewers.values()]
        socks += [s for s in (self._listener, self._wake_r, self._wake_w) if s is not None]
        for sock in socks:
            sock.close()
        self._viewers.clear()
        self._listener = None
        try:
            self._selector.close()
        except (OSError, RuntimeError):
            pass

    def orphaned(self) -> tuple[str, int, tuple[int, int, int] | None] | None:
        """This server's socket as an orphan for a forked child to remove
        when this process has ended (None if it never bound one)."""
        return (self.path, self._pid, self.ident) if self.ident is not None else None

    @property
    def viewers(self) -> int:
        """How many viewers are connected now."""
        return len(self._viewers)

    def viewer_losses(self) -> list[int]:
        """Records each connected viewer lost (a copy, for tests)."""
        return [viewer.lost for viewer in list(self._viewers.values())]

    def viewer_queues(self) -> list[int]:
        """Bytes waiting for each connected viewer (a copy, for tests)."""
        return [viewer.queued for viewer in list(self._viewers.values())]

    # -- the thread --------------------------------------------------------

    def _run(self) -> None:
        next_tick = time.monotonic()
        try:
            while not self._stop.is_set():
                for key, mask in self._selector.select(max(0.0, next_tick - time.monotonic())):
                    key.data(key, mask)
                now = time.monotonic()
                if now >= next_tick or self._has_new_viewers():
                    self._tick()
                    pause = self.idle_interval
                    if self._viewers:
                        pause = self.interval if self._busy else self.quiet_interval
                    next_tick = now + pause
            self._last_words()
        except Exception as exc:  # noqa: BLE001 - the program must never see it
            self.failed = f"{type(exc).__name__}: {exc}"
            self._say(f"live view stopped: {self.failed}")
        finally:
            self._close_all()

    def _has_new_viewers(self) -> bool:
        return any(not viewer.greeted for viewer in self._viewers.values())

    def _tick(self) -> None:
        if self.orphans:
            self._remove_orphans()
        source = self.source
        last = source.advance()
        now, (then, before) = time.monotonic(), self._looked
        self._busy = last - before >= BUSY_RATE * (now - then)
        self._looked = (now, last)
        if not self._viewers:
            return
        shared = _Shared(source)
        for viewer in list(self._viewers.values()):
            if not viewer.greeted:
                viewer.next = source.first_held
                viewer.push(protocol.hello(source.meta, self.interval, source.clock,
                                           source.thresholds, viewer.next, source.last))
                viewer.greeted = True
            self._catch_up(viewer, shared, every_tick=True)

    def _catch_up(self, viewer: Viewer, shared: "_Shared", every_tick: bool = False) -> None:
        """Queue the records ``viewer`` has not had, and send them, as long as
        the socket takes them and its queue has room; the last update carries
        the program's snapshot (``every_tick``: even with no records)."""
        source = self.source
        last = source.last
        sent = False
        try:
            while viewer.next <= last:
                if viewer.queued >= self.max_queue:
                    viewer.send()
                    if viewer.queued >= self.max_queue:
                        break
                shipment = source.take(viewer.next - 1, protocol.UPDATE_RECORDS)
                if shipment is None:
                    break
                viewer.push(shared.update(viewer.next, viewer.facts, shipment, last))
                viewer.lost += shipment.first - viewer.next
                viewer.next = shipment.first + shipment.size
                viewer.facts = max(viewer.facts, shipment.known)
                sent = True
        except OSError:
            self._drop(viewer)
            return
        if every_tick and not sent and viewer.next > last and viewer.queued < self.max_queue:
            viewer.push(shared.update(viewer.next, viewer.facts, None, last))
        self._flush(viewer)

    def _remove_orphans(self) -> None:
        self.orphans = [o for o in self.orphans if not remove_stale(*o)]

    def _last_words(self) -> None:
        """The final update and the end message, with a short bounded wait."""
        if self._listener is not None:
            self._forget_listener()
        if not self._viewers:
            return
        self._tick()
        goodbye = protocol.end(self._reason)
        for viewer in list(self._viewers.values()):
            viewer.push(goodbye)
            self._flush(viewer)
        deadline = time.monotonic() + self.linger
        while self._viewers and any(v.queue for v in self._viewers.values()):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for key, mask in self._selector.select(left):
                key.data(key, mask)

    # -- selector callbacks --------------------------------------------------

    def _accept(self, key: selectors.SelectorKey, mask: int) -> None:
        assert self._listener is not None
        while True:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if len(self._viewers) >= self.max_viewers or not _trusted(sock):
                sock.close()
                continue
            sock.setblocking(False)
            viewer = Viewer(sock)
            self._viewers[viewer.fd] = viewer
            self._selector.register(sock, selectors.EVENT_READ, self._viewer_event)

    def _viewer_event(self, key: selectors.SelectorKey, mask: int) -> None:
        viewer = self._viewers.get(key.fd)
        if viewer is None:
            return
        if mask & selectors.EVENT_READ and not self._read_requests(viewer):
            self._drop(viewer)
            return
        if mask & selectors.EVENT_WRITE:
            self._flush(viewer)
            if viewer.greeted and not viewer.queue and viewer.fd in self._viewers:
                self._catch_up(viewer, _Shared(self.source))

    def _read_requests(self, viewer: Viewer) -> bool:
        """Read what a viewer sent and answer ``save``; False once it has gone
        (or sent a line far longer than any request)."""
        try:
            data = viewer.sock.recv(_RECV)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False
        if not data:
            return False
        *lines, viewer.inbox = (viewer.inbox + data).split(b"\n")
        if len(viewer.inbox) > protocol.MAX_REQUEST:
            return False
        if any(line.strip() == protocol.SAVE.strip() for line in lines):
            self._save(viewer)
        return True

    def _save(self, viewer: Viewer) -> None:
        """Send the whole recording to a viewer of the program's own user."""
        take = getattr(self.source, "trace", None)
        if not _trusted(viewer.sock):
            parts: Any = [protocol.trace_failed("only the program's user can save its trace")]
        elif take is None:
            parts = [protocol.trace_failed("this program cannot send its trace")]
        else:
            try:
                parts = protocol.trace_parts(take())
            except Exception as exc:  # noqa: BLE001 - the program must never see it
                parts = [protocol.trace_failed(f"{type(exc).__name__}: {exc}")]
        for part in parts:
            viewer.push(part)  # asked for: not subject to the update queue's limit
        self._flush(viewer)

    def _woken(self, key: selectors.SelectorKey, mask: int) -> None:
        try:
            self._wake_r.recv(64)
        except OSError:
            pass

    # -- viewers -----------------------------------------------------------

    def _flush(self, viewer: Viewer) -> None:
        try:
            viewer.send()
        except OSError:
            self._drop(viewer)
            return
        want = bool(viewer.queue)
        if want != viewer.writing:
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if want else 0)
            self._selector.modify(viewer.sock, events, self._viewer_event)
            viewer.writing = want

    def _drop(self, viewer: Viewer) -> None:
        self._viewers.pop(viewer.fd, None)
        try:
            self._selector.unregister(viewer.sock)
        except (KeyError, ValueError):
            pass
        viewer.sock.close()

    def _forget_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is None:
            return
        try:
            self._selector.unregister(listener)
        except (KeyError, ValueError):
            pass
        listener.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def _close_all(self) -> None:
        self._forget_listener()
        self._remove_orphans()
        for viewer in list(self._viewers.values()):
            self._drop(viewer)
        for sock in (self._wake_r, self._wake_w):
            sock.close()
        self._selector.close()


class _Shared:
    """The updates of one round, encoded once for all the viewers at one place,
    and the program's snapshot, taken once, when the first viewer needs it."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self._now: Snapshot | None = None
        self._encoded: dict[tuple[int, int], bytes] = {}

    def now(self) -> Snapshot:
        if self._now is None:
            self._now = self.source.extras()
        return self._now

    def update(self, start: int, facts: int, shipment: Any, last: int) -> bytes:
        """The update for a viewer at record ``start`` told of ``facts`` objects."""
        key = (start, facts) if shipment is not None else (-1, -1)
        data = self._encoded.get(key)
        if data is None:
            if shipment is None:
                data = protocol.update(None, (), self.now(), 0)
            else:
                known = self.source.facts(facts, shipment.known)
                up_to_date = shipment.first + shipment.size > last
                data = protocol.update(shipment, enumerate(known, facts),
                                       self.now() if up_to_date else None,
                                       shipment.first - start)
            self._encoded[key] = data
        return data


def _trusted(sock: socket.socket) -> bool:
    """Whether the viewer on ``sock`` runs as this process's user, or as root."""
    try:
        uid = peer_uid(sock)
    except OSError:
        return False
    return uid is None or uid in (os.getuid(), 0)
