"""A UNIX socket server and client: one round trip, then the client hangs up."""

import os
import tempfile

import progkit
from twisted.internet import protocol

kit = progkit.start()
reactor = kit.reactor
path = os.path.join(tempfile.mkdtemp(prefix="rt-unix-"), "sock")
kit.program["path"] = path


class UnixEcho(protocol.Protocol):
    def dataReceived(self, data):
        kit.note("server_received", len(data))
        self.transport.write(data)

    def connectionLost(self, reason):
        kit.note("server_lost", reason.type.__name__)
        port.stopListening().addCallback(kit.done)


class UnixClient(protocol.Protocol):
    def connectionMade(self):
        self.transport.write(b"hello unix")

    def dataReceived(self, data):
        kit.note("client_received", len(data))
        self.transport.loseConnection()

    def connectionLost(self, reason):
        kit.note("client_lost", reason.type.__name__)
        kit.done()


port = reactor.listenUNIX(path, protocol.Factory.forProtocol(UnixEcho))
kit.expect(2)
reactor.connectUNIX(path, protocol.ClientFactory.forProtocol(UnixClient))
kit.run()
