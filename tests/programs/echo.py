"""TCP echo on loopback: a client makes ROUND_TRIPS round trips, then hangs up."""

import progkit
from twisted.internet import protocol

ROUND_TRIPS = 5

kit = progkit.start()
reactor = kit.reactor


class EchoServer(protocol.Protocol):
    def dataReceived(self, data):
        kit.note("server_received", len(data))
        self.transport.write(data)

    def connectionLost(self, reason):
        kit.note("server_lost", reason.type.__name__)
        port.stopListening().addCallback(kit.done)


class EchoClient(protocol.Protocol):
    def connectionMade(self):
        kit.program["client_local"] = f"127.0.0.1:{self.transport.getHost().port}"
        self.sent = 0
        self.pending = b""
        self.send()

    def send(self):
        message = b"x" * (10 * (self.sent + 1))
        self.sent += 1
        self.pending = message
        kit.note("client_sent", len(message))
        self.transport.write(message)

    def dataReceived(self, data):
        kit.note("client_received", len(data))
        self.pending = self.pending[len(data):]
        if self.pending:
            return
        if self.sent < ROUND_TRIPS:
            self.send()
        else:
            self.transport.loseConnection()

    def connectionLost(self, reason):
        kit.note("client_lost", reason.type.__name__)
        kit.done()


server_factory = protocol.Factory.forProtocol(EchoServer)
port = reactor.listenTCP(0, server_factory, interface="127.0.0.1")
kit.program["server_port"] = port.getHost().port
kit.expect(2)
reactor.connectTCP("127.0.0.1", port.getHost().port, protocol.ClientFactory.forProtocol(EchoClient))
kit.run()
