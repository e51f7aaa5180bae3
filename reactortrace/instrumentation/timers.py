"""Timers: every DelayedCall scheduled, cancelled, reset and fired.

``callLater`` and ``runUntilCurrent`` are recompiled (see ``rewrite``) so that
the new DelayedCall is reported right after it is made and each call is timed
where it runs; the same rewrite times ``callFromThread`` calls drained from
``threadCallQueue``. Cancel and reset are methods of ``DelayedCall`` itself and
are wrapped on the class while any tracer is active. Records name a timer by
the time they were scheduled, which ``resolve`` turns into their id.
"""

from __future__ import annotations

import sys
import weakref
from collections import deque
from typing import Any

from twisted.internet import base, task

from . import records as R
from . import specs, versions
from .owners import owner_site
from .recorder import Part, Recorder
from .rewrite import RewriteError, rewrite
from .shared import ACTIVE, disguise, shared_patch
from .sites import INTERNAL, LIMIT, LOOP_NAMES, USER, code_kind, internal_code, site_of

_getframe = sys._getframe


def install(rec: Recorder, reactor: Any, reactor_class: Any, queued: deque[float]) -> None:
    """Record timers of ``reactor`` through hooks on its class ``reactor_class``.

    ``queued`` holds the times callFromThread calls were queued.
    """
    part = rec.part("timers")
    append, clock = rec.append, rec.clock
    pack_schedule, pack_timer, pack_thread = (
        R.SCHEDULE_FMT.pack, R.TIMER_FMT.pack, R.THREAD_FMT.pack
    )
    pending = rec.timers
    looping = task.LoopingCall
    # id(code) -> interner ref, for code outside Twisted (the interner keeps
    # the code objects alive, so their ids stay theirs)
    user_codes: dict[int, int] = {}
    user_code = user_codes.get
    from_thread_code = versions.ASYNCIO_FROM_THREAD
    getframe = _getframe
    loop_code: list[Any] = [None]  # the rewritten runUntilCurrent's code, once made
    # LoopingCall -> (site ref, offset) of the user's ``lc.start(...)``
    looping_sites: "weakref.WeakKeyDictionary[Any, tuple[int, int]]" = (
        weakref.WeakKeyDictionary()
    )

    def caused_by(caller: Any) -> tuple[int, int]:
        """(site ref, offset) of a timer Twisted made: the nearest user frame, or,
        when the walk out reaches the reactor loop first, the site of the timer
        whose dispatch made this one (HTTPFactory's log-date clock, a chain of
        Twisted timers), else the user's line that
        made an object on the stack (the endpoint connecting once its name is
        resolved, the port of a connection whose protocol arms a TimeoutMixin
        timer); never the line that called ``reactor.run()``.
        """
        frame, best, best_kind = caller, None, INTERNAL + 1
        chained: tuple[int, int] | None = None
        for _ in range(LIMIT):
            if frame is None:
                break
            code = frame.f_code
            if code is loop_code[0]:
                record = pending.get(frame.f_locals.get("call"))
                if record:
                    code_ref, offset = R.SCHEDULE_FMT.unpack(record)[4:6]
                    if code_ref:
                        chained = code_ref, offset
                break
            kind = code_kind(code)
            if kind == USER:
                return rec.interner.ref(code), frame.f_lasti
            if code.co_name in LOOP_NAMES:
                break
            if kind < best_kind:
                best, best_kind = frame, kind
            frame = frame.f_back
        if chained is not None:
            return chained
        owner = owner_site(caller)  # only here: reading frames' locals costs
        if owner is not None:
            return rec.interner.ref(owner[0]), owner[1]
        if best is None:
            return 0, -1
        return rec.interner.ref(best.f_code), best.f_lasti

    def unusual_site(func: Any, caller: Any) -> tuple[int, Any, int, float]:
        """(site ref, offset, origin, queued_at) when Twisted itself called callLater."""
        if type(func) is looping:
            where = looping_sites.get(func)
            if where is None:  # started before we came: where its first tick came from
                where = looping_sites[func] = caused_by(caller)
            code_ref, offset, origin, queued_at = where[0], where[1], R.ORIGIN_LOOPING, 0.0
        elif caller.f_code is from_thread_code:
            code_ref, offset, origin = 0, -1, R.ORIGIN_THREAD
            queued_at = queued.popleft() if queued else 0.0
        else:
            code_ref, offset = caused_by(caller)
            origin, queued_at = R.ORIGIN_TIMER, 0.0
        return code_ref, offset, origin, queued_at

    def schedule_record(call: Any, func: Any, delay: float, caller: Any) -> bytes:
        code = caller.f_code
        code_ref = user_code(id(code))
        if code_ref is None and internal_code(code):
            code_ref, offset, origin, queued_at = unusual_site(func, caller)
        else:
            if code_ref is None:
                code_ref = user_codes[id(code)] = rec.interner.ref(code)
            offset, origin, queued_at = caller.f_lasti, R.ORIGIN_TIMER, 0
        key_ref = rec.key_ref(func)
        return pack_schedule(
            clock(), delay, queued_at, key_ref, code_ref, offset, origin, R.SCHEDULE
        )

    def scheduled(call: Any, func: Any, delay: float) -> None:
        """Called by the rewritten callLater right after it made ``call``."""
        if not part.on:
            return
        try:
            record = pending[call] = schedule_record(call, func, delay, getframe(2))
            append(record)
        except Exception as exc:  # noqa: BLE001 - never raise into the program
            part.fail(exc)

    def timer_fired(call: Any, now: float, t0: float, exc: BaseException | None) -> None:
        t1 = clock()
        if not part.on:
            return
        try:
            error = 0 if exc is None else rec.interner.ref(type(exc))
            scheduled_as = pending.pop(call, R.NO_SCHEDULE)
            append(pack_timer(t0, t1, now, call.time, error, scheduled_as, R.TIMER))
        except Exception as error_:  # noqa: BLE001
            part.fail(error_)

    def thread_call_ran(func: Any, t0: float, exc: BaseException | None) -> None:
        t1 = clock()
        if not part.on:
            return
        try:
            queued_at = queued.popleft() if queued else 0
            error = 0 if exc is None else rec.interner.ref(type(exc))
            key_ref = rec.key_ref(func)
            append(pack_thread(t0, t1, queued_at, key_ref, 0, error, 0, R.THREAD))
        except Exception as error_:  # noqa: BLE001
            part.fail(error_)

    run_until_current = rewrite(
        reactor_class.runUntilCurrent,
        specs.run_until_current(hasattr(reactor, "threadCallQueue")),
        {
            "_rt_timer": timer_fired,
            "_rt_thread": thread_call_ran,
            "_rt_clock": clock,
            "_rt_append": append,
            "_rt_pack": pack_timer,
            "_rt_pop": pending.pop,
            "_rt_none": R.NO_SCHEDULE,
            "_rt_failed": part.fail,
        },
        target=rec.target,
    )
    part.patcher.set(reactor_class, "runUntilCurrent", run_until_current)
    loop_code[0] = getattr(run_until_current, "__code__", None)

    def looping_started(lc: Any, frame: Any) -> None:
        """``lc.start(...)`` ran at ``frame``: every tick of ``lc`` is sited there."""
        if not part.on:
            return
        try:
            looping_sites[lc] = caused_by(frame)
        except Exception as exc:  # noqa: BLE001 - never raise into the program
            part.fail(exc)

    _STARTS.append(looping_started)
    part.patcher.on_restore(lambda: _STARTS.remove(looping_started))
    shared_patch(part, task.LoopingCall, "start", _make_start)
    try:
        call_later = rewrite(
            reactor_class.callLater,
            specs.call_later(),
            {
                "_rt_scheduled": scheduled,
                "_rt_getframe": getframe,
                "_rt_user": user_code,
                "_rt_ref": rec.fast_keys.get,
                "_rt_id": id,
                "_rt_append": append,
                "_rt_pack": pack_schedule,
                "_rt_clock": clock,
                "_rt_pending": pending,
                "_rt_hot": [None, 0, None, 0],
                "_rt_failed": part.fail,
            },
            target=rec.target,
        )
    except RewriteError as exc:
        part.notes.append(f"callLater is wrapped, one frame deeper, instead of rewritten: {exc}")
        call_later = _wrapped_call_later(reactor_class.callLater, scheduled, rec.target)
    part.patcher.set(reactor_class, "callLater", call_later)
    _install_class_hooks(part)
    now = reactor.seconds()
    for call in reactor.getDelayedCalls():
        # Timers made before we came: known from now on, so their firing is
        # named. Those already due are left out: instrumenting from a call the
        # reactor runs (attach does, through callFromThread) happens inside
        # its runUntilCurrent, whose original code then fires them unseen.
        if call.getTime() <= now:
            continue
        record = pending[call] = pack_schedule(
            clock(), call.getTime() - now, 0,
            rec.key_ref(call.func), 0, R.BEFORE_OFFSET, R.ORIGIN_TIMER, R.SCHEDULE,
        )
        append(record)


