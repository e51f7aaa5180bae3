"""Write the trace from a process of its own: the program only ships raw records.

A :class:`Capture` starts a writer process (:mod:`.capture_writer`) and, from
a thread of ours every ``interval`` seconds, sends it the ring's new records
as they are (packed bytes, which need no work here) with what each newly
interned object stands for (its name, class, code lines: :class:`Facts`),
once per object. Only the rare records that hold objects (connections,
cancels, slow dispatches, warnings) are resolved here. The writer resolves
the rest, feeds its own :class:`~reactortrace.core.state.LoopState` and
writes the file: JSON Lines as batches come (a program killed with SIGKILL
leaves every batch sent), JSON and Chrome when :meth:`write` asks. The program's
interpreter neither builds an event per record nor encodes JSON, and the
writer runs on another core.

The ring stays the reference: when the writer cannot be started or fails,
:attr:`Capture.error` says why and the caller writes in-process instead.
"""

from __future__ import annotations

import os
import pickle
import select
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from ..core import forks
from ..core.periodic import Periodic
from .facts import FRAME as _FRAME
from .facts import Facts, facts_of
from .resolve import Resolver

__all__ = ["Capture", "Facts", "facts_of", "writer_command"]

#: Seconds between two shipments (a SIGKILL loses at most about this much).
INTERVAL = 0.2
#: Seconds :meth:`Capture.write` waits for the writer's answer.
ANSWER_WAIT = 120.0
#: Records sent in one message at most (what the writer holds resolved at a time).
SHIP_RECORDS = 10_000
def writer_command() -> list[str]:
    """The writer process's command: this interpreter, finding our packages
    where this process finds them (the program's own path may not have them),
    without importing them here (the program need not pay for them)."""
    import importlib.util

    roots = []
    for name in ("reactortrace", "orjson", "msgspec"):
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
        if origin is None:
            raise ImportError(f"{name} cannot be found")
        root = os.path.dirname(os.path.dirname(os.path.abspath(origin)))
        if root not in roots:
            roots.append(root)
    program = (f"import sys; sys.path[:0] = {roots!r}; "
               "from reactortrace.instrumentation.capture_writer import main; main()")
    # Isolated (-I) and without site (-S): nothing of the program's
    # environment or site-packages comes in, and it starts sooner.
    return [sys.executable, "-I", "-S", "-c", program]


