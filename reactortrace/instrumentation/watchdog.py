"""The blocked-loop watchdog: see a slow dispatch while it still blocks.

A daemon thread of ours (never the reactor's) looks at the reactor thread's
stack a few times per slow threshold. The dispatch running there is the frame
just inside the outermost of our timed Twisted functions (``runUntilCurrent``,
``doIteration``, asyncio's ``_readOrWrite`` wrapper, ``_runCallbacks``); that
function's local ``_rt_t0`` says when it began.

Once a dispatch has run past the threshold it is a :class:`Block`: every
sample from then on re-takes the stack (a block that moves from line to line
shows the move), the reactor thread's CPU time and the time spent collecting
garbage. :meth:`Watchdog.blocked` is the block as it is now, for live views;
when the dispatch ends, one ``slow`` event holds all of it. Healthy programs
pay nothing on their own thread: all the work is here.
"""

from __future__ import annotations

import gc
import os
import sys
import sysconfig
import threading
import time
from collections import deque
from types import CodeType, FrameType
from typing import Any

from twisted.python import threadable

from ..core import forks
from ..core.names import key_name, site
from ..core.periodic import Periodic
from ..core.snapshot import BlockedInfo
from . import records as R
from .recorder import Recorder
from .sites import internal_code

_STDLIB = tuple(
    os.path.join(path, "")
    for path in {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"]}
)
_STACK_LIMIT = 40
#: Distinct stacks kept for one block (the rest are counted with the last).
MAX_STACKS = 16
#: Seconds of samples that say whether the blocked thread burns CPU now
#: (long enough to smooth out a busy machine's scheduling, short enough to
#: follow a block that turns from waiting to computing).
CPU_WINDOW = 0.25
#: Codes of the timed ``doIteration`` functions: they wait for I/O before their
#: first dispatch, and bind ``_rt_last`` only once that wait is over.
_WAIT_ROOTS: set[CodeType] = set()


def _is_library(code: CodeType) -> bool:
    return internal_code(code) or code.co_filename.startswith(_STDLIB)


def _describe(frame: FrameType) -> str:
    return f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_qualname}"


