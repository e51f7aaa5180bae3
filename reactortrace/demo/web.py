"""A small HTTP service and the client that keeps polling it."""

from __future__ import annotations

import json
from typing import Any, Callable

from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.web.client import Agent, readBody
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request, Site

#: How long ``/quote`` makes its caller wait, in seconds.
QUOTE_DELAY = 0.1


class Index(Resource):
    """``/``: a short plain-text greeting."""

    isLeaf = True

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"content-type", b"text/plain")
        return b"reactortrace demo: try /quote and /stats\n"


class Quote(Resource):
    """``/quote``: answers after a delay, without blocking the reactor."""

    isLeaf = True

    def __init__(self, clock: Any) -> None:
        super().__init__()
        self.clock = clock

    def render_GET(self, request: Request) -> Any:
        pending = deferLater(self.clock, QUOTE_DELAY, lambda: b"slow and steady\n")
        pending.addCallback(self._finish, request)
        # A client that goes away must not leave the timer behind.
        request.notifyFinish().addErrback(lambda _: pending.cancel())
        pending.addErrback(lambda _: None)
        return NOT_DONE_YET

    @staticmethod
    def _finish(body: bytes, request: Request) -> None:
        request.setHeader(b"content-type", b"text/plain")
        request.write(body)
        request.finish()


class Stats(Resource):
    """``/stats``: the demo's counters as JSON."""

    isLeaf = True

    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        super().__init__()
        self.counts = counts

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"content-type", b"application/json")
        return json.dumps(self.counts()).encode()


def build_site(clock: Any, counts: Callable[[], dict[str, int]]) -> Site:
    """The HTTP site: ``/``, ``/quote`` (delayed) and ``/stats``."""
    root = Resource()
    root.putChild(b"", Index())  # type: ignore[arg-type]
    root.putChild(b"quote", Quote(clock))  # type: ignore[arg-type]
    root.putChild(b"stats", Stats(counts))  # type: ignore[arg-type]
    return Site(root)


def fetch(agent: Agent, url: str) -> Deferred[bytes]:
    """GET ``url`` and fire with the body."""
    return agent.request(b"GET", url.encode()).addCallback(readBody)
