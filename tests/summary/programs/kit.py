"""What the diagnosis programs share: ``python NAME.py REACTOR OUT``.

:func:`start` installs the reactor family named on the command line and
instruments it (Deferred tracking on); :func:`run` runs the reactor, then
writes the trace to OUT.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

REACTOR_MODULES = {
    "epoll": "twisted.internet.epollreactor",
    "poll": "twisted.internet.pollreactor",
    "select": "twisted.internet.selectreactor",
    "asyncio": "twisted.internet.asyncioreactor",
}


def start(**thresholds: Any) -> tuple[Any, Any]:
    """(the installed reactor, its tracer); ``thresholds``: Thresholds fields to change."""
    importlib.import_module(REACTOR_MODULES[sys.argv[1]]).install()
    from twisted.internet import reactor

    import reactortrace
    from reactortrace.core.diagnose import Thresholds

    slow_ms = thresholds.get("slow_ms", Thresholds().slow_ms)
    return reactor, reactortrace.instrument(
        reactor, track_deferreds=True, thresholds=Thresholds(**thresholds), slow_ms=slow_ms
    )


def run(reactor: Any, tracer: Any) -> None:
    """Run until the program stops the reactor, then write the trace."""
    reactor.run()
    tracer.export(sys.argv[2])
    tracer.close()
