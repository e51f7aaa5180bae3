"""A TCP server and client on loopback: a few round trips, then the reactor stops
with the listening port still open (the final snapshot lists it)."""

import sys

from twisted.internet import protocol, reactor


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class Client(protocol.Protocol):
    def connectionMade(self):
        self.left = 5
        self.transport.write(b"ping")

    def dataReceived(self, data):
        self.left -= 1
        if self.left:
            self.transport.write(b"ping")
        else:
            self.transport.loseConnection()
            reactor.callLater(0.05, reactor.stop)


port = reactor.listenTCP(0, protocol.Factory.forProtocol(Echo), interface="127.0.0.1")
client = protocol.ClientCreator(reactor, Client)
reactor.callLater(0.01, client.connectTCP, "127.0.0.1", port.getHost().port)
reactor.run()
print("argv", sys.argv[1:])
