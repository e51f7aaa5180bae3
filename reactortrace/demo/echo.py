"""Line echo over TCP: a server that repeats each line, and chatty clients."""

from __future__ import annotations

import random
from typing import Any, Callable

from twisted.internet.defer import Deferred
from twisted.internet.protocol import Factory
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure


class EchoServer(LineReceiver):
    """Sends every line back to whoever sent it."""

    def lineReceived(self, line: bytes) -> None:
        self.sendLine(line)


class EchoServerFactory(Factory):
    protocol = EchoServer


class EchoClient(LineReceiver):
    """Sends a numbered line every 50-200 ms and counts the echoes that come back.

    The pause between lines is a chain of ``callLater`` calls, each a little
    different, the way a chatty real client behaves.
    """

    def __init__(
        self,
        clock: Any,
        name: str,
        on_echo: Callable[[], None],
        rng: random.Random,
    ) -> None:
        self.clock = clock
        self.name = name
        self.on_echo = on_echo
        self.rng = rng
        self.sent = 0
        self.lost: Deferred[None] = Deferred()
        self._next_send: Any = None

    def connectionMade(self) -> None:
        self._schedule_send()

    def _schedule_send(self) -> None:
        self._next_send = self.clock.callLater(
            self.rng.uniform(0.05, 0.2), self.send_ping
        )

    def send_ping(self) -> None:
        """Send the next line and plan the one after."""
        self.sent += 1
        self.sendLine(f"{self.name} ping {self.sent}".encode())
        self._schedule_send()

    def lineReceived(self, line: bytes) -> None:
        self.on_echo()

    def stop(self) -> Deferred[None]:
        """Stop sending and close the connection; fires once it is closed."""
        if self._next_send is not None and self._next_send.active():
            self._next_send.cancel()
        self.transport.loseConnection()  # type: ignore[union-attr,misc]
        return self.lost

    def connectionLost(self, reason: Failure | None = None) -> None:
        if self._next_send is not None and self._next_send.active():
            self._next_send.cancel()
        if not self.lost.called:
            self.lost.callback(None)
