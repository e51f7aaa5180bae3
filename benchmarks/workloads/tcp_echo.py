"""Sequential small round trips over loopback TCP: send, wait for the echo, repeat."""

from __future__ import annotations

import time
from typing import Any

from twisted.internet.protocol import ClientFactory, Factory, Protocol

from ._common import Finish, run_reactor

MESSAGE = b"0123456789abcdef"


class Echo(Protocol):
    def connectionMade(self) -> None:
        self.transport.setTcpNoDelay(True)

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)


class Pinger(Protocol):
    """Sends MESSAGE, waits for all of it to come back, ``rounds`` times."""

    def __init__(self, rounds: int, finish: Finish) -> None:
        self.left = rounds
        self.finish = finish
        self.pending = 0
        self.started = 0.0

    def connectionMade(self) -> None:
        self.transport.setTcpNoDelay(True)
        self.started = time.perf_counter()
        self._send()

    def _send(self) -> None:
        self.pending = len(MESSAGE)
        self.transport.write(MESSAGE)

    def dataReceived(self, data: bytes) -> None:
        self.pending -= len(data)
        if self.pending > 0:
            return
        self.left -= 1
        if self.left:
            self._send()
            return
        elapsed = time.perf_counter() - self.started
        self.transport.loseConnection()
        self.finish({"value": elapsed})


def run(reactor: Any, size: int, tracer: Any) -> dict[str, Any]:
    def begin(finish: Finish) -> None:
        port = reactor.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
        client = ClientFactory.forProtocol(lambda: Pinger(size, finish))
        reactor.connectTCP("127.0.0.1", port.getHost().port, client)

    return run_reactor(reactor, begin)
