"""A program with nothing wrong: echo traffic, timers, a LoopingCall, Deferreds,
thread-pool work and a clean shutdown. It must give no warning at all."""

import time

import kit
from twisted.internet import protocol, task, threads

ROUND_TRIPS = 20
# Generous time thresholds: the test runs every program on every reactor at
# once, and what it checks is that nothing healthy is taken for a problem.
reactor, tracer = kit.start(slow_ms=1000, late_ms=1000)
pending = []


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class Client(protocol.Protocol):
    def connectionMade(self):
        self.left = ROUND_TRIPS
        self.transport.write(b"hello")

    def dataReceived(self, data):
        self.left -= 1
        if self.left:
            reactor.callLater(0.005, self.transport.write, data)
        else:
            self.transport.loseConnection()

    def connectionLost(self, reason):
        finished("client")


def recover(failure):
    return "recovered"


def deferreds():
    d = task.deferLater(reactor, 0.01, lambda: 1)
    d.addCallback(lambda value: value / 0)
    d.addErrback(recover)
    d.addCallback(lambda _: finished("deferreds"))


def crunch():
    time.sleep(0.2)  # on a pool thread: the loop keeps running
    return 42


def finished(what):
    pending.remove(what)
    if not pending:
        loop.stop()
        port.stopListening().addCallback(lambda _: reactor.callLater(0, reactor.stop))


port = reactor.listenTCP(0, protocol.Factory.forProtocol(Echo), interface="127.0.0.1")
pending.extend(["client", "deferreds", "thread"])
reactor.connectTCP("127.0.0.1", port.getHost().port, protocol.ClientFactory.forProtocol(Client))
loop = task.LoopingCall(lambda: None)
loop.start(0.02)
deferreds()
threads.deferToThread(crunch).addCallback(lambda _: finished("thread"))
kit.run(reactor, tracer)
