"""What every test program shares: pick a reactor, trace it or not, report back.

A program calls :func:`start` first (it installs the reactor named by
``--reactor`` and, unless ``--untraced``, instruments it), does its scenario on
``kit.reactor``, and ends with :meth:`Kit.run`, which runs the reactor, exports
the trace to ``--out`` and writes what the program observed to ``--out`` +
``.facts.json``. Facts under ``"program"`` are the program's own behaviour
(compared traced against untraced); ``"tracer"`` holds what only a traced run
can tell (snapshots, failures; with ``--dump-events`` also ``events()`` and the
last snapshot as the program saw them). With ``--late`` the program calls
:meth:`Kit.instrument` itself, whenever it wants to.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable
from typing import Any

REACTOR_MODULES = {
    "epoll": "twisted.internet.epollreactor",
    "poll": "twisted.internet.pollreactor",
    "select": "twisted.internet.selectreactor",
    "asyncio": "twisted.internet.asyncioreactor",
}


class Kit:
    """One run of a test program."""

    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        importlib.import_module(REACTOR_MODULES[options.reactor]).install()
        from twisted.internet import reactor

        self.reactor: Any = reactor
        self.program: dict[str, Any] = {}
        self.tracer_facts: dict[str, Any] = {}
        self.tracer: Any = None
        self._waiting = 0
        if options.traced and not options.late:
            self.instrument()

    @property
    def traced(self) -> bool:
        """Whether this run records a trace at all."""
        return bool(self.options.traced)

    def instrument(self) -> Any:
        """Instrument the installed reactor (for programs that do it late)."""
        import reactortrace

        self.tracer = reactortrace.instrument(self.reactor, max_events=self.options.max_events,
                                              deferred_view=self.options.deferred_view)
        return self.tracer

    def expect(self, count: int = 1) -> None:
        """``count`` more things must happen before the reactor stops."""
        self._waiting += count

    def done(self, _: Any = None) -> Any:
        """One expected thing happened; stop the reactor after the last."""
        self._waiting -= 1
        if self._waiting == 0:
            self.reactor.callLater(0, self.reactor.stop)
        return _

    def crashed(self, failure: Any) -> None:
        """Errback for a scenario: keep the traceback in the facts and stop."""
        self.program["crashed"] = failure.getTraceback()
        self.reactor.callLater(0, self.reactor.stop)

    def note(self, key: str, value: Any) -> None:
        """Record something the program observed (appended to a list)."""
        self.program.setdefault(key, []).append(value)

    def run(self, after: Callable[[], None] | None = None) -> None:
        """Run the reactor, then write the trace and the facts, whatever happens."""
        try:
            self.reactor.run()
            if after is not None:
                after()
        finally:
            self.finish()

    def react(self, main: Callable[[Any], Any]) -> None:
        """Like :meth:`run`, through ``task.react`` (which ends the process)."""
        from twisted.internet import task

        try:
            task.react(main)
        finally:
            self.finish()

    def finish(self) -> None:
        """Export the trace (if traced) and write the facts file."""
        if self.tracer is not None and not self.tracer.closed:
            self.tracer_facts["failures"] = self.tracer.failures
            if self.options.dump_events:
                self.tracer_facts["events"] = [e.to_dict() for e in self.tracer.events()]
                self.tracer_facts["final_snapshot"] = self.tracer.snapshot().to_dict()
            self.tracer.export(self.options.out)
        with open(self.options.out + ".facts.json", "w") as out:
            json.dump({"program": self.program, "tracer": self.tracer_facts}, out, default=repr)


def start(argv: list[str] | None = None, **defaults: Any) -> Kit:
    """Parse the common options and install the reactor; see the module doc."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--reactor", choices=sorted(REACTOR_MODULES), required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--untraced", dest="traced", action="store_false")
    parser.add_argument("--late", action="store_true", help="the program instruments itself")
    parser.add_argument("--max-events", type=int, default=defaults.get("max_events", 100_000))
    parser.add_argument("--dump-events", action="store_true", help="keep events() in the facts")
    parser.add_argument("--deferred-view", action="store_true", help="list pending Deferreds")
    return Kit(parser.parse_args(sys.argv[1:] if argv is None else argv))


def round_trip(kit: Kit, greeting: bytes, stop_listening: Callable[[], Any]) -> tuple[type, type]:
    """Base classes of an echo server and a client that sends ``greeting``
    once and hangs up when it is echoed; each side notes what it received and
    why it lost its connection, and the server then calls ``stop_listening``.
    Programs subclass them, so that their protocols are their own (``__main__``)."""
    from twisted.internet import protocol

    class Echo(protocol.Protocol):
        def dataReceived(self, data: bytes) -> None:
            kit.note("server_received", len(data))
            self.transport.write(data)

        def connectionLost(self, reason: Any) -> None:
            kit.note("server_lost", reason.type.__name__)
            stop_listening().addCallback(kit.done)

    class Client(protocol.Protocol):
        def connectionMade(self) -> None:
            self.transport.write(greeting)

        def dataReceived(self, data: bytes) -> None:
            kit.note("client_received", len(data))
            self.transport.loseConnection()

        def connectionLost(self, reason: Any) -> None:
            kit.note("client_lost", reason.type.__name__)
            kit.done()

    return Echo, Client
