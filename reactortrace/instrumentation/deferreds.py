"""Deferreds: every callback and errback invocation.

All of them run inside ``Deferred._runCallbacks``, chained Deferreds included,
so that one method is recompiled with the call timed (see ``rewrite``). It is a
class attribute shared by every Deferred in the process, patched while any
tracer is active; records go to the newest tracer. A resumption of an
``inlineCallbacks`` function or a coroutine is named by the user's function
and the line it waited at, not by Twisted's helper.
"""

from __future__ import annotations

import sys
import types
from time import perf_counter as _clock
from typing import Any

from twisted.internet import defer
from twisted.python.failure import Failure

from ..core.names import site
from . import records as R
from . import specs, versions
from .recorder import Recorder
from .rewrite import rewrite
from .shared import ACTIVE, original_of, shared_patch
from .sites import USER, path_kind, site_of

_FUNCTION = types.FunctionType
_pack = R.DEFERRED_FMT.pack


def _resumed_at(args: tuple[Any, ...]) -> tuple[Any, int | None]:
    """The code and current line of the generator or coroutine being resumed."""
    gen = args[1]
    code = getattr(gen, "gi_code", None) or getattr(gen, "cr_code", None)
    frame = getattr(gen, "gi_frame", None) or getattr(gen, "cr_frame", None)
    return code, (frame.f_lineno if frame is not None else -1)


def _callback_ran(
    callback: Any, item: Any, pre: Any, result: Any, t0: float, exc: BaseException | None
) -> None:
    t1 = _clock()
    if not ACTIVE:
        return
    rec = ACTIVE[-1]
    part = rec.parts.get("deferreds")
    if part is None or not part.on:
        return
    try:
        if pre is not None:
            key, line = pre
            key_ref = rec.interner.ref(key)
        else:
            key_ref, line = rec.key_ref(callback), -1
        if exc is not None:
            failed = rec.interner.ref(type(exc))
        elif type(result) is Failure:
            failed = rec.interner.ref(result.type)
        else:
            failed = 0
        errback = callback is not item[0][0]
        rec.append(_pack(t0, t1, key_ref, failed, line, errback, R.DEFERRED))
    except Exception as error:  # noqa: BLE001 - never raise into the program
        part.fail(error)


#: (append, interner get) of the recorder Deferred callbacks go to,
#: or None: read by the inline fast path below.
_SINK: list[Any] = [None]

def _refresh_sink() -> None:
    """Point the fast path at the newest recorder still recording Deferreds."""
    for rec in reversed(ACTIVE):
        part = rec.parts.get("deferreds")
        if part is not None and part.on:
            _SINK[0] = (rec.append, rec.fast_keys.get)
            return
    _SINK[0] = None


def _failed(exc: BaseException) -> None:
    """The inline fast path raised: turn Deferred recording off."""
    for rec in reversed(ACTIVE):
        part = rec.parts.get("deferreds")
        if part is not None and part.on:
            part.fail(exc)
    _refresh_sink()


def _fail_result(deferred: Any) -> None:
    """``failResult`` was just set: a Failure nobody handles yet, or None again."""
    if not ACTIVE:
        return
    rec = ACTIVE[-1]
    info = getattr(deferred, "_debugInfo", None)
    failure = getattr(info, "failResult", None)
    if failure is None:
        rec.emit("deferreds", R.DEFERRED_HANDLED, id(deferred))
        return
    rec.emit("deferreds", R.DEFERRED_ERROR, id(deferred), getattr(failure, "type", None),
             _failure_site(failure))


def _failure_site(failure: Any) -> str | None:
    """Where a Failure comes from, as the user knows it: the deepest user frame of
    its traceback (where it was raised), else the user line that fired the
    Deferred with it (``d.errback(...)``, or the call that ended in Twisted)."""
    frames = getattr(failure, "frames", None) or ()
    for frame in reversed(frames):
        if path_kind(frame[1]) == USER:
            return f"{frame[1]}:{frame[2]}"
    code, offset = site_of(sys._getframe(2))
    if code is not None:
        return site(code, offset)
    return f"{frames[-1][1]}:{frames[-1][2]}" if frames else None


def _make_run_callbacks(original: Any) -> Any:
    return rewrite(
        original,
        specs.run_callbacks(),
        {
            "_rt_deferred": _callback_ran,
            "_rt_clock": _clock,
            "_rt_resume": versions.INLINE_RESUME,
            "_rt_resumed_at": _resumed_at,
            "_rt_sink": _SINK,
            "_rt_id": id,
            "_rt_type": type,
            "_rt_function": _FUNCTION,
            "_rt_failure": Failure,
            "_rt_pack": _pack,
            "_rt_failed": _failed,
            "_rt_fail_result": _fail_result,
        },
    )


def install(rec: Recorder) -> None:
    """Record Deferred callbacks while ``rec`` is the newest active recorder."""
    part = rec.part("deferreds")
    # Fail early (and only this part) if the installed Twisted looks different.
    _make_run_callbacks(original_of(defer.Deferred, "_runCallbacks"))
    shared_patch(part, defer.Deferred, "_runCallbacks", _make_run_callbacks)
    part.patcher.on_restore(_refresh_sink)
    _refresh_sink()


