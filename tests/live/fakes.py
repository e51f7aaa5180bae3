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
from reactortrace.core.diagnose import Thresholds
from reactortrace.core.events import Event
from reactortrace.core.snapshot import Snapshot
from reactortrace.core.state import LoopState
from reactortrace.core.trace import Trace
from reactortrace.instrumentation.shipping import Shipment
from reactortrace.live import protocol

META: dict[str, Any] = {
    "program": "shop.py",
    "argv": ["shop.py"],
    "pid": 4242,
    "reactor": "twisted.internet.epollreactor.EPollReactor",
    "options": {"slow_ms": 100.0, "max_events": 1_000_000},
}


class FakeProgram:
    """A :class:`~reactortrace.live.server.Source`: tests add events, which it
    ships as records the program resolved itself (the rare kind), so the
    viewer's replica sums them up. ``ring``: how many it holds at most.

    It records every call the server makes, so a test can tell that viewers
    never reach anything but what a source offers.
    """

    clock = {"start": 0.0, "start_wall": 0.0, "before": None}
    thresholds = Thresholds()

    def __init__(self, meta: dict[str, Any] | None = None, ring: int = 1_000_000) -> None:
        self.meta = dict(meta or META)
        self.ring = ring
        self.calls: list[str] = []
        self.drain_times: list[float] = []  # when the server took new records
        self._lock = threading.Lock()
        self.everything: list[Event] = []  # what a trace of it would hold
        self._taken = 0  # events taken by the server so far
        self._start = time.monotonic_ns()
        self.fail: Exception | None = None

    def now(self) -> int:
        return time.monotonic_ns() - self._start

    def add(self, kind: str, name: str, dur: int = 0, **args: Any) -> Event:
        """Record one event now."""
        with self._lock:
            event = Event(len(self.everything), self.now(), dur, kind, name, args)
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
        return len(self.everything)

    @property
    def first_held(self) -> int:
        with self._lock:
            return max(0, self._taken - self.ring)

    @property
    def last(self) -> int:
        return self._taken - 1

    def advance(self) -> int:
        self.calls.append("advance")
        if self.fail is not None:
            raise self.fail
        with self._lock:
            self._taken = len(self.everything)
        self.drain_times.append(time.monotonic())
        return self._taken - 1

    def take(self, after: int, limit: int) -> Shipment | None:
        self.calls.append("take")
        with self._lock:
            first = max(after + 1, self._taken - self.ring)
            events = self.everything[first : min(self._taken, first + limit)]
        if not events:
            return None
        return Shipment(first, len(events), b"", [(e.seq, e) for e in events], 0)

    def facts(self, start: int, stop: int) -> list[Any]:
        return []

    def extras(self) -> Snapshot:
        self.calls.append("extras")
        return Snapshot(self.now(), dropped=self.first_held)

    def trace(self) -> Trace:
        """The whole recording, for a viewer that asks to save it."""
        self.calls.append("trace")
        with self._lock:
            state = LoopState()
            state.feed(self.everything)
            return Trace(meta=self.meta, events=list(self.everything),
                         snapshot=state.snapshot(self.now()), dropped=3)


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