class Capture:
    """Ships a tracer's records to a writer process that writes ``path`` in
    ``fmt`` (``json``, ``jsonl`` or ``chrome``); see the module doc. ``path`` may be given
    later (:meth:`set_path`): the writer starts and takes records meanwhile."""

    def __init__(self, tracer: Any, path: str | None, fmt: str, interval: float = INTERVAL,
                 on_error: Callable[[str], None] | None = None) -> None:
        self.tracer = tracer
        #: None until :meth:`set_path` (the writer holds what it takes meanwhile).
        self.path = path
        self._path_sent = path
        self.format = fmt
        self.closed = False
        self.events_written = 0
        #: The ring's records the last write covered (all up to this count).
        self.records_written = 0
        #: Why the capture stopped working, if it did (the trace is then
        #: written in-process).
        self.error: str | None = None
        rec = tracer.recorder
        self._ring = rec.ring
        self._objects = rec.interner.objects
        # Rare records are resolved here, with a resolver of our own.
        self._resolver = Resolver(rec.start, rec.start_wall, rec.interner.objects,
                                  tracer._resolver.before)
        self._seen = -1
        self._facts = 0
        self._on_error = on_error
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        forks.hold_across_fork(self)
        # Its ticks never wait for the lock: a write under way ships for them,
        # and stopping the thread from under the lock must not wait for it.
        self._thread = Periodic(lambda: self.ship(wait=False), interval,
                                "reactortrace-capture", on_error=self._failed)
        self._thread.start()
        # The writer starts at once, beside the program (it takes a moment).
        threading.Thread(target=self.ship, name="reactortrace-capture-start", daemon=True).start()

    def _start(self) -> None:
        """Start the writer (from our thread: never inside one of the program's dispatches)."""
        tracer, rec = self.tracer, self.tracer.recorder
        self._process = subprocess.Popen(
            writer_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True,
        )
        self._send(("start", {
            "path": self.path, "format": self.format, "meta": tracer.meta,
            "start": rec.start, "start_wall": rec.start_wall,
            "before": tracer._resolver.before, "thresholds": tracer.thresholds,
            "held": rec.ring.size,
        }))
        self._path_sent = self.path

    # -- shipping ------------------------------------------------------------

    def _send(self, message: Any) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        assert self._process is not None
        stdin = self._process.stdin
        assert stdin is not None
        stdin.write(_FRAME.pack(len(data)) + data)
        stdin.flush()

    def ship(self, wait: bool = True) -> bool:
        """Send the records appended since the last shipment (False once
        failed); without ``wait``, nothing if another shipment is under way."""
        if not self._lock.acquire(blocking=wait):
            return True
        try:
            if self.error is not None or self.closed:
                return False
            try:
                self._ship()
            except Exception as exc:  # noqa: BLE001 - the caller writes in-process
                self._fail(exc)
                return False
            return True
        finally:
            self._lock.release()

    def set_path(self, path: str) -> bool:
        """The file to write, when it was not known at the start (False if the
        capture failed). Never waits: the next shipment tells the writer."""
        self.path = path
        return self.error is None

    def _ship(self) -> None:
        if self._process is None:
            self._start()
        if self.path != self._path_sent:
            self._send(("path", self.path))
            self._path_sent = self.path
        first, records = self._ring.since(self._seen)
        if not records:
            return
        # Interned before their records were appended: all are known by now.
        objects = self._objects
        known = len(objects)
        facts = {ref: facts_of(objects[ref]) for ref in range(self._facts, known)}
        resolve = self._resolve_rare
        for start in range(0, len(records), SHIP_RECORDS):
            part = records[start:start + SHIP_RECORDS]
            items = [record if type(record) is bytes else resolve(record, seq)
                     for seq, record in enumerate(part, first + start)]
            self._send(("records", first + start, facts, items))
            facts = {}
            self._facts = known
            self._seen = first + start + len(part) - 1

    def _resolve_rare(self, record: tuple[Any, ...], seq: int) -> tuple[Any, ...] | None:
        for event in self._resolver.resolve((record,), seq):
            return (event.seq, event.ts, event.dur, event.kind, event.name, event.args)
        return None

    # -- writing -------------------------------------------------------------

    def write(self, meta: dict[str, Any] | None = None, final: bool = False) -> int:
        """Have the writer write the trace as of now (JSON: the whole file;
        JSON Lines, when ``final``: the snapshot and the end line), with
        ``meta``'s keys added; the number of events written.

        The writer stays after a ``final`` write: what is recorded after it
        (a slow dispatch the watchdog reports late, the program's exit) is
        written by it again (JSON: the file anew from what it holds; JSON
        Lines: the end lines taken back, the events added, and ended again),
        rather than by the program resolving its whole ring; :meth:`close`
        ends it.

        Raises :class:`RuntimeError` if the writer failed (``error`` says why).
        """
        tracer = self.tracer
        with self._lock:
            if self.error is not None:
                raise RuntimeError(self.error)
            if self.path is None:
                raise RuntimeError("the trace's path is not known yet")
            try:
                block = tracer._watchdog.refresh() if tracer._watchdog is not None else None
                self._ship()
                ongoing = None
                if block is not None:
                    record = block.record(tracer.recorder.clock())
                    ongoing = self._resolve_rare(record, self._seen + 1)
                now = tracer.now()
                view = tracer.pending_deferreds(fresh=True)
                ring = self._ring
                self._send(("write", {
                    "meta": {**tracer.meta, **(meta or {}), "recording": tracer.recording()},
                    "now": now, "blocked": tracer.blocked(now), "deferreds": view,
                    "dropped": ring.dropped, "first_held": ring.total - len(ring),
                    "ongoing": ongoing, "final": final,
                }))
                answer = self._answer()
            except Exception as exc:  # noqa: BLE001
                self._fail(exc)
                raise RuntimeError(self.error) from None
            if answer[0] != "ok":
                self._fail(RuntimeError(answer[1]))
                raise RuntimeError(self.error)
            self.events_written = answer[1]
            self.records_written = self._seen + 1
            return self.events_written

    def _answer(self) -> tuple[str, Any]:
        assert self._process is not None
        stdout = self._process.stdout
        assert stdout is not None
        head = _read(stdout, _FRAME.size)
        answer: tuple[str, Any] = pickle.loads(_read(stdout, _FRAME.unpack(head)[0]))
        return answer

    def close(self) -> None:
        """Stop shipping and let the writer end (a JSON Lines file not written
        with ``final`` stays cut short). Idempotent."""
        with self._lock:
            self._end()

    def discard(self) -> None:
        """Stop at once, the writer killed rather than waited for (it may still
        be starting): the caller writes the trace itself, over whatever the
        writer wrote. Idempotent."""
        with self._lock:
            self._end(kill=True)

    def abandon(self) -> None:
        """In a forked child: the writer is the parent's. Let go of it without
        a byte to it (a fork waits for a shipment under way to end)."""
        self.closed = True
        self._thread.stop()
        self._close_pipes()

    def _end(self, kill: bool = False) -> None:
        """Under the lock: stop shipping; the writer ends (at once with ``kill``)."""
        if self.closed:
            return
        self.closed = True
        self._thread.stop()
        process = self._process
        if process is None:
            return
        if kill:
            process.kill()
        self._close_pipes()
        try:
            process.wait(timeout=ANSWER_WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _close_pipes(self) -> None:
        if self._process is None:
            return
        for pipe in (self._process.stdin, self._process.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass

    def _fail(self, exc: BaseException) -> None:
        """Under the lock: the writer is of no more use."""
        if self.error is None:
            self.error = f"the trace writer failed: {type(exc).__name__}: {exc}"
            if self._on_error is not None:
                self._on_error(self.error)
        self._end(kill=True)

    def _failed(self, exc: BaseException) -> None:
        """The shipping thread raised (not through :meth:`ship`)."""
        with self._lock:
            self._fail(exc)


def _read(stream: Any, size: int) -> bytes:
    """``size`` bytes from ``stream``, waiting at most :data:`ANSWER_WAIT` for each part."""
    data = b""
    while len(data) < size:
        ready, _, _ = select.select([stream], [], [], ANSWER_WAIT)
        if not ready:
            raise TimeoutError(f"no answer in {ANSWER_WAIT:g} s")
        part = os.read(stream.fileno(), size - len(data))
        if not part:
            raise EOFError("the writer ended")
        data += part
    return data
