"""The loop itself: iterations (waiting versus busy), dispatches, system events.

An iteration runs from the end of one wait to the end of the next, so it holds
the timers and dispatches of one pass plus the wait. On epoll/poll/select the
wait and the dispatches are both inside ``doIteration``, which is recompiled
with the poll call and each dispatch timed. asyncio has no ``doIteration``: its
selector's ``select`` is wrapped instead, and dispatches are timed by ``io``.
"""

from __future__ import annotations

from typing import Any

from . import io, specs
from . import records as R
from .recorder import Recorder
from .rewrite import rewrite


def install(rec: Recorder, reactor: Any, reactor_class: Any, conns: io.Connections) -> None:
    """Record iterations, dispatches and system events of ``reactor`` (class ``reactor_class``)."""
    target = rec.target
    part = rec.part("loop")
    append, clock = rec.append, rec.clock
    dispatched = io.make_hook(rec, reactor, conns, part)
    pack = R.ITERATION_FMT.pack

    def waited(t0: float, exc: BaseException | None) -> None:
        if part.on:
            append(pack(t0, clock(), R.ITERATION))

    loop = getattr(reactor, "_asyncioEventloop", None)
    if loop is not None:
        # The selector belongs to this reactor alone: patch the instance.
        selector = loop._selector
        original_select = selector.select

        def select(*args: Any, **kw: Any) -> Any:
            t0 = clock()
            try:
                return original_select(*args, **kw)
            finally:
                waited(t0, None)

        part.patcher.set(selector, "select", select)
        io.install_asyncio(part, reactor, reactor_class, dispatched)
    else:
        step = reactor_class.doIteration
        do_iteration = rewrite(
            step,
            specs.do_iteration(by_method="method" in step.__code__.co_varnames),
            {
                "_rt_live": io.LIVE_CONNS.get,
                "_rt_fds": io.FDS.get,
                "_rt_id": id,
                "_rt_pollin": getattr(reactor, "_POLL_IN", 0),
                "_rt_pack_io": R.IO_FMT.pack,
                "_rt_bytes": io.BYTES,
                "_rt_pending": io.pending_out,
                "_rt_waited": waited,
                "_rt_io": dispatched,
                "_rt_clock": clock,
                "_rt_append": append,
                "_rt_pack": pack,
                "_rt_failed": part.fail,
            },
            target=target,
        )
        part.patcher.set(reactor_class, "doIteration", do_iteration)
    _install_system_events(rec, reactor_class, part)


def _install_system_events(rec: Recorder, reactor_class: Any, part: Any) -> None:
    append, clock = rec.append, rec.clock
    original_fire = reactor_class.fireSystemEvent
    target = rec.target

    def fireSystemEvent(self: Any, eventType: str) -> None:
        if self is not target[0] or not part.on:
            return original_fire(self, eventType)
        t0 = clock()
        try:
            return original_fire(self, eventType)
        finally:
            append((R.SYSTEM, t0, clock(), str(eventType)))

    part.patcher.set(reactor_class, "fireSystemEvent", fireSystemEvent)
