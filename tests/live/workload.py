"""A small deterministic Twisted program for the live tests.

An echo server and a client trade ``--rounds`` numbered messages, one every
``--pace`` seconds, so that the run lasts a while and a viewer can come and go
in the middle. It prints the same lines whatever watched it: the rounds done
and a checksum of everything echoed back.

    python workload.py [--rounds N] [--pace SECONDS] [--status N]
"""

from __future__ import annotations

import argparse
import hashlib
import sys

from twisted.internet import reactor
from twisted.internet.protocol import ClientFactory, Factory, Protocol


class Echo(Protocol):
    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)


class Talker(Protocol):
    """Sends round N, waits for its echo, then schedules round N+1."""

    def __init__(self, rounds: int, pace: float) -> None:
        self.rounds = rounds
        self.pace = pace
        self.sent = 0
        self.buffer = b""
        self.digest = hashlib.sha256()

    def connectionMade(self) -> None:
        self.send_next()

    def send_next(self) -> None:
        self.sent += 1
        self.transport.write(b"round %06d\n" % self.sent)

    def dataReceived(self, data: bytes) -> None:
        self.buffer += data
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            self.digest.update(line)
            if self.sent < self.rounds:
                reactor.callLater(self.pace, self.send_next)
            else:
                self.finish()

    def finish(self) -> None:
        print(f"rounds={self.sent}")
        print(f"checksum={self.digest.hexdigest()}")
        sys.stdout.flush()
        self.transport.loseConnection()
        reactor.callLater(0, reactor.stop)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--pace", type=float, default=0.005)
    parser.add_argument("--status", type=int, default=0, help="exit status at the end")
    args = parser.parse_args()
    port = reactor.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
    factory = ClientFactory()
    factory.protocol = lambda: Talker(args.rounds, args.pace)
    reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
    print("started", flush=True)
    reactor.run()
    sys.exit(args.status)


if __name__ == "__main__":
    main()
