"""One of each problem that is not a slow callback, each from a marked line.

A Deferred fails with no errback; one is never fired; a client stops reading
while the server floods it (backpressure); a timer and a listening port are
left behind when the reactor stops. It is traced as a test would be
(leftovers warn), with the default thresholds otherwise.
"""

import kit
from twisted.internet import defer, protocol

FLOOD = 16 * 1024 * 1024
reactor, tracer = kit.start(leftovers=True)
kept = []


def explode(_):
    raise ValueError("nobody handles this")  # @raise


def fail_without_errback():
    d = defer.Deferred()
    d.addCallback(explode)
    d.callback(None)
    kept.append(d)  # alive to the end: still in flight when the reactor stops


def forgotten():
    pass


class Pusher:
    """A streaming producer: the transport pauses it when its buffer fills."""

    def pauseProducing(self):
        pass

    def resumeProducing(self):
        pass

    def stopProducing(self):
        pass


class Flood(protocol.Protocol):
    def connectionMade(self):
        self.transport.registerProducer(Pusher(), True)
        self.transport.write(b"x" * FLOOD)
        reactor.callLater(0.5, stop)  # paused that long, however late this ran


class Sleeper(protocol.Protocol):
    def connectionMade(self):
        self.transport.pauseProducing()  # never reads


def stop():
    reactor.stop()


never = defer.Deferred()  # @never
port = reactor.listenTCP(0, protocol.Factory.forProtocol(Flood), interface="127.0.0.1")  # @port
reactor.connectTCP("127.0.0.1", port.getHost().port, protocol.ClientFactory.forProtocol(Sleeper))  # @connect
reactor.callLater(0.01, fail_without_errback)
reactor.callLater(60, forgotten)  # @forgotten
kit.run(reactor, tracer)