#: What each tracer does when a LoopingCall starts (newest last).
_STARTS: list[Any] = []


def _make_start(original: Any) -> Any:
    """``LoopingCall.start`` that tells the tracers where it was called from."""

    def start(self: Any, interval: float, now: bool = True) -> Any:
        if _STARTS:
            _STARTS[-1](self, _getframe(1))
        return original(self, interval, now)

    return disguise(start, original)


def _wrapped_call_later(original: Any, scheduled: Any, target: list[Any]) -> Any:
    """For a reactor whose callLater we cannot rewrite: an ordinary wrapper."""

    def callLater(self: Any, delay: float, callable: Any, *args: Any, **kw: Any) -> Any:
        call = original(self, delay, callable, *args, **kw)
        if self is target[0]:
            scheduled(call, callable, delay)
        return call

    return disguise(callLater, original)


def _install_class_hooks(part: Part) -> None:
    """Cancel, reset and delay are DelayedCall methods: wrap them once, shared.

    They record into the newest tracer that knows the timer.
    """

    def make_cancel(original: Any) -> Any:
        def cancel(self: Any) -> None:
            original(self)
            for rec in reversed(ACTIVE):
                scheduled_as = rec.timers.pop(self, None)
                if scheduled_as is not None:
                    code, offset = site_of(_getframe(1))
                    rec.emit("timers", R.CANCEL, scheduled_as, code, offset)
                    break

        return disguise(cancel, original)

    def make_move(original: Any) -> Any:
        def moved(self: Any, seconds: float) -> None:
            original(self, seconds)
            for rec in reversed(ACTIVE):
                scheduled_as = rec.timers.get(self)
                if scheduled_as is not None:
                    rec.emit("timers", R.RESET, scheduled_as, self.time + self.delayed_time)
                    break

        return disguise(moved, original)

    delayed_call = base.DelayedCall
    shared_patch(part, delayed_call, "cancel", make_cancel)
    shared_patch(part, delayed_call, "reset", make_move)
    shared_patch(part, delayed_call, "delay", make_move)
