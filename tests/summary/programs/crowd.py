"""too-many-warnings: traced as a test (leftovers warn), a program leaves far
more connections open than warnings kept per code: the rest are counted."""

import kit
from twisted.internet import protocol

CLIENTS = 60
reactor, tracer = kit.start(leftovers=True, slow_ms=60_000, late_ms=60_000)
port = reactor.listenTCP(0, protocol.Factory.forProtocol(protocol.Protocol), interface="127.0.0.1")  # @port
for _ in range(CLIENTS):
    reactor.connectTCP("127.0.0.1", port.getHost().port, protocol.ClientFactory.forProtocol(protocol.Protocol))  # @connect
reactor.callLater(1.0, reactor.stop)
kit.run(reactor, tracer)
