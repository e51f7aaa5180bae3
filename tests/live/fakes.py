"""Stand-ins for a traced program on the server side, and small waiting helpers."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from reactortrace.core import events as ev
from reactortrace.core.events import Event
from reactortrace.core.snapshot import Snapshot
from reactortrace.core.state import LoopState
from reactortrace.core.trace import Trace
from reactortrace.live import protocol

META: dict[str, Any] = {
    "program": "shop.py",
    "argv": ["shop.py"],
    "pid": 4242,
    "reactor": "twisted.internet.epollreactor.EPollReactor",
    "options": {"slow_ms": 100.0, "max_events": 1_000_000},
}


class FakeProgram:
    """A :class:`~reactortrace.live.server.Source`: tests add events, LoopState sums them up.

    It records every call the server makes, so a test can tell that viewers
    never reach anything but ``drain`` and ``snapshot``.
    """

    def __init__(self, meta: dict[str, Any] | None = None) -> None:
        self.meta = dict(meta or META)
        self.calls: list[str] = []
        self.drain_times: list[float] = []
        self._lock = threading.Lock()
        self._pending: list[Event] = []
        self.everything: list[Event] = []  # what a trace of it would hold
        self._state = LoopState()
        self._seq = 0
        self._start = time.monotonic_ns()
        self.fail: Exception | None = None

    def now(self) -> int:
        return time.monotonic_ns() - self._start

    def add(self, kind: str, name: str, dur: int = 0, **args: Any) -> Event:
        """Record one event now."""
        with self._lock:
            event = Event(self._seq, self.now(), dur, kind, name, args)
            self._seq += 1
            self._pending.append(event)
            self.everything.append(event)
            return event

    def add_timers(self, count: int, name: str = "shop.Shop.restock", pad: int = 0) -> None:
        """``count`` timer firings (``pad`` extra characters of site, to make them big)."""
        site = "shop.py:12" + "#" * pad
        for n in range(count):
            self.add(ev.TIMER, name, 1_000, timer=n, site=site, delay=0, late=0,
                     looping=False, error=None)

    @property
    def recorded(self) -> int:
        """Events recorded so far."""
        return self._seq

    def drain(self) -> list[Event]:
        self.calls.append("drain")
        if self.fail is not None:
            raise self.fail
        with self._lock:
            out, self._pending = self._pending, []
            self._state.feed(out)
        self.drain_times.append(time.monotonic())
        return out

    def snapshot(self) -> Snapshot:
        self.calls.append("snapshot")
        with self._lock:
            return self._state.snapshot(self.now())

    def trace(self) -> Trace:
        """The whole recording, for a viewer that asks to save it."""
        self.calls.append("trace")
        with self._lock:
            return Trace(meta=self.meta, events=list(self.everything),
                         snapshot=self._state.snapshot(self.now()), dropped=3)


def short_tempdir() -> str:
    """A fresh private directory with a short path (sun_path is ~100 bytes)."""
    path = tempfile.mkdtemp(prefix="rtl-", dir="/tmp")
    os.chmod(path, 0o700)
    return path


def wait_until(condition: Callable[[], Any], timeout: float = 10.0, step: float = 0.02,
               what: str = "") -> Any:
    """Poll ``condition`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(step)


def read_messages(sock: socket.socket, until: Callable[[list[dict[str, Any]]], bool],
                  timeout: float = 10.0) -> list[dict[str, Any]]:
    """Read protocol messages from a raw socket until ``until(messages)`` holds."""
    splitter = protocol.LineSplitter()
    messages: list[dict[str, Any]] = []
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    while not until(messages):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; got {[m['type'] for m in messages]}")
        data = sock.recv(1 << 20)
        if not data:
            break
        messages.extend(protocol.decode(line) for line in splitter.feed(data))
    return messages
