"""The blocked-loop watchdog: catch a slow dispatch while it still blocks.

A daemon thread of ours (never the reactor's) looks at the reactor thread's
stack a few times per slow threshold. The dispatch running there is the frame
just inside the outermost of our timed Twisted functions (``runUntilCurrent``,
``doIteration``, asyncio's ``_readOrWrite`` wrapper, ``_runCallbacks``); that
function's local ``_rt_t0`` says when it began. Once a dispatch has run past
the threshold, the stack is taken right then, so the ``slow`` event names the
line of user code that blocks, not just the callable. Healthy programs pay
nothing on their own thread: all the work is here.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from types import CodeType, FrameType
from typing import Any

from twisted.python import threadable

from ..core.periodic import Periodic
from . import records as R
from .recorder import Recorder
from .sites import internal_code

_STDLIB = tuple(
    os.path.join(path, "")
    for path in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]}
)
_STACK_LIMIT = 40


def _is_library(code: CodeType) -> bool:
    return internal_code(code) or code.co_filename.startswith(_STDLIB)


def _describe(frame: FrameType) -> str:
    return f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_qualname}"


class Watchdog:
    """Samples the reactor thread; records a ``slow`` event per blocked dispatch."""

    def __init__(self, rec: Recorder, slow_ms: float, roots: dict[CodeType, str]) -> None:
        self.rec = rec
        self.slow = slow_ms / 1000  # seconds, as the recorder's clock
        #: code objects of the timed functions -> the kind of dispatch they run
        self.roots = roots
        self.interval = min(0.05, max(0.002, slow_ms / 4000))
        self._part = rec.part("watchdog")
        self._thread = Periodic(self._tick, self.interval, "reactortrace-watchdog")
        self._last: tuple[int, int] | None = None  # (id(frame), id(code)) of the dispatch
        self._reported = False

    def start(self) -> None:
        """Start sampling (idempotent)."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling and wait for the thread to end."""
        self._thread.stop()

    def _tick(self) -> bool:
        """One sample; False once sampling is off (it failed, or was turned off)."""
        if not self._part.on:
            return False
        try:
            self.sample()
        except Exception as exc:  # noqa: BLE001 - never disturb the program
            self._part.fail(exc)
            return False
        return True

    def sample(self) -> None:
        """Look at the reactor thread once."""
        ident = threadable.ioThread
        top = sys._current_frames().get(ident) if ident is not None else None
        found = self._dispatch(top) if top is not None else None
        if found is None:
            self._last = None
            return
        root, callee, kind = found
        signature = (id(callee), id(callee.f_code))
        if signature != self._last:
            self._last = signature
            self._reported = False
        if self._reported:
            return
        now = self.rec.clock()
        started = root.f_locals.get("_rt_t0")
        if not isinstance(started, float) or now - started < self.slow:
            return
        self._reported = True
        self._record(started, now, top, callee, kind)

    def running_since(self) -> float | None:
        """When the dispatch running on the reactor thread now began (the
        recorder's clock), or None while the loop waits. Callable from any thread."""
        ident = threadable.ioThread
        top = sys._current_frames().get(ident) if ident is not None else None
        root = None
        frame = top
        while frame is not None:  # the outermost timed function, whatever it calls
            if frame.f_code in self.roots:
                root = frame
            frame = frame.f_back
        started = root.f_locals.get("_rt_t0") if root is not None else None
        return started if isinstance(started, float) else None

    def _dispatch(self, top: FrameType) -> tuple[FrameType, FrameType, str] | None:
        """(outermost timed frame, the frame it called, dispatch kind), or None."""
        frame: FrameType | None = top
        inner: FrameType | None = None
        found = None
        while frame is not None:
            kind = self.roots.get(frame.f_code)
            if kind is not None and inner is not None:
                found = (frame, inner, kind)
            inner = frame
            frame = frame.f_back
        return found

    def _record(self, started: float, now: float, top: FrameType, callee: FrameType, kind: str) -> None:
        chain: list[FrameType] = []
        frame: FrameType | None = top
        while frame is not None and len(chain) < _STACK_LIMIT:
            chain.append(frame)
            if frame is callee:
                break
            frame = frame.f_back
        chain.reverse()  # outermost first
        user = [f for f in chain if not _is_library(f.f_code)]
        blocking = user[-1] if user else chain[-1]
        dispatched = user[0] if user else callee
        rec = self.rec
        rec.append(
            (
                R.SLOW, started, now, dispatched.f_code, kind,
                f"{blocking.f_code.co_filename}:{blocking.f_lineno}",
                blocking.f_code.co_qualname,
                tuple(_describe(f) for f in chain),
            )
        )


def roots_of(reactor: Any) -> dict[CodeType, str]:
    """The timed functions now on ``reactor``'s class (and Deferred's), by code."""
    from twisted.internet import defer

    roots: dict[CodeType, str] = {}
    kind = type(reactor)
    for name, what in (
        ("runUntilCurrent", "timer"),
        ("doIteration", "io"),
        ("_readOrWrite", "io"),
    ):
        function = kind.__dict__.get(name)
        code = getattr(function, "__code__", None)
        if code is not None:
            roots[code] = what
    callbacks = getattr(defer.Deferred._runCallbacks, "__code__", None)
    if callbacks is not None:
        roots[callbacks] = "deferred"
    return roots
