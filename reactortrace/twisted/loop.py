"""The loop itself: iterations (waiting versus busy) and system events.

An iteration runs from the end of one wait-and-dispatch to the end of the next.
On epoll/poll/select that step is ``doIteration`` (wrapped on the instance);
asyncio has none, so its selector's ``select`` marks the step instead. The
records keep when the wait started; ``resolve`` works out the wait itself.
"""

from __future__ import annotations

from typing import Any

from . import records as R
from .recorder import Recorder


def install(rec: Recorder, reactor: Any) -> None:
    """Record iterations and system events of ``reactor``."""
    part = rec.part("loop")
    append, next_seq, clock = rec.append, rec.next_seq, rec.clock
    last_end = [0]

    def timed(original: Any) -> Any:
        def step(*args: Any, **kw: Any) -> Any:
            if not part.on:
                return original(*args, **kw)
            t0 = clock()
            try:
                return original(*args, **kw)
            finally:
                t1 = clock()
                append((next_seq(), R.ITERATION, last_end[0] or t0, t1, t0))
                last_end[0] = t1

        return step

    loop = getattr(reactor, "_asyncioEventloop", None)
    if loop is not None:
        selector = loop._selector
        part.patcher.set(selector, "select", timed(selector.select))
    else:
        part.patcher.set(reactor, "doIteration", timed(reactor.doIteration))

    original_fire = reactor.fireSystemEvent

    def fireSystemEvent(eventType: str) -> None:
        if not part.on:
            return original_fire(eventType)
        t0 = clock()
        try:
            return original_fire(eventType)
        finally:
            append((next_seq(), R.SYSTEM, t0, clock(), str(eventType)))

    part.patcher.set(reactor, "fireSystemEvent", fireSystemEvent)
