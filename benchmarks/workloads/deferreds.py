"""Many Deferreds, each with three callbacks, fired inside one reactor call."""

from __future__ import annotations

import time
from typing import Any

from twisted.internet.defer import Deferred

from ._common import Finish, run_reactor


def _add_one(value: int) -> int:
    return value + 1


def _double(value: int) -> int:
    return value * 2


def run(reactor: Any, size: int, tracer: Any) -> dict[str, Any]:
    def begin(finish: Finish) -> None:
        total = 0

        def collect(value: int) -> None:
            nonlocal total
            total += value

        started = time.perf_counter()
        for n in range(size):
            d: Deferred[int] = Deferred()
            d.addCallback(_add_one)
            d.addCallback(_double)
            d.addCallback(collect)
            d.callback(n)
        elapsed = time.perf_counter() - started
        if total != size * (size + 1):  # sum of 2 * (n + 1): every callback ran
            raise RuntimeError(f"deferred callbacks went missing: {total}")
        finish({"value": elapsed})

    return run_reactor(reactor, begin)
