"""In the attached process: instrument its reactor, serve it live, undo it all.

Imported by the bootstrap's thread (``reactortrace-attach``), which then
serves the attacher's control connection until it detaches:

- the tracer and the live server are made on the reactor thread, between two
  dispatches (``callFromThread``); so is ``Tracer.close()``, which restores
  the reactor exactly;
- the attacher sends one JSON object a line: ``{"do": "write"}`` writes the
  trace to the file it named when it attached, ``{"do": "detach"}`` detaches;
  the connection closing (the attacher quit, or was killed) detaches too;
- if the program stops its reactor meanwhile, the trace is written (when a
  file was named), everything is undone, and the attacher is told ``ended``.

What stays in the process after detaching: the modules imported, nothing else
(the thread ends, the socket is removed). Everything this module will need is
imported with it, on the bootstrap's thread, while the attacher's install
location is on ``sys.path``: nothing is imported later, on the reactor thread.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from typing import Any

from ..formats import chrome, jsonfile, jsonl  # noqa: F401 - imported now, used by export
from ..instrumentation.shipping import RecordShipper
from ..instrumentation.tracer import DEFAULT_SLOW_MS, Tracer
from ..instrumentation.watchdog import reactor_thread
from ..live.deadman import switch_beside
from ..live.paths import socket_path
from ..live.server import LiveServer
from ..say import say

#: Seconds the reactor thread has to run the install, or the undoing.
REACTOR_WAIT = 10.0
_current: Attachment | None = None
_lock = threading.Lock()


def current() -> Attachment | None:
    """The attachment serving now, if any (a second attach reuses its socket)."""
    return _current


def serve(reactor: Any, conn: socket.socket, params: dict[str, Any]) -> None:
    """Attach to ``reactor``, then serve ``conn`` until detached (this thread)."""
    global _current
    with _lock:
        if _current is not None:
            _send(conn, state="already", socket=_current.socket)
            conn.close()
            return
        attachment = _current = Attachment(reactor, conn, params)
    try:
        attachment.run()
    finally:
        with _lock:
            _current = None


class Attachment:
    """One attacher's session in this process."""

    def __init__(self, reactor: Any, conn: socket.socket, params: dict[str, Any]) -> None:
        self.reactor = reactor
        self.conn = conn
        self.params = params
        self.socket = ""
        self.tracer: Any = None
        self.server: Any = None
        self.stacks: Any = None  # the StackSwitch beside the socket (see live.deadman)
        self._trigger: Any = None
        self._undone = threading.Event()
        self._lock = threading.Lock()
        self._sending = threading.Lock()  # the reactor thread and this one both report

    # -- the attach thread -----------------------------------------------------

    def run(self) -> None:
        error = self._on_reactor(self._install)
        if error is not None:
            self._send(state="failed", reason=error)
            self._on_reactor(self._undo)
            self.conn.close()
            return
        self._send(state="attached", socket=self.socket, pid=os.getpid(),
                   reactor=self.tracer.meta.get("reactor"))
        try:
            self._serve()
        finally:
            self._detach()

    def _serve(self) -> None:
        buffer = b""
        while not self._undone.is_set():
            try:
                data = self.conn.recv(4096)
            except OSError:
                return
            if not data:
                return
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = json.loads(line or b"{}")
                if request.get("do") == "write":
                    self._send(**self._write())
                elif request.get("do") == "detach":
                    return

    def _detach(self) -> None:
        if not self._undone.is_set():
            error = self._on_reactor(self._undo)
            if error is not None:
                self._send(state="failed", reason=f"detaching: {error}")
        self._send(state="detached")
        try:
            self.conn.close()
        except OSError:
            pass

    def _on_reactor(self, work: Any) -> str | None:
        """Run ``work()`` on the reactor thread (directly if it has stopped);
        the error it raised, if any."""
        done = threading.Event()
        outcome: list[str | None] = [None]

        def run() -> None:
            try:
                work()
            except Exception as exc:  # noqa: BLE001 - never into the program
                outcome[0] = f"{type(exc).__name__}: {exc}"
            finally:
                done.set()

        if getattr(self.reactor, "running", False):
            self.reactor.callFromThread(run)
            if not done.wait(REACTOR_WAIT):
                return f"the reactor did not run reactortrace's call within {REACTOR_WAIT:g} s"
        else:
            run()
        return outcome[0]

    # -- the reactor thread ----------------------------------------------------

    def _install(self) -> None:
        params = self.params
        self.tracer = Tracer(
            self.reactor,
            slow_ms=float(params.get("slow_ms") or DEFAULT_SLOW_MS),
            before="before attach",
            program=sys.argv[0] if sys.argv and sys.argv[0] else None,
        )
        server = LiveServer(RecordShipper(self.tracer), socket_path(os.getpid()), say=say)
        server.start()
        self.server, self.socket = server, server.path
        # stacks for viewers even while C code holds the GIL
        self.stacks = switch_beside(server.path, reactor_thread)
        self._trigger = self.reactor.addSystemEventTrigger("after", "shutdown", self._stopped)

    def _undo(self) -> None:
        """Everything back as it was (idempotent; on the reactor thread)."""
        with self._lock:
            if self._undone.is_set():
                return
            self._undone.set()
        if self.stacks is not None:
            self.stacks.stop()
        if self.server is not None:
            self.server.finish("detached")
        if self._trigger is not None:
            try:
                self.reactor.removeSystemEventTrigger(self._trigger)
            except (ValueError, KeyError):
                pass  # already run and gone
        if self.tracer is not None:
            self.tracer.close()

    def _stopped(self) -> None:
        """The program stopped its reactor: write, undo, tell the attacher."""
        if self._undone.is_set():
            return
        self._trigger = None
        if self.params.get("output"):
            self._send(**self._write())
        if self.server is not None:
            self.server.finish("stopped")
        self._undo()
        self._send(state="ended")

    # -- both ------------------------------------------------------------------

    def _write(self) -> dict[str, Any]:
        path, format = self.params.get("output"), self.params.get("format")
        if not path or self.tracer is None:
            return {"state": "wrote", "path": None}
        try:
            self.tracer.export(path, format)
        except Exception as exc:  # noqa: BLE001
            return {"state": "write-failed", "path": path, "reason": str(exc)}
        return {"state": "wrote", "path": path, "events": len(self.tracer.recorder.ring),
                "dropped": self.tracer.dropped}

    def _send(self, **fields: Any) -> None:
        with self._sending:
            _send(self.conn, **fields)


def _send(conn: socket.socket, **fields: Any) -> None:
    try:
        conn.sendall((json.dumps(fields) + "\n").encode())
    except OSError:
        pass
