"""What every workload shares: run the reactor until the workload reports."""

from __future__ import annotations

from typing import Any, Callable

Finish = Callable[[dict[str, Any]], None]


def run_reactor(reactor: Any, begin: Callable[[Finish], None]) -> dict[str, Any]:
    """Call ``begin(finish)`` once the reactor runs; stop when it calls ``finish``.

    Returns the dict passed to ``finish``.
    """
    result: dict[str, Any] = {}

    def finish(values: dict[str, Any]) -> None:
        result.update(values)
        reactor.stop()

    reactor.callWhenRunning(begin, finish)
    reactor.run(installSignalHandlers=False)
    if not result:
        raise RuntimeError("the workload stopped without reporting a result")
    return result
