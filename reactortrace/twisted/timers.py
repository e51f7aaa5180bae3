"""Timers: every DelayedCall scheduled, cancelled, reset and fired.

Scheduling is seen by wrapping ``reactor.callLater`` on the instance. Firing
happens inside ``runUntilCurrent``, which is recompiled (see ``rewrite``) with
the call timed; the same rewrite times ``callFromThread`` calls drained from
``threadCallQueue``. Cancel and reset are methods of ``DelayedCall`` itself and
are wrapped on the class while any tracer is active.
"""

from __future__ import annotations

import ast
import itertools
import sys
import weakref
from collections import deque
from typing import Any

from twisted.internet import asyncioreactor, base, task

from . import records as R
from .globals import shared_patch
from .keys import callable_key
from .recorder import Recorder
from .rewrite import Timed, rewrite
from .sites import caller_site

#: id(DelayedCall) -> (recorder, info) for timers scheduled while tracing.
LIVE_TIMERS: dict[int, tuple[Recorder, tuple[Any, ...]]] = {}
_tids = itertools.count(1)
_getframe = sys._getframe
_looping_sites: "weakref.WeakKeyDictionary[Any, tuple[Any, Any]]" = weakref.WeakKeyDictionary()
_ASYNCIO_FROM_THREAD = next(
    (
        c
        for c in asyncioreactor.AsyncioSelectorReactor.callFromThread.__code__.co_consts
        if hasattr(c, "co_name") and c.co_name == "<lambda>"
    ),
    None,
)


def _is_timed_call(stmt: ast.stmt) -> bool:
    """``call.func(*call.args, **call.kw)`` in runUntilCurrent."""
    if not isinstance(stmt, ast.Expr) or not isinstance(stmt.value, ast.Call):
        return False
    func = stmt.value.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "func"
        and isinstance(func.value, ast.Name)
        and func.value.id == "call"
    )


def _is_thread_call(stmt: ast.stmt) -> bool:
    """``f(*a, **kw)`` for the callFromThread queue in runUntilCurrent."""
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Name)
        and stmt.value.func.id == "f"
    )


def install(rec: Recorder, reactor: Any, queued: deque[int]) -> None:
    """Record timers of ``reactor``; ``queued`` holds callFromThread enqueue times."""
    part = rec.part("timers")
    append, next_seq, clock = rec.append, rec.next_seq, rec.clock
    next_tid = _tids.__next__
    live = LIVE_TIMERS
    original_call_later = reactor.callLater
    looping = task.LoopingCall
    from_thread_code = _ASYNCIO_FROM_THREAD

    def new_info(func: Any, delay: float, caller_depth: int) -> tuple[Any, ...]:
        origin = R.ORIGIN_TIMER
        queued_at = None
        if type(func) is looping:
            origin = R.ORIGIN_LOOPING
            where = _looping_sites.get(func)
            if where is None:
                where = _looping_sites[func] = caller_site(caller_depth + 1)
        elif from_thread_code is not None and _getframe(caller_depth).f_code is from_thread_code:
            origin = R.ORIGIN_THREAD
            queued_at = queued.popleft() if queued else None
            where = (None, None)
        else:
            where = caller_site(caller_depth + 1)
        return (next_tid(), callable_key(func), where[0], where[1], delay, origin, queued_at)

    def callLater(delay: float, callable: Any, *args: Any, **kw: Any) -> Any:
        call = original_call_later(delay, callable, *args, **kw)
        if part.on:
            try:
                info = new_info(callable, delay, 2)
                live[id(call)] = (rec, info)
                if info[5] != R.ORIGIN_THREAD:
                    append((next_seq(), R.SCHEDULE, clock(), info, call.time))
            except Exception as exc:  # noqa: BLE001 - never raise into the program
                part.fail(exc)
        return call

    def timer_fired(call: Any, now: float, t0: int, exc: BaseException | None) -> None:
        t1 = clock()
        if not part.on:
            return
        try:
            entry = live.pop(id(call), None)
            info = entry[1] if entry is not None else new_info(call.func, 0.0, 3)
            append(
                (next_seq(), R.TIMER, t0, t1, info, now, call.time, None if exc is None else type(exc))
            )
        except Exception as error:  # noqa: BLE001
            part.fail(error)

    def thread_call_ran(func: Any, t0: int, exc: BaseException | None) -> None:
        t1 = clock()
        if not part.on:
            return
        try:
            queued_at = queued.popleft() if queued else None
            append(
                (
                    next_seq(), R.THREAD, t0, t1, callable_key(func), "reactor", queued_at,
                    None, None if exc is None else type(exc),
                )
            )
        except Exception as error:  # noqa: BLE001
            part.fail(error)

    timed = [Timed(_is_timed_call, "_rt_timer", "call, now")]
    if hasattr(reactor, "threadCallQueue"):
        timed.append(Timed(_is_thread_call, "_rt_thread", "f"))
    run_until_current = rewrite(
        type(reactor).runUntilCurrent,
        timed,
        {"_rt_timer": timer_fired, "_rt_thread": thread_call_ran, "_rt_clock": clock},
    )
    part.patcher.set(reactor, "runUntilCurrent", run_until_current.__get__(reactor))
    part.patcher.set(reactor, "callLater", callLater)
    _install_class_hooks(part)


def _install_class_hooks(part: Any) -> None:
    """Cancel, reset and delay are DelayedCall methods: wrap them once, shared."""
    delayed_call = base.DelayedCall
    live = LIVE_TIMERS

    def make_cancel(original: Any) -> Any:
        def cancel(self: Any) -> None:
            original(self)
            entry = live.pop(id(self), None)
            if entry is not None:
                _record(entry[0], R.CANCEL, entry[1], *caller_site(2))

        return cancel

    def make_move(original: Any) -> Any:
        def moved(self: Any, seconds: float) -> None:
            original(self, seconds)
            entry = live.get(id(self))
            if entry is not None:
                _record(entry[0], R.RESET, entry[1], self.time + self.delayed_time)

        return moved

    shared_patch(part, delayed_call, "cancel", make_cancel)
    shared_patch(part, delayed_call, "reset", make_move)
    shared_patch(part, delayed_call, "delay", make_move)


def _record(rec: Recorder, code: int, info: tuple[Any, ...], *values: Any) -> None:
    """Append a cancel or reset record for ``rec``; never raises."""
    part = rec.parts.get("timers")
    if part is None or not part.on:
        return
    try:
        rec.append((rec.next_seq(), code, rec.clock(), info, *values))
    except Exception as exc:  # noqa: BLE001
        part.fail(exc)
