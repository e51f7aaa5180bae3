"""Check every part of the recording on one reactor family, with the installed Twisted.

``python -m reactortrace.instrumentation.selfcheck FAMILY`` installs that reactor
(epoll, poll, select or asyncio) in a fresh interpreter, instruments it, runs a
small program that exercises each part (timers, a LoopingCall, deferLater, a
loopback TCP echo, calls from and to threads, Deferred callbacks and
``inlineCallbacks``, one callback that blocks), and prints one JSON object:
for each part, whether it stayed on, why not, and whether its records came.
``reactortrace doctor`` runs it once per family.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

FAMILIES = ("epoll", "poll", "select", "asyncio")
#: Event kinds each part must have produced.
EXPECTED: dict[str, tuple[str, ...]] = {
    "timers": ("timer", "timer.schedule", "timer.cancel"),
    "io": ("conn.open", "conn.close"),
    "loop": ("iteration", "io.read", "system"),
    "threads": ("thread",),
    "deferreds": ("deferred",),
    "watchdog": ("slow",),
}
SLOW_MS = 20.0


def install(family: str) -> Any:
    """Install the reactor of ``family``; return it."""
    if family == "asyncio":
        from twisted.internet import asyncioreactor

        asyncioreactor.install()
    else:
        module = __import__(f"twisted.internet.{family}reactor", fromlist=["install"])
        module.install()
    from twisted.internet import reactor

    return reactor


def exercise(reactor: Any) -> None:
    """Run a little of everything the recording covers, then stop."""
    from twisted.internet import defer, protocol, task, threads

    class Echo(protocol.Protocol):
        def dataReceived(self, data: bytes) -> None:
            transport: Any = self.transport
            transport.write(data)

    class Client(protocol.Protocol):
        def connectionMade(self) -> None:
            transport: Any = self.transport
            transport.write(b"ping" * 100)

        def dataReceived(self, data: bytes) -> None:
            transport: Any = self.transport
            transport.loseConnection()

    factory = protocol.Factory.forProtocol(Echo)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    protocol.ClientCreator(reactor, Client).connectTCP("127.0.0.1", port.getHost().port)

    ticks = task.LoopingCall(lambda: None)
    ticks.start(0.01)
    reactor.callLater(60, lambda: None).cancel()
    task.deferLater(reactor, 0.01, lambda: None)
    def block() -> None:
        time.sleep(SLOW_MS * 3 / 1000)

    reactor.callLater(0.02, block)
    threads.deferToThread(lambda: 1).addCallback(lambda value: value + 1)
    reactor.callInThread(reactor.callFromThread, lambda: None)

    @defer.inlineCallbacks
    def chain() -> Any:
        yield task.deferLater(reactor, 0.01, lambda: None)
        return 1

    chain()

    @defer.inlineCallbacks
    def waits() -> Any:  # still pending at the end: the Deferreds view must see it
        yield task.deferLater(reactor, 3_600, lambda: None)

    waits()

    def stop() -> None:
        ticks.stop()
        port.stopListening()
        reactor.stop()

    reactor.callLater(0.4, stop)
    reactor.run()


def check(family: str) -> dict[str, Any]:
    """Instrument and exercise one family: the state of each part."""
    import twisted

    from .tracer import Tracer

    reactor = install(family)
    tracer = Tracer(reactor, slow_ms=SLOW_MS, deferred_view=True)
    exercise(reactor)
    trace = tracer.trace()
    tracer.close()
    kinds = {event.kind for event in trace.events}
    parts: dict[str, Any] = {}
    for name, status in trace.meta["recording"].items():
        missing = [kind for kind in EXPECTED.get(name, ()) if kind not in kinds]
        parts[name] = {**status, "missing": missing}
    if "deferred-view" in parts and not _view_works(trace.snapshot):
        parts["deferred-view"]["missing"] = ["pending-deferreds"]
    from . import versions

    return {
        "family": family,
        "reactor": trace.meta["reactor"],
        "twisted": twisted.__version__,
        "python": trace.meta["python"],
        "parts": parts,
        "facts": versions.facts(),
    }


def _view_works(snapshot: Any) -> bool:
    """Whether the final snapshot saw the inlineCallbacks left waiting on its timer."""
    view = getattr(snapshot, "deferreds", None)
    return view is not None and any(
        d.kind == "inlineCallbacks" and d.name.endswith("waits") and d.fired_by.startswith("timer")
        for d in view.deferreds
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in FAMILIES:
        sys.stderr.write(f"usage: python -m {__name__} {{{','.join(FAMILIES)}}}\n")
        return 2
    print(json.dumps(check(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
