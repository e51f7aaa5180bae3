"""A TCP echo server and 10 concurrent loopback clients, 2,000 round trips each.

    python echo_clients.py [--scale X]
"""

import argparse

from twisted.internet import protocol, reactor

parser = argparse.ArgumentParser()
parser.add_argument("--scale", type=float, default=1.0)
ROUNDS = max(1, round(2_000 * parser.parse_args().scale))
CLIENTS = 10
MESSAGE = b"0123456789abcdef"
done = []


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class Client(protocol.Protocol):
    def connectionMade(self):
        self.left, self.pending = ROUNDS, 0
        self.send()

    def send(self):
        self.pending = len(MESSAGE)
        self.transport.write(MESSAGE)

    def dataReceived(self, data):
        self.pending -= len(data)
        if self.pending > 0:
            return
        self.left -= 1
        if self.left:
            self.send()
            return
        self.transport.loseConnection()
        done.append(self)
        if len(done) == CLIENTS:
            reactor.stop()


port = reactor.listenTCP(0, protocol.Factory.forProtocol(Echo), interface="127.0.0.1")
for _ in range(CLIENTS):
    protocol.ClientCreator(reactor, Client).connectTCP("127.0.0.1", port.getHost().port)
reactor.run()
