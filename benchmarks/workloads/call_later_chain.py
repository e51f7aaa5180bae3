"""A chain of ``callLater(0, f)``: each call schedules the next one."""

from __future__ import annotations

import time
from typing import Any, Callable

from ._common import Finish, run_reactor


def start_chain(reactor: Any, size: int, on_last: Callable[[], None]) -> None:
    """Schedule ``size`` chained zero-delay calls; call ``on_last`` in the last one."""
    left = size

    def step() -> None:
        nonlocal left
        left -= 1
        if left:
            reactor.callLater(0, step)
        else:
            on_last()

    reactor.callLater(0, step)


def run(reactor: Any, size: int, tracer: Any) -> dict[str, Any]:
    def begin(finish: Finish) -> None:
        started = time.perf_counter()
        start_chain(
            reactor, size, lambda: finish({"value": time.perf_counter() - started})
        )

    return run_reactor(reactor, begin)
