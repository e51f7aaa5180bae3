"""half-closed: the client stops sending (``loseWriteConnection``); the server,
which supports half-close, never closes its side: both stay half-closed."""

import kit
from twisted.internet import interfaces, protocol
from zope.interface import implementer

reactor, tracer = kit.start(pending_s=0.3, slow_ms=60_000, late_ms=60_000)


@implementer(interfaces.IHalfCloseableProtocol)
class Patient(protocol.Protocol):
    def readConnectionLost(self):
        pass  # the peer is done sending; we never close

    def writeConnectionLost(self):
        pass


@implementer(interfaces.IHalfCloseableProtocol)
class Quitter(protocol.Protocol):
    def connectionMade(self):
        self.transport.write(b"bye")
        self.transport.loseWriteConnection()

    def readConnectionLost(self):
        pass

    def writeConnectionLost(self):
        pass  # our side is closed; we wait for the peer's


port = reactor.listenTCP(0, protocol.Factory.forProtocol(Patient), interface="127.0.0.1")  # @port
reactor.connectTCP("127.0.0.1", port.getHost().port, protocol.ClientFactory.forProtocol(Quitter))  # @connect
reactor.callLater(1.0, reactor.stop)
kit.run(reactor, tracer)
