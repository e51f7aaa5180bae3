"""Instrument a running reactor: a TCP connection made before must still be seen.

Run with ``--late``: the program instruments the reactor itself, from a timer,
after one untraced round trip on a connection that stays open.
"""

import progkit
from twisted.internet import protocol

BEFORE = b"before"
AFTER = [b"after-1", b"after-22", b"after-333"]

kit = progkit.start()
reactor = kit.reactor


class Server(protocol.Protocol):
    def dataReceived(self, data):
        kit.note("server_received", len(data))
        self.transport.write(data)


class Client(protocol.Protocol):
    def connectionMade(self):
        self.queue = [BEFORE, *AFTER]
        self.expected = b""
        self.send()

    def send(self):
        message = self.queue.pop(0)
        self.expected = message
        kit.note("client_sent", len(message))
        self.transport.write(message)

    def dataReceived(self, data):
        kit.note("client_received", len(data))
        self.expected = self.expected[len(data):]
        if self.expected:
            return
        if len(self.queue) == len(AFTER):
            reactor.callLater(0, instrument_now, self)
        elif self.queue:
            self.send()
        else:
            kit.done()


def instrument_now(client):
    if kit.traced:
        kit.instrument()
        kit.tracer_facts["instrumented_after"] = len(BEFORE)
    client.send()


port = reactor.listenTCP(0, protocol.Factory.forProtocol(Server), interface="127.0.0.1")
kit.expect(1)
reactor.connectTCP("127.0.0.1", port.getHost().port, protocol.ClientFactory.forProtocol(Client))
kit.run()
