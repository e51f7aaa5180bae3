"""backpressure: the server writes far faster than its peer reads, with no
producer registered, so its write buffer grows without bound."""

import socket

import kit
from twisted.internet import protocol, task

CHUNK = 256 * 1024
reactor, tracer = kit.start(slow_ms=60_000, late_ms=60_000)


class Firehose(protocol.Protocol):
    """Writes on a timer, never asking whether the peer keeps up."""

    def connectionMade(self):
        # small kernel buffers: the peer's slowness shows at once, on any machine
        self.transport.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)
        self.pump = task.LoopingCall(self.transport.write, b"x" * CHUNK)
        self.pump.start(0.01)

    def connectionLost(self, reason):
        self.pump.stop()


class Trickle(protocol.Protocol):
    """Reads one chunk now and then: the socket drains a little, the buffer grows a lot."""

    def connectionMade(self):
        self.transport.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        self.transport.pauseProducing()
        self.sip = task.LoopingCall(self.transport.resumeProducing)
        self.sip.start(0.01)

    def dataReceived(self, data):
        self.transport.pauseProducing()

    def connectionLost(self, reason):
        self.sip.stop()


def stop():
    port.stopListening()
    reactor.stop()


port = reactor.listenTCP(0, protocol.Factory.forProtocol(Firehose), interface="127.0.0.1")  # @port
reactor.connectTCP("127.0.0.1", port.getHost().port, protocol.ClientFactory.forProtocol(Trickle))
reactor.callLater(1.0, stop)
kit.run(reactor, tracer)
