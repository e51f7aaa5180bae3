"""The bundled demo: a small Twisted program with a bit of everything.

It runs an echo server with three chatty clients, an HTTP server polled by an
Agent, a heartbeat, thread-pool jobs, an ``inlineCallbacks`` and an
``async def`` workflow, and one callback (:meth:`Demo.slow_report`) that
blocks the reactor for about 200 ms every few seconds: something to find.

It runs on whatever reactor is installed and never installs one itself, so
``reactortrace run``, ``twistd``-style launchers or a test can choose it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any, Generator

from twisted.internet.defer import Deferred, gatherResults, inlineCallbacks
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.protocol import Factory
from twisted.internet.task import LoopingCall, deferLater
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.web.client import Agent

from reactortrace.demo.echo import EchoClient, EchoServerFactory
from reactortrace.demo.web import build_site, fetch

HOST = "127.0.0.1"
ECHO_CLIENTS = 3
HTTP_INTERVAL = 0.5
HEARTBEAT_INTERVAL = 1.0
THREAD_INTERVAL = 2.0
WORKFLOW_INTERVAL = 3.0
SLOW_FIRST = 1.0
SLOW_INTERVAL = 5.0
SLOW_BLOCK = 0.2
STATUS_EVERY = 5  # heartbeats between two status lines


@dataclass
class Counts:
    """What the demo has done so far (printed as the final summary)."""

    echoes: int = 0
    http: int = 0
    thread_jobs: int = 0
    slow: int = 0
    heartbeats: int = 0
    workflows: int = 0
    errors: int = 0

    def text(self) -> str:
        """``key=value`` pairs separated by spaces."""
        return " ".join(f"{k}={v}" for k, v in asdict(self).items())

    def line(self) -> str:
        """The summary line: ``demo: key=value ...``."""
        return f"demo: {self.text()}"


def checksum_block(seed: int) -> str:
    """Thread-pool job: hash a few hundred KiB and wait a little, like real I/O."""
    digest = hashlib.sha256(seed.to_bytes(8, "little"))
    block = bytes(range(256)) * 1024
    for _ in range(4):
        digest.update(block)
    time.sleep(0.05)
    return digest.hexdigest()


def load_inventory() -> list[str]:
    """Thread-pool job used by the inlineCallbacks workflow."""
    time.sleep(0.02)
    return [f"item-{n}" for n in range(50)]


class Demo:
    """Everything the demo runs, on the reactor it is given."""

    def __init__(
        self, reactor: Any, quiet: bool = False, seed: int | None = None, slow: bool = True
    ) -> None:
        self.reactor = reactor
        self.slow = slow  # run the deliberately slow callback
        self.quiet = quiet
        self.counts = Counts()
        self.rng = random.Random(seed)
        self.stopping = False
        self.clients: list[EchoClient] = []
        self.ports: list[Any] = []
        self.loops: list[LoopingCall] = []
        self._slow_call: Any = None
        self._paths = ["/", "/quote", "/stats"]
        self._requests = 0
        self.base_url = ""
        self.agent = Agent(reactor)

    def log(self, message: str) -> None:
        """One line on stdout, unless ``--quiet``."""
        if not self.quiet:
            print(message, flush=True)

    def start(self) -> None:
        """Open the servers, connect the clients, start the periodic work."""
        echo_port = self.reactor.listenTCP(0, EchoServerFactory(), interface=HOST)
        site = build_site(self.reactor, lambda: asdict(self.counts))
        http_port = self.reactor.listenTCP(0, site, interface=HOST)
        self.ports = [echo_port, http_port]
        self.base_url = f"http://{HOST}:{http_port.getHost().port}"
        for n in range(ECHO_CLIENTS):
            self._connect_client(echo_port.getHost().port, f"client-{n + 1}")
        self._loop(self.heartbeat, HEARTBEAT_INTERVAL, now=False)
        self._loop(self.poll_http, HTTP_INTERVAL)
        self._loop(self.run_thread_job, THREAD_INTERVAL)
        self._loop(self.run_workflows, WORKFLOW_INTERVAL)
        if self.slow:
            self._slow_call = self.reactor.callLater(SLOW_FIRST, self.slow_report)
        self.reactor.addSystemEventTrigger("before", "shutdown", self.shutdown)
        self.log(
            f"demo: pid {os.getpid()}, echo on {HOST}:{echo_port.getHost().port}, "
            f"http on {self.base_url}/"
        )

    def stop(self) -> None:
        """Stop the reactor (the shutdown trigger closes everything first)."""
        if self.reactor.running:
            self.reactor.stop()

    def shutdown(self) -> Deferred[Any]:
        """Stop the periodic work, close the clients and ports; fires when done."""
        self.stopping = True
        for loop in self.loops:
            if loop.running:
                loop.stop()
        if self._slow_call is not None and self._slow_call.active():
            self._slow_call.cancel()
        closing = [client.stop() for client in self.clients]
        closing += [port.stopListening() for port in self.ports]
        pending = [d for d in closing if d is not None]
        return gatherResults(pending, consumeErrors=True)

    # -- periodic work ----------------------------------------------------

    def _loop(self, work: Any, interval: float, now: bool = True) -> None:
        loop = LoopingCall(work)
        loop.clock = self.reactor
        loop.start(interval, now=now).addErrback(self._failed)
        self.loops.append(loop)

    def _failed(self, failure: Failure) -> None:
        if not self.stopping:
            self.counts.errors += 1
            self.log(f"demo: error: {failure.getErrorMessage()}")

    def _connect_client(self, port: int, name: str) -> None:
        def build() -> EchoClient:
            client = EchoClient(self.reactor, name, self._echoed, self.rng)
            self.clients.append(client)
            return client

        endpoint = TCP4ClientEndpoint(self.reactor, HOST, port)
        endpoint.connect(Factory.forProtocol(build)).addErrback(self._failed)  # type: ignore[arg-type]

    def _echoed(self) -> None:
        self.counts.echoes += 1

    def heartbeat(self) -> None:
        """Every second; a status line every few beats."""
        self.counts.heartbeats += 1
        if self.counts.heartbeats % STATUS_EVERY == 0:
            self.log(self.counts.line())

    def poll_http(self) -> Deferred[Any]:
        """GET the next path in turn; the LoopingCall waits for the answer."""
        path = self._paths[self._requests % len(self._paths)]
        self._requests += 1
        d = fetch(self.agent, self.base_url + path)
        d.addCallback(self._got_page)
        d.addErrback(self._failed)
        return d

    def _got_page(self, body: bytes) -> None:
        self.counts.http += 1

    def run_thread_job(self) -> Deferred[Any]:
        """Hand a checksum to the reactor's thread pool."""
        pool = self.reactor.getThreadPool()
        seed = self.rng.getrandbits(32)
        d = deferToThreadPool(self.reactor, pool, checksum_block, seed)
        d.addCallback(self._thread_done)
        d.addErrback(self._failed)
        return d

    def _thread_done(self, digest: str) -> None:
        self.counts.thread_jobs += 1

    def run_workflows(self) -> Deferred[Any]:
        """Run both multi-step workflows side by side."""
        both = gatherResults(
            [
                self.refresh_inventory(),
                Deferred.fromCoroutine(self.build_digest()),
            ],
            consumeErrors=True,
        )
        both.addCallback(self._workflows_done)
        both.addErrback(self._failed)
        return both

    def _workflows_done(self, results: list[Any]) -> None:
        self.counts.workflows += 1

    @inlineCallbacks
    def refresh_inventory(self) -> Generator[Deferred[Any], Any, int]:
        """inlineCallbacks workflow: wait, load in a thread, wait again."""
        yield deferLater(self.reactor, 0.05)
        pool = self.reactor.getThreadPool()
        items = yield deferToThreadPool(self.reactor, pool, load_inventory)
        yield deferLater(self.reactor, 0.01)
        return len(items)

    async def build_digest(self) -> int:
        """async def workflow: ask our own HTTP server, then wait a little."""
        body = await fetch(self.agent, self.base_url + "/stats")
        stats = json.loads(body)
        await deferLater(self.reactor, 0.02)
        return sum(stats.values())

    def slow_report(self) -> None:
        """Builds a report synchronously: blocks the reactor for about 200 ms.

        This is the mistake the demo wants you to spot in reactortrace: while
        it sleeps, no echo, request or timer can run.
        """
        time.sleep(SLOW_BLOCK)
        self.counts.slow += 1
        self.log(f"slow_report: {self.counts.text()}")
        self._slow_call = self.reactor.callLater(SLOW_INTERVAL, self.slow_report)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="reactortrace-demo",
        description="A small Twisted program to look at with reactortrace.",
    )
    parser.add_argument(
        "--duration",
        type=float,
        metavar="SECONDS",
        help="stop after this many seconds (default: run until interrupted)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no log lines, only the final summary"
    )
    parser.add_argument(
        "--no-slow", dest="slow", action="store_false",
        help="leave out the callback that blocks the reactor: a healthy program",
    )
    args = parser.parse_args(argv)
    if args.duration is not None and args.duration <= 0:
        parser.error("--duration must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the demo on the installed reactor until stopped; print the summary."""
    args = parse_args(argv)
    from twisted.internet import reactor  # the installed one, chosen at call time

    demo = Demo(reactor, quiet=args.quiet, slow=args.slow)
    reactor.callWhenRunning(demo.start)
    if args.duration is not None:
        reactor.callLater(args.duration, demo.stop)
    reactor.run()  # type: ignore[misc]
    print(demo.counts.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