class GcClock:
    """Total time spent in garbage collection, from ``gc.callbacks``."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.total = 0.0
        self._started: float | None = None

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = self.clock()
        elif self._started is not None:
            self.total += self.clock() - self._started
            self._started = None

    def install(self) -> None:
        if self not in gc.callbacks:
            gc.callbacks.append(self)

    def remove(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)


def _cpu_clock(ident: int | None) -> int | None:
    """The CPU-time clock of thread ``ident``, where the platform has one."""
    try:
        return time.pthread_getcpuclockid(ident) if ident is not None else None
    except (AttributeError, OSError, OverflowError):
        return None


class Block:
    """A dispatch seen running past the slow threshold, while it lasts."""

    def __init__(self, started: float, kind: str, made_at: str | None,
                 cpu_clock: int | None, gc_total: float) -> None:
        self.started = started
        self.kind = kind
        self.made_at = made_at
        self.seen = started  # the last sample that saw it still running
        self.code: CodeType | None = None  # the user code it dispatched
        self.name = "?"
        #: stack (frame descriptions, outermost first) -> [samples, blocking site, function]
        self.stacks: dict[tuple[str, ...], list[Any]] = {}
        self.latest: tuple[str, ...] = ()
        self.view: tuple[str, ...] = ()  # user frames first
        self.user_frames = 0
        self.site: str | None = None
        self.function: str | None = None
        self.moves = 0
        self._cpu_clock = cpu_clock
        self.cpu0 = self._cpu()
        self.cpu = 0.0
        self.on_cpu: float | None = None
        #: (when, CPU time) of the samples within the last CPU_WINDOW seconds
        self._recent_cpu: deque[tuple[float, float]] = deque()
        self.gc0 = gc_total
        self.gc = 0.0

    def _cpu(self) -> float | None:
        if self._cpu_clock is None:
            return None
        try:
            return time.clock_gettime(self._cpu_clock)
        except OSError:
            self._cpu_clock = None
            return None

    def sample(self, now: float, chain: list[FrameType], callee: FrameType,
               gc_total: float) -> None:
        """Take one look at ``chain`` (the frames from ``callee``, the frame the
        dispatch called, inwards): the stack now, CPU and GC time so far."""
        self.seen = now
        user = [f for f in chain if not _is_library(f.f_code)]
        if self.code is None:  # what was dispatched: the program's outermost frame
            self.code = (user[0] if user else callee).f_code
            self.name = key_name(self.code)
        stack = tuple(_describe(f) for f in chain)
        blocking = user[-1] if user else chain[-1]
        where = f"{blocking.f_code.co_filename}:{blocking.f_lineno}"
        if self.site is not None and where != self.site:
            self.moves += 1
        self.site, self.function = where, blocking.f_code.co_qualname
        entry = self.stacks.get(stack)
        if entry is None:
            if len(self.stacks) >= MAX_STACKS:
                entry = self.stacks[self.latest]
            else:
                entry = self.stacks[stack] = [0, where, self.function]
        entry[0] += 1
        self.latest = stack
        library = [f for f in chain if _is_library(f.f_code)]
        self.view = tuple(_describe(f) for f in user) + tuple(_describe(f) for f in library)
        self.user_frames = len(user)
        cpu = self._cpu()
        if cpu is not None and self.cpu0 is not None:
            self.cpu = cpu - self.cpu0
            recent = self._recent_cpu
            recent.append((now, cpu))
            while len(recent) > 2 and now - recent[1][0] >= CPU_WINDOW:
                recent.popleft()
            first_wall, first_cpu = recent[0]
            if now > first_wall:
                self.on_cpu = max(0.0, min(1.0, (cpu - first_cpu) / (now - first_wall)))
        self.gc = gc_total - self.gc0

    def info(self, ns: Any) -> BlockedInfo:
        """What a view shows of it (``ns`` turns a clock reading into trace time)."""
        since = ns(self.started)
        return BlockedInfo(
            since=since,
            elapsed=ns(self.seen) - since,
            name=self.name,
            kind=self.kind,
            made_at=self.made_at,
            site=self.site,
            function=self.function,
            stack=self.view,
            user_frames=self.user_frames,
            cpu=int(self.cpu * 1e9) if self.cpu0 is not None else None,
            on_cpu=self.on_cpu,
            gc=int(self.gc * 1e9),
            samples=sum(entry[0] for entry in self.stacks.values()),
            moves=self.moves,
        )

    def record(self, end: float) -> tuple[Any, ...]:
        """The ``slow`` record of the whole block, ending at ``end``."""
        common = max(self.stacks.items(), key=lambda item: item[1][0])
        stack, (_, where, function) = common
        stacks = tuple((s, entry[0]) for s, entry in self.stacks.items())
        cpu = int(self.cpu * 1e9) if self.cpu0 is not None else -1
        return (
            R.SLOW, self.started, end, self.code, self.kind, where, function, stack,
            stacks, cpu, int(self.gc * 1e9), self.made_at,
        )


class Watchdog:
    """Samples the reactor thread; one ``slow`` event per blocked dispatch."""

    def __init__(self, rec: Recorder, slow_ms: float, roots: dict[CodeType, str]) -> None:
        self.rec = rec
        self.slow = slow_ms / 1000  # seconds, as the recorder's clock
        #: code objects of the timed functions -> the kind of dispatch they run
        self.roots = roots
        self.interval = min(0.05, max(0.002, slow_ms / 4000))
        self._part = rec.part("watchdog")
        self._thread = Periodic(self._tick, self.interval, "reactortrace-watchdog")
        self._gc = GcClock(rec.clock)
        self._last: tuple[int, int] | None = None  # (id(frame), id(code)) of the dispatch
        self._block: Block | None = None
        self._lock = threading.Lock()
        forks.hold_across_fork(self)

    def start(self) -> None:
        """Start sampling (idempotent)."""
        self._gc.install()
        self._thread.start()

    def restart_in_child(self) -> None:
        """In a forked child that goes on recording: sample its reactor thread
        (the block the parent was in, if any, is not the child's)."""
        self._block = None
        self._last = None
        self._thread.restart()

    def stop(self) -> None:
        """Stop sampling and wait for the thread to end (a block still running
        is recorded as it is)."""
        self._thread.stop()
        self._gc.remove()
        with self._lock:
            self._end()

    def blocked(self) -> Block | None:
        """The dispatch blocking the loop now, if one is (as of the last sample)."""
        return self._block

    def refresh(self) -> Block | None:
        """Sample now (a block that just ended is recorded) and return :meth:`blocked`."""
        if self._part.on:
            self._tick()
        return self._block

    def _tick(self) -> bool:
        """One sample; False once sampling is off (it failed, or was turned off)."""
        if not self._part.on:
            return False
        try:
            with self._lock:
                self.sample()
        except Exception as exc:  # noqa: BLE001 - never disturb the program
            self._block = None
            self._part.fail(exc)
            return False
        return True

    def sample(self) -> None:
        """Look at the reactor thread once."""
        ident = threadable.ioThread
        top = sys._current_frames().get(ident) if ident is not None else None
        found = self._dispatch(top) if top is not None else None
        now = self.rec.clock()
        if found is None:
            self._last = None
            self._end()
            return
        root, callee, kind = found
        signature = (id(callee), id(callee.f_code))
        if signature != self._last:
            self._last = signature
            self._end()
        local = root.f_locals
        if root.f_code in _WAIT_ROOTS and "_rt_last" not in local:
            return  # the idle wait, in a poller the program wrapped: not a dispatch
        started = local.get("_rt_t0")
        if not isinstance(started, float) or now - started < self.slow:
            return
        block = self._block
        if block is None:
            block = Block(started, kind, self._made_at(root, kind),
                          _cpu_clock(ident), self._gc.total)
        block.sample(now, self._chain(top, callee), callee, self._gc.total)
        self._block = block

    def _end(self) -> None:
        """The block, if any, is over: record it."""
        block, self._block = self._block, None
        if block is not None:
            self.rec.append(block.record(block.seen))

    @staticmethod
    def _chain(top: FrameType, callee: FrameType) -> list[FrameType]:
        """The frames from ``callee`` in to ``top``, outermost first."""
        chain: list[FrameType] = []
        frame: FrameType | None = top
        while frame is not None and len(chain) < _STACK_LIMIT:
            chain.append(frame)
            if frame is callee:
                break
            frame = frame.f_back
        chain.reverse()
        return chain

    def _made_at(self, root: FrameType, kind: str) -> str | None:
        """Where the timer being run was scheduled, from the timers part's table."""
        if kind != "timer":
            return None
        call = root.f_locals.get("call")
        packed = self.rec.timers.get(call) if call is not None else None
        if not packed or packed == R.NO_SCHEDULE:
            return None
        fields = R.SCHEDULE_FMT.unpack(packed)
        code_ref, offset = fields[4], fields[5]
        objects = self.rec.interner.objects
        code = objects[code_ref] if 0 < code_ref < len(objects) else None
        return site(code, offset) if isinstance(code, CodeType) else None

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


def reactor_thread() -> int | None:
    """The ident of the thread running the reactor (None before one runs it)."""
    return threadable.ioThread


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
            if name == "doIteration":
                _WAIT_ROOTS.add(code)
    callbacks = getattr(defer.Deferred._runCallbacks, "__code__", None)
    if callbacks is not None:
        roots[callbacks] = "deferred"
    return roots
