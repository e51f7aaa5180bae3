"""idle-connection: a client says hello, then neither side sends anything for
longer than ``--idle`` while the connection stays open."""

import kit
from twisted.internet import protocol

reactor, tracer = kit.start(idle_s=0.3, slow_ms=60_000, late_ms=60_000)


class Listener(protocol.Protocol):
    def dataReceived(self, data):
        pass  # heard it; says nothing back


class Greeter(protocol.Protocol):
    def connectionMade(self):
        self.transport.write(b"hello")


port = reactor.listenTCP(0, protocol.Factory.forProtocol(Listener), interface="127.0.0.1")  # @port
reactor.connectTCP("127.0.0.1", port.getHost().port, protocol.ClientFactory.forProtocol(Greeter))  # @connect
reactor.callLater(1.0, reactor.stop)
kit.run(reactor, tracer)
