"""Threads: calls from other threads and thread-pool jobs.

``callFromThread`` is wrapped on the reactor to note when each call was queued
(the call itself runs in ``runUntilCurrent``, timed by ``timers``). Every
thread-pool job (``callInThread``, ``deferToThread``, name resolution) passes
through ``ThreadPool.callInThreadWithCallback``, which is recompiled so that the
job is timed on its worker thread without adding a frame to its traceback.
"""

from __future__ import annotations

import threading
from collections import deque
from time import perf_counter as _clock
from typing import Any

from twisted.python import threadpool

from . import records as R
from . import specs
from .recorder import Recorder
from .rewrite import rewrite
from .shared import current, original_of, shared_patch


def _job_ran(func: Any, queued_at: float, t0: float, exc: BaseException | None) -> None:
    t1 = _clock()
    rec = current()
    if rec is None:
        return
    part = rec.parts.get("threads")
    if part is None or not part.on:
        return
    try:
        interner = rec.interner
        rec.append(
            R.THREAD_FMT.pack(
                t0, t1, queued_at, rec.key_ref(func),
                interner.ref(threading.current_thread().name),
                0 if exc is None else interner.ref(type(exc)), 1, R.THREAD,
            )
        )
    except Exception as error:  # noqa: BLE001
        part.fail(error)


def _make_call_in_thread(original: Any) -> Any:
    return rewrite(original, specs.call_in_thread(), {"_rt_job": _job_ran, "_rt_clock": _clock},
                   prologue=specs.JOB_QUEUED)


def install(rec: Recorder, reactor_class: Any, queued: deque[float]) -> None:
    """Record thread-pool jobs, and when ``callFromThread`` calls were queued."""
    part = rec.part("threads")
    _make_call_in_thread(original_of(threadpool.ThreadPool, "callInThreadWithCallback"))
    shared_patch(part, threadpool.ThreadPool, "callInThreadWithCallback", _make_call_in_thread)
    original = reactor_class.callFromThread
    clock = rec.clock
    target = rec.target

    def callFromThread(self: Any, f: Any, *args: Any, **kwargs: Any) -> Any:
        if self is target[0] and part.on:
            queued.append(clock())
        return original(self, f, *args, **kwargs)

    part.patcher.set(reactor_class, "callFromThread", callFromThread)
