"""Healthy: a chat server whose clients are still connected when it calls
``reactor.stop()`` (the reactor closes them; that is what stop is for)."""

import kit
from twisted.internet import protocol
from twisted.protocols import basic

CLIENTS = 4
# Generous time thresholds: the test runs every program on every reactor at
# once, and what it checks is that nothing healthy is taken for a problem.
reactor, tracer = kit.start(slow_ms=1000, late_ms=1000)


class Chat(basic.LineReceiver):
    def connectionMade(self):
        self.factory.members.append(self)

    def lineReceived(self, line):
        for member in self.factory.members:
            if member is not self:
                member.sendLine(line)


class ChatFactory(protocol.Factory):
    protocol = Chat

    def __init__(self):
        self.members = []


class Member(basic.LineReceiver):
    def connectionMade(self):
        self.sendLine(b"hello from %d" % id(self))

    def lineReceived(self, line):
        heard.append(line)
        if len(heard) >= CLIENTS * (CLIENTS - 1):
            reactor.callLater(0.05, reactor.stop)  # clients still connected


heard = []
port = reactor.listenTCP(0, ChatFactory(), interface="127.0.0.1")
for _ in range(CLIENTS):
    reactor.connectTCP("127.0.0.1", port.getHost().port,
                       protocol.ClientFactory.forProtocol(Member))
reactor.callLater(20, reactor.stop)  # a safety net, left pending when the chat ends
kit.run(reactor, tracer)
