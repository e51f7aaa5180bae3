"""Four dispatches that block the loop, each at a marked line, and a timer they make late.

In turn: a timer, a read, a Deferred callback and an inlineCallbacks function
sleep for BLOCK seconds. Everything is closed before the reactor stops, so
slow callbacks and the late timer are the only findings.
"""

import time

import kit
from twisted.internet import defer, protocol, task

BLOCK = 0.25
reactor, tracer = kit.start()


def on_time():
    pass


def block_in_timer():
    time.sleep(BLOCK)  # @timer_block
    reactor.callLater(0.02, connect)


class Server(protocol.Protocol):
    def dataReceived(self, data):
        time.sleep(BLOCK)  # @read_block
        self.transport.write(data)


class Client(protocol.Protocol):
    def connectionMade(self):
        self.transport.write(b"ping")

    def dataReceived(self, data):
        self.transport.loseConnection()

    def connectionLost(self, reason):
        port.stopListening().addCallback(lambda _: reactor.callLater(0.02, fire_deferred))


def connect():
    factory = protocol.ClientFactory.forProtocol(Client)
    reactor.connectTCP("127.0.0.1", port.getHost().port, factory)


def block_in_callback(value):
    time.sleep(BLOCK)  # @deferred_block
    return value


def fire_deferred():
    d = defer.Deferred()
    d.addCallback(block_in_callback)
    d.addCallback(lambda _: reactor.callLater(0.02, inline_flow))
    d.callback(None)


@defer.inlineCallbacks
def inline_flow():
    yield task.deferLater(reactor, 0.01, lambda: None)
    time.sleep(BLOCK)  # @inline_block
    reactor.callLater(0.02, reactor.stop)


port = reactor.listenTCP(0, protocol.Factory.forProtocol(Server), interface="127.0.0.1")
reactor.callLater(0.05, block_in_timer)
reactor.callLater(0.06, on_time)  # @late_timer
kit.run(reactor, tracer)
